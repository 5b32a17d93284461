package web_test

import (
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/permlist"
	"github.com/vakt/vakt/register"
)

const (
	staffLeft  = "SE2321000016-LEFT"
	staffOther = "SE2321000016-OTHR"
	unitOther  = "SE2321000016-UOTH"
)

// setUpPermissions: e.staff (who made accesses from e.unit) and a leaver in the staff
// register, one of them placed at e.unit now, one whose placement ended; a staff member of
// another unit; accounts of the whole tenant and of single units.
func setUpPermissions(t *testing.T) *followUpEnv {
	fe := newFollowUpEnv(t)
	fe.importRegister(tenantA, register.KindStaff, `[
 {"hsaId":"`+string(fe.staff)+`","personId":"19121212-1212","givenName":"Stina","familyName":"Aktiv","careProviderId":"`+cpA+`",
  "units":[{"careUnitId":"`+string(fe.unit)+`","from":"2020-01-01"}]},
 {"hsaId":"`+staffLeft+`","personId":"19121212-1212","givenName":"Lars","familyName":"Slutat","careProviderId":"`+cpA+`",
  "units":[{"careUnitId":"`+string(fe.unit)+`","from":"2020-01-01","to":"2025-12-31"}]},
 {"hsaId":"`+staffOther+`","personId":"19121212-1212","givenName":"Olle","familyName":"Annan","careProviderId":"`+cpA+`",
  "units":[{"careUnitId":"`+unitOther+`","from":"2020-01-01"}]}]`)
	fe.addUser("gun", tenantA, nil, false, vakt.RoleReviewer)
	fe.addUser("chef", tenantA, nil, false, vakt.RoleManager)
	fe.addUser("lisa", tenantA, nil, false, vakt.RoleLogAdmin)
	fe.addUser("admin", tenantA, nil, false, vakt.RoleLocalAdmin)
	fe.addUser("perm", tenantA, nil, false, vakt.RolePermissionAdmin)
	fe.addUser("unitchef", tenantA, []ident.HSAID{fe.unit}, false, vakt.RoleManager)
	fe.addUser("otherchef", tenantA, []ident.HSAID{unitOther}, false, vakt.RoleManager)
	fe.addUser("bchef", tenantB, nil, false, vakt.RoleManager)
	return fe
}

func listPath(unit ident.HSAID) string {
	return "/kontroller/behorigheter?enhet=" + url.QueryEscape(string(unit))
}

