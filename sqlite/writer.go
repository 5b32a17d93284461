package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/sqlite/internal/runindex"
)

type appendReq struct {
	ctx    context.Context
	batch  []accesslog.Pending
	hashes []int64
	res    []accesslog.AppendResult
	err    error
	done   chan struct{}
}

var errClosed = &vakt.Error{Code: vakt.CodeUnavailable, Message: "the log store is shutting down; retry later"}

// Append implements accesslog.Store. Batches from concurrent callers are committed together by
// the writer goroutine (group commit), which pays one fsync for all of them; each batch stays
// atomic because conflicts are decided before anything is written.
func (s *Store) Append(ctx context.Context, batch []accesslog.Pending) ([]accesslog.AppendResult, error) {
	if len(batch) == 0 {
		return nil, vakt.Invalid("batch holds no entries", vakt.Problem{Index: -1, Reason: "must hold at least one entry"})
	}
	req := &appendReq{ctx: ctx, batch: batch, hashes: make([]int64, len(batch)), done: make(chan struct{})}
	for i := range batch {
		req.hashes[i] = runindex.HashLogID(batch[i].Entry.LogID)
	}
	if s.syncFailed.Load() {
		return nil, errSyncFailed
	}
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return nil, errClosed
	}
	select {
	case s.reqs <- req:
	case <-ctx.Done():
		s.closeMu.RUnlock()
		return nil, ctx.Err()
	}
	s.closeMu.RUnlock()
	// Wait even if ctx ends now: only the writer knows whether the batch was committed.
	<-req.done
	return req.res, req.err
}

func (s *Store) writeLoop() {
	defer s.wg.Done()
	defer close(s.writerDone)
	group := make([]*appendReq, 0, 64)
	flush := time.NewTimer(time.Hour)
	flush.Stop()
	for {
		// Leaves that wait for a transaction get the next group's, or their own if no group
		// comes soon or a checkpoint is asked for.
		var flushDue <-chan time.Time
		if s.treeWaiting() {
			flush.Reset(treeFlushDelay)
			flushDue = flush.C
		}
		var sealed <-chan struct{}
		if s.sealing != nil {
			sealed = s.sealing.done
		}
		var first *appendReq
		var ok bool
		select {
		case <-sealed:
			s.finishSeal()
			continue
		case first, ok = <-s.reqs:
			flush.Stop()
		case <-flushDue:
			s.flushTree()
			continue
		case done := <-s.flushReqs:
			flush.Stop()
			s.flushTree()
			// Answered once the tree just stored is durable and published.
			s.afterSync(&syncTicket{done: done})
			continue
		}
		if !ok {
			break
		}
		group = append(group[:0], first)
		n := len(first.batch)
	drain:
		for n < s.opts.MaxGroup {
			select {
			case r, ok := <-s.reqs:
				if !ok {
					break drain
				}
				group = append(group, r)
				n += len(r.batch)
			default:
				break drain
			}
		}
		s.commitGroup(group)
		s.maybeSeal()
	}
	// Closing: the tree takes in every stored entry before the last checkpoint is signed, and
	// a run under construction is stored, so the next open has less to index again.
	s.flushTree()
	s.finishSeal()
	close(s.syncs)
	<-s.syncerDone
	s.syncs = nil
}

// newRow is an entry of a group that is not yet stored.
type newRow struct {
	p     *accesslog.Pending
	seq   int64
	te    tailEntry
	actor int64
}

