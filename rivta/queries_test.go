package rivta_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/rivta"
)

const (
	getLogsPath    = "/rivta/informationsecurity/auditing/log/GetLogs/2/rivtabp21"
	getLogsAction  = "urn:riv:informationsecurity:auditing:log:GetLogsResponder:2:GetLogs"
	getAccess2Path = "/rivta/informationsecurity/auditing/log/GetAccessLogsForPatient/2/rivtabp21"
	getAccess2Act  = "urn:riv:informationsecurity:auditing:log:GetAccessLogsForPatientResponder:2:GetAccessLogsForPatient"
)

func query2Request(op, ns, children string) []byte {
	return []byte(`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:itr="urn:riv:itintegration:registry:1" xmlns:r="` + ns + `" xmlns:core="urn:riv:informationsecurity:auditing:log:2">` +
		`<soapenv:Header><itr:LogicalAddress>SE165565594230-1000</itr:LogicalAddress></soapenv:Header><soapenv:Body><r:` + op + `>` + children + `</r:` + op + `></soapenv:Body></soapenv:Envelope>`)
}

type query2Answer struct {
	code, text, queuedID string
	items                []string
}

func (e *env) query2(t *testing.T, path, action, schema, item, token string, body []byte) query2Answer {
	t.Helper()
	status, resp := e.postTo(t, path, action, token, body)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, resp)
	}
	m := bodyChild.FindSubmatch(resp)
	xsdValid(t, m[1], "../reconstructed/"+schema)
	s := string(m[1])
	a := query2Answer{code: between(s, "<core:resultCode>", "</core:resultCode>"), text: between(s, "<core:resultText>", "</core:resultText>"),
		queuedID: between(s, "<core:queuedReportId>", "</core:queuedReportId>")}
	for _, part := range strings.Split(s, "<core:"+item+">")[1:] {
		a.items = append(a.items, part[:strings.Index(part, "</core:"+item+">")])
	}
	return a
}

// TestGetLogs2: a care provider's entries, filtered, with every field as it was stored, from
// REST and SOAP alike; another tenant's care provider is ACCESSDENIED.
func TestGetLogs2(t *testing.T) {
	e := newEnv(t)
	w, r := e.token(t, tenantA, vakt.RoleWriter), e.token(t, tenantA, vakt.RoleReader)
	viaREST := at(t, entry(t, "g-rest", cpA, "191212121212"), "2026-11-10T08:00:00Z")
	viaSOAP := at(t, entry(t, "g-soap", cpA, "194107086995"), "2026-11-11T08:00:00Z")
	other := at(t, entry(t, "g-other", cpA, "191212121212"), "2026-11-12T08:00:00Z")
	other.User.ID = "SE2321000016-U002"
	e.postREST(t, w, []accesslog.Entry{viaREST, other})
	if code, text := e.store(t, w, rivta.StoreLogRequest("x", []accesslog.Entry{viaSOAP})); code != "OK" {
		t.Fatalf("%s %s", code, text)
	}
	ask := func(token, children string) query2Answer {
		return e.query2(t, getLogsPath, getLogsAction, "GetLogsResponder_2.0.xsd", "log", token,
			query2Request("GetLogs", "urn:riv:informationsecurity:auditing:log:GetLogsResponder:2", children))
	}
	got := ask(r, `<r:careProviderId>`+cpA+`</r:careProviderId><r:userId>SE2321000016-U001</r:userId><r:fromDate>2026-11-01T00:00:00</r:fromDate><r:toDate>2026-11-30T00:00:00</r:toDate>`)
	if got.code != "OK" || len(got.items) != 2 {
		t.Fatalf("%s %s: %d logs", got.code, got.text, len(got.items))
	}
	for i, want := range []accesslog.Entry{viaSOAP, viaREST} { // newest first
		var b bytes.Buffer
		rivta.AppendLog(&b, "core:", &want)
		if got.items[i] != b.String() {
			t.Fatalf("log %d:\n%s\nwant\n%s", i, got.items[i], b.String())
		}
	}
	// By patient, and an empty result is an empty list.
	got = ask(r, `<r:careProviderId>`+cpA+`</r:careProviderId><r:patientId><core:root>1.2.752.129.2.1.3.1</core:root><core:extension>191212121212</core:extension></r:patientId><r:fromDate>2026-11-01T00:00:00</r:fromDate><r:toDate>2026-11-30T00:00:00</r:toDate>`)
	if got.code != "OK" || len(got.items) != 2 {
		t.Fatalf("by patient: %s %s: %d", got.code, got.text, len(got.items))
	}
	got = ask(r, `<r:careProviderId>`+cpA+`</r:careProviderId><r:fromDate>2025-01-01T00:00:00</r:fromDate><r:toDate>2025-01-02T00:00:00</r:toDate>`)
	if got.code != "OK" || len(got.items) != 0 {
		t.Fatalf("empty: %s %s", got.code, got.text)
	}
	// Another tenant's care provider, a missing one, and a writer.
	if got := ask(r, `<r:careProviderId>`+cpB+`</r:careProviderId><r:fromDate>2026-11-01T00:00:00</r:fromDate><r:toDate>2026-11-30T00:00:00</r:toDate>`); got.code != "ACCESSDENIED" {
		t.Fatalf("other tenant: %s %s", got.code, got.text)
	}
	if got := ask(w, `<r:careProviderId>`+cpA+`</r:careProviderId><r:fromDate>2026-11-01T00:00:00</r:fromDate><r:toDate>2026-11-30T00:00:00</r:toDate>`); got.code != "ACCESSDENIED" {
		t.Fatalf("writer: %s %s", got.code, got.text)
	}
	if got := ask(r, `<r:careProviderId>`+cpA+`</r:careProviderId><r:userId>not an hsa id</r:userId><r:fromDate>2026-11-01T00:00:00</r:fromDate><r:toDate>2026-11-30T00:00:00</r:toDate>`); got.code != "VALIDATION_ERROR" || !strings.Contains(got.text, "userId") {
		t.Fatalf("bad userId: %s %s", got.code, got.text)
	}
}

