package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/transparency-dev/merkle/compact"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/merkle"
)

// The Merkle tree is stored in strips: the hashes of 256 consecutive nodes of one level in one
// row (see migrations/tenant/0002_merkle.sql). Appends only ever extend the last strip of each
// level, and a proof reads O(log n) strips.
//
// Only level 0 (the leaf hashes) is written with every commit. A strip of a higher level is
// written once, when it is full; until then it lives in memory, in the committed tree state
// that readers get with every commit, and at open it is recomputed from the level below. That
// keeps the tree's share of each commit to the leaf hashes and the nodes that are final, instead
// of rewriting a partial strip of every level every time.
const (
	stripNodes = 256
	stripBytes = stripNodes * merkle.HashSize
)

func stripID(level uint, strip uint64) int64 { return int64(level)<<40 | int64(strip) }

// treeState is the writer's Merkle tree: its right edge and the last, incomplete strip of every
// level. A group works on a copy and the copy replaces the state only after the group's commit,
// so a failed commit leaves the tree as it was.
type treeState struct {
	tree    *merkle.Tree
	partial map[uint][]byte // level → hashes of the last strip's nodes so far
}

func (t *treeState) clone() (*treeState, error) {
	c := &treeState{tree: t.tree.Clone(), partial: make(map[uint][]byte, len(t.partial))}
	for l, b := range t.partial {
		c.partial[l] = b // copied on first write (appendLeaf)
	}
	return c, nil
}

// appendLeaf adds a leaf and records every strip it changes in dirty (strip id → contents).
func (t *treeState) appendLeaf(leaf merkle.Hash, dirty map[int64][]byte) error {
	var err error
	visit := func(level uint, index uint64, h merkle.Hash) {
		strip, pos := index/stripNodes, int(index%stripNodes)
		buf := t.partial[level]
		id := stripID(level, strip)
		if pos == 0 {
			buf = make([]byte, 0, stripBytes)
		} else if _, mine := dirty[id]; !mine {
			// The first change to this strip in the group: copy, since the committed state
			// still refers to the old contents.
			buf = append(make([]byte, 0, stripBytes), buf...)
		}
		if len(buf) != pos*merkle.HashSize {
			err = fmt.Errorf("sqlite: tree node %d/%d does not follow its strip (have %d)", level, index, len(buf)/merkle.HashSize)
			return
		}
		buf = append(buf, h[:]...)
		t.partial[level] = buf
		dirty[id] = buf
	}
	if e := t.tree.Append(leaf, visit); e != nil {
		return e
	}
	return err
}

// readNodes reads node hashes: from the committed tree state in memory where a node sits in the
// partial strip of its level, from the stored strips otherwise (one statement for all of them).
func (s *Store) readNodes(ctx context.Context, ids []compact.NodeID) ([]merkle.Hash, error) {
	return s.readNodesWith(ctx, s.rdb, ids)
}

// nodeIn returns a node from the partial strips of a tree of size leaves, if it is there.
func nodeIn(partial map[uint][]byte, size uint64, id compact.NodeID) (merkle.Hash, bool) {
	var h merkle.Hash
	n := size >> id.Level // complete nodes of the level
	if id.Index >= n || id.Index/stripNodes != n/stripNodes {
		return h, false // not in the level's last strip
	}
	buf := partial[id.Level]
	off := int(id.Index%stripNodes) * merkle.HashSize
	if len(buf) < off+merkle.HashSize {
		return h, false
	}
	copy(h[:], buf[off:])
	return h, true
}

// readStrips reads the strips want into strips, and keeps the cacheable ones in cache.
func readStrips(ctx context.Context, db queryer, cache *stripCache, want []int64, strips map[int64][]byte) error {
	rows, err := db.QueryContext(ctx, `SELECT id, hashes FROM tree WHERE id IN (SELECT value FROM json_each(?))`, seqList(want))
	if err != nil {
		return translate(err, "read tree")
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var b []byte
		if err := rows.Scan(&id, &b); err != nil {
			return translate(err, "read tree")
		}
		strips[id] = b
		cache.put(id, b)
	}
	if err := rows.Err(); err != nil {
		return translate(err, "read tree")
	}
	return nil
}

