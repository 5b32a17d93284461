package export

import (
	"io"
	"strings"

	"github.com/go-pdf/fpdf"
)

// PDF writes the report for reading and printing: A4 landscape; on the first page the title and
// the description (who searched, when, for what); the table with its header repeated on every
// page and long texts wrapped; the notes after the table, line breaks kept; "page n of m" at
// the foot of each page. The PDF core fonts cover Windows-1252, which holds every Swedish
// letter; other characters print as '?'.
func PDF(w io.Writer, r *Report) error {
	pdf := fpdf.New("L", "mm", "A4", "")
	pdf.SetTitle(r.Title, true)
	pdf.SetCreator("vakt", true)
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	pdf.AliasNbPages("{nb}")
	const margin = 10.0
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(false, margin)
	pageW, pageH := pdf.GetPageSize()
	usable := pageW - 2*margin
	pageOf := r.PageOf
	if pageOf == nil {
		pageOf = func(page int, pages string) string { return itoa(page) + " / " + pages }
	}
	pdf.SetFooterFunc(func() {
		pdf.SetY(-margin + 2)
		pdf.SetFont("Helvetica", "", 8)
		// {nb} is replaced by the page count when the document is closed.
		pdf.CellFormat(0, 4, tr(pageOf(pdf.PageNo(), "{nb}")), "", 0, "R", false, 0, "")
	})
	// Widths in proportion to the longest text of each column (header included), capped so that
	// one long column cannot squeeze the others to nothing.
	pdf.SetFont("Helvetica", "", 8)
	widths := make([]float64, len(r.Columns))
	total := 0.0
	for i, c := range r.Columns {
		wmax := pdf.GetStringWidth(tr(c)) + 2
		for _, row := range r.Rows {
			wmax = max(wmax, min(pdf.GetStringWidth(tr(row[i]))+2, 70))
		}
		widths[i] = wmax
		total += wmax
	}
	for i := range widths {
		widths[i] *= usable / total
	}
	const lineH = 4.0
	header := func() {
		pdf.SetFont("Helvetica", "B", 8)
		pdf.SetFillColor(230, 230, 230)
		h := rowHeight(pdf, tr, r.Columns, widths, lineH)
		drawRow(pdf, tr, r.Columns, widths, lineH, h, true)
		pdf.SetFont("Helvetica", "", 8)
	}
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 14)
	pdf.CellFormat(usable, 8, tr(r.Title), "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 9)
	for _, m := range r.Meta {
		pdf.SetFont("Helvetica", "B", 9)
		pdf.CellFormat(45, 5, tr(m[0]), "", 0, "L", false, 0, "")
		pdf.SetFont("Helvetica", "", 9)
		pdf.MultiCell(usable-45, 5, tr(m[1]), "", "L", false)
	}
	pdf.Ln(3)
	header()
	for _, row := range r.Rows {
		h := rowHeight(pdf, tr, row, widths, lineH)
		if pdf.GetY()+h > pageH-margin-4 {
			pdf.AddPage()
			header()
		}
		drawRow(pdf, tr, row, widths, lineH, h, false)
	}
	for _, n := range r.Notes {
		pdf.SetFont("Helvetica", "", 9)
		lines := wrap(pdf, tr, n[1], usable)
		need := 12 + float64(min(len(lines), 3))*5 // a heading never ends a page alone
		if pdf.GetY()+need > pageH-margin-4 {
			pdf.AddPage()
		}
		pdf.Ln(4)
		pdf.SetFont("Helvetica", "B", 11)
		pdf.CellFormat(usable, 6, tr(n[0]), "", 1, "L", false, 0, "")
		pdf.SetFont("Helvetica", "", 9)
		for _, para := range strings.Split(n[1], "\n") {
			for _, line := range wrap(pdf, tr, para, usable) {
				if pdf.GetY()+5 > pageH-margin-4 {
					pdf.AddPage()
					pdf.SetFont("Helvetica", "", 9)
				}
				pdf.CellFormat(usable, 5, line, "", 1, "L", false, 0, "")
			}
		}
	}
	return pdf.Output(w)
}

func rowHeight(pdf *fpdf.Fpdf, tr func(string) string, cells []string, widths []float64, lineH float64) float64 {
	lines := 1
	for i, c := range cells {
		lines = max(lines, len(wrap(pdf, tr, c, widths[i]-1.5)))
	}
	return float64(lines)*lineH + 1
}

// wrap breaks text into lines no wider than w, at spaces where it can and inside a word where it
// must, and returns them in the font's encoding. (fpdf's SplitText indexes its width table by
// Unicode code point and so cannot take text outside Latin-1.)
func wrap(pdf *fpdf.Fpdf, tr func(string) string, text string, w float64) []string {
	var lines []string
	line := ""
	fits := func(s string) bool { return pdf.GetStringWidth(tr(s)) <= w }
	for _, word := range strings.Fields(text) {
		cand := word
		if line != "" {
			cand = line + " " + word
		}
		if fits(cand) {
			line = cand
			continue
		}
		if line != "" {
			lines = append(lines, tr(line))
			line = ""
		}
		for !fits(word) {
			r := []rune(word)
			n := len(r) - 1
			for n > 1 && !fits(string(r[:n])) {
				n--
			}
			lines = append(lines, tr(string(r[:n])))
			word = string(r[n:])
		}
		line = word
	}
	if line != "" || len(lines) == 0 {
		lines = append(lines, tr(line))
	}
	return lines
}

func drawRow(pdf *fpdf.Fpdf, tr func(string) string, cells []string, widths []float64, lineH, h float64, fill bool) {
	x, y := pdf.GetX(), pdf.GetY()
	for i, c := range cells {
		pdf.Rect(x, y, widths[i], h, map[bool]string{true: "FD", false: "D"}[fill])
		pdf.SetXY(x+0.5, y+0.5)
		for _, line := range wrap(pdf, tr, c, widths[i]-1.5) {
			pdf.CellFormat(widths[i]-1, lineH, line, "", 2, "L", false, 0, "")
		}
		x += widths[i]
	}
	pdf.SetXY(pdf.GetX(), y+h)
	pdf.SetX(10)
}
