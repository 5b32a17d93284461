package web_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/auth"
	"github.com/vakt/vakt/control"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/logcontrol"
	"github.com/vakt/vakt/rest"
	"github.com/vakt/vakt/server"
	"github.com/vakt/vakt/sqlite"
	"github.com/vakt/vakt/synth"
	"github.com/vakt/vakt/tenant"
	"github.com/vakt/vakt/web"
)

// The test world: two tenants on real SQLite files, the whole server (middleware included) on
// a random port, accounts with cheap password hashes, and a synthetic week of accesses in
// tenant A.

const (
	tenantA  = "region-a"
	tenantB  = "region-b"
	cpA      = "SE2321000016-0001"
	cpB      = "SE2321000131-0001"
	password = "ett långt lösenord"
)

var cheap = account.Params{MemoryKiB: 64, Time: 1, Threads: 1}

// clock is the sessions' clock, which tests move forward to expire sessions.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	t        *testing.T
	url      string
	reg      *sqlite.Registry
	stores   *sqlite.Stores
	regs     *sqlite.Registers // reference registers (flags)
	sessions *web.Sessions
	clock    *clock
	logs     *syncBuffer
	patient  ident.PersonID // a patient with accesses in tenant A
	staff    ident.HSAID    // a staff member with accesses in tenant A
	unit     ident.HSAID    // the unit of the patient's newest access
	from, to string         // a period covering the data

	transport http.RoundTripper // trusts the test server's certificate
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t *testing.T, tls bool) *env {
	t.Helper()
	return newEnvWith(t, tls, nil)
}

// newEnvWith is newEnv with configure called on the UI's settings before the UI is built,
// given the server's base URL (known before it starts).
func newEnvWith(t *testing.T, tls bool, configure func(ui *web.UI, baseURL string)) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	reg, err := sqlite.OpenRegistry(ctx, filepath.Join(dir, "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	stores, err := sqlite.NewStores(filepath.Join(dir, "tenants"), sqlite.Options{CacheKiB: 1024, CheckpointInterval: 10 * time.Millisecond},
		sqlite.Signing{Instance: "test.vakt", Secret: []byte("a test secret of at least 32 bytes")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stores.Close() })
	for _, tn := range []tenant.Tenant{
		{ID: tenantA, Name: "Region A", CareProviders: []ident.HSAID{cpA}},
		{ID: tenantB, Name: "Region B", CareProviders: []ident.HSAID{cpB}},
	} {
		if err := reg.CreateTenant(ctx, tn); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{t: t, reg: reg, stores: stores, clock: &clock{t: time.Now()}, logs: &syncBuffer{}}
	e.load(ctx)
	svc := &accesslog.Service{Stores: stores, Tenants: reg}
	e.sessions = &web.Sessions{Idle: 10 * time.Minute, Now: e.clock.Now}
	logger := slog.New(slog.NewJSONHandler(e.logs, nil))
	hs := httptest.NewUnstartedServer(nil)
	base := "http://" + hs.Listener.Addr().String()
	if tls {
		base = "https://" + hs.Listener.Addr().String()
	}
	settings := web.UI{Service: svc, Accounts: reg, Auth: &account.Authenticator{Store: reg, Params: cheap},
		Sessions: e.sessions, Logger: logger, Params: cheap}
	controls := sqlite.NewControls(filepath.Join(dir, "tenants"))
	t.Cleanup(func() { controls.Close() })
	settings.Controls = &control.Service{Logs: stores, Controls: controls, Tenants: reg}
	e.regs = sqlite.NewRegisters(filepath.Join(dir, "tenants"))
	t.Cleanup(func() { e.regs.Close() })
	settings.Flags = &logcontrol.Service{Logs: stores, Registers: e.regs, Tenants: reg}
	if configure != nil {
		configure(&settings, base)
	}
	ui, err := web.New(settings)
	if err != nil {
		t.Fatal(err)
	}
	api := &rest.API{Service: svc, Auth: &auth.Authenticator{Store: reg}, Logger: logger}
	srv := &server.Server{API: api, Surfaces: []interface{ Register(*http.ServeMux) }{ui}, Logger: logger}
	hs.Config.Handler = srv.Handler()
	if tls {
		hs.StartTLS()
	} else {
		hs.Start()
	}
	t.Cleanup(hs.Close)
	e.url, e.transport = hs.URL, hs.Client().Transport
	return e
}

// load stores a synthetic week in tenant A, ending now, and picks a patient, a staff member and
// a unit from it.
func (e *env) load(ctx context.Context) {
	t := e.t
	now := time.Now().UTC()
	start := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -7)
	g, err := synth.New(synth.Config{Seed: 3, CareProvider: cpA, Start: start, Days: 7, Entries: 3000, Persons: 400, Staff: 40, Units: 6})
	if err != nil {
		t.Fatal(err)
	}
	st, err := e.stores.Store(ctx, tenantA)
	if err != nil {
		t.Fatal(err)
	}
	var batch []accesslog.Pending
	counts := map[ident.PersonID]int{}
	units := map[ident.PersonID]map[ident.HSAID]bool{}
	var entries []accesslog.Entry
	for {
		en, ok := g.Next()
		if !ok {
			break
		}
		entries = append(entries, en)
		for _, p := range en.Patients() {
			counts[p]++
			if units[p] == nil {
				units[p] = map[ident.HSAID]bool{}
			}
			units[p][en.User.CareUnit.ID] = true
		}
		batch = append(batch, accesslog.Prepare(en))
	}
	if _, err := st.Append(ctx, batch); err != nil {
		t.Fatal(err)
	}
	// the patient accessed from most units, then with most accesses, so that results span
	// units and pages
	better := func(p, q ident.PersonID) bool {
		if len(units[p]) != len(units[q]) {
			return len(units[p]) > len(units[q])
		}
		if counts[p] != counts[q] {
			return counts[p] > counts[q]
		}
		return p.Key() < q.Key()
	}
	for p := range counts {
		if e.patient.IsZero() || better(p, e.patient) {
			e.patient = p
		}
	}
	for i := len(entries) - 1; i >= 0; i-- {
		if ps := entries[i].Patients(); len(ps) > 0 && ps[0] == e.patient {
			e.unit, e.staff = entries[i].User.CareUnit.ID, entries[i].User.ID
			break
		}
	}
	e.from = start.Format(time.DateOnly)
	e.to = now.AddDate(0, 0, 1).Format(time.DateOnly)
}

