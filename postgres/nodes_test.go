package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/merkle"
	"github.com/vakt/vakt/postgres/pgtest"
)

var testPatient = func() ident.PersonID {
	p, err := ident.ParsePersonID("191212121212", time.Now())
	if err != nil {
		panic(err)
	}
	return p
}()

func testEntry(logID string, at time.Time) accesslog.Pending {
	return accesslog.Prepare(accesslog.Entry{
		LogID:    logID,
		System:   accesslog.System{ID: "SE2321000016-S001"},
		Activity: accesslog.Activity{Type: "Läsa", StartDate: at, Purpose: "Vård och behandling"},
		User: accesslog.User{ID: "SE2321000016-U001", CareProvider: accesslog.CareProvider{ID: "SE2321000016-0001"},
			CareUnit: accesslog.CareUnit{ID: "SE2321000016-E001"}},
		Resources: []accesslog.Resource{{Type: "Journalanteckning", Patient: accesslog.Patient{ID: testPatient}, CareProvider: accesslog.CareProvider{ID: "SE2321000016-0001"}}},
	})
}

func batchOf(prefix string, n int) []accesslog.Pending {
	out := make([]accesslog.Pending, n)
	at := time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
	for i := range out {
		out[i] = testEntry(fmt.Sprintf("%s-%d", prefix, i), at.Add(time.Duration(i)*time.Second))
	}
	return out
}

