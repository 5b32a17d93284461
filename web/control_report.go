package web

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vakt/vakt/control"
	"github.com/vakt/vakt/export"
)

// handleControlReport sends the manager's report of a control as a PDF (HSLF-FS 2016:40: the
// control is documented; the region's instruction: the manager gets a report after every
// control). control.Service.Report logs it as a printout naming every patient before anything
// is read. The file is built in memory (at most MaxSampleSize accesses) so that a failure is an
// error page, not half a download. The id is the control's random id, never a personnummer.
func (ui *UI) handleControlReport(w http.ResponseWriter, r *http.Request, c *call) {
	v, err := ui.Controls.Report(r.Context(), r.PathValue("id"))
	if err != nil {
		ui.fail(w, r, c, err)
		return
	}
	var b bytes.Buffer
	if err := export.PDF(&b, controlReport(c, &v, time.Now())); err != nil {
		ui.fail(w, r, c, err)
		return
	}
	file := "loggkontroll-" + string(v.Control.Type) + "-" + v.Control.Created.In(stockholm).Format("20060102") + "-" + v.Control.ID + ".pdf"
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="`+file+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.Write(b.Bytes())
}

// controlReport turns a control into the report's header, table and notes, in the person's
// language: who the care provider and unit are, what was controlled and how the accesses were
// picked (seed and parameters, so anyone can pick them again), each access with its
// assessment, then the findings and conclusion.
func controlReport(c *call, v *control.View, now time.Time) *export.Report {
	L := c.L
	ct := &v.Control
	when := func(t time.Time) string { return t.In(stockholm).Format("2006-01-02 15:04") }
	unit := string(ct.Scope.CareUnit)
	for _, it := range v.Items {
		if it.Entry != nil && it.Entry.Entry.User.CareUnit.ID == ct.Scope.CareUnit && it.Entry.Entry.User.CareUnit.Name != "" {
			unit = nameAndID(it.Entry.Entry.User.CareUnit.Name, unit)
			break
		}
	}
	scope := ct.Scope.Period()
	if ct.Scope.Month != "" {
		scope = ct.Scope.Month + " (" + scope + ")"
	}
	if ct.Scope.Flag != "" {
		scope += "; " + L.T("targeted.flag") + ": " + L.T(keyOf("flag.kind.", ct.Scope.Flag)) + " (logId " + ct.Scope.FlagLogID + ")"
	}
	if p := scopePatient(ct); p != "" {
		scope += "; " + L.T("control.patient") + ": " + p
	}
	if ct.Scope.Staff != "" {
		scope += "; " + L.T("targeted.staff") + ": " + string(ct.Scope.Staff)
	}
	rep := &export.Report{
		Title: L.T("report.title"),
		Meta: [][2]string{
			{L.T("report.provider"), nameAndID(v.CareProvider.Name, string(v.CareProvider.ID))},
			{L.T("control.unit"), unit},
			{L.T("report.type"), L.T(keyOf("controls.type.", string(ct.Type)))},
			{L.T("report.scope"), scope},
			{L.T("controls.reviewer"), nameAndID(ct.Reviewer.Name, string(ct.Reviewer.HSAID))},
			{L.T("controls.created"), when(ct.Created)},
		},
		Columns: []string{L.T("report.no"), L.T("control.when"), L.T("control.who"), L.T("control.patient"), L.T("control.activity"),
			L.T("control.assessment"), L.T("control.comment.short"), L.T("report.by")},
		PageOf: func(page int, pages string) string {
			return fmt.Sprintf("%s %d %s %s", L.T("result.page"), page, L.T("result.of"), pages)
		},
	}
	if s := ct.Sample; s != nil {
		sel := fmt.Sprintf("%d %s %d %s; %s", len(ct.Items), L.T("report.of"), s.Population, L.T("report.accesses"), s.Algorithm)
		if ct.Type == control.TypeSample {
			sel += fmt.Sprintf("; %s %d; %s %d", L.T("report.seed"), s.Seed, L.T("controls.size"), s.Size)
			if s.StrataBy != control.StrataNone {
				sel += "; " + L.T("controls.strata") + ": " + L.T(keyOf("controls.strata.", string(s.StrataBy))) + " (" + strataText(s.Strata) + ")"
			}
		} else {
			sel += fmt.Sprintf("; %s %d", L.T("targeted.first"), s.Size)
		}
		rep.Meta = append(rep.Meta, [2]string{L.T("report.selection"), sel})
	}
	state := L.T("controls.open")
	if ct.Closed != nil {
		state = L.T("controls.closed") + " " + when(*ct.Closed)
		if ct.ClosedBy != nil {
			state += ", " + nameAndID(ct.ClosedBy.Name, string(ct.ClosedBy.HSAID))
		}
	}
	rep.Meta = append(rep.Meta,
		[2]string{L.T("report.state"), state},
		[2]string{L.T("report.assessed"), fmt.Sprintf("%d / %d", ct.Assessed(), len(ct.Items))},
		[2]string{L.T("report.made"), when(now) + ", " + c.user.DisplayName() + " (" + string(c.user.HSAID) + ")"})
	for i, it := range v.Items {
		var x row
		if it.Entry != nil {
			x = rowOf(it.Entry)
		}
		who := nameAndID(x.UserName, x.UserID)
		if x.Title != "" {
			who += ", " + x.Title
		}
		activity := x.Activity
		if x.Purpose != "" {
			activity += ", " + x.Purpose
		}
		assessment, by := L.T("control.unassessed"), ""
		if it.Assessment != "" {
			assessment = L.T(keyOf("assessment.", string(it.Assessment)))
			if it.AssessedBy != nil && it.AssessedAt != nil {
				by = it.AssessedBy.Name + " " + when(*it.AssessedAt)
			}
		}
		rep.Rows = append(rep.Rows, []string{strconv.Itoa(i + 1), x.When, who, x.Patients, activity, assessment, it.Comment, by})
	}
	if ct.Closed != nil {
		rep.Notes = [][2]string{{L.T("control.findings"), ct.Findings}, {L.T("control.conclusion"), ct.Conclusion}}
	} else {
		rep.Notes = [][2]string{{L.T("control.conclusion"), L.T("report.notclosed")}}
	}
	return rep
}

// keyOf returns the text key of a value that leaves the process under its contract name (a
// flag kind, a control type, an assessment); TestControlTexts checks that every value has one.
func keyOf(prefix, value string) string { return prefix + value }

// strataText lists strata as "key drawn/population", for the report and the control page.
func strataText(strata []control.Stratum) string {
	parts := make([]string, len(strata))
	for i, st := range strata {
		parts[i] = fmt.Sprintf("%s %d/%d", st.Key, st.Drawn, st.Population)
	}
	return strings.Join(parts, ", ")
}
