package web_test

import (
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/watchlist"
)

const vip = "19121212-1212"

func TestWatchlist(t *testing.T) {
	fe := newFollowUpEnv(t)
	fe.addUser("lisa", tenantA, nil, false, vakt.RoleLogAdmin)
	b := fe.login("lisa")
	if r := b.get("/kontroller/bevakningslista"); r.status != http.StatusOK || !strings.Contains(r.body, `id="no-entries"`) {
		t.Fatalf("empty list: %d", r.status)
	}
	until := time.Now().AddDate(0, 6, 0).Format(time.DateOnly)
	r := b.post("/kontroller/bevakningslista", url.Values{"personId": {vip}, "reason": {"Känd artist"}, "until": {until}})
	if r.status != http.StatusSeeOther || strings.Contains(r.location, "1212") {
		t.Fatalf("add: %d %s", r.status, r.location)
	}
	r = b.get(r.location)
	if !strings.Contains(r.body, "19121212-1212") || !strings.Contains(r.body, "Känd artist") || !strings.Contains(r.body, until) || !strings.Contains(r.body, `id="done"`) {
		t.Fatalf("list after add:\n%s", r.body)
	}
	// the change is in the tenant's log, naming the patient and the person, with no personnummer in the arguments
	changes := fe.newest(tenantA, watchlist.Level)
	if len(changes) != 1 {
		t.Fatalf("%d changes logged, want 1", len(changes))
	}
	c := changes[0]
	p, _ := ident.ParsePersonID(vip, time.Now())
	if c.Activity.Type != "Skriva" || len(c.Resources) != 1 || c.Resources[0].Patient.ID != p || c.User.ID != fe.accountHSA("lisa") ||
		!strings.Contains(c.Activity.Args, "action=add") || !strings.Contains(c.Activity.Args, "by=lisa") || strings.Contains(c.Activity.Args, "1212") {
		t.Fatalf("logged change: %+v", c)
	}
	// the same person again replaces the entry
	b.post("/kontroller/bevakningslista", url.Values{"personId": {"191212121212"}, "reason": {"Politiker"}})
	r = b.get("/kontroller/bevakningslista")
	if strings.Count(r.body, `<tr id="watch-`) != 1 || !strings.Contains(r.body, "Politiker") || strings.Contains(r.body, "Känd artist") {
		t.Fatalf("upsert:\n%s", r.body)
	}

	// refused input names the field, and nothing is stored or logged
	n := len(fe.newest(tenantA, watchlist.Level))
	for _, c := range []struct {
		form  url.Values
		want  string
		field string
	}{
		{url.Values{"personId": {"19121212-1213"}, "reason": {"x"}}, "Personnummer eller samordningsnummer: ange", "personId"},
		{url.Values{"personId": {"195001012384"}, "reason": {" "}}, "Skäl: skriv", "reason"},
		{url.Values{"personId": {"195001012384"}, "reason": {"x"}, "until": {"2026-13-01"}}, "Till och med: ange", "until"},
		{url.Values{"personId": {"195001012384"}, "reason": {"x"}, "until": {"2020-01-01"}}, "redan passerat", "until"},
		{url.Values{"personId": {""}, "reason": {strings.Repeat("x", 300)}}, "Skäl: skriv", "reason"},
	} {
		r := b.post("/kontroller/bevakningslista", c.form)
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, c.want) || !strings.Contains(r.body, `id="`+c.field+`" name="`+c.field+`"`) {
			t.Errorf("%v: %d, want 400 with %q", c.form, r.status, c.want)
		}
		if !strings.Contains(r.body, `aria-invalid="true"`) {
			t.Errorf("%v: no field marked invalid", c.form)
		}
	}
	if got := len(fe.newest(tenantA, watchlist.Level)); got != n {
		t.Fatalf("refused input was logged: %d", got-n)
	}
	if r := b.get("/kontroller/bevakningslista"); strings.Count(r.body, `<tr id="watch-`) != 1 {
		t.Fatal("refused input was stored")
	}
	// a wrong CSRF token is refused before anything runs
	if r := b.post("/kontroller/bevakningslista/ta-bort", url.Values{"csrf": {"fel"}, "personId": {vip}}); r.status != http.StatusForbidden {
		t.Fatalf("bad CSRF: %d", r.status)
	}
	// remove, by a personnummer in the body
	r = b.post("/kontroller/bevakningslista/ta-bort", url.Values{"personId": {vip}})
	if r.status != http.StatusSeeOther || strings.Contains(r.location, "1212") {
		t.Fatalf("remove: %d %s", r.status, r.location)
	}
	if r := b.get(r.location); !strings.Contains(r.body, `id="no-entries"`) {
		t.Fatal("still on the list")
	}
	changes = fe.newest(tenantA, watchlist.Level)
	if last := changes[len(changes)-1]; last.Activity.Type != "Radera" || last.Resources[0].Patient.ID != p {
		t.Fatalf("logged removal: %+v", last)
	}
	if r := b.post("/kontroller/bevakningslista/ta-bort", url.Values{"personId": {vip}}); r.status != http.StatusNotFound {
		t.Fatalf("second removal: %d", r.status)
	}
	if r := b.post("/kontroller/bevakningslista/ta-bort", url.Values{"personId": {"inte ett nummer"}}); r.status != http.StatusBadRequest {
		t.Fatalf("removal of a malformed number: %d", r.status)
	}
	// personnummer never reach the server's log
	if strings.Contains(fe.logs.String(), "1212") {
		t.Fatal("a personnummer in the server's log")
	}
}

