package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/transparency-dev/merkle/compact"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/merkle"
)

// The Merkle tree is stored in tiles (see migrations/tenant/00001_init.sql): 256 hashes of one
// tree level per row, for the levels 0, 8, 16, … only. Everything the tree needs lives in the
// database, partial tiles included, so that any node can prove any entry and a writer on
// another node can continue the tree where this one left it.
const (
	tileHeight = 8
	tileWidth  = 1 << tileHeight
	tileBytes  = tileWidth * merkle.HashSize
)

// treeState is a writer's view of the tree: its right edge and, for each tile level, the last
// tile's hashes so far. A group works on a copy; the copy replaces the state only after the
// group has committed.
type treeState struct {
	tree    *merkle.Tree
	partial []tilePart // by tile level
}

type tilePart struct {
	idx    uint64
	hashes []byte
}

func (t *treeState) clone() *treeState {
	return &treeState{tree: t.tree.Clone(), partial: append([]tilePart(nil), t.partial...)}
}

// tileKey names a tile.
type tileKey struct {
	level int16
	idx   int64
}

// appendLeaf adds a leaf and records in dirty the contents of every tile it changes.
func (t *treeState) appendLeaf(leaf merkle.Hash, dirty map[tileKey][]byte) error {
	var err error
	visit := func(level uint, index uint64, h merkle.Hash) {
		if level%tileHeight != 0 {
			return
		}
		tl := int(level / tileHeight)
		for len(t.partial) <= tl {
			t.partial = append(t.partial, tilePart{})
		}
		p := t.partial[tl]
		idx, pos := index/tileWidth, int(index%tileWidth)
		key := tileKey{int16(tl), int64(idx)}
		switch {
		case pos == 0:
			p = tilePart{idx: idx, hashes: make([]byte, 0, tileBytes)}
		case dirty[key] == nil:
			// The first change to this tile in the group: copy, since the committed state
			// still holds the old contents.
			p.hashes = append(make([]byte, 0, tileBytes), p.hashes...)
		}
		if p.idx != idx || len(p.hashes) != pos*merkle.HashSize {
			err = fmt.Errorf("postgres: tree node %d/%d does not follow its tile (have %d of tile %d)", level, index, len(p.hashes)/merkle.HashSize, p.idx)
			return
		}
		p.hashes = append(p.hashes, h[:]...)
		t.partial[tl] = p
		dirty[key] = p.hashes
	}
	if e := t.tree.Append(leaf, visit); e != nil {
		return e
	}
	return err
}

// loadTree reads the tree of size leaves from its edge and last tiles, as a writer that holds
// the head lock does when another node has grown the tree.
func (s *Store) loadTree(ctx context.Context, q querier, size uint64, edge []byte) (*treeState, error) {
	if len(edge)%merkle.HashSize != 0 {
		return nil, fmt.Errorf("postgres: the stored tree edge has %d bytes", len(edge))
	}
	hs := make([]merkle.Hash, len(edge)/merkle.HashSize)
	for i := range hs {
		copy(hs[i][:], edge[i*merkle.HashSize:])
	}
	tree, err := merkle.RestoreTree(size, hs)
	if err != nil {
		return nil, err
	}
	st := &treeState{tree: tree}
	var keys []tileKey
	for tl := 0; ; tl++ {
		n := size >> (tl * tileHeight) // nodes of level 8·tl
		if n == 0 {
			break
		}
		st.partial = append(st.partial, tilePart{idx: n / tileWidth})
		if n%tileWidth != 0 {
			keys = append(keys, tileKey{int16(tl), int64(n / tileWidth)})
		}
	}
	tiles, err := readTiles(ctx, q, s.sql.readTiles, keys)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		b := tiles[k]
		want := int(size>>(int(k.level)*tileHeight)%tileWidth) * merkle.HashSize
		if len(b) < want {
			return nil, fmt.Errorf("postgres: tile %d/%d holds %d bytes, the tree needs %d", k.level, k.idx, len(b), want)
		}
		st.partial[k.level].hashes = append(make([]byte, 0, tileBytes), b[:want]...)
	}
	return st, nil
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func readTiles(ctx context.Context, q querier, stmt string, keys []tileKey) (map[tileKey][]byte, error) {
	out := make(map[tileKey][]byte, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	levels := make([]int16, len(keys))
	idxs := make([]int64, len(keys))
	for i, k := range keys {
		levels[i], idxs[i] = k.level, k.idx
	}
	rows, err := q.Query(ctx, stmt, levels, idxs)
	if err != nil {
		return nil, translate(err, "read tree tiles")
	}
	defer rows.Close()
	for rows.Next() {
		var k tileKey
		var b []byte
		if err := rows.Scan(&k.level, &k.idx, &b); err != nil {
			return nil, translate(err, "read tree tiles")
		}
		out[k] = b
	}
	return out, translate(rows.Err(), "read tree tiles")
}

// tileCache keeps full tiles of the upper levels, which never change once full, so that a
// proof reads from the database little more than the tiles of level 0 it needs.
type tileCache struct {
	mu sync.Mutex
	m  map[tileKey][]byte
}

const tileCacheMax = 4096 // about 32 MiB

func newTileCache() *tileCache { return &tileCache{m: map[tileKey][]byte{}} }

func (c *tileCache) get(k tileKey) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[k]
}

