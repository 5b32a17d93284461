package rivta

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
)

// The query contracts of informationsecurity:auditing:log 2. Their response types are in the
// official core schema; their responder schemas and WSDLs were not among the published files
// we had, so vakt carries versions reconstructed from the contract description's field tables
// (schemas/informationsecurity-auditing-log/reconstructed/), which import the official core
// schema unchanged.

const (
	nsGetLogs2       = "urn:riv:informationsecurity:auditing:log:GetLogsResponder:2"
	nsGetAccessLogs2 = "urn:riv:informationsecurity:auditing:log:GetAccessLogsForPatientResponder:2"
)

// query2Request is a GetLogs 2 or GetAccessLogsForPatient 2 request.
type query2Request struct {
	careProviderID, userID, careUnitID, fromDate, toDate, queuedReportID string
	patientID                                                            *accesslog.DraftII
}

var (
	getLogs2Seq       = []string{"careProviderId", "patientId", "userId", "fromDate", "toDate", "careUnitId", "queuedReportId"}
	getAccessLogs2Seq = []string{"patientId", "fromDate", "toDate", "queuedReportId"}
)

// readQuery2 reads the request element's children in the responder namespace ns; the
// patient's root and extension are the core schema's (IIType).
func (d *decoder) readQuery2(ns string, names []string) (query2Request, error) {
	var req query2Request
	err := d.elements(ns, names, names, false, func(i int) (err error) {
		switch names[i] {
		case "patientId":
			d.dialect = dialectV2
			id, err := d.ii()
			id.Root, id.Extension = strings.TrimSpace(id.Root), strings.TrimSpace(id.Extension)
			req.patientID = &id
			return err
		case "careProviderId":
			req.careProviderID, err = d.text()
		case "userId":
			req.userID, err = d.text()
		case "fromDate":
			req.fromDate, err = d.text()
		case "toDate":
			req.toDate, err = d.text()
		case "careUnitId":
			req.careUnitID, err = d.text()
		case "queuedReportId":
			req.queuedReportID, err = d.text()
		}
		return err
	})
	for _, s := range []*string{&req.careProviderID, &req.userID, &req.fromDate, &req.toDate, &req.careUnitID, &req.queuedReportID} {
		*s = strings.TrimSpace(*s)
	}
	return req, err
}

// query2 is what differs between the query contracts: the two of version 2 and
// GetAccessLogsForPatient 1, which has the same semantics in the ehr:log forms.
type query2 struct {
	contract    string // for reports
	responderNS string
	names       []string
	// read reads the request's children (by default readQuery2 over names).
	read func(d *decoder) (query2Request, error)
	// capitalised: problems are named in the ehr:log form (PatientId).
	capitalised bool
	// render writes the response element (by default renderV2).
	render   func(code, text string, rep *report, items []byte) []byte
	response string // response element
	result   string // its result element
	// build checks the request and makes the query.
	build func(a *API, ctx context.Context, req query2Request, tenantCPs []ident.HSAID) (accesslog.Query, []vakt.Problem, bool)
	// item writes the result items of one entry.
	item func(b *bytes.Buffer, e *accesslog.Entry, q *accesslog.Query)
	// items is the element around the items.
	items string
}

var getLogs2 = &query2{
	contract: "GetLogs/2", responderNS: nsGetLogs2, names: getLogs2Seq,
	response: "GetLogsResponse", result: "logsResult", items: "logs",
	build: func(a *API, ctx context.Context, req query2Request, cps []ident.HSAID) (accesslog.Query, []vakt.Problem, bool) {
		q, problems := a.periodQuery(ctx, req)
		switch {
		case req.careProviderID == "":
			problems = append(problems, vakt.Problem{Index: -1, Field: "careProviderId", Reason: "is required"})
		case !slices.Contains(cps, ident.HSAID(req.careProviderID)):
			return q, nil, false // another tenant's care provider
		default:
			q.CareProviderID = ident.HSAID(req.careProviderID)
		}
		q.UserID, q.CareUnitID = ident.HSAID(req.userID), ident.HSAID(req.careUnitID)
		return q, problems, true
	},
	item: func(b *bytes.Buffer, e *accesslog.Entry, _ *accesslog.Query) {
		b.WriteString("<core:log>")
		AppendLog(b, "core:", e)
		b.WriteString("</core:log>")
	},
}

