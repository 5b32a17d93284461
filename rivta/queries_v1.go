package rivta

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vakt/vakt/accesslog"
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

var accessLogsRequestSeq = []string{"PatientId", "FromDate", "ToDate", "QueuedReportId"}

// getAccessLogs1 is GetAccessLogsForPatient 1: which care providers and units accessed a
// patient's information in a period, with when, why and what kind of information. The
// semantics are GetAccessLogsForPatient 2's; the forms are ehr:log 1's.
var getAccessLogs1 = &query2{
	contract: "GetAccessLogsForPatient/1", responderNS: nsGetAccessLogs1, names: accessLogsRequestSeq,
	capitalised: true,
	read: func(d *decoder) (query2Request, error) {
		var req query2Request
		var patient string
		err := d.elements(nsGetAccessLogs1, accessLogsRequestSeq, accessLogsRequestSeq, false, func(i int) (err error) {
			dst := []*string{&patient, &req.fromDate, &req.toDate, &req.queuedReportID}[i]
			*dst, err = d.text()
			*dst = strings.TrimSpace(*dst)
			return err
		})
		if patient != "" {
			req.patientID = &accesslog.DraftII{Extension: patient, Plain: true}
		}
		return req, err
	},
	build:  getAccessLogs2.build,
	item:   appendAccessLogs,
	render: accessLogsResult,
}

func (a *API) getAccessLogsForPatient1(w http.ResponseWriter, r *http.Request, d *decoder, env *envelope) {
	a.serveQuery2(w, r, d, getAccessLogs1)
}

// appendAccessLogs writes one AccessLog per resource of e that names the query's patient.
func appendAccessLogs(b *bytes.Buffer, e *accesslog.Entry, q *accesslog.Query) {
	for i := range e.Resources {
		res := &e.Resources[i]
		if res.Patient.ID != q.PatientID {
			continue
		}
		el := func(name, value string) { writeElement(b, "q:"+name, value) }
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
