// Package permlisttest is the conformance suite of permlist stores: every driver's
// permlist.Stores must pass it unchanged.
package permlisttest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/permlist"
)

// Run runs the suite. newStores returns empty stores for one test; the harness closes them.
func Run(t *testing.T, newStores func(t *testing.T) permlist.Stores) {
	t.Run("SetReplaceDelete", func(t *testing.T) { testSetReplaceDelete(t, newStores(t)) })
	t.Run("Isolation", func(t *testing.T) { testIsolation(t, newStores(t)) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, newStores(t)) })
}

const (
	unitA = ident.HSAID("SE2321000016-E001")
	unitB = ident.HSAID("SE2321000016-E002")
	userA = ident.HSAID("SE2321000016-U001")
	userB = ident.HSAID("SE2321000016-U002")
)

var at = time.Date(2026, 3, 1, 12, 0, 0, 123000, time.UTC)

func store(t *testing.T, s permlist.Stores, tenantID string) permlist.Store {
	t.Helper()
	st, err := s.PermissionMarks(context.Background(), tenantID)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func mark(unit, user ident.HSAID, reason string) permlist.Mark {
	return permlist.Mark{CareUnit: unit, HSAID: user, Reason: reason, At: at,
		By: permlist.Person{Username: "gun", HSAID: "SE2321000016-GUN1", Name: "Gun Granskare"}}
}

func marks(t *testing.T, st permlist.Store, unit ident.HSAID) []permlist.Mark {
	t.Helper()
	ms, err := st.Marks(context.Background(), unit)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func testSetReplaceDelete(t *testing.T, s permlist.Stores) {
	ctx := context.Background()
	st := store(t, s, "t1")
	if ms := marks(t, st, unitA); len(ms) != 0 {
		t.Fatalf("new store holds %v", ms)
	}
	for _, m := range []permlist.Mark{mark(unitA, userB, "Slutat 2026-02-28"), mark(unitA, userA, "Bytt enhet"), mark(unitB, userA, "Annan enhet")} {
		if err := st.SetMark(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	ms := marks(t, st, unitA)
	if len(ms) != 2 || ms[0].HSAID != userA || ms[1].HSAID != userB {
		t.Fatalf("marks of unit A: %+v", ms)
	}
	if m := ms[1]; m.Reason != "Slutat 2026-02-28" || m.CareUnit != unitA || m.By.Username != "gun" || m.By.HSAID != "SE2321000016-GUN1" || m.By.Name != "Gun Granskare" || !m.At.Equal(at) {
		t.Fatalf("mark read back as %+v", m)
	}
	// the same unit and person again replaces
	if err := st.SetMark(ctx, mark(unitA, userB, "Slutat 2026-03-01")); err != nil {
		t.Fatal(err)
	}
	if ms := marks(t, st, unitA); len(ms) != 2 || ms[1].Reason != "Slutat 2026-03-01" {
		t.Fatalf("after replacing: %+v", ms)
	}
	if err := st.DeleteMark(ctx, unitA, userB); err != nil {
		t.Fatal(err)
	}
	if ms := marks(t, st, unitA); len(ms) != 1 || ms[0].HSAID != userA {
		t.Fatalf("after delete: %+v", ms)
	}
	if err := st.DeleteMark(ctx, unitA, userB); vakt.ErrorCode(err) != vakt.CodeNotFound {
		t.Fatalf("deleting a missing mark: %v", err)
	}
	// the other unit's mark is untouched
	if ms := marks(t, st, unitB); len(ms) != 1 || ms[0].Reason != "Annan enhet" {
		t.Fatalf("unit B: %+v", ms)
	}
}

func testIsolation(t *testing.T, s permlist.Stores) {
	ctx := context.Background()
	if err := store(t, s, "t1").SetMark(ctx, mark(unitA, userA, "t1")); err != nil {
		t.Fatal(err)
	}
	t2 := store(t, s, "t2")
	if ms := marks(t, t2, unitA); len(ms) != 0 {
		t.Fatalf("tenant t2 sees %+v", ms)
	}
	if err := t2.DeleteMark(ctx, unitA, userA); vakt.ErrorCode(err) != vakt.CodeNotFound {
		t.Fatalf("tenant t2 deleted t1's mark: %v", err)
	}
	if ms := marks(t, store(t, s, "t1"), unitA); len(ms) != 1 {
		t.Fatalf("t1 lost its mark: %+v", ms)
	}
	if _, err := s.PermissionMarks(ctx, "../evil"); err == nil {
		t.Fatal("an invalid tenant id was accepted")
	}
}

func testConcurrent(t *testing.T, s permlist.Stores) {
	ctx := context.Background()
	st := store(t, s, "t1")
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := ident.HSAID("SE2321000016-C" + string(rune('A'+i)))
			if err := st.SetMark(ctx, mark(unitA, u, "x")); err != nil {
				errs <- err
				return
			}
			if i%2 == 0 {
				errs <- st.DeleteMark(ctx, unitA, u)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if ms := marks(t, st, unitA); len(ms) != 10 {
		t.Fatalf("%d marks, want 10", len(ms))
	}
}
