package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/vakt/vakt/sqlite/internal/runindex"
)

// Merging runs. Runs are tiered: sealing makes level-0 runs; when MergeFanIn adjacent runs
// share a level they are merged into one run of the next level, oldest group first. A query probes every live run,
// so merging keeps that number small (at most MergeFanIn-1 per level), while each posting is
// rewritten only once per level.
//
// A merge never blocks appends for long: it reads the old runs through the read pool, writes
// the new run in many small transactions marked "building", and then swaps the runs in one
// short transaction. After the swap it waits until no reader uses the old runs before deleting
// them. A crash at any point leaves either the old runs or the new run live, never both and
// never neither; unfinished and obsolete runs are removed on the next open.

func (s *Store) compactLoop() {
	defer s.wg.Done()
	for {
		select {
		case <-s.quit:
			return
		case <-s.compact:
		}
		for {
			merged, err := s.compactOnce()
			if err != nil {
				select {
				case <-s.quit:
					return
				default:
				}
				s.log.Error("merging index runs failed; will retry after the next seal", "err", err)
				break
			}
			if !merged {
				break
			}
		}
	}
}

// mergeCandidates returns the oldest MergeFanIn adjacent runs that share a level below
// maxLevel, or nil. Taking the oldest group keeps levels non-increasing from old runs to new
// ones, so a group that filled up while a long merge ran is merged next rather than stranded
// behind a newer, bigger run (which would let the number of runs grow without bound under
// sustained ingest).
func (s *Store) mergeCandidates(v *view) []*run {
	f := s.opts.MergeFanIn
	for i := 0; i+f <= len(v.runs); i++ {
		level := v.runs[i].level
		if level >= maxLevel {
			continue
		}
		same := true
		for _, r := range v.runs[i+1 : i+f] {
			if r.level != level {
				same = false
				break
			}
		}
		if same {
			return slices.Clone(v.runs[i : i+f])
		}
	}
	return nil
}

// quitContext is cancelled when the store closes, so that a long merge stops promptly.
func (s *Store) quitContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-s.quit:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

