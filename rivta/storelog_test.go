package rivta_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/rivta"
)

func TestRequestsOfTheTestsAreSchemaValid(t *testing.T) {
	doc := storeLogDoc([]accesslog.Entry{entry(t, "a1", cpA, "191212121212"), entry(t, "a2", cpA, "194107086995")})
	xsdValid(t, doc, "interactions/StoreLogInteraction/StoreLogResponder_2.0.xsd")
}

// getREST reads an entry through the REST API and returns its JSON.
func (e *env) getREST(t *testing.T, token, logID string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.url+"/api/v1/logs/"+logID, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestStoreLogRoundTrip: entries stored over SOAP are found over REST with exactly the fields
// sent, and a re-send is idempotent.
func TestStoreLogRoundTrip(t *testing.T) {
	e := newEnv(t)
	w, r := e.token(t, tenantA, vakt.RoleWriter), e.token(t, tenantA, vakt.RoleReader)
	entries := []accesslog.Entry{entry(t, "soap-1", cpA, "191212121212"), entry(t, "soap-2", cpA, "194107086995")}
	req := rivta.StoreLogRequest("SE165565594230-1000", entries)
	code, text := e.store(t, w, req)
	if code != "OK" || !strings.Contains(text, "2 entries stored") {
		t.Fatalf("%s: %s", code, text)
	}
	for _, en := range entries {
		status, body := e.getREST(t, r, en.LogID)
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", en.LogID, status, body)
		}
		var got json.RawMessage = body
		content, err := accesslog.Content(bytes.TrimSpace(got))
		if err != nil {
			t.Fatal(err)
		}
		want := accesslog.Prepare(en).Content
		if !bytes.Equal(content, want) {
			t.Fatalf("%s over REST:\n%s\nsent over SOAP:\n%s", en.LogID, content, want)
		}
	}
	// Identical re-send: OK, nothing new.
	code, text = e.store(t, w, req)
	if code != "OK" || !strings.Contains(text, "0 entries stored, 2 already stored") {
		t.Fatalf("re-send: %s: %s", code, text)
	}
	// The LogicalAddress is recorded in the request log.
	if !strings.Contains(e.log.String(), `"logical_address":"SE165565594230-1000"`) {
		t.Fatalf("LogicalAddress not recorded:\n%s", e.log.String())
	}
}

// TestStoreLogAllOrNothing: one bad entry among good ones stores nothing, and the answer names
// each broken element without repeating any value.
func TestStoreLogAllOrNothing(t *testing.T) {
	e := newEnv(t)
	w, r := e.token(t, tenantA, vakt.RoleWriter), e.token(t, tenantA, vakt.RoleReader)
	good := entry(t, "good-1", cpA, "191212121212")
	req := rivta.StoreLogRequest("SE165565594230-1000", []accesslog.Entry{good, entry(t, "bad-2", cpA, "194107086995")})
	// Break the second entry: no startDate, and a personnummer whose check digit is wrong.
	s := string(req)
	i := strings.LastIndex(s, "<core:startDate>")
	j := strings.LastIndex(s, "</core:startDate>") + len("</core:startDate>")
	s = s[:i] + s[j:]
	s = strings.Replace(s, "<core:extension>194107086995</core:extension>", "<core:extension>194107086996</core:extension>", 1)
	code, text := e.store(t, w, []byte(s))
	if code != "VALIDATION_ERROR" {
		t.Fatalf("%s: %s", code, text)
	}
	for _, want := range []string{"log[2]/activity/startDate: is required", "log[1]/user/personId"} {
		if !strings.Contains(text, want) {
			t.Errorf("resultText lacks %q: %s", want, text)
		}
	}
	if strings.Contains(text, "19410708699") || strings.Contains(text, "191212121212") {
		t.Errorf("resultText repeats a personnummer: %s", text)
	}
	if status, _ := e.getREST(t, r, good.LogID); status != http.StatusNotFound {
		t.Fatalf("the good entry of a rejected request was stored (%d)", status)
	}
}

