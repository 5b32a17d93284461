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