var getAccessLogs2 = &query2{
	contract: "GetAccessLogsForPatient/2", responderNS: nsGetAccessLogs2, names: getAccessLogs2Seq,
	response: "GetAccessLogsForPatientResponse", result: "accessLogsResult", items: "accesssLogs",
	build: func(a *API, ctx context.Context, req query2Request, _ []ident.HSAID) (accesslog.Query, []vakt.Problem, bool) {
		q, problems := a.periodQuery(ctx, req)
		if req.patientID == nil {
			problems = append(problems, vakt.Problem{Index: -1, Field: "patientId", Reason: "is required"})
		}
		return q, problems, true
	},
	item: func(b *bytes.Buffer, e *accesslog.Entry, q *accesslog.Query) {
		for i := range e.Resources {
			res := &e.Resources[i]
			if res.Patient.ID != q.PatientID {
				continue
			}
			el := func(name, value string, optional bool) {
				if !optional || value != "" {
					writeElement(b, "core:"+name, value)
				}
			}
			b.WriteString("<core:accessLog>")
			el("careProviderId", string(e.User.CareProvider.ID), false)
			el("careProviderName", e.User.CareProvider.Name, true)
			el("careUnitId", string(e.User.CareUnit.ID), false)
			el("careUnitName", e.User.CareUnit.Name, true)
			el("accessDate", e.Activity.StartDate.UTC().Format(time.RFC3339Nano), false)
			el("userId", string(e.User.ID), false)
			el("userName", e.User.Name, true)
			el("userTitle", e.User.Title, true)
			el("purpose", string(e.Activity.Purpose), false)
			el("resourceType", res.Type, false)
			b.WriteString("</core:accessLog>")
		}
	},
}

func (a *API) getLogs2(w http.ResponseWriter, r *http.Request, d *decoder, env *envelope) {
	a.serveQuery2(w, r, d, getLogs2)
}

func (a *API) getAccessLogsForPatient2(w http.ResponseWriter, r *http.Request, d *decoder, env *envelope) {
	a.serveQuery2(w, r, d, getAccessLogs2)
}

func (a *API) serveQuery2(w http.ResponseWriter, r *http.Request, d *decoder, qc *query2) {
	var req query2Request
	var err error
	if qc.read != nil {
		req, err = qc.read(d)
	} else {
		req, err = d.readQuery2(qc.responderNS, qc.names)
	}
	if err == nil {
		err = finish(d)
	}
	if err != nil {
		a.requestFault(w, r, err)
		return
	}
	respond := func(code, text string, rep *report) {
		writeResponse(w, qc.renderer()(code, text, rep, nil))
	}
	if len(d.problems) > 0 {
		respond(resultValidationError, problemsText(vakt.Invalid("request is invalid", d.problems...), false), nil)
		return
	}
	p := vakt.PrincipalFrom(r.Context())
	if !p.Has(vakt.RoleReader) {
		respond(resultAccessDenied, "this credential lacks the reader role", nil)
		return
	}
	if req.queuedReportID != "" {
		rep, body, found := a.reports.poll(req.queuedReportID, p.TenantID, qc.contract)
		switch {
		case !found:
			respond(resultReportNotFound, "no report with that queuedReportId; ask again without it", nil)
		case body == nil:
			respond(resultReportInProcess, "the report is being produced", rep)
		default:
			writeResponse(w, body)
		}
		return
	}
	t, err := a.Service.Tenants.Tenant(r.Context(), p.TenantID)
	if err != nil {
		a.serverFault(w, r, err)
		return
	}
	q, problems, allowed := qc.build(a, r.Context(), req, t.CareProviders)
	if !allowed {
		respond(resultAccessDenied, "the care provider does not belong to this credential's tenant", nil)
		return
	}
	if len(problems) > 0 {
		respond(resultValidationError, problemsText(vakt.Invalid("request is invalid", problems...), qc.capitalised), nil)
		return
	}
	max := a.maxQueryResult()
	body, rep, err := a.reports.run(r.Context(), p.TenantID, qc.contract, a.reportWait(), func(ctx context.Context) []byte {
		return a.query2Report(ctx, qc, q, max)
	})
	switch {
	case err != nil:
		respond(resultError, err.Error(), nil)
	case rep != nil:
		respond(resultReportInProcess, "the report is being produced; poll with its queuedReportId", rep)
	default:
		writeResponse(w, body)
	}
}