// commitGroup decides every entry of the group (new, duplicate or conflict), writes the new ones
// in one transaction and hands the requests to the syncer, which answers them once the
// transaction is durable (see durable.go).
func (s *Store) commitGroup(group []*appendReq) {
	ticket := &syncTicket{reqs: slices.Clone(group)}
	defer func() { s.afterSync(ticket) }()
	received := time.Now().UTC().Truncate(time.Microsecond)
	var rows []newRow
	inGroup := map[string]int{} // logId → index in rows
	seq := s.nextSeq
	if s.syncFailed.Load() {
		for _, r := range group {
			r.err = errSyncFailed
		}
		return
	}
	// The writer's lookups see every committed entry, durable or not, so that a logId whose
	// commit is still being flushed is found as a duplicate rather than stored twice.
	wv := s.writerView()

	s.readers.RLock() // the lookups below read runs
	for _, r := range group {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		r.res = make([]accesslog.AppendResult, len(r.batch))
		mark, seqMark := len(rows), seq
		ids := make([]string, len(r.batch))
		for i := range r.batch {
			ids[i] = r.batch[i].Entry.LogID
		}
		known, err := s.lookupLogIDs(r.ctx, wv, ids, r.hashes)
		if err != nil {
			r.err, r.res = err, nil
			continue
		}
		for i := range r.batch {
			p := &r.batch[i]
			id := p.Entry.LogID
			if j, ok := inGroup[id]; ok {
				if bytes.Equal(rows[j].p.Content, p.Content) {
					r.res[i] = accesslog.AppendResult{Seq: rows[j].seq, Duplicate: true}
					continue
				}
				r.err = accesslog.ConflictError(i, id)
				break
			}
			if stored := known[i]; stored != nil {
				if bytes.Equal(stored.head, p.Head()) && bytes.Equal(stored.actor, p.Actor()) {
					r.res[i] = accesslog.AppendResult{Seq: stored.seq, Duplicate: true}
					continue
				}
				r.err = accesslog.ConflictError(i, id)
				break
			}
			e := &p.Entry
			te := tailEntry{
				seq:        seq,
				ts:         e.Activity.StartDate.UnixMicro(),
				logHash:    r.hashes[i],
				activityID: s.dict.internActivity(string(e.Activity.Type)),
			}
			// The actor (system and user) names the user, unit and provider: most entries come
			// from an actor already known, whose ids need no interning again.
			var actorID int64
			if a := s.dict.knownActor(p.Actor()); a != nil {
				actorID, te.userID, te.unitID, te.providerID = a.id, a.userID, a.unitID, a.providerID
			} else {
				te.userID = s.dict.intern(dictHSA, string(e.User.ID))
				te.unitID = s.dict.intern(dictHSA, string(e.User.CareUnit.ID))
				te.providerID = s.dict.intern(dictHSA, string(e.User.CareProvider.ID))
				actorID = s.dict.internActor(p.Actor(), te.userID, te.unitID, te.providerID)
			}
			for _, pid := range e.Patients() {
				te.patients = append(te.patients, s.dict.internPatient(pid))
			}
			rows = append(rows, newRow{p: p, seq: seq, te: te, actor: actorID})
			inGroup[id] = len(rows) - 1
			r.res[i] = accesslog.AppendResult{Seq: seq}
			seq++
		}
		if r.err != nil {
			for _, row := range rows[mark:] {
				delete(inGroup, row.p.Entry.LogID)
			}
			rows = rows[:mark]
			seq = seqMark
			r.res = nil
		}
	}
	s.readers.RUnlock()

	if len(rows) == 0 {
		s.dict.dropPending()
		return
	}
	// The leaves of the groups committed before this one, hashed in the background since, join
	// the tree in this group's transaction (see leafJob).
	// The tree grows on another core while SQLite inserts the rows: growTree only reads the
	// tree and the pending leaves, which nothing changes until this group has committed, and
	// the writer waits for it (grown) before it touches either again.
	var grow func() (map[int64][]byte, error)
	var next *treeState
	grown := func() {}
	if len(s.pendingLeaves) > 0 {
		var dirty map[int64][]byte
		var growErr error
		done := make(chan struct{})
		go func() {
			defer close(done)
			next, dirty, growErr = s.growTree()
		}()
		grow = func() (map[int64][]byte, error) {
			<-done
			return dirty, growErr
		}
		grown = func() { <-done }
	}
	// The tail index takes the group's entries on another core while SQLite inserts them:
	// readers' lookups stop at their view's end, so entries not yet published stay unseen, and
	// a failed commit takes them out again.
	idx := wv.tailIdx
	mark := idx.mark()
	indexed := make(chan struct{})
	go func() {
		defer close(indexed)
		idx.mu.Lock()
		defer idx.mu.Unlock()
		for i := range rows {
			idx.add(&rows[i].te)
		}
	}()
	start := time.Now()
	err := s.writeRows(rows, received, grow)
	grown()
	s.commits.Add(1)
	s.commitNanos.Add(int64(time.Since(start)))
	<-indexed
	if err != nil {
		idx.mu.Lock()
		for i := len(rows) - 1; i >= 0; i-- {
			idx.remove(&rows[i].te)
		}
		idx.truncate(mark)
		idx.mu.Unlock()
		s.dict.dropPending()
		for _, r := range group {
			if r.err == nil {
				r.err, r.res = err, nil
			}
		}
		s.log.Error("append failed; nothing of the group was stored", "entries", len(rows), "err", err)
		if errors.Is(err, errLeafJob) {
			s.treeFallsBehind(err)
		}
		return
	}
	s.dict.publishPending()
	s.nextSeq = seq
	var publishTree func()
	if next != nil {
		s.tree, s.pendingLeaves = next, s.pendingLeaves[:0]
		publishTree = s.treePublisher()
	}
	if !s.opts.NoMerkle && !s.treeBehind {
		s.pendingLeaves = append(s.pendingLeaves, startLeafJob(rows, received))
	}
	// Readers see the entries in the view published after the flush.
	for i := range rows {
		s.wtail = append(s.wtail, rows[i].te)
	}
	tail, tailLo := s.wtail, wv.tailLo
	ticket.dirty = true
	ticket.publish = func() {
		s.publishTail(tail, tailLo, idx)
		if publishTree != nil {
			publishTree()
		}
	}
}

