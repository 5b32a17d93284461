package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/merkle"
	"github.com/vakt/vakt/sqlite/internal/runindex"
)

// Options tune a Store. Zero values take the defaults, which suit one care provider's log on a
// small server; tests shrink SealEntries to exercise sealing and merging on few entries.
type Options struct {
	SealEntries int   // entries indexed in memory before they are sealed into a run (65536)
	MergeFanIn  int   // runs of one level merged into one run of the next (8)
	MaxGroup    int   // most entries committed together by one group commit (16384)
	CacheKiB    int   // page cache of the writing connection, KiB (65536)
	ReadConns   int   // concurrent readers (4)
	MmapBytes   int64 // memory-mapped I/O for reads (2 GiB, the most this SQLite build maps)
	Logger      *slog.Logger

	// Tamper evidence: the log's origin (merkle.Origin) and its signing key. Required unless
	// NoMerkle is set.
	Origin string
	Keys   *merkle.KeyPair
	// CheckpointInterval is the longest a new entry waits to be covered by a signed checkpoint
	// (1 s).
	CheckpointInterval time.Duration
	// NoMerkle turns the Merkle tree and checkpoints off. For benchmarks that measure what tamper
	// evidence costs; never in production.
	NoMerkle bool

	// syncHook, in tests, runs before every flush of the WAL; an error fails the flush.
	syncHook func() error
}

