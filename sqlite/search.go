package sqlite

import (
	"container/heap"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/sqlite/internal/runindex"
)

// bounds are inclusive posting bounds of one key.
type bounds struct{ lo, hi runindex.Posting }

// runCursor walks one run's postings of one key newest first. The run's fences say which
// blocks can hold the key between the bounds, so blocks are read by id, and the first blocks of
// every run of a query are read together in one statement (Store.fill).
type runCursor struct {
	fences []fence
	b      bounds
	next   int                // index of the next block to read, counting down
	stop   int                // the lowest block that can hold postings ≥ b.lo
	ready  []runindex.Posting // ascending; consumed from the end
	batch  int                // blocks per refill, doubling
	dec    []runindex.Posting
}

func newRunCursor(r *run, kind int, b bounds) *runCursor {
	fs := r.fences[kind]
	after := func(p runindex.Posting) int {
		return sort.Search(len(fs), func(i int) bool { return runindex.Compare(fs[i].first, p) > 0 })
	}
	// Blocks starting after b.hi hold nothing wanted; of those starting at or before b.lo only
	// the last can still hold postings ≥ b.lo.
	return &runCursor{fences: fs, b: b, next: after(b.hi) - 1, stop: max(after(b.lo)-1, 0), batch: 2}
}

// more reports whether blocks remain to be read.
func (c *runCursor) more() bool { return c.next >= c.stop && c.next >= 0 }

// wantIDs appends the ids of the next n blocks to read.
func (c *runCursor) wantIDs(dst []int64, n int) []int64 {
	for j := c.next; j >= c.stop && j > c.next-n; j-- {
		dst = append(dst, c.fences[j].id)
	}
	return dst
}

// feed decodes the blocks named by the last wantIDs(n) (data by id) into ready.
func (c *runCursor) feed(blocks map[int64][]byte, n int) error {
	lowest := max(c.next-n+1, c.stop)
	for j := lowest; j <= c.next; j++ {
		data, ok := blocks[c.fences[j].id]
		if !ok {
			return fmt.Errorf("sqlite: index block %d is missing", c.fences[j].id)
		}
		var err error
		if c.dec, err = runindex.DecodeBlock(c.dec[:0], data); err != nil {
			return err
		}
		for _, p := range c.dec {
			if runindex.Compare(p, c.b.lo) >= 0 && runindex.Compare(p, c.b.hi) <= 0 {
				c.ready = append(c.ready, p)
			}
		}
	}
	c.next = lowest - 1
	return nil
}