// stripCache keeps full strips of the upper tree levels that proofs have read. Every proof
// passes through one strip of every level, and a strip is written only once it is full and
// never changes after, so the cache needs no invalidation. Levels below cacheFromLevel are left
// out: there are too many of their strips for any of them to be read again soon. With 256-node
// strips, the strips from level 8 up number about n/2¹⁵ for n entries: 306 at 10 million, all
// in the cache, which leaves a proof 8 strip reads instead of 23.
type stripCache struct {
	mu     sync.Mutex
	strips map[int64][]byte
}

const (
	cacheFromLevel = 8
	cacheStrips    = 1024 // 8 MiB per tenant at most
)

func newStripCache() *stripCache { return &stripCache{strips: make(map[int64][]byte)} }

func (c *stripCache) get(id int64) []byte {
	if c == nil || id>>40 < cacheFromLevel {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.strips[id]
}

func (c *stripCache) put(id int64, b []byte) {
	if c == nil || id>>40 < cacheFromLevel || len(b) != stripBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.strips) >= cacheStrips {
		for victim := range c.strips { // an arbitrary one: map order is randomised
			delete(c.strips, victim)
			break
		}
	}
	c.strips[id] = b
}

// queryer is a pool or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// readNodesWith is readNodes on a given pool or transaction (the writer's at open, before
// readers exist).
func (s *Store) readNodesWith(ctx context.Context, db queryer, ids []compact.NodeID) ([]merkle.Hash, error) {
	snap := s.committed.Load()
	if snap == nil {
		return readNodes(ctx, db, s.strips, ids)
	}
	return readRestoring(ctx, db, s.strips, snap.tree.Size(), snap.partial, ids)
}

// readNodes reads node hashes from the stored strips, one statement for all of them, taking
// full strips of the upper levels from cache when it is given.
func readNodes(ctx context.Context, db queryer, cache *stripCache, ids []compact.NodeID) ([]merkle.Hash, error) {
	strips := make(map[int64][]byte, len(ids))
	want := make([]int64, 0, len(ids))
	for _, id := range ids {
		sid := stripID(id.Level, id.Index/stripNodes)
		if _, seen := strips[sid]; seen {
			continue
		}
		if b := cache.get(sid); b != nil {
			strips[sid] = b
			continue
		}
		strips[sid] = nil
		want = append(want, sid)
	}
	if len(want) > 0 {
		if err := readStrips(ctx, db, cache, want, strips); err != nil {
			return nil, err
		}
	}
	out := make([]merkle.Hash, len(ids))
	for i, id := range ids {
		b := strips[stripID(id.Level, id.Index/stripNodes)]
		off := int(id.Index%stripNodes) * merkle.HashSize
		if len(b) < off+merkle.HashSize {
			return nil, fmt.Errorf("sqlite: tree node %d/%d is missing; the tree is damaged", id.Level, id.Index)
		}
		copy(out[i][:], b[off:])
	}
	return out, nil
}

// The tree lags the entries by one transaction. A group's leaf hashes are computed in the
// background once its entries are committed, and join the tree in the next group's transaction,
// or in a transaction of their own if no group follows within treeFlushDelay. So hashing never
// holds up a commit, yet the tree is stored with the entries' next commit. Nothing is lost in a
// crash: the leaves are a function of the stored entries, which the tree catches up with at open
// (loadTree). Checkpoints sign only the tree as stored (publishHead), never leaves in flight.
const treeFlushDelay = 20 * time.Millisecond

// errLeafJob marks a failure to hash a committed group's leaves.
var errLeafJob = errors.New("sqlite: hashing the leaves of committed entries failed")

// leafJob hashes the leaves of a committed group.
type leafJob struct {
	done   chan struct{}
	leaves []merkle.Hash
	err    error
}

func startLeafJob(rows []newRow, received time.Time) *leafJob {
	j := &leafJob{done: make(chan struct{}), leaves: make([]merkle.Hash, len(rows))}
	go func() {
		defer close(j.done)
		rec := accesslog.AppendReceivedAt(nil, received)
		var buf []byte
		for i := range rows {
			var err error
			if j.leaves[i], buf, err = leafHash(buf, rows[i].p.Head(), rows[i].p.Actor(), rows[i].seq, rec); err != nil {
				j.err = fmt.Errorf("%w: entry %d: %v", errLeafJob, rows[i].seq, err)
				return
			}
		}
	}()
	return j
}

