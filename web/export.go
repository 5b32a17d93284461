package web

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/vakt/vakt/export"
)

// formats are the export formats: content type and file extension.
var formats = map[string]struct {
	contentType string
	write       func(*bytes.Buffer, *export.Report) error
}{
	"csv":  {"text/csv; charset=utf-8", func(b *bytes.Buffer, r *export.Report) error { return export.CSV(b, r) }},
	"xlsx": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", func(b *bytes.Buffer, r *export.Report) error { return export.XLSX(b, r) }},
	"pdf":  {"application/pdf", func(b *bytes.Buffer, r *export.Report) error { return export.PDF(b, r) }},
}

// handleExport sends a kept search's result as a file, in the order the person sorted it. The
// export is logged in the tenant's log before the file is made. The file is built in memory
// (a result holds at most accesslog.MaxFollowUpResults rows) so that a failure is an error page,
// not half a download.
func (ui *UI) handleExport(w http.ResponseWriter, r *http.Request, c *call) {
	sr, err := ui.Sessions.findSearch(r.Context(), c.id, r.PathValue("search"))
	if err != nil {
		ui.fail(w, r, c, err)
		return
	}
	if sr == nil {
		ui.failKey(w, r, c, http.StatusNotFound, "error.search.gone")
		return
	}
	name := r.PostForm.Get("format")
	format, ok := formats[name]
	if !ok {
		ui.failKey(w, r, c, http.StatusBadRequest, "error.invalid")
		return
	}
	if err := ui.Service.RecordExport(r.Context(), sr.q, name); err != nil {
		ui.fail(w, r, c, err)
		return
	}
	rep := ui.report(c, sr, sorted(sr.rows, r.PostForm.Get("sort"), r.PostForm.Get("ordning") == "stigande"))
	var b bytes.Buffer
	if err := format.write(&b, rep); err != nil {
		ui.fail(w, r, c, err)
		return
	}
	file := "logguppfoljning-" + string(sr.tab) + "-" + sr.at.In(stockholm).Format("20060102-150405") + "." + name
	w.Header().Set("Content-Type", format.contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+file+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.Write(b.Bytes())
}

// report turns a search into the table of an export, with a header saying who searched for what,
// when and with which limits, in the person's language.
func (ui *UI) report(c *call, sr *search, rows []row) *export.Report {
	L := c.L
	title := L.T("app") + " – " + L.T("nav.citizen")
	subject := L.T("result.citizen")
	if sr.tab == tabStaff {
		title = L.T("app") + " – " + L.T("nav.staff")
		subject = L.T("result.staff")
	}
	rep := &export.Report{
		Title: title,
		Meta: [][2]string{
			{L.T("export.by"), c.user.DisplayName() + " (" + string(c.user.HSAID) + ")"},
			{L.T("export.searched"), sr.at.In(stockholm).Format("2006-01-02 15:04")},
			{L.T("export.made"), time.Now().In(stockholm).Format("2006-01-02 15:04")},
			{subject, sr.subject},
			{L.T("result.period"), sr.period},
		},
		Columns: []string{L.T("col.time"), L.T("entry.name"), L.T("entry.hsaid"), L.T("entry.title.field"), L.T("entry.assignment"),
			L.T("col.unit"), L.T("col.activity"), L.T("col.purpose"), L.T("col.resource"), L.T("col.system")},
		PageOf: func(page int, pages string) string {
			return fmt.Sprintf("%s %d %s %s", L.T("result.page"), page, L.T("result.of"), pages)
		},
	}
	if sr.filters != "" {
		rep.Meta = append(rep.Meta, [2]string{L.T("search.filters"), sr.filters})
	}
	if c.p.Limited() {
		rep.Meta = append(rep.Meta, [2]string{L.T("search.limited"), fmt.Sprint(c.p.CareUnits)})
	}
	count := strconv.Itoa(len(rows))
	if sr.truncate {
		count += " (" + L.T("result.truncated") + ")"
	}
	rep.Meta = append(rep.Meta, [2]string{L.T("export.count"), count})
	if sr.tab == tabStaff {
		rep.Columns = append(rep.Columns, L.T("col.patient"))
	}
	for i := range rows {
		x := &rows[i]
		cells := []string{x.When, x.UserName, x.UserID, x.Title, x.Assignment, x.Unit, x.Activity, x.Purpose, x.Resource, x.System}
		if sr.tab == tabStaff {
			cells = append(cells, x.Patients)
		}
		rep.Rows = append(rep.Rows, cells)
	}
	return rep
}