func TestStoreLogSchemaViolations(t *testing.T) {
	e := newEnv(t)
	w := e.token(t, tenantA, vakt.RoleWriter)
	base := string(rivta.StoreLogRequest("SE165565594230-1000", []accesslog.Entry{entry(t, "s-1", cpA, "191212121212")}))
	cases := []struct {
		name, from, to, want string
	}{
		{"out of order", "<core:logId>s-1</core:logId><core:system>", "<core:system>", "log[1]/logId: is out of the schema's order"},
		{"repeated", "<core:title>Överläkare</core:title>", "<core:title>Överläkare</core:title><core:title>B</core:title>", "log[1]/user/title: appears more than once"},
		{"unknown element", "<core:title>Överläkare</core:title>", "<core:title>Överläkare</core:title><core:nickname>x</core:nickname>", "log[1]/user/nickname: is not an element of this type"},
		{"unqualified", "<core:purpose>Vård och behandling</core:purpose>", "<purpose>Vård och behandling</purpose>", "must be in namespace urn:riv:informationsecurity:auditing:log:2"},
		{"text in complex type", "<core:system>", "<core:system>stray", "log[1]/system: holds text where only elements are allowed"},
		{"element in simple type", "<core:logId>s-1</core:logId>", "<core:logId><core:x/>s-1</core:logId>", "log[1]/logId: must hold text, not elements"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := strings.Replace(base, c.from, c.to, 1)
			if c.name == "out of order" {
				body = strings.Replace(body, "</core:system>", "</core:system><core:logId>s-1</core:logId>", 1)
			}
			if body == base {
				t.Fatal("the case changed nothing")
			}
			code, text := e.store(t, w, []byte(body))
			if code != "VALIDATION_ERROR" || !strings.Contains(text, c.want) {
				t.Fatalf("%s: %s; want %q", code, text, c.want)
			}
		})
	}
	// Extensions in other namespaces are allowed (xs:any ##other) and ignored.
	body := strings.Replace(base, "</core:user>", `<ext:note xmlns:ext="urn:example:ext"><ext:x>1</ext:x></ext:note></core:user>`, 1)
	if code, text := e.store(t, w, []byte(body)); code != "OK" {
		t.Fatalf("extension element: %s: %s", code, text)
	}
}

func TestStoreLogAccess(t *testing.T) {
	e := newEnv(t)
	wA, rA := e.token(t, tenantA, vakt.RoleWriter), e.token(t, tenantA, vakt.RoleReader)
	req := rivta.StoreLogRequest("SE165565594230-1000", []accesslog.Entry{entry(t, "x-1", cpB, "191212121212")})
	// Tenant A may not write entries of tenant B's care provider.
	if code, text := e.store(t, wA, req); code != "ACCESSDENIED" {
		t.Fatalf("other tenant's care provider: %s: %s", code, text)
	}
	// A reader may not write.
	reqA := rivta.StoreLogRequest("SE165565594230-1000", []accesslog.Entry{entry(t, "x-2", cpA, "191212121212")})
	if code, text := e.store(t, rA, reqA); code != "ACCESSDENIED" {
		t.Fatalf("reader: %s: %s", code, text)
	}
	// No or a wrong credential: a fault before the body is read.
	status, body := e.post(t, "", reqA, nil)
	fault(t, status, body, http.StatusUnauthorized, "Client")
	status, body = e.post(t, "vakt_wrong", reqA, nil)
	fault(t, status, body, http.StatusUnauthorized, "Client")
}

