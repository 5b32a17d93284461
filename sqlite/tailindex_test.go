package sqlite

import (
	"slices"
	"testing"
)

// TestTailIndexRemove: undoing the adds of a failed commit leaves the index answering exactly
// as before them, for keys the undone entries shared with earlier ones and for keys only they
// had; entries added afterwards link to the earlier postings again.
func TestTailIndexRemove(t *testing.T) {
	ti := newTailIndex(64)
	kept := []tailEntry{
		{seq: 1, logHash: 11, userID: 100, unitID: 200, patients: []int64{7, 8}},
		{seq: 2, logHash: 12, userID: 100, unitID: 201, patients: []int64{8}},
	}
	undone := []tailEntry{
		{seq: 3, logHash: 13, userID: 100, unitID: 202, patients: []int64{8, 9, 8}},
		{seq: 4, logHash: 14, userID: 101, unitID: 200, patients: []int64{7}},
	}
	for i := range kept {
		ti.add(&kept[i])
	}
	type probe struct {
		kind int
		key  int64
	}
	probes := []probe{{kindUser, 100}, {kindUser, 101}, {kindUnit, 200}, {kindUnit, 202}, {kindPatient, 7},
		{kindPatient, 8}, {kindPatient, 9}, {kindLogID, 12}, {kindLogID, 13}}
	answers := func() [][]int64 {
		var out [][]int64
		for _, p := range probes {
			out = append(out, ti.lookup(nil, p.kind, p.key, 1<<62))
		}
		return out
	}
	before := answers()
	mark := ti.mark()
	for i := range undone {
		ti.add(&undone[i])
	}
	if got := ti.lookup(nil, kindPatient, 8, 1<<62); !slices.Equal(got, []int64{1, 2, 3, 3}) {
		t.Fatalf("patient 8 before the undo: %v", got)
	}
	for i := len(undone) - 1; i >= 0; i-- {
		ti.remove(&undone[i])
	}
	ti.truncate(mark)
	if after := answers(); !slices.EqualFunc(before, after, slices.Equal[[]int64]) {
		t.Fatalf("after the undo the index answers %v, before it %v", after, before)
	}
	next := tailEntry{seq: 3, logHash: 15, userID: 100, unitID: 200, patients: []int64{8}}
	ti.add(&next)
	if got := ti.lookup(nil, kindPatient, 8, 1<<62); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("patient 8 after a new add: %v", got)
	}
	if got := ti.lookup(nil, kindUser, 100, 2); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("user 100 up to seq 2: %v", got)
	}
}
