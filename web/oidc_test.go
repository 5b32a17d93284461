package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/internal/oidctest"
	"github.com/vakt/vakt/oidc"
	"github.com/vakt/vakt/web"
)

// These tests log in through a real OpenID provider (zitadel/oidc's certified op package)
// running on a TLS loopback listener: discovery, the authorize endpoint, its login page, the
// token endpoint with client authentication and PKCE, signed ID tokens and the JWKS.

const personHSA = "SE2321000016-G7R8"

func person(roles ...any) oidctest.Person {
	return oidctest.Person{Subject: "sub-" + personHSA, Claims: map[string]any{
		"employeeHsaId": personHSA, "name": "Greta Granskare", "title": "Sjuksköterska", "vakt_roles": roles,
	}}
}

type oidcEnv struct {
	*env
	idp  *oidctest.Provider
	base string
}

func newOIDCEnv(t *testing.T, configure func(*web.UI)) *oidcEnv {
	t.Helper()
	return newOIDCEnvMode(t, "", configure)
}

// newOIDCEnvMode is newOIDCEnv with the client reading userinfo as mode says.
func newOIDCEnvMode(t *testing.T, mode oidc.UserinfoMode, configure func(*web.UI)) *oidcEnv {
	t.Helper()
	idp := oidctest.Start(t)
	o := &oidcEnv{idp: idp}
	o.env = newEnvWith(t, false, func(ui *web.UI, base string) {
		c, err := oidc.New(oidc.Config{Issuer: idp.Issuer, ClientID: idp.ClientID, ClientSecret: idp.ClientSecret,
			RedirectURL: base + "/login/oidc/callback", HTTPClient: idp.HTTPClient, Userinfo: mode})
		if err != nil {
			t.Fatal(err)
		}
		ui.OIDC, ui.PostLogoutURL = c, base+"/login"
		idp.AllowRedirect(base+"/login/oidc/callback", base+"/login")
		o.base = base
		if configure != nil {
			configure(ui)
		}
	})
	return o
}

// idpBrowser is a browser that also trusts the provider's certificate.
func (o *oidcEnv) browser() *browser {
	b := o.env.browser()
	b.c.Transport = o.idp.HTTPClient.Transport
	return b
}

// getURL fetches an absolute URL (the provider's pages).
func (b *browser) getURL(u string) response {
	b.e.t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	return b.do(req)
}

// toIdP starts a login and follows the provider's redirects until they lead back to vakt;
// it returns the callback's path and query.
func (o *oidcEnv) toIdP(b *browser) string {
	o.t.Helper()
	if page := b.get("/login"); !strings.Contains(page.body, `href="/login/oidc"`) || !strings.Contains(page.body, web.DefaultOIDCLabel) {
		o.t.Fatalf("no IdP button on the login page:\n%s", page.body)
	}
	r := b.get("/login/oidc")
	for i := 0; i < 10; i++ {
		if r.status != http.StatusSeeOther && r.status != http.StatusFound {
			o.t.Fatalf("login flow stopped with %d:\n%s", r.status, r.body)
		}
		if strings.HasPrefix(r.location, o.base) {
			return strings.TrimPrefix(r.location, o.base)
		}
		r = b.getURL(r.location)
	}
	o.t.Fatal("the provider never sent the browser back")
	return ""
}

// movesOn returns where the callback's page sends the browser on (its Refresh header), "" when
// it does not. The callback answers a successful login with a page, not a redirect, so that the
// next request starts on vakt's own site and carries the SameSite=Strict session cookie; a real
// browser proves it in cmd/vakt's TestBrowserOIDC.
func movesOn(r response) string {
	after, ok := strings.CutPrefix(r.header.Get("Refresh"), "0; url=")
	if !ok {
		return ""
	}
	return after
}

// loginAs logs in as p through the provider and returns the callback's answer.
func (o *oidcEnv) loginAs(p oidctest.Person) (*browser, response) {
	o.t.Helper()
	o.idp.SetPerson(p)
	b := o.browser()
	return b, b.get(o.toIdP(b))
}

