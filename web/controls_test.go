package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
)

var itemRE = regexp.MustCompile(`id="item-(\d+)"`)

func items(body string) []string {
	var out []string
	for _, m := range itemRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// controlReads counts the entries of tenant A's log that record a read in the control tool.
func (e *env) controlReads() int {
	e.t.Helper()
	st, err := e.stores.Store(context.Background(), tenantA)
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	now := time.Now()
	err = st.Export(context.Background(), accesslog.Query{From: now.Add(-time.Hour), To: now.Add(time.Hour)}, func(sd *accesslog.Stored) error {
		en, err := sd.Entry()
		if err == nil && en.Activity.Level == "Loggkontroll" {
			n++
		}
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// drawSample draws a sample of e.unit with seed and returns the control page's path, trying
// this month and the last (the synthetic week may lie in either).
func (b *browser) drawSample(seed string) (string, response) {
	b.e.t.Helper()
	var r response
	for _, m := range []time.Time{time.Now(), time.Now().AddDate(0, 0, -7)} {
		r = b.post("/kontroller/stickprov", url.Values{"careUnit": {string(b.e.unit)}, "month": {m.In(stockholmTZ).Format("2006-01")}, "size": {"5"}, "seed": {seed}})
		if r.status != http.StatusSeeOther {
			return "", r
		}
		page := b.get(r.location)
		if len(items(page.body)) > 0 {
			return r.location, page
		}
	}
	b.e.t.Fatalf("no sample with accesses: %d", r.status)
	return "", r
}

var stockholmTZ, _ = time.LoadLocation("Europe/Stockholm")

func TestControlRoles(t *testing.T) {
	e := newEnv(t, false)
	e.addUser("gun", tenantA, nil, false, vakt.RoleReviewer)
	e.addUser("lisa", tenantA, nil, false, vakt.RoleLogAdmin)
	e.addUser("chef", tenantA, nil, false, vakt.RoleManager)
	e.addUser("admin", tenantA, nil, false, vakt.RoleLocalAdmin)
	for user, want := range map[string]int{"gun": 200, "lisa": 200, "chef": 403, "admin": 403} {
		b := e.login(user)
		if r := b.get("/kontroller"); r.status != want {
			t.Errorf("%s GET /kontroller: %d, want %d", user, r.status, want)
		}
		for _, path := range []string{"/kontroller/stickprov", "/kontroller/abc/post/1", "/kontroller/abc/avsluta"} {
			r := b.post(path, url.Values{"careUnit": {string(e.unit)}, "month": {"2026-01"}, "size": {"3"}})
			if want == 403 && r.status != 403 {
				t.Errorf("%s POST %s: %d, want 403", user, path, r.status)
			}
		}
		if r := b.get("/kontroller/abc"); want == 403 && r.status != 403 || want == 200 && r.status != 404 {
			t.Errorf("%s GET a missing control: %d", user, r.status)
		}
	}
	b := e.login("gun")
	if r := b.post("/kontroller/stickprov", url.Values{"csrf": {"wrong"}, "careUnit": {string(e.unit)}, "month": {"2026-01"}, "size": {"3"}}); r.status != http.StatusForbidden {
		t.Fatalf("bad CSRF token: %d", r.status)
	}
	if r := e.browser().get("/kontroller"); r.status != http.StatusSeeOther {
		t.Fatalf("anonymous: %d", r.status)
	}
}

func TestControlSampleFlow(t *testing.T) {
	e := newEnv(t, false)
	e.addUser("gun", tenantA, nil, false, vakt.RoleReviewer)
	b := e.login("gun")
	before := e.controlReads()
	path, page := b.drawSample("12345")
	if strings.Contains(path, e.patient.Extension()) {
		t.Fatal("a personnummer in a URL")
	}
	first := items(page.body)
	if len(first) == 0 || len(first) > 5 || !strings.Contains(page.body, `id="seed-value">12345<`) {
		t.Fatalf("sample page: %d items\n%s", len(first), page.body)
	}
	if got := e.controlReads(); got < before+2 {
		t.Fatalf("drawing and viewing logged %d reads, want at least 2", got-before)
	}
	// the same seed, unit and month give the same accesses
	_, again := b.drawSample("12345")
	if strings.Join(items(again.body), ",") != strings.Join(first, ",") {
		t.Fatalf("not reproducible: %v, %v", first, items(again.body))
	}
	// bad input names the field and changes nothing
	r := b.post("/kontroller/stickprov", url.Values{"careUnit": {"nonsense"}, "month": {"2026-13"}, "size": {"5"}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "Vårdenhetens HSA-id är inte giltigt") || !strings.Contains(r.body, "Ange en månad") {
		t.Fatalf("bad sample request: %d", r.status)
	}
	// assessing: a comment is required unless in order
	r = b.post(path+"/post/"+first[0], url.Values{"assessment": {"obehorig"}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "Skriv en kommentar") {
		t.Fatalf("assessment without comment: %d", r.status)
	}
	r = b.post(path+"/avsluta", url.Values{"findings": {"Inget"}, "conclusion": {"Klart"}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "Bedöm alla") {
		t.Fatalf("closing early: %d", r.status)
	}
	for i, seq := range first {
		f := url.Values{"assessment": {"i_ordning"}}
		if i == 0 {
			f = url.Values{"assessment": {"obehorig"}, "comment": {"Ingen vårdrelation"}}
		}
		if r := b.post(path+"/post/"+seq, f); r.status != http.StatusSeeOther {
			t.Fatalf("assess %s: %d", seq, r.status)
		}
	}
	page = b.get(path)
	if !strings.Contains(page.body, "Obehörig åtkomst: Ingen vårdrelation") || !strings.Contains(page.body, "bedömde en åtkomst") {
		t.Fatal("assessment not shown with its history")
	}
	if r := b.post(path+"/avsluta", url.Values{"findings": {"En obehörig åtkomst"}, "conclusion": {"Anmäld till chef"}}); r.status != http.StatusSeeOther {
		t.Fatalf("close: %d", r.status)
	}
	page = b.get(path)
	if !strings.Contains(page.body, "En obehörig åtkomst") || !strings.Contains(page.body, "avslutade kontrollen") {
		t.Fatal("closed control does not show findings and history")
	}
	if r := b.post(path+"/post/"+first[0], url.Values{"assessment": {"i_ordning"}}); r.status != http.StatusConflict {
		t.Fatalf("assessing a closed control: %d", r.status)
	}
	list := b.get("/kontroller")
	if !strings.Contains(list.body, strings.TrimPrefix(path, "/kontroller/")) || !strings.Contains(list.body, "Avslutad") {
		t.Fatal("the register does not list the control")
	}
}

func TestControlIsolation(t *testing.T) {
	e := newEnv(t, false)
	e.addUser("gun", tenantA, nil, false, vakt.RoleReviewer)
	e.addUser("other", tenantB, nil, false, vakt.RoleReviewer)
	e.addUser("elsewhere", tenantA, []ident.HSAID{"SE2321000016-ZZZZ"}, false, vakt.RoleReviewer)
	path, _ := e.login("gun").drawSample("7")
	for _, user := range []string{"other", "elsewhere"} {
		b := e.login(user)
		if r := b.get(path); r.status != http.StatusNotFound {
			t.Errorf("%s sees the control: %d", user, r.status)
		}
		if r := b.post(path+"/avsluta", url.Values{"findings": {"x"}, "conclusion": {"y"}}); r.status != http.StatusNotFound {
			t.Errorf("%s closes the control: %d", user, r.status)
		}
		if r := b.get("/kontroller"); strings.Contains(r.body, strings.TrimPrefix(path, "/kontroller/")) {
			t.Errorf("%s lists the control", user)
		}
	}
	b := e.login("elsewhere")
	r := b.post("/kontroller/stickprov", url.Values{"careUnit": {string(e.unit)}, "month": {"2026-01"}, "size": {"3"}})
	if r.status != http.StatusForbidden {
		t.Fatalf("a limited reviewer samples another unit: %d", r.status)
	}
}

// TestControlStratifiedSample: a sample stratified by activity records its strata, shows them,
// is drawn again from its seed, and every stratum of the unit's month gives at least one access
// when the size allows.
func TestControlStratifiedSample(t *testing.T) {
	e := newEnv(t, false)
	e.addUser("gun", tenantA, nil, false, vakt.RoleReviewer)
	b := e.login("gun")
	draw := func(strata string) response {
		t.Helper()
		for _, m := range []time.Time{time.Now(), time.Now().AddDate(0, 0, -7)} {
			r := b.post("/kontroller/stickprov", url.Values{"careUnit": {string(e.unit)}, "month": {m.In(stockholmTZ).Format("2006-01")},
				"size": {"20"}, "seed": {"777"}, "strata": {strata}})
			if r.status != http.StatusSeeOther {
				t.Fatalf("draw: %d\n%s", r.status, r.body)
			}
			if page := b.get(r.location); len(items(page.body)) > 0 {
				return page
			}
		}
		t.Fatal("no sample with accesses")
		return response{}
	}
	page := draw("aktivitet")
	got := items(page.body)
	i := strings.Index(page.body, `id="strata-value">`)
	if i < 0 || !strings.Contains(page.body, "pcg-dxsm-fisher-yates-stratified-v1") {
		t.Fatalf("no strata on the control page\n%s", page.body)
	}
	shown := page.body[i+len(`id="strata-value">`):]
	shown = shown[:strings.Index(shown, "</dd>")]
	if !strings.HasPrefix(shown, "Per aktivitet: ") {
		t.Fatalf("strata shown as %q", shown)
	}
	drawn := 0
	for _, part := range strings.Split(strings.TrimPrefix(shown, "Per aktivitet: "), ", ") {
		var d, n int
		f := strings.Fields(part)
		if _, err := fmt.Sscanf(f[len(f)-1], "%d/%d", &d, &n); err != nil || d < 1 || d > n {
			t.Fatalf("stratum %q: %d of %d (%v)", part, d, n, err)
		}
		drawn += d
	}
	if drawn != len(got) {
		t.Fatalf("strata give %d accesses, the page lists %d", drawn, len(got))
	}
	if again := items(draw("aktivitet").body); strings.Join(again, ",") != strings.Join(got, ",") {
		t.Fatalf("not reproducible: %v, %v", got, again)
	}
	r := b.post("/kontroller/stickprov", url.Values{"careUnit": {string(e.unit)}, "month": {"2026-10"}, "size": {"5"}, "strata": {"patient"}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "Välj ett sätt att stratifiera") {
		t.Fatalf("unknown strata: %d", r.status)
	}
}
