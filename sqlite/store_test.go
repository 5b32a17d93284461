package sqlite

import (
	"context"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/accesslog/accesslogtest"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/merkle"
)

// testKeys gives a store the origin and key of a test tenant, and a checkpoint interval long
// enough that only the suite's explicit SignCheckpoint calls sign.
func testKeys(opts Options) Options {
	opts.Origin = merkle.Origin("test.vakt", "tenant")
	kp, err := merkle.DeriveKey([]byte("a test secret of at least 32 bytes"), opts.Origin)
	if err != nil {
		panic(err)
	}
	opts.Keys = &kp
	if opts.CheckpointInterval == 0 {
		opts.CheckpointInterval = time.Hour
	}
	return opts
}

func harness(opts Options) accesslogtest.Harness {
	opts = testKeys(opts)
	return accesslogtest.Harness{
		New: func(t *testing.T) func() accesslog.Store {
			path := filepath.Join(t.TempDir(), "tenant.db")
			return func() accesslog.Store {
				st, err := OpenStore(context.Background(), path, opts)
				if err != nil {
					t.Fatal(err)
				}
				return st
			}
		},
	}
}

func TestStoreConformance(t *testing.T) {
	for _, c := range []struct {
		name string
		opts Options
	}{
		{"defaults", Options{}},
		// Tiny runs make every test cross seals and many merges.
		{"tiny runs", Options{SealEntries: 37, MergeFanIn: 2, MaxGroup: 100}},
		{"small runs", Options{SealEntries: 500, MergeFanIn: 3}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := harness(c.opts)
			h.Large = c.name == "small runs"
			accesslogtest.Run(t, h)
		})
	}
}

// TestCheckpointsFollowAppends: with a short interval, a checkpoint covering new entries appears
// on its own.
func TestCheckpointsFollowAppends(t *testing.T) {
	ctx := context.Background()
	opts := testKeys(Options{CheckpointInterval: 20 * time.Millisecond})
	st, err := OpenStore(ctx, filepath.Join(t.TempDir(), "t.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Append(ctx, []accesslog.Pending{accesslog.Prepare(testEntry("c1"))}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		cp, err := st.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cp.Size == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint covered the new entry within 10 s")
		}
		time.Sleep(5 * time.Millisecond) // polling a deadline-bound condition
	}
}