func TestGetAccessLogsForPatient2(t *testing.T) {
	e := newEnvWith(t, func(a *rivta.API) { a.ReportWait = -1 })
	w, r := e.token(t, tenantA, vakt.RoleWriter), e.token(t, tenantA, vakt.RoleReader)
	e.postREST(t, w, []accesslog.Entry{at(t, entry(t, "p2-1", cpA, "191212121212"), "2026-11-10T08:00:00Z")})
	body := query2Request("GetAccessLogsForPatient", "urn:riv:informationsecurity:auditing:log:GetAccessLogsForPatientResponder:2",
		`<r:patientId><core:root>1.2.752.129.2.1.3.1</core:root><core:extension>191212121212</core:extension></r:patientId><r:fromDate>2026-11-01T00:00:00</r:fromDate><r:toDate>2026-11-30T00:00:00</r:toDate>`)
	ask := func(b []byte) query2Answer {
		return e.query2(t, getAccess2Path, getAccess2Act, "GetAccessLogsForPatientResponder_2.0.xsd", "accessLog", r, b)
	}
	first := ask(body)
	if first.code != "REPORT_IN_PROCESS" || first.queuedID == "" {
		t.Fatalf("%s %s", first.code, first.text)
	}
	poll := bytes.Replace(body, []byte("</r:toDate>"), []byte("</r:toDate><r:queuedReportId>"+first.queuedID+"</r:queuedReportId>"), 1)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		got := ask(poll)
		if got.code == "REPORT_IN_PROCESS" {
			time.Sleep(10 * time.Millisecond) // polling, as the contract asks callers to
			continue
		}
		want := "<core:careProviderId>" + cpA + "</core:careProviderId><core:careProviderName>Region</core:careProviderName><core:careUnitId>SE2321000016-E001</core:careUnitId><core:careUnitName>Medicin</core:careUnitName>" +
			"<core:accessDate>2026-11-10T08:00:00Z</core:accessDate><core:userId>SE2321000016-U001</core:userId><core:userName>Anna Åberg</core:userName><core:userTitle>Överläkare</core:userTitle>" +
			"<core:purpose>Vård och behandling</core:purpose><core:resourceType>Journalanteckning</core:resourceType>"
		if got.code != "OK" || len(got.items) != 1 || got.items[0] != want {
			t.Fatalf("%s %s: %v", got.code, got.text, got.items)
		}
		return
	}
	t.Fatal("the report never finished")
}
