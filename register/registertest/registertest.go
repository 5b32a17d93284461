// Package registertest is the conformance suite of register stores: every driver's
// register.Stores must pass it unchanged.
package registertest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/register"
)

// Run runs the suite. newStores returns empty stores for one test; the harness closes them.
func Run(t *testing.T, newStores func(t *testing.T) register.Stores) {
	t.Run("ImportAndRead", func(t *testing.T) { testImportAndRead(t, newStores(t)) })
	t.Run("Modes", func(t *testing.T) { testModes(t, newStores(t)) })
	t.Run("Atomic", func(t *testing.T) { testAtomic(t, newStores(t)) })
	t.Run("Isolation", func(t *testing.T) { testIsolation(t, newStores(t)) })
	t.Run("Lookups", func(t *testing.T) { testLookups(t, newStores(t)) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, newStores(t)) })
	t.Run("UpsertAndDeleteOne", func(t *testing.T) { testUpsertAndDeleteOne(t, newStores(t)) })
}

// Valid personnummer (Skatteverket's test numbers) used by the suite.
const pnrA = "19121212-1212"

var pnrB = PNR(4242) // a different person

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// PNR returns the i-th valid personnummer of a deterministic series (born 1950-01-01 + i days),
// for tests that need many distinct people.
func PNR(i int) string {
	d := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/900)
	serial := 100 + i%900
	nine := fmt.Sprintf("%s%03d", d.Format("060102"), serial)
	return d.Format("20060102") + fmt.Sprintf("%03d%d", serial, ident.CheckDigit([]byte(nine)))
}

func importText(t *testing.T, st register.Stores, tenantID string, kind register.Kind, mode register.Mode, body string) (register.ImportReport, error) {
	t.Helper()
	svc := register.Service{Stores: st, Now: func() time.Time { return now }}
	return svc.ImportTenant(context.Background(), tenantID, kind, mode, strings.NewReader(body))
}

func mustImport(t *testing.T, st register.Stores, tenantID string, kind register.Kind, mode register.Mode, body string) register.ImportReport {
	t.Helper()
	rep, err := importText(t, st, tenantID, kind, mode, body)
	if err != nil {
		t.Fatalf("import %s: %v", kind, err)
	}
	return rep
}

func source(t *testing.T, st register.Stores, tenantID string) register.Registers {
	t.Helper()
	s, err := st.Registers(context.Background(), tenantID)
	if err != nil {
		t.Fatal(err)
	}
	return register.Registers{Store: s}
}

