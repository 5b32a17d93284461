package web_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/ident"
)

// user reads an account straight from the registry.
func (e *env) user(username string) (account.User, bool) {
	e.t.Helper()
	u, _, err := e.reg.UserByName(context.Background(), username)
	if vakt.ErrorCode(err) == vakt.CodeNotFound {
		return account.User{}, false
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return u, true
}

// changes returns the account changes recorded in tenantID's log, oldest first, with the
// HSA-id of the person who made each.
func (e *env) changes(tenantID string) ([]account.ChangeRecord, []ident.HSAID) {
	e.t.Helper()
	ctx := context.Background()
	st, err := e.stores.Store(ctx, tenantID)
	if err != nil {
		e.t.Fatal(err)
	}
	var recs []account.ChangeRecord
	var by []ident.HSAID
	now := time.Now()
	err = st.Export(ctx, accesslog.Query{From: now.Add(-time.Hour), To: now.Add(time.Hour), ActivityType: ""}, func(sd *accesslog.Stored) error {
		en, err := sd.Entry()
		if err != nil {
			return err
		}
		if en.Activity.Level != accesslog.AccountChangeLevel {
			return nil
		}
		r, err := account.ParseChangeArgs(en.Activity.Args)
		if err != nil {
			return err
		}
		if en.Activity.Purpose != accesslog.PurposeAdministration {
			e.t.Errorf("purpose %q", en.Activity.Purpose)
		}
		recs, by = append(recs, r), append(by, en.User.ID)
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	slices.Reverse(recs) // the log answers newest first
	slices.Reverse(by)
	return recs, by
}

// adminRoute is one of the account administration routes, on the account target.
type adminRoute struct {
	method, path string
	form         url.Values
	perm         account.Permission
}

func adminRoutes(target string) []adminRoute {
	return []adminRoute{
		{"GET", "/konton", nil, account.ViewAccounts},
		{"GET", "/konton/nytt", nil, account.ManageAccounts},
		{"POST", "/konton/nytt", url.Values{"username": {"new." + target}, "name": {"Ny Person"}}, account.ManageAccounts},
		{"GET", "/konto/" + target, nil, account.ViewAccounts},
		{"POST", "/konto/" + target + "/uppgifter", url.Values{"name": {"Nytt Namn"}, "hsaId": {"SE2321000016-7777"}}, account.ManageAccounts},
		{"POST", "/konto/" + target + "/roller", url.Values{"role": {"chef"}}, account.GrantRoles},
		{"POST", "/konto/" + target + "/inaktivera", nil, account.ManageAccounts},
		{"POST", "/konto/" + target + "/aktivera", nil, account.ManageAccounts},
		{"POST", "/konto/" + target + "/losenord", nil, account.ManageAccounts},
		{"GET", "/konto/" + target + "/ta-bort", nil, account.ManageAccounts},
		{"POST", "/konto/" + target + "/ta-bort", url.Values{"confirm": {"ja"}}, account.ManageAccounts},
	}
}

// TestAccountRoutesByRole: every role on every account route gets what docs/UI.md promises, and
// a refused request changes nothing; an anonymous visitor is sent to the login page.
func TestAccountRoutesByRole(t *testing.T) {
	e := newEnv(t, false)
	allowed := map[vakt.Role][]account.Permission{
		vakt.RoleLocalAdmin:      {account.ViewAccounts, account.ManageAccounts},
		vakt.RolePermissionAdmin: {account.ViewAccounts, account.GrantRoles},
	}
	// Someone who keeps both administrator permissions held, so no change here meets the
	// last-administrator rule.
	e.addUser("keeper", tenantA, nil, false, vakt.RoleLocalAdmin, vakt.RolePermissionAdmin)
	for _, role := range vakt.PersonRoles() {
		t.Run(string(role), func(t *testing.T) {
			name := strings.ReplaceAll(string(role), "_", ".")
			target := "target." + name
			e.addUser(name, tenantA, nil, false, role)
			e.addUser(target, tenantA, nil, false, vakt.RoleReviewer)
			b := e.login(name)
			for _, rt := range adminRoutes(target) {
				before, _ := e.user(target)
				var r response
				if rt.method == "GET" {
					r = b.get(rt.path)
				} else {
					r = b.post(rt.path, rt.form)
				}
				may := slices.Contains(allowed[role], rt.perm)
				switch {
				case !may && r.status != http.StatusForbidden:
					t.Errorf("%s %s: status %d, want 403", rt.method, rt.path, r.status)
				case may && r.status >= 400:
					t.Errorf("%s %s: status %d, want success\n%s", rt.method, rt.path, r.status, r.body)
				}
				if !may {
					after, _ := e.user(target)
					if after.Name != before.Name || !slices.Equal(after.Roles, before.Roles) || after.Disabled != before.Disabled {
						t.Errorf("%s %s: a refused request changed the account", rt.method, rt.path)
					}
				}
			}
			_, created := e.user("new." + target)
			_, kept := e.user(target)
			if want := role == vakt.RoleLocalAdmin; created != want || kept == want {
				t.Errorf("created %v, target kept %v", created, kept)
			}
		})
	}
	b := e.browser()
	for _, rt := range adminRoutes("keeper") {
		var r response
		if rt.method == "GET" {
			r = b.get(rt.path)
		} else {
			r = b.post(rt.path, rt.form)
		}
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/login") {
			t.Errorf("anonymous %s %s: %d → %q, want the login page", rt.method, rt.path, r.status, r.location)
		}
	}
}

// TestAccountCSRF: every account form without the session's token, or with another session's,
// is refused before anything changes.
func TestAccountCSRF(t *testing.T) {
	e := newEnv(t, false)
	e.addUser("admin", tenantA, nil, false, vakt.RoleLocalAdmin, vakt.RolePermissionAdmin)
	e.addUser("other", tenantA, nil, false, vakt.RoleLocalAdmin)
	e.addUser("target", tenantA, nil, false, vakt.RoleReviewer)
	b := e.login("admin")
	foreign := e.login("other").csrf
	for _, token := range []string{"", foreign, b.csrf + "x"} {
		for _, rt := range adminRoutes("target") {
			if rt.method != "POST" {
				continue
			}
			f := url.Values{"csrf": {token}}
			for k, v := range rt.form {
				f[k] = v
			}
			if r := b.post(rt.path, f); r.status != http.StatusForbidden || !strings.Contains(r.body, `id="error-message"`) {
				t.Errorf("%s with token %q: status %d, want 403", rt.path, token, r.status)
			}
		}
	}
	u, ok := e.user("target")
	if !ok || u.Name != "Person target" || u.Disabled || !slices.Equal(u.Roles, []vakt.Role{vakt.RoleReviewer}) {
		t.Fatalf("the target changed: %+v", u)
	}
	if _, ok := e.user("new.target"); ok {
		t.Fatal("an account was created without a valid token")
	}
	if recs, _ := e.changes(tenantA); len(recs) != 0 {
		t.Fatalf("refused forms were recorded: %+v", recs)
	}
}

// TestCreateAccountAndLogIn: a lokal_administrator creates an account without roles, sees its
// one-time password once (never in a URL or the server's log), the person logs in and must
// change it, a behorighetsadministrator grants a role that opens the follow-up tool, and every
// change is in the tenant's log with who made it, before and after.
func TestCreateAccountAndLogIn(t *testing.T) {
	e := newEnv(t, false)
	e.addUser("lars", tenantA, nil, false, vakt.RoleLocalAdmin)
	e.addUser("berit", tenantA, nil, false, vakt.RolePermissionAdmin)
	lars := e.login("lars")
	page := lars.get("/konton/nytt")
	if page.status != 200 || strings.Contains(page.body, `name="role"`) || !strings.Contains(page.body, `for="username"`) {
		t.Fatalf("new account page %d (a lokal_administrator is offered no roles):\n%s", page.status, page.body)
	}
	r := lars.post("/konton/nytt", url.Values{"username": {"greta.g"}, "name": {"Greta Gran"}, "title": {"Granskare"},
		"careUnits": {"SE2321000016-0A01, SE2321000016-0A02"}, "role": {"granskare"}})
	if r.status != http.StatusForbidden || !strings.Contains(r.body, `role="alert"`) {
		t.Fatalf("a lokal_administrator gave a role: %d", r.status)
	}
	if _, ok := e.user("greta.g"); ok {
		t.Fatal("the refused account was created")
	}
	r = lars.post("/konton/nytt", url.Values{"username": {"greta.g"}, "name": {"Greta Gran"}, "title": {"Granskare"},
		"careUnits": {"SE2321000016-0A01, SE2321000016-0A02"}})
	pw := regexpFind(t, r.body, `<code id="one-time-password">([^<]+)</code>`)
	if r.status != 200 || r.location != "" || account.CheckPassword(pw) != nil {
		t.Fatalf("create: %d %q", r.status, r.location)
	}
	if strings.Contains(e.logs.String(), pw) {
		t.Fatal("the one-time password is in the server's log")
	}
	u, ok := e.user("greta.g")
	if !ok || u.TenantID != tenantA || u.Name != "Greta Gran" || len(u.Roles) != 0 || !u.MustChange || len(u.CareUnits) != 2 ||
		!strings.HasPrefix(string(u.HSAID), "SE2321000016-VAKT") {
		t.Fatalf("created %+v", u)
	}
	if again := lars.get("/konto/greta.g"); strings.Contains(again.body, pw) {
		t.Fatal("the one-time password is shown again")
	}
	if r := lars.post("/konton/nytt", url.Values{"username": {"greta.g"}}); r.status != http.StatusConflict || !strings.Contains(r.body, "Användarnamnet är upptaget") {
		t.Fatalf("a taken username: %d", r.status)
	}

	// Greta logs in with the one-time password and must choose her own.
	greta := e.browser()
	greta.get("/login")
	r = greta.post("/login", url.Values{"username": {"greta.g"}, "password": {pw}})
	if r.status != http.StatusSeeOther || r.location != "/losenord" {
		t.Fatalf("login with the one-time password: %d %q", r.status, r.location)
	}
	greta.get("/losenord")
	if r := greta.post("/losenord", url.Values{"current": {pw}, "new": {password}, "repeat": {password}}); r.status != 200 {
		t.Fatalf("change password: %d", r.status)
	}
	if r := greta.get("/logguppfoljning/invanare"); r.status != http.StatusForbidden {
		t.Fatalf("an account without roles opens the follow-up tool: %d", r.status)
	}

	// Berit grants the reviewer role; Lars may not.
	if r := lars.post("/konto/greta.g/roller", url.Values{"role": {"granskare"}}); r.status != http.StatusForbidden {
		t.Fatalf("a lokal_administrator granted a role: %d", r.status)
	}
	berit := e.login("berit")
	if page := berit.get("/konto/greta.g"); !strings.Contains(page.body, `id="role-granskare"`) || strings.Contains(page.body, `id="save-details"`) {
		t.Fatal("a behorighetsadministrator is offered roles, not details")
	}
	r = berit.post("/konto/greta.g/roller", url.Values{"role": {"granskare", "chef"}})
	if r.status != http.StatusSeeOther || r.location != "/konto/greta.g?klart=roller" {
		t.Fatalf("grant: %d %q", r.status, r.location)
	}
	if page := berit.get(r.location); !strings.Contains(page.body, `id="account-notice"`) {
		t.Fatal("no notice after the change")
	}
	if r := greta.get("/logguppfoljning/invanare"); r.status != 200 {
		t.Fatalf("the granted role does not take effect at once: %d", r.status)
	}
	if r := berit.post("/konto/greta.g/roller", url.Values{"role": {"root"}}); r.status != http.StatusBadRequest {
		t.Fatalf("an unknown role: %d", r.status)
	}

	recs, by := e.changes(tenantA)
	lu, _ := e.user("lars")
	bu, _ := e.user("berit")
	if len(recs) != 2 || recs[0].Action != account.ActionCreate || recs[0].By != "lars" || by[0] != lu.HSAID || recs[0].Account != "greta.g" ||
		recs[0].HSAID != u.HSAID || len(recs[0].UnitsAfter) != 2 ||
		recs[1].Action != account.ActionRoles || recs[1].By != "berit" || by[1] != bu.HSAID || len(recs[1].RolesBefore) != 0 ||
		!slices.Equal(recs[1].RolesAfter, []vakt.Role{vakt.RoleReviewer, vakt.RoleManager}) || recs[1].SelfGrant() {
		t.Fatalf("recorded %+v by %v", recs, by)
	}

	// Berit grants herself a role: allowed, recorded, and recognisable as a self grant.
	if r := berit.post("/konto/berit/roller", url.Values{"role": {"behorighetsadministrator", "granskare"}}); r.status != http.StatusSeeOther {
		t.Fatalf("self grant: %d", r.status)
	}
	recs, _ = e.changes(tenantA)
	if last := recs[len(recs)-1]; !last.SelfGrant() || last.By != "berit" || last.Account != "berit" {
		t.Fatalf("self grant recorded as %+v", last)
	}
}

// TestAccountBadInput: each invalid field is named on the page, with role=alert, and nothing is
// stored or recorded.
func TestAccountBadInput(t *testing.T) {
	e := newEnv(t, false)
	e.addUser("admin", tenantA, nil, false, vakt.RoleLocalAdmin)
	e.addUser("target", tenantA, nil, false, vakt.RoleReviewer)
	b := e.login("admin")
	cases := []struct {
		path string
		form url.Values
		text string
	}{
		{"/konton/nytt", url.Values{"username": {"Greta G"}}, "Användarnamnet är inte giltigt"},
		{"/konton/nytt", url.Values{"username": {"greta"}, "hsaId": {"not an id"}}, "HSA-id är inte giltigt"},
		{"/konton/nytt", url.Values{"username": {"greta"}, "careUnits": {"SE2321000016-0A01 nope"}}, "Vårdenheterna är inte giltiga"},
		{"/konton/nytt", url.Values{"username": {"greta"}, "careUnits": {"SE2321000016-0A01 SE2321000016-0A01"}}, "Vårdenheterna är inte giltiga"},
		{"/konton/nytt", url.Values{"username": {"greta"}, "name": {strings.Repeat("x", 257)}}, "Namnet får ha högst 256 tecken"},
		{"/konto/target/uppgifter", url.Values{"hsaId": {"x"}, "name": {"Kept Typing"}}, "HSA-id är inte giltigt"},
		{"/konto/target/uppgifter", url.Values{"hsaId": {"SE2321000016-1"}, "title": {strings.Repeat("x", 257)}}, "Titeln får ha högst 256 tecken"},
	}
	for _, c := range cases {
		r := b.post(c.path, c.form)
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, `role="alert"`) || !strings.Contains(r.body, c.text) || !strings.Contains(r.body, `aria-invalid="true"`) {
			t.Errorf("%s %v: %d, want 400 naming the field (%s)", c.path, c.form, r.status, c.text)
		}
	}
	if r := b.post("/konto/target/uppgifter", url.Values{"hsaId": {"x"}, "name": {"Kept Typing"}}); !strings.Contains(r.body, `value="Kept Typing"`) {
		t.Error("the form does not keep what was typed")
	}
	if _, ok := e.user("greta"); ok {
		t.Fatal("an invalid account was created")
	}
	if u, _ := e.user("target"); u.Name != "Person target" {
		t.Fatal("an invalid change was stored")
	}
	if recs, _ := e.changes(tenantA); len(recs) != 0 {
		t.Fatalf("invalid changes were recorded: %+v", recs)
	}
	if r := b.post("/konto/target/ta-bort", nil); r.status != http.StatusSeeOther || r.location != "/konto/target/ta-bort" {
		t.Fatalf("a removal without confirmation: %d %q", r.status, r.location)
	}
	if _, ok := e.user("target"); !ok {
		t.Fatal("removed without confirmation")
	}
}

// TestAccountGuardrails: the rules the server keeps whatever a form says.
func TestAccountGuardrails(t *testing.T) {
	e := newEnv(t, false)
	const u1, u2, u3 = "SE2321000016-0A01", "SE2321000016-0A02", "SE2321000016-0A03"
	e.addUser("chief", tenantA, nil, false, vakt.RoleLocalAdmin, vakt.RolePermissionAdmin)
	e.addUser("unitadm", tenantA, []ident.HSAID{u1, u2}, false, vakt.RoleLocalAdmin, vakt.RolePermissionAdmin)
	e.addUser("mine", tenantA, []ident.HSAID{u1}, false, vakt.RoleReviewer)
	e.addUser("shared", tenantA, []ident.HSAID{u2, u3}, false, vakt.RoleReviewer)
	e.addUser("elsewhere", tenantA, []ident.HSAID{u3}, false, vakt.RoleReviewer)
	e.addUser("whole", tenantA, nil, false, vakt.RoleReviewer)

	t.Run("limited to units", func(t *testing.T) {
		b := e.login("unitadm")
		list := b.get("/konton").body
		for name, want := range map[string]bool{"mine": true, "shared": true, "unitadm": true, "elsewhere": false, "whole": false, "chief": false} {
			if got := strings.Contains(list, `href="/konto/`+name+`"`); got != want {
				t.Errorf("list shows %s: %v, want %v", name, got, want)
			}
		}
		for _, name := range []string{"elsewhere", "whole"} {
			if r := b.get("/konto/" + name); r.status != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", name, r.status)
			}
			if r := b.post("/konto/"+name+"/inaktivera", nil); r.status != http.StatusNotFound {
				t.Errorf("disable %s: %d, want 404", name, r.status)
			}
		}
		// Visible (shares a unit) but not manageable (has a unit outside).
		if page := b.get("/konto/shared"); page.status != 200 || strings.Contains(page.body, `id="disable"`) || strings.Contains(page.body, `id="save-roles"`) {
			t.Errorf("shared account page %d offers changes", page.status)
		}
		for _, rt := range adminRoutes("shared")[4:] {
			if rt.method != "POST" {
				continue
			}
			if r := b.post(rt.path, rt.form); r.status != http.StatusForbidden {
				t.Errorf("%s: %d, want 403", rt.path, r.status)
			}
		}
		if u, _ := e.user("shared"); u.Disabled || u.Name != "Person shared" || !slices.Equal(u.Roles, []vakt.Role{vakt.RoleReviewer}) {
			t.Error("the shared account changed")
		}
		// Units given must be theirs, and at least one.
		for _, units := range []string{"", u3, u1 + " " + u3} {
			r := b.post("/konton/nytt", url.Values{"username": {"x.y"}, "careUnits": {units}})
			if r.status != http.StatusForbidden || !strings.Contains(r.body, "utanför dina vårdenheter") {
				t.Errorf("create with units %q: %d", units, r.status)
			}
			r = b.post("/konto/mine/uppgifter", url.Values{"hsaId": {"SE2321000016-5555"}, "careUnits": {units}})
			if r.status != http.StatusForbidden {
				t.Errorf("move mine to %q: %d", units, r.status)
			}
		}
		if _, ok := e.user("x.y"); ok {
			t.Fatal("created outside the units")
		}
		if r := b.post("/konton/nytt", url.Values{"username": {"x.y"}, "careUnits": {u2 + "," + u1}, "role": {"granskare"}}); r.status != 200 {
			t.Fatalf("create within the units: %d", r.status)
		}
		if r := b.post("/konto/mine/uppgifter", url.Values{"hsaId": {"SE2321000016-5555"}, "careUnits": {u2}}); r.status != http.StatusSeeOther {
			t.Fatalf("move within the units: %d", r.status)
		}
		if u, _ := e.user("mine"); !slices.Equal(u.CareUnits, []ident.HSAID{u2}) || u.HSAID != "SE2321000016-5555" {
			t.Fatalf("mine: %+v", u)
		}
	})

	t.Run("self", func(t *testing.T) {
		b := e.login("chief")
		page := b.get("/konto/chief")
		if strings.Contains(page.body, `id="disable"`) || strings.Contains(page.body, `id="remove"`) || strings.Contains(page.body, `id="reset-password"`) {
			t.Error("one's own page offers disabling, removing or a new password")
		}
		for _, p := range []string{"/konto/chief/inaktivera", "/konto/chief/losenord"} {
			if r := b.post(p, nil); r.status != http.StatusForbidden || !strings.Contains(r.body, "ditt eget konto") {
				t.Errorf("%s: %d", p, r.status)
			}
		}
		if r := b.post("/konto/chief/ta-bort", url.Values{"confirm": {"ja"}}); r.status != http.StatusForbidden || !strings.Contains(r.body, "ditt eget konto") {
			t.Errorf("remove self: %d", r.status)
		}
		if u, ok := e.user("chief"); !ok || u.Disabled {
			t.Fatal("chief changed")
		}
	})

	t.Run("last administrator", func(t *testing.T) {
		// Only chief and unitadm administer accounts. chief disables unitadm, then may not take
		// away their own last administrator roles.
		b := e.login("chief")
		if r := b.post("/konto/unitadm/inaktivera", nil); r.status != http.StatusSeeOther {
			t.Fatalf("disable unitadm: %d", r.status)
		}
		r := b.post("/konto/chief/roller", url.Values{"role": {"lokal_administrator"}})
		if r.status != http.StatusConflict || !strings.Contains(r.body, "utan någon som kan administrera") {
			t.Fatalf("dropping the last grant of roles: %d", r.status)
		}
		if u, _ := e.user("chief"); !slices.Contains(u.Roles, vakt.RolePermissionAdmin) {
			t.Fatal("the last behorighetsadministrator lost the role")
		}
		// With unitadm enabled again, chief may drop a role: unitadm still holds both.
		if r := b.post("/konto/unitadm/aktivera", nil); r.status != http.StatusSeeOther {
			t.Fatalf("enable unitadm: %d", r.status)
		}
		if r := b.post("/konto/chief/roller", url.Values{"role": {"lokal_administrator", "granskare"}}); r.status != http.StatusSeeOther {
			t.Fatalf("drop a role with another administrator left: %d", r.status)
		}
		// Now unitadm is the last behorighetsadministrator: chief may not remove or disable it.
		if r := b.post("/konto/unitadm/ta-bort", url.Values{"confirm": {"ja"}}); r.status != http.StatusConflict {
			t.Fatalf("remove the last behorighetsadministrator: %d", r.status)
		}
		if r := b.post("/konto/unitadm/inaktivera", nil); r.status != http.StatusConflict {
			t.Fatalf("disable the last behorighetsadministrator: %d", r.status)
		}
		if u, ok := e.user("unitadm"); !ok || u.Disabled {
			t.Fatal("the last behorighetsadministrator was removed or disabled")
		}
	})
}