// TestOIDCLogin: the whole code flow, a new session id, the search page reachable with the
// mapped role, the search logged in the tenant's log under the person's HSA-id and name, no
// password page, and logout here with a link to log out at the provider.
func TestOIDCLogin(t *testing.T) {
	o := newOIDCEnv(t, nil)
	o.idp.SetPerson(person("granskare@" + tenantA))
	b := o.browser()
	callback := o.toIdP(b)
	before := b.c.Jar.Cookies(mustURL(t, o.url))
	cb, _ := url.Parse(callback)
	if cb.Path != "/login/oidc/callback" || cb.Query().Get("code") == "" || cb.Query().Get("state") == "" {
		t.Fatalf("callback %s", callback)
	}
	r := b.get(callback)
	if r.status != http.StatusOK || movesOn(r) != "/logguppfoljning/invanare" || !strings.Contains(r.body, `href="/logguppfoljning/invanare"`) {
		t.Fatalf("callback: %d %v\n%s", r.status, r.header, r.body)
	}
	after := b.c.Jar.Cookies(mustURL(t, o.url))
	if len(before) == 0 || len(after) == 0 || before[0].Value == after[0].Value {
		t.Fatalf("the session id did not change at login: %v → %v", before, after)
	}
	page := b.get(movesOn(r))
	if page.status != 200 || !strings.Contains(page.body, "Greta Granskare") || strings.Contains(page.body, `href="/losenord"`) {
		t.Fatalf("search page: %d\n%s", page.status, page.body)
	}
	path, sr := b.searchCitizen(o.patient, nil)
	if path == "" {
		t.Fatalf("search: %d\n%s", sr.status, sr.body)
	}
	logged := 0
	for _, en := range o.find(tenantA, accesslog.Query{PatientID: o.patient}) {
		if en.Activity.Level == "Logguppföljning" {
			if string(en.User.ID) != personHSA || en.User.Name != "Greta Granskare" || en.User.Title != "Sjuksköterska" {
				t.Fatalf("the search was logged as %+v", en.User)
			}
			logged++
		}
	}
	if logged != 1 {
		t.Fatalf("%d logged searches, want 1", logged)
	}
	if r := b.get("/losenord"); r.status != http.StatusNotFound {
		t.Fatalf("password page for a person of the IdP: %d", r.status)
	}
	if r := b.get("/konton"); r.status != http.StatusForbidden {
		t.Fatalf("a granskare reached the accounts page: %d", r.status)
	}
	if strings.Contains(o.logs.String(), o.patient.Extension()) {
		t.Fatal("the personnummer is in the server log")
	}

	r = b.post("/logout", nil)
	if r.status != http.StatusSeeOther || r.location != "/login?idp=1" {
		t.Fatalf("logout: %d %s", r.status, r.location)
	}
	if r := b.get("/logguppfoljning/invanare"); r.status != http.StatusSeeOther {
		t.Fatalf("still logged in after logout: %d", r.status)
	}
	page = b.get("/login?idp=1")
	end := regexpFind(t, page.body, `id="idp-logout">[^<]*<a href="([^"]+)"`)
	end = strings.ReplaceAll(end, "&amp;", "&")
	if !strings.HasPrefix(end, o.idp.Issuer) || strings.Contains(end, "id_token_hint") {
		t.Fatalf("end-session link %s", end)
	}
	if r := b.getURL(end); r.status/100 != 3 || !strings.HasPrefix(r.location, o.base+"/login") {
		t.Fatalf("the provider's logout: %d %s\n%s", r.status, r.location, r.body)
	}
}

// TestOIDCState: a callback with another state, a second use of an attempt, and a callback
// without an attempt are refused and log nobody in.
func TestOIDCState(t *testing.T) {
	o := newOIDCEnv(t, nil)
	o.idp.SetPerson(person("granskare@" + tenantA))
	b := o.browser()
	callback := o.toIdP(b)
	u, _ := url.Parse(callback)
	q := u.Query()
	q.Set("state", q.Get("state")+"x")
	r := b.get(u.Path + "?" + q.Encode())
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "hör inte till din inloggning") {
		t.Fatalf("wrong state: %d\n%s", r.status, r.body)
	}
	if r := b.get(callback); r.status != http.StatusBadRequest || !strings.Contains(r.body, "gått ut") {
		t.Fatalf("the attempt was used again: %d\n%s", r.status, r.body)
	}
	if r := b.get("/logguppfoljning/invanare"); r.status != http.StatusSeeOther {
		t.Fatalf("logged in after a refused callback: %d", r.status)
	}
	// Another browser (an attacker's code in a victim's browser) has no attempt at all.
	callback = o.toIdP(b)
	other := o.browser()
	if r := other.get(callback); r.status != http.StatusBadRequest {
		t.Fatalf("a callback in another browser: %d", r.status)
	}
	// An error from the provider.
	o.toIdP(b)
	if r := b.get("/login/oidc/callback?error=access_denied&state=x"); r.status != http.StatusBadRequest {
		t.Fatalf("an error with a wrong state: %d", r.status)
	}
}