// treeWaiting reports whether stored entries wait to join the tree.
func (s *Store) treeWaiting() bool { return len(s.pendingLeaves) > 0 || s.treeBehind }

// growTree returns a copy of the tree with the pending leaves appended, and the strips to
// write.
func (s *Store) growTree() (*treeState, map[int64][]byte, error) {
	next, err := s.tree.clone()
	if err != nil {
		return nil, nil, err
	}
	dirty := map[int64][]byte{}
	for _, j := range s.pendingLeaves {
		<-j.done
		if j.err != nil {
			return nil, nil, j.err
		}
		for _, leaf := range j.leaves {
			if err := next.appendLeaf(leaf, dirty); err != nil {
				return nil, nil, err
			}
		}
	}
	return next, toWrite(dirty), nil
}

// flushTree stores the pending leaves in a transaction of their own.
func (s *Store) flushTree() {
	if s.opts.NoMerkle {
		return
	}
	if s.treeBehind {
		// Rebuild from the stored entries, as at open.
		if err := s.catchUpTree(context.Background(), int64(s.tree.tree.Size())+1, s.nextSeq-1); err != nil {
			s.log.Error("the Merkle tree cannot catch up with the stored entries; checkpoints stay where they are", "err", err)
			return
		}
		s.treeBehind = false
		return
	}
	if len(s.pendingLeaves) == 0 {
		return
	}
	next, dirty, err := s.growTree()
	if err != nil {
		s.treeFallsBehind(err)
		return
	}
	ctx := context.Background()
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err == nil {
		if err = writeStrips(ctx, tx, dirty); err == nil {
			err = tx.Commit()
		}
		tx.Rollback()
	}
	if err != nil {
		// The leaves stay pending for the next group or flush.
		s.log.Error("storing the Merkle tree failed; retrying with the next commit", "err", translate(err, "write tree"))
		return
	}
	s.tree, s.pendingLeaves = next, s.pendingLeaves[:0]
	s.afterSync(&syncTicket{dirty: true, publish: s.treePublisher()})
}

// treeFallsBehind drops the leaves in flight after a failure to compute them; the tree then
// catches up from the stored entries (flushTree), and no new leaves are computed until it has.
func (s *Store) treeFallsBehind(err error) {
	s.log.Error("the Merkle tree fell behind the entries; rebuilding it from them", "err", err)
	s.pendingLeaves = nil
	s.treeBehind = true
}

// leafHash computes an entry's leaf hash from its stored parts: SHA-256 of 0x00 and the JSON
// search serves. buf is scratch space the caller reuses; received is receivedAt already
// formatted (accesslog.AppendReceivedAt), the same for a whole group.
func leafHash(buf []byte, head, actor []byte, seq int64, received []byte) (merkle.Hash, []byte, error) {
	buf = append(buf[:0], 0) // the RFC 6962 leaf prefix
	buf, err := accesslog.AssembleText(buf, head, actor, seq, received)
	if err != nil {
		return merkle.Hash{}, buf, err
	}
	return sha256.Sum256(buf), buf, nil
}