// writerView is the readers' view extended by the entries committed but not yet durable.
func (s *Store) writerView() *view {
	v := s.view.Load()
	return &view{runs: v.runs, tailLo: v.tailLo, tail: s.wtail, tailIdx: v.tailIdx}
}

// publishTail makes tail, whose entries are durable now, the readers' tail.
func (s *Store) publishTail(tail []tailEntry, tailLo int64, idx *tailIndex) {
	s.viewMu.Lock()
	defer s.viewMu.Unlock()
	cur := s.view.Load()
	if cur.tailLo != tailLo || cur.tailIdx != idx || len(tail) < len(cur.tail) {
		// Sealing waits for every flush before it replaces the tail, so this cannot happen;
		// keeping the view as it is only delays visibility.
		s.log.Error("a flushed tail no longer matches the view", "tailLo", tailLo, "view", cur.tailLo)
		return
	}
	s.view.Store(&view{runs: cur.runs, tailLo: tailLo, tail: tail, tailIdx: idx})
}

// writeRows inserts the group's new entries, its dictionary values and the tree strips that grow
// returns (if grow is not nil) in one transaction. grow is called after the rows are inserted, so
// that it can work meanwhile. The transaction does not take a request's context: a group commits
// whole or not at all.
func (s *Store) writeRows(rows []newRow, received time.Time, grow func() (map[int64][]byte, error)) error {
	ctx := context.Background()
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return translate(err, "begin append")
	}
	defer tx.Rollback()
	if err := s.dict.writePending(ctx, tx); err != nil {
		return err
	}
	many, one := tx.StmtContext(ctx, s.insertMany), tx.StmtContext(ctx, s.insertOne)
	args := make([]any, 0, entryColumns*insertBatchRows)
	rec := received.UnixMicro()
	i := 0
	for ; i+insertBatchRows <= len(rows); i += insertBatchRows {
		args = args[:0]
		for j := range rows[i : i+insertBatchRows] {
			args = rowArgs(args, &rows[i+j], rec)
		}
		if _, err := many.ExecContext(ctx, args...); err != nil {
			return translate(err, "insert entries")
		}
	}
	for ; i < len(rows); i++ {
		if _, err := one.ExecContext(ctx, rowArgs(args[:0], &rows[i], rec)...); err != nil {
			return translate(err, "insert entry")
		}
	}
	if grow != nil {
		strips, err := grow()
		if err != nil {
			return err
		}
		if err := writeStrips(ctx, tx, strips); err != nil {
			return err
		}
	}
	return translate(tx.Commit(), "commit append")
}

