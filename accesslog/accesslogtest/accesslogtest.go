// Package accesslogtest is the conformance suite of accesslog.Store. Every storage driver calls
// Run from its tests, unchanged; a driver is correct only if it passes. Each clause of the Store
// contract has a subtest here, and a model-based test compares random workloads (crossing
// reopen) against a reference built from accesslog.Query.Matches.
package accesslogtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
)

// Harness gives the suite fresh storage. New returns an opener for a new, empty storage
// location; calling the opener again after closing the store it returned must reopen the same
// data. The suite closes every store it opens.
type Harness struct {
	New func(t *testing.T) (open func() accesslog.Store)
	// Large scales the model test up (more entries and queries) for drivers whose behaviour
	// changes with size, such as ones that seal and merge indexes.
	Large bool
}

// Run runs the suite.
func Run(t *testing.T, h Harness) {
	tests := []struct {
		name string
		fn   func(*testing.T, Harness)
	}{
		{"AppendAssignsSequenceNumbers", testAppendSeq},
		{"DuplicateIsIdempotent", testDuplicate},
		{"ConflictRejectsWholeBatch", testConflict},
		{"RepeatsWithinBatch", testWithinBatch},
		{"SearchEachFilter", testSearchFilters},
		{"MultiPatientEntryFoundByEach", testMultiPatient},
		{"OrderAndTies", testOrder},
		{"Pagination", testPagination},
		{"TimeBounds", testTimeBounds},
		{"Export", testExport},
		{"ScanAccesses", testScanAccesses},
		{"Get", testGet},
		{"DurableAcrossReopen", testReopen},
		{"ConcurrentAppends", testConcurrent},
		{"CanceledBeforeAppend", testCanceled},
		{"ReserveNumbers", testReserve},
		{"Stats", testStats},
		{"Model", testModel},
		{"CheckpointAndProofs", testCheckpointAndProofs},
		{"RejectedBatchLeavesTreeAlone", testRejectedBatchLeavesTreeAlone},
		{"LastActivity", testLastActivity},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, h) })
	}
}

func open(t *testing.T, h Harness) (accesslog.Store, func() accesslog.Store) {
	t.Helper()
	opener := h.New(t)
	st := opener()
	t.Cleanup(func() { st.Close() })
	return st, opener
}

var (
	base     = time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
	provider = ident.HSAID("SE2321000016-0001")
	units    = []ident.HSAID{"SE2321000016-E001", "SE2321000016-E002", "SE2321000016-E003"}
	users    = []ident.HSAID{"SE2321000016-U001", "SE2321000016-U002", "SE2321000016-U003", "SE2321000016-U004"}
	patients = mustPatients("191212121212", "195001012384", "199912312393", "200012242396", "194503094011", "196703652385")
	acts     = []accesslog.ActivityType{accesslog.ActivityRead, accesslog.ActivityWrite, "läsa", accesslog.ActivitySign, "Egen aktivitet"}
)

// mustPatients turns 12-digit numbers into PersonIDs, fixing the check digit so the table can
// list plausible numbers without hand-computing Luhn digits.
func mustPatients(nums ...string) []ident.PersonID {
	out := make([]ident.PersonID, len(nums))
	for i, n := range nums {
		d := []byte(n[:11])
		sum := 0
		for j, c := range d[2:] {
			v := int(c - '0')
			if j%2 == 0 {
				v *= 2
				if v > 9 {
					v -= 9
				}
			}
			sum += v
		}
		d = append(d, byte('0'+(10-sum%10)%10))
		p, err := ident.ParsePersonID(string(d), base)
		if err != nil {
			panic(fmt.Sprintf("test patient %d: %v", i, err))
		}
		out[i] = p
	}
	return out
}

// spec describes a test entry compactly.
type spec struct {
	id       string
	at       time.Duration // after base
	user     int
	unit     int
	act      int
	patients []int
	note     string // varies content without changing indexed fields
}

