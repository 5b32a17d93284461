package pdftext_test

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-pdf/fpdf"

	"github.com/vakt/vakt/internal/pdftext"
)

// write makes a PDF the way export.PDF does: core font, Windows-1252, compressed streams, a
// page-count alias.
func write(t testing.TB, lines ...string) []byte {
	pdf := fpdf.New("L", "mm", "A4", "")
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	pdf.AliasNbPages("{nb}")
	pdf.SetFooterFunc(func() {
		pdf.CellFormat(0, 4, tr("Sida "+string(rune('0'+pdf.PageNo()))+" av {nb}"), "", 0, "R", false, 0, "")
	})
	pdf.AddPage()
	pdf.SetFont("Helvetica", "", 9)
	for _, l := range lines {
		pdf.CellFormat(200, 5, tr(l), "", 1, "L", false, 0, "")
	}
	pdf.AddPage()
	var b bytes.Buffer
	if err := pdf.Output(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestText(t *testing.T) {
	lines := []string{"Loggkontroll – rapport till chef", "Åsa Öberg (läkare) \\ (parentes)", "Iakttagelser: €, ”citat”, 100 %"}
	text, err := pdftext.Text(write(t, lines...))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if !strings.Contains(text, l+"\n") {
			t.Errorf("%q not in\n%s", l, text)
		}
	}
	if !strings.Contains(text, "Sida 1 av 2") || !strings.Contains(text, "Sida 2 av 2") {
		t.Errorf("page numbers not in\n%s", text)
	}
}

// FuzzText: any input is read without a panic, and any text fpdf can write in Windows-1252
// comes back as written.
func FuzzText(f *testing.F) {
	f.Add("Åtkomst till egen journal (kontroll)")
	f.Add(`a\b(c)d`)
	f.Add("€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ")
	f.Fuzz(func(t *testing.T, s string) {
		pdftext.Text([]byte(s))
		pdftext.Text([]byte("<< /Length 9 >>\nstream\n(" + s + ") Tj\nendstream"))
		if !utf8.ValidString(s) || strings.ContainsAny(s, "\r\n") || strings.TrimSpace(s) != s || s == "" {
			return
		}
		for _, r := range s {
			if r < 0x20 || r > 0xff && !strings.ContainsRune("€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ", r) || r >= 0x7f && r < 0xa0 {
				return // outside what the core fonts print
			}
		}
		text, err := pdftext.Text(write(t, s))
		if err != nil || !strings.Contains(text, s+"\n") {
			t.Fatalf("%q: %v\n%s", s, err, text)
		}
	})
}