func (o Options) withDefaults() Options {
	if o.SealEntries <= 0 {
		o.SealEntries = 65536
	}
	if o.MergeFanIn < 2 {
		o.MergeFanIn = 8
	}
	if o.MaxGroup <= 0 {
		o.MaxGroup = 16384
	}
	if o.CacheKiB <= 0 {
		o.CacheKiB = 65536
	}
	if o.ReadConns <= 0 {
		o.ReadConns = 4
	}
	if o.MmapBytes == 0 {
		o.MmapBytes = 0x7fff0000
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.CheckpointInterval <= 0 {
		o.CheckpointInterval = time.Second
	}
	return o
}

// Index kinds of the runs (the kind column of blocks).
const (
	kindPatient = 1
	kindUser    = 2
	kindUnit    = 3
	kindTime    = 4
	kindLogID   = 5
)

// maxLevel caps merging: a run of level L holds about SealEntries·MergeFanIn^L entries.
const maxLevel = 5

// Store is one tenant's access log in one SQLite file. See accesslog.Store for the contract and
// the package documentation of runindex for the index design.
//
// Concurrency: one writer goroutine owns appends (group commit) and sealing; one compactor
// goroutine merges runs; any number of readers search. Readers see an immutable view (the live
// runs plus the in-memory tail) that writers replace atomically.
type Store struct {
	path string
	opts Options
	log  *slog.Logger

	wdb *sql.DB // the single writing connection
	rdb *sql.DB // read-only pool
	cdb *sql.DB // checkpoints

	insertMany *sql.Stmt // insertBatchRows entries per statement
	insertOne  *sql.Stmt

	dict *dictionary

	closeMu sync.RWMutex
	closed  bool
	reqs    chan *appendReq
	quit    chan struct{}
	wg      sync.WaitGroup

	flushReqs  chan chan struct{} // asks the writer to store the tree's pending leaves now
	writerDone chan struct{}      // closed when the writer has stopped (after a last flush)

	// Owned by the writer goroutine.
	nextSeq int64
	sealing *sealJob    // the run being built in the background, if any
	wtail   []tailEntry // the tail including entries committed but not yet durable

	syncState

	blockIDs atomic.Int64 // last block id handed out (seal and merge both write blocks)

	viewMu  sync.Mutex // serialises view replacement (writer, sealer, compactor)
	view    atomic.Pointer[view]
	readers sync.RWMutex // read-held while a view's runs are read; write-held before deleting obsolete runs

	compact chan struct{}

	// Tamper evidence. tree is writer-owned; head is the committed tree for the checkpointer;
	// latest the newest signed checkpoint; cpMu serialises signing.
	tree          *treeState
	pendingLeaves []*leafJob                // committed groups whose leaves are not yet in tree (writer-owned)
	treeBehind    bool                      // the tree must catch up from the stored entries (writer-owned)
	committed     atomic.Pointer[treeState] // the tree of the last commit, for readers
	head          atomic.Pointer[treeHead]
	latest        atomic.Pointer[accesslog.SignedCheckpoint]
	cpMu          sync.Mutex
	strips        *stripCache // upper-level strips for proofs

	commits     atomic.Int64 // group commits
	commitNanos atomic.Int64 // time spent in them
	merges      atomic.Int64
}

// Internals describes a store's inner workings for metrics.
type Internals struct {
	Entries       int64   // last sequence number
	Runs          int     // live index runs
	TailEntries   int     // entries indexed in memory only
	Commits       int64   // group commits since open
	CommitSeconds float64 // time spent committing since open
	Merges        int64   // run merges since open
}

// Internals reports the store's inner state.
func (s *Store) Internals() Internals {
	v := s.view.Load()
	return Internals{
		Entries:       v.tailLo + int64(len(v.tail)) - 1,
		Runs:          len(v.runs),
		TailEntries:   len(v.tail),
		Commits:       s.commits.Load(),
		CommitSeconds: float64(s.commitNanos.Load()) / 1e9,
		Merges:        s.merges.Load(),
	}
}

// view is what a reader sees: live runs in seq order, then the tail.
type view struct {
	runs    []*run
	tail    []tailEntry // seq = tailLo + i
	tailLo  int64
	tailIdx *tailIndex // shared by every view of the same tail generation
}

// end returns the last sequence number the view covers.
func (v *view) end() int64 { return v.tailLo + int64(len(v.tail)) - 1 }

type run struct {
	id, level    int64
	lo, hi       int64 // seq range
	minTS, maxTS int64
	bloom        *runindex.Bloom
	// fences holds, per index kind, the first posting and row id of every block in order, so a
	// query knows which blocks to read without asking SQLite (the "fence pointers" of an
	// SSTable). About 32 bytes per 128 postings.
	fences [kindLogID + 1][]fence
}

type fence struct {
	first runindex.Posting
	id    int64
}

// tailIndex maps keys to the sequence numbers of tail entries, per index kind (patient, user,
// unit, logId). There is one per tail generation: sealing starts a new one. Only the writer
// adds, under the lock; readers copy what their view covers under the read lock.
//
// The postings of all keys sit in two flat slices, each linked to the previous posting of its
// key, and a map per kind points at every key's newest posting. Adding an entry is then one
// map update per key and no per-key slice to grow: a map of slices cost the writer a growslice
// per key per entry and left the collector a slice header per key to scan.
type tailIndex struct {
	mu   sync.RWMutex
	last [kindLogID + 1]map[int64]int32 // kind → key → index of the key's newest posting
	seqs []int64                        // the posting's sequence number
	prev []int32                        // index of the previous posting of the same kind and key, or -1
}

// newTailIndex returns an empty index for a tail that is sealed at about n entries. The maps
// start at a sixteenth of that, so that an idle tenant's index stays small.
func newTailIndex(n int) *tailIndex {
	ti := &tailIndex{}
	for k := range ti.last {
		if k != 0 && k != kindTime {
			ti.last[k] = make(map[int64]int32, n/16)
		}
	}
	return ti
}

// add indexes te; the caller holds ti.mu.
func (ti *tailIndex) add(te *tailEntry) {
	for _, p := range te.patients {
		ti.link(kindPatient, p, te.seq)
	}
	ti.link(kindUser, te.userID, te.seq)
	ti.link(kindUnit, te.unitID, te.seq)
	ti.link(kindLogID, te.logHash, te.seq)
}

func (ti *tailIndex) link(kind int, key, seq int64) {
	m := ti.last[kind]
	prev, ok := m[key]
	if !ok {
		prev = -1
	}
	m[key] = int32(len(ti.seqs))
	ti.seqs = append(ti.seqs, seq)
	ti.prev = append(ti.prev, prev)
}

// mark returns the number of postings, for truncate; the caller holds ti.mu or is the writer.
func (ti *tailIndex) mark() int { return len(ti.seqs) }

// remove undoes the newest add, which was of te; the caller holds ti.mu. Entries are removed
// newest first, then truncate drops their postings.
func (ti *tailIndex) remove(te *tailEntry) {
	ti.unlink(kindLogID, te.logHash)
	ti.unlink(kindUnit, te.unitID)
	ti.unlink(kindUser, te.userID)
	for i := len(te.patients) - 1; i >= 0; i-- {
		ti.unlink(kindPatient, te.patients[i])
	}
}

func (ti *tailIndex) unlink(kind int, key int64) {
	m := ti.last[kind]
	if p := ti.prev[m[key]]; p >= 0 {
		m[key] = p
	} else {
		delete(m, key)
	}
}

// truncate drops the postings from mark on, after remove has unlinked them.
func (ti *tailIndex) truncate(mark int) {
	ti.seqs, ti.prev = ti.seqs[:mark], ti.prev[:mark]
}

// lookup appends to dst the sequence numbers with key, up to maxSeq, in ascending order.
func (ti *tailIndex) lookup(dst []int64, kind int, key, maxSeq int64) []int64 {
	ti.mu.RLock()
	defer ti.mu.RUnlock()
	i, ok := ti.last[kind][key]
	if !ok {
		return dst
	}
	n := len(dst)
	for ; i >= 0; i = ti.prev[i] {
		if seq := ti.seqs[i]; seq <= maxSeq {
			dst = append(dst, seq)
		}
	}
	slices.Reverse(dst[n:])
	return dst
}

// tailEntry is what the in-memory index knows of an entry that is not yet in a run.
type tailEntry struct {
	seq, ts                                int64
	logHash                                int64
	userID, unitID, providerID, activityID int64
	patients                               []int64
}

var _ accesslog.Store = (*Store)(nil)

// OpenStore opens (creating if needed) the tenant log at path and recovers its in-memory index
// from the file: after a crash every committed entry is found again and half-written runs are
// discarded.
func OpenStore(ctx context.Context, path string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if !opts.NoMerkle && (opts.Keys == nil || opts.Origin == "") {
		return nil, errors.New("sqlite: a store needs its origin and signing key (or NoMerkle)")
	}
	s := &Store{path: path, opts: opts, log: opts.Logger.With("db", path), strips: newStripCache()}
	var err error
	if s.wdb, err = openDB(path, connConfig{maxConns: 1, cacheKiB: opts.CacheKiB, noCheckpoint: true, syncNormal: true}); err != nil {
		return nil, err
	}
	if err := migrate(ctx, s.wdb, "tenant"); err != nil {
		s.wdb.Close()
		return nil, err
	}
	if s.wal, err = openWALSyncer(path); err != nil {
		s.wdb.Close()
		return nil, err
	}
	// What a previous process committed may still be in the page cache only (it was killed,
	// the machine was not): flushed now, it is durable before anything is built on it.
	if err := s.flushWAL(); err != nil {
		s.wal.close()
		s.wdb.Close()
		return nil, err
	}
	if s.rdb, err = openDB(path, connConfig{readOnly: true, maxConns: opts.ReadConns, cacheKiB: 16384, mmapBytes: opts.MmapBytes}); err != nil {
		s.wal.close()
		s.wdb.Close()
		return nil, err
	}
	if s.cdb, err = openDB(path, connConfig{maxConns: 1, cacheKiB: 1024}); err != nil {
		s.wal.close()
		s.wdb.Close()
		s.rdb.Close()
		return nil, err
	}
	if err := s.prepare(ctx); err != nil {
		s.closeDBs()
		return nil, err
	}
	if err := s.recover(ctx); err != nil {
		s.closeDBs()
		return nil, err
	}
	s.reqs = make(chan *appendReq, 64)
	s.quit = make(chan struct{})
	s.flushReqs = make(chan chan struct{})
	s.writerDone = make(chan struct{})
	s.compact = make(chan struct{}, 1)
	s.syncs = make(chan *syncTicket, 256)
	s.syncerDone = make(chan struct{})
	go s.syncLoop()
	s.wg.Add(3)
	go s.writeLoop()
	go s.compactLoop()
	go s.walCheckpointLoop()
	if !opts.NoMerkle {
		s.wg.Add(1)
		go s.checkpointLoop()
	}
	s.compact <- struct{}{} // finish merges a previous process left undone
	return s, nil
}

const insertBatchRows = 64

func (s *Store) prepare(ctx context.Context) error {
	row := "(?,?,?,?,?,?)"
	const cols = "INSERT INTO entries(seq, ts, received, actor, activity_id, head) VALUES "
	many := cols + strings.TrimSuffix(strings.Repeat(row+",", insertBatchRows), ",")
	var err error
	if s.insertMany, err = s.wdb.PrepareContext(ctx, many); err != nil {
		return translate(err, "prepare insert")
	}
	if s.insertOne, err = s.wdb.PrepareContext(ctx, cols+row); err != nil {
		return translate(err, "prepare insert")
	}
	return nil
}

// recover rebuilds the in-memory state from the file.
func (s *Store) recover(ctx context.Context) error {
	// Runs a crashed merge was building, or that a merge replaced but did not get to delete.
	if _, err := s.wdb.ExecContext(ctx, `DELETE FROM blocks WHERE run IN (SELECT id FROM runs WHERE state <> 1)`); err != nil {
		return translate(err, "discard unfinished runs")
	}
	if _, err := s.wdb.ExecContext(ctx, `DELETE FROM runs WHERE state <> 1`); err != nil {
		return translate(err, "discard unfinished runs")
	}
	var err error
	if s.dict, err = loadDictionary(ctx, s.wdb); err != nil {
		return err
	}
	rows, err := s.wdb.QueryContext(ctx, `SELECT id, level, lo, hi, min_ts, max_ts, bloom FROM runs WHERE state = 1 ORDER BY lo`)
	if err != nil {
		return translate(err, "load runs")
	}
	v := &view{}
	var sealed int64
	for rows.Next() {
		r := &run{}
		var bloom []byte
		if err := rows.Scan(&r.id, &r.level, &r.lo, &r.hi, &r.minTS, &r.maxTS, &bloom); err != nil {
			rows.Close()
			return translate(err, "load runs")
		}
		r.bloom = &runindex.Bloom{}
		if err := r.bloom.UnmarshalBinary(bloom); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: run %d: %w", r.id, err)
		}
		if r.lo != sealed+1 {
			rows.Close()
			return fmt.Errorf("sqlite: runs do not cover sequence numbers %d..%d; the index is damaged", sealed+1, r.lo-1)
		}
		sealed = r.hi
		v.runs = append(v.runs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return translate(err, "load runs")
	}
	if err := s.loadFences(ctx, v.runs); err != nil {
		return err
	}
	var maxBlock int64
	if err := s.wdb.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM blocks`).Scan(&maxBlock); err != nil {
		return translate(err, "read block ids")
	}
	s.blockIDs.Store(maxBlock)
	if err := s.wdb.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM entries`).Scan(&s.nextSeq); err != nil {
		return translate(err, "read last sequence number")
	}
	if s.nextSeq < sealed {
		return fmt.Errorf("sqlite: runs cover sequence numbers up to %d but the log ends at %d; the file is damaged", sealed, s.nextSeq)
	}
	if !s.opts.NoMerkle {
		if err := s.loadTree(ctx, s.nextSeq); err != nil {
			return err
		}
		if err := s.loadCheckpoint(ctx); err != nil {
			return err
		}
	}
	s.nextSeq++
	// Entries after the last run are indexed in memory again, straight from their JSON.
	v.tailLo = sealed + 1
	v.tailIdx = newTailIndex(s.opts.SealEntries)
	rows, err = s.wdb.QueryContext(ctx, `SELECT seq, ts, received, actor, activity_id, head FROM entries WHERE seq > ? ORDER BY seq`, sealed)
	if err != nil {
		return translate(err, "read unindexed entries")
	}
	defer rows.Close()
	for rows.Next() {
		var te tailEntry
		var r storedRow
		var actorID int64
		if err := rows.Scan(&te.seq, &te.ts, &r.received, &actorID, &te.activityID, &r.head); err != nil {
			return translate(err, "read unindexed entries")
		}
		if te.seq != v.tailLo+int64(len(v.tail)) {
			return fmt.Errorf("sqlite: sequence number %d missing from the log", v.tailLo+int64(len(v.tail)))
		}
		a, ok := s.dict.actor(actorID)
		if !ok {
			return fmt.Errorf("sqlite: entry %d names unknown actor %d", te.seq, actorID)
		}
		te.userID, te.unitID, te.providerID = a.userID, a.unitID, a.providerID
		r.seq, r.actor = te.seq, a.json
		st, err := r.stored()
		if err != nil {
			return err
		}
		e, err := st.Entry()
		if err != nil {
			return fmt.Errorf("sqlite: entry %d: %w", te.seq, err)
		}
		for _, p := range e.Patients() {
			key, ok := s.dict.patientKey(p)
			if !ok {
				return fmt.Errorf("sqlite: entry %d names a reserve number missing from the dictionary", te.seq)
			}
			te.patients = append(te.patients, key)
		}
		te.logHash = runindex.HashLogID(e.LogID)
		v.tailIdx.add(&te)
		v.tail = append(v.tail, te)
	}
	if err := rows.Err(); err != nil {
		return translate(err, "read unindexed entries")
	}
	s.view.Store(v)
	s.wtail = v.tail
	if len(v.tail) > 0 {
		s.log.Info("recovered in-memory index", "entries", len(v.tail), "runs", len(v.runs))
	}
	return nil
}