func (c *tileCache) put(k tileKey, b []byte) {
	if k.level == 0 || len(b) != tileBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= tileCacheMax {
		for old := range c.m { // drop an arbitrary one: the cache only saves reads
			delete(c.m, old)
			break
		}
	}
	c.m[k] = b
}

// readNodes returns the hashes of complete nodes: a node of level 8·t + r is hashed from the
// 2^r nodes of level 8·t below it, which one tile holds.
func (s *Store) readNodes(ctx context.Context, q querier, ids []compact.NodeID) ([]merkle.Hash, error) {
	need := map[tileKey][]byte{}
	var missing []tileKey
	for _, id := range ids {
		k := tileOf(id)
		if _, ok := need[k]; ok {
			continue
		}
		b := s.tiles.get(k)
		need[k] = b
		if b == nil {
			missing = append(missing, k)
		}
	}
	got, err := readTiles(ctx, q, s.sql.readTiles, missing)
	if err != nil {
		return nil, err
	}
	for k, b := range got {
		need[k] = b
		s.tiles.put(k, b)
	}
	out := make([]merkle.Hash, len(ids))
	for i, id := range ids {
		k := tileOf(id)
		r := id.Level % tileHeight
		first := (id.Index << r) % tileWidth
		b := need[k]
		end := (first + 1<<r) * merkle.HashSize
		if uint64(len(b)) < end {
			return nil, vakt.Errorf(vakt.CodeInternal, "the Merkle tree lacks node %d/%d", id.Level, id.Index)
		}
		out[i] = hashUp(b[first*merkle.HashSize : end])
	}
	return out, nil
}

func tileOf(id compact.NodeID) tileKey {
	tl := id.Level / tileHeight
	r := id.Level % tileHeight
	return tileKey{int16(tl), int64((id.Index << r) / tileWidth)}
}

// hashUp hashes a run of 2^r sibling hashes into the root of their subtree.
func hashUp(b []byte) merkle.Hash {
	n := len(b) / merkle.HashSize
	hs := make([]merkle.Hash, n)
	for i := range hs {
		copy(hs[i][:], b[i*merkle.HashSize:])
	}
	for n > 1 {
		for i := 0; i < n/2; i++ {
			hs[i] = merkle.HashChildren(hs[2*i], hs[2*i+1])
		}
		n /= 2
	}
	return hs[0]
}

// head reads the committed tree: its size and root.
func (s *Store) head(ctx context.Context, q querier) (uint64, merkle.Hash, error) {
	var size int64
	var edge []byte
	if err := q.QueryRow(ctx, s.sql.readHead).Scan(&size, &edge); err != nil {
		return 0, merkle.Hash{}, translate(err, "read the log head")
	}
	hs := make([]merkle.Hash, len(edge)/merkle.HashSize)
	for i := range hs {
		copy(hs[i][:], edge[i*merkle.HashSize:])
	}
	t, err := merkle.RestoreTree(uint64(size), hs)
	if err != nil {
		return 0, merkle.Hash{}, err
	}
	return uint64(size), t.Root(), nil
}