func (s spec) entry() accesslog.Entry {
	e := accesslog.Entry{
		LogID:  s.id,
		System: accesslog.System{ID: "SE2321000016-S001", Name: "Testsystem"},
		Activity: accesslog.Activity{
			Type:      acts[s.act],
			StartDate: base.Add(s.at),
			Purpose:   accesslog.PurposeCare,
			Args:      s.note,
		},
		User: accesslog.User{
			ID:           users[s.user],
			Name:         "Test Användare",
			CareProvider: accesslog.CareProvider{ID: provider, Name: "Region Test"},
			CareUnit:     accesslog.CareUnit{ID: units[s.unit]},
		},
	}
	for _, p := range s.patients {
		e.Resources = append(e.Resources, accesslog.Resource{
			Type:         "Journalanteckning",
			Patient:      accesslog.Patient{ID: patients[p]},
			CareProvider: accesslog.CareProvider{ID: provider},
		})
	}
	if len(s.patients) == 0 {
		e.Resources = []accesslog.Resource{{Type: "Översikt", CareProvider: accesslog.CareProvider{ID: provider}}}
	}
	return e
}

func pending(specs ...spec) []accesslog.Pending {
	out := make([]accesslog.Pending, len(specs))
	for i, s := range specs {
		out[i] = accesslog.Prepare(s.entry())
	}
	return out
}

func mustAppend(t *testing.T, st accesslog.Store, specs ...spec) []accesslog.AppendResult {
	t.Helper()
	res, err := st.Append(context.Background(), pending(specs...))
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	if len(res) != len(specs) {
		t.Fatalf("Append returned %d results for %d entries", len(res), len(specs))
	}
	return res
}

func searchAll(t *testing.T, st accesslog.Store, q accesslog.Query) []accesslog.Stored {
	t.Helper()
	var out []accesslog.Stored
	q.Limit = accesslog.MaxLimit
	for {
		p, err := st.Search(context.Background(), q)
		if err != nil {
			t.Fatalf("Search: %v", err)
		}
		out = append(out, p.Entries...)
		if p.Next.IsZero() {
			return out
		}
		q.After = p.Next
	}
}

func logIDs(t *testing.T, entries []accesslog.Stored) []string {
	t.Helper()
	out := make([]string, len(entries))
	for i := range entries {
		e, err := entries[i].Entry()
		if err != nil {
			t.Fatalf("stored entry %d does not decode: %v", entries[i].Seq, err)
		}
		out[i] = e.LogID
	}
	return out
}

func testAppendSeq(t *testing.T, h Harness) {
	st, _ := open(t, h)
	before := time.Now().Add(-time.Second)
	res := mustAppend(t, st, spec{id: "a", patients: []int{0}}, spec{id: "b", patients: []int{1}}, spec{id: "c", patients: []int{2}})
	for i, r := range res {
		if r.Seq != int64(i+1) || r.Duplicate {
			t.Fatalf("result %d = %+v, want seq %d new", i, r, i+1)
		}
	}
	res = mustAppend(t, st, spec{id: "d"})
	if res[0].Seq != 4 {
		t.Fatalf("next batch got seq %d, want 4", res[0].Seq)
	}
	got, err := st.Get(context.Background(), "b")
	if err != nil {
		t.Fatal(err)
	}
	if got.Seq != 2 {
		t.Fatalf("Get(b).Seq = %d", got.Seq)
	}
	if got.ReceivedAt.Before(before) || got.ReceivedAt.After(time.Now().Add(time.Second)) {
		t.Fatalf("ReceivedAt %v is not the time of the append", got.ReceivedAt)
	}
	// The stored JSON is the prepared content with seq and receivedAt spliced in.
	p := pending(spec{id: "b", patients: []int{1}})[0]
	want := p.Seal(nil, 2, got.ReceivedAt)
	if string(got.JSON) != string(want) {
		t.Fatalf("stored JSON differs from the sealed entry:\n got %s\nwant %s", got.JSON, want)
	}
}