// loadTree restores the tree from the stored strips at open and brings it up to the last entry
// if it lags (a file written before the tree existed).
func (s *Store) loadTree(ctx context.Context, entries int64) error {
	size, err := storedTreeSize(ctx, s.wdb)
	if err != nil {
		return err
	}
	if int64(size) > entries {
		return fmt.Errorf("sqlite: the Merkle tree has %d leaves but the log %d entries; the file is damaged", size, entries)
	}
	st := &treeState{partial: map[uint][]byte{}}
	// Level 0's last strip is stored as it is.
	if n := size; n%stripNodes != 0 {
		var b []byte
		if err := s.wdb.QueryRowContext(ctx, `SELECT hashes FROM tree WHERE id = ?`, stripID(0, n/stripNodes)).Scan(&b); err != nil {
			return fmt.Errorf("sqlite: the last strip of leaf hashes: %w", translate(err, "read tree"))
		}
		if uint64(len(b)) != (n%stripNodes)*merkle.HashSize {
			return fmt.Errorf("sqlite: the last strip of leaf hashes has %d bytes, want %d; the tree is damaged", len(b), (n%stripNodes)*merkle.HashSize)
		}
		st.partial[0] = b
	}
	// Higher levels' last strips are only stored once full: recompute the partial ones from the
	// level below, bottom up.
	for level := uint(1); size>>level > 0; level++ {
		n := size >> level
		if n%stripNodes == 0 {
			continue
		}
		first := n / stripNodes * stripNodes
		children := make([]compact.NodeID, 0, 2*(n-first))
		for i := first; i < n; i++ {
			children = append(children, compact.NewNodeID(level-1, 2*i), compact.NewNodeID(level-1, 2*i+1))
		}
		hs, err := readRestoring(ctx, s.wdb, nil, size, st.partial, children)
		if err != nil {
			return err
		}
		buf := make([]byte, 0, stripBytes)
		for j := 0; j < len(hs); j += 2 {
			h := merkle.HashChildren(hs[j], hs[j+1])
			buf = append(buf, h[:]...)
		}
		st.partial[level] = buf
	}
	edge, err := readRestoring(ctx, s.wdb, nil, size, st.partial, merkle.EdgeNodes(size))
	if err != nil {
		return err
	}
	if st.tree, err = merkle.RestoreTree(size, edge); err != nil {
		return err
	}
	s.tree = st
	if int64(size) < entries {
		s.log.Info("building the Merkle tree of entries stored without it", "from", size+1, "to", entries)
		if err := s.catchUpTree(ctx, int64(size)+1, entries); err != nil {
			return err
		}
	}
	s.publishHead()
	return nil
}

// storedTreeSize returns the number of leaves stored: the level-0 strips are written first and
// in full, so the last one tells.
func storedTreeSize(ctx context.Context, db queryer) (uint64, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, length(hashes) FROM tree WHERE id < ? ORDER BY id DESC LIMIT 1`, int64(1)<<40)
	if err != nil {
		return 0, translate(err, "read tree size")
	}
	defer rows.Close()
	var size uint64
	if rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			return 0, translate(err, "read tree size")
		}
		size = uint64(id)*stripNodes + uint64(n/merkle.HashSize)
	}
	return size, translate(rows.Err(), "read tree size")
}

// catchUpTree adds the entries [from, to] to the tree, in transactions of a few thousand.
func (s *Store) catchUpTree(ctx context.Context, from, to int64) error {
	var buf []byte
	for from <= to {
		hi := min(from+4095, to)
		rows, err := s.wdb.QueryContext(ctx, `SELECT e.seq, e.received, a.json, e.head FROM entries e JOIN actors a ON a.id = e.actor WHERE e.seq BETWEEN ? AND ? ORDER BY e.seq`, from, hi)
		if err != nil {
			return translate(err, "read entries")
		}
		next, err := s.tree.clone()
		if err != nil {
			rows.Close()
			return err
		}
		dirty := map[int64][]byte{}
		want := from
		for rows.Next() {
			var seq, received int64
			var actor, head []byte
			if err := rows.Scan(&seq, &received, &actor, &head); err != nil {
				rows.Close()
				return translate(err, "read entries")
			}
			if seq != want {
				rows.Close()
				return fmt.Errorf("sqlite: sequence number %d missing from the log", want)
			}
			want++
			var leaf merkle.Hash
			if leaf, buf, err = leafHash(buf, head, actor, seq, accesslog.AppendReceivedAt(nil, time.UnixMicro(received))); err != nil {
				rows.Close()
				return err
			}
			if err := next.appendLeaf(leaf, dirty); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return translate(err, "read entries")
		}
		tx, err := s.wdb.BeginTx(ctx, nil)
		if err != nil {
			return translate(err, "begin")
		}
		if err := writeStrips(ctx, tx, toWrite(dirty)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return translate(err, "commit tree")
		}
		s.tree = next
		s.afterSync(&syncTicket{dirty: true, publish: s.treePublisher()})
		from = hi + 1
	}
	return nil
}

// readRestoring reads nodes of a tree of size leaves from its partial strips, or from the stored
// ones: what restoring the tree at open needs before the tree itself exists.
func readRestoring(ctx context.Context, db queryer, cache *stripCache, size uint64, partial map[uint][]byte, ids []compact.NodeID) ([]merkle.Hash, error) {
	out := make([]merkle.Hash, len(ids))
	var rest []compact.NodeID
	var restAt []int
	for i, id := range ids {
		if h, ok := nodeIn(partial, size, id); ok {
			out[i] = h
			continue
		}
		rest = append(rest, id)
		restAt = append(restAt, i)
	}
	if len(rest) == 0 {
		return out, nil
	}
	hs, err := readNodes(ctx, db, cache, rest)
	if err != nil {
		return nil, err
	}
	for j, i := range restAt {
		out[i] = hs[j]
	}
	return out, nil
}

// toWrite keeps, of the strips a group changed, those that must be stored now: every strip of
// leaf hashes, and strips of higher levels that are full.
func toWrite(dirty map[int64][]byte) map[int64][]byte {
	for id, b := range dirty {
		if id>>40 != 0 && len(b) < stripBytes {
			delete(dirty, id)
		}
	}
	return dirty
}

func writeStrips(ctx context.Context, tx *sql.Tx, dirty map[int64][]byte) error {
	for id, b := range dirty {
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO tree(id, hashes) VALUES (?, ?)`, id, b); err != nil {
			return translate(err, "write tree")
		}
	}
	return nil
}

