package accesslogtest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
)

// testScanAccesses checks that ScanAccesses returns exactly AccessOf of every stored entry in
// the period, whatever the entry's shape (several patients, reserve numbers, no patient, user
// personId, escaped texts, resources with and without a producing unit), across batches that
// arrive out of time order.
func testScanAccesses(t *testing.T, h Harness) {
	st, reopen := open(t, h)
	reserve, err := ident.NewPersonID("1.2.752.97.3.1.3", "RES-\"0001\"", base, true)
	if err != nil {
		t.Fatal(err)
	}
	var entries []accesslog.Entry
	n := 3000
	if !h.Large {
		n = 700
	}
	for i := range n {
		// Batches of 100 go in reverse time order, so a period's entries are not one run of
		// sequence numbers.
		batch, k := i/100, i%100
		at := time.Duration((n/100-batch)*100+k)*time.Minute + time.Duration(i%7)*time.Microsecond*1013
		s := spec{id: fmt.Sprintf("a%05d", i), at: at, user: i % 4, unit: i % 3, act: i % len(acts), note: fmt.Sprintf("anteckning \"%d\"\n\\ ✓", i)}
		switch i % 5 {
		case 0:
			s.patients = []int{i % len(patients)}
		case 1:
			s.patients = []int{i % len(patients), (i + 1) % len(patients), i % len(patients)}
		case 2:
			// no patient
		default:
			s.patients = []int{(i + 2) % len(patients)}
		}
		e := s.entry()
		switch i % 7 {
		case 0:
			e.User.PersonID = patients[(i+3)%len(patients)]
			e.Activity.Level = "Kontoadministration"
		case 1:
			e.Resources = append(e.Resources, accesslog.Resource{Type: "Labb svar", CareProvider: accesslog.CareProvider{ID: provider},
				CareUnit: accesslog.CareUnit{ID: units[(i+1)%3], Name: "Enhet \u00e5\u00e4\u00f6 \"x\""}, Patient: accesslog.Patient{ID: reserve, Name: "Okänd \\ patient"}})
		case 2:
			e.User.Name = "Namn \"med\" citat \\ ✓"
			e.User.Title = "Läkare"
			e.User.Assignment = "Vård \"och\" behandling"
		case 3:
			if len(e.Resources) > 0 {
				e.Resources[0].CareUnit = accesslog.CareUnit{ID: e.User.CareUnit.ID}
			}
		}
		entries = append(entries, e)
	}
	seqOf := map[string]int64{}
	for i := 0; i < len(entries); i += 100 {
		ps := make([]accesslog.Pending, 0, 100)
		for _, e := range entries[i:min(i+100, len(entries))] {
			ps = append(ps, accesslog.Prepare(e))
		}
		res, err := st.Append(context.Background(), ps)
		if err != nil {
			t.Fatal(err)
		}
		for j, r := range res {
			seqOf[entries[i+j].LogID] = r.Seq
		}
	}
	check := func(st accesslog.Store, from, to time.Time) {
		t.Helper()
		var want []accesslog.Access
		for i := range entries {
			if e := &entries[i]; !e.Activity.StartDate.Before(from) && e.Activity.StartDate.Before(to) {
				want = append(want, accesslog.AccessOf(e, seqOf[e.LogID]))
			}
		}
		var got []accesslog.Access
		err := st.ScanAccesses(context.Background(), from, to, func(a *accesslog.Access) error {
			c := *a
			c.Resources = slices.Clone(a.Resources)
			got = append(got, c)
			return nil
		})
		if err != nil {
			t.Fatalf("ScanAccesses: %v", err)
		}
		var ref []accesslog.Access
		if err := accesslog.ExportAccesses(context.Background(), st, from, to, func(a *accesslog.Access) error {
			ref = append(ref, *a)
			return nil
		}); err != nil {
			t.Fatalf("ExportAccesses: %v", err)
		}
		for _, s := range [][]accesslog.Access{want, got, ref} {
			slices.SortFunc(s, func(a, b accesslog.Access) int { return int(a.Seq - b.Seq) })
		}
		if len(got) != len(want) {
			t.Fatalf("[%s, %s): %d accesses, want %d", from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano), len(got), len(want))
		}
		for i := range want {
			if !reflect.DeepEqual(normal(got[i]), normal(want[i])) {
				t.Fatalf("access seq %d:\n got %+v\nwant %+v", want[i].Seq, got[i], want[i])
			}
			if !reflect.DeepEqual(normal(ref[i]), normal(want[i])) {
				t.Fatalf("ExportAccesses seq %d:\n got %+v\nwant %+v", want[i].Seq, ref[i], want[i])
			}
		}
	}
	end := base.Add(time.Duration(n+200) * time.Minute)
	check(st, base.Add(-time.Hour), end)
	check(st, base.Add(137*time.Minute), base.Add(1234*time.Minute))
	// Bounds: from is inclusive, to exclusive, at the entries' microseconds.
	e := entries[n/2]
	check(st, e.Activity.StartDate, e.Activity.StartDate.Add(time.Microsecond))
	check(st, e.Activity.StartDate.Add(time.Nanosecond), e.Activity.StartDate.Add(time.Hour))
	check(st, base.Add(-2*time.Hour), base.Add(-time.Hour))

	stop := errors.New("stop")
	calls := 0
	err = st.ScanAccesses(context.Background(), base.Add(-time.Hour), end, func(*accesslog.Access) error {
		calls++
		if calls == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 10 {
		t.Fatalf("ScanAccesses did not stop at the callback's error: calls=%d err=%v", calls, err)
	}

	st.Close()
	st = reopen()
	t.Cleanup(func() { st.Close() })
	check(st, base.Add(-time.Hour), end)
}

// normal makes an Access comparable with reflect.DeepEqual: times by instant, nil and empty
// resources alike.
func normal(a accesslog.Access) accesslog.Access {
	a.StartDate = a.StartDate.UTC()
	if len(a.Resources) == 0 {
		a.Resources = nil
	}
	return a
}