// addUser creates an account in tenantID.
func (e *env) addUser(username, tenantID string, units []ident.HSAID, mustChange bool, roles ...vakt.Role) {
	e.t.Helper()
	cp := ident.HSAID(cpA)
	if tenantID == tenantB {
		cp = cpB
	}
	hsa, _ := account.LocalHSAID(cp)
	u := account.User{Username: username, TenantID: tenantID, Name: "Person " + username, HSAID: hsa, Roles: roles, CareUnits: units, MustChange: mustChange}
	if err := e.reg.CreateUser(context.Background(), u, account.HashPassword(password, cheap)); err != nil {
		e.t.Fatal(err)
	}
}

// browser is one person's HTTP client: a cookie jar, no redirects followed (tests check them).
type browser struct {
	e    *env
	c    *http.Client
	csrf string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: e.transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &browser{e: e, c: c}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

type response struct {
	status   int
	body     string
	location string
	header   http.Header
}

func (b *browser) do(req *http.Request) response {
	b.e.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return response{status: resp.StatusCode, body: string(body), location: resp.Header.Get("Location"), header: resp.Header}
}

func (b *browser) get(path string) response {
	b.e.t.Helper()
	req, _ := http.NewRequest("GET", b.e.url+path, nil)
	return b.do(req)
}

// post sends a form with the browser's current CSRF token unless form sets "csrf" itself.
func (b *browser) post(path string, form url.Values) response {
	b.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	req, _ := http.NewRequest("POST", b.e.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// login logs in as username and returns the browser.
func (e *env) login(username string) *browser {
	e.t.Helper()
	b := e.browser()
	b.get("/login")
	r := b.post("/login", url.Values{"username": {username}, "password": {password}})
	if r.status != http.StatusSeeOther {
		e.t.Fatalf("login %s: status %d", username, r.status)
	}
	b.get(r.location) // pick up the new session's token
	return b
}

// searchCitizen runs an Invånare search and returns the result page's path.
func (b *browser) searchCitizen(p ident.PersonID, extra url.Values) (string, response) {
	b.e.t.Helper()
	f := url.Values{"tab": {"invanare"}, "subject": {p.Formatted()}, "from": {b.e.from}, "to": {b.e.to}}
	for k, v := range extra {
		f[k] = v
	}
	r := b.post("/logguppfoljning/sok", f)
	if r.status != http.StatusSeeOther {
		return "", r
	}
	u, _ := url.Parse(r.location)
	return u.Path, r
}