// entryColumns is the number of columns rowArgs fills.
const entryColumns = 6

func rowArgs(args []any, r *newRow, received int64) []any {
	return append(args, r.seq, r.te.ts, received, r.actor, r.te.activityID, r.p.Head())
}

// storedRow is an entry row as read for the idempotency check.
type storedRow struct {
	seq      int64
	received int64
	head     []byte
	actor    []byte
}

// stored assembles the entry's canonical JSON.
func (r *storedRow) stored() (accesslog.Stored, error) {
	js, err := accesslog.Assemble(nil, r.head, r.actor, r.seq, time.UnixMicro(r.received))
	if err != nil {
		return accesslog.Stored{}, fmt.Errorf("sqlite: entry %d: %w", r.seq, err)
	}
	return accesslog.Stored{Seq: r.seq, ReceivedAt: time.UnixMicro(r.received).UTC(), JSON: js}, nil
}

// lookupLogIDs returns, for each logId, its stored row or nil. Candidates come from the tail
// index and from the blocks of runs whose Bloom filter may hold the hash; all blocks and then
// all candidate rows are read in one statement each. The caller holds s.readers.
func (s *Store) lookupLogIDs(ctx context.Context, v *view, ids []string, hashes []int64) ([]*storedRow, error) {
	out := make([]*storedRow, len(ids))
	var cands []int64
	owners := map[int64][]int{} // candidate seq → indexes of ids it may belong to
	addCand := func(seq int64, i int) {
		if len(owners[seq]) == 0 {
			cands = append(cands, seq)
		}
		owners[seq] = append(owners[seq], i)
	}
	end := v.end()
	var tail []int64
	type probe struct {
		i int
		c *runCursor
	}
	var probes []probe
	for i, h := range hashes {
		tail = v.tailIdx.lookup(tail[:0], kindLogID, h, end)
		for _, seq := range tail {
			addCand(seq, i)
		}
		for _, r := range v.runs {
			if r.bloom.MayContain(h) {
				b := bounds{lo: runindex.Posting{Key: h, TS: minInt64, Seq: minInt64}, hi: runindex.Posting{Key: h, TS: maxInt64, Seq: maxInt64}}
				c := newRunCursor(r, kindLogID, b)
				c.batch = len(c.fences) // every block that can hold h, which is nearly always one
				probes = append(probes, probe{i, c})
			}
		}
	}
	if len(probes) > 0 {
		cursors := make([]*runCursor, len(probes))
		for j := range probes {
			cursors[j] = probes[j].c
		}
		// Every probe's blocks in one read.
		if err := s.fill(ctx, cursors, maxInt); err != nil {
			return nil, err
		}
		for _, p := range probes {
			for _, posting := range p.c.ready {
				addCand(posting.Seq, p.i)
			}
		}
	}
	if len(cands) == 0 {
		return out, nil
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT seq, received, actor, head FROM entries WHERE seq IN (SELECT value FROM json_each(?))`, seqList(cands))
	if err != nil {
		return nil, translate(err, "read entries")
	}
	defer rows.Close()
	for rows.Next() {
		r := &storedRow{}
		var actorID int64
		if err := rows.Scan(&r.seq, &r.received, &actorID, &r.head); err != nil {
			return nil, translate(err, "read entries")
		}
		for _, i := range owners[r.seq] {
			if out[i] != nil || !accesslog.HasLogID(r.head, ids[i]) {
				continue
			}
			a, ok := s.dict.actor(actorID)
			if !ok {
				return nil, fmt.Errorf("sqlite: entry %d names unknown actor %d", r.seq, actorID)
			}
			r.actor = a.json
			out[i] = r
		}
	}
	return out, translate(rows.Err(), "read entries")
}

const (
	minInt64 = -1 << 63
	maxInt64 = 1<<63 - 1
	maxInt   = int(^uint(0) >> 1)
)

// sealJob builds a level-0 run of the tail's entries [lo, hi] in the background: collecting
// and sorting their postings, encoding the blocks and the Bloom filter is most of what sealing
// costs, and none of it needs the database. The writer goroutine goes on committing groups
// meanwhile and, once the job is done, only inserts the finished blocks (installSeal). The
// entries it covers stay in the tail, indexed in memory, until then.
type sealJob struct {
	done         chan struct{}
	lo, hi       int64
	minTS, maxTS int64
	bloom        *runindex.Bloom
	blocks       [kindLogID + 1][]builtBlock
	err          error
}

// builtBlock is an encoded block of postings and its first posting.
type builtBlock struct {
	first runindex.Posting
	data  []byte
}

// startSeal starts building a run of tail, whose first entry has sequence number lo. The
// entries of tail are never changed once appended (later groups append after them), so the
// job reads them without a lock.
func startSeal(tail []tailEntry, lo int64) *sealJob {
	j := &sealJob{done: make(chan struct{}), lo: lo, hi: lo + int64(len(tail)) - 1}
	go func() {
		defer close(j.done)
		j.build(tail)
	}()
	return j
}

func (j *sealJob) build(tail []tailEntry) {
	npat := 0
	for i := range tail {
		npat += len(tail[i].patients)
	}
	var kinds [kindLogID + 1][]runindex.Posting
	kinds[kindPatient] = make([]runindex.Posting, 0, npat)
	for k := kindUser; k <= kindLogID; k++ {
		kinds[k] = make([]runindex.Posting, 0, len(tail))
	}
	j.minTS, j.maxTS = int64(maxInt64), int64(minInt64)
	for i := range tail {
		te := &tail[i]
		for _, pk := range te.patients {
			kinds[kindPatient] = append(kinds[kindPatient], runindex.Posting{Key: pk, TS: te.ts, Seq: te.seq})
		}
		kinds[kindUser] = append(kinds[kindUser], runindex.Posting{Key: te.userID, TS: te.ts, Seq: te.seq})
		kinds[kindUnit] = append(kinds[kindUnit], runindex.Posting{Key: te.unitID, TS: te.ts, Seq: te.seq})
		kinds[kindTime] = append(kinds[kindTime], runindex.Posting{Key: 0, TS: te.ts, Seq: te.seq})
		kinds[kindLogID] = append(kinds[kindLogID], runindex.Posting{Key: te.logHash, TS: 0, Seq: te.seq})
		j.minTS, j.maxTS = min(j.minTS, te.ts), max(j.maxTS, te.ts)
	}
	j.bloom = runindex.NewBloom(len(tail))
	for _, p := range kinds[kindLogID] {
		j.bloom.Add(p.Key)
	}
	var arena []byte // every block of a kind in one allocation
	for kind := kindPatient; kind <= kindLogID; kind++ {
		ps := kinds[kind]
		runindex.Sort(ps)
		var offs []int
		b := runindex.Blocker{Emit: func(first runindex.Posting, data []byte) error {
			j.blocks[kind] = append(j.blocks[kind], builtBlock{first: first})
			offs = append(offs, len(arena))
			arena = append(arena, data...)
			return nil
		}}
		for _, p := range ps {
			if err := b.Add(p); err != nil {
				j.err = err
				return
			}
		}
		if err := b.Close(); err != nil {
			j.err = err
			return
		}
		offs = append(offs, len(arena))
		for i := range j.blocks[kind] {
			j.blocks[kind][i].data = arena[offs[i]:offs[i+1]:offs[i+1]]
		}
		arena = arena[len(arena):]
	}
}

// maybeSeal starts a seal job when the tail has grown enough and none is under way.
func (s *Store) maybeSeal() {
	if s.sealing != nil {
		return
	}
	if v := s.view.Load(); len(v.tail) >= s.opts.SealEntries {
		s.sealing = startSeal(v.tail, v.tailLo)
	}
}

// finishSeal waits for the seal job under way, if any, and stores its run.
func (s *Store) finishSeal() {
	j := s.sealing
	if j == nil {
		return
	}
	<-j.done
	s.sealing = nil
	if err := s.installSeal(j); err != nil {
		// The entries stay in the tail and are sealed on a later try or after restart.
		s.log.Error("sealing the in-memory index failed", "err", err)
	}
}

// installSeal stores the run a finished job built and replaces the tail's entries it covers by
// it. It runs on the writer goroutine, so the tail only grows meanwhile.
func (s *Store) installSeal(j *sealJob) error {
	if j.err != nil {
		return j.err
	}
	// The tail is replaced below: every entry committed so far must be published first, so
	// that the new tail is the whole of what follows the run, for readers and writer alike.
	s.waitSynced()
	bloomBytes, _ := j.bloom.MarshalBinary()
	ctx := context.Background()
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return translate(err, "begin seal")
	}
	defer tx.Rollback()
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO runs(level, lo, hi, min_ts, max_ts, state, bloom) VALUES (0, ?, ?, ?, ?, 1, ?) RETURNING id`,
		j.lo, j.hi, j.minTS, j.maxTS, bloomBytes).Scan(&id); err != nil {
		return translate(err, "insert run")
	}
	w := &blockWriter{exec: tx, run: id, ids: &s.blockIDs}
	for kind := kindPatient; kind <= kindLogID; kind++ {
		for _, b := range j.blocks[kind] {
			if err := w.add(ctx, kind, b.first, b.data); err != nil {
				return err
			}
		}
	}
	if err := w.flush(ctx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return translate(err, "commit seal")
	}
	r := &run{id: id, level: 0, lo: j.lo, hi: j.hi, minTS: j.minTS, maxTS: j.maxTS, bloom: j.bloom, fences: w.fences}
	s.viewMu.Lock()
	cur := s.view.Load()
	if cur.tailLo != j.lo {
		s.viewMu.Unlock()
		return fmt.Errorf("sqlite: the tail moved from %d to %d while sealing it", j.lo, cur.tailLo)
	}
	nv := &view{runs: append(cur.runs[:len(cur.runs):len(cur.runs)], r), tailLo: j.hi + 1}
	// The entries committed while the job ran stay in the tail, in a fresh index.
	nv.tail = append(make([]tailEntry, 0, max(s.opts.SealEntries, len(cur.tail))), cur.tail[j.hi-cur.tailLo+1:]...)
	nv.tailIdx = newTailIndex(s.opts.SealEntries)
	for i := range nv.tail {
		nv.tailIdx.add(&nv.tail[i])
	}
	s.view.Store(nv)
	s.wtail = nv.tail
	s.viewMu.Unlock()
	select {
	case s.compact <- struct{}{}:
	default:
	}
	return nil
}

