package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/auth"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/postgres"
	"github.com/vakt/vakt/postgres/pgtest"
	"github.com/vakt/vakt/rest"
	"github.com/vakt/vakt/server"
	"github.com/vakt/vakt/session"
	"github.com/vakt/vakt/synth"
	"github.com/vakt/vakt/tenant"
	"github.com/vakt/vakt/web"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestSessionsAcrossNodes: two web nodes on one PostgreSQL database share sessions, so that no
// request needs to come back to the node that served the last one: login on A, a search on B,
// its result page on A, the language switched on A and seen on B, logout on B, and then the
// cookie is dead on A too.
func TestSessionsAcrossNodes(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	signing := postgres.Signing{Instance: "nodes.test.vakt", Secret: []byte("a test secret of at least 32 bytes")}
	clk := &clock{t: time.Now()}

	setup, err := postgres.OpenRegistry(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer setup.Close()
	if err := setup.CreateTenant(ctx, tenant.Tenant{ID: tenantA, Name: "Region A", CareProviders: []ident.HSAID{cpA}}); err != nil {
		t.Fatal(err)
	}
	hsa, _ := account.LocalHSAID(cpA)
	if err := setup.CreateUser(ctx, account.User{Username: "greta", TenantID: tenantA, Name: "Greta", HSAID: hsa,
		Roles: []vakt.Role{vakt.RoleReviewer}}, account.HashPassword(password, cheap)); err != nil {
		t.Fatal(err)
	}
	stores, err := postgres.OpenStores(ctx, dsn, signing, postgres.LogOptions{CheckpointInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer stores.Close()
	now := time.Now().UTC()
	g, err := synth.New(synth.Config{Seed: 9, CareProvider: cpA, Start: now.AddDate(0, 0, -3), Days: 3, Entries: 300, Persons: 20, Staff: 5, Units: 2})
	if err != nil {
		t.Fatal(err)
	}
	var batch []accesslog.Pending
	var patient ident.PersonID
	for {
		en, ok := g.Next()
		if !ok {
			break
		}
		if ps := en.Patients(); patient.IsZero() && len(ps) > 0 {
			patient = ps[0]
		}
		batch = append(batch, accesslog.Prepare(en))
	}
	st, err := stores.Store(ctx, tenantA)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Append(ctx, batch); err != nil {
		t.Fatal(err)
	}

	// A node: its own connections to the registry, log stores and sessions, its own handler.
	node := func() *env {
		reg, err := postgres.OpenRegistry(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { reg.Close() })
		logs, err := postgres.OpenStores(ctx, dsn, signing, postgres.LogOptions{CheckpointInterval: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { logs.Close() })
		svc := &accesslog.Service{Stores: logs, Tenants: reg}
		logger := slog.New(slog.DiscardHandler)
		ui, err := web.New(web.UI{Service: svc, Accounts: reg, Auth: &account.Authenticator{Store: reg, Params: cheap}, Logger: logger, Params: cheap,
			Sessions: &web.Sessions{Store: reg.Sessions(session.Limits{Idle: 10 * time.Minute, Now: clk.Now})}})
		if err != nil {
			t.Fatal(err)
		}
		srv := &server.Server{API: &rest.API{Service: svc, Auth: &auth.Authenticator{Store: reg}, Logger: logger},
			Surfaces: []interface{ Register(*http.ServeMux) }{ui}, Logger: logger}
		hs := httptest.NewServer(srv.Handler())
		t.Cleanup(hs.Close)
		return &env{t: t, url: hs.URL, transport: hs.Client().Transport, clock: clk, patient: patient,
			from: now.AddDate(0, 0, -4).Format(time.DateOnly), to: now.AddDate(0, 0, 1).Format(time.DateOnly)}
	}
	a, b := node(), node()

	// The cookie jar keys cookies by host, not port, as browsers do: both nodes get the cookie.
	br := a.browser()
	br.get("/login")
	r := br.post("/login", url.Values{"username": {"greta"}, "password": {password}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("login on A: %d", r.status)
	}
	br.e = b
	if r := br.get("/logguppfoljning/invanare"); r.status != http.StatusOK {
		t.Fatalf("the search page on B after login on A: %d → %s", r.status, r.location)
	}
	path, r := br.searchCitizen(patient, nil)
	if path == "" {
		t.Fatalf("search on B: %d", r.status)
	}
	br.e = a
	r = br.get(path)
	if r.status != http.StatusOK || !strings.Contains(r.body, patient.Formatted()) || !strings.Contains(r.body, "<tbody") {
		t.Fatalf("the result page on A of a search on B: %d", r.status)
	}
	if r := br.get(path + "?sida=1&sort=vem&ordning=stigande"); r.status != http.StatusOK {
		t.Fatalf("the result sorted on A: %d", r.status)
	}
	br.post("/sprak", url.Values{"lang": {"en"}, "back": {"/logguppfoljning/invanare"}})
	br.e = b
	if r := br.get("/logguppfoljning/invanare"); !strings.Contains(r.body, `lang="en"`) {
		t.Fatal("the language switched on A is not English on B")
	}
	cookies := br.c.Jar.Cookies(mustURL(t, a.url))
	if r := br.post("/logout", nil); r.status != http.StatusSeeOther || r.location != "/login" {
		t.Fatalf("logout on B: %d → %s", r.status, r.location)
	}
	replay := a.browser()
	replay.c.Jar.SetCookies(mustURL(t, a.url), cookies)
	if r := replay.get("/logguppfoljning/invanare"); r.status != http.StatusSeeOther {
		t.Fatalf("the cookie logged out on B still works on A: %d", r.status)
	}
	if r := replay.get(path); r.status != http.StatusSeeOther {
		t.Fatalf("the search of the cookie logged out on B is still shown on A: %d", r.status)
	}
}
