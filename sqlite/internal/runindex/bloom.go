package runindex

import (
	"encoding/binary"
	"errors"
	"math"
)

// HashLogID maps a logId to the 64-bit key of the logId index: FNV-1a followed by the SplitMix64
// finaliser for well-spread bits. It is part of the file format, so it must never change.
// Collisions are harmless: a store compares the stored logId before trusting a match.
func HashLogID(logID string) int64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(logID); i++ {
		h ^= uint64(logID[i])
		h *= 1099511628211
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return int64(h)
}

// Bloom is a Bloom filter over logId hashes, one per run, kept in memory so that the idempotency
// check of a new entry reads a run only when the run may hold its logId. A false positive costs
// a SQLite probe of tens of microseconds and is paid once per live run, so the filter is
// generous: 16 bits per key and 11 probes give about 0.05 % false positives.
type Bloom struct {
	bits []uint64
	k    uint32
}

const bloomBitsPerKey = 16

// NewBloom returns a filter sized for n keys.
func NewBloom(n int) *Bloom {
	m := max(n*bloomBitsPerKey, 64)
	k := uint32(math.Round(float64(bloomBitsPerKey) * math.Ln2))
	return &Bloom{bits: make([]uint64, (m+63)/64), k: k}
}

// Add records key h.
func (b *Bloom) Add(h int64) {
	m := uint64(len(b.bits) * 64)
	x, y := uint64(h), uint64(h)>>33|uint64(h)<<31
	for i := uint32(0); i < b.k; i++ {
		bit := (x + uint64(i)*y) % m
		b.bits[bit/64] |= 1 << (bit % 64)
	}
}

// MayContain reports whether h may have been added; false means certainly not.
func (b *Bloom) MayContain(h int64) bool {
	m := uint64(len(b.bits) * 64)
	x, y := uint64(h), uint64(h)>>33|uint64(h)<<31
	for i := uint32(0); i < b.k; i++ {
		bit := (x + uint64(i)*y) % m
		if b.bits[bit/64]&(1<<(bit%64)) == 0 {
			return false
		}
	}
	return true
}

// MarshalBinary encodes the filter for storage.
func (b *Bloom) MarshalBinary() ([]byte, error) {
	out := make([]byte, 4, 4+8*len(b.bits))
	binary.LittleEndian.PutUint32(out, b.k)
	for _, w := range b.bits {
		out = binary.LittleEndian.AppendUint64(out, w)
	}
	return out, nil
}

// UnmarshalBinary decodes a filter written by MarshalBinary.
func (b *Bloom) UnmarshalBinary(data []byte) error {
	if len(data) < 12 || (len(data)-4)%8 != 0 {
		return errors.New("runindex: corrupt bloom filter")
	}
	b.k = binary.LittleEndian.Uint32(data)
	if b.k == 0 || b.k > 32 {
		return errors.New("runindex: corrupt bloom filter")
	}
	b.bits = make([]uint64, (len(data)-4)/8)
	for i := range b.bits {
		b.bits[i] = binary.LittleEndian.Uint64(data[4+8*i:])
	}
	return nil
}