// checkpointLoop signs a checkpoint whenever the tree has grown, at most once per interval.
// Every node runs one; as Ed25519 signatures are deterministic, two nodes that sign the same
// size write the same note.
func (s *Store) checkpointLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.CheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
			if _, err := s.SignCheckpoint(context.Background()); err != nil && vakt.ErrorCode(err) != vakt.CodeUnavailable {
				s.log.Error("signing a checkpoint failed", "err", err)
			}
		}
	}
}

const historyEvery = time.Hour

// SignCheckpoint implements accesslog.Store. Appends are synchronous, so the head row read
// here covers every entry acknowledged before the call.
func (s *Store) SignCheckpoint(ctx context.Context) (accesslog.SignedCheckpoint, error) {
	s.cpMu.Lock()
	defer s.cpMu.Unlock()
	latest, found, err := s.readLatest(ctx, s.pool)
	if err != nil {
		return accesslog.SignedCheckpoint{}, err
	}
	size, root, err := s.head(ctx, s.pool)
	if err != nil {
		return accesslog.SignedCheckpoint{}, err
	}
	if found && latest.Size >= size {
		return latest, nil
	}
	note, err := merkle.Sign(merkle.Checkpoint{Origin: s.origin, Size: size, Root: root}, s.keys.Signer)
	if err != nil {
		return accesslog.SignedCheckpoint{}, err
	}
	now := time.Now()
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, s.sql.storeLatest, int64(size), note, now); err != nil {
			return err
		}
		var last *time.Time
		if err := tx.QueryRow(ctx, s.sql.lastHistory).Scan(&last); err != nil {
			return err
		}
		if last == nil || now.Sub(*last) >= historyEvery {
			if _, err := tx.Exec(ctx, s.sql.storeHistory, int64(size), note, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return accesslog.SignedCheckpoint{}, translate(err, "store checkpoint")
	}
	// Another node may have stored a larger one meanwhile; the latest is what the table holds.
	latest, _, err = s.readLatest(ctx, s.pool)
	return latest, err
}

// Checkpoint implements accesslog.Store. The latest checkpoint is read from the database on
// every call, since any node may have signed it; it is one primary-key row.
func (s *Store) Checkpoint(ctx context.Context) (accesslog.SignedCheckpoint, error) {
	cp, found, err := s.readLatest(ctx, s.pool)
	if err != nil || found {
		return cp, err
	}
	// A new log: sign its first checkpoint now, as the SQLite driver does.
	return s.SignCheckpoint(ctx)
}

func (s *Store) readLatest(ctx context.Context, q querier) (accesslog.SignedCheckpoint, bool, error) {
	var cp accesslog.SignedCheckpoint
	var size int64
	err := q.QueryRow(ctx, s.sql.latestCheckpoint).Scan(&size, &cp.Note)
	if errors.Is(err, pgx.ErrNoRows) {
		return cp, false, nil
	}
	if err != nil {
		return cp, false, translate(err, "read checkpoint")
	}
	cp.Size = uint64(size)
	return cp, true, nil
}

// Checkpoints implements accesslog.Store.
func (s *Store) Checkpoints(ctx context.Context) ([]accesslog.SignedCheckpoint, error) {
	latest, err := s.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	return s.checkpointsUpTo(ctx, s.pool, latest)
}

// checkpointsUpTo returns the history older than latest, then latest.
func (s *Store) checkpointsUpTo(ctx context.Context, q querier, latest accesslog.SignedCheckpoint) ([]accesslog.SignedCheckpoint, error) {
	rows, err := q.Query(ctx, s.sql.history, int64(latest.Size))
	if err != nil {
		return nil, translate(err, "read checkpoints")
	}
	defer rows.Close()
	var out []accesslog.SignedCheckpoint
	for rows.Next() {
		var cp accesslog.SignedCheckpoint
		var size int64
		if err := rows.Scan(&size, &cp.Note); err != nil {
			return nil, translate(err, "read checkpoints")
		}
		cp.Size = uint64(size)
		out = append(out, cp)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err, "read checkpoints")
	}
	return append(out, latest), nil
}

// VerifierKey implements accesslog.Store.
func (s *Store) VerifierKey() string { return s.keys.VerifierKey }

