// Package runindex is the pure part of the SQLite driver's secondary indexes: postings, the
// compact block encoding of sorted runs of postings, k-way merging and Bloom filters. It does no
// I/O; the driver stores blocks as BLOBs and decides when to seal and merge runs.
//
// Why it exists: a SQLite B-tree index on a random key (patient, user, logId) costs about one
// dirty page per inserted entry, which caps durable ingest near 20,000 entries/s. Instead the
// driver keeps the newest entries indexed in memory and periodically writes them as an immutable
// run: postings sorted once, packed into blocks of up to BlockSize postings, appended in key
// order. Runs are merged in tiers like an LSM tree so that a query probes few of them.
package runindex

import (
	"cmp"
	"encoding/binary"
	"errors"
	"slices"
)

// Posting says that the entry with sequence number Seq, whose activity started at TS (Unix
// microseconds), has Key in some index (a patient, a user, a unit, ...). Postings sort by
// (Key, TS, Seq); within one key that is the time order a search returns (reversed).
type Posting struct {
	Key int64
	TS  int64
	Seq int64
}

// Compare orders postings by (Key, TS, Seq).
func Compare(a, b Posting) int {
	if c := cmp.Compare(a.Key, b.Key); c != 0 {
		return c
	}
	if c := cmp.Compare(a.TS, b.TS); c != 0 {
		return c
	}
	return cmp.Compare(a.Seq, b.Seq)
}

// Sort sorts postings by (Key, TS, Seq).
func Sort(ps []Posting) { slices.SortFunc(ps, Compare) }

// BlockSize is the most postings a block holds. A probe decodes one or two blocks per run, so
// blocks stay small; 128 postings encode to roughly 0.5–2 KB.
const BlockSize = 128

// AppendBlock encodes ps, which must be sorted and hold 1..BlockSize postings, and appends the
// block to dst.
//
// Layout: uvarint count, then the first posting as varint Key, varint TS, varint Seq. Each
// further posting starts with uvarint ΔKey. Within the same key (ΔKey = 0) follow uvarint ΔTS
// and zig-zag ΔSeq against the previous posting; on a new key follow TS and Seq as zig-zag
// deltas against the block's first posting. Entries of one key are close in time and sequence,
// so most postings take 3–6 bytes.
func AppendBlock(dst []byte, ps []Posting) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ps)))
	first := ps[0]
	dst = binary.AppendVarint(dst, first.Key)
	dst = binary.AppendVarint(dst, first.TS)
	dst = binary.AppendVarint(dst, first.Seq)
	prev := first
	for _, p := range ps[1:] {
		dk := uint64(p.Key - prev.Key)
		dst = binary.AppendUvarint(dst, dk)
		if dk == 0 {
			dst = binary.AppendUvarint(dst, uint64(p.TS-prev.TS))
			dst = binary.AppendVarint(dst, p.Seq-prev.Seq)
		} else {
			dst = binary.AppendVarint(dst, p.TS-first.TS)
			dst = binary.AppendVarint(dst, p.Seq-first.Seq)
		}
		prev = p
	}
	return dst
}

// ErrCorrupt means a block does not decode. Blocks are written by this package only, so it
// indicates damage to the database file.
var ErrCorrupt = errors.New("runindex: corrupt block")

