package web_test

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/register"
)

// watch puts e.patient on tenant A's watch list, so that every access to them is flagged.
func (e *env) watch() {
	e.t.Helper()
	svc := &register.Service{Stores: e.regs}
	body := `[{"personId":"` + e.patient.Extension() + `","reason":"Känd artist"}]`
	if _, err := svc.ImportTenant(context.Background(), tenantA, register.KindWatchlist, register.ModeReplace, strings.NewReader(body)); err != nil {
		e.t.Fatal(err)
	}
}

// patientAccesses counts the entries of tenant A in the test period that name e.patient.
func (e *env) patientAccesses(unit ident.HSAID) int {
	n := 0
	for _, en := range e.find(tenantA, accesslog.Query{PatientID: e.patient, CareUnitID: unit}) {
		if en.Activity.Level != "Loggkontroll" && en.Activity.Level != "Logguppföljning" {
			n++
		}
	}
	return n
}

// searchFlags posts the flags form and returns the result page's path.
func (b *browser) searchFlags(form url.Values) (string, response) {
	b.e.t.Helper()
	r := b.post("/kontroller/flaggor", maps.Clone(form)) // post sets the form's csrf
	if r.status != http.StatusSeeOther {
		return "", r
	}
	return r.location, b.get(r.location)
}

func flagCount(t *testing.T, body string) int {
	t.Helper()
	n, err := strconv.Atoi(regexpFind(t, body, `id="flag-count"><strong>(\d+)</strong>`))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestFlagsPage: the flags of a period with their Swedish reasons, the explained share per unit
// and month, paging, the read logged, bad input named by field, and a limited reviewer seeing
// only their units.
func TestFlagsPage(t *testing.T) {
	e := newEnv(t, false)
	e.watch()
	e.addUser("gun", tenantA, nil, false, vakt.RoleReviewer)
	e.addUser("unit", tenantA, []ident.HSAID{e.unit}, false, vakt.RoleReviewer)
	e.addUser("elsewhere", tenantA, []ident.HSAID{"SE2321000016-ZZZZ"}, false, vakt.RoleReviewer)
	e.addUser("other", tenantB, nil, false, vakt.RoleReviewer)
	b := e.login("gun")
	if r := b.get("/kontroller/flaggor"); r.status != 200 || !strings.Contains(r.body, `value="out_of_hours"`) {
		t.Fatalf("flags form: %d", r.status)
	}
	before := e.controlReads()
	watchForm := url.Values{"from": {e.from}, "to": {e.to}, "kind": {"watchlist"}}
	path, page := b.searchFlags(watchForm)
	if path == "" || page.status != 200 {
		t.Fatalf("flag search: %d\n%s", page.status, page.body)
	}
	if strings.Contains(path, e.patient.Extension()) || strings.Contains(page.body, e.patient.Extension()) || strings.Contains(page.body, e.patient.Formatted()) {
		t.Fatal("a personnummer on the flags page or in its URL")
	}
	if got := e.controlReads(); got != before+1 {
		t.Fatalf("the flag search logged %d reads, want 1", got-before)
	}
	want := e.patientAccesses("")
	if n := flagCount(t, page.body); n != want || want == 0 {
		t.Fatalf("%d watch-list flags, want %d (the accesses to the patient)", n, want)
	}
	if !strings.Contains(page.body, "Patienten finns på bevakningslistan: Känd artist") || !strings.Contains(page.body, `id="explained"`) ||
		!strings.Contains(page.body, " %</td>") || !strings.Contains(page.body, "Bevakningslistan") {
		t.Fatalf("flags page lacks the reason or the explained share:\n%s", page.body)
	}
	// every kind at once: more than a page of flags in the synthetic week
	path, page = b.searchFlags(url.Values{"from": {e.from}, "to": {e.to}})
	all := flagCount(t, page.body)
	if all <= 50 || strings.Count(page.body, `<tr class="flag">`) != 50 {
		t.Fatalf("%d flags, %d rows on the first page", all, strings.Count(page.body, `<tr class="flag">`))
	}
	second := b.get(path + "?sida=2")
	if second.status != 200 || !strings.Contains(second.body, `rel="prev"`) || strings.Count(second.body, `<tr class="flag">`) != min(50, all-50) {
		t.Fatalf("second page: %d", second.status)
	}
	if r := b.get("/kontroller/flaggor/resultat/nonexistent000000"); r.status != http.StatusNotFound {
		t.Fatalf("a result not in the session: %d", r.status)
	}
	// bad input names the field and is not computed or logged
	before = e.controlReads()
	for form, text := range map[string]url.Values{
		"Ange en månad":             {"month": {"2026-13"}},
		"högst 92 dagar":            {"from": {"2026-01-01"}, "to": {"2026-06-30"}},
		"Ange giltiga datum":        {"from": {"2026-02-01"}, "to": {"2026-01-01"}},
		"HSA-id är inte giltigt":    {"month": {"2026-01"}, "careUnit": {"nonsense"}},
		"En vald flagga finns inte": {"month": {"2026-01"}, "kind": {"nonsense"}},
	} {
		r := b.post("/kontroller/flaggor", text)
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, form) {
			t.Errorf("%v: %d, want 400 with %q", text, r.status, form)
		}
	}
	if e.controlReads() != before {
		t.Fatal("bad input was logged as a read")
	}
	// a reviewer limited to e.unit sees the flags of that unit only; one limited elsewhere none
	_, page = e.login("unit").searchFlags(watchForm)
	if n := flagCount(t, page.body); n != e.patientAccesses(e.unit) {
		t.Fatalf("limited reviewer: %d flags, want %d", n, e.patientAccesses(e.unit))
	}
	units := regexpAll(page.body, `<td class="id unit">([^<]*)</td>`)
	if len(units) == 0 {
		t.Fatal("the limited reviewer's page shows no unit")
	}
	for _, u := range units {
		if u != string(e.unit) {
			t.Fatalf("a reviewer limited to %s sees unit %s", e.unit, u)
		}
	}
	for _, user := range []string{"elsewhere", "other"} {
		if _, page := e.login(user).searchFlags(watchForm); page.status != 200 || flagCount(t, page.body) != 0 {
			t.Fatalf("%s sees tenant A's flags", user)
		}
	}
}

