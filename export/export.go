// Package export writes a search result as a file a person can keep or hand on: CSV for other
// tools, XLSX for spreadsheets and PDF for a manager to read (a header saying who searched for
// what and when, the table, page numbers).
//
// It knows nothing of log entries: a surface turns its result into a Report, so that the same
// writers serve every table vakt will export.
package export

import (
	"bufio"
	"encoding/csv"
	"io"
	"strings"
)

// Report is a table with a description of how it was made.
type Report struct {
	Title   string
	Meta    [][2]string // label and value lines for the header: who searched, when, what, how many
	Columns []string
	Rows    [][]string // each as long as Columns
	// Notes are headed paragraphs the PDF prints after the table (a control's findings and
	// conclusion). CSV and XLSX carry the table as data and leave them out.
	Notes [][2]string
	// PageOf formats a PDF page number ("Sida 2 av 5"); it gets the page and the page count as
	// text, which the PDF writer fills in when the document is complete.
	PageOf func(page int, pages string) string
}

// safeCell defuses text that a spreadsheet would run as a formula (CSV injection: a user name
// "=HYPERLINK(...)" in a producer's entry must not become a live link in the reviewer's Excel).
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// CSV writes the table as CSV the way Swedish spreadsheet programs open it without an import
// dialogue: UTF-8 with a byte-order mark, ';' between fields, CRLF line ends (RFC 4180 apart from
// the separator). Only the table is written, so that other tools can read it as data.
func CSV(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("\ufeff")
	cw := csv.NewWriter(bw)
	cw.Comma, cw.UseCRLF = ';', true
	if err := cw.Write(r.Columns); err != nil {
		return err
	}
	rec := make([]string, len(r.Columns))
	for _, row := range r.Rows {
		for i := range rec {
			rec[i] = safeCell(row[i])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}