// readBlocks reads blocks by id in one statement.
func (s *Store) readBlocks(ctx context.Context, ids []int64) (map[int64][]byte, error) {
	out := make(map[int64][]byte, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, data FROM blocks WHERE id IN (SELECT value FROM json_each(?))`, seqList(ids))
	if err != nil {
		return nil, translate(err, "read index")
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var data []byte
		if err := rows.Scan(&id, &data); err != nil {
			return nil, translate(err, "read index")
		}
		out[id] = data
	}
	return out, translate(rows.Err(), "read index")
}

// fill reads up to n blocks (or each cursor's batch, if smaller) for every cursor with nothing
// ready, all in one statement.
func (s *Store) fill(ctx context.Context, cs []*runCursor, n int) error {
	var ids []int64
	want := make([]int, len(cs))
	for i, c := range cs {
		if len(c.ready) > 0 || !c.more() {
			continue
		}
		want[i] = min(n, c.batch)
		ids = c.wantIDs(ids, want[i])
	}
	if len(ids) == 0 {
		return nil
	}
	blocks, err := s.readBlocks(ctx, ids)
	if err != nil {
		return err
	}
	for i, c := range cs {
		if want[i] > 0 {
			if err := c.feed(blocks, want[i]); err != nil {
				return err
			}
			c.batch = min(2*c.batch, 32)
		}
	}
	return nil
}

// pop returns the cursor's newest remaining posting, reading more blocks as needed.
func (s *Store) pop(ctx context.Context, c *runCursor) (runindex.Posting, bool, error) {
	for len(c.ready) == 0 {
		if !c.more() {
			return runindex.Posting{}, false, nil
		}
		if err := s.fill(ctx, []*runCursor{c}, c.batch); err != nil {
			return runindex.Posting{}, false, err
		}
	}
	p := c.ready[len(c.ready)-1]
	c.ready = c.ready[:len(c.ready)-1]
	return p, true, nil
}

// plan is how a query is answered: which index and key drive it, and which filters are checked
// on the entry rows afterwards. empty means a filter value was never stored, so nothing matches.
type plan struct {
	kind       int
	key        int64
	empty      bool
	fromTS     int64 // inclusive
	toTS       int64 // inclusive upper bound of startDate
	patient    int64 // 0 = any
	user, unit int64
	provider   int64
	activity   int64
	rowFilter  bool // user/unit/provider/activity must be checked on rows from runs
}

func (s *Store) plan(q *accesslog.Query) plan {
	p := plan{fromTS: minInt64, toTS: maxInt64}
	if !q.From.IsZero() {
		p.fromTS = accesslog.CeilMicro(q.From)
	}
	if !q.To.IsZero() {
		p.toTS = accesslog.CeilMicro(q.To) - 1
	}
	lookup := func(id string, dst *int64) {
		if id == "" {
			return
		}
		v, ok := s.dict.lookup(dictHSA, id)
		if !ok {
			p.empty = true
		}
		*dst = v
	}
	lookup(string(q.UserID), &p.user)
	lookup(string(q.CareUnitID), &p.unit)
	lookup(string(q.CareProviderID), &p.provider)
	if q.ActivityType != "" {
		v, ok := s.dict.activity(q.ActivityType)
		if !ok {
			p.empty = true
		}
		p.activity = v
	}
	if !q.PatientID.IsZero() {
		k, ok := s.dict.patientKey(q.PatientID)
		if !ok {
			p.empty = true
		}
		p.patient = k
	}
	switch {
	case p.patient != 0:
		p.kind, p.key = kindPatient, p.patient
		p.rowFilter = p.user != 0 || p.unit != 0 || p.provider != 0 || p.activity != 0
	case p.user != 0:
		p.kind, p.key = kindUser, p.user
		p.rowFilter = p.unit != 0 || p.provider != 0 || p.activity != 0
	case p.unit != 0:
		p.kind, p.key = kindUnit, p.unit
		p.rowFilter = p.provider != 0 || p.activity != 0
	default:
		p.kind, p.key = kindTime, 0
		p.rowFilter = p.provider != 0 || p.activity != 0
	}
	return p
}

func (p *plan) matchRow(user, unit, provider, activity int64) bool {
	return (p.user == 0 || p.user == user) && (p.unit == 0 || p.unit == unit) &&
		(p.provider == 0 || p.provider == provider) && (p.activity == 0 || p.activity == activity)
}

func (p *plan) matchTail(te *tailEntry) bool {
	if te.ts < p.fromTS || te.ts > p.toTS || !p.matchRow(te.userID, te.unitID, te.providerID, te.activityID) {
		return false
	}
	return p.patient == 0 || slices.Contains(te.patients, p.patient)
}

// candidate is an entry position produced by an index, and whether its row must still be
// checked against the plan's row filters.
type candidate struct {
	ts, seq int64
	check   bool
}

// source yields candidates newest first.
type source interface {
	next(ctx context.Context) (candidate, bool, error)
}

type runSource struct {
	s *Store
	c *runCursor
}

func (r runSource) next(ctx context.Context) (candidate, bool, error) {
	p, ok, err := r.s.pop(ctx, r.c)
	return candidate{ts: p.TS, seq: p.Seq, check: true}, ok, err
}

type sliceSource struct {
	c []candidate // newest first
	i int
}

func (s *sliceSource) next(context.Context) (candidate, bool, error) {
	if s.i == len(s.c) {
		return candidate{}, false, nil
	}
	s.i++
	return s.c[s.i-1], true, nil
}

type srcHeap struct {
	heads []candidate
	srcs  []source
}

func (h *srcHeap) Len() int { return len(h.heads) }
func (h *srcHeap) Less(i, j int) bool {
	a, b := h.heads[i], h.heads[j]
	return a.ts > b.ts || a.ts == b.ts && a.seq > b.seq
}
func (h *srcHeap) Swap(i, j int) {
	h.heads[i], h.heads[j] = h.heads[j], h.heads[i]
	h.srcs[i], h.srcs[j] = h.srcs[j], h.srcs[i]
}
func (h *srcHeap) Push(any) { panic("unused") }
func (h *srcHeap) Pop() any {
	n := len(h.heads) - 1
	h.heads, h.srcs = h.heads[:n], h.srcs[:n]
	return nil
}

// scan appends to out up to max entries matching q in newest-first order after q.After.
func (s *Store) scan(ctx context.Context, q *accesslog.Query, max int, out []accesslog.Stored) ([]accesslog.Stored, error) {
	p := s.plan(q)
	if p.empty || p.fromTS > p.toTS {
		return out, nil
	}
	hi := runindex.Posting{Key: p.key, TS: p.toTS, Seq: maxInt64}
	if !q.After.IsZero() {
		c := runindex.Posting{Key: p.key, TS: q.After.StartDate, Seq: q.After.Seq - 1}
		if runindex.Compare(c, hi) < 0 {
			hi = c
		}
	}
	b := bounds{lo: runindex.Posting{Key: p.key, TS: p.fromTS, Seq: minInt64}, hi: hi}
	if runindex.Compare(b.lo, b.hi) > 0 {
		return out, nil
	}

	s.readers.RLock()
	defer s.readers.RUnlock()
	v := s.view.Load()
	h := &srcHeap{}
	add := func(src source) error {
		c, ok, err := src.next(ctx)
		if err != nil || !ok {
			return err
		}
		h.heads = append(h.heads, c)
		h.srcs = append(h.srcs, src)
		return nil
	}
	var cursors []*runCursor
	for _, r := range v.runs {
		if r.maxTS < p.fromTS || r.minTS > p.toTS {
			continue
		}
		cursors = append(cursors, newRunCursor(r, p.kind, b))
	}
	// The first blocks of every run in one read.
	if err := s.fill(ctx, cursors, 2); err != nil {
		return out, err
	}
	for _, c := range cursors {
		if err := add(runSource{s, c}); err != nil {
			return out, err
		}
	}
	var tail []candidate
	consider := func(te *tailEntry) {
		if p.matchTail(te) && q.After.Before(te.ts, te.seq) {
			tail = append(tail, candidate{ts: te.ts, seq: te.seq})
		}
	}
	if p.kind == kindTime {
		for i := range v.tail {
			consider(&v.tail[i])
		}
	} else {
		for _, seq := range v.tailIdx.lookup(nil, p.kind, p.key, v.end()) {
			consider(&v.tail[seq-v.tailLo])
		}
	}
	slices.SortFunc(tail, func(a, b candidate) int {
		if a.ts != b.ts {
			return cmpDesc(a.ts, b.ts)
		}
		return cmpDesc(a.seq, b.seq)
	})
	if err := add(&sliceSource{c: tail}); err != nil {
		return out, err
	}
	heap.Init(h)

	want := max
	batch := make([]candidate, 0, 64)
	for h.Len() > 0 && want > 0 {
		batch = batch[:0]
		// Without row filters every candidate is a result, so take exactly what is wanted;
		// with them, read ahead a little to save round trips.
		n := want
		if p.rowFilter {
			n = min(4*want+16, 1024)
		}
		for h.Len() > 0 && len(batch) < n {
			batch = append(batch, h.heads[0])
			c, ok, err := h.srcs[0].next(ctx)
			if err != nil {
				return out, err
			}
			if ok {
				h.heads[0] = c
				heap.Fix(h, 0)
			} else {
				heap.Pop(h)
			}
		}
		var err error
		before := len(out)
		out, err = s.fetch(ctx, &p, batch, out, want)
		if err != nil {
			return out, err
		}
		want -= len(out) - before
	}
	return out, nil
}

func cmpDesc(a, b int64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

// fetch reads the rows of cands (in order), drops those failing the plan's row filters and
// appends at most want results to out.
func (s *Store) fetch(ctx context.Context, p *plan, cands []candidate, out []accesslog.Stored, want int) ([]accesslog.Stored, error) {
	seqs := make([]int64, len(cands))
	for i, c := range cands {
		seqs[i] = c.seq
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT seq, received, actor, activity_id, head FROM entries
		WHERE seq IN (SELECT value FROM json_each(?))`, seqList(seqs))
	if err != nil {
		return out, translate(err, "read entries")
	}
	// Rows come in seq order, results go out in candidate order. Each entry's JSON is assembled
	// straight from SQLite's buffer into one arena for the whole batch, so a page costs a few
	// allocations rather than several per entry.
	type span struct {
		start, end int
		received   int64
		ok         bool
	}
	got := make(map[int64]span, len(cands))
	arena := make([]byte, 0, len(cands)*900)
	var head sql.RawBytes
	for rows.Next() {
		var seq, received, actorID, activity int64
		if err := rows.Scan(&seq, &received, &actorID, &activity, &head); err != nil {
			rows.Close()
			return out, translate(err, "read entries")
		}
		a, ok := s.dict.actor(actorID)
		if !ok {
			rows.Close()
			return out, vakt.Errorf(vakt.CodeInternal, "entry %d names unknown actor %d", seq, actorID)
		}
		sp := span{received: received, ok: p.matchRow(a.userID, a.unitID, a.providerID, activity)}
		if sp.ok || !p.rowFilter {
			sp.start = len(arena)
			if arena, err = accesslog.Assemble(arena, head, a.json, seq, time.UnixMicro(received)); err != nil {
				rows.Close()
				return out, fmt.Errorf("sqlite: entry %d: %w", seq, err)
			}
			sp.end = len(arena)
		}
		got[seq] = sp
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, translate(err, "read entries")
	}
	for _, c := range cands {
		sp, found := got[c.seq]
		if !found {
			return out, vakt.Errorf(vakt.CodeInternal, "index names entry %d, which is missing", c.seq)
		}
		if c.check && !sp.ok {
			continue
		}
		if want == 0 {
			break
		}
		out = append(out, accesslog.Stored{Seq: c.seq, ReceivedAt: time.UnixMicro(sp.received).UTC(), JSON: arena[sp.start:sp.end:sp.end]})
		want--
	}
	return out, nil
}

