package runindex

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

func randomPostings(r *rand.Rand, n int, keys int64) []Posting {
	ps := make([]Posting, n)
	for i := range ps {
		ps[i] = Posting{Key: r.Int64N(keys) - keys/2, TS: 1_700_000_000_000_000 + r.Int64N(1e12), Seq: int64(i + 1)}
	}
	Sort(ps)
	return ps
}

func TestBlockRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		name string
		ps   []Posting
	}{
		{"one", []Posting{{Key: 5, TS: 10, Seq: 1}}},
		{"extremes", []Posting{{Key: math.MinInt64 / 2, TS: -5, Seq: 1}, {Key: math.MaxInt64 / 2, TS: math.MaxInt64 / 4, Seq: math.MaxInt64 / 4}}},
		{"same key", []Posting{{Key: 7, TS: 1, Seq: 9}, {Key: 7, TS: 1, Seq: 10}, {Key: 7, TS: 5, Seq: 2}}},
		{"full random", randomPostings(r, BlockSize, 1<<40)},
		{"full few keys", randomPostings(r, BlockSize, 3)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := AppendBlock(nil, c.ps)
			got, err := DecodeBlock(nil, data)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, c.ps) {
				t.Fatalf("round trip differs:\n got %v\nwant %v", got, c.ps)
			}
		})
	}
}

func TestDecodeBlockRejectsDamage(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	data := AppendBlock(nil, randomPostings(r, 50, 1000))
	for _, bad := range [][]byte{nil, {0}, data[:len(data)-1], append(slices.Clone(data), 0), {200, 1, 2, 3}} {
		if _, err := DecodeBlock(nil, bad); err == nil {
			t.Errorf("DecodeBlock(%x) accepted damaged input", bad)
		}
	}
}

func FuzzDecodeBlock(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	f.Add(AppendBlock(nil, randomPostings(r, 10, 100)))
	f.Add([]byte{1, 2, 2, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := DecodeBlock(nil, data)
		if err != nil {
			return
		}
		if !slices.IsSortedFunc(ps, Compare) {
			t.Fatal("decoded postings not strictly sorted")
		}
		// Varints may be non-minimal in damaged input, so bytes need not match; the postings must.
		again, err := DecodeBlock(nil, AppendBlock(nil, ps))
		if err != nil || !slices.Equal(again, ps) {
			t.Fatalf("re-encoded block decodes differently: %v", err)
		}
	})
}

func TestBlockerAndMerge(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	var sources []Source
	var all []Posting
	seq := int64(0)
	for run := 0; run < 5; run++ {
		n := 1 + r.IntN(700)
		ps := make([]Posting, n)
		for i := range ps {
			seq++
			ps[i] = Posting{Key: r.Int64N(40), TS: r.Int64N(1e6), Seq: seq}
		}
		Sort(ps)
		// Through the block codec, as the driver stores them.
		var blocks [][]byte
		b := Blocker{Emit: func(first Posting, data []byte) error {
			if first != ps[len(blocks)*BlockSize] {
				t.Fatalf("block %d first = %v", len(blocks), first)
			}
			blocks = append(blocks, slices.Clone(data))
			return nil
		}}
		for _, p := range ps {
			if err := b.Add(p); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		if want := (n + BlockSize - 1) / BlockSize; len(blocks) != want {
			t.Fatalf("%d blocks for %d postings, want %d", len(blocks), n, want)
		}
		var back []Posting
		for _, blk := range blocks {
			var err error
			if back, err = DecodeBlock(back, blk); err != nil {
				t.Fatal(err)
			}
		}
		sources = append(sources, &SliceSource{Postings: back})
		all = append(all, ps...)
	}
	Sort(all)
	var merged []Posting
	if err := Merge(sources, func(p Posting) error { merged = append(merged, p); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(merged, all) {
		t.Fatal("merge differs from sorting everything")
	}
}

func TestBlockerRejectsDisorder(t *testing.T) {
	b := Blocker{Emit: func(Posting, []byte) error { return nil }}
	if err := b.Add(Posting{Key: 2}); err != nil {
		t.Fatal(err)
	}
	if err := b.Add(Posting{Key: 1}); err == nil {
		t.Fatal("out-of-order posting accepted")
	}
}

func TestBloom(t *testing.T) {
	const n = 20000
	b := NewBloom(n)
	for i := 0; i < n; i++ {
		b.Add(HashLogID(strconv.Itoa(i) + "-in"))
	}
	data, _ := b.MarshalBinary()
	var c Bloom
	if err := c.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if !c.MayContain(HashLogID(strconv.Itoa(i) + "-in")) {
			t.Fatalf("false negative for key %d", i)
		}
	}
	fp := 0
	for i := 0; i < n; i++ {
		if c.MayContain(HashLogID(strconv.Itoa(i) + "-out")) {
			fp++
		}
	}
	if rate := float64(fp) / n; rate > 0.002 {
		t.Fatalf("false-positive rate %.4f, want about 0.0005", rate)
	}
}

func TestHashLogIDStable(t *testing.T) {
	// The hash is part of the file format: these values must never change.
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"", -780787492076525413},
		{"2f6e9a0c-8d1b-4c55-9a7e-3b1f0c9d2e11", -5299129491167424692},
	} {
		if got := HashLogID(c.in); got != c.want {
			t.Errorf("HashLogID(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

func BenchmarkEncodeDecode(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 9))
	ps := randomPostings(r, BlockSize, 1<<30)
	var buf []byte
	var out []Posting
	for b.Loop() {
		buf = AppendBlock(buf[:0], ps)
		out, _ = DecodeBlock(out[:0], buf)
	}
	b.ReportMetric(float64(len(buf))/BlockSize, "bytes/posting")
}