// loadFences reads the first posting and id of every block of the live runs, in index order.
func (s *Store) loadFences(ctx context.Context, runs []*run) error {
	byID := make(map[int64]*run, len(runs))
	for _, r := range runs {
		byID[r.id] = r
	}
	// The blocks_first index covers (run, kind, k, t, s) and the rowid: an index-only scan.
	rows, err := s.wdb.QueryContext(ctx, `SELECT run, kind, k, t, s, id FROM blocks ORDER BY run, kind, k, t, s`)
	if err != nil {
		return translate(err, "load index fences")
	}
	defer rows.Close()
	for rows.Next() {
		var runID int64
		var kind int
		var f fence
		if err := rows.Scan(&runID, &kind, &f.first.Key, &f.first.TS, &f.first.Seq, &f.id); err != nil {
			return translate(err, "load index fences")
		}
		r, ok := byID[runID]
		if !ok || kind < kindPatient || kind > kindLogID {
			continue
		}
		r.fences[kind] = append(r.fences[kind], f)
	}
	return translate(rows.Err(), "load index fences")
}

// Close stops the store's goroutines after the appends already submitted are answered, and
// checkpoints the WAL into the database file.
func (s *Store) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return nil
	}
	s.closed = true
	close(s.reqs)
	s.closeMu.Unlock()
	close(s.quit)
	s.wg.Wait()
	if !s.opts.NoMerkle {
		// The last checkpoint covers everything, so a bundle or a restart starts complete.
		if _, err := s.SignCheckpoint(context.Background()); err != nil {
			s.log.Warn("final checkpoint failed", "err", err)
		}
	}
	if _, err := s.cdb.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		s.log.Warn("final checkpoint failed", "err", err)
	}
	return s.closeDBs()
}

