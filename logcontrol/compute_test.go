package logcontrol

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/register"
	"github.com/vakt/vakt/synth"
)

// month is a generated month of accesses with registers that make every rule fire: synth's
// staff and population (colleagues, relatives, protected identities, the deceased), a watch
// list, cases open and closed, units with their own hours, entries naming two patients, users
// with personId, non-UUID logIds and account changes.
type month struct {
	entries []accesslog.Entry
	regs    *sliceRegisters
	start   time.Time
	days    int
	system  ident.HSAID
}

func genMonth(t *testing.T) *month {
	t.Helper()
	cp := ident.HSAID("SE2321000016-0001")
	g, err := synth.New(synth.Config{Seed: 7, CareProvider: cp, Entries: 30000, Persons: 6000, Staff: 400, Units: 25, Days: 14})
	if err != nil {
		t.Fatal(err)
	}
	m := &month{regs: &sliceRegisters{}, start: g.Config().Start, days: g.Config().Days, system: "SE2321000016-VAKT"}
	staff := g.Staff()
	persons := g.Persons()
	for i, s := range staff {
		rec := &register.Staff{HSAID: s.HSAID, PersonID: s.PersonID, GivenName: s.GivenName, FamilyName: s.FamilyName, CareProvider: cp}
		for k, u := range s.Units {
			a := register.Assignment{CareUnit: u, From: register.NewDate(2015, 1, 1)}
			if i%9 == 0 && k == 0 {
				a.To = register.NewDate(2026, 10, 5) // left during the month
			}
			rec.Units = append(rec.Units, a)
		}
		if i%13 == 0 {
			rec.Units = nil
		}
		m.regs.staff = append(m.regs.staff, rec)
	}
	for i, p := range persons {
		rec := &register.Person{PersonID: p.PersonID, GivenName: p.GivenName, FamilyName: p.FamilyName, ProtectedIdentity: p.ProtectedIdentity}
		if street, rest, ok := strings.Cut(p.Address, ", "); ok && len(rest) > 7 {
			rec.Address = &register.Address{Street: street, PostalCode: rest[:6], City: rest[7:]}
		}
		if !p.Deceased.IsZero() {
			rec.DeceasedDate = register.DateOf(p.Deceased, time.UTC)
		}
		m.regs.persons = append(m.regs.persons, rec)
		switch {
		case i%211 == 0:
			m.regs.watch = append(m.regs.watch, &register.WatchEntry{PersonID: p.PersonID, Reason: "Medialt intresse"})
		case i%307 == 0:
			m.regs.watch = append(m.regs.watch, &register.WatchEntry{PersonID: p.PersonID, Reason: "Utgånget", Until: register.NewDate(2026, 10, 6)})
		}
		switch {
		case i%17 == 0:
			m.regs.cases = append(m.regs.cases, &register.Case{ID: fmt.Sprintf("Ä-%d", i), Patient: p.PersonID, Status: register.CaseClosed,
				ClosedAt: m.start.Add(time.Duration(i%300) * time.Hour)})
		case i%29 == 0:
			m.regs.cases = append(m.regs.cases, &register.Case{ID: fmt.Sprintf("Ä-%d", i), Patient: p.PersonID, Status: register.CaseOpen})
		}
	}
	for i, u := range g.Units() {
		if i%3 == 0 {
			h := register.DefaultHours()
			h.Days[time.Saturday] = register.Span{From: 8 * 60, To: 14 * 60}
			if i%2 == 0 {
				h.Holiday = register.Span{From: 0, To: 24 * 60}
			}
			m.regs.units = append(m.regs.units, &register.Unit{CareUnit: u.HSAID, Hours: h})
		}
	}
	for i := 0; ; i++ {
		e, ok := g.Next()
		if !ok {
			break
		}
		switch {
		case i%41 == 0 && len(e.Resources) > 0:
			r := e.Resources[0]
			r.Patient.ID = persons[(i*7)%len(persons)].PersonID
			r.CareUnit = accesslog.CareUnit{ID: e.User.CareUnit.ID}
			e.Resources = append(e.Resources, r)
		case i%53 == 0:
			st := staff[i%len(staff)]
			e.User.ID, e.User.PersonID = st.HSAID, st.PersonID
			if len(e.Resources) > 0 && i%2 == 0 {
				e.Resources[0].Patient.ID = st.PersonID // their own record
			}
		case i%71 == 0:
			e.LogID = strings.ToUpper(e.LogID)
		case i%89 == 0:
			e.LogID = fmt.Sprintf("egen-%d", i)
		}
		m.entries = append(m.entries, e)
	}
	for i := range 6 {
		st := staff[i]
		before := account.User{Username: fmt.Sprintf("admin%d", i), HSAID: st.HSAID, Roles: []vakt.Role{vakt.RoleLocalAdmin}}
		after := before
		after.Roles = []vakt.Role{vakt.RoleLocalAdmin, vakt.RoleReviewer}
		by := before.Username
		if i%2 == 1 {
			by = "någon.annan"
		}
		ch := account.Change{Action: account.ActionRoles, Before: before, After: after}
		rec := ch.Record(by)
		sys := m.system
		if i == 4 {
			sys = "SE2321000016-SYS9" // not vakt's record
		}
		m.entries = append(m.entries, accesslog.Entry{
			LogID:  fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
			System: accesslog.System{ID: sys},
			Activity: accesslog.Activity{Type: accesslog.ActivityWrite, Level: accesslog.AccountChangeLevel, Args: rec.Args(),
				StartDate: m.start.Add(time.Duration(20+i*30) * time.Hour).UTC(), Purpose: accesslog.PurposeAdministration},
			User:      accesslog.User{ID: st.HSAID, CareProvider: accesslog.CareProvider{ID: cp}, CareUnit: accesslog.CareUnit{ID: cp}},
			Resources: []accesslog.Resource{{Type: "Konto", CareProvider: accesslog.CareProvider{ID: cp}}},
		})
	}
	return m
}

