package export_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/vakt/vakt/export"
	"github.com/vakt/vakt/internal/pdftext"
)

func report(rows int) *export.Report {
	r := &export.Report{
		Title:   "Logguppföljning – invånare",
		Meta:    [][2]string{{"Sökt av", "Greta Granskare (SE2321000016-G001)"}, {"Period", "2026-11-01 – 2026-11-30"}},
		Columns: []string{"Tidpunkt", "Vem", "Vårdenhet", "Aktivitet"},
		PageOf:  func(page int, pages string) string { return fmt.Sprintf("Sida %d av %s", page, pages) },
	}
	for i := range rows {
		r.Rows = append(r.Rows, []string{fmt.Sprintf("2026-11-%02d 10:00", 1+i%28), "Åsa Öberg; \"Läkare\"",
			strings.Repeat("Kardiologmottagningen ", 1+i%3) + "– ÅÄÖ", "=HYPERLINK(\"http://x\")"})
	}
	return r
}

func TestCSV(t *testing.T) {
	r := report(3)
	var b bytes.Buffer
	if err := export.CSV(&b, r); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b.Bytes(), []byte("\ufeff")) || !bytes.Contains(b.Bytes(), []byte("\r\n")) {
		t.Fatal("no byte-order mark or CRLF")
	}
	cr := csv.NewReader(bytes.NewReader(b.Bytes()[3:]))
	cr.Comma = ';'
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || strings.Join(recs[0], "|") != strings.Join(r.Columns, "|") {
		t.Fatalf("records %q", recs)
	}
	for i, rec := range recs[1:] {
		for j, v := range rec {
			want := r.Rows[i][j]
			if strings.HasPrefix(want, "=") {
				want = "'" + want
			}
			if v != want {
				t.Fatalf("row %d col %d: %q, want %q", i, j, v, want)
			}
		}
	}
}

func TestXLSX(t *testing.T) {
	r := report(120)
	var b bytes.Buffer
	if err := export.XLSX(&b, r); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("Logguppföljning")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 121 || strings.Join(rows[0], "|") != strings.Join(r.Columns, "|") {
		t.Fatalf("%d rows, header %q", len(rows), rows[0])
	}
	for i, row := range rows[1:] {
		if strings.Join(row, "|") != strings.Join(r.Rows[i], "|") {
			t.Fatalf("row %d: %q, want %q", i, row, r.Rows[i])
		}
	}
	if f, _ := f.GetCellFormula("Logguppföljning", "D2"); f != "" {
		t.Fatalf("a value became the formula %q", f)
	}
	about, err := f.GetRows("Sökning")
	if err != nil || about[0][0] != r.Title || about[2][0] != "Sökt av" || about[2][1] != r.Meta[0][1] {
		t.Fatalf("description sheet %q %v", about, err)
	}
}

func TestPDF(t *testing.T) {
	for _, n := range []int{0, 3, 200} {
		var b bytes.Buffer
		if err := export.PDF(&b, report(n)); err != nil {
			t.Fatal(err)
		}
		out := b.Bytes()
		if !bytes.HasPrefix(out, []byte("%PDF-")) || !bytes.HasSuffix(bytes.TrimSpace(out), []byte("%%EOF")) {
			t.Fatalf("%d rows: not a complete PDF", n)
		}
		pages := len(regexp.MustCompile(`/Type /Page\b`).FindAll(out, -1))
		if n == 200 && pages < 5 || n < 200 && pages != 1 {
			t.Fatalf("%d rows on %d pages", n, pages)
		}
		if m := regexp.MustCompile(`/Count (\d+)`).FindSubmatch(out); m == nil || string(m[1]) != fmt.Sprint(pages) {
			t.Fatalf("page tree count %q, want %d", m, pages)
		}
	}
}

// TestPDFNotes: notes come after the table, headed, with their line breaks, even when the table
// fills pages; the text reads back as written.
func TestPDFNotes(t *testing.T) {
	for _, n := range []int{2, 90} {
		r := report(n)
		r.Notes = [][2]string{{"Iakttagelser", "En obehörig åtkomst."}, {"Slutsats", "Anmält till chefen.\nUppföljning i juni."}}
		var b bytes.Buffer
		if err := export.PDF(&b, r); err != nil {
			t.Fatal(err)
		}
		text, err := pdftext.Text(b.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		last := strings.LastIndex(text, "=HYPERLINK")
		notes := strings.Index(text, "Iakttagelser\nEn obehörig åtkomst.\n")
		if last < 0 || notes < last || !strings.Contains(text, "Slutsats\nAnmält till chefen.\nUppföljning i juni.\n") {
			t.Fatalf("%d rows: notes not after the table:\n%s", n, text)
		}
	}
}