func (s *Store) compactOnce() (bool, error) {
	old := s.mergeCandidates(s.view.Load())
	if old == nil {
		return false, nil
	}
	ctx, cancel := s.quitContext()
	defer cancel()
	start := time.Now()
	lo, hi := old[0].lo, old[len(old)-1].hi
	minTS, maxTS := old[0].minTS, old[0].maxTS
	for _, r := range old {
		minTS, maxTS = min(minTS, r.minTS), max(maxTS, r.maxTS)
	}
	level := old[0].level + 1

	var id int64
	if err := s.wdb.QueryRowContext(ctx, `INSERT INTO runs(level, lo, hi, min_ts, max_ts, state) VALUES (?, ?, ?, ?, ?, 0) RETURNING id`,
		level, lo, hi, minTS, maxTS).Scan(&id); err != nil {
		return false, translate(err, "insert run")
	}
	bloom := runindex.NewBloom(int(hi - lo + 1))
	w := &chunkedExec{db: s.wdb}
	bw := &blockWriter{exec: w, run: id, ids: &s.blockIDs}
	for kind := kindPatient; kind <= kindLogID; kind++ {
		srcs := make([]runindex.Source, len(old))
		for i, r := range old {
			srcs[i] = &blockSource{s: s, ctx: ctx, run: r.id, kind: kind}
		}
		var src runindex.Source = &mergeSource{srcs: srcs}
		if kind == kindLogID {
			src = &bloomingSource{Source: src, bloom: bloom}
		}
		if err := bw.writeKind(ctx, kind, src); err != nil {
			return false, err
		}
	}
	if err := w.finish(ctx); err != nil {
		return false, err
	}
	bloomBytes, _ := bloom.MarshalBinary()

	// Swap: the new run becomes live and the old ones obsolete, atomically.
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return false, translate(err, "begin merge swap")
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE runs SET state = 1, bloom = ? WHERE id = ?`, bloomBytes, id); err != nil {
		return false, translate(err, "activate run")
	}
	for _, r := range old {
		if _, err := tx.ExecContext(ctx, `UPDATE runs SET state = 2 WHERE id = ?`, r.id); err != nil {
			return false, translate(err, "retire run")
		}
	}
	if err := tx.Commit(); err != nil {
		return false, translate(err, "commit merge swap")
	}
	merged := &run{id: id, level: level, lo: lo, hi: hi, minTS: minTS, maxTS: maxTS, bloom: bloom, fences: bw.fences}
	s.viewMu.Lock()
	cur := s.view.Load()
	i := slices.Index(cur.runs, old[0])
	if i < 0 || len(cur.runs) < i+len(old) || !slices.Equal(cur.runs[i:i+len(old)], old) {
		s.viewMu.Unlock()
		return false, fmt.Errorf("sqlite: runs changed during a merge")
	}
	runs := make([]*run, 0, len(cur.runs)-len(old)+1)
	runs = append(runs, cur.runs[:i]...)
	runs = append(runs, merged)
	runs = append(runs, cur.runs[i+len(old):]...)
	s.view.Store(&view{runs: runs, tail: cur.tail, tailLo: cur.tailLo, tailIdx: cur.tailIdx})
	s.viewMu.Unlock()

	// Readers that may still hold the old view finish before its runs go away: taking the
	// write lock waits for every reader that started before the swap.
	s.readers.Lock()
	//lint:ignore SA2001 the empty section is the point: it waits for earlier readers
	s.readers.Unlock()
	for _, r := range old {
		if err := s.dropRun(ctx, r.id); err != nil {
			return true, err // the run is obsolete and will be dropped on the next open
		}
	}
	s.merges.Add(1)
	s.log.Debug("merged index runs", "runs", len(old), "level", level, "entries", hi-lo+1, "took", time.Since(start))
	return true, nil
}

// dropRun deletes an obsolete run's blocks in modest transactions, then the run.
func (s *Store) dropRun(ctx context.Context, id int64) error {
	for {
		res, err := s.wdb.ExecContext(ctx, `DELETE FROM blocks WHERE id IN (SELECT id FROM blocks WHERE run = ? LIMIT 4096)`, id)
		if err != nil {
			return translate(err, "delete run blocks")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			break
		}
	}
	_, err := s.wdb.ExecContext(ctx, `DELETE FROM runs WHERE id = ?`, id)
	return translate(err, "delete run")
}

// blockSource reads one run's postings of one kind in ascending order, a page of blocks at a
// time, so that a merge holds no statement open and little memory.
type blockSource struct {
	s     *Store
	ctx   context.Context
	run   int64
	kind  int
	after runindex.Posting
	begun bool
	done  bool
	queue [][]byte
	ready []runindex.Posting
	i     int
}

func (b *blockSource) Next() (runindex.Posting, bool, error) {
	for b.i == len(b.ready) {
		if len(b.queue) == 0 {
			if b.done {
				return runindex.Posting{}, false, nil
			}
			if err := b.fetch(); err != nil {
				return runindex.Posting{}, false, err
			}
			continue
		}
		var err error
		b.ready, err = runindex.DecodeBlock(b.ready[:0], b.queue[0])
		if err != nil {
			return runindex.Posting{}, false, err
		}
		b.queue, b.i = b.queue[1:], 0
	}
	b.i++
	return b.ready[b.i-1], true, nil
}

const mergeFetchBlocks = 256

func (b *blockSource) fetch() error {
	var rows *sql.Rows
	var err error
	if !b.begun {
		rows, err = b.s.rdb.QueryContext(b.ctx, `SELECT k, t, s, data FROM blocks WHERE run = ? AND kind = ? ORDER BY k, t, s LIMIT ?`,
			b.run, b.kind, mergeFetchBlocks)
	} else {
		rows, err = b.s.rdb.QueryContext(b.ctx, `SELECT k, t, s, data FROM blocks WHERE run = ? AND kind = ? AND (k, t, s) > (?, ?, ?) ORDER BY k, t, s LIMIT ?`,
			b.run, b.kind, b.after.Key, b.after.TS, b.after.Seq, mergeFetchBlocks)
	}
	b.begun = true
	if err != nil {
		return translate(err, "read run")
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&b.after.Key, &b.after.TS, &b.after.Seq, &data); err != nil {
			return translate(err, "read run")
		}
		b.queue = append(b.queue, data)
		n++
	}
	if n < mergeFetchBlocks {
		b.done = true
	}
	return translate(rows.Err(), "read run")
}

// mergeSource merges sorted sources into one sorted source.
type mergeSource struct {
	srcs  []runindex.Source
	heads []runindex.Posting
	live  []bool
	begun bool
}

func (m *mergeSource) Next() (runindex.Posting, bool, error) {
	if !m.begun {
		m.begun = true
		m.heads = make([]runindex.Posting, len(m.srcs))
		m.live = make([]bool, len(m.srcs))
		for i, s := range m.srcs {
			p, ok, err := s.Next()
			if err != nil {
				return runindex.Posting{}, false, err
			}
			m.heads[i], m.live[i] = p, ok
		}
	}
	best := -1
	for i := range m.srcs {
		if m.live[i] && (best < 0 || runindex.Compare(m.heads[i], m.heads[best]) < 0) {
			best = i
		}
	}
	if best < 0 {
		return runindex.Posting{}, false, nil
	}
	out := m.heads[best]
	p, ok, err := m.srcs[best].Next()
	if err != nil {
		return runindex.Posting{}, false, err
	}
	m.heads[best], m.live[best] = p, ok
	return out, true, nil
}

// bloomingSource adds every posting's key to a Bloom filter on the way through.
type bloomingSource struct {
	runindex.Source
	bloom *runindex.Bloom
}

func (b *bloomingSource) Next() (runindex.Posting, bool, error) {
	p, ok, err := b.Source.Next()
	if ok {
		b.bloom.Add(p.Key)
	}
	return p, ok, err
}

// chunkedExec runs statements in transactions of a bounded size, so that a merge's writes
// interleave with group commits instead of holding the write lock for seconds.
type chunkedExec struct {
	db *sql.DB
	tx *sql.Tx
	n  int
}

const statementsPerMergeTx = 32

func (c *chunkedExec) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if c.tx == nil {
		tx, err := c.db.BeginTx(ctx, nil)
		if err != nil {
			return nil, err
		}
		c.tx = tx
	}
	res, err := c.tx.ExecContext(ctx, q, args...)
	if err != nil {
		c.tx.Rollback()
		c.tx = nil
		return nil, err
	}
	c.n++
	if c.n == statementsPerMergeTx {
		c.n = 0
		err := c.tx.Commit()
		c.tx = nil
		if err != nil {
			return nil, err
		}
	}
	return res, nil
}

func (c *chunkedExec) finish(ctx context.Context) error {
	if c.tx == nil {
		return nil
	}
	err := c.tx.Commit()
	c.tx = nil
	return translate(err, "commit merge chunk")
}
