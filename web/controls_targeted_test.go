package web_test

import (
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
)

// TestTargetedControls: a targeted control from a flag's button, from a patient and from a staff
// member holds exactly the accesses in its scope, the personnummer never reaches a URL or the
// server's log, bad input names the field, and the control is assessed and closed like a sample.
func TestTargetedControls(t *testing.T) {
	e := newEnv(t, false)
	e.watch()
	e.addUser("gun", tenantA, nil, false, vakt.RoleReviewer)
	e.addUser("elsewhere", tenantA, []ident.HSAID{"SE2321000016-ZZZZ"}, false, vakt.RoleReviewer)
	b := e.login("gun")
	if r := b.get("/kontroller/riktad"); r.status != 200 || !strings.Contains(r.body, `id="targeted-bound"`) {
		t.Fatalf("targeted form: %d", r.status)
	}

	// From a flag: the flagged access and the same user's other accesses to the patient.
	_, page := b.searchFlags(url.Values{"from": {e.from}, "to": {e.to}, "kind": {"watchlist"}})
	logID := regexpFind(t, page.body, `name="flagLogId" value="([^"]+)"`)
	flagForm := url.Values{"flagLogId": {logID}, "flag": {"watchlist"},
		"careUnit": {regexpFind(t, page.body, `name="careUnit" value="([^"]+)"`)},
		"from":     {regexpFind(t, page.body, `name="from" value="([^"]+)"`)}, "to": {regexpFind(t, page.body, `name="to" value="([^"]+)"`)}}
	r := b.post("/kontroller/riktad", maps.Clone(flagForm)) // post sets the form's csrf
	if r.status != http.StatusSeeOther {
		t.Fatalf("targeted control from a flag: %d\n%s", r.status, r.body)
	}
	flagged := e.find(tenantA, accesslog.Query{})
	var user ident.HSAID
	var unit ident.HSAID
	for _, en := range flagged {
		if en.LogID == logID {
			user, unit = en.User.ID, en.User.CareUnit.ID
		}
	}
	want := 0
	for _, en := range e.find(tenantA, accesslog.Query{PatientID: e.patient, UserID: user, CareUnitID: unit}) {
		if en.Activity.Level != "Loggkontroll" {
			want++
		}
	}
	ctl := b.get(r.location)
	if got := len(items(ctl.body)); got != min(want, 100) || got == 0 {
		t.Fatalf("control from a flag holds %d accesses, want %d", got, want)
	}
	if !strings.Contains(ctl.body, `id="scope-flag">Bevakningslistan`) || !strings.Contains(ctl.body, logID) || !strings.Contains(ctl.body, "first-by-time-v1") {
		t.Fatalf("the control page does not name its flag:\n%s", ctl.body)
	}

	// From a patient: every access to them from the unit, the personnummer in the body only.
	before := e.controlReads()
	r = b.post("/kontroller/riktad", url.Values{"careUnit": {string(e.unit)}, "from": {e.from}, "to": {e.to}, "patient": {e.patient.Formatted()}})
	if r.status != http.StatusSeeOther || strings.Contains(r.location, e.patient.Extension()[2:8]) {
		t.Fatalf("targeted control on a patient: %d %q", r.status, r.location)
	}
	if e.controlReads() != before+1 {
		t.Fatal("creating the control was not logged")
	}
	ctl = b.get(r.location)
	if got, want := len(items(ctl.body)), e.patientAccesses(e.unit); got != want || !strings.Contains(ctl.body, `id="scope-patient">`+e.patient.Formatted()) {
		t.Fatalf("control on a patient: %d accesses, want %d", got, want)
	}
	if strings.Contains(e.logs.String(), e.patient.Extension()) || strings.Contains(e.logs.String(), e.patient.Formatted()) {
		t.Fatal("the personnummer reached the server's log")
	}
	// the register lists it without the patient
	if list := b.get("/kontroller"); !strings.Contains(list.body, strings.TrimPrefix(r.location, "/kontroller/")) || strings.Contains(list.body, e.patient.Formatted()) {
		t.Fatal("the register does not list the control, or names its patient")
	}

	// From a staff member: assessed and closed with the sample's workflow.
	r = b.post("/kontroller/riktad", url.Values{"careUnit": {string(e.unit)}, "from": {e.from}, "to": {e.to}, "staff": {string(e.staff)}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("targeted control on a staff member: %d", r.status)
	}
	path := r.location
	ctl = b.get(path)
	seqs := items(ctl.body)
	if len(seqs) == 0 || len(seqs) > 100 || !strings.Contains(ctl.body, `id="scope-staff">`+string(e.staff)) {
		t.Fatalf("control on a staff member: %d accesses", len(seqs))
	}
	for _, seq := range seqs {
		if r := b.post(path+"/post/"+seq, url.Values{"assessment": {"i_ordning"}}); r.status != http.StatusSeeOther {
			t.Fatalf("assess: %d", r.status)
		}
	}
	if r := b.post(path+"/avsluta", url.Values{"findings": {"Alla i sin ordning"}, "conclusion": {"Ingen åtgärd"}}); r.status != http.StatusSeeOther {
		t.Fatalf("close: %d", r.status)
	}

	// Bad input names the field and creates nothing.
	before = e.controlReads()
	for text, form := range map[string]url.Values{
		"Ange en patient, en medarbetare":      {"careUnit": {string(e.unit)}, "from": {e.from}, "to": {e.to}},
		"Personnumret eller samordningsnumret": {"careUnit": {string(e.unit)}, "from": {e.from}, "to": {e.to}, "patient": {"19121212-1213"}},
		"högst 92 dagar":                       {"careUnit": {string(e.unit)}, "from": {"2026-01-01"}, "to": {"2026-06-30"}, "staff": {string(e.staff)}},
		"Medarbetarens HSA-id":                 {"careUnit": {string(e.unit)}, "from": {e.from}, "to": {e.to}, "staff": {"x"}},
		"Flaggan finns inte":                   {"from": {e.from}, "to": {e.to}, "flag": {"nonsense"}, "flagLogId": {logID}},
		"Vårdenhetens HSA-id":                  {"from": {e.from}, "to": {e.to}, "staff": {string(e.staff)}},
	} {
		r := b.post("/kontroller/riktad", form)
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, text) {
			t.Errorf("%v: %d, want 400 with %q", form, r.status, text)
		}
		if strings.Contains(r.body, "19121212") && !strings.Contains(r.body, `value="19121212-1213"`) {
			t.Error("the bad personnummer is repeated outside its field")
		}
	}
	if e.controlReads() != before {
		t.Fatal("bad input was logged as a read")
	}
	r = b.post("/kontroller/riktad", url.Values{"from": {e.from}, "to": {e.to}, "flag": {"watchlist"}, "flagLogId": {"no-such-access"}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "Den flaggade åtkomsten finns inte") {
		t.Fatalf("an unknown flagged access: %d", r.status)
	}

	// A reviewer limited to another unit can neither start from the flag nor name the unit.
	o := e.login("elsewhere")
	if r := o.post("/kontroller/riktad", maps.Clone(flagForm)); r.status != http.StatusForbidden {
		t.Fatalf("a limited reviewer starts from another unit's flag: %d", r.status)
	}
	delete(flagForm, "careUnit")
	if r := o.post("/kontroller/riktad", maps.Clone(flagForm)); r.status != http.StatusBadRequest || !strings.Contains(r.body, "Den flaggade åtkomsten finns inte") {
		t.Fatalf("a limited reviewer learns of another unit's access: %d", r.status)
	}
	if r := o.get(path); r.status != http.StatusNotFound {
		t.Fatalf("a limited reviewer sees another unit's targeted control: %d", r.status)
	}
}
