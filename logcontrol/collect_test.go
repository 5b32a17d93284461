package logcontrol

import "testing"

// accessList keeps the accesses in the order added across its blocks.
func TestAccessListAcrossBlocks(t *testing.T) {
	var l accessList
	n := 2<<accessBlockBits + 3
	for i := range n {
		l.add(access{ts: int64(i), seq: int64(-i)})
	}
	if l.len() != n || len(l.blocks) != 3 {
		t.Fatalf("len %d, %d blocks", l.len(), len(l.blocks))
	}
	for i := range n {
		if r := l.at(i); r.ts != int64(i) || r.seq != int64(-i) {
			t.Fatalf("at(%d) = %+v", i, *r)
		}
	}
	l.at(5).ts = 42 // at gives the element itself, which judging and sorting read back
	if l.at(5).ts != 42 {
		t.Fatal("at returned a copy")
	}
}

// BenchmarkAccessList compares the blocks with the one growing slice they replaced, for a
// month of ten million accesses.
func BenchmarkAccessList(b *testing.B) {
	const n = 10_000_000
	b.Run("blocks", func(b *testing.B) {
		for b.Loop() {
			var l accessList
			for i := range n {
				l.add(access{ts: int64(i)})
			}
		}
	})
	b.Run("slice", func(b *testing.B) {
		for b.Loop() {
			var s []access
			for i := range n {
				s = append(s, access{ts: int64(i)})
			}
			_ = s
		}
	})
}
