package sqlite

import (
	"container/heap"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/sqlite/internal/runindex"
)

// bounds are inclusive posting bounds of one key.
type bounds struct{ lo, hi runindex.Posting }

// runIter walks one run's postings of one key newest first, fetching blocks in small,
// growing batches so that a page that needs few entries reads few blocks, and so that no
// statement stays open between calls.
type runIter struct {
	s     *Store
	run   *run
	kind  int
	key   int64
	b     bounds
	upper runindex.Posting // next fetch takes blocks whose first posting is below this
	first bool             // the first fetch includes a block starting exactly at b.hi
	batch int
	done  bool
	ready []runindex.Posting // decoded postings in ascending order; consumed from the end
	queue []fetchedBlock
	dec   []runindex.Posting
}

type fetchedBlock struct {
	first runindex.Posting
	data  []byte
}

func newRunIter(s *Store, r *run, kind int, key int64, b bounds) *runIter {
	return &runIter{s: s, run: r, kind: kind, key: key, b: b, upper: b.hi, first: true, batch: 2}
}

func (it *runIter) next(ctx context.Context) (runindex.Posting, bool, error) {
	for len(it.ready) == 0 {
		if len(it.queue) == 0 {
			if it.done {
				return runindex.Posting{}, false, nil
			}
			if err := it.fetch(ctx); err != nil {
				return runindex.Posting{}, false, err
			}
			continue
		}
		blk := it.queue[0]
		it.queue = it.queue[1:]
		var err error
		it.dec, err = runindex.DecodeBlock(it.dec[:0], blk.data)
		if err != nil {
			return runindex.Posting{}, false, err
		}
		for _, p := range it.dec {
			if runindex.Compare(p, it.b.lo) >= 0 && runindex.Compare(p, it.b.hi) <= 0 {
				it.ready = append(it.ready, p)
			}
		}
		if runindex.Compare(blk.first, it.b.lo) <= 0 {
			// Every earlier block holds only postings below the lower bound.
			it.done = true
			it.queue = nil
		}
	}
	p := it.ready[len(it.ready)-1]
	it.ready = it.ready[:len(it.ready)-1]
	return p, true, nil
}

func (it *runIter) fetch(ctx context.Context) error {
	op := "<"
	if it.first {
		op = "<="
	}
	it.first = false
	rows, err := it.s.rdb.QueryContext(ctx, `SELECT k, t, s, data FROM blocks WHERE run = ? AND kind = ? AND (k, t, s) `+op+` (?, ?, ?)
		ORDER BY k DESC, t DESC, s DESC LIMIT ?`, it.run.id, it.kind, it.upper.Key, it.upper.TS, it.upper.Seq, it.batch)
	if err != nil {
		return translate(err, "read index")
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var b fetchedBlock
		if err := rows.Scan(&b.first.Key, &b.first.TS, &b.first.Seq, &b.data); err != nil {
			return translate(err, "read index")
		}
		it.queue = append(it.queue, b)
		it.upper = b.first
		n++
	}
	if err := rows.Err(); err != nil {
		return translate(err, "read index")
	}
	if n < it.batch {
		it.done = true // no more blocks below
	}
	it.batch = min(it.batch*2, 32)
	if n == 0 {
		it.done = true
	}
	return nil
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
		p.fromTS = ceilMicro(q.From)
	}
	if !q.To.IsZero() {
		p.toTS = ceilMicro(q.To) - 1
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

type runSource struct{ it *runIter }

func (r runSource) next(ctx context.Context) (candidate, bool, error) {
	p, ok, err := r.it.next(ctx)
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
	for _, r := range v.runs {
		if r.maxTS < p.fromTS || r.minTS > p.toTS {
			continue
		}
		if err := add(runSource{newRunIter(s, r, p.kind, p.key, b)}); err != nil {
			return out, err
		}
	}
	var tail []candidate
	for i := range v.tail {
		te := &v.tail[i]
		if p.matchTail(te) && q.After.Before(te.ts, te.seq) {
			tail = append(tail, candidate{ts: te.ts, seq: te.seq})
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
	type row struct {
		ok  bool
		row storedRow
	}
	got := make(map[int64]row, len(cands))
	for rows.Next() {
		var r storedRow
		var actorID, activity int64
		if err := rows.Scan(&r.seq, &r.received, &actorID, &activity, &r.head); err != nil {
			rows.Close()
			return out, translate(err, "read entries")
		}
		a, ok := s.dict.actor(actorID)
		if !ok {
			rows.Close()
			return out, vakt.Errorf(vakt.CodeInternal, "entry %d names unknown actor %d", r.seq, actorID)
		}
		r.actor = a.json
		got[r.seq] = row{ok: p.matchRow(a.userID, a.unitID, a.providerID, activity), row: r}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, translate(err, "read entries")
	}
	for _, c := range cands {
		r, found := got[c.seq]
		if !found {
			return out, vakt.Errorf(vakt.CodeInternal, "index names entry %d, which is missing", c.seq)
		}
		if c.check && !r.ok {
			continue
		}
		if want == 0 {
			break
		}
		st, err := r.row.stored()
		if err != nil {
			return out, err
		}
		out = append(out, st)
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
	found, err := s.lookupLogIDs(ctx, s.view.Load(), []string{logID}, []int64{runindex.HashLogID(logID)}, false)
	if err != nil {
		return accesslog.Stored{}, err
	}
	if found[0] == nil {
		return accesslog.Stored{}, vakt.Errorf(vakt.CodeNotFound, "no entry with that logId")
	}
	return found[0].stored()
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

// ceilMicro returns t in Unix microseconds, rounded up: startDates are stored with microsecond
// precision, so a bound between two microseconds excludes the lower one.
func ceilMicro(t time.Time) int64 {
	us := t.UnixMicro()
	if t.Sub(time.UnixMicro(us)) > 0 {
		us++
	}
	return us
}
