// Package controltest is the conformance suite every control.Store driver runs: Run(t, newStores)
// checks each clause of control.Store's contract on fresh stores.
package controltest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/control"
)

func sample(id string, created time.Time) control.Control {
	from := time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC)
	return control.Control{
		ID: id, TenantID: "region-a", Type: control.TypeSample,
		Scope:    control.Scope{CareUnit: "SE2321000016-A1", From: from, To: from.AddDate(0, 1, 0), Month: "2026-04"},
		Reviewer: control.Person{Username: "gun", HSAID: "SE2321000016-G1", Name: "Gun Granskare"},
		Created:  created,
		Sample:   &control.SampleParams{Algorithm: control.SampleAlgorithm, Seed: 1 << 63, Size: 2, Population: 40},
		Items:    []control.Item{{LogID: "a", Seq: 3}, {LogID: "b", Seq: 17}},
	}
}

// Run runs the suite; newStores returns empty Stores for each subtest.
func Run(t *testing.T, newStores func(t *testing.T) control.Stores) {
	ctx := context.Background()
	at := time.Date(2026, 5, 2, 9, 30, 0, 123000, time.UTC)
	open := func(t *testing.T, tenantID string) control.Store {
		st, err := newStores(t).Controls(ctx, tenantID)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	actor := control.Person{Username: "gun", HSAID: "SE2321000016-G1"}

	t.Run("CreateGetRoundTrip", func(t *testing.T) {
		st := open(t, "region-a")
		c := sample("c1", at)
		if err := st.Create(ctx, &c, control.Event{At: at, Actor: actor, Action: control.ActionCreated}); err != nil {
			t.Fatal(err)
		}
		got, err := st.Get(ctx, "c1")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != "c1" || got.Sample.Seed != 1<<63 || len(got.Items) != 2 || got.Items[1].Seq != 17 || !got.Created.Equal(at) ||
			!got.Scope.From.Equal(c.Scope.From) || got.Scope.Month != "2026-04" || got.Reviewer != c.Reviewer || got.Closed != nil {
			t.Fatalf("round trip: %+v", got)
		}
		if err := st.Create(ctx, &c, control.Event{At: at, Actor: actor, Action: control.ActionCreated}); vakt.ErrorCode(err) != vakt.CodeConflict {
			t.Fatalf("second create: %v, want conflict", err)
		}
		h, err := st.History(ctx, "c1")
		if err != nil || len(h) != 1 || h[0].Action != control.ActionCreated || !h[0].At.Equal(at) {
			t.Fatalf("history %+v, %v", h, err)
		}
		if _, err := st.Get(ctx, "nope"); vakt.ErrorCode(err) != vakt.CodeNotFound {
			t.Fatalf("missing: %v", err)
		}
	})

	t.Run("TargetedScopeRoundTrip", func(t *testing.T) {
		st := open(t, "region-a")
		c := sample("t1", at)
		c.Type, c.Scope.Month = control.TypeTargeted, ""
		c.Scope.Flag, c.Scope.FlagLogID = "colleague", "9b1c3f2e-0000-4000-8000-000000000001"
		c.Scope.Patient, c.Scope.Staff = "191212121212", "SE2321000016-S7"
		c.Sample = &control.SampleParams{Algorithm: control.TargetedAlgorithm, Size: control.MaxTargetedItems, Population: 2}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if err := st.Create(ctx, &c, control.Event{At: at, Actor: actor, Action: control.ActionCreated}); err != nil {
			t.Fatal(err)
		}
		got, err := st.Get(ctx, "t1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Type != control.TypeTargeted || got.Scope != c.Scope || !reflect.DeepEqual(got.Sample, c.Sample) {
			t.Fatalf("targeted scope: %+v, want %+v", got.Scope, c.Scope)
		}
		l, err := st.List(ctx)
		if err != nil || len(l) != 1 || l[0].Scope != c.Scope {
			t.Fatalf("listed %+v, %v", l, err)
		}
	})

	t.Run("StratifiedSample", func(t *testing.T) {
		st := open(t, "region-a")
		c := sample("s1", time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC))
		c.Sample = &control.SampleParams{Algorithm: control.StratifiedAlgorithm, Seed: 7, Size: 2, Population: 40,
			StrataBy: control.StrataActivity, Strata: []control.Stratum{{Key: "Läsa", Population: 38, Drawn: 1}, {Key: "Skriva", Population: 2, Drawn: 1}}}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if err := st.Create(ctx, &c, control.Event{At: c.Created, Actor: c.Reviewer, Action: control.ActionCreated}); err != nil {
			t.Fatal(err)
		}
		got, err := st.Get(ctx, "s1")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Sample, c.Sample) {
			t.Fatalf("sample parameters %+v, want %+v", got.Sample, c.Sample)
		}
	})

	t.Run("ListNewestFirst", func(t *testing.T) {
		st := open(t, "region-a")
		if l, err := st.List(ctx); err != nil || len(l) != 0 {
			t.Fatalf("empty list %v, %v", l, err)
		}
		for i, id := range []string{"b", "c", "a"} {
			c := sample(id, at.Add(time.Duration(i%2)*time.Hour))
			if err := st.Create(ctx, &c, control.Event{At: at, Actor: actor, Action: control.ActionCreated}); err != nil {
				t.Fatal(err)
			}
		}
		l, err := st.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids string
		for _, c := range l {
			ids += c.ID
		}
		if ids != "cab" {
			t.Fatalf("order %q, want cab (newest, then by id)", ids)
		}
	})

	t.Run("UpdateAppendsHistoryOrNothing", func(t *testing.T) {
		st := open(t, "region-a")
		c := sample("c1", at)
		if err := st.Create(ctx, &c, control.Event{At: at, Actor: actor, Action: control.ActionCreated}); err != nil {
			t.Fatal(err)
		}
		later := at.Add(time.Minute)
		got, err := st.Update(ctx, "c1", func(c *control.Control) (control.Event, error) {
			it := c.Item(17)
			it.Assessment, it.Comment, it.AssessedBy, it.AssessedAt = control.NeedsFollowUp, "Fråga chefen", &actor, &later
			return control.Event{At: later, Actor: actor, Action: control.ActionAssessed, Seq: 17, Detail: "behover_uppfoljning"}, nil
		})
		if err != nil || got.Item(17).Assessment != control.NeedsFollowUp {
			t.Fatalf("update: %+v, %v", got, err)
		}
		boom := errors.New("boom")
		if _, err := st.Update(ctx, "c1", func(c *control.Control) (control.Event, error) {
			c.Findings = "should not stay"
			return control.Event{}, boom
		}); !errors.Is(err, boom) {
			t.Fatalf("failing update: %v", err)
		}
		stored, err := st.Get(ctx, "c1")
		if err != nil || stored.Findings != "" || stored.Item(17).Comment != "Fråga chefen" || !stored.Item(17).AssessedAt.Equal(later) {
			t.Fatalf("stored after updates: %+v, %v", stored, err)
		}
		h, err := st.History(ctx, "c1")
		if err != nil || len(h) != 2 || h[1].Action != control.ActionAssessed || h[1].Seq != 17 || h[1].Detail != "behover_uppfoljning" {
			t.Fatalf("history %+v, %v", h, err)
		}
		if _, err := st.Update(ctx, "nope", func(*control.Control) (control.Event, error) { return control.Event{}, nil }); vakt.ErrorCode(err) != vakt.CodeNotFound {
			t.Fatalf("update missing: %v", err)
		}
	})

	t.Run("ConcurrentUpdatesSerialised", func(t *testing.T) {
		st := open(t, "region-a")
		c := sample("c1", at)
		if err := st.Create(ctx, &c, control.Event{At: at, Actor: actor, Action: control.ActionCreated}); err != nil {
			t.Fatal(err)
		}
		const n = 8
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			go func() {
				_, err := st.Update(ctx, "c1", func(c *control.Control) (control.Event, error) {
					c.Findings += "x"
					return control.Event{At: at, Actor: actor, Action: control.ActionAssessed, Seq: 3}, nil
				})
				errs <- err
			}()
		}
		for i := 0; i < n; i++ {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		got, _ := st.Get(ctx, "c1")
		h, _ := st.History(ctx, "c1")
		if len(got.Findings) != n || len(h) != n+1 {
			t.Fatalf("lost updates: findings %q, %d events", got.Findings, len(h))
		}
	})

	t.Run("TenantsIsolated", func(t *testing.T) {
		stores := newStores(t)
		a, err := stores.Controls(ctx, "region-a")
		if err != nil {
			t.Fatal(err)
		}
		b, err := stores.Controls(ctx, "region-b")
		if err != nil {
			t.Fatal(err)
		}
		c := sample("c1", at)
		if err := a.Create(ctx, &c, control.Event{At: at, Actor: actor, Action: control.ActionCreated}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Get(ctx, "c1"); vakt.ErrorCode(err) != vakt.CodeNotFound {
			t.Fatalf("other tenant sees the control: %v", err)
		}
		if l, _ := b.List(ctx); len(l) != 0 {
			t.Fatal("other tenant lists the control")
		}
		c2 := sample("c1", at)
		c2.TenantID = "region-b"
		if err := b.Create(ctx, &c2, control.Event{At: at, Actor: actor, Action: control.ActionCreated}); err != nil {
			t.Fatalf("same id in another tenant: %v", err)
		}
	})
}
