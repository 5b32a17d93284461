package web_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/register"
)

const (
	unitDone    = "SE2321000016-UDON"
	unitStarted = "SE2321000016-USTA"
	unitNone    = "SE2321000016-UNON"
	unitGone    = "SE2321000016-UGON"
	unitHours   = "SE2321000016-UHRS"
)

var overviewRowRE = regexp.MustCompile(`<tr class="status-([a-z_]+)" data-unit="([^"]+)">`)

// overviewUnits returns the units of an overview page with their status (first row of each).
func overviewUnits(body string) map[string]string {
	out := map[string]string{}
	for _, m := range overviewRowRE.FindAllStringSubmatch(body, -1) {
		if _, ok := out[m[2]]; !ok {
			out[m[2]] = m[1]
		}
	}
	return out
}

func setUpOverview(t *testing.T) *followUpEnv {
	fe := newFollowUpEnv(t)
	fe.importRegister(tenantA, register.KindStaff, `[
 {"hsaId":"SE2321000016-S001","personId":"19121212-1212","familyName":"Andersson","careProviderId":"`+cpA+`",
  "units":[{"careUnitId":"`+unitDone+`","from":"2025-01-01"},{"careUnitId":"`+unitGone+`","from":"2024-01-01","to":"2025-12-31"}]},
 {"hsaId":"SE2321000016-S002","personId":"19121212-1212","familyName":"Berg","careProviderId":"`+cpA+`",
  "units":[{"careUnitId":"`+unitStarted+`","from":"2026-01-20"},{"careUnitId":"`+unitNone+`","from":"2025-06-01","to":"2026-01-01"}]}]`)
	fe.importRegister(tenantA, register.KindUnits, `[{"careUnitId":"`+unitHours+`","workingHours":{"mon":"08:00-17:00"}}]`)
	fe.sample(tenantA, "c-done-open", unitDone, "2026-01", false)
	fe.sample(tenantA, "c-done", unitDone, "2026-01", true)
	fe.sample(tenantA, "c-started", unitStarted, "2026-01", false)
	fe.sample(tenantA, "c-other-month", unitNone, "2025-12", true)
	// another tenant's control of the month is never shown
	fe.sample(tenantB, "c-tenant-b", "SE2321000131-UBBB", "2026-01", true)
	return fe
}

func TestOverview(t *testing.T) {
	fe := setUpOverview(t)
	fe.addUser("gun", tenantA, nil, false, vakt.RoleReviewer)
	b := fe.login("gun")
	before := fe.entries(tenantA)
	r := b.get("/kontroller/oversikt?manad=2026-01")
	if r.status != http.StatusOK {
		t.Fatalf("status %d", r.status)
	}
	want := map[string]string{unitDone: "klar", unitStarted: "pagar", unitNone: "ej_gjord", unitHours: "ej_gjord"}
	got := overviewUnits(r.body)
	if len(got) != len(want) {
		t.Fatalf("units %v, want %v", got, want)
	}
	for u, s := range want {
		if got[u] != s {
			t.Errorf("%s: %q, want %q", u, got[u], s)
		}
	}
	for _, s := range []string{`id="total-done">1<`, `id="total-started">1<`, `id="total-notdone">2<`, `href="/kontroller/c-done"`, `href="/kontroller/c-started"`, "Gun Granskare"} {
		if !strings.Contains(r.body, s) {
			t.Errorf("page lacks %s", s)
		}
	}
	if strings.Contains(r.body, "c-tenant-b") || strings.Contains(r.body, "UBBB") || strings.Contains(r.body, "c-other-month") {
		t.Error("the overview shows another tenant's or another month's control")
	}
	if fe.entries(tenantA) != before {
		t.Error("the overview wrote to the log; it reads no log data")
	}
	// the month picker's neighbours
	if !strings.Contains(r.body, `manad=2025-12"`) || !strings.Contains(r.body, `manad=2026-02"`) {
		t.Error("no links to the neighbouring months")
	}
	// December: only the unit of the December control, and the staff of December
	dec := overviewUnits(b.get("/kontroller/oversikt?manad=2025-12").body)
	if dec[unitNone] != "klar" || dec[unitGone] != "ej_gjord" || dec[unitStarted] != "" {
		t.Errorf("December: %v", dec)
	}
	// a bad month names the field and changes nothing
	r = b.get("/kontroller/oversikt?manad=2026-13")
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "Ange en månad") {
		t.Fatalf("bad month: %d", r.status)
	}
	// no month: the page opens on last month
	if r := b.get("/kontroller/oversikt"); r.status != http.StatusOK {
		t.Fatalf("default month: %d", r.status)
	}
}

func TestOverviewRolesAndUnits(t *testing.T) {
	fe := setUpOverview(t)
	fe.addUser("gun", tenantA, nil, false, vakt.RoleReviewer)
	fe.addUser("chef", tenantA, nil, false, vakt.RoleManager)
	fe.addUser("lisa", tenantA, nil, false, vakt.RoleLogAdmin)
	fe.addUser("admin", tenantA, nil, false, vakt.RoleLocalAdmin)
	fe.addUser("perm", tenantA, nil, false, vakt.RolePermissionAdmin)
	fe.addUser("unitchef", tenantA, []ident.HSAID{unitStarted}, false, vakt.RoleManager)
	fe.addUser("bchef", tenantB, nil, false, vakt.RoleManager)
	for user, want := range map[string]int{"gun": 200, "chef": 200, "lisa": 200, "admin": 403, "perm": 403, "unitchef": 200, "bchef": 200} {
		r := fe.login(user).get("/kontroller/oversikt?manad=2026-01")
		if r.status != want {
			t.Errorf("%s: %d, want %d", user, r.status, want)
		}
		if want == 200 && !strings.Contains(r.body, `href="/kontroller/oversikt" aria-current="page"`) {
			t.Errorf("%s: no navigation link to the overview", user)
		}
	}
	// a manager cannot open controls, so the overview does not link to them
	if r := fe.login("chef").get("/kontroller/oversikt?manad=2026-01"); strings.Contains(r.body, `href="/kontroller/c-done"`) {
		t.Error("the overview links a manager to a control page they may not open")
	}
	// a person limited to a unit sees that unit only
	got := overviewUnits(fe.login("unitchef").get("/kontroller/oversikt?manad=2026-01").body)
	if len(got) != 1 || got[unitStarted] != "pagar" {
		t.Errorf("limited manager: %v", got)
	}
	// tenant B sees its own control only
	got = overviewUnits(fe.login("bchef").get("/kontroller/oversikt?manad=2026-01").body)
	if len(got) != 1 || got["SE2321000131-UBBB"] != "klar" {
		t.Errorf("tenant B: %v", got)
	}
}