func TestStoreLogFaults(t *testing.T) {
	e := newEnv(t)
	w := e.token(t, tenantA, vakt.RoleWriter)
	good := string(rivta.StoreLogRequest("SE165565594230-1000", []accesslog.Entry{entry(t, "f-1", cpA, "191212121212")}))
	billionLaughs := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>` +
		strings.Replace(good, "<core:systemName>", "<core:systemName>&lol2;", 1)[len(`<?xml version="1.0" encoding="UTF-8"?>`)+1:]
	xxe := `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` +
		strings.Replace(good, "<core:systemName>", "<core:systemName>&xxe;", 1)[len(`<?xml version="1.0" encoding="UTF-8"?>`)+1:]
	cases := []struct {
		name, body string
		header     map[string]string
		status     int
		code, want string
	}{
		{"malformed", good[:len(good)-20], nil, 500, "Client", "malformed XML"},
		{"mismatched tags", strings.Replace(good, "</core:system>", "</core:systen>", 1), nil, 500, "Client", "does not match"},
		{"billion laughs", billionLaughs, nil, 500, "Client", "DTDs"},
		{"external entity", xxe, nil, 500, "Client", "DTDs"},
		{"undefined entity", strings.Replace(good, "<core:systemName>", "<core:systemName>&nbsp;", 1), nil, 500, "Client", "entity references"},
		{"soap 1.2", strings.Replace(good, "http://schemas.xmlsoap.org/soap/envelope/", "http://www.w3.org/2003/05/soap-envelope", 1), nil, 500, "VersionMismatch", "SOAP 1.2"},
		{"wrong operation", strings.ReplaceAll(good, "sl:StoreLog>", "sl:GetLogs>"), nil, 500, "Client", "this endpoint serves"},
		{"wrong namespace", strings.Replace(good, "urn:riv:informationsecurity:auditing:log:StoreLogResponder:2", "urn:riv:ehr:log:store:StoreLogResponder:1", 1), nil, 500, "Client", "this endpoint serves"},
		{"must understand", strings.Replace(good, "<soapenv:Header>", `<soapenv:Header><x:Security xmlns:x="urn:x" soapenv:mustUnderstand="1"/>`, 1), nil, 500, "MustUnderstand", "must be understood"},
		{"wrong action", good, map[string]string{"SOAPAction": `"urn:other"`}, 500, "Client", "SOAPAction"},
		{"not xml", good, map[string]string{"Content-Type": "application/json"}, 415, "Client", "text/xml"},
		{"too large", strings.Replace(good, "<core:systemName>", "<core:systemName>"+strings.Repeat("x", 1<<20), 1), nil, 413, "Client", "larger than"},
		{"two bodies", strings.Replace(good, "</soapenv:Body>", "<x/></soapenv:Body>", 1), nil, 500, "Client", "more than one element"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := e.post(t, w, []byte(c.body), c.header)
			text := fault(t, status, body, c.status, c.code)
			if !strings.Contains(text, c.want) {
				t.Fatalf("fault text %q lacks %q", text, c.want)
			}
			if strings.Contains(string(body), "goroutine") || strings.Contains(string(body), ".go:") {
				t.Fatalf("stack trace in %s", body)
			}
		})
	}
	r := e.token(t, tenantA, vakt.RoleReader)
	if status, _ := e.getREST(t, r, "f-1"); status != http.StatusNotFound {
		t.Fatalf("a rejected request stored its entry (%d)", status)
	}
}

// TestWSDL: every endpoint serves its WSDL, and every schema it refers to, transitively.
func TestWSDL(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct{ path, operation string }{
		{rivta.StoreLogPath, "StoreLog"},
		{rivta.StoreLog1Path, "StoreLog"},
		{getAccessLogsPath, "GetAccessLogsForPatient"},
		{getLogsPath, "GetLogs"},
		{getAccess2Path, "GetAccessLogsForPatient"},
	} {
		t.Run(c.path, func(t *testing.T) {
			get := func(q string) (int, string) {
				resp, err := e.client.Get(e.url + c.path + q)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b)
			}
			status, wsdl := get("?wsdl")
			if status != 200 || !strings.Contains(wsdl, `<soap:address location="`+e.url+c.path+`"`) || !strings.Contains(wsdl, `operation name='`+c.operation) && !strings.Contains(wsdl, `operation name="`+c.operation) {
				t.Fatalf("%d %s", status, wsdl)
			}
			wellFormed(t, []byte(wsdl))
			seen := map[string]bool{}
			queue := []string{wsdl}
			for len(queue) > 0 {
				doc := queue[0]
				queue = queue[1:]
				for _, m := range schemaRef.FindAllStringSubmatch(doc, -1) {
					if seen[m[1]] {
						continue
					}
					seen[m[1]] = true
					status, xsd := get(m[1])
					if status != 200 || !strings.Contains(xsd, "<xs:schema") {
						t.Fatalf("%s: %d", m[1], status)
					}
					wellFormed(t, []byte(xsd))
					queue = append(queue, xsd)
				}
			}
			if !seen["?xsd=itintegration_registry_1.0.xsd"] || len(seen) < 3 {
				t.Errorf("schemas linked: %v", seen)
			}
			if status, _ := get("?xsd=../../secret"); status != 404 {
				t.Fatalf("unknown schema: %d", status)
			}
		})
	}
}