// TestAccountTenantIsolation: an administrator never sees nor changes another tenant's account,
// which answers exactly like one that does not exist.
func TestAccountTenantIsolation(t *testing.T) {
	e := newEnv(t, false)
	e.addUser("admin.a", tenantA, nil, false, vakt.RoleLocalAdmin, vakt.RolePermissionAdmin)
	e.addUser("admin.b", tenantB, nil, false, vakt.RoleLocalAdmin, vakt.RolePermissionAdmin)
	e.addUser("person.b", tenantB, nil, false, vakt.RoleReviewer)
	b := e.login("admin.a")
	if list := b.get("/konton").body; strings.Contains(list, "person.b") || strings.Contains(list, "admin.b") {
		t.Fatal("another tenant's accounts are listed")
	}
	if r := b.get("/konto/nobody"); r.status != http.StatusNotFound {
		t.Fatalf("an unknown account: %d", r.status)
	}
	for _, rt := range adminRoutes("person.b")[3:] {
		var r response
		if rt.method == "GET" {
			r = b.get(rt.path)
		} else {
			r = b.post(rt.path, rt.form)
		}
		if r.status != http.StatusNotFound || strings.Contains(r.body, "Person person.b") {
			t.Errorf("%s %s: %d, want 404", rt.method, rt.path, r.status)
		}
	}
	u, ok := e.user("person.b")
	if !ok || u.Disabled || u.Name != "Person person.b" || !slices.Equal(u.Roles, []vakt.Role{vakt.RoleReviewer}) {
		t.Fatalf("another tenant's account changed: %+v", u)
	}
	// An account created by tenant A's administrator lands in tenant A whatever the form says.
	if r := b.post("/konton/nytt", url.Values{"username": {"new.a"}, "tenant": {tenantB}}); r.status != 200 {
		t.Fatalf("create: %d", r.status)
	}
	if u, _ := e.user("new.a"); u.TenantID != tenantA {
		t.Fatalf("created in %s", u.TenantID)
	}
	// The username is global: tenant B cannot take it, and learns only that it is taken.
	if r := e.login("admin.b").post("/konton/nytt", url.Values{"username": {"new.a"}}); r.status != http.StatusConflict {
		t.Fatalf("a username of another tenant: %d", r.status)
	}
	if recs, _ := e.changes(tenantB); len(recs) != 0 {
		t.Fatalf("tenant B's log holds %+v", recs)
	}
	if recs, _ := e.changes(tenantA); len(recs) != 1 || recs[0].Account != "new.a" {
		t.Fatalf("tenant A's log holds %+v", recs)
	}
}