func TestPermissionList(t *testing.T) {
	fe := setUpPermissions(t)
	b := fe.login("chef")
	// the picker alone reads no log data
	before := len(fe.newest(tenantA, permlist.Level))
	r := b.get("/kontroller/behorigheter")
	if r.status != http.StatusOK || !strings.Contains(r.body, `<option value="`+string(fe.unit)+`">`) || !strings.Contains(r.body, `<option value="`+unitOther+`">`) {
		t.Fatalf("picker: %d\n%s", r.status, r.body)
	}
	if len(fe.newest(tenantA, permlist.Level)) != before {
		t.Fatal("the picker was logged as a read")
	}
	r = b.get(listPath(fe.unit))
	if r.status != http.StatusOK {
		t.Fatalf("list: %d", r.status)
	}
	for _, s := range []string{`id="holder-` + string(fe.staff) + `"`, "Stina Aktiv", `id="holder-` + string(fe.accountHSA("gun")) + `"`,
		`id="holder-` + string(fe.accountHSA("unitchef")) + `"`, "unitchef: Chef"} {
		if !strings.Contains(r.body, s) {
			t.Errorf("list lacks %s", s)
		}
	}
	for _, s := range []string{staffLeft, staffOther, string(fe.accountHSA("otherchef")), "19121212", "191212121212"} {
		if strings.Contains(r.body, s) {
			t.Errorf("list shows %s", s)
		}
	}
	// e.staff made accesses from the unit: a date; the accounts made none
	row := r.body[strings.Index(r.body, `id="holder-`+string(fe.staff)+`"`):]
	row = row[:strings.Index(row, "</tr>")]
	if !strings.Contains(row, `class="last">20`) {
		t.Errorf("no last activity for the active staff member: %s", row)
	}
	gunRow := r.body[strings.Index(r.body, `id="holder-`+string(fe.accountHSA("gun"))+`"`):]
	if gunRow = gunRow[:strings.Index(gunRow, "</tr>")]; !strings.Contains(gunRow, "Ingen i loggen") {
		t.Errorf("an account without entries: %s", gunRow)
	}
	// the read is logged first, by the person, naming the unit
	reads := fe.newest(tenantA, permlist.Level)
	if len(reads) != before+1 {
		t.Fatalf("%d reads logged, want 1", len(reads)-before)
	}
	last := reads[len(reads)-1]
	if last.Activity.Type != "Läsa" || last.User.ID != fe.accountHSA("chef") || !strings.Contains(last.Activity.Args, string(fe.unit)) {
		t.Fatalf("logged read: %+v", last)
	}

	// mark the active staff member; the list shows it, the log records it
	r = b.post("/kontroller/behorigheter/markera", url.Values{"careUnit": {string(fe.unit)}, "hsaId": {string(fe.staff)}, "reason": {"Slutade 2026-02-28"}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/kontroller/behorigheter?") {
		t.Fatalf("mark: %d %s\n%s", r.status, r.location, r.body)
	}
	r = b.get(r.location)
	if !strings.Contains(r.body, `id="done"`) || !strings.Contains(r.body, "Slutade 2026-02-28") || !strings.Contains(r.body, `class="marked"`) {
		t.Fatalf("marked list:\n%s", r.body)
	}
	changes := fe.newest(tenantA, permlist.Level)
	mark := changes[len(changes)-2] // the mark, then the read of the page after it
	if mark.Activity.Type != "Skriva" || !strings.Contains(mark.Activity.Args, "action=mark") || !strings.Contains(mark.Activity.Args, "hsaId="+string(fe.staff)) ||
		strings.Contains(mark.Activity.Args, "Slutade") || mark.User.ID != fe.accountHSA("chef") {
		t.Fatalf("logged mark: %+v", mark.Activity)
	}
	// another role sees the same mark
	if r := fe.login("perm").get(listPath(fe.unit)); !strings.Contains(r.body, "Slutade 2026-02-28") {
		t.Error("the behorighetsadministrator does not see the mark")
	}

	// refused input names the field and stores nothing
	n := len(fe.newest(tenantA, permlist.Level))
	for _, c := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"careUnit": {string(fe.unit)}, "hsaId": {string(fe.accountHSA("gun"))}, "reason": {"  "}}, "Skriv ett skäl"},
		{url.Values{"careUnit": {string(fe.unit)}, "hsaId": {staffLeft}, "reason": {"x"}}, "finns inte på enhetens behörighetslista"},
		{url.Values{"careUnit": {string(fe.unit)}, "hsaId": {"inte ett id"}, "reason": {"x"}}, "Personens HSA-id är inte giltigt"},
		{url.Values{"careUnit": {"19121212-1212"}, "hsaId": {string(fe.staff)}, "reason": {"x"}}, "Vårdenhetens HSA-id är inte giltigt"},
		{url.Values{"careUnit": {string(fe.unit)}, "hsaId": {string(fe.staff)}, "reason": {"a\x01b"}}, "Skriv ett skäl"},
	} {
		r := b.post("/kontroller/behorigheter/markera", c.form)
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, c.want) || !strings.Contains(r.body, `role="alert"`) {
			t.Errorf("%v: %d, want 400 with %q", c.form, r.status, c.want)
		}
		if strings.Contains(r.body, "19121212-1212") {
			t.Error("a refused value shows up where it does not belong")
		}
	}
	// the refused posts wrote no mark (only reads of the list shown again with the problems)
	for _, e := range fe.newest(tenantA, permlist.Level)[n:] {
		if e.Activity.Type != "Läsa" {
			t.Fatalf("a refused mark was recorded: %+v", e.Activity)
		}
	}
	if r := fe.login("gun").get(listPath(fe.unit)); strings.Count(r.body, `class="marked"`) != 1 {
		t.Error("a refused mark was stored")
	}

	// a wrong CSRF token changes nothing
	if r := b.post("/kontroller/behorigheter/avmarkera", url.Values{"csrf": {"fel"}, "careUnit": {string(fe.unit)}, "hsaId": {string(fe.staff)}}); r.status != http.StatusForbidden {
		t.Fatalf("bad CSRF: %d", r.status)
	}
	// unmark; a second unmark finds nothing
	r = b.post("/kontroller/behorigheter/avmarkera", url.Values{"careUnit": {string(fe.unit)}, "hsaId": {string(fe.staff)}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("unmark: %d", r.status)
	}
	if r := b.get(r.location); strings.Contains(r.body, `class="marked"`) || !strings.Contains(r.body, "Markeringen är borttagen") {
		t.Fatal("the mark is still shown")
	}
	changes = fe.newest(tenantA, permlist.Level)
	if un := changes[len(changes)-2]; un.Activity.Type != "Radera" || !strings.Contains(un.Activity.Args, "action=unmark") {
		t.Fatalf("logged unmark: %+v", un.Activity)
	}
	if r := b.post("/kontroller/behorigheter/avmarkera", url.Values{"careUnit": {string(fe.unit)}, "hsaId": {string(fe.staff)}}); r.status != http.StatusNotFound {
		t.Fatalf("second unmark: %d", r.status)
	}
}

