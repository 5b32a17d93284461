package sqlite

import (
	"slices"
	"testing"
)

func TestMergeCandidates(t *testing.T) {
	s := &Store{opts: Options{MergeFanIn: 3}}
	runsOf := func(levels ...int64) *view {
		v := &view{}
		for i, l := range levels {
			v.runs = append(v.runs, &run{id: int64(i), level: l})
		}
		return v
	}
	ids := func(rs []*run) []int64 {
		var out []int64
		for _, r := range rs {
			out = append(out, r.id)
		}
		return out
	}
	for _, c := range []struct {
		name   string
		levels []int64
		want   []int64
	}{
		{"too few", []int64{0, 0}, nil},
		{"newest group", []int64{1, 0, 0, 0}, []int64{1, 2, 3}},
		// Runs sealed during a long merge: the oldest full group goes first, so the rest stays
		// in order behind it instead of being stranded.
		{"oldest group first", []int64{2, 1, 0, 0, 0, 0, 0}, []int64{2, 3, 4}},
		{"higher level first when it is older", []int64{1, 1, 1, 0, 0, 0}, []int64{0, 1, 2}},
		{"mixed, no full group", []int64{2, 1, 1, 0, 0}, nil},
		{"top level is never merged", []int64{maxLevel, maxLevel, maxLevel}, nil},
	} {
		got := ids(s.mergeCandidates(runsOf(c.levels...)))
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: levels %v: merge %v, want %v", c.name, c.levels, got, c.want)
		}
	}
}
