package main

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/internal/browsertest"
	"github.com/vakt/vakt/internal/oidctest"
	"github.com/vakt/vakt/oidc"
)

// cookieLog keeps what the browser reported about the cookies of each request it sent: the
// proof of which cookies a real browser sends on which redirect.
type cookieLog struct {
	mu   sync.Mutex
	reqs [][]*network.AssociatedCookie
}

func (l *cookieLog) listen(ev any) {
	if e, ok := ev.(*network.EventRequestWillBeSentExtraInfo); ok {
		l.mu.Lock()
		l.reqs = append(l.reqs, e.AssociatedCookies)
		l.mu.Unlock()
	}
}

// with returns the cookie lists of the requests that carried the cookie named name.
func (l *cookieLog) with(name string) [][]*network.AssociatedCookie {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out [][]*network.AssociatedCookie
	for _, cs := range l.reqs {
		if slices.ContainsFunc(cs, func(c *network.AssociatedCookie) bool { return c.Cookie.Name == name && len(c.BlockedReasons) == 0 }) {
			out = append(out, cs)
		}
	}
	return out
}

// TestBrowserOIDC drives a real headless Chromium through a login at the region's IdP, as
// `vakt serve --public-url http://vakt.test --oidc-issuer …` is used: vakt reached as vakt.test,
// the provider on https://127.0.0.1, so that the way back from the provider is a cross-site
// navigation started on the provider's own page. It proves what the HTTP tests cannot: that the
// browser drops the SameSite=Strict session cookie there and sends the SameSite=Lax attempt
// cookie, that the CSP lets the flow through, and that the person then works in vakt (a citizen
// search, logged with their HSA-id) and logs out, at vakt and at the provider.
func TestBrowserOIDC(t *testing.T) {
	idp := oidctest.Start(t)
	idp.SetLoginButton(true)
	const hsa, public = "SE2321000016-G7R8", "http://vakt.test"
	idp.SetPerson(oidctest.Person{Subject: "sub-" + hsa, Claims: map[string]any{
		"employeeHsaId": hsa, "name": "Greta Granskare", "title": "Sjuksköterska",
		"vakt_roles": []string{"granskare@region-exempel"},
	}})
	idp.AllowRedirect(public+"/login/oidc/callback", public+"/login")
	m := &Main{Config: ServeConfig{
		DataDir: t.TempDir(), Addr: "127.0.0.1:0", MaxBatch: 10000, MaxBodyBytes: 64 << 20, CacheMiB: 16,
		SealEntries: 500, Drain: 5 * time.Second, Logger: slog.New(slog.DiscardHandler), CheckpointInterval: 50 * time.Millisecond,
		FirstStart: true, FirstCareProvider: "SE2321000016-0001", Demo: true, DemoEntries: 500,
		PublicURL: public, NoPasswordLogin: true, OIDCLabel: "Logga in med SITHS-kort",
		OIDC: oidc.Config{Issuer: idp.Issuer, ClientID: idp.ClientID, ClientSecret: idp.ClientSecret,
			RedirectURL: public + "/login/oidc/callback", HTTPClient: idp.HTTPClient},
	}}
	if err := m.Open(context.Background()); err != nil {
		m.Close()
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})

	var cookies cookieLog
	ctx, _ := browsertest.New(t, 60*time.Second, browsertest.MapHost("vakt.test", m.Server.Addr()),
		browsertest.TrustCertificate(idp.Certificate()), browsertest.Listen(cookies.listen))
	page := browsertest.Page{T: t, Ctx: ctx}
	run := page.Run
	text := page.Text
	location := page.Location
	vaktCookies := func() map[string]*network.Cookie {
		t.Helper()
		res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{public + "/login/oidc/callback"}})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]*network.Cookie{}
		for _, c := range res.Cookies {
			out[c.Name] = c
		}
		return out
	}

	run("login page, to the IdP",
		chromedp.Navigate(public+"/login"),
		chromedp.Click(chromedp.CSS(`a[href="/login/oidc"]`)),
		chromedp.WaitVisible(chromedp.ID("idp-login")),
	)
	if !strings.HasPrefix(location(), idp.Issuer+"/login") {
		t.Fatalf("the IdP button led to %s", location())
	}
	attempt := vaktCookies()["vakt_oidc"]
	if attempt == nil || attempt.SameSite != network.CookieSameSiteLax || !attempt.HTTPOnly || attempt.Path != "/login/oidc/callback" {
		t.Fatalf("attempt cookie while at the IdP: %+v", attempt)
	}

	// The IdP's page starts the way back; vakt's callback page moves on to the search page.
	run("log in at the IdP",
		chromedp.Click(chromedp.ID("idp-login")),
		chromedp.WaitVisible(chromedp.ID("subject")),
	)
	if loc := location(); loc != public+"/logguppfoljning/invanare" {
		t.Fatalf("after the IdP's login the browser is at %s", loc)
	}
	// The callback was the one request that carried the attempt cookie, and the browser left the
	// session cookie out of it: the way back from the IdP was cross-site to the browser.
	sent := cookies.with("vakt_oidc")
	if len(sent) != 1 {
		t.Fatalf("%d requests carried the attempt cookie, want the callback alone", len(sent))
	}
	i := slices.IndexFunc(sent[0], func(c *network.AssociatedCookie) bool { return c.Cookie.Name == "vakt_session" })
	if i < 0 || !slices.Contains(sent[0][i].BlockedReasons, network.CookieBlockedReasonSameSiteStrict) {
		t.Fatalf("the session cookie was not held back from the callback as SameSite=Strict: %+v", sent[0])
	}
	if c := vaktCookies(); c["vakt_oidc"] != nil || c["vakt_session"] == nil {
		t.Fatalf("cookies after the callback: %v; want the session and no attempt (used once)", c)
	}
	if s := text("header"); !strings.Contains(s, "Greta Granskare") {
		t.Fatalf("header after login: %q", s)
	}

	run("search a citizen",
		chromedp.SendKeys(chromedp.ID("subject"), m.demo.Patient.Formatted()),
		chromedp.Click(chromedp.ID("search")),
		chromedp.WaitVisible(chromedp.ID("results")),
	)
	if strings.Contains(location(), m.demo.Patient.Extension()) {
		t.Fatalf("the personnummer is in the URL %s", location())
	}
	if n, err := strconv.Atoi(strings.Fields(text("#result-count"))[0]); err != nil || n < 2 {
		t.Fatalf("result count %q: want the patient's accesses and the search itself", text("#result-count"))
	}

	run("log out at vakt",
		chromedp.Click(chromedp.ID("logout")),
		chromedp.WaitVisible(chromedp.CSS(`#idp-logout a`)),
	)
	run("log out at the IdP",
		chromedp.Click(chromedp.CSS(`#idp-logout a`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/login/oidc"]`)),
	)
	if loc := location(); loc != public+"/login" || idp.EndedSessions() != 1 {
		t.Fatalf("after the IdP's logout: at %s, %d sessions ended there", loc, idp.EndedSessions())
	}
	run("the tool is closed after logout",
		chromedp.Navigate(public+"/logguppfoljning/invanare"),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/login/oidc"]`)),
	)

	// The search is in the tenant's own log, under the person of the IdP's claims.
	st, err := m.Stores.Store(context.Background(), "region-exempel")
	if err != nil {
		t.Fatal(err)
	}
	var searches []string
	err = st.Export(context.Background(), accesslog.Query{PatientID: m.demo.Patient}, func(s *accesslog.Stored) error {
		e, err := s.Entry()
		if err == nil && e.Activity.Level == "Logguppföljning" {
			searches = append(searches, string(e.User.ID)+" "+e.User.Name+" "+e.User.Title)
		}
		return err
	})
	if err != nil || len(searches) != 1 || searches[0] != hsa+" Greta Granskare Sjuksköterska" {
		t.Fatalf("logged searches of the patient: %q %v; want one by %s", searches, err, hsa)
	}
}
