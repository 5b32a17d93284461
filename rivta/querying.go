package rivta

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
)

// Namespaces of ehr:log:querying 1.
const (
	nsLogQuerying1   = "urn:riv:ehr:log:querying:1"
	nsGetAccessLogs1 = "urn:riv:ehr:log:querying:GetAccessLogsForPatientResponder:1"
)

// Result codes of the queries.
const (
	resultReportInProcess = "REPORT_IN_PROCESS"
	resultReportNotFound  = "REPORT_NOT_FOUND"
	resultMaxExceeded     = "MAX_QUERY_RESULT_EXCEEDED"
)

// onlineSince is the start of the period vakt holds online: every entry it accepts (activity
// startDate from 1900) stays searchable; nothing is moved to an archive.
var onlineSince = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// accessLogsRequest is a GetAccessLogsForPatient 1 request.
type accessLogsRequest struct {
	patientID, fromDate, toDate, queuedReportID string
}

var accessLogsRequestSeq = []string{"PatientId", "FromDate", "ToDate", "QueuedReportId"}

// getAccessLogsForPatient1 serves GetAccessLogsForPatient 1: which care providers and units
// accessed a patient's information in a period, with when, why and what kind of information.
func (a *API) getAccessLogsForPatient1(w http.ResponseWriter, r *http.Request, d *decoder, env *envelope) {
	var req accessLogsRequest
	err := d.elements(nsGetAccessLogs1, accessLogsRequestSeq, accessLogsRequestSeq, false, func(i int) (err error) {
		dst := []*string{&req.patientID, &req.fromDate, &req.toDate, &req.queuedReportID}[i]
		*dst, err = d.text()
		*dst = strings.TrimSpace(*dst)
		return err
	})
	if err == nil {
		err = finish(d)
	}
	if err != nil {
		a.requestFault(w, r, err)
		return
	}
	respond := func(code, text string, rep *report, body []byte) {
		writeAccessLogsResult(w, code, text, rep, body)
	}
	if len(d.problems) > 0 {
		respond(resultValidationError, problemsText(vakt.Invalid("request is invalid", d.problems...), false), nil, nil)
		return
	}
	p := vakt.PrincipalFrom(r.Context())
	if !p.Has(vakt.RoleReader) {
		respond(resultAccessDenied, "this credential lacks the reader role", nil, nil)
		return
	}
	const contract = "GetAccessLogsForPatient/1"
	if req.queuedReportID != "" {
		rep, body, found := a.reports.poll(req.queuedReportID, p.TenantID, contract)
		switch {
		case !found:
			respond(resultReportNotFound, "no report with that queuedReportId; ask again without it", nil, nil)
		case body == nil:
			respond(resultReportInProcess, "the report is being produced", rep, nil)
		default:
			writeResponse(w, body)
		}
		return
	}
	q, problems := a.accessLogsQuery(r.Context(), req)
	if len(problems) > 0 {
		respond(resultValidationError, problemsText(vakt.Invalid("request is invalid", problems...), false), nil, nil)
		return
	}
	max := a.maxQueryResult()
	body, rep, err := a.reports.run(r.Context(), p.TenantID, contract, a.reportWait(), func(ctx context.Context) []byte {
		return a.accessLogsReport(ctx, q, max)
	})
	switch {
	case err != nil:
		respond(resultError, err.Error(), nil, nil)
	case rep != nil:
		respond(resultReportInProcess, "the report is being produced; poll with its queuedReportId", rep, nil)
	default:
		writeResponse(w, body)
	}
}

// accessLogsQuery checks a request's fields and makes the query, or returns the problems.
func (a *API) accessLogsQuery(ctx context.Context, req accessLogsRequest) (accesslog.Query, []vakt.Problem) {
	var problems []vakt.Problem
	bad := func(field, reason string) {
		problems = append(problems, vakt.Problem{Index: -1, Field: field, Reason: reason})
	}
	var q accesslog.Query
	if req.patientID == "" {
		bad("PatientId", "is required")
	} else if id, err := a.Service.ParsePatientID(ctx, "PatientId", accesslog.DraftII{Extension: req.patientID, Plain: true}); err != nil {
		problems = append(problems, vakt.ErrorProblems(err)...)
	} else {
		q.PatientID = id
	}
	for _, f := range []struct {
		name, value string
		dst         *time.Time
	}{{"FromDate", req.fromDate, &q.From}, {"ToDate", req.toDate, &q.To}} {
		if f.value == "" {
			bad(f.name, "is required")
			continue
		}
		t, err := accesslog.ParseDateTime(f.value)
		if err != nil {
			bad(f.name, err.Error())
			continue
		}
		*f.dst = t
	}
	if !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From) {
		bad("ToDate", "is before FromDate")
	}
	if !q.To.IsZero() {
		q.To = q.To.Add(time.Microsecond) // ToDate is inclusive; Query.To is not
	}
	return q, problems
}