// TestOIDCTokenRefused: ID tokens that a real provider signed but that are not for this login
// are refused: another nonce, another audience, expired, signed by an unpublished key.
func TestOIDCTokenRefused(t *testing.T) {
	o := newOIDCEnv(t, nil)
	why := map[oidctest.Fault]string{oidctest.WrongNonce: "another nonce", oidctest.WrongAudience: "audience",
		oidctest.Expired: "expired", oidctest.ForeignKey: "signature"}
	for name, fault := range map[string]oidctest.Fault{
		"nonce": oidctest.WrongNonce, "audience": oidctest.WrongAudience, "expired": oidctest.Expired, "key": oidctest.ForeignKey,
	} {
		t.Run(name, func(t *testing.T) {
			o.idp.SetFault(fault)
			defer o.idp.SetFault(oidctest.NoFault)
			mark := len(o.logs.String())
			b, r := o.loginAs(person("granskare@" + tenantA))
			if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "kunde inte verifieras") {
				t.Fatalf("%d\n%s", r.status, r.body)
			}
			if logs := o.logs.String()[mark:]; !strings.Contains(logs, why[fault]) {
				t.Fatalf("refused for another reason than %q:\n%s", why[fault], logs[max(0, len(logs)-600):])
			}
			if r := b.get("/logguppfoljning/invanare"); r.status != http.StatusSeeOther {
				t.Fatalf("logged in with a bad token: %d", r.status)
			}
		})
	}
	// and the same provider without faults logs in
	if _, r := o.loginAs(person("granskare@" + tenantA)); r.status != http.StatusOK || movesOn(r) == "" {
		t.Fatalf("good token: %d\n%s", r.status, r.body)
	}
}

// TestOIDCClaimsRefused: claims vakt cannot map exactly refuse the login with a page that says
// why; nothing is widened.
func TestOIDCClaimsRefused(t *testing.T) {
	o := newOIDCEnv(t, nil)
	noHSA := person("granskare@" + tenantA)
	delete(noHSA.Claims, "employeeHsaId")
	for _, tc := range []struct {
		name string
		p    oidctest.Person
		text string
	}{
		{"unknown role", person("granskare@"+tenantA, "superadmin@"+tenantA), "finns inte i vakt"},
		{"unknown tenant", person("granskare@"+tenantA, "granskare@region-x"), "verksamhet som inte finns"},
		{"no roles", person(), "ingen roll"},
		{"no HSA-id", noHSA, "inget HSA-id"},
		{"units differ", person("granskare@"+tenantA+"/SE2321000016-U1", "chef@"+tenantA+"/SE2321000016-U2"), "olika vårdenheter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, r := o.loginAs(tc.p)
			if r.status != http.StatusForbidden || !strings.Contains(r.body, tc.text) {
				t.Fatalf("%d\n%s", r.status, r.body)
			}
			if r := b.get("/logguppfoljning/invanare"); r.status != http.StatusSeeOther {
				t.Fatalf("logged in: %d", r.status)
			}
		})
	}
}

// TestOIDCTenants: roles in tenant B give tenant B only (the search of tenant A's patient finds
// only the search itself, logged in B); roles in both ask which, and a tenant not granted is
// refused.
func TestOIDCTenants(t *testing.T) {
	o := newOIDCEnv(t, nil)
	b, r := o.loginAs(person("granskare@" + tenantB))
	if r.status != http.StatusOK || movesOn(r) == "" {
		t.Fatalf("login: %d\n%s", r.status, r.body)
	}
	b.get(movesOn(r)) // the new session's CSRF token
	path, _ := b.searchCitizen(o.patient, nil)
	if page := b.get(path); !strings.Contains(page.body, "<strong>1</strong>") || !strings.Contains(page.body, personHSA) {
		t.Fatalf("a reviewer of tenant B sees more than their own search:\n%s", page.body)
	}
	for _, en := range o.find(tenantA, accesslog.Query{PatientID: o.patient}) {
		if string(en.User.ID) == personHSA {
			t.Fatal("tenant B's search was logged in tenant A")
		}
	}

	b, r = o.loginAs(person("granskare@"+tenantA, "behorighetsadministrator@"+tenantB))
	if r.status != http.StatusOK || !strings.Contains(r.body, `id="tenant-`+tenantB+`"`) || !strings.Contains(r.body, `id="tenant-`+tenantA+`"`) {
		t.Fatalf("tenant choice: %d\n%s", r.status, r.body)
	}
	if r := b.get("/logguppfoljning/invanare"); r.status != http.StatusSeeOther {
		t.Fatalf("logged in before choosing: %d", r.status)
	}
	if r := b.post("/login/oidc/verksamhet", url.Values{"tenant": {"region-x"}}); r.status != http.StatusBadRequest {
		t.Fatalf("a tenant not granted: %d", r.status)
	}
	if r := b.post("/login/oidc/verksamhet", url.Values{"tenant": {tenantB}, "csrf": {"wrong"}}); r.status != http.StatusForbidden {
		t.Fatalf("choice without the CSRF token: %d", r.status)
	}
	r = b.post("/login/oidc/verksamhet", url.Values{"tenant": {tenantB}})
	if r.status != http.StatusSeeOther || r.location != "/konton" {
		t.Fatalf("choice: %d %s", r.status, r.location)
	}
	if page := b.get("/konton"); page.status != 200 || !strings.Contains(page.body, "("+tenantB+")") {
		t.Fatalf("accounts page of tenant B: %d\n%s", page.status, page.body)
	}
	if r := b.get("/logguppfoljning/invanare"); r.status != http.StatusForbidden {
		t.Fatalf("the granskare role of tenant A reached tenant B's session: %d", r.status)
	}
}

