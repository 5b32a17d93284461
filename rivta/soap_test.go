package rivta_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/auth"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/rest"
	"github.com/vakt/vakt/rivta"
	"github.com/vakt/vakt/server"
	"github.com/vakt/vakt/sqlite"
	"github.com/vakt/vakt/tenant"
)

// The test world: two tenants on real SQLite files behind the real server, which serves both
// the REST API and the SOAP endpoints. Every RIV-TA response is validated against the official
// schemas with xmllint.

const (
	tenantA = "region-a"
	tenantB = "region-b"
	cpA     = "SE2321000016-0001"
	cpB     = "SE2321000131-0001"

	schemaDir = "schemas/informationsecurity-auditing-log/schemas"
)

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

type env struct {
	url    string
	client *http.Client
	reg    *sqlite.Registry
	log    *bytes.Buffer
	creds  int
}

func newEnv(t *testing.T) *env { return newEnvWith(t, func(*rivta.API) {}) }

// newEnvWith lets a test configure the SOAP API.
func newEnvWith(t *testing.T, configure func(*rivta.API)) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	reg, err := sqlite.OpenRegistry(ctx, filepath.Join(dir, "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	signing := sqlite.Signing{Instance: "test.vakt", Secret: []byte("a test secret of at least 32 bytes")}
	stores, err := sqlite.NewStores(filepath.Join(dir, "tenants"), sqlite.Options{CacheKiB: 1024, MmapBytes: 1 << 20}, signing)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stores.Close() })
	for _, tn := range []tenant.Tenant{
		{ID: tenantA, Name: "Region A", CareProviders: []ident.HSAID{cpA}},
		{ID: tenantB, Name: "Region B", CareProviders: []ident.HSAID{cpB}},
	} {
		if err := reg.CreateTenant(ctx, tn); err != nil {
			t.Fatal(err)
		}
	}
	logs := &bytes.Buffer{}
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: logs}, nil))
	svc := &accesslog.Service{Stores: stores, Tenants: reg, Now: func() time.Time { return now }}
	authn := &auth.Authenticator{Store: reg}
	api := &rest.API{Service: svc, Auth: authn, Logger: logger}
	soap := &rivta.API{Service: svc, Auth: authn, Logger: logger, MaxBodyBytes: 1 << 20}
	configure(soap)
	srv := &server.Server{API: api, Surfaces: []interface{ Register(*http.ServeMux) }{soap}, Logger: logger, Version: "test"}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &env{url: hs.URL, client: hs.Client(), reg: reg, log: logs}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (e *env) token(t *testing.T, tenantID string, role vakt.Role) string {
	t.Helper()
	tok, _ := auth.NewToken()
	e.creds++
	c := auth.Credential{ID: fmt.Sprintf("tok-%s-%s-%d", tenantID, role, e.creds), TenantID: tenantID, Role: role}
	if err := e.reg.CreateCredential(context.Background(), c, auth.HashToken(tok)); err != nil {
		t.Fatal(err)
	}
	return tok
}

// post sends a SOAP request to StoreLog 2.
func (e *env) post(t *testing.T, token string, body []byte, header map[string]string) (int, []byte) {
	t.Helper()
	return e.postHeader(t, rivta.StoreLogPath, rivta.StoreLogAction, token, body, header)
}

// postTo sends a SOAP request to an endpoint.
func (e *env) postTo(t *testing.T, path, action, token string, body []byte) (int, []byte) {
	t.Helper()
	return e.postHeader(t, path, action, token, body, nil)
}

func (e *env) postHeader(t *testing.T, path, action, token string, body []byte, header map[string]string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.url+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", `"`+action+`"`)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
		t.Fatalf("Content-Type %q", ct)
	}
	return resp.StatusCode, b
}