// accessLogsReport runs the query and renders the whole response element.
func (a *API) accessLogsReport(ctx context.Context, q accesslog.Query, max int) []byte {
	var logs bytes.Buffer
	n := 0
	q.Limit = accesslog.MaxLimit
	for {
		page, err := a.Service.Search(ctx, q)
		if err != nil {
			code, text, ok := resultOf(err, true)
			if !ok {
				a.logger().ErrorContext(ctx, "GetAccessLogsForPatient failed", "err", err)
				code, text = resultError, "the query failed; try again later"
			}
			return accessLogsResult(code, text, nil, nil)
		}
		for i := range page.Entries {
			e, err := page.Entries[i].Entry()
			if err != nil {
				a.logger().ErrorContext(ctx, "unreadable stored entry", "seq", page.Entries[i].Seq, "err", err)
				return accessLogsResult(resultError, "the query failed", nil, nil)
			}
			if n++; n > max {
				return accessLogsResult(resultMaxExceeded, fmt.Sprintf("more than %d entries match; narrow the period", max), nil, nil)
			}
			appendAccessLogs(&logs, &e, q.PatientID)
		}
		if page.Next.IsZero() {
			break
		}
		q.After = page.Next
	}
	// An empty list is still a list: the element is there, without children.
	return accessLogsResult(resultOK, fmt.Sprintf("%d entries", n), nil, append([]byte{}, logs.Bytes()...))
}

// appendAccessLogs writes one AccessLog per resource of e that names the patient.
func appendAccessLogs(b *bytes.Buffer, e *accesslog.Entry, patient ident.PersonID) {
	for i := range e.Resources {
		res := &e.Resources[i]
		if res.Patient.ID != patient {
			continue
		}
		el := func(name, value string) {
			b.WriteString("<q:" + name + ">")
			escapeText(b, value)
			b.WriteString("</q:" + name + ">")
		}
		b.WriteString("<q:AccessLog>")
		el("CareProviderId", string(e.User.CareProvider.ID))
		el("CareProviderName", e.User.CareProvider.Name)
		el("CareUnitId", string(e.User.CareUnit.ID))
		el("CareUnitName", e.User.CareUnit.Name)
		el("AccessDate", e.Activity.StartDate.UTC().Format(time.RFC3339Nano))
		el("Purpose", string(e.Activity.Purpose))
		el("ResourceType", res.Type)
		b.WriteString("</q:AccessLog>")
	}
}

// accessLogsResult renders a GetAccessLogsForPatientResponse element. logs is nil unless the
// result is OK.
func accessLogsResult(code, text string, rep *report, logs []byte) []byte {
	var b bytes.Buffer
	b.WriteString(`<GetAccessLogsForPatientResponse xmlns="` + nsGetAccessLogs1 + `" xmlns:q="` + nsLogQuerying1 + `"><AccessLogsResultType><q:Result><q:ResultCode>`)
	b.WriteString(code)
	b.WriteString(`</q:ResultCode><q:ResultText>`)
	escapeText(&b, text)
	b.WriteString(`</q:ResultText><q:StartInterval>` + onlineSince.Format(time.RFC3339) + `</q:StartInterval><q:EndInterval>`)
	b.WriteString(time.Now().UTC().Format(time.RFC3339))
	b.WriteString(`</q:EndInterval>`)
	if rep != nil {
		b.WriteString(`<q:QueuedReportId>` + rep.id + `</q:QueuedReportId><q:QueueTime>` + strconv.Itoa(rep.queueSeconds()) + `</q:QueueTime>`)
	}
	b.WriteString(`</q:Result>`)
	if logs != nil {
		b.WriteString(`<q:AccesssLogs>`)
		b.Write(logs)
		b.WriteString(`</q:AccesssLogs>`)
	}
	b.WriteString(`</AccessLogsResultType></GetAccessLogsForPatientResponse>`)
	return b.Bytes()
}

func writeAccessLogsResult(w http.ResponseWriter, code, text string, rep *report, logs []byte) {
	writeResponse(w, accessLogsResult(code, text, rep, logs))
}

func (a *API) maxQueryResult() int {
	if a.MaxQueryResult > 0 {
		return a.MaxQueryResult
	}
	return DefaultMaxQueryResult
}

func (a *API) reportWait() time.Duration {
	if a.ReportWait != 0 {
		return max(a.ReportWait, 0)
	}
	return DefaultReportWait
}