// execer is a transaction, or something that commits in chunks.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// blockWriter inserts the blocks of one run, several per statement, and records their fences.
type blockWriter struct {
	exec   execer
	run    int64
	ids    *atomic.Int64 // source of block ids
	args   []any
	fences [kindLogID + 1][]fence
}

const blocksPerInsert = 32

func (w *blockWriter) writeKind(ctx context.Context, kind int, src runindex.Source) error {
	b := runindex.Blocker{Emit: func(first runindex.Posting, data []byte) error {
		return w.add(ctx, kind, first, bytes.Clone(data))
	}}
	for {
		p, ok, err := src.Next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if err := b.Add(p); err != nil {
			return err
		}
	}
	if err := b.Close(); err != nil {
		return err
	}
	return w.flush(ctx)
}

// add queues a block, which must not change afterwards, and inserts the queue when it is full.
func (w *blockWriter) add(ctx context.Context, kind int, first runindex.Posting, data []byte) error {
	id := w.ids.Add(1)
	w.args = append(w.args, id, w.run, kind, first.Key, first.TS, first.Seq, data)
	w.fences[kind] = append(w.fences[kind], fence{first: first, id: id})
	if len(w.args) == 7*blocksPerInsert {
		return w.flush(ctx)
	}
	return nil
}

func (w *blockWriter) flush(ctx context.Context) error {
	if len(w.args) == 0 {
		return nil
	}
	n := len(w.args) / 7
	q := "INSERT INTO blocks(id, run, kind, k, t, s, data) VALUES " + strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?),", n), ",")
	_, err := w.exec.ExecContext(ctx, q, w.args...)
	w.args = w.args[:0]
	return translate(err, "insert blocks")
}