func staffOf(t *testing.T, src register.Source) map[ident.HSAID]*register.Staff {
	t.Helper()
	out := map[ident.HSAID]*register.Staff{}
	if err := src.Staff(context.Background(), func(s *register.Staff) error { out[s.HSAID] = s; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func pid(t *testing.T, s string) ident.PersonID {
	t.Helper()
	p, err := ident.ParsePersonID(s, now)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func testImportAndRead(t *testing.T, st register.Stores) {
	ctx := context.Background()
	staff := `[{"hsaId":"SE2321000016-A1","personId":"` + pnrA + `","givenName":"Anna","familyName":"Berg",
	  "address":{"street":"Storgatan 1","postalCode":"111 22","city":"Stockholm"},"careProviderId":"SE2321000016-0001",
	  "units":[{"careUnitId":"SE2321000016-U1","from":"2020-01-01","to":"2024-12-31"},{"careUnitId":"SE2321000016-U2","from":"2025-01-01"}],
	  "roles":["läkare"]}]`
	rep := mustImport(t, st, "t1", register.KindStaff, register.ModeReplace, staff)
	if rep.Imported != 1 || rep.Total != 1 || rep.Kind != register.KindStaff || rep.Mode != register.ModeReplace {
		t.Fatalf("report = %+v", rep)
	}
	got := staffOf(t, source(t, st, "t1"))["SE2321000016-A1"]
	if got == nil {
		t.Fatal("staff member not read back")
	}
	if got.PersonID != pid(t, pnrA) || got.GivenName != "Anna" || got.FamilyName != "Berg" || got.CareProvider != "SE2321000016-0001" ||
		got.Address == nil || got.Address.Street != "Storgatan 1" || got.Address.City != "Stockholm" ||
		len(got.Units) != 2 || got.Units[0].CareUnit != "SE2321000016-U1" || got.Units[0].From.String() != "2020-01-01" ||
		got.Units[0].To.String() != "2024-12-31" || !got.Units[1].To.IsZero() || !slices.Equal(got.Roles, []string{"läkare"}) {
		t.Fatalf("staff read back = %+v", got)
	}

	persons := `{"personId":"` + pnrA + `","givenName":"Anna","familyName":"Berg","protectedIdentity":true}
{"personId":"` + pnrB + `","familyName":"Ek","deceasedDate":"2025-06-01","address":{"street":"Ekvägen 2"}}
`
	if rep := mustImport(t, st, "t1", register.KindPersons, register.ModeReplace, persons); rep.Imported != 2 {
		t.Fatalf("persons report = %+v", rep)
	}
	src := source(t, st, "t1")
	ps := map[ident.PersonID]*register.Person{}
	err := src.Persons(ctx, []ident.PersonID{pid(t, pnrA), pid(t, pnrB)}, func(p *register.Person) error { ps[p.PersonID] = p; return nil })
	if err != nil {
		t.Fatal(err)
	}
	a, b := ps[pid(t, pnrA)], ps[pid(t, pnrB)]
	if a == nil || b == nil || !a.ProtectedIdentity || b.ProtectedIdentity || b.DeceasedDate.String() != "2025-06-01" || !a.DeceasedDate.IsZero() ||
		b.Address == nil || b.Address.Street != "Ekvägen 2" {
		t.Fatalf("persons read back: %+v %+v", a, b)
	}

	mustImport(t, st, "t1", register.KindWatchlist, register.ModeReplace, `[{"personId":"`+pnrB+`","reason":"Känd artist","until":"2026-12-31"}]`)
	var ws []*register.WatchEntry
	if err := src.Watchlist(ctx, func(w *register.WatchEntry) error { ws = append(ws, w); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(ws) != 1 || ws[0].PersonID != pid(t, pnrB) || ws[0].Reason != "Känd artist" || ws[0].Until.String() != "2026-12-31" {
		t.Fatalf("watch list = %+v", ws)
	}

	mustImport(t, st, "t1", register.KindCases, register.ModeReplace, `[{"caseId":"Ä-1","patientId":"`+pnrB+`","handlerHsaId":"SE2321000016-A1","status":"closed","closedAt":"2026-01-10T09:00:00+01:00"},
	  {"caseId":"Ä-2","patientId":"`+pnrA+`","status":"open"}]`)
	var cs []*register.Case
	if err := src.Cases(ctx, []ident.PersonID{pid(t, pnrB)}, func(c *register.Case) error { cs = append(cs, c); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].ID != "Ä-1" || cs[0].Status != register.CaseClosed || !cs[0].ClosedAt.Equal(time.Date(2026, 1, 10, 8, 0, 0, 0, time.UTC)) || cs[0].Handler != "SE2321000016-A1" {
		t.Fatalf("cases = %+v", cs)
	}

	mustImport(t, st, "t1", register.KindUnits, register.ModeReplace, `[{"careUnitId":"SE2321000016-U1","workingHours":{"mon":"00:00-24:00","sat":"08:00-12:00","holiday":"10:00-14:00"}}]`)
	var us []*register.Unit
	if err := src.Units(ctx, func(u *register.Unit) error { us = append(us, u); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(us) != 1 || us[0].Hours.Days[time.Monday] != (register.Span{From: 0, To: 1440}) || us[0].Hours.Days[time.Saturday] != (register.Span{From: 480, To: 720}) ||
		us[0].Hours.Days[time.Tuesday].Open() || us[0].Hours.Holiday != (register.Span{From: 600, To: 840}) {
		t.Fatalf("units = %+v", us)
	}
}

func staffLine(hsa, pnr, family string) string {
	return `{"hsaId":"` + hsa + `","personId":"` + pnr + `","familyName":"` + family + `","careProviderId":"SE2321000016-0001"}` + "\n"
}

func testModes(t *testing.T, st register.Stores) {
	mustImport(t, st, "t1", register.KindStaff, register.ModeReplace, staffLine("SE2321000016-A1", PNR(1), "Berg")+staffLine("SE2321000016-A2", PNR(2), "Ek"))
	rep := mustImport(t, st, "t1", register.KindStaff, register.ModeUpsert, staffLine("SE2321000016-A2", PNR(2), "Ekman")+staffLine("SE2321000016-A3", PNR(3), "Al"))
	if rep.Imported != 2 || rep.Total != 3 {
		t.Fatalf("upsert report = %+v", rep)
	}
	got := staffOf(t, source(t, st, "t1"))
	if len(got) != 3 || got["SE2321000016-A1"].FamilyName != "Berg" || got["SE2321000016-A2"].FamilyName != "Ekman" || got["SE2321000016-A3"].FamilyName != "Al" {
		t.Fatalf("after upsert: %d records", len(got))
	}
	rep = mustImport(t, st, "t1", register.KindStaff, register.ModeReplace, staffLine("SE2321000016-A3", PNR(3), "Alm"))
	if rep.Total != 1 {
		t.Fatalf("replace report = %+v", rep)
	}
	got = staffOf(t, source(t, st, "t1"))
	if len(got) != 1 || got["SE2321000016-A3"].FamilyName != "Alm" {
		t.Fatalf("after replace: %v", got)
	}
	// An empty replace empties the register.
	if rep := mustImport(t, st, "t1", register.KindStaff, register.ModeReplace, "[]"); rep.Total != 0 || rep.Imported != 0 {
		t.Fatalf("empty replace report = %+v", rep)
	}
}

func testAtomic(t *testing.T, st register.Stores) {
	mustImport(t, st, "t1", register.KindStaff, register.ModeReplace, staffLine("SE2321000016-A1", PNR(1), "Berg"))
	// Many valid records, then a broken one: nothing of it may remain, in either mode.
	var b strings.Builder
	b.WriteString("[")
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&b, `{"hsaId":"SE2321000016-B%d","personId":"%s","familyName":"X","careProviderId":"SE2321000016-0001","units":[{"careUnitId":"SE2321000016-U1","from":"2020-01-01"}]},`, i, PNR(i))
	}
	fmt.Fprintf(&b, `{"hsaId":"SE2321000016-B9999","personId":"%s","familyName":"X","careProviderId":"SE2321000016-0001","units":[{"careUnitId":"SE2321000016-U1","from":"1 jan"}]}]`, pnrA)
	for _, mode := range []register.Mode{register.ModeReplace, register.ModeUpsert} {
		_, err := importText(t, st, "t1", register.KindStaff, mode, b.String())
		if vakt.ErrorCode(err) != vakt.CodeInvalid {
			t.Fatalf("%s: broken import: %v", mode, err)
		}
		probs := vakt.ErrorProblems(err)
		if len(probs) != 1 || probs[0].Index != 5000 || probs[0].Field != "units[0].from" || probs[0].Reason != "is not a date (YYYY-MM-DD)" {
			t.Fatalf("%s: problems = %+v", mode, probs)
		}
		if strings.Contains(err.Error(), "191212121212") || strings.Contains(err.Error(), pnrA) {
			t.Fatalf("error text shows a personnummer: %v", err)
		}
		got := staffOf(t, source(t, st, "t1"))
		if len(got) != 1 || got["SE2321000016-A1"] == nil {
			t.Fatalf("%s: a failed import changed the register (%d records)", mode, len(got))
		}
	}
	// Malformed JSON halfway.
	_, err := importText(t, st, "t1", register.KindStaff, register.ModeReplace, staffLine("SE2321000016-A7", PNR(7), "Y")+`{"hsaId":`)
	if vakt.ErrorCode(err) != vakt.CodeInvalid || vakt.ErrorProblems(err)[0].Index != 1 {
		t.Fatalf("malformed JSON: %v", err)
	}
	if got := staffOf(t, source(t, st, "t1")); len(got) != 1 {
		t.Fatalf("malformed import changed the register")
	}
}

func testIsolation(t *testing.T, st register.Stores) {
	mustImport(t, st, "t1", register.KindStaff, register.ModeReplace, staffLine("SE2321000016-A1", PNR(1), "Berg"))
	mustImport(t, st, "t2", register.KindStaff, register.ModeReplace, staffLine("SE2321000016-A2", PNR(2), "Ek"))
	mustImport(t, st, "t1", register.KindWatchlist, register.ModeReplace, `{"personId":"`+PNR(1)+`","reason":"VIP"}`)
	if got := staffOf(t, source(t, st, "t1")); len(got) != 1 || got["SE2321000016-A1"] == nil {
		t.Fatalf("tenant t1 sees %v", got)
	}
	if got := staffOf(t, source(t, st, "t2")); len(got) != 1 || got["SE2321000016-A2"] == nil {
		t.Fatalf("tenant t2 sees %v", got)
	}
	// A replace of one register leaves the others alone.
	mustImport(t, st, "t1", register.KindPersons, register.ModeReplace, "[]")
	s, _ := st.Registers(context.Background(), "t1")
	if n, err := s.Count(context.Background(), register.KindWatchlist); err != nil || n != 1 {
		t.Fatalf("watch list after replacing persons: %d, %v", n, err)
	}
	if n, err := s.Count(context.Background(), register.KindStaff); err != nil || n != 1 {
		t.Fatalf("staff after replacing persons: %d, %v", n, err)
	}
	if _, err := st.Registers(context.Background(), "../x"); vakt.ErrorCode(err) != vakt.CodeInvalid {
		t.Fatalf("bad tenant id: %v", err)
	}
}

func testLookups(t *testing.T, st register.Stores) {
	ctx := context.Background()
	var persons, cases strings.Builder
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&persons, `{"personId":"%s","familyName":"N%d"}`+"\n", PNR(i), i)
		fmt.Fprintf(&cases, `{"caseId":"C%d","patientId":"%s","status":"open"}`+"\n", i, PNR(i%1000))
	}
	mustImport(t, st, "t1", register.KindPersons, register.ModeReplace, persons.String())
	mustImport(t, st, "t1", register.KindCases, register.ModeReplace, cases.String())
	src := source(t, st, "t1")
	var ids []ident.PersonID
	for i := 0; i < 2000; i += 2 {
		ids = append(ids, pid(t, PNR(i)))
	}
	ids = append(ids, pid(t, PNR(5000))) // not in the register
	seen := map[string]bool{}
	err := src.Persons(ctx, ids, func(p *register.Person) error {
		seen[p.FamilyName] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1000 || !seen["N0"] || !seen["N1998"] || seen["N1"] {
		t.Fatalf("persons lookup found %d", len(seen))
	}
	n := 0
	err = src.Cases(ctx, []ident.PersonID{pid(t, PNR(7))}, func(c *register.Case) error {
		n++
		if c.Patient != pid(t, PNR(7)) {
			t.Errorf("case %s of another patient", c.ID)
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("cases of one patient: %d, %v", n, err)
	}
	if err := src.Persons(ctx, nil, func(*register.Person) error { t.Error("called for no ids"); return nil }); err != nil {
		t.Fatal(err)
	}
}

func testConcurrent(t *testing.T, st register.Stores) {
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var b strings.Builder
			for i := 0; i < 200; i++ {
				b.WriteString(staffLine(fmt.Sprintf("SE2321000016-W%dN%d", w, i), PNR(w*1000+i), "Z"))
			}
			_, err := importText(t, st, "t1", register.KindStaff, register.ModeUpsert, b.String())
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := staffOf(t, source(t, st, "t1")); len(got) != 800 {
		t.Fatalf("after concurrent upserts: %d records", len(got))
	}
}

// testUpsertAndDeleteOne: the watch list edited one entry at a time, as the web tool does: an
// upsert of one record adds or replaces it, Delete removes exactly one record of one kind.
func testUpsertAndDeleteOne(t *testing.T, st register.Stores) {
	ctx := context.Background()
	mustImport(t, st, "t1", register.KindWatchlist, register.ModeReplace, `[{"personId":"`+pnrA+`","reason":"Politiker"},{"personId":"`+pnrB+`","reason":"Artist"}]`)
	mustImport(t, st, "t1", register.KindPersons, register.ModeReplace, `[{"personId":"`+pnrB+`","familyName":"Ek"}]`)
	mustImport(t, st, "t2", register.KindWatchlist, register.ModeReplace, `[{"personId":"`+pnrB+`","reason":"Annan region"}]`)
	watch := func(tenantID string) map[string]*register.WatchEntry {
		t.Helper()
		out := map[string]*register.WatchEntry{}
		if err := source(t, st, tenantID).Watchlist(ctx, func(w *register.WatchEntry) error { out[w.PersonID.Extension()] = w; return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	mustImport(t, st, "t1", register.KindWatchlist, register.ModeUpsert, `{"personId":"`+pnrB+`","reason":"Känd artist","until":"2026-12-31"}`)
	w := watch("t1")
	b := pid(t, pnrB).Extension()
	if len(w) != 2 || w[b].Reason != "Känd artist" || w[b].Until.String() != "2026-12-31" {
		t.Fatalf("after upsert of one: %+v", w)
	}
	s1, err := st.Registers(ctx, "t1")
	if err != nil {
		t.Fatal(err)
	}
	if err := s1.Delete(ctx, register.KindWatchlist, b); err != nil {
		t.Fatal(err)
	}
	if w := watch("t1"); len(w) != 1 || w[b] != nil {
		t.Fatalf("after delete: %+v", w)
	}
	if err := s1.Delete(ctx, register.KindWatchlist, b); vakt.ErrorCode(err) != vakt.CodeNotFound {
		t.Fatalf("deleting a missing record: %v", err)
	}
	// the same key in another register and in another tenant stays
	if n, err := s1.Count(ctx, register.KindPersons); err != nil || n != 1 {
		t.Fatalf("persons after deleting a watch entry: %d, %v", n, err)
	}
	if w := watch("t2"); len(w) != 1 || w[b] == nil {
		t.Fatalf("tenant t2 after t1's delete: %+v", w)
	}
}

// Alter overwrites the stored document of the record of kind with key in st behind its back,
// as someone with access to the database could: the test's way into a driver's storage.
type Alter func(t *testing.T, st register.Store, kind register.Kind, key string, doc []byte)

// RunAltered checks that a stored document altered behind vakt's back is refused when read
// (an error naming the register, quoting nothing of the document), not read as if valid.
func RunAltered(t *testing.T, newStores func(t *testing.T) register.Stores, alter Alter) {
	person := pid(t, pnrA).Extension()
	for _, c := range []struct {
		name, doc string
	}{
		{"unknown field", `{"personId":"` + person + `","nickname":"x"}`},
		{"invalid personnummer", `{"personId":"` + person[:11] + `3"}`},
		{"bad JSON", `{"personId":"` + person + `"`},
		{"another register's field", `{"personId":"` + person + `","reason":"x"}`},
		{"wrong type", `{"personId":"` + person + `","protectedIdentity":"yes"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := newStores(t)
			mustImport(t, st, "t1", register.KindPersons, register.ModeReplace,
				`{"personId":"`+pnrA+`","familyName":"Berg"}`+"\n"+`{"personId":"`+pnrB+`"}`)
			s, err := st.Registers(context.Background(), "t1")
			if err != nil {
				t.Fatal(err)
			}
			alter(t, s, register.KindPersons, person, []byte(c.doc))
			src := register.Registers{Store: s}
			ids := []ident.PersonID{pid(t, pnrA), pid(t, pnrB)}
			err = src.Persons(context.Background(), ids, func(*register.Person) error { return nil })
			if err == nil || !strings.Contains(err.Error(), "stored persons record") || strings.Contains(err.Error(), person) {
				t.Fatalf("altered document read: %v", err)
			}
			// The other, unaltered person still reads.
			n := 0
			err = src.Persons(context.Background(), ids[1:], func(p *register.Person) error { n++; return nil })
			if err != nil || n != 1 {
				t.Fatalf("unaltered person: %d, %v", n, err)
			}
		})
	}
}
