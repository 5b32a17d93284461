package control_test

import (
	"slices"
	"testing"

	"github.com/vakt/vakt/control"
)

// TestDrawPinned pins the algorithm: a recorded seed must give the same sample in every future
// version, or old samples could no longer be audited.
func TestDrawPinned(t *testing.T) {
	got := control.Draw(42, 1000, 10)
	again := control.Draw(42, 1000, 10)
	if !slices.Equal(got, again) {
		t.Fatalf("not reproducible: %v, %v", got, again)
	}
	want := []int{145, 179, 190, 373, 393, 500, 786, 901, 970, 983} // computed once by this algorithm; a change here breaks old samples
	if !slices.Equal(got, want) {
		t.Fatalf("Draw(42, 1000, 10) = %#v, want %#v", got, want)
	}
	if slices.Equal(got, control.Draw(43, 1000, 10)) {
		t.Fatal("another seed gives the same sample")
	}
}

func TestDrawBounds(t *testing.T) {
	for _, c := range []struct{ n, size, want int }{{0, 10, 0}, {5, 10, 5}, {10, 10, 10}, {100, 0, 0}, {100, 1, 1}} {
		got := control.Draw(7, c.n, c.size)
		if len(got) != c.want {
			t.Fatalf("Draw(7, %d, %d) has %d positions, want %d", c.n, c.size, len(got), c.want)
		}
		for i, p := range got {
			if p < 0 || p >= c.n || i > 0 && got[i-1] >= p {
				t.Fatalf("Draw(7, %d, %d) = %v: not distinct ascending positions in range", c.n, c.size, got)
			}
		}
	}
}

// TestDrawUniform checks that every position is about equally likely: over many seeds each of
// 20 positions is drawn into a sample of 5 about a quarter of the time.
func TestDrawUniform(t *testing.T) {
	const n, k, runs = 20, 5, 20000
	var counts [n]int
	for s := uint64(0); s < runs; s++ {
		for _, p := range control.Draw(s, n, k) {
			counts[p]++
		}
	}
	for p, c := range counts {
		if c < runs*k/n*9/10 || c > runs*k/n*11/10 {
			t.Fatalf("position %d drawn %d times of %d runs, want about %d", p, c, runs, runs*k/n)
		}
	}
}

// TestDrawStrataPinned pins the stratified algorithm as TestDrawPinned pins Draw.
func TestDrawStrataPinned(t *testing.T) {
	keys := make([]string, 100)
	for i := range keys {
		switch {
		case i%10 == 0:
			keys[i] = "Skriva"
		case i == 55:
			keys[i] = "Utskrift"
		default:
			keys[i] = "Läsa"
		}
	}
	got, strata := control.DrawStrata(42, keys, 10)
	again, _ := control.DrawStrata(42, keys, 10)
	if !slices.Equal(got, again) {
		t.Fatalf("not reproducible: %v, %v", got, again)
	}
	wantStrata := []control.Stratum{{Key: "Läsa", Population: 89, Drawn: 7}, {Key: "Skriva", Population: 10, Drawn: 2}, {Key: "Utskrift", Population: 1, Drawn: 1}}
	if !slices.Equal(strata, wantStrata) {
		t.Fatalf("strata %+v, want %+v", strata, wantStrata)
	}
	want := []int{10, 13, 21, 25, 26, 51, 55, 58, 60, 78} // computed once by this algorithm; a change here breaks old samples
	if !slices.Equal(got, want) {
		t.Fatalf("DrawStrata(42, …, 10) = %#v, want %#v", got, want)
	}
	per := map[string]int{}
	for _, p := range got {
		per[keys[p]]++
	}
	for _, st := range strata {
		if per[st.Key] != st.Drawn {
			t.Fatalf("stratum %s: %d drawn, recorded %d", st.Key, per[st.Key], st.Drawn)
		}
	}
}

// TestDrawStrataAllocation: the sizes add up to min(size, n), no stratum gives more than it
// holds, every stratum gives at least one when the sample is large enough, and the positions
// are distinct, ascending and in range.
func TestDrawStrataAllocation(t *testing.T) {
	for _, c := range []struct {
		sizes []int
		size  int
	}{
		{[]int{1}, 10}, {[]int{5, 5}, 3}, {[]int{90, 9, 1}, 10}, {[]int{1, 1, 1, 1}, 2}, {[]int{1, 1, 1}, 3},
		{[]int{3, 3, 3}, 100}, {[]int{50, 30, 20}, 10}, {[]int{7, 1, 1, 1, 1, 1}, 4}, {[]int{2, 2}, 0},
	} {
		var keys []string
		for j, n := range c.sizes {
			for range n {
				keys = append(keys, string(rune('a'+j)))
			}
		}
		got, strata := control.DrawStrata(9, keys, c.size)
		k := min(c.size, len(keys))
		if len(got) != k {
			t.Fatalf("%v size %d: %d drawn, want %d", c.sizes, c.size, len(got), k)
		}
		sum := 0
		for j, st := range strata {
			sum += st.Drawn
			if st.Drawn > st.Population || st.Population != c.sizes[j] {
				t.Fatalf("%v size %d: stratum %+v", c.sizes, c.size, st)
			}
			if k >= len(c.sizes) && st.Drawn < 1 {
				t.Fatalf("%v size %d: stratum %s left out", c.sizes, c.size, st.Key)
			}
		}
		if sum != k {
			t.Fatalf("%v size %d: strata give %d, want %d", c.sizes, c.size, sum, k)
		}
		for i, p := range got {
			if p < 0 || p >= len(keys) || i > 0 && got[i-1] >= p {
				t.Fatalf("%v size %d: %v not distinct ascending positions in range", c.sizes, c.size, got)
			}
		}
	}
	// proportional beyond the first of each: 50/30/20 with 10 → 1+4, 1+3, 1+2 (7 shared by 49:29:19)
	_, strata := control.DrawStrata(1, slices.Concat(slices.Repeat([]string{"a"}, 50), slices.Repeat([]string{"b"}, 30), slices.Repeat([]string{"c"}, 20)), 10)
	if strata[0].Drawn != 5 || strata[1].Drawn != 3 || strata[2].Drawn != 2 {
		t.Fatalf("50/30/20 with 10 gave %+v", strata)
	}
}
