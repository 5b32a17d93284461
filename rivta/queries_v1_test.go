package rivta_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/rivta"
)

const (
	getAccessLogsPath   = "/rivta/ehr/log/querying/GetAccessLogsForPatient/1/rivtabp21"
	getAccessLogsAction = "urn:riv:ehr:log:querying:GetAccessLogsForPatientResponder:1:GetAccessLogsForPatient"
	getAccessLogsSchema = "../../ehr-log-querying-1.0/interactions/querying/GetAccessLogsForPatientInteraction/GetAccessLogsForPatientResponder_1.0.xsd"
)

func accessLogsRequest(patient, from, to, queuedID string) []byte {
	q := ""
	if queuedID != "" {
		q = "<g:QueuedReportId>" + queuedID + "</g:QueuedReportId>"
	}
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:itr="urn:riv:itintegration:registry:1" xmlns:g="urn:riv:ehr:log:querying:GetAccessLogsForPatientResponder:1">
<soapenv:Header><itr:LogicalAddress>SE165565594230-1000</itr:LogicalAddress></soapenv:Header>
<soapenv:Body><g:GetAccessLogsForPatientRequest><g:PatientId>` + patient + `</g:PatientId><g:FromDate>` + from + `</g:FromDate><g:ToDate>` + to + `</g:ToDate>` + q + `</g:GetAccessLogsForPatientRequest></soapenv:Body></soapenv:Envelope>`)
}

// accessLogs is a parsed GetAccessLogsForPatient answer.
type accessLogs struct {
	code, text, queuedID string
	logs                 []string // each AccessLog's inner XML
}

func (e *env) getAccessLogs(t *testing.T, token string, body []byte) accessLogs {
	t.Helper()
	status, resp := e.postTo(t, getAccessLogsPath, getAccessLogsAction, token, body)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, resp)
	}
	m := bodyChild.FindSubmatch(resp)
	xsdValid(t, m[1], getAccessLogsSchema)
	s := string(m[1])
	out := accessLogs{code: between(s, "<q:ResultCode>", "</q:ResultCode>"), text: between(s, "<q:ResultText>", "</q:ResultText>"),
		queuedID: between(s, "<q:QueuedReportId>", "</q:QueuedReportId>")}
	for _, part := range strings.Split(s, "<q:AccessLog>")[1:] {
		out.logs = append(out.logs, part[:strings.Index(part, "</q:AccessLog>")])
	}
	return out
}

// postREST stores entries through the REST API.
func (e *env) postREST(t *testing.T, token string, entries []accesslog.Entry) {
	t.Helper()
	var body bytes.Buffer
	for _, en := range entries {
		body.Write(accesslog.Prepare(en).Content)
		body.WriteByte('\n')
	}
	req, _ := http.NewRequest(http.MethodPost, e.url+"/api/v1/logs", &body)
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("REST append: %d", resp.StatusCode)
	}
}

func at(t testing.TB, en accesslog.Entry, when string) accesslog.Entry {
	ts, err := time.Parse(time.RFC3339, when)
	if err != nil {
		t.Fatal(err)
	}
	en.Activity.StartDate = ts.UTC()
	return en
}

// TestGetAccessLogsForPatient: entries stored over REST and over SOAP are found by the query,
// within the period, in the caller's tenant only, with exactly the stored fields.
func TestGetAccessLogsForPatient(t *testing.T) {
	e := newEnv(t)
	wA, rA := e.token(t, tenantA, vakt.RoleWriter), e.token(t, tenantA, vakt.RoleReader)
	wB := e.token(t, tenantB, vakt.RoleWriter)
	const tolvan = "191212121212"
	e.postREST(t, wA, []accesslog.Entry{at(t, entry(t, "r-1", cpA, tolvan), "2026-11-01T08:00:00Z"), at(t, entry(t, "r-2", cpA, tolvan), "2026-10-01T08:00:00Z")})
	if code, text := e.store(t, wA, rivta.StoreLogRequest("x", []accesslog.Entry{at(t, entry(t, "s-1", cpA, tolvan), "2026-11-15T10:30:00Z"), at(t, entry(t, "s-2", cpA, "194107086995"), "2026-11-15T10:30:00Z")})); code != "OK" {
		t.Fatalf("%s %s", code, text)
	}
	e.postREST(t, wB, []accesslog.Entry{at(t, entry(t, "b-1", cpB, tolvan), "2026-11-02T08:00:00Z")})

	got := e.getAccessLogs(t, rA, accessLogsRequest(tolvan, "2026-10-15T00:00:00", "2026-11-30T00:00:00", ""))
	if got.code != "OK" || len(got.logs) != 2 {
		t.Fatalf("%s %s: %d access logs:\n%v", got.code, got.text, len(got.logs), got.logs)
	}
	// Newest first; each field as stored; only the resource that names the patient.
	want := "<q:CareProviderId>" + cpA + "</q:CareProviderId><q:CareProviderName>Region</q:CareProviderName><q:CareUnitId>SE2321000016-E001</q:CareUnitId><q:CareUnitName>Medicin</q:CareUnitName>" +
		"<q:AccessDate>2026-11-15T10:30:00Z</q:AccessDate><q:Purpose>Vård och behandling</q:Purpose><q:ResourceType>Journalanteckning</q:ResourceType>"
	if got.logs[0] != want || !strings.Contains(got.logs[1], "<q:AccessDate>2026-11-01T08:00:00Z</q:AccessDate>") {
		t.Fatalf("got\n%s\n%s\nwant first\n%s", got.logs[0], got.logs[1], want)
	}
	// Bad input: VALIDATION_ERROR naming the element, without the value.
	for _, c := range []struct {
		req  []byte
		want string
	}{
		{accessLogsRequest("191212121213", "2026-10-15T00:00:00", "2026-11-30T00:00:00", ""), "PatientId"},
		{accessLogsRequest(tolvan, "2026-12-15T00:00:00", "2026-11-30T00:00:00", ""), "ToDate: is before the start of the period"},
		{accessLogsRequest(tolvan, "yesterday", "2026-11-30T00:00:00", ""), "FromDate"},
	} {
		got := e.getAccessLogs(t, rA, c.req)
		if got.code != "VALIDATION_ERROR" || !strings.Contains(got.text, c.want) || strings.Contains(got.text, "19121212121") {
			t.Errorf("%s: %s; want %q", got.code, got.text, c.want)
		}
	}
	// A writer may not read.
	if got := e.getAccessLogs(t, wA, accessLogsRequest(tolvan, "2026-10-15T00:00:00", "2026-11-30T00:00:00", "")); got.code != "ACCESSDENIED" {
		t.Fatalf("writer: %s %s", got.code, got.text)
	}
}

func TestGetAccessLogsForPatientLimits(t *testing.T) {
	e := newEnvWith(t, func(a *rivta.API) { a.MaxQueryResult = 2 })
	w, r := e.token(t, tenantA, vakt.RoleWriter), e.token(t, tenantA, vakt.RoleReader)
	var entries []accesslog.Entry
	for i := range 3 {
		entries = append(entries, at(t, entry(t, fmt.Sprintf("m-%d", i), cpA, "191212121212"), fmt.Sprintf("2026-11-0%dT08:00:00Z", i+1)))
	}
	e.postREST(t, w, entries)
	if got := e.getAccessLogs(t, r, accessLogsRequest("191212121212", "2026-11-01T00:00:00", "2026-11-30T00:00:00", "")); got.code != "MAX_QUERY_RESULT_EXCEEDED" || len(got.logs) != 0 {
		t.Fatalf("%s %s", got.code, got.text)
	}
	if got := e.getAccessLogs(t, r, accessLogsRequest("191212121212", "2026-11-02T00:00:00", "2026-11-30T00:00:00", "")); got.code != "OK" || len(got.logs) != 2 {
		t.Fatalf("narrowed: %s %s", got.code, got.text)
	}
}

// TestGetAccessLogsReports: a query that does not finish at once goes on as a report, polled
// with its id; an unknown id, or another tenant's, is REPORT_NOT_FOUND.
func TestGetAccessLogsReports(t *testing.T) {
	e := newEnvWith(t, func(a *rivta.API) { a.ReportWait = -1 })
	w, r := e.token(t, tenantA, vakt.RoleWriter), e.token(t, tenantA, vakt.RoleReader)
	rB := e.token(t, tenantB, vakt.RoleReader)
	e.postREST(t, w, []accesslog.Entry{at(t, entry(t, "q-1", cpA, "191212121212"), "2026-11-01T08:00:00Z")})
	req := func(id string) []byte {
		return accessLogsRequest("191212121212", "2026-10-01T00:00:00", "2026-11-30T00:00:00", id)
	}
	first := e.getAccessLogs(t, r, req(""))
	if first.code != "REPORT_IN_PROCESS" || first.queuedID == "" {
		t.Fatalf("%s %s %q", first.code, first.text, first.queuedID)
	}
	if got := e.getAccessLogs(t, rB, req(first.queuedID)); got.code != "REPORT_NOT_FOUND" {
		t.Fatalf("another tenant's report: %s", got.code)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := e.getAccessLogs(t, r, req(first.queuedID))
		if got.code == "OK" {
			if len(got.logs) != 1 {
				t.Fatalf("%d logs", len(got.logs))
			}
			break
		}
		if got.code != "REPORT_IN_PROCESS" || time.Now().After(deadline) {
			t.Fatalf("poll: %s %s", got.code, got.text)
		}
		time.Sleep(10 * time.Millisecond) // polling, as the contract asks callers to
	}
	if got := e.getAccessLogs(t, r, req(first.queuedID)); got.code != "REPORT_NOT_FOUND" {
		t.Fatalf("a report is handed out once: %s", got.code)
	}
	if got := e.getAccessLogs(t, r, req("00000000-0000-4000-8000-000000000000")); got.code != "REPORT_NOT_FOUND" {
		t.Fatalf("unknown id: %s", got.code)
	}
}