// checkLog verifies a tenant's log the way an auditor would: sequence numbers 1..n without
// gaps, every leaf the hash of its entry's JSON, the tree over those leaves the one a fresh
// checkpoint signs, and inclusion and consistency proofs that verify against it.
func checkLog(t *testing.T, st *Store, wantEntries int) {
	t.Helper()
	ctx := context.Background()
	tree := merkle.NewTree()
	roots := map[uint64]merkle.Hash{}
	var ids []string
	err := st.Scan(ctx, 1, func(s *accesslog.Stored, leaf merkle.Hash) error {
		if s.Seq != int64(tree.Size())+1 {
			return fmt.Errorf("seq %d follows %d", s.Seq, tree.Size())
		}
		if merkle.LeafHash(s.JSON) != leaf {
			return fmt.Errorf("the leaf of seq %d is not the hash of its JSON", s.Seq)
		}
		e, err := s.Entry()
		if err != nil {
			return err
		}
		ids = append(ids, e.LogID)
		if err := tree.Append(leaf, func(uint, uint64, merkle.Hash) {}); err != nil {
			return err
		}
		roots[tree.Size()] = tree.Root()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != wantEntries {
		t.Fatalf("%d entries, want %d", len(ids), wantEntries)
	}
	cp, err := st.SignCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := merkle.Open(cp.Note, st.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	if c.Size != uint64(wantEntries) || c.Root != tree.Root() {
		t.Fatalf("checkpoint (%d, %x), recomputed (%d, %x)", c.Size, c.Root, tree.Size(), tree.Root())
	}
	r := rand.New(rand.NewPCG(1, uint64(wantEntries)))
	for range 40 {
		i := r.IntN(len(ids))
		p, err := st.Prove(ctx, ids[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := merkle.VerifyInclusion(p.LeafIndex, p.TreeSize, p.LeafHash, p.Hashes, c.Root); err != nil {
			t.Fatalf("proof of entry %d: %v", i+1, err)
		}
		from := uint64(1 + r.IntN(wantEntries))
		proof, err := st.Consistency(ctx, from, c.Size)
		if err != nil {
			t.Fatal(err)
		}
		if err := merkle.VerifyConsistency(from, c.Size, proof, roots[from], c.Root); err != nil {
			t.Fatalf("consistency %d → %d: %v", from, c.Size, err)
		}
	}
}

// Two nodes write to one tenant at once: sequence numbers stay gap-free, the tree holds every
// entry once in sequence order, and an entry both nodes receive is stored once.
func TestTwoNodesWriteOneTenant(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	var nodes []*Store
	for range 2 {
		ss := openTestStores(t, dsn, LogOptions{})
		defer ss.Close()
		st, err := ss.store(ctx, "region")
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, st)
	}
	const workers, batches, size = 4, 15, 40
	var wg sync.WaitGroup
	var fresh atomic.Int64
	errs := make(chan error, 2*workers)
	for n, st := range nodes {
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for b := range batches {
					batch := batchOf(fmt.Sprintf("n%d-w%d-b%d", n, w, b), size)
					batch = append(batch, testEntry(fmt.Sprintf("shared-%d", b), time.Date(2026, 10, 2, 0, 0, 0, 0, time.UTC)))
					res, err := st.Append(ctx, batch)
					if err != nil {
						errs <- err
						return
					}
					for _, r := range res {
						if !r.Duplicate {
							fresh.Add(1)
						}
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := 2*workers*batches*size + batches
	if fresh.Load() != int64(want) {
		t.Fatalf("%d entries reported new, want %d", fresh.Load(), want)
	}
	checkLog(t, nodes[0], want)
	checkLog(t, nodes[1], want)
}

// The tree's tiles: more than 65,536 entries fill a tile of level 8 and start level 16, written
// by two nodes in turn so that each continues the other's partial tiles from the database.
func TestTreeAcrossTileLevels(t *testing.T) {
	if testing.Short() {
		t.Skip("appends 66,000 entries")
	}
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	var nodes []*Store
	for range 2 {
		ss := openTestStores(t, dsn, LogOptions{})
		defer ss.Close()
		st, err := ss.store(ctx, "big")
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, st)
	}
	total := 0
	for b := 0; total < 66000; b++ {
		n := 997 + b%7 // batch sizes that do not line up with tiles
		if _, err := nodes[b%2].Append(ctx, batchOf(fmt.Sprintf("b%d", b), n)); err != nil {
			t.Fatal(err)
		}
		total += n
	}
	checkLog(t, nodes[1], total)
}

// Partitions follow the clock: a commit in a month without a partition creates it (and the
// months after it), and a node whose clock is behind never moves receivedAt back.
func TestPartitionsFollowTheMonths(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2026, 11, 30, 23, 59, 59, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ss := openTestStores(t, dsn, LogOptions{Now: clock, MonthsAhead: 1})
	defer ss.Close()
	st, err := ss.store(ctx, "months")
	if err != nil {
		t.Fatal(err)
	}
	parts, err := st.Partitions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(parts, []string{"entries_y2026m11", "entries_y2026m12"}) {
		t.Fatalf("partitions at open: %v", parts)
	}
	if _, err := st.Append(ctx, batchOf("nov", 3)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = time.Date(2027, 1, 15, 12, 0, 0, 0, time.UTC) // the node was down for December
	mu.Unlock()
	if _, err := st.Append(ctx, batchOf("jan", 2)); err != nil {
		t.Fatal(err)
	}
	if parts, _ = st.Partitions(ctx); !slices.Equal(parts, []string{"entries_y2026m11", "entries_y2026m12", "entries_y2027m01", "entries_y2027m02"}) {
		t.Fatalf("partitions after January's commit: %v", parts)
	}
	// A second node whose clock is a month behind.
	behind := openTestStores(t, dsn, LogOptions{Now: func() time.Time { return time.Date(2026, 12, 15, 0, 0, 0, 0, time.UTC) }})
	defer behind.Close()
	st2, err := behind.store(ctx, "months")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st2.Append(ctx, batchOf("late", 1)); err != nil {
		t.Fatal(err)
	}
	got, err := st.Get(ctx, "late-0")
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2027, 1, 15, 12, 0, 0, 0, time.UTC); !got.ReceivedAt.Equal(want) {
		t.Fatalf("receivedAt from the node behind: %v, want %v (the last one handed out)", got.ReceivedAt, want)
	}
	var inJan int
	if err := st.pool.QueryRow(ctx, `SELECT count(*) FROM `+st.schema+`.entries_y2027m01`).Scan(&inJan); err != nil {
		t.Fatal(err)
	}
	if inJan != 3 {
		t.Fatalf("%d entries in January's partition, want 3", inJan)
	}
	checkLog(t, st, 6)
}

// The database stops mid-ingest: appends fail fast as unavailable with a clear message, work
// again once it is back without reopening anything, and every acknowledged entry is there.
func TestLogStoreSurvivesADatabaseRestart(t *testing.T) {
	c := pgtest.Shared(t)
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	ss := openTestStores(t, dsn, LogOptions{})
	defer ss.Close()
	st, err := ss.store(ctx, "restart")
	if err != nil {
		t.Fatal(err)
	}
	var acked sync.Map
	var failures, unavailable atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := 0; ; b++ {
				select {
				case <-stop:
					return
				default:
				}
				prefix := fmt.Sprintf("w%d-b%d", w, b)
				callCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
				_, err := st.Append(callCtx, batchOf(prefix, 50))
				cancel()
				if err != nil {
					failures.Add(1)
					if vakt.ErrorCode(err) == vakt.CodeUnavailable && strings.Contains(vakt.ErrorMessage(err), "unavailable") {
						unavailable.Add(1)
					} else {
						t.Logf("not unavailable: %v", err)
					}
					time.Sleep(20 * time.Millisecond)
					continue
				}
				acked.Store(prefix, true)
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	if err := c.Halt("immediate"); err != nil {
		close(stop)
		wg.Wait()
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := c.Resume(); err != nil {
		close(stop)
		wg.Wait()
		t.Fatal(err)
	}
	// Ingest goes on by itself once the database is back.
	before := 0
	acked.Range(func(any, any) bool { before++; return true })
	deadline := time.Now().Add(30 * time.Second)
	for {
		n := 0
		acked.Range(func(any, any) bool { n++; return true })
		if n > before+5 {
			break
		}
		if time.Now().After(deadline) {
			close(stop)
			wg.Wait()
			t.Fatal("ingest did not resume after the database came back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if failures.Load() == 0 || unavailable.Load() != failures.Load() {
		t.Fatalf("%d appends failed, %d of them as unavailable; want some, all unavailable", failures.Load(), unavailable.Load())
	}
	n := 0
	acked.Range(func(k, _ any) bool {
		for i := range 50 {
			if _, err := st.Get(ctx, fmt.Sprintf("%s-%d", k, i)); err != nil {
				t.Errorf("acknowledged entry %s-%d: %v", k, i, err)
				return false
			}
		}
		n++
		return true
	})
	stats, err := st.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Batches whose commit outcome was unknown may be stored without an acknowledgement, so the
	// log holds at least every acknowledged entry.
	if stats.Entries < int64(50*n) {
		t.Fatalf("%d entries stored, %d acknowledged", stats.Entries, 50*n)
	}
	checkLog(t, st, int(stats.Entries))
}

// A snapshot sees the log as it was when it began: entries and checkpoints appended by another
// node afterwards stay out of it, so an export is one consistent state.
func TestSnapshotIsOneStateOfTheLog(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	writer := openTestStores(t, dsn, LogOptions{})
	defer writer.Close()
	reader := openTestStores(t, dsn, LogOptions{})
	defer reader.Close()
	st, err := writer.store(ctx, "region")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Append(ctx, batchOf("before", 300)); err != nil {
		t.Fatal(err)
	}
	cp, err := st.SignCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sn, err := reader.Snapshot(ctx, "region")
	if err != nil {
		t.Fatal(err)
	}
	defer sn.Close(ctx)
	if _, err := sn.Checkpoints(ctx); err != nil { // the snapshot's state is fixed by its first read
		t.Fatal(err)
	}
	if _, err := st.Append(ctx, batchOf("after", 200)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SignCheckpoint(ctx); err != nil {
		t.Fatal(err)
	}
	cps, err := sn.Checkpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cps) == 0 || cps[len(cps)-1].Size != cp.Size || cp.Size != 300 {
		t.Fatalf("snapshot checkpoints %v, want the latest of size 300", cps)
	}
	tree := merkle.NewTree()
	err = sn.Scan(ctx, func(s *accesslog.Stored, leaf merkle.Hash) error {
		if s.Seq != int64(tree.Size())+1 || merkle.LeafHash(s.JSON) != leaf {
			return fmt.Errorf("seq %d: out of order or leaf not its hash", s.Seq)
		}
		return tree.Append(leaf, func(uint, uint64, merkle.Hash) {})
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := merkle.Open(cp.Note, st.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	if tree.Size() != 300 || tree.Root() != c.Root {
		t.Fatalf("snapshot holds %d entries with root %x, want 300 with the checkpoint's root", tree.Size(), tree.Root())
	}
}