// Search implements accesslog.Store.
func (s *Store) Search(ctx context.Context, q accesslog.Query) (accesslog.Page, error) {
	limit := q.PageSize()
	out, err := s.scan(ctx, &q, limit+1, make([]accesslog.Stored, 0, min(limit+1, 128)))
	if err != nil {
		return accesslog.Page{}, err
	}
	page := accesslog.Page{Entries: out}
	if len(out) > limit {
		page.Entries = out[:limit]
		last := &out[limit-1]
		ts, err := startDateOf(last)
		if err != nil {
			return accesslog.Page{}, err
		}
		page.Next = accesslog.Cursor{StartDate: ts, Seq: last.Seq}
	}
	return page, nil
}

// exportPage is how many entries Export holds at a time.
const exportPage = 1000

// Export implements accesslog.Store. It reads page by page and calls fn outside the read lock,
// so a slow consumer holds neither memory nor merges back.
func (s *Store) Export(ctx context.Context, q accesslog.Query, fn func(*accesslog.Stored) error) error {
	buf := make([]accesslog.Stored, 0, exportPage)
	for {
		var err error
		buf, err = s.scan(ctx, &q, exportPage, buf[:0])
		if err != nil {
			return err
		}
		for i := range buf {
			if err := fn(&buf[i]); err != nil {
				return err
			}
		}
		if len(buf) < exportPage {
			return nil
		}
		last := &buf[len(buf)-1]
		ts, err := startDateOf(last)
		if err != nil {
			return err
		}
		q.After = accesslog.Cursor{StartDate: ts, Seq: last.Seq}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// Get implements accesslog.Store.
func (s *Store) Get(ctx context.Context, logID string) (accesslog.Stored, error) {
	s.readers.RLock()
	defer s.readers.RUnlock()
	found, err := s.lookupLogIDs(ctx, s.view.Load(), []string{logID}, []int64{runindex.HashLogID(logID)})
	if err != nil {
		return accesslog.Stored{}, err
	}
	if found[0] == nil {
		return accesslog.Stored{}, vakt.Errorf(vakt.CodeNotFound, "no entry with that logId")
	}
	return found[0].stored()
}

// seqOf returns the sequence number of the entry with logID.
func (s *Store) seqOf(ctx context.Context, logID string) (int64, error) {
	s.readers.RLock()
	defer s.readers.RUnlock()
	found, err := s.lookupLogIDs(ctx, s.view.Load(), []string{logID}, []int64{runindex.HashLogID(logID)})
	if err != nil {
		return 0, err
	}
	if found[0] == nil {
		return 0, vakt.Errorf(vakt.CodeNotFound, "no entry with that logId")
	}
	return found[0].seq, nil
}

// startDateOf reads activity.startDate (µs) of a stored entry from its row, for cursors.
func startDateOf(st *accesslog.Stored) (int64, error) {
	const key = `,"startDate":"`
	body := string(st.JSON)
	i := strings.Index(body, key)
	if i < 0 {
		return 0, vakt.Errorf(vakt.CodeInternal, "entry %d has no startDate", st.Seq)
	}
	j := strings.IndexByte(body[i+len(key):], '"')
	t, err := accesslog.ParseDateTime(body[i+len(key) : i+len(key)+j])
	if err != nil {
		return 0, vakt.Errorf(vakt.CodeInternal, "entry %d has an unreadable startDate", st.Seq)
	}
	return t.UnixMicro(), nil
}
