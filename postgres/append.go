package postgres

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/merkle"
)

type appendReq struct {
	ctx   context.Context
	batch []accesslog.Pending
	res   []accesslog.AppendResult
	err   error
	done  chan struct{}
}

// commitTimeout bounds one group's transaction, so that a database that stops answering turns
// into errors for the waiting callers instead of hanging them.
const commitTimeout = 30 * time.Second

// Append implements accesslog.Store. Batches from concurrent callers on this node are committed
// together by the writer goroutine (group commit), in one transaction and one WAL flush; each
// batch stays atomic because conflicts are decided before anything is written.
func (s *Store) Append(ctx context.Context, batch []accesslog.Pending) ([]accesslog.AppendResult, error) {
	if len(batch) == 0 {
		return nil, vakt.Invalid("batch holds no entries", vakt.Problem{Index: -1, Reason: "must hold at least one entry"})
	}
	req := &appendReq{ctx: ctx, batch: batch, done: make(chan struct{})}
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return nil, errStoreClosed
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
	group := make([]*appendReq, 0, 64)
	for first := range s.reqs {
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
	}
}

// newRow is an entry of a group that is not yet stored.
type newRow struct {
	p   *accesslog.Pending
	seq int64
	doc []byte
}

// errNeedPartition asks commitGroup to create the partition of a month and try again.
type errNeedPartition struct{ at time.Time }

func (e errNeedPartition) Error() string {
	return "postgres: no partition for " + e.at.Format("2006-01")
}

// commitGroup commits a group and answers every request in it.
func (s *Store) commitGroup(group []*appendReq) {
	defer func() {
		for _, r := range group {
			close(r.done)
		}
	}()
	start := time.Now()
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		err = s.tryCommit(group)
		var np errNeedPartition
		if !errors.As(err, &np) {
			break
		}
		ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
		err = s.ensurePartitions(ctx, np.at)
		cancel()
		if err != nil {
			break
		}
	}
	s.commits.Add(1)
	s.commitNanos.Add(int64(time.Since(start)))
	if err != nil {
		for _, r := range group {
			if r.err == nil {
				r.err, r.res = err, nil
			}
		}
		s.log.Error("append failed; nothing of the group was stored", "err", err)
	}
}

// tryCommit runs the group's transaction: it takes the head lock, decides every entry (new,
// duplicate or conflict), numbers the new ones, grows the tree and writes it all. Requests that
// fail on their own (a conflict, a context already ended) get their error and leave the rest of
// the group alone; an error returned fails the whole group and nothing of it is stored.
func (s *Store) tryCommit(group []*appendReq) error {
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return translate(err, "begin append")
	}
	defer tx.Rollback(ctx)

	var size int64
	var lastReceived time.Time
	var edge []byte
	if err := tx.QueryRow(ctx, s.sql.lockHead).Scan(&size, &lastReceived, &edge); err != nil {
		return translate(err, "lock the log head")
	}
	tree := s.tree
	if tree == nil || tree.tree.Size() != uint64(size) {
		// First commit of this node, or another node wrote since: continue from the database.
		if tree, err = s.loadTree(ctx, tx, uint64(size), edge); err != nil {
			return err
		}
	}
	// receivedAt never goes back, even when nodes' clocks disagree: partitions and readers
	// may rely on it following seq.
	received := s.opts.Now().UTC().Truncate(time.Microsecond)
	if received.Before(lastReceived) {
		received = lastReceived.UTC()
	}
	if !s.months[partitionName("entries", received)] {
		return errNeedPartition{received}
	}

	known, err := s.knownIDs(ctx, tx, group)
	if err != nil {
		return err
	}
	var rows []newRow
	inGroup := map[string]int{} // logId → index in rows
	seq := size + 1
	for _, r := range group {
		r.err, r.res = nil, nil
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		r.res = make([]accesslog.AppendResult, len(r.batch))
		mark, seqMark := len(rows), seq
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
			if k, ok := known[id]; ok {
				if bytes.Equal(k.content, p.Content) {
					r.res[i] = accesslog.AppendResult{Seq: k.seq, Duplicate: true}
					continue
				}
				r.err = accesslog.ConflictError(i, id)
				break
			}
			rows = append(rows, newRow{p: p, seq: seq})
			inGroup[id] = len(rows) - 1
			r.res[i] = accesslog.AppendResult{Seq: seq}
			seq++
		}
		if r.err != nil {
			for _, row := range rows[mark:] {
				delete(inGroup, row.p.Entry.LogID)
			}
			rows, seq, r.res = rows[:mark], seqMark, nil
		}
	}
	if len(rows) == 0 {
		return nil // only duplicates and refusals: nothing to write
	}

	work := tree.clone()
	dirty := map[tileKey][]byte{}
	for i := range rows {
		doc := rows[i].p.Seal(make([]byte, 0, len(rows[i].p.Content)+64), rows[i].seq, received)
		rows[i].doc = doc
		if err := work.appendLeaf(merkle.LeafHash(doc), dirty); err != nil {
			return err
		}
	}
	if err := s.writeRows(ctx, tx, rows, received); err != nil {
		return err
	}
	if err := s.writeTiles(ctx, tx, dirty); err != nil {
		return err
	}
	var edgeBytes []byte
	for _, h := range work.tree.Edge() {
		edgeBytes = append(edgeBytes, h[:]...)
	}
	if _, err := tx.Exec(ctx, s.sql.updateHead, seq-1, received, edgeBytes); err != nil {
		return translate(err, "update the log head")
	}
	if err := tx.Commit(ctx); err != nil {
		// Whether a failed commit took effect is unknown; the tree is reloaded from the head
		// row next time, and callers retry (ingest is idempotent).
		s.tree = nil
		return translate(err, "commit append")
	}
	s.tree = work
	return nil
}