func TestWatchlistRolesUnitsTenants(t *testing.T) {
	fe := newFollowUpEnv(t)
	fe.addUser("gun", tenantA, nil, false, vakt.RoleReviewer)
	fe.addUser("chef", tenantA, nil, false, vakt.RoleManager)
	fe.addUser("lisa", tenantA, nil, false, vakt.RoleLogAdmin)
	fe.addUser("admin", tenantA, nil, false, vakt.RoleLocalAdmin)
	fe.addUser("perm", tenantA, nil, false, vakt.RolePermissionAdmin)
	fe.addUser("unitchef", tenantA, []ident.HSAID{fe.unit}, false, vakt.RoleManager)
	fe.addUser("bchef", tenantB, nil, false, vakt.RoleManager)
	addForm := url.Values{"personId": {vip}, "reason": {"Känd"}}
	add := func() url.Values { return maps.Clone(addForm) }
	for user, want := range map[string]int{"gun": 200, "chef": 200, "lisa": 200, "admin": 403, "perm": 403, "unitchef": 200} {
		b := fe.login(user)
		if r := b.get("/kontroller/bevakningslista"); r.status != want {
			t.Errorf("%s GET: %d, want %d", user, r.status, want)
		}
		r := b.post("/kontroller/bevakningslista", add())
		switch {
		case want == 403 || user == "unitchef":
			if r.status != http.StatusForbidden {
				t.Errorf("%s add: %d, want 403", user, r.status)
			}
			if r := b.post("/kontroller/bevakningslista/ta-bort", url.Values{"personId": {vip}}); r.status != http.StatusForbidden {
				t.Errorf("%s remove: %d, want 403", user, r.status)
			}
		case r.status != http.StatusSeeOther:
			t.Errorf("%s add: %d", user, r.status)
		}
	}
	// a limited person sees the list without the forms
	if r := fe.login("unitchef").get("/kontroller/bevakningslista"); !strings.Contains(r.body, `id="readonly"`) || strings.Contains(r.body, "/kontroller/bevakningslista/ta-bort") || !strings.Contains(r.body, "19121212-1212") {
		t.Error("limited person's page")
	}
	// tenant B has its own, empty list and cannot remove tenant A's entry
	bb := fe.login("bchef")
	if r := bb.get("/kontroller/bevakningslista"); strings.Contains(r.body, "19121212") {
		t.Fatal("tenant B sees tenant A's watch list")
	}
	if r := bb.post("/kontroller/bevakningslista/ta-bort", url.Values{"personId": {vip}}); r.status != http.StatusNotFound {
		t.Fatalf("tenant B removes from A: %d", r.status)
	}
	if r := fe.login("gun").get("/kontroller/bevakningslista"); !strings.Contains(r.body, "19121212-1212") {
		t.Fatal("tenant A lost its entry")
	}
}
