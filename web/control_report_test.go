package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/internal/pdftext"
)

// TestControlReport: the manager's report of a closed sample names the care provider, unit,
// type, reviewer, seed and sample parameters, every access with its assessment and comment, the
// findings and conclusion, with page numbers; making it is logged as a printout naming each
// patient; others cannot get it.
func TestControlReport(t *testing.T) {
	e := newEnv(t, false)
	e.addUser("gun", tenantA, nil, false, vakt.RoleReviewer)
	e.addUser("other", tenantB, nil, false, vakt.RoleReviewer)
	b := e.login("gun")
	path, page := b.drawSample("424242")
	seqs := items(page.body)
	if len(seqs) < 3 {
		t.Fatalf("a sample of %d accesses; the test needs 3", len(seqs))
	}
	comments := map[string]string{}
	for i, seq := range seqs {
		a, c := "i_ordning", ""
		switch i {
		case 0:
			a, c = "behover_uppfoljning", "Fråga chefen om vårdrelationen (åtkomst nr 1)"
		case 1:
			a, c = "obehorig", "Ingen vårdrelation – anmäld"
		case 2:
			c = "Journalföring samma dag"
		}
		comments[seq] = c
		if r := b.post(path+"/post/"+seq, url.Values{"assessment": {a}, "comment": {c}}); r.status != http.StatusSeeOther {
			t.Fatalf("assess %s: %d", seq, r.status)
		}
	}
	open := b.get(path + "/rapport.pdf")
	if open.status != 200 {
		t.Fatalf("report of an open control: %d", open.status)
	}
	if text, _ := pdftext.Text([]byte(open.body)); !strings.Contains(text, "Kontrollen är inte avslutad") {
		t.Fatalf("the open control's report does not say it is open:\n%s", text)
	}
	if r := b.post(path+"/avsluta", url.Values{"findings": {"En obehörig åtkomst och en som behöver följas upp."}, "conclusion": {"Anmält till verksamhetschefen.\nUppföljning i juni."}}); r.status != http.StatusSeeOther {
		t.Fatalf("close: %d", r.status)
	}
	prints := func() int {
		n := 0
		for _, en := range e.find(tenantA, accesslog.Query{}) {
			if en.Activity.Level == "Loggkontroll" && en.Activity.Type == accesslog.ActivityPrint {
				n++
				if len(en.Resources) == 0 || en.Resources[0].Patient.ID.IsZero() {
					t.Fatal("the report's log entry names no patient")
				}
			}
		}
		return n
	}
	before := prints()
	r := b.get(path + "/rapport.pdf")
	if r.status != 200 || r.header.Get("Content-Type") != "application/pdf" || !strings.Contains(r.header.Get("Content-Disposition"), ".pdf") {
		t.Fatalf("report: %d %q", r.status, r.header.Get("Content-Type"))
	}
	if prints() != before+1 {
		t.Fatal("the report was not logged as a printout")
	}
	text, err := pdftext.Text([]byte(r.body))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Loggkontroll – rapport till chef", "Region A (" + cpA + ")", string(e.unit), "Stickprov", "Person gun",
		"frö 424242", "pcg-dxsm-fisher-yates-v1", "Behöver följas upp", "Obehörig åtkomst", "I sin ordning",
		"Iakttagelser", "En obehörig åtkomst och en som behöver följas upp.", "Slutsats", "Anmält till verksamhetschefen.", "Uppföljning i juni.",
		"Sida 1 av ", "Avslutad",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	for _, c := range comments {
		for _, word := range strings.Fields(c) {
			if !strings.Contains(text, word) {
				t.Errorf("the report lacks the comment %q", c)
				break
			}
		}
	}
	if strings.Contains(e.logs.String(), strings.TrimPrefix(path, "/kontroller/")+"/rapport") {
		t.Fatal("the server's log holds the raw URL")
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("report text:\n%s", text)
	}
	// English on request
	b.post("/sprak", url.Values{"lang": {"en"}, "back": {"/"}})
	if text, _ := pdftext.Text([]byte(b.get(path + "/rapport.pdf").body)); !strings.Contains(text, "Log control – report for the manager") || !strings.Contains(text, "Page 1 of") {
		t.Fatalf("English report:\n%s", text)
	}
	// nobody else gets it, and a missing control is no report
	if r := e.login("other").get(path + "/rapport.pdf"); r.status != http.StatusNotFound {
		t.Fatalf("another tenant's reviewer gets the report: %d", r.status)
	}
	if r := b.get("/kontroller/0000/rapport.pdf"); r.status != http.StatusNotFound {
		t.Fatalf("a missing control's report: %d", r.status)
	}
}