// TestPasswordLoginOff: with password login turned off the form is gone and its POST refused.
func TestPasswordLoginOff(t *testing.T) {
	o := newOIDCEnv(t, func(ui *web.UI) { ui.NoPasswordLogin = true })
	o.addUser("lokal", tenantA, nil, false, "granskare")
	b := o.browser()
	page := b.get("/login")
	if strings.Contains(page.body, `name="password"`) || !strings.Contains(page.body, `id="login-oidc"`) {
		t.Fatalf("login page:\n%s", page.body)
	}
	if r := b.post("/login", url.Values{"username": {"lokal"}, "password": {password}}); r.status != http.StatusNotFound {
		t.Fatalf("password login: %d", r.status)
	}
}

// TestLoginThrottle: after the free failures a username is refused for a doubling delay, even
// with the right password; other people log in meanwhile; the delay runs out; many failures
// from one address lock the address.
func TestLoginThrottle(t *testing.T) {
	c := &clock{t: time.Now()}
	e := newEnvWith(t, false, func(ui *web.UI, _ string) {
		ui.Throttle = &web.Throttle{Free: 3, FreeAddress: 10, Base: time.Minute, Max: 10 * time.Minute, Now: c.Now}
	})
	e.addUser("greta", tenantA, nil, false, "granskare")
	e.addUser("olof", tenantA, nil, false, "granskare")
	b := e.browser()
	b.get("/login")
	try := func(user, pw string) response {
		return b.post("/login", url.Values{"username": {user}, "password": {pw}})
	}
	for i := 0; i < 3; i++ {
		if r := try("greta", "fel lösenord igen"); r.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, r.status)
		}
	}
	r := try("greta", "fel lösenord igen") // the fourth failure starts the delay
	if r.status != http.StatusUnauthorized {
		t.Fatalf("fourth failure: %d", r.status)
	}
	r = try("greta", password)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "60" || !strings.Contains(r.body, "försök igen om 1 min") {
		t.Fatalf("throttled: %d %q\n%s", r.status, r.header.Get("Retry-After"), r.body)
	}
	if o := e.login("olof"); o == nil {
		t.Fatal("olof")
	}
	c.add(61 * time.Second)
	if r := try("greta", "fel lösenord igen"); r.status != http.StatusUnauthorized {
		t.Fatalf("after the delay: %d", r.status)
	}
	if r := try("greta", password); r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "120" {
		t.Fatalf("the delay did not double: %d %q", r.status, r.header.Get("Retry-After"))
	}
	c.add(121 * time.Second)
	if r := try("greta", password); r.status != http.StatusSeeOther {
		t.Fatalf("after the second delay: %d", r.status)
	}
	// The address: 10 failures from it (greta's count was cleared by her login) lock everyone.
	b = e.browser()
	b.get("/login")
	for i := 0; i < 6; i++ {
		if r := try(fmt.Sprintf("nobody%d", i), "x"); r.status != http.StatusUnauthorized {
			t.Fatalf("failure from the address: %d", r.status)
		}
	}
	if r := try("olof", password); r.status != http.StatusTooManyRequests {
		t.Fatalf("address lock: %d", r.status)
	}
	if strings.Contains(e.logs.String(), password) {
		t.Fatal("a password is in the log")
	}
}
