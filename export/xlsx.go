package export

import (
	"io"

	"github.com/xuri/excelize/v2"
)

// XLSX writes the table on a first sheet (header row bold and frozen, with filters) and the
// description on a second, so that the table stays plain data to sort and filter. Rows are
// streamed to the file, so a large result does not build a cell object per value. Every value is
// written as text: a spreadsheet cell never becomes a formula.
func XLSX(w io.Writer, r *Report) error {
	f := excelize.NewFile()
	defer f.Close()
	const data = "Logguppföljning"
	if err := f.SetSheetName("Sheet1", data); err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(data)
	if err != nil {
		return err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	for i := range r.Columns {
		if err := sw.SetColWidth(i+1, i+1, 22); err != nil {
			return err
		}
	}
	head := make([]any, len(r.Columns))
	for i, c := range r.Columns {
		head[i] = excelize.Cell{StyleID: bold, Value: c}
	}
	if err := sw.SetRow("A1", head); err != nil {
		return err
	}
	vals := make([]any, len(r.Columns))
	for n, row := range r.Rows {
		for i := range vals {
			vals[i] = row[i]
		}
		cell, err := excelize.CoordinatesToCellName(1, n+2)
		if err != nil {
			return err
		}
		if err := sw.SetRow(cell, vals); err != nil {
			return err
		}
	}
	last, err := excelize.CoordinatesToCellName(len(r.Columns), len(r.Rows)+1)
	if err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	if err := f.AutoFilter(data, "A1:"+last, nil); err != nil {
		return err
	}
	const about = "Sökning"
	if _, err := f.NewSheet(about); err != nil {
		return err
	}
	if err := f.SetCellStr(about, "A1", r.Title); err != nil {
		return err
	}
	f.SetCellStyle(about, "A1", "A1", bold)
	for i, m := range r.Meta {
		if err := f.SetCellStr(about, "A"+itoa(i+3), m[0]); err != nil {
			return err
		}
		if err := f.SetCellStr(about, "B"+itoa(i+3), m[1]); err != nil {
			return err
		}
	}
	f.SetColWidth(about, "A", "A", 24)
	f.SetColWidth(about, "B", "B", 80)
	_, err = f.WriteTo(w)
	return err
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