// treeHead is the committed tree: what the next checkpoint will sign.
type treeHead struct {
	size uint64
	root merkle.Hash
}

// publishHead makes the writer's tree the committed one: for the checkpointer (size and root)
// and for readers (the partial strips proofs may need). The published state is never changed
// again; the writer's next group works on a copy. Only for a tree that is durable: at open,
// after the WAL was flushed.
func (s *Store) publishHead() { publishTree(s, s.tree) }

// treePublisher returns what publishes the writer's tree as it is now, to be run once the
// transaction that stored it is durable (a syncTicket's publish).
func (s *Store) treePublisher() func() {
	t := s.tree
	size, root := t.tree.Size(), t.tree.Root()
	return func() {
		s.head.Store(&treeHead{size: size, root: root})
		s.committed.Store(t)
	}
}

func publishTree(s *Store, t *treeState) {
	s.head.Store(&treeHead{size: t.tree.Size(), root: t.tree.Root()})
	s.committed.Store(t)
}

// checkpointLoop signs a checkpoint whenever the tree has grown, at most once per interval.
func (s *Store) checkpointLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.CheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
			if _, err := s.signCheckpoint(context.Background()); err != nil {
				s.log.Error("signing a checkpoint failed", "err", err)
			}
		}
	}
}

// historyEvery is how far apart the kept history of checkpoints is.
const historyEvery = time.Hour

// SignCheckpoint implements accesslog.Store: the checkpoint covers every entry acknowledged
// before the call, so the writer first stores the leaves still in flight.
func (s *Store) SignCheckpoint(ctx context.Context) (accesslog.SignedCheckpoint, error) {
	if s.opts.NoMerkle {
		return accesslog.SignedCheckpoint{}, errNoMerkle
	}
	done := make(chan struct{})
	select {
	case s.flushReqs <- done:
		select {
		case <-done:
		case <-ctx.Done():
			return accesslog.SignedCheckpoint{}, ctx.Err()
		}
	case <-s.writerDone: // it flushed as it stopped
	case <-ctx.Done():
		return accesslog.SignedCheckpoint{}, ctx.Err()
	}
	return s.signCheckpoint(ctx)
}

