package main

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/internal/browsertest"
	"github.com/vakt/vakt/internal/pdftext"
)

// TestBrowserControl: a granskare in a real Chromium draws a monthly sample, marks one access of
// each assessment with a comment, closes the control with findings and a conclusion and downloads
// the manager's PDF report, whose text names the accesses' assessments, the comments and the
// conclusion; everything is in the tenant's own log.
func TestBrowserControl(t *testing.T) {
	data := t.TempDir()
	m, base := startFirst(t, data, 3000)
	ctx := context.Background()
	tn, err := m.Registry.Tenant(ctx, "region-exempel")
	if err != nil {
		t.Fatal(err)
	}
	hsa, _ := account.LocalHSAID(tn.CareProviders[0])
	const pw = "granskarens långa lösenord"
	if err := m.Registry.CreateUser(ctx, account.User{Username: "gun", TenantID: tn.ID, Name: "Gun Granskare", HSAID: hsa,
		Roles: []vakt.Role{vakt.RoleReviewer}}, account.HashPassword(pw, account.Params{MemoryKiB: 64, Time: 1, Threads: 1})); err != nil {
		t.Fatal(err)
	}
	// the unit and month with most accesses in the demo data, so that the sample has three
	st, err := m.Stores.Store(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	type unitMonth struct {
		unit  ident.HSAID
		month string
	}
	counts := map[unitMonth]int{}
	stockholm, _ := time.LoadLocation("Europe/Stockholm")
	err = st.Export(ctx, accesslog.Query{}, func(sd *accesslog.Stored) error {
		e, err := sd.Entry()
		if err == nil && len(e.Patients()) > 0 {
			counts[unitMonth{e.User.CareUnit.ID, e.Activity.StartDate.In(stockholm).Format("2006-01")}]++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var pick unitMonth
	for um, n := range counts {
		if n > counts[pick] || n == counts[pick] && um.unit < pick.unit {
			pick = um
		}
	}
	if counts[pick] < 3 {
		t.Fatalf("no unit with three accesses in a month: %v", counts)
	}

	bctx, downloads := browsertest.New(t, 90*time.Second)
	page := browsertest.Page{T: t, Ctx: bctx}
	run := page.Run
	text := page.Text
	run("log in as granskare",
		chromedp.Navigate(base+"login"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "gun"),
		chromedp.SendKeys(chromedp.ID("password"), pw),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.CSS(`nav a[href="/kontroller"]`)),
	)
	run("draw the sample",
		chromedp.Click(chromedp.CSS(`nav a[href="/kontroller"]`)),
		chromedp.WaitVisible(chromedp.ID("draw")),
		chromedp.SendKeys(chromedp.ID("careUnit"), string(pick.unit)),
		chromedp.SetValue(chromedp.ID("month"), pick.month),
		chromedp.SetValue(chromedp.ID("size"), "3"),
		chromedp.Click(chromedp.ID("draw")),
		chromedp.WaitVisible(chromedp.ID("control-facts")),
	)
	ids, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("ol.items > li")].map(li => li.id)`))
	if err != nil || len(ids) != 3 {
		t.Fatalf("sampled items %v %v, want 3", ids, err)
	}
	marks := []struct{ assessment, comment, shown string }{
		{"i_ordning", "Vård enligt remiss", "I sin ordning"},
		{"behover_uppfoljning", "Oklart syfte, fråga enhetschefen", "Behöver följas upp"},
		{"obehorig", "Ingen vårdrelation, anmäld till chefen", "Obehörig åtkomst"},
	}
	for i, mk := range marks {
		item := "#" + ids[i]
		run("assess "+ids[i],
			chromedp.Click(chromedp.CSS(item+` input[value="`+mk.assessment+`"]`)),
			chromedp.SendKeys(chromedp.CSS(item+` textarea`), mk.comment),
			// mark the page, so that the wait below sees the page the form's answer loads
			chromedp.Evaluate[chromedp.Void](`document.body.dataset.old = "1"`),
			chromedp.Click(chromedp.CSS(item+` button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(`body:not([data-old]) `+item+` dd.assessment`)),
		)
		if s := text(item + " dd.assessment"); !strings.Contains(s, mk.shown+": "+mk.comment) {
			t.Fatalf("%s shows %q", ids[i], s)
		}
	}
	const findings, conclusion = "En obehörig åtkomst och en oklar.", "Anmält till verksamhetschefen; uppföljning nästa månad."
	run("close the control",
		chromedp.SendKeys(chromedp.ID("findings"), findings),
		chromedp.SendKeys(chromedp.ID("conclusion-text"), conclusion),
		chromedp.Click(chromedp.ID("close")),
		chromedp.WaitVisible(chromedp.ID("conclusion")),
	)
	seed := text("#seed-value")
	run("download the report", chromedp.Click(chromedp.ID("report-link")))
	file := waitForDownload(t, bctx, downloads, ".pdf")
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	report, err := pdftext.Text(body)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Loggkontroll – rapport till chef", string(pick.unit), "Stickprov", "Gun Granskare", "frö " + seed,
		findings, conclusion, "Sida 1 av 1"}
	for i, mk := range marks {
		want = append(want, strconv.Itoa(i+1), mk.shown, mk.comment)
	}
	for _, w := range want {
		if !strings.Contains(report, w) {
			t.Errorf("the report lacks %q", w)
		}
	}
	if t.Failed() {
		t.Fatalf("report text:\n%s", report)
	}

	// Drawing, every view of the control and the report are in the tenant's log under Gun.
	var reads, prints int
	err = st.Export(ctx, accesslog.Query{UserID: hsa}, func(sd *accesslog.Stored) error {
		e, err := sd.Entry()
		if err == nil && e.Activity.Level == "Loggkontroll" {
			switch e.Activity.Type {
			case accesslog.ActivityRead:
				reads++
			case accesslog.ActivityPrint:
				prints++
			}
		}
		return err
	})
	if err != nil || reads < 5 || prints != 1 {
		t.Fatalf("logged %d reads and %d printouts (%v), want the draw, every view and one report", reads, prints, err)
	}
}