// DecodeBlock appends the postings of block data to dst.
func DecodeBlock(dst []Posting, data []byte) ([]Posting, error) {
	n, i := binary.Uvarint(data)
	if i <= 0 || n == 0 || n > BlockSize {
		return dst, ErrCorrupt
	}
	var first Posting
	var k int
	if first.Key, k = binary.Varint(data[i:]); k <= 0 {
		return dst, ErrCorrupt
	}
	i += k
	if first.TS, k = binary.Varint(data[i:]); k <= 0 {
		return dst, ErrCorrupt
	}
	i += k
	if first.Seq, k = binary.Varint(data[i:]); k <= 0 {
		return dst, ErrCorrupt
	}
	i += k
	dst = append(dst, first)
	prev := first
	for range n - 1 {
		dk, k := binary.Uvarint(data[i:])
		if k <= 0 {
			return dst, ErrCorrupt
		}
		i += k
		var p Posting
		p.Key = prev.Key + int64(dk)
		if dk == 0 {
			dts, k := binary.Uvarint(data[i:])
			if k <= 0 {
				return dst, ErrCorrupt
			}
			i += k
			ds, k2 := binary.Varint(data[i:])
			if k2 <= 0 {
				return dst, ErrCorrupt
			}
			i += k2
			p.TS = prev.TS + int64(dts)
			p.Seq = prev.Seq + ds
		} else {
			dts, k := binary.Varint(data[i:])
			if k <= 0 {
				return dst, ErrCorrupt
			}
			i += k
			ds, k2 := binary.Varint(data[i:])
			if k2 <= 0 {
				return dst, ErrCorrupt
			}
			i += k2
			p.TS = first.TS + dts
			p.Seq = first.Seq + ds
		}
		if Compare(prev, p) >= 0 {
			return dst, ErrCorrupt
		}
		dst = append(dst, p)
		prev = p
	}
	if i != len(data) {
		return dst, ErrCorrupt
	}
	return dst, nil
}

// Blocker cuts a sorted stream of postings into blocks. Emit receives each block's first
// posting and its encoding; the slice is reused after Emit returns.
type Blocker struct {
	Emit func(first Posting, data []byte) error
	buf  []Posting
	enc  []byte
	last Posting
	n    int64
}

// Add appends p, which must sort after every posting added before.
func (b *Blocker) Add(p Posting) error {
	if b.n > 0 && Compare(b.last, p) >= 0 {
		return errors.New("runindex: postings added out of order")
	}
	b.last = p
	b.n++
	b.buf = append(b.buf, p)
	if len(b.buf) == BlockSize {
		return b.flush()
	}
	return nil
}

// Close emits the last, partial block.
func (b *Blocker) Close() error {
	if len(b.buf) == 0 {
		return nil
	}
	return b.flush()
}

// Count returns the number of postings added.
func (b *Blocker) Count() int64 { return b.n }

func (b *Blocker) flush() error {
	b.enc = AppendBlock(b.enc[:0], b.buf)
	err := b.Emit(b.buf[0], b.enc)
	b.buf = b.buf[:0]
	return err
}

// Source yields sorted postings one at a time; ok is false at the end.
type Source interface {
	Next() (p Posting, ok bool, err error)
}

// Merge reads sorted sources and calls fn for every posting in (Key, TS, Seq) order. Sources
// hold disjoint sequence numbers (runs cover disjoint ranges), so no posting repeats.
func Merge(sources []Source, fn func(Posting) error) error {
	type head struct {
		p   Posting
		src int
	}
	h := make([]head, 0, len(sources))
	for i, s := range sources {
		p, ok, err := s.Next()
		if err != nil {
			return err
		}
		if ok {
			h = append(h, head{p, i})
		}
	}
	less := func(a, b head) bool { return Compare(a.p, b.p) < 0 }
	// A small binary heap; k is at most a few dozen.
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= len(h) {
				return
			}
			m := l
			if r := l + 1; r < len(h) && less(h[r], h[l]) {
				m = r
			}
			if !less(h[m], h[i]) {
				return
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
	}
	for i := len(h)/2 - 1; i >= 0; i-- {
		down(i)
	}
	for len(h) > 0 {
		top := h[0]
		if err := fn(top.p); err != nil {
			return err
		}
		p, ok, err := sources[top.src].Next()
		if err != nil {
			return err
		}
		if ok {
			h[0].p = p
		} else {
			h[0] = h[len(h)-1]
			h = h[:len(h)-1]
		}
		down(0)
	}
	return nil
}

// SliceSource is a Source over a sorted slice.
type SliceSource struct {
	Postings []Posting
	i        int
}

// Next implements Source.
func (s *SliceSource) Next() (Posting, bool, error) {
	if s.i >= len(s.Postings) {
		return Posting{}, false, nil
	}
	s.i++
	return s.Postings[s.i-1], true, nil
}