func testDuplicate(t *testing.T, h Harness) {
	st, _ := open(t, h)
	mustAppend(t, st, spec{id: "x1", patients: []int{0}}, spec{id: "x2", patients: []int{1}})
	res := mustAppend(t, st, spec{id: "x1", patients: []int{0}}, spec{id: "x3", patients: []int{2}}, spec{id: "x2", patients: []int{1}})
	want := []accesslog.AppendResult{{Seq: 1, Duplicate: true}, {Seq: 3}, {Seq: 2, Duplicate: true}}
	if !slices.Equal(res, want) {
		t.Fatalf("results %+v, want %+v", res, want)
	}
	if all := searchAll(t, st, accesslog.Query{}); len(all) != 3 {
		t.Fatalf("%d entries stored, want 3", len(all))
	}
}

func testConflict(t *testing.T, h Harness) {
	st, _ := open(t, h)
	mustAppend(t, st, spec{id: "k1", patients: []int{0}})
	_, err := st.Append(context.Background(), pending(spec{id: "k2"}, spec{id: "k1", patients: []int{0}, note: "changed"}, spec{id: "k3"}))
	if vakt.ErrorCode(err) != vakt.CodeConflict {
		t.Fatalf("Append with a changed entry: err = %v, want conflict", err)
	}
	probs := vakt.ErrorProblems(err)
	if len(probs) != 1 || probs[0].Index != 1 || probs[0].Field != "logId" {
		t.Fatalf("problems = %+v, want index 1 field logId", probs)
	}
	if msg := vakt.ErrorMessage(err); !contains(msg, `"k1"`) {
		t.Fatalf("message %q does not name the logId", msg)
	}
	for _, id := range []string{"k2", "k3"} {
		if _, err := st.Get(context.Background(), id); vakt.ErrorCode(err) != vakt.CodeNotFound {
			t.Fatalf("entry %s of the rejected batch was stored (err %v)", id, err)
		}
	}
	// Nothing was consumed: the next entry gets seq 2.
	if res := mustAppend(t, st, spec{id: "k4"}); res[0].Seq != 2 {
		t.Fatalf("seq after a rejected batch = %d, want 2", res[0].Seq)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func testWithinBatch(t *testing.T, h Harness) {
	st, _ := open(t, h)
	res := mustAppend(t, st, spec{id: "w1"}, spec{id: "w1"}, spec{id: "w2"})
	want := []accesslog.AppendResult{{Seq: 1}, {Seq: 1, Duplicate: true}, {Seq: 2}}
	if !slices.Equal(res, want) {
		t.Fatalf("results %+v, want %+v", res, want)
	}
	_, err := st.Append(context.Background(), pending(spec{id: "w3"}, spec{id: "w3", note: "other"}))
	if vakt.ErrorCode(err) != vakt.CodeConflict {
		t.Fatalf("conflicting repeat within a batch: err = %v, want conflict", err)
	}
	if _, err := st.Get(context.Background(), "w3"); vakt.ErrorCode(err) != vakt.CodeNotFound {
		t.Fatalf("w3 stored although its batch was rejected")
	}
}

// fixture is a small log with known answers.
var fixture = []spec{
	{id: "f1", at: 1 * time.Hour, user: 0, unit: 0, act: 0, patients: []int{0}},
	{id: "f2", at: 2 * time.Hour, user: 1, unit: 0, act: 1, patients: []int{1}},
	{id: "f3", at: 3 * time.Hour, user: 2, unit: 1, act: 2, patients: []int{0}},
	{id: "f4", at: 4 * time.Hour, user: 0, unit: 1, act: 3, patients: []int{2}},
	{id: "f5", at: 5 * time.Hour, user: 3, unit: 2, act: 4, patients: []int{0, 2}},
	{id: "f6", at: 6 * time.Hour, user: 1, unit: 2, act: 0},
	{id: "f7", at: 30 * 24 * time.Hour, user: 0, unit: 0, act: 0, patients: []int{1}},
}

func testSearchFilters(t *testing.T, h Harness) {
	st, _ := open(t, h)
	mustAppend(t, st, fixture...)
	cases := []struct {
		name string
		q    accesslog.Query
		want []string
	}{
		{"all", accesslog.Query{}, []string{"f7", "f6", "f5", "f4", "f3", "f2", "f1"}},
		{"patient", accesslog.Query{PatientID: patients[0]}, []string{"f5", "f3", "f1"}},
		{"patient unknown", accesslog.Query{PatientID: patients[5]}, nil},
		{"user", accesslog.Query{UserID: users[0]}, []string{"f7", "f4", "f1"}},
		{"user unknown", accesslog.Query{UserID: "SE2321000016-U999"}, nil},
		{"unit", accesslog.Query{CareUnitID: units[2]}, []string{"f6", "f5"}},
		{"provider", accesslog.Query{CareProviderID: provider}, []string{"f7", "f6", "f5", "f4", "f3", "f2", "f1"}},
		{"provider other", accesslog.Query{CareProviderID: "SE2321000016-0002"}, nil},
		{"activity ignores case", accesslog.Query{ActivityType: "LÄSA"}, []string{"f7", "f6", "f3", "f1"}},
		{"activity custom", accesslog.Query{ActivityType: "egen aktivitet"}, []string{"f5"}},
		{"patient+user", accesslog.Query{PatientID: patients[0], UserID: users[2]}, []string{"f3"}},
		{"patient+activity", accesslog.Query{PatientID: patients[2], ActivityType: accesslog.ActivitySign}, []string{"f4"}},
		{"user+unit", accesslog.Query{UserID: users[0], CareUnitID: units[1]}, []string{"f4"}},
		{"unit+activity", accesslog.Query{CareUnitID: units[0], ActivityType: accesslog.ActivityWrite}, []string{"f2"}},
		{"patient+time", accesslog.Query{PatientID: patients[1], From: base.Add(24 * time.Hour)}, []string{"f7"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := logIDs(t, searchAll(t, st, c.q))
			if !slices.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func testMultiPatient(t *testing.T, h Harness) {
	st, _ := open(t, h)
	mustAppend(t, st, spec{id: "m1", patients: []int{3, 4, 3}}, spec{id: "m2", patients: []int{4}})
	for _, c := range []struct {
		p    int
		want []string
	}{{3, []string{"m1"}}, {4, []string{"m2", "m1"}}} {
		got := logIDs(t, searchAll(t, st, accesslog.Query{PatientID: patients[c.p]}))
		if !slices.Equal(got, c.want) {
			t.Fatalf("patient %d: got %v, want %v", c.p, got, c.want)
		}
	}
}

func testOrder(t *testing.T, h Harness) {
	st, _ := open(t, h)
	// Arrival order differs from time order; equal times are ordered by seq, newest first.
	mustAppend(t, st,
		spec{id: "o1", at: 5 * time.Minute, patients: []int{0}},
		spec{id: "o2", at: 1 * time.Minute, patients: []int{0}},
		spec{id: "o3", at: 5 * time.Minute, patients: []int{0}},
		spec{id: "o4", at: 9 * time.Minute, patients: []int{0}},
	)
	mustAppend(t, st, spec{id: "o5", at: 5 * time.Minute, patients: []int{0}})
	want := []string{"o4", "o5", "o3", "o1", "o2"}
	for _, q := range []accesslog.Query{{}, {PatientID: patients[0]}, {UserID: users[0]}, {CareUnitID: units[0]}} {
		if got := logIDs(t, searchAll(t, st, q)); !slices.Equal(got, want) {
			t.Fatalf("query %+v: got %v, want %v", q, got, want)
		}
	}
}

func testPagination(t *testing.T, h Harness) {
	st, _ := open(t, h)
	var specs []spec
	for i := range 23 {
		specs = append(specs, spec{id: fmt.Sprintf("p%02d", i), at: time.Duration(i%7) * time.Minute, patients: []int{i % 2}})
	}
	mustAppend(t, st, specs...)
	for _, q := range []accesslog.Query{{}, {PatientID: patients[1]}} {
		all := logIDs(t, searchAll(t, st, q))
		var paged []string
		q.Limit = 4
		pages := 0
		for {
			p, err := st.Search(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if len(p.Entries) > 4 {
				t.Fatalf("page of %d entries with limit 4", len(p.Entries))
			}
			paged = append(paged, logIDs(t, p.Entries)...)
			if p.Next.IsZero() {
				break
			}
			if len(p.Entries) != 4 {
				t.Fatalf("short page (%d) with a next cursor", len(p.Entries))
			}
			// The cursor survives its text form.
			c, err := accesslog.ParseCursor(p.Next.String())
			if err != nil || c != p.Next {
				t.Fatalf("cursor round trip: %v %v", c, err)
			}
			q.After = c
		}
		if !slices.Equal(paged, all) {
			t.Fatalf("paging gave %v, one page gave %v", paged, all)
		}
		if want := (len(all) + 3) / 4; pages != want && !(len(all)%4 == 0 && pages == want+1) {
			t.Fatalf("%d pages for %d entries", pages, len(all))
		}
	}
}

func testTimeBounds(t *testing.T, h Harness) {
	st, _ := open(t, h)
	mustAppend(t, st, fixture...)
	q := accesslog.Query{From: base.Add(2 * time.Hour), To: base.Add(5 * time.Hour)}
	if got, want := logIDs(t, searchAll(t, st, q)), []string{"f4", "f3", "f2"}; !slices.Equal(got, want) {
		t.Fatalf("[2h,5h): got %v, want %v", got, want)
	}
	q = accesslog.Query{PatientID: patients[0], From: base.Add(time.Hour), To: base.Add(5*time.Hour + time.Microsecond)}
	if got, want := logIDs(t, searchAll(t, st, q)), []string{"f5", "f3", "f1"}; !slices.Equal(got, want) {
		t.Fatalf("patient [1h,5h]: got %v, want %v", got, want)
	}
	q = accesslog.Query{From: base.Add(6*time.Hour + time.Nanosecond)}
	if got, want := logIDs(t, searchAll(t, st, q)), []string{"f7"}; !slices.Equal(got, want) {
		t.Fatalf("from just after f6: got %v, want %v", got, want)
	}
}

func testExport(t *testing.T, h Harness) {
	st, _ := open(t, h)
	var specs []spec
	for i := range 2500 {
		specs = append(specs, spec{id: fmt.Sprintf("e%04d", i), at: time.Duration(i) * time.Second, patients: []int{i % 3}, user: i % 4})
	}
	for i := 0; i < len(specs); i += 1000 {
		mustAppend(t, st, specs[i:min(i+1000, len(specs))]...)
	}
	var got []accesslog.Stored
	err := st.Export(context.Background(), accesslog.Query{UserID: users[1]}, func(s *accesslog.Stored) error {
		got = append(got, accesslog.Stored{Seq: s.Seq, ReceivedAt: s.ReceivedAt, JSON: slices.Clone(s.JSON)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 625 {
		t.Fatalf("export returned %d entries, want 625", len(got))
	}
	if ids, want := logIDs(t, got), logIDs(t, searchAll(t, st, accesslog.Query{UserID: users[1]})); !slices.Equal(ids, want) {
		t.Fatal("export order differs from search order")
	}
	stop := errors.New("stop")
	n := 0
	err = st.Export(context.Background(), accesslog.Query{}, func(*accesslog.Stored) error {
		n++
		if n == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 10 {
		t.Fatalf("export did not stop at the callback's error: n=%d err=%v", n, err)
	}
}

func testGet(t *testing.T, h Harness) {
	st, _ := open(t, h)
	mustAppend(t, st, fixture...)
	for i, f := range fixture {
		got, err := st.Get(context.Background(), f.id)
		if err != nil {
			t.Fatalf("Get(%s): %v", f.id, err)
		}
		if got.Seq != int64(i+1) {
			t.Fatalf("Get(%s).Seq = %d", f.id, got.Seq)
		}
	}
	if _, err := st.Get(context.Background(), "nope"); vakt.ErrorCode(err) != vakt.CodeNotFound {
		t.Fatalf("Get(unknown) err = %v, want not found", err)
	}
}

func testReopen(t *testing.T, h Harness) {
	opener := h.New(t)
	st := opener()
	mustAppend(t, st, fixture[:4]...)
	mustAppend(t, st, fixture[4:]...)
	want := searchAll(t, st, accesslog.Query{})
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = opener()
	defer st.Close()
	got := searchAll(t, st, accesslog.Query{})
	if len(got) != len(want) {
		t.Fatalf("%d entries after reopen, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].Seq != want[i].Seq || string(got[i].JSON) != string(want[i].JSON) {
			t.Fatalf("entry %d changed across reopen", i)
		}
	}
	res := mustAppend(t, st, spec{id: "after", at: 40 * 24 * time.Hour, patients: []int{0}}, spec{id: "f1", at: 1 * time.Hour, patients: []int{0}})
	if res[0].Seq != int64(len(fixture)+1) || !res[1].Duplicate || res[1].Seq != 1 {
		t.Fatalf("after reopen: %+v", res)
	}
	if got := logIDs(t, searchAll(t, st, accesslog.Query{PatientID: patients[0]})); !slices.Equal(got, []string{"after", "f5", "f3", "f1"}) {
		t.Fatalf("patient search after reopen: %v", got)
	}
}

func testConcurrent(t *testing.T, h Harness) {
	st, _ := open(t, h)
	const workers, batches, size = 8, 10, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				var specs []spec
				for i := range size {
					specs = append(specs, spec{id: fmt.Sprintf("c%d-%d-%d", w, b, i), at: time.Duration(i) * time.Second, patients: []int{w % 6}})
				}
				// Every worker also sends one shared entry: exactly one of them stores it.
				specs = append(specs, spec{id: "shared", patients: []int{0}})
				if _, err := st.Append(context.Background(), pending(specs...)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	all := searchAll(t, st, accesslog.Query{})
	total := workers*batches*size + 1
	if len(all) != total {
		t.Fatalf("%d entries, want %d", len(all), total)
	}
	seqs := make([]int64, len(all))
	for i, s := range all {
		seqs[i] = s.Seq
	}
	slices.Sort(seqs)
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("sequence numbers are not 1..%d without gaps: position %d has %d", total, i, s)
		}
	}
}

func testCanceled(t *testing.T, h Harness) {
	st, _ := open(t, h)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := st.Append(ctx, pending(spec{id: "never"})); err == nil {
		t.Fatal("Append with a cancelled context succeeded")
	}
	if _, err := st.Get(context.Background(), "never"); vakt.ErrorCode(err) != vakt.CodeNotFound {
		t.Fatal("entry of a cancelled Append was stored")
	}
	if res := mustAppend(t, st, spec{id: "next"}); res[0].Seq != 1 {
		t.Fatalf("seq after a cancelled Append = %d, want 1", res[0].Seq)
	}
}

func testReserve(t *testing.T, h Harness) {
	st, _ := open(t, h)
	r1, err := ident.NewPersonID("1.2.752.97.3.1.3", "RES-0001", base, true)
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := ident.NewPersonID("1.2.752.97.3.1.3", "RES-0002", base, true)
	e := spec{id: "r1"}.entry()
	e.Resources[0].Patient.ID = r1
	e2 := spec{id: "r2", patients: []int{0}}.entry()
	e2.Resources[0].Patient.ID = r2
	if _, err := st.Append(context.Background(), []accesslog.Pending{accesslog.Prepare(e), accesslog.Prepare(e2)}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		p    ident.PersonID
		want []string
	}{{r1, []string{"r1"}}, {r2, []string{"r2"}}} {
		if got := logIDs(t, searchAll(t, st, accesslog.Query{PatientID: c.p})); !slices.Equal(got, c.want) {
			t.Fatalf("reserve number search: got %v, want %v", got, c.want)
		}
	}
	r3, _ := ident.NewPersonID("1.2.752.97.3.1.3", "RES-0003", base, true)
	if got := searchAll(t, st, accesslog.Query{PatientID: r3}); len(got) != 0 {
		t.Fatalf("unknown reserve number found %d entries", len(got))
	}
}

func testStats(t *testing.T, h Harness) {
	st, _ := open(t, h)
	mustAppend(t, st, fixture...)
	s, err := st.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Entries != int64(len(fixture)) {
		t.Fatalf("Stats.Entries = %d, want %d", s.Entries, len(fixture))
	}
}

// testModel appends a random workload in random batches (with duplicates and conflicts),
// reopens the store halfway, and checks random queries, paged, against a reference.
func testModel(t *testing.T, h Harness) {
	n, queries := 1500, 60
	if h.Large {
		n, queries = 12000, 150
	}
	if testing.Short() {
		n, queries = n/3, queries/3
	}
	r := rand.New(rand.NewPCG(42, uint64(n)))
	opener := h.New(t)
	st := opener()
	defer func() { st.Close() }()

	type stored struct {
		e   accesslog.Entry
		seq int64
	}
	var model []stored
	byID := map[string]int{}
	next := int64(1)
	i := 0
	for i < n {
		size := 1 + r.IntN(200)
		var batch []accesslog.Pending
		var fresh []accesslog.Entry
		conflictAt := -1
		for j := 0; j < size && i < n; j++ {
			if len(model) > 0 && r.IntN(20) == 0 {
				// A re-send of a stored entry: identical, or (rarely) changed.
				old := model[r.IntN(len(model))].e
				if r.IntN(10) == 0 && conflictAt < 0 {
					old.Activity.Args = "changed"
					conflictAt = len(batch)
				}
				batch = append(batch, accesslog.Prepare(old))
				continue
			}
			s := spec{
				id:   fmt.Sprintf("m%06d", i),
				at:   time.Duration(r.IntN(90*24*60)) * time.Minute,
				user: r.IntN(len(users)), unit: r.IntN(len(units)), act: r.IntN(len(acts)),
			}
			for range r.IntN(3) {
				s.patients = append(s.patients, r.IntN(len(patients)))
			}
			e := s.entry()
			batch = append(batch, accesslog.Prepare(e))
			fresh = append(fresh, e)
			i++
		}
		res, err := st.Append(context.Background(), batch)
		if conflictAt >= 0 {
			if vakt.ErrorCode(err) != vakt.CodeConflict {
				t.Fatalf("batch with a changed re-send: err = %v, want conflict", err)
			}
			i -= len(fresh) // the batch was rejected whole; its fresh entries are retried later
			continue
		}
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		k := 0
		for j, p := range batch {
			if idx, ok := byID[p.Entry.LogID]; ok {
				if !res[j].Duplicate || res[j].Seq != model[idx].seq {
					t.Fatalf("re-send of %s: %+v, want duplicate of %d", p.Entry.LogID, res[j], model[idx].seq)
				}
				continue
			}
			if res[j].Duplicate || res[j].Seq != next {
				t.Fatalf("entry %s: %+v, want new seq %d", p.Entry.LogID, res[j], next)
			}
			byID[p.Entry.LogID] = len(model)
			model = append(model, stored{e: fresh[k], seq: next})
			k++
			next++
		}
		if len(model) > n/2 && len(model)-len(fresh) <= n/2 {
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			st = opener()
		}
	}

	for range queries {
		var q accesslog.Query
		switch r.IntN(6) {
		case 0:
			q.PatientID = patients[r.IntN(len(patients))]
		case 1:
			q.UserID = users[r.IntN(len(users))]
		case 2:
			q.CareUnitID = units[r.IntN(len(units))]
		case 3:
			q.PatientID = patients[r.IntN(len(patients))]
			q.ActivityType = acts[r.IntN(len(acts))]
		case 4:
			q.UserID = users[r.IntN(len(users))]
			q.CareUnitID = units[r.IntN(len(units))]
		}
		if r.IntN(2) == 0 {
			q.From = base.Add(time.Duration(r.IntN(45*24)) * time.Hour)
			q.To = q.From.Add(time.Duration(1+r.IntN(45*24)) * time.Hour)
		}
		var want []int64
		for _, m := range model {
			if q.Matches(&m.e) {
				want = append(want, m.seq)
			}
		}
		slices.SortFunc(want, func(a, b int64) int {
			ea, eb := model[a-1].e.Activity.StartDate, model[b-1].e.Activity.StartDate
			if c := eb.Compare(ea); c != 0 {
				return c
			}
			return int(b - a)
		})
		q.Limit = 1 + r.IntN(300)
		var got []int64
		for {
			p, err := st.Search(context.Background(), q)
			if err != nil {
				t.Fatalf("Search(%+v): %v", q, err)
			}
			for _, e := range p.Entries {
				got = append(got, e.Seq)
			}
			if p.Next.IsZero() {
				break
			}
			q.After = p.Next
		}
		if !slices.Equal(got, want) {
			t.Fatalf("query %+v: got %d entries, want %d\n got %v\nwant %v", q, len(got), len(want), head(got), head(want))
		}
	}
}

func head(s []int64) []int64 { return s[:min(len(s), 20)] }

// testLastActivity checks accesslog.LastActivity on the driver: per user the newest entry made
// from the unit, whatever the user did at other units later, found among sealed entries after a
// reopen as well as among fresh ones.
func testLastActivity(t *testing.T, h Harness) {
	opener := h.New(t)
	st := opener()
	var specs []spec
	// user 0 works at unit 0 every hour for 10 days, then moves to unit 1 for 5 days;
	// user 1 works at unit 1 only; user 2 at unit 0 once; user 3 never.
	for i := range 240 {
		specs = append(specs, spec{id: fmt.Sprintf("la-%d", i), at: time.Duration(i) * time.Hour, user: 0, unit: 0, patients: []int{i % len(patients)}})
	}
	for i := range 120 {
		specs = append(specs, spec{id: fmt.Sprintf("lb-%d", i), at: time.Duration(240+i) * time.Hour, user: 0, unit: 1, patients: []int{i % len(patients)}})
		specs = append(specs, spec{id: fmt.Sprintf("lc-%d", i), at: time.Duration(i) * time.Hour, user: 1, unit: 1})
	}
	specs = append(specs, spec{id: "ld", at: 5 * time.Hour, user: 2, unit: 0, patients: []int{1}})
	mustAppend(t, st, specs...)
	check := func(st accesslog.Store, when string) {
		t.Helper()
		got, err := accesslog.LastActivity(context.Background(), st, units[0], []ident.HSAID{users[0], users[1], users[2], users[3], users[0]})
		if err != nil {
			t.Fatal(err)
		}
		want := map[ident.HSAID]time.Time{users[0]: base.Add(239 * time.Hour), users[2]: base.Add(5 * time.Hour)}
		if len(got) != len(want) {
			t.Fatalf("%s: %v, want %v", when, got, want)
		}
		for u, w := range want {
			if !got[u].Equal(w) {
				t.Fatalf("%s: %s last active %v, want %v", when, u, got[u], w)
			}
		}
		got, err = accesslog.LastActivity(context.Background(), st, units[1], []ident.HSAID{users[0], users[1]})
		if err != nil {
			t.Fatal(err)
		}
		if !got[users[0]].Equal(base.Add(359*time.Hour)) || !got[users[1]].Equal(base.Add(119*time.Hour)) {
			t.Fatalf("%s: unit 1: %v", when, got)
		}
	}
	check(st, "fresh")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = opener()
	defer st.Close()
	check(st, "after reopen")
	// a newer entry at the unit wins at once
	mustAppend(t, st, spec{id: "le", at: 400 * time.Hour, user: 0, unit: 0})
	got, err := accesslog.LastActivity(context.Background(), st, units[0], []ident.HSAID{users[0]})
	if err != nil || !got[users[0]].Equal(base.Add(400*time.Hour)) {
		t.Fatalf("after a new entry: %v, %v", got, err)
	}
}