// TestTreeBuiltForOlderFiles: a file written without the tree (NoMerkle, or before the tree
// existed) gets its tree built from the entries at open, and proves them.
func TestTreeBuiltForOlderFiles(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	st, err := OpenStore(ctx, path, Options{NoMerkle: true, SealEntries: 50})
	if err != nil {
		t.Fatal(err)
	}
	var batch []accesslog.Pending
	for i := range 5000 {
		batch = append(batch, accesslog.Prepare(testEntry(fmt.Sprintf("old%04d", i))))
	}
	if _, err := st.Append(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = OpenStore(ctx, path, testKeys(Options{SealEntries: 50}))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cp, err := st.SignCheckpoint(ctx)
	if err != nil || cp.Size != 5000 {
		t.Fatalf("checkpoint %d %v", cp.Size, err)
	}
	c, err := merkle.Open(cp.Note, st.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"old0000", "old2048", "old4999"} {
		p, err := st.Prove(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := st.Get(ctx, id)
		if p.LeafHash != merkle.LeafHash(got.JSON) {
			t.Fatalf("%s: leaf hash is not the hash of the served JSON", id)
		}
		if err := merkle.VerifyInclusion(p.LeafIndex, p.TreeSize, p.LeafHash, p.Hashes, c.Root); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
}

func testEntry(logID string) accesslog.Entry {
	pid, err := ident.ParsePersonID("191212121212", time.Now())
	if err != nil {
		panic(err)
	}
	return accesslog.Entry{
		LogID:    logID,
		System:   accesslog.System{ID: "SE2321000016-S001"},
		Activity: accesslog.Activity{Type: "Läsa", StartDate: time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC), Purpose: "Vård och behandling"},
		User: accesslog.User{ID: "SE2321000016-U001", CareProvider: accesslog.CareProvider{ID: "SE2321000016-0001"},
			CareUnit: accesslog.CareUnit{ID: "SE2321000016-E001"}},
		Resources: []accesslog.Resource{{Type: "Journalanteckning", Patient: accesslog.Patient{ID: pid}, CareProvider: accesslog.CareProvider{ID: "SE2321000016-0001"}}},
	}
}

// A log signed with one key does not open with another: signing on would break every
// verifier that trusts the first key.
func TestOpenRefusesAnotherKey(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	st, err := OpenStore(ctx, path, testKeys(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Append(ctx, []accesslog.Pending{accesslog.Prepare(testEntry("k1"))}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil { // signs a last checkpoint
		t.Fatal(err)
	}
	other := testKeys(Options{})
	kp, err := merkle.DeriveKey([]byte("another secret of at least 32 bytes"), other.Origin)
	if err != nil {
		t.Fatal(err)
	}
	other.Keys = &kp
	if st, err := OpenStore(ctx, path, other); err == nil {
		st.Close()
		t.Fatal("opened a log signed with another key")
	} else if !strings.Contains(err.Error(), "does not verify with the key") {
		t.Fatalf("error does not say why: %v", err)
	}
	st, err = OpenStore(ctx, path, testKeys(Options{}))
	if err != nil {
		t.Fatalf("the right key: %v", err)
	}
	st.Close()
}

// TestProofsFromCachedStrips: once a tree has full strips above cacheFromLevel, proofs take them
// from the cache, and the proofs are the same as those read from the file, and verify with the
// public library alone.
func TestProofsFromCachedStrips(t *testing.T) {
	if testing.Short() {
		t.Skip("appends 66,000 entries")
	}
	ctx := context.Background()
	st, err := OpenStore(ctx, filepath.Join(t.TempDir(), "t.db"), testKeys(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const n = 1<<(cacheFromLevel+8) + 464 // one full strip at level cacheFromLevel, and some
	for i := 0; i < n; i += 4000 {
		var batch []accesslog.Pending
		for j := i; j < min(i+4000, n); j++ {
			batch = append(batch, accesslog.Prepare(testEntry(fmt.Sprintf("c%06d", j))))
		}
		if _, err := st.Append(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	cp, err := st.SignCheckpoint(ctx)
	if err != nil || cp.Size != n {
		t.Fatalf("checkpoint %d %v", cp.Size, err)
	}
	c, err := merkle.Open(cp.Note, st.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{"c000000", "c012345", "c065535", "c065536", fmt.Sprintf("c%06d", n-1)}
	prove := func() []accesslog.InclusionProof {
		var out []accesslog.InclusionProof
		for _, id := range ids {
			p, err := st.Prove(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := st.Get(ctx, id)
			leaf := sha256.Sum256(append([]byte{0}, got.JSON...))
			hashes := make([][]byte, len(p.Hashes))
			for i := range p.Hashes {
				hashes[i] = p.Hashes[i][:]
			}
			if err := proof.VerifyInclusion(rfc6962.DefaultHasher, p.LeafIndex, p.TreeSize, leaf[:], hashes, c.Root[:]); err != nil {
				t.Fatalf("%s: %v", id, err)
			}
			out = append(out, p)
		}
		return out
	}
	cold := prove()
	st.strips.mu.Lock()
	cached := len(st.strips.strips)
	st.strips.mu.Unlock()
	if cached != 1 {
		t.Fatalf("%d strips cached, want the one full strip at level %d", cached, cacheFromLevel)
	}
	warm := prove()
	for i := range cold {
		if fmt.Sprint(cold[i]) != fmt.Sprint(warm[i]) {
			t.Fatalf("%s: the proof from cache differs from the one read from the file", ids[i])
		}
	}
}

func TestStripCacheStaysBounded(t *testing.T) {
	c := newStripCache()
	full := make([]byte, stripBytes)
	for i := range cacheStrips + 10 {
		c.put(stripID(cacheFromLevel, uint64(i)), full)
	}
	c.put(stripID(cacheFromLevel-1, 0), full)      // too low a level
	c.put(stripID(cacheFromLevel+1, 0), full[:64]) // not full: may still grow
	if len(c.strips) != cacheStrips {
		t.Fatalf("%d strips cached, want %d", len(c.strips), cacheStrips)
	}
	if c.get(stripID(cacheFromLevel-1, 0)) != nil || c.get(stripID(cacheFromLevel+1, 0)) != nil {
		t.Fatal("a low-level or partial strip was cached")
	}
}