// signCheckpoint signs the tree as stored, if it has grown since the last checkpoint.
func (s *Store) signCheckpoint(ctx context.Context) (accesslog.SignedCheckpoint, error) {
	s.cpMu.Lock()
	defer s.cpMu.Unlock()
	h := s.head.Load()
	latest := s.latest.Load()
	if latest != nil && latest.Size == h.size {
		return *latest, nil
	}
	note, err := merkle.Sign(merkle.Checkpoint{Origin: s.opts.Origin, Size: h.size, Root: h.root}, s.opts.Keys.Signer)
	if err != nil {
		return accesslog.SignedCheckpoint{}, err
	}
	now := time.Now()
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return accesslog.SignedCheckpoint{}, translate(err, "begin")
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO checkpoint_latest(id, size, note, created) VALUES (1, ?, ?, ?)`, h.size, note, now.UnixMicro()); err != nil {
		return accesslog.SignedCheckpoint{}, translate(err, "store checkpoint")
	}
	var lastHistory sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT max(created) FROM checkpoints`).Scan(&lastHistory); err != nil {
		return accesslog.SignedCheckpoint{}, translate(err, "read checkpoints")
	}
	if !lastHistory.Valid || now.Sub(time.UnixMicro(lastHistory.Int64)) >= historyEvery {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO checkpoints(size, note, created) VALUES (?, ?, ?)`, h.size, note, now.UnixMicro()); err != nil {
			return accesslog.SignedCheckpoint{}, translate(err, "store checkpoint")
		}
	}
	if err := tx.Commit(); err != nil {
		return accesslog.SignedCheckpoint{}, translate(err, "commit checkpoint")
	}
	// The writing connection does not flush its commits (see durable.go); a checkpoint that was
	// served must survive a crash, so it is flushed before anyone sees it.
	if err := s.flushWAL(); err != nil {
		return accesslog.SignedCheckpoint{}, err
	}
	cp := accesslog.SignedCheckpoint{Size: h.size, Note: note}
	s.latest.Store(&cp)
	return cp, nil
}

var errNoMerkle = &vakt.Error{Code: vakt.CodeUnavailable, Message: "tamper evidence is turned off on this instance"}

// loadCheckpoint reads the latest checkpoint at open and checks that the stored tree still
// extends it; a mismatch means the tree or the entries were changed behind vakt's back.
func (s *Store) loadCheckpoint(ctx context.Context) error {
	var cp accesslog.SignedCheckpoint
	err := s.wdb.QueryRowContext(ctx, `SELECT size, note FROM checkpoint_latest WHERE id = 1`).Scan(&cp.Size, &cp.Note)
	if err == sql.ErrNoRows {
		return nil
	}
	if err != nil {
		return translate(err, "read checkpoint")
	}
	c, err := merkle.Open(cp.Note, s.opts.Keys.VerifierKey)
	if err != nil {
		// Most likely the instance secret or name is not the one the log was signed with (a
		// secret lost or not passed on): signing on with another key would make every
		// customer's verifier fail, so the operator must decide.
		return fmt.Errorf("sqlite: the log's latest checkpoint does not verify with the key %s (%v): start with the instance name and signing secret the log was signed with", s.opts.Keys.VerifierKey, err)
	}
	s.latest.Store(&cp)
	h := s.head.Load()
	if c.Size > h.size {
		s.log.Error("TAMPERING: the latest checkpoint covers more entries than the log holds", "checkpoint", c.Size, "entries", h.size)
		return nil
	}
	if c.Size > 0 && c.Size < h.size {
		p, err := merkle.ConsistencyProof(c.Size, h.size, func(ids []compact.NodeID) ([]merkle.Hash, error) { return s.readNodesWith(ctx, s.wdb, ids) })
		if err == nil {
			err = merkle.VerifyConsistency(c.Size, h.size, p, c.Root, h.root)
		}
		if err != nil {
			s.log.Error("TAMPERING: the stored tree does not extend the latest signed checkpoint", "checkpoint", c.Size, "err", err)
		}
	} else if c.Size == h.size && c.Root != h.root {
		s.log.Error("TAMPERING: the stored tree's root differs from the latest signed checkpoint", "size", c.Size)
	}
	return nil
}

// Checkpoint implements accesslog.Store.
func (s *Store) Checkpoint(ctx context.Context) (accesslog.SignedCheckpoint, error) {
	if s.opts.NoMerkle {
		return accesslog.SignedCheckpoint{}, errNoMerkle
	}
	if cp := s.latest.Load(); cp != nil {
		return *cp, nil
	}
	return s.SignCheckpoint(ctx)
}

// Checkpoints implements accesslog.Store.
func (s *Store) Checkpoints(ctx context.Context) ([]accesslog.SignedCheckpoint, error) {
	if s.opts.NoMerkle {
		return nil, errNoMerkle
	}
	latest, err := s.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT size, note FROM checkpoints WHERE size < ? ORDER BY size`, latest.Size)
	if err != nil {
		return nil, translate(err, "read checkpoints")
	}
	defer rows.Close()
	var out []accesslog.SignedCheckpoint
	for rows.Next() {
		var cp accesslog.SignedCheckpoint
		if err := rows.Scan(&cp.Size, &cp.Note); err != nil {
			return nil, translate(err, "read checkpoints")
		}
		out = append(out, cp)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err, "read checkpoints")
	}
	return append(out, latest), nil
}