// Prove implements accesslog.Store.
func (s *Store) Prove(ctx context.Context, logID string) (accesslog.InclusionProof, error) {
	var seq int64
	if err := s.pool.QueryRow(ctx, s.sql.seqOf, logID).Scan(&seq); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return accesslog.InclusionProof{}, notFound()
		}
		return accesslog.InclusionProof{}, translate(err, "find entry")
	}
	cp, err := s.Checkpoint(ctx)
	if err != nil {
		return accesslog.InclusionProof{}, err
	}
	return accesslog.ProveAt(seq, cp, func(ids []compact.NodeID) ([]merkle.Hash, error) { return s.readNodes(ctx, s.pool, ids) })
}

// Consistency implements accesslog.Store.
func (s *Store) Consistency(ctx context.Context, from, to uint64) ([]merkle.Hash, error) {
	cp, err := s.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	return accesslog.ConsistencyAt(from, to, cp, func(ids []compact.NodeID) ([]merkle.Hash, error) { return s.readNodes(ctx, s.pool, ids) })
}

// Scan implements accesslog.Store: entries in sequence order, a page at a time, each with the
// leaf hash the tree holds for it.
func (s *Store) Scan(ctx context.Context, from int64, fn func(*accesslog.Stored, merkle.Hash) error) error {
	return s.scan(ctx, s.pool, from, fn)
}

func (s *Store) scan(ctx context.Context, q querier, from int64, fn func(*accesslog.Stored, merkle.Hash) error) error {
	size, _, err := s.head(ctx, q)
	if err != nil {
		return err
	}
	end := int64(size)
	from = max(from, 1)
	for from <= end {
		// Pages follow level-0 tiles, so each page reads one tile of leaf hashes.
		hi := min((from-1)/tileWidth*tileWidth+tileWidth*4, end)
		page, err := s.readRows(ctx, q, s.sql.scan, from, hi)
		if err != nil {
			return err
		}
		if int64(len(page)) != hi-from+1 {
			return vakt.Errorf(vakt.CodeInternal, "entries %d to %d: %d are stored", from, hi, len(page))
		}
		ids := make([]compact.NodeID, len(page))
		for i := range page {
			ids[i] = compact.NewNodeID(0, uint64(page[i].Seq-1))
		}
		leaves, err := s.readNodes(ctx, q, ids)
		if err != nil {
			return err
		}
		for i := range page {
			if err := fn(&page[i], leaves[i]); err != nil {
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

// verifyLatestCheckpoint checks, when a node opens a store, that the latest checkpoint still
// verifies with this instance's key and that the stored tree extends it. A key mismatch stops
// the store (signing on with another key would break every customer's verifier); a tree that
// does not extend the checkpoint is tampering, reported loudly.
func (s *Store) verifyLatestCheckpoint(ctx context.Context) error {
	cp, found, err := s.readLatest(ctx, s.pool)
	if err != nil || !found {
		return err
	}
	c, err := merkle.Open(cp.Note, s.keys.VerifierKey)
	if err != nil {
		return fmt.Errorf("postgres: the log's latest checkpoint does not verify with the key %s (%v): start with the instance name and signing secret the log was signed with", s.keys.VerifierKey, err)
	}
	hsize, root, err := s.head(ctx, s.pool)
	if err != nil {
		return err
	}
	switch {
	case c.Size > hsize:
		s.log.Error("TAMPERING: the latest checkpoint covers more entries than the log holds", "checkpoint", c.Size, "entries", hsize)
	case c.Size == hsize && c.Root != root:
		s.log.Error("TAMPERING: the stored tree's root differs from the latest signed checkpoint", "size", c.Size)
	case c.Size > 0 && c.Size < hsize:
		p, err := merkle.ConsistencyProof(c.Size, hsize, func(ids []compact.NodeID) ([]merkle.Hash, error) { return s.readNodes(ctx, s.pool, ids) })
		if err == nil {
			err = merkle.VerifyConsistency(c.Size, hsize, p, c.Root, root)
		}
		if err != nil {
			s.log.Error("TAMPERING: the stored tree does not extend the latest signed checkpoint", "checkpoint", c.Size, "err", err)
		}
	}
	return nil
}