// TestDisableAndResetPassword: disabling ends the person's open session at its next request and
// stops logins until enabled; a new one-time password replaces the old password.
func TestDisableAndResetPassword(t *testing.T) {
	e := newEnv(t, false)
	e.addUser("admin", tenantA, nil, false, vakt.RoleLocalAdmin)
	e.addUser("greta", tenantA, nil, false, vakt.RoleReviewer)
	greta := e.login("greta")
	if r := greta.get("/logguppfoljning/invanare"); r.status != 200 {
		t.Fatalf("before: %d", r.status)
	}
	admin := e.login("admin")
	if r := admin.post("/konto/greta/inaktivera", nil); r.status != http.StatusSeeOther {
		t.Fatalf("disable: %d", r.status)
	}
	if r := greta.get("/logguppfoljning/invanare"); r.status != http.StatusSeeOther || r.location != "/login" {
		t.Fatalf("a disabled account's session goes on: %d %q", r.status, r.location)
	}
	if r := greta.get("/logguppfoljning/invanare"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/login") {
		t.Fatalf("the session came back: %d", r.status)
	}
	again := e.browser()
	again.get("/login")
	if r := again.post("/login", url.Values{"username": {"greta"}, "password": {password}}); r.status != http.StatusUnauthorized {
		t.Fatalf("a disabled account logs in: %d", r.status)
	}
	if page := admin.get("/konton"); !strings.Contains(page.body, "Inaktiverat") {
		t.Fatal("the list does not show the disabled state")
	}
	if r := admin.post("/konto/greta/aktivera", nil); r.status != http.StatusSeeOther {
		t.Fatalf("enable: %d", r.status)
	}
	e.login("greta")

	r := admin.post("/konto/greta/losenord", nil)
	pw := regexpFind(t, r.body, `<code id="one-time-password">([^<]+)</code>`)
	if r.status != 200 || strings.Contains(e.logs.String(), pw) {
		t.Fatalf("reset: %d", r.status)
	}
	old := e.browser()
	old.get("/login")
	if r := old.post("/login", url.Values{"username": {"greta"}, "password": {password}}); r.status != http.StatusUnauthorized {
		t.Fatalf("the old password still works: %d", r.status)
	}
	if r := old.post("/login", url.Values{"username": {"greta"}, "password": {pw}}); r.status != http.StatusSeeOther || r.location != "/losenord" {
		t.Fatalf("the one-time password: %d %q", r.status, r.location)
	}
	recs, _ := e.changes(tenantA)
	var actions []account.Action
	for _, r := range recs {
		actions = append(actions, r.Action)
	}
	if !slices.Equal(actions, []account.Action{account.ActionDisable, account.ActionEnable, account.ActionResetPassword}) || !recs[0].DisabledAfter {
		t.Fatalf("recorded %+v", recs)
	}
}