type knownEntry struct {
	seq     int64
	content []byte
}

// knownIDs returns the stored entries among the group's logIds.
func (s *Store) knownIDs(ctx context.Context, tx pgx.Tx, group []*appendReq) (map[string]knownEntry, error) {
	var ids []string
	for _, r := range group {
		for i := range r.batch {
			ids = append(ids, r.batch[i].Entry.LogID)
		}
	}
	rows, err := tx.Query(ctx, s.sql.knownIDs, ids)
	if err != nil {
		return nil, translate(err, "look up logIds")
	}
	defer rows.Close()
	out := map[string]knownEntry{}
	for rows.Next() {
		var id string
		var k knownEntry
		var doc []byte
		if err := rows.Scan(&id, &k.seq, &doc); err != nil {
			return nil, translate(err, "look up logIds")
		}
		if k.content, err = accesslog.Content(doc); err != nil {
			return nil, err
		}
		out[id] = k
	}
	return out, translate(rows.Err(), "look up logIds")
}

// writeRows copies the new entries, their patients and their logIds into the tables with the
// COPY protocol.
func (s *Store) writeRows(ctx context.Context, tx pgx.Tx, rows []newRow, received time.Time) error {
	i := 0
	_, err := tx.CopyFrom(ctx, pgx.Identifier{s.name, "entries"},
		[]string{"seq", "received_at", "start_date", "user_id", "care_unit_id", "care_provider_id", "activity", "doc"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(rows) {
				return nil, nil
			}
			r := &rows[i]
			e := &r.p.Entry
			i++
			return []any{r.seq, received, e.Activity.StartDate.UnixMicro(), string(e.User.ID), string(e.User.CareUnit.ID),
				string(e.User.CareProvider.ID), strings.ToLower(string(e.Activity.Type)), r.doc}, nil
		}))
	if err != nil {
		return translate(err, "copy entries")
	}
	var patients [][]any
	for i := range rows {
		e := &rows[i].p.Entry
		for _, p := range e.Patients() {
			patients = append(patients, []any{patientKey(p), e.Activity.StartDate.UnixMicro(), rows[i].seq, received})
		}
	}
	if len(patients) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{s.name, "entry_patients"},
			[]string{"patient", "start_date", "seq", "received_at"}, pgx.CopyFromRows(patients)); err != nil {
			return translate(err, "copy patients")
		}
	}
	i = 0
	_, err = tx.CopyFrom(ctx, pgx.Identifier{s.name, "log_ids"}, []string{"log_id", "seq", "received_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(rows) {
				return nil, nil
			}
			r := &rows[i]
			i++
			return []any{r.p.Entry.LogID, r.seq, received}, nil
		}))
	return translate(err, "copy logIds")
}

// writeTiles stores the tiles the group changed, in one statement.
func (s *Store) writeTiles(ctx context.Context, tx pgx.Tx, dirty map[tileKey][]byte) error {
	levels := make([]int16, 0, len(dirty))
	idxs := make([]int64, 0, len(dirty))
	hashes := make([][]byte, 0, len(dirty))
	for k, b := range dirty {
		levels, idxs, hashes = append(levels, k.level), append(idxs, k.idx), append(hashes, b)
	}
	_, err := tx.Exec(ctx, s.sql.upsertTiles, levels, idxs, hashes)
	return translate(err, "store tree tiles")
}
