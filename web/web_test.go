package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
)

// route is one of the UI's routes as a test calls it.
type route struct {
	method, path string
	form         url.Values
	perm         string // "follow", "export", "accounts" or "" for every person
}

// routes returns every person route, with a search and an entry of the caller's own when it has
// them.
func routes(e *env, search, entry string) []route {
	if search == "" {
		search, entry = "/logguppfoljning/resultat/nonexistent0000", "/logguppfoljning/resultat/nonexistent0000/post/1"
	}
	return []route{
		{"GET", "/logguppfoljning", nil, "follow"},
		{"GET", "/logguppfoljning/invanare", nil, "follow"},
		{"GET", "/logguppfoljning/vardpersonal", nil, "follow"},
		{"POST", "/logguppfoljning/sok", url.Values{"tab": {"vardpersonal"}, "subject": {string(e.staff)}, "from": {e.from}, "to": {e.to}}, "follow"},
		{"GET", search, nil, "follow"},
		{"GET", entry, nil, "follow"},
		{"POST", search + "/export", url.Values{"format": {"csv"}}, "export"},
		{"GET", "/konton", nil, "accounts"},
		{"GET", "/losenord", nil, ""},
	}
}

// TestRolesOnRoutes: every role on every route gets exactly what docs/UI.md promises: the page,
// or 403 without touching anything.
func TestRolesOnRoutes(t *testing.T) {
	e := newEnv(t, false)
	allowed := map[vakt.Role]map[string]bool{
		vakt.RoleReviewer:        {"follow": true, "export": true},
		vakt.RoleManager:         {"follow": true, "export": true},
		vakt.RoleLogAdmin:        {"follow": true, "export": true},
		vakt.RoleLocalAdmin:      {"accounts": true},
		vakt.RolePermissionAdmin: {"accounts": true},
	}
	for _, role := range vakt.PersonRoles() {
		t.Run(string(role), func(t *testing.T) {
			name := strings.ReplaceAll(string(role), "_", ".")
			e.addUser(name, tenantA, nil, false, role)
			b := e.login(name)
			search, entry := "", ""
			if allowed[role]["follow"] {
				path, r := b.searchCitizen(e.patient, nil)
				if path == "" {
					t.Fatalf("search: %d", r.status)
				}
				search = path
				entry = path + "/post/" + regexpFind(t, b.get(search).body, path+`/post/(\d+)`)
			}
			for _, rt := range routes(e, search, entry) {
				var r response
				if rt.method == "GET" {
					r = b.get(rt.path)
				} else {
					r = b.post(rt.path, rt.form)
				}
				may := rt.perm == "" || allowed[role][rt.perm]
				switch {
				case !may && r.status != http.StatusForbidden:
					t.Errorf("%s %s: status %d, want 403", rt.method, rt.path, r.status)
				case may && r.status >= 400:
					t.Errorf("%s %s: status %d, want success", rt.method, rt.path, r.status)
				}
			}
		})
	}
	// An anonymous visitor is sent to the login page from every person route.
	b := e.browser()
	for _, rt := range routes(e, "", "") {
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

// TestSearchAndPrivacy: a citizen search finds the accesses, is itself logged, pages and sorts,
// opens entries with verified integrity and exports; the personnummer never appears in a URL, a
// redirect or the server's log.
func TestSearchAndPrivacy(t *testing.T) {
	e := newEnv(t, false)
	e.addUser("greta", tenantA, nil, false, vakt.RoleReviewer)
	b := e.login("greta")
	path, r := b.searchCitizen(e.patient, nil)
	if path == "" {
		t.Fatalf("search: %d\n%s", r.status, r.body)
	}
	page := b.get(path)
	if page.status != 200 || !strings.Contains(page.body, e.patient.Formatted()) || !strings.Contains(page.body, `id="results"`) {
		t.Fatalf("result page %d:\n%s", page.status, page.body)
	}
	// The search itself is the newest access and names Greta.
	if !strings.Contains(page.body, "Person greta") || !strings.Contains(page.body, "Logguppföljning") && !strings.Contains(page.body, "vakt logguppföljning") {
		t.Fatal("the search is not among its own results")
	}
	sorted := b.get(path + "?sort=vem&ordning=stigande&sida=1")
	if sorted.status != 200 || !strings.Contains(sorted.body, `aria-sort="ascending"`) {
		t.Fatalf("sorted page %d", sorted.status)
	}
	seq := regexpFind(t, page.body, path+`/post/(\d+)`)
	detail := b.get(path + "/post/" + seq)
	if detail.status != 200 || !strings.Contains(detail.body, `id="integrity"`) {
		t.Fatalf("detail %d", detail.status)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(detail.body, `integrity verified`) && time.Now().Before(deadline) {
		detail = b.get(path + "/post/" + seq) // checkpoints are signed every 10 ms here
	}
	if !strings.Contains(detail.body, `integrity verified`) {
		t.Fatalf("integrity not verified:\n%s", detail.body)
	}
	for _, f := range []string{"csv", "xlsx", "pdf"} {
		x := b.post(path+"/export", url.Values{"format": {f}})
		if x.status != 200 || !strings.Contains(x.header.Get("Content-Disposition"), "."+f) || len(x.body) < 100 {
			t.Fatalf("export %s: %d %q", f, x.status, x.header.Get("Content-Disposition"))
		}
		if f == "csv" && (!strings.Contains(x.body, "Tidpunkt;") || !strings.Contains(x.body, string(e.staff))) {
			t.Fatalf("csv:\n%s", x.body)
		}
		if f == "xlsx" {
			book, err := excelize.OpenReader(strings.NewReader(x.body))
			if err != nil {
				t.Fatal(err)
			}
			about, _ := book.GetRows("Sökning")
			book.Close()
			if len(about) < 4 || about[2][0] != "Sökt av" || !strings.HasPrefix(about[2][1], "Person greta (") || about[5][1] != e.patient.Formatted() {
				t.Fatalf("the export's description: %q", about)
			}
		}
	}
	// The search and the three exports are in the tenant's log, under Greta's name.
	svcEntries := e.find(tenantA, accesslog.Query{PatientID: e.patient})
	var searches, exports int
	for _, en := range svcEntries {
		if en.User.Name == "Person greta" && en.Activity.Level == "Logguppföljning" {
			switch en.Activity.Type {
			case accesslog.ActivityRead:
				searches++
			case accesslog.ActivityPrint:
				exports++
			}
		}
	}
	if searches != 1 || exports != 3 {
		t.Fatalf("logged %d searches and %d exports, want 1 and 3", searches, exports)
	}
	digits := e.patient.Extension()
	for _, s := range []string{r.location, sorted.body, e.logs.String()} {
		if strings.Contains(s, digits) || strings.Contains(s, e.patient.Formatted()) && s != sorted.body {
			t.Fatalf("the personnummer leaked into %q", s[:min(len(s), 300)])
		}
	}
	for _, href := range regexpAll(page.body, `href="([^"]+)"`) {
		if strings.Contains(href, digits[2:8]) {
			t.Fatalf("a link holds the personnummer: %s", href)
		}
	}
	if id := strings.TrimPrefix(path, "/logguppfoljning/resultat/"); strings.Contains(e.logs.String(), id) ||
		!strings.Contains(e.logs.String(), `"route":"GET /logguppfoljning/resultat/{search}"`) {
		t.Fatal("the access log holds a raw URL instead of the route pattern")
	}
	// A bad personnummer is refused with a message that does not repeat it.
	_, bad := b.searchCitizen(ident.PersonID{}, url.Values{"subject": {"19121212-1213"}})
	if bad.status != http.StatusBadRequest || !strings.Contains(bad.body, `id="search-error"`) {
		t.Fatalf("bad personnummer: %d", bad.status)
	}
}

func (e *env) find(tenantID string, q accesslog.Query) []accesslog.Entry {
	e.t.Helper()
	st, err := e.stores.Store(context.Background(), tenantID)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []accesslog.Entry
	err = st.Export(context.Background(), q, func(s *accesslog.Stored) error {
		en, err := s.Entry()
		out = append(out, en)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// TestUnitsAndTenants: a person limited to a care unit sees only accesses made from it, and a
// person of another tenant sees nothing of tenant A.
func TestUnitsAndTenants(t *testing.T) {
	e := newEnv(t, false)
	e.addUser("chefen", tenantA, []ident.HSAID{e.unit}, false, vakt.RoleManager)
	e.addUser("annan", tenantB, nil, false, vakt.RoleReviewer)
	b := e.login("chefen")
	path, _ := b.searchCitizen(e.patient, nil)
	page := b.get(path + "?sida=1")
	units := regexpAll(page.body, `(?s)<tr>\s*<td>[^<]*</td>\s*<td>.*?</td>\s*<td>([^<]*)</td>`)
	if len(units) == 0 {
		t.Fatalf("no rows:\n%s", page.body)
	}
	for _, u := range units {
		if !strings.HasSuffix(u, "("+string(e.unit)+")") && u != string(e.unit) {
			t.Fatalf("a person limited to %s sees unit %s", e.unit, u)
		}
	}
	all := e.find(tenantA, accesslog.Query{PatientID: e.patient})
	other := 0
	for _, en := range all {
		if en.User.CareUnit.ID != e.unit {
			other++
		}
	}
	if other == 0 {
		t.Fatal("the test patient has no accesses from other units; the test proves nothing")
	}
	x := e.login("annan")
	path, _ = x.searchCitizen(e.patient, nil)
	if page := x.get(path); !strings.Contains(page.body, "<strong>1</strong>") {
		t.Fatalf("another tenant's reviewer sees more than their own search:\n%s", page.body)
	}
	// Someone else's search id is not found in another session.
	if r := x.get(strings.Replace(path, path, "/logguppfoljning/resultat/"+strings.TrimPrefix(path, "/logguppfoljning/resultat/")+"x", 1)); r.status != http.StatusNotFound {
		t.Fatalf("unknown search: %d", r.status)
	}
}

// TestCSRF: every form without the session's token is refused with 403 and changes nothing.
func TestCSRF(t *testing.T) {
	e := newEnv(t, false)
	e.addUser("greta", tenantA, nil, false, vakt.RoleReviewer)
	// login without a token
	anon := e.browser()
	anon.get("/login")
	for _, tok := range []string{"", "wrong"} {
		if r := anon.post("/login", url.Values{"csrf": {tok}, "username": {"greta"}, "password": {password}}); r.status != http.StatusForbidden {
			t.Fatalf("login with token %q: %d", tok, r.status)
		}
	}
	if r := e.browser().post("/login", url.Values{"username": {"greta"}, "password": {password}}); r.status != http.StatusForbidden {
		t.Fatalf("login without a session: %d", r.status)
	}
	b := e.login("greta")
	path, _ := b.searchCitizen(e.patient, nil)
	before := len(e.find(tenantA, accesslog.Query{PatientID: e.patient}))
	for _, rt := range []struct {
		path string
		form url.Values
	}{
		{"/logguppfoljning/sok", url.Values{"tab": {"invanare"}, "subject": {e.patient.Formatted()}, "from": {e.from}, "to": {e.to}}},
		{path + "/export", url.Values{"format": {"csv"}}},
		{"/losenord", url.Values{"current": {password}, "new": {"ett annat långt lösenord"}, "repeat": {"ett annat långt lösenord"}}},
		{"/sprak", url.Values{"lang": {"en"}, "back": {"/"}}},
		{"/logout", nil},
	} {
		for _, tok := range []string{"", "x" + b.csrf[1:]} {
			f := url.Values{"csrf": {tok}}
			for k, v := range rt.form {
				f[k] = v
			}
			if r := b.post(rt.path, f); r.status != http.StatusForbidden || !strings.Contains(r.body, `id="error-message"`) {
				t.Errorf("POST %s with token %q: %d", rt.path, tok, r.status)
			}
		}
	}
	if after := len(e.find(tenantA, accesslog.Query{PatientID: e.patient})); after != before {
		t.Fatalf("refused forms were logged or run: %d entries, then %d", before, after)
	}
	if r := b.get(path); r.status != 200 {
		t.Fatalf("the session did not survive refused forms: %d", r.status)
	}
	if r := b.get("/logguppfoljning/invanare"); strings.Contains(r.body, "Skip to content") {
		t.Fatal("a refused language switch changed the language")
	}
}

// TestSessions: cookies are HttpOnly and SameSite=Strict (and Secure with __Host- on TLS), an
// idle session expires, logout ends the session on the server, a one-time password must be
// changed first, and a failed login does not say whether the account exists.
func TestSessions(t *testing.T) {
	e := newEnv(t, false)
	e.addUser("greta", tenantA, nil, false, vakt.RoleReviewer)
	b := e.browser()
	r := b.get("/login")
	ck := r.header.Get("Set-Cookie")
	if !strings.HasPrefix(ck, "vakt_session=") || !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Strict") || strings.Contains(ck, "Secure") {
		t.Fatalf("cookie %q", ck)
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("CSP %q", csp)
	}
	if strings.Contains(r.body, "<script") || strings.Contains(r.body, "style=") {
		t.Fatal("a page has inline script or style")
	}
	for _, user := range []string{"greta", "nobody"} {
		if r := b.post("/login", url.Values{"username": {user}, "password": {"fel lösenord här"}}); r.status != http.StatusUnauthorized || !strings.Contains(r.body, `id="login-error"`) {
			t.Fatalf("wrong password for %s: %d", user, r.status)
		}
	}
	before := b.csrf
	r = b.post("/login", url.Values{"username": {"greta"}, "password": {password}})
	if r.status != http.StatusSeeOther || r.location != "/logguppfoljning/invanare" {
		t.Fatalf("login: %d → %s", r.status, r.location)
	}
	if b.get(r.location); b.csrf == before {
		t.Fatal("the session was not renewed at login")
	}
	e.clock.add(9 * time.Minute)
	if r := b.get("/logguppfoljning/invanare"); r.status != 200 {
		t.Fatalf("active session: %d", r.status)
	}
	e.clock.add(11 * time.Minute)
	if r := b.get("/logguppfoljning/invanare"); r.status != http.StatusSeeOther || r.location != "/login?utloggad=1" {
		t.Fatalf("idle session: %d → %s", r.status, r.location)
	}
	if r := b.get("/login?utloggad=1"); !strings.Contains(r.body, "inte har varit aktiv") {
		t.Fatal("no notice of the expired session")
	}

	// Logout ends the session on the server: the old cookie is worthless afterwards.
	b = e.login("greta")
	jarCookies := b.c.Jar.Cookies(mustURL(t, e.url))
	if r := b.post("/logout", nil); r.status != http.StatusSeeOther || r.location != "/login" {
		t.Fatalf("logout: %d → %s", r.status, r.location)
	}
	replay := e.browser()
	replay.c.Jar.SetCookies(mustURL(t, e.url), jarCookies)
	if r := replay.get("/logguppfoljning/invanare"); r.status != http.StatusSeeOther {
		t.Fatalf("a logged-out cookie still works: %d", r.status)
	}

	// A one-time password leads to the password page, and nowhere else, until it is changed.
	e.addUser("ny", tenantA, nil, true, vakt.RoleReviewer)
	n := e.browser()
	n.get("/login")
	if r := n.post("/login", url.Values{"username": {"ny"}, "password": {password}}); r.location != "/losenord" {
		t.Fatalf("one-time password: → %s", r.location)
	}
	if r := n.get("/logguppfoljning/invanare"); r.location != "/losenord" {
		t.Fatalf("follow-up before changing the password: %d → %s", r.status, r.location)
	}
	n.get("/losenord")
	if r := n.post("/losenord", url.Values{"current": {password}, "new": {"kort"}, "repeat": {"kort"}}); r.status != http.StatusBadRequest {
		t.Fatalf("short password: %d", r.status)
	}
	if r := n.post("/losenord", url.Values{"current": {"fel"}, "new": {"ett eget långt lösenord"}, "repeat": {"ett eget långt lösenord"}}); !strings.Contains(r.body, `id="password-error"`) {
		t.Fatal("wrong current password accepted")
	}
	if r := n.post("/losenord", url.Values{"current": {password}, "new": {"ett eget långt lösenord"}, "repeat": {"ett eget långt lösenord"}}); !strings.Contains(r.body, `id="password-done"`) {
		t.Fatalf("password change: %d", r.status)
	}
	if r := n.get("/logguppfoljning/invanare"); r.status != 200 {
		t.Fatalf("after the change: %d", r.status)
	}

	// English on request; Swedish by default.
	n.post("/sprak", url.Values{"lang": {"en"}, "back": {"//evil.example/x"}})
	if r := n.get("/logguppfoljning/invanare"); !strings.Contains(r.body, `lang="en"`) || !strings.Contains(r.body, "Search accesses") {
		t.Fatal("no English after switching")
	}
	if r := n.post("/sprak", url.Values{"lang": {"sv"}, "back": {"//evil.example/x"}}); r.location != "/" {
		t.Fatalf("the language switch redirects off-site: %s", r.location)
	}
}

// TestSessionsOnTLS: on TLS the cookie is Secure, __Host- prefixed, and HSTS is sent.
func TestSessionsOnTLS(t *testing.T) {
	e := newEnv(t, true)
	r := e.browser().get("/login")
	ck := r.header.Get("Set-Cookie")
	if !strings.HasPrefix(ck, "__Host-vakt_session=") || !strings.Contains(ck, "Secure") || !strings.Contains(ck, "Path=/") {
		t.Fatalf("cookie %q", ck)
	}
	if r.header.Get("Strict-Transport-Security") == "" {
		t.Fatal("no HSTS on TLS")
	}
	e.addUser("greta", tenantA, nil, false, vakt.RoleReviewer)
	if b := e.login("greta"); b.get("/logguppfoljning/invanare").status != 200 {
		t.Fatal("login on TLS failed")
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