func (s *Store) closeDBs() error {
	return errors.Join(s.rdb.Close(), s.cdb.Close(), s.wdb.Close(), s.wal.close())
}

// Stats implements accesslog.Store.
func (s *Store) Stats(ctx context.Context) (accesslog.Stats, error) {
	var n int64
	if err := s.rdb.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM entries`).Scan(&n); err != nil {
		return accesslog.Stats{}, translate(err, "count entries")
	}
	var size int64
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(s.path + suffix); err == nil {
			size += fi.Size()
		}
	}
	return accesslog.Stats{Entries: n, DiskBytes: size}, nil
}

// walCheckpointLoop copies committed WAL frames into the database file in the background, so
// that commits never pay for it. A PASSIVE checkpoint does not block the writer or readers.
// (A WAL checkpoint has nothing to do with the Merkle tree's signed checkpoints.)
func (s *Store) walCheckpointLoop() {
	defer s.wg.Done()
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
			if _, err := s.cdb.Exec("PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
				s.log.Warn("checkpoint failed", "err", err)
			}
		}
	}
}

// seqList renders sequence numbers as a JSON array for `IN (SELECT value FROM json_each(?))`,
// which keeps one prepared statement for any number of them.
func seqList(seqs []int64) string {
	b := make([]byte, 0, len(seqs)*8+2)
	b = append(b, '[')
	for i, q := range seqs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, q, 10)
	}
	return string(append(b, ']'))
}