// VerifierKey implements accesslog.Store.
func (s *Store) VerifierKey() string {
	if s.opts.NoMerkle {
		return ""
	}
	return s.opts.Keys.VerifierKey
}

// Prove implements accesslog.Store.
func (s *Store) Prove(ctx context.Context, logID string) (accesslog.InclusionProof, error) {
	if s.opts.NoMerkle {
		return accesslog.InclusionProof{}, errNoMerkle
	}
	seq, err := s.seqOf(ctx, logID)
	if err != nil {
		return accesslog.InclusionProof{}, err
	}
	cp, err := s.Checkpoint(ctx)
	if err != nil {
		return accesslog.InclusionProof{}, err
	}
	return accesslog.ProveAt(seq, cp, func(ids []compact.NodeID) ([]merkle.Hash, error) { return s.readNodes(ctx, ids) })
}

// Consistency implements accesslog.Store.
func (s *Store) Consistency(ctx context.Context, from, to uint64) ([]merkle.Hash, error) {
	if s.opts.NoMerkle {
		return nil, errNoMerkle
	}
	cp, err := s.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	return accesslog.ConsistencyAt(from, to, cp, func(ids []compact.NodeID) ([]merkle.Hash, error) { return s.readNodes(ctx, ids) })
}

// Scan implements accesslog.Store.
func (s *Store) Scan(ctx context.Context, from int64, fn func(*accesslog.Stored, merkle.Hash) error) error {
	end := int64(s.head.Load().size)
	if s.opts.NoMerkle {
		end = s.view.Load().end()
	}
	return scanEntries(ctx, s.rdb, from, end, !s.opts.NoMerkle, fn)
}

// scanEntries calls fn for the entries [from, to] in sequence order, a page at a time, with
// their leaf hashes from the tree when withLeaves is set. Actors are joined in SQL, so it needs
// no open Store (export reads a file that a server may be writing).
func scanEntries(ctx context.Context, db queryer, from, to int64, withLeaves bool, fn func(*accesslog.Stored, merkle.Hash) error) error {
	from = max(from, 1)
	for from <= to {
		hi := min(from+999, to)
		rows, err := db.QueryContext(ctx, `SELECT e.seq, e.received, a.json, e.head FROM entries e JOIN actors a ON a.id = e.actor
			WHERE e.seq BETWEEN ? AND ? ORDER BY e.seq`, from, hi)
		if err != nil {
			return translate(err, "read entries")
		}
		var page []storedRow
		for rows.Next() {
			var r storedRow
			if err := rows.Scan(&r.seq, &r.received, &r.actor, &r.head); err != nil {
				rows.Close()
				return translate(err, "read entries")
			}
			page = append(page, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return translate(err, "read entries")
		}
		var leaves []merkle.Hash
		if withLeaves && len(page) > 0 {
			ids := make([]compact.NodeID, len(page))
			for i, r := range page {
				ids[i] = compact.NewNodeID(0, uint64(r.seq-1))
			}
			if leaves, err = readNodes(ctx, db, nil, ids); err != nil {
				return err
			}
		}
		for i := range page {
			st, err := page[i].stored()
			if err != nil {
				return err
			}
			var leaf merkle.Hash
			if leaves != nil {
				leaf = leaves[i]
			}
			if err := fn(&st, leaf); err != nil {
				return err
			}
		}
		from = hi + 1
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}