func TestPermissionListRolesUnitsTenants(t *testing.T) {
	fe := setUpPermissions(t)
	markForm := url.Values{"careUnit": {string(fe.unit)}, "hsaId": {string(fe.staff)}, "reason": {"Slutat"}}
	mark := func() url.Values { return maps.Clone(markForm) } // post adds the browser's token
	for user, want := range map[string]int{"gun": 200, "chef": 200, "lisa": 200, "admin": 200, "perm": 200, "unitchef": 200, "otherchef": 403} {
		b := fe.login(user)
		if r := b.get(listPath(fe.unit)); r.status != want {
			t.Errorf("%s GET: %d, want %d", user, r.status, want)
		}
		r := b.post("/kontroller/behorigheter/markera", mark())
		if want == 403 && r.status != 403 || want == 200 && r.status != http.StatusSeeOther {
			t.Errorf("%s mark: %d", user, r.status)
		}
		if want == 200 {
			if r := b.post("/kontroller/behorigheter/avmarkera", mark()); r.status != http.StatusSeeOther {
				t.Errorf("%s unmark: %d", user, r.status)
			}
		}
	}
	// a limited person's picker offers their own units only
	if r := fe.login("unitchef").get("/kontroller/behorigheter"); strings.Contains(r.body, unitOther) {
		t.Error("the picker offers a limited person another unit")
	}
	// tenant B: no holder of tenant A, no marks of tenant A, and marking A's staff is refused
	b := fe.login("chef")
	if r := b.post("/kontroller/behorigheter/markera", mark()); r.status != http.StatusSeeOther {
		t.Fatalf("mark: %d", r.status)
	}
	bb := fe.login("bchef")
	r := bb.get(listPath(fe.unit))
	if r.status != http.StatusOK || strings.Contains(r.body, string(fe.staff)) || strings.Contains(r.body, "Slutat") || strings.Contains(r.body, "Stina") {
		t.Fatalf("tenant B sees tenant A's list: %d", r.status)
	}
	if r := bb.post("/kontroller/behorigheter/markera", mark()); r.status != http.StatusBadRequest {
		t.Fatalf("tenant B marks A's staff: %d", r.status)
	}
	if r := bb.post("/kontroller/behorigheter/avmarkera", mark()); r.status != http.StatusNotFound {
		t.Fatalf("tenant B unmarks A's mark: %d", r.status)
	}
	if r := b.get(listPath(fe.unit)); !strings.Contains(r.body, "Slutat") {
		t.Fatal("tenant A lost its mark")
	}
	if len(fe.newest(tenantB, permlist.Level)) == 0 {
		t.Error("tenant B's read was not logged in tenant B's log")
	}
	// anonymous
	if r := fe.browser().get(listPath(fe.unit)); r.status != http.StatusSeeOther {
		t.Fatalf("anonymous: %d", r.status)
	}
}