// TestControlRoutesRoles: every role on every route of flags, targeted controls and reports:
// granskare and loggadministratör get the page, the others 403 without anything computed.
func TestControlRoutesRoles(t *testing.T) {
	e := newEnv(t, false)
	may := map[vakt.Role]bool{vakt.RoleReviewer: true, vakt.RoleLogAdmin: true}
	e.addUser("owner", tenantA, nil, false, vakt.RoleReviewer)
	path, _ := e.login("owner").drawSample("1")
	for _, role := range vakt.PersonRoles() {
		name := "r." + strings.ReplaceAll(string(role), "_", ".")
		e.addUser(name, tenantA, nil, false, role)
		b := e.login(name)
		flags := "/kontroller/flaggor/resultat/nonexistent000000"
		if may[role] {
			p, r := b.searchFlags(url.Values{"from": {e.from}, "to": {e.to}, "kind": {"self"}})
			if p == "" {
				t.Fatalf("%s: flag search %d", role, r.status)
			}
			flags = p
		}
		before := e.controlReads()
		for _, rt := range []route{
			{"GET", "/kontroller/flaggor", nil, ""},
			{"POST", "/kontroller/flaggor", url.Values{"month": {"2026-01"}}, ""},
			{"GET", flags, nil, ""},
			{"GET", "/kontroller/riktad", nil, ""},
			{"POST", "/kontroller/riktad", url.Values{"careUnit": {string(e.unit)}, "from": {e.from}, "to": {e.to}, "staff": {string(e.staff)}}, ""},
			{"GET", path + "/rapport.pdf", nil, ""},
		} {
			var r response
			if rt.method == "GET" {
				r = b.get(rt.path)
			} else {
				r = b.post(rt.path, rt.form)
			}
			switch {
			case !may[role] && r.status != http.StatusForbidden:
				t.Errorf("%s %s %s: %d, want 403", role, rt.method, rt.path, r.status)
			case may[role] && r.status >= 400:
				t.Errorf("%s %s %s: %d, want success", role, rt.method, rt.path, r.status)
			}
		}
		if !may[role] && e.controlReads() != before {
			t.Errorf("%s: a refused request was logged as a read", role)
		}
	}
	b := e.browser()
	for _, p := range []string{"/kontroller/flaggor", "/kontroller/riktad", path + "/rapport.pdf"} {
		if r := b.get(p); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/login") {
			t.Errorf("anonymous GET %s: %d", p, r.status)
		}
	}
}