// entry returns a valid entry of care provider cp, made through validation like any other.
func entry(t testing.TB, logID, cp, patient string) accesslog.Entry {
	t.Helper()
	d := accesslog.Draft{
		LogID:    logID,
		System:   accesslog.DraftSystem{SystemID: "SE2321000016-S001", SystemName: "Journal & Co <test>"},
		Activity: accesslog.DraftActivity{ActivityType: "Läsa", ActivityLevel: "Journalanteckning", ActivityArgs: "a=1 & b=\"2\"", StartDate: "2026-11-30T09:15:00.123456+01:00", Purpose: "Vård och behandling"},
		User: accesslog.DraftUser{UserID: "SE2321000016-U001", Name: "Anna Åberg", PersonID: &accesslog.DraftII{Root: "1.2.752.129.2.1.3.1", Extension: "194107086995"},
			Assignment: "Läkare", Title: "Överläkare",
			CareProvider: accesslog.DraftCareProvider{CareProviderID: cp, CareProviderName: "Region"},
			CareUnit:     accesslog.DraftCareUnit{CareUnitID: "SE2321000016-E001", CareUnitName: "Medicin"}},
		Resources: []accesslog.DraftResource{
			{ResourceType: "Journalanteckning", Patient: &accesslog.DraftPatient{PatientID: accesslog.DraftII{Root: "1.2.752.129.2.1.3.1", Extension: patient}, PatientName: "Tolvan"},
				CareProvider: accesslog.DraftCareProvider{CareProviderID: cp}, CareUnit: &accesslog.DraftCareUnit{CareUnitID: "SE2321000016-E002"}},
			{ResourceType: "Läkemedel", CareProvider: accesslog.DraftCareProvider{CareProviderID: cp}},
		},
	}
	e, problems := d.Validate(0, accesslog.ValidateOptions{Now: now})
	if len(problems) > 0 {
		t.Fatalf("test entry is invalid: %v", problems)
	}
	return e
}

// xsdValid validates doc against the schema at path (relative to the package) with xmllint.
// On CI a missing xmllint fails the test; elsewhere the test is skipped.
func xsdValid(t *testing.T, doc []byte, schema string) {
	t.Helper()
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("xmllint is required (Debian: libxml2-utils) and missing")
		}
		t.Skip("xmllint not installed (Debian: libxml2-utils)")
	}
	f := filepath.Join(t.TempDir(), "doc.xml")
	if err := os.WriteFile(f, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--noout", "--nonet", "--schema", filepath.Join(schemaDir, schema), f).CombinedOutput()
	if err != nil {
		t.Fatalf("not valid against %s: %v\n%s\ndocument:\n%s", schema, err, out, doc)
	}
}

var schemaRef = regexp.MustCompile(`schemaLocation="([^"]*)"`)

var bodyChild = regexp.MustCompile(`(?s)<soap:Body>(.*)</soap:Body>`)

// store posts a StoreLog request and returns the result, checked against the schema.
func (e *env) store(t *testing.T, token string, body []byte) (code, text string) {
	t.Helper()
	status, resp := e.post(t, token, body, nil)
	return result(t, status, resp)
}

// result checks a StoreLog response against the schema and returns its code and text.
func result(t *testing.T, status int, body []byte) (code, text string) {
	t.Helper()
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	m := bodyChild.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no Body in %s", body)
	}
	xsdValid(t, m[1], "interactions/StoreLogInteraction/StoreLogResponder_2.0.xsd")
	code = between(string(m[1]), "<core:resultCode>", "</core:resultCode>")
	text = between(string(m[1]), "<core:resultText>", "</core:resultText>")
	return code, text
}

// fault checks that a response is a SOAP fault with the code and returns its text.
func fault(t *testing.T, status int, body []byte, wantStatus int, wantCode string) string {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("status %d, want %d: %s", status, wantStatus, body)
	}
	if code := between(string(body), "<faultcode>", "</faultcode>"); code != "soap:"+wantCode {
		t.Fatalf("fault code %q, want soap:%s: %s", code, wantCode, body)
	}
	wellFormed(t, body)
	return between(string(body), `<faultstring xml:lang="en">`, "</faultstring>")
}

func wellFormed(t *testing.T, doc []byte) {
	t.Helper()
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		return // xsdValid reports the missing tool
	}
	f := filepath.Join(t.TempDir(), "doc.xml")
	os.WriteFile(f, doc, 0o600)
	if out, err := exec.Command(bin, "--noout", "--nonet", f).CombinedOutput(); err != nil {
		t.Fatalf("not well-formed: %s\n%s", out, doc)
	}
}

func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return ""
	}
	s = s[i+len(a):]
	j := strings.Index(s, b)
	if j < 0 {
		return ""
	}
	return s[:j]
}

// storeLogDoc is the StoreLog element alone, with its namespaces, for validating a request.
func storeLogDoc(entries []accesslog.Entry) []byte {
	req := string(rivta.StoreLogRequest("SE165565594230-1000", entries))
	inner := between(req, "<sl:StoreLog>", "</sl:StoreLog>")
	return []byte(`<sl:StoreLog xmlns:sl="urn:riv:informationsecurity:auditing:log:StoreLogResponder:2" xmlns:core="urn:riv:informationsecurity:auditing:log:2">` + inner + `</sl:StoreLog>`)
}