// periodQuery checks the fields both queries share: the patient, if given, and the period.
func (a *API) periodQuery(ctx context.Context, req query2Request) (accesslog.Query, []vakt.Problem) {
	var problems []vakt.Problem
	bad := func(field, reason string) {
		problems = append(problems, vakt.Problem{Index: -1, Field: field, Reason: reason})
	}
	var q accesslog.Query
	if req.patientID != nil {
		id, err := a.Service.ParsePatientID(ctx, "patientId", *req.patientID)
		if err != nil {
			problems = append(problems, vakt.ErrorProblems(err)...)
		}
		q.PatientID = id
	}
	for _, f := range []struct {
		name, value string
		dst         *time.Time
	}{{"fromDate", req.fromDate, &q.From}, {"toDate", req.toDate, &q.To}} {
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
		bad("toDate", "is before the start of the period")
	}
	if !q.To.IsZero() {
		q.To = q.To.Add(time.Microsecond) // toDate is inclusive; Query.To is not
	}
	for _, id := range []struct{ field, value string }{{"careProviderId", req.careProviderID}, {"userId", req.userID}, {"careUnitId", req.careUnitID}} {
		if id.value != "" {
			if _, err := ident.ParseHSAID(id.value); err != nil {
				bad(id.field, err.Error())
			}
		}
	}
	return q, problems
}

// query2Report runs a query and renders the whole response element.
func (a *API) query2Report(ctx context.Context, qc *query2, q accesslog.Query, max int) []byte {
	var items bytes.Buffer
	n := 0
	q.Limit = accesslog.MaxLimit
	for {
		page, err := a.Service.Search(ctx, q)
		if err != nil {
			code, text, ok := resultOf(err, qc.capitalised)
			if !ok {
				a.logger().ErrorContext(ctx, "RIV-TA query failed", "contract", qc.contract, "err", err)
				code, text = resultError, "the query failed; try again later"
			}
			return qc.renderer()(code, text, nil, nil)
		}
		for i := range page.Entries {
			e, err := page.Entries[i].Entry()
			if err != nil {
				a.logger().ErrorContext(ctx, "unreadable stored entry", "seq", page.Entries[i].Seq, "err", err)
				return qc.renderer()(resultError, "the query failed", nil, nil)
			}
			if n++; n > max {
				return qc.renderer()(resultMaxExceeded, fmt.Sprintf("more than %d entries match; narrow the search", max), nil, nil)
			}
			qc.item(&items, &e, &q)
		}
		if page.Next.IsZero() {
			break
		}
		q.After = page.Next
	}
	// An empty list is still a list: the element is there, without children.
	return qc.renderer()(resultOK, fmt.Sprintf("%d entries", n), nil, append([]byte{}, items.Bytes()...))
}

func (qc *query2) renderer() func(code, text string, rep *report, items []byte) []byte {
	if qc.render != nil {
		return qc.render
	}
	return qc.renderV2
}

// renderV2 writes a version-2 response element: the result element is the responder's,
// everything in it the core schema's (ReportResultType and the items).
func (qc *query2) renderV2(code, text string, rep *report, items []byte) []byte {
	var b bytes.Buffer
	b.WriteString(`<` + qc.response + ` xmlns="` + qc.responderNS + `" xmlns:core="` + nsLog2 + `"><` + qc.result + `><core:reportResult><core:result>`)
	writeResult2(&b, code, text)
	b.WriteString(`</core:result><core:startInterval>` + onlineSince.Format(time.RFC3339) + `</core:startInterval><core:endInterval>`)
	b.WriteString(time.Now().UTC().Format(time.RFC3339))
	b.WriteString(`</core:endInterval>`)
	if rep != nil {
		b.WriteString(`<core:queuedReportId>` + rep.id + `</core:queuedReportId><core:queueTime>` + strconv.Itoa(rep.queueSeconds()) + `</core:queueTime>`)
	}
	b.WriteString(`</core:reportResult>`)
	if items != nil {
		b.WriteString(`<core:` + qc.items + `>`)
		b.Write(items)
		b.WriteString(`</core:` + qc.items + `>`)
	}
	b.WriteString(`</` + qc.result + `></` + qc.response + `>`)
	return b.Bytes()
}