// TestComputeMatchesReference holds Compute (projections read once, judged on all cores) to
// the straightforward computation it replaced (whole entries read twice, map lookups), on a
// generated month, for whole periods and parts, all kinds and some, a unit and a visibility
// limit: the results must be identical, reasons and explanations included.
func TestComputeMatchesReference(t *testing.T) {
	m := genMonth(t)
	ctx := context.Background()
	src := &sliceLog{entries: m.entries}
	start := m.start
	unit := m.entries[100].User.CareUnit.ID
	queries := []struct {
		name    string
		q       Query
		visible Visible
	}{
		{"whole period", Query{From: start, To: start.AddDate(0, 0, m.days), AccountSystem: m.system}, nil},
		{"middle week", Query{From: start.AddDate(0, 0, 3), To: start.AddDate(0, 0, 10), AccountSystem: m.system}, nil},
		{"one unit", Query{From: start, To: start.AddDate(0, 0, m.days), CareUnit: unit}, nil},
		{"some kinds", Query{From: start, To: start.AddDate(0, 0, m.days), Kinds: []Kind{KindColleague, KindSameSurname, KindHighVolume, KindSelfGrantedRole}}, nil},
		{"visible units", Query{From: start, To: start.AddDate(0, 0, m.days), AccountSystem: m.system},
			func(u ident.HSAID) bool { return u == unit || strings.HasSuffix(string(u), "1") }},
	}
	for _, c := range queries {
		t.Run(c.name, func(t *testing.T) {
			want, err := refCompute(ctx, src, m.regs, c.q, c.visible)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Compute(ctx, src, m.regs, c.q, c.visible)
			if err != nil {
				t.Fatal(err)
			}
			wj, _ := json.Marshal(want)
			gj, _ := json.Marshal(got)
			if string(wj) != string(gj) {
				t.Fatalf("results differ: %d flags and %d units, want %d and %d\n%s", len(got.Flags), len(got.Units), len(want.Flags), len(want.Units), firstDiff(gj, wj))
			}
			kinds := map[Kind]int{}
			for _, f := range got.Flags {
				kinds[f.Kind]++
			}
			if c.name == "whole period" {
				for _, k := range Kinds() {
					if kinds[k] == 0 {
						t.Errorf("the generated month raises no %s flag, so the comparison does not cover that rule", k)
					}
				}
				t.Logf("%d flags: %v", len(got.Flags), kinds)
			}
		})
	}
}

func firstDiff(a, b []byte) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			lo := max(0, i-200)
			return fmt.Sprintf("got  …%s…\nwant …%s…", a[lo:min(len(a), i+200)], b[lo:min(len(b), i+200)])
		}
	}
	return "one is a prefix of the other"
}

// sliceLog serves a slice of entries in the store's order (newest first) as both kinds of
// source: whole entries for the reference, projections for Compute.
type sliceLog struct{ entries []accesslog.Entry }

func (s *sliceLog) in(from, to time.Time) []int {
	var out []int
	for i := len(s.entries) - 1; i >= 0; i-- {
		if at := s.entries[i].Activity.StartDate; !at.Before(from) && at.Before(to) {
			out = append(out, i)
		}
	}
	return out
}

func (s *sliceLog) Each(_ context.Context, from, to time.Time, unit ident.HSAID, fn func(*accesslog.Entry) error) error {
	for _, i := range s.in(from, to) {
		if unit == "" || s.entries[i].User.CareUnit.ID == unit {
			if err := fn(&s.entries[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *sliceLog) Accesses(_ context.Context, from, to time.Time, fn func(*accesslog.Access) error) error {
	for _, i := range s.in(from, to) {
		a := accesslog.AccessOf(&s.entries[i], int64(i+1))
		if err := fn(&a); err != nil {
			return err
		}
	}
	return nil
}

func (s *sliceLog) Entry(_ context.Context, logID string) (accesslog.Entry, error) {
	for _, e := range s.entries {
		if e.LogID == logID {
			return e, nil
		}
	}
	return accesslog.Entry{}, vakt.Errorf(vakt.CodeNotFound, "no entry with that logId")
}

// sliceRegisters is a register.Source over slices.
type sliceRegisters struct {
	staff   []*register.Staff
	persons []*register.Person
	watch   []*register.WatchEntry
	cases   []*register.Case
	units   []*register.Unit
}

func (r *sliceRegisters) Staff(_ context.Context, fn func(*register.Staff) error) error {
	for _, s := range r.staff {
		if err := fn(s); err != nil {
			return err
		}
	}
	return nil
}

func (r *sliceRegisters) Persons(_ context.Context, ids []ident.PersonID, fn func(*register.Person) error) error {
	want := map[ident.PersonID]bool{}
	for _, id := range ids {
		want[id] = true
	}
	for _, p := range r.persons {
		if want[p.PersonID] {
			if err := fn(p); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *sliceRegisters) Watchlist(_ context.Context, fn func(*register.WatchEntry) error) error {
	for _, w := range r.watch {
		if err := fn(w); err != nil {
			return err
		}
	}
	return nil
}

func (r *sliceRegisters) Cases(_ context.Context, patients []ident.PersonID, fn func(*register.Case) error) error {
	want := map[ident.PersonID]bool{}
	for _, id := range patients {
		want[id] = true
	}
	for _, c := range r.cases {
		if want[c.Patient] {
			if err := fn(c); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *sliceRegisters) Units(_ context.Context, fn func(*register.Unit) error) error {
	for _, u := range r.units {
		if err := fn(u); err != nil {
			return err
		}
	}
	return nil
}
