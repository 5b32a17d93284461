package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/gowebpki/jcs"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/auth"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/logcontrol"
	"github.com/vakt/vakt/register"
	"github.com/vakt/vakt/rest"
	"github.com/vakt/vakt/server"
	"github.com/vakt/vakt/sqlite"
	"github.com/vakt/vakt/tenant"
)

// The test world: two tenants with their own care providers, served by the real server
// (middleware included) on real SQLite files. Every request a test sends and every response it
// receives is checked against rest/openapi.json.

const (
	tenantA = "region-a"
	tenantB = "region-b"

	cpA  = "SE2321000016-0001" // care provider of tenant A
	cpA2 = "SE2321000016-0002" // tenant A's second care provider
	cpB  = "SE2321000131-0001" // care provider of tenant B

	// Tolvan Tolvansson, the famous test personnummer, and two more valid ones.
	pnrTolvan = "191212121212"
	pnrOther  = "194107086995"
	pnrThird  = "198112189876"
	// A samordningsnummer (day 12 + 60).
	samordning = "191212721219"
)

// now is the service's clock: entries may be at most 24 hours newer.
var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func init() {
	openapi3filter.RegisterBodyDecoder("application/x-ndjson", decodeNDJSON)
}

// decodeNDJSON lets the validator check an NDJSON body as the array of its lines, which is how
// the document describes it.
func decodeNDJSON(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	dec := json.NewDecoder(body)
	dec.UseNumber()
	out := []any{}
	for {
		var v any
		err := dec.Decode(&v)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
}

var spec struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

// loadSpec loads and validates the embedded OpenAPI document once per test binary.
func loadSpec(t testing.TB) (*openapi3.T, routers.Router) {
	t.Helper()
	spec.once.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(rest.OpenAPI())
		if err != nil {
			spec.err = fmt.Errorf("load: %w", err)
			return
		}
		if err := doc.Validate(loader.Context); err != nil {
			spec.err = fmt.Errorf("validate: %w", err)
			return
		}
		r, err := legacy.NewRouter(doc)
		if err != nil {
			spec.err = fmt.Errorf("router: %w", err)
			return
		}
		spec.doc, spec.router = doc, r
	})
	if spec.err != nil {
		t.Fatalf("openapi.json: %v", spec.err)
	}
	return spec.doc, spec.router
}

// logBuffer collects the server's log lines; waitFor lets a test wait for a line without
// sleeping.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newLogBuffer() *logBuffer { return &logBuffer{changed: make(chan struct{})} }

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	close(b.changed)
	b.changed = make(chan struct{})
	return n, err
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor returns the log once ok accepts it, failing the test after a deadline.
func (b *logBuffer) waitFor(t *testing.T, what string, ok func(log string) bool) string {
	t.Helper()
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	for {
		b.mu.Lock()
		s, ch := b.buf.String(), b.changed
		b.mu.Unlock()
		if ok(s) {
			return s
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("server log never showed %s; log:\n%s", what, s)
		}
	}
}

type envConfig struct {
	maxBatch int
	maxBody  int64
	ready    func(context.Context) error
	// wrap, if set, wraps the real stores, e.g. to inject a fault.
	wrap func(accesslog.Stores) accesslog.Stores
}

// env is one running server with its storage.
type env struct {
	url    string
	client *http.Client
	reg    *sqlite.Registry
	stores *sqlite.Stores
	log    *logBuffer
	seq    atomic.Int64 // request ids
	creds  atomic.Int64 // credential ids
}

func newEnv(t *testing.T) *env { return newEnvConfig(t, envConfig{}) }

func newEnvConfig(t *testing.T, cfg envConfig) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	reg, err := sqlite.OpenRegistry(ctx, filepath.Join(dir, "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	// Small caches and memory maps keep a test's footprint small; durability is unchanged.
	stores, err := sqlite.NewStores(filepath.Join(dir, "tenants"), sqlite.Options{CacheKiB: 1024, MmapBytes: 1 << 20, CheckpointInterval: 10 * time.Millisecond}, testSigning)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stores.Close() })
	for _, tn := range []tenant.Tenant{
		{ID: tenantA, Name: "Region A", CareProviders: []ident.HSAID{cpA, cpA2}},
		{ID: tenantB, Name: "Region B", CareProviders: []ident.HSAID{cpB}},
	} {
		if err := reg.CreateTenant(ctx, tn); err != nil {
			t.Fatal(err)
		}
	}
	logs := newLogBuffer()
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		// Timestamps and durations are the only fields whose digits vary from run to run; the
		// privacy tests look for runs of digits, so these are fixed.
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case slog.TimeKey:
				return slog.Attr{}
			case "duration":
				return slog.String("duration", "d")
			}
			return a
		},
	}))
	var svcStores accesslog.Stores = stores
	if cfg.wrap != nil {
		svcStores = cfg.wrap(stores)
	}
	svc := &accesslog.Service{Stores: svcStores, Tenants: reg, Now: func() time.Time { return now }, MaxBatch: cfg.maxBatch}
	regs := sqlite.NewRegisters(filepath.Join(dir, "tenants"))
	t.Cleanup(func() { regs.Close() })
	api := &rest.API{Service: svc, Auth: &auth.Authenticator{Store: reg}, Logger: logger, MaxBodyBytes: cfg.maxBody,
		Registers: &register.Service{Stores: regs, Now: func() time.Time { return now }},
		Controls:  &logcontrol.Service{Logs: svcStores, Registers: regs, Tenants: reg, Now: func() time.Time { return now }}}
	srv := &server.Server{API: api, Logger: logger, Version: "test", Ready: cfg.ready}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &env{url: hs.URL, client: hs.Client(), reg: reg, stores: stores, log: logs}
}

// token creates a credential of tenantID with role and returns its bearer token.
func (e *env) token(t *testing.T, tenantID string, role vakt.Role) string {
	t.Helper()
	tok, _ := auth.NewToken()
	// A fixed id rather than the random one: the privacy tests look for runs of digits in logs,
	// where credential ids appear.
	id := fmt.Sprintf("tok-%s-%s-%d", tenantID, role, e.creds.Add(1))
	c := auth.Credential{ID: id, TenantID: tenantID, Role: role, Label: "test " + string(role)}
	if err := e.reg.CreateCredential(context.Background(), c, auth.HashToken(tok)); err != nil {
		t.Fatal(err)
	}
	return tok
}

// conformance says what the OpenAPI document must say about a request.
type conformance int

const (
	conforms       conformance = iota // the request must match the document (the default)
	violates                          // the request must not match the document
	mayViolate                        // the document cannot decide (e.g. a Luhn check digit)
	notValidatable                    // too big to validate in a test; only the response is checked
)

// call is one HTTP request.
type call struct {
	method, path string
	token        string
	contentType  string // default application/json when there is a body; see noContentType
	body         []byte
	header       map[string]string // a value of "" sends no such header
	request      conformance
}

// noContentType as call.contentType sends a body without a Content-Type.
const noContentType = "-"

// reply is a response, read whole.
type reply struct {
	status    int
	header    http.Header
	body      []byte
	requestID string // the X-Request-Id the test sent
}

func (r reply) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// do sends c and checks the request and the response against the OpenAPI document. Every
// response must be documented: its status, its headers and its body.
func (e *env) do(t *testing.T, c call) reply {
	t.Helper()
	_, router := loadSpec(t)
	build := func() *http.Request {
		var body io.Reader
		if c.body != nil {
			body = bytes.NewReader(c.body)
		}
		req, err := http.NewRequest(c.method, e.url+c.path, body)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case c.contentType == noContentType:
		case c.contentType != "":
			req.Header.Set("Content-Type", c.contentType)
		case c.body != nil:
			req.Header.Set("Content-Type", "application/json")
		}
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		for k, v := range c.header {
			if v == "" {
				req.Header.Del(k) // "" sends none
			} else {
				req.Header.Set(k, v)
			}
		}
		return req
	}
	reqID, ok := c.header["X-Request-Id"]
	if !ok {
		reqID = fmt.Sprintf("test-%d", e.seq.Add(1))
		h := map[string]string{"X-Request-Id": reqID}
		for k, v := range c.header {
			h[k] = v
		}
		c.header = h
	}

	vreq := build()
	route, params, err := router.FindRoute(vreq)
	if err != nil && c.method == "GET" && strings.HasPrefix(c.path, "/api/v1/logs/") && strings.Contains(c.path, "%2F") {
		// kin-openapi's router does not match an escaped '/' inside a path segment, which
		// net/http's mux does; find the route with a plain logId and pass the real one.
		probe := build()
		probe.URL.Path, probe.URL.RawPath = "/api/v1/logs/x", ""
		route, _, err = router.FindRoute(probe)
		logID, uerr := url.PathUnescape(strings.TrimPrefix(c.path, "/api/v1/logs/"))
		if uerr != nil {
			t.Fatal(uerr)
		}
		params = map[string]string{"logId": logID}
	}
	if err != nil {
		t.Fatalf("%s %s is not in openapi.json: %v", c.method, c.path, err)
	}
	ctx := context.Background()
	in := &openapi3filter.RequestValidationInput{
		Request:    vreq,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
			SkipSettingDefaults: true,
			ExcludeRequestBody:  c.request == notValidatable,
		},
	}
	verr := openapi3filter.ValidateRequest(ctx, in)
	switch c.request {
	case conforms, notValidatable:
		if verr != nil {
			t.Fatalf("%s %s: request does not match openapi.json: %v", c.method, c.path, verr)
		}
	case violates:
		if verr == nil {
			t.Fatalf("%s %s: request matches openapi.json, but the test sends it as one the document forbids", c.method, c.path)
		}
	}

	resp, err := e.client.Do(build())
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("%s %s: reading response: %v", c.method, c.path, err)
	}
	out := reply{status: resp.StatusCode, header: resp.Header, body: body, requestID: reqID}

	rin := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(ctx, rin); err != nil {
		t.Fatalf("%s %s: response %d does not match openapi.json: %v\nbody: %.2000s", c.method, c.path, resp.StatusCode, err, body)
	}
	return out
}

// accessLog returns the access-log record of the request that gave r.
func (e *env) accessLog(t *testing.T, r reply) map[string]any {
	t.Helper()
	var rec map[string]any
	e.log.waitFor(t, "the access log of "+r.requestID, func(s string) bool {
		for _, line := range strings.Split(s, "\n") {
			if !strings.Contains(line, `"request_id":"`+r.requestID+`"`) || !strings.Contains(line, `"msg":"request"`) {
				continue
			}
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("log line is not JSON: %v: %s", err, line)
			}
			return true
		}
		return false
	})
	return rec
}

// Requests the tests send often.

func (e *env) appendJSON(t *testing.T, token string, entries ...map[string]any) reply {
	t.Helper()
	return e.do(t, call{method: "POST", path: "/api/v1/logs", token: token, body: mustJSON(t, entries)})
}

func (e *env) search(t *testing.T, token string, q map[string]any) reply {
	t.Helper()
	return e.do(t, call{method: "POST", path: "/api/v1/logs/search", token: token, body: mustJSON(t, q)})
}

func (e *env) export(t *testing.T, token string, q map[string]any) reply {
	t.Helper()
	return e.do(t, call{method: "POST", path: "/api/v1/logs/export", token: token, body: mustJSON(t, q)})
}

func (e *env) get(t *testing.T, token, logID string) reply {
	t.Helper()
	return e.do(t, call{method: "GET", path: "/api/v1/logs/" + logID, token: token})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ndjson(t *testing.T, entries ...map[string]any) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, e := range entries {
		b.Write(mustJSON(t, e))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Response bodies.

type appendResponse struct {
	Accepted         int     `json:"accepted"`
	Duplicates       int     `json:"duplicates"`
	Seqs             []int64 `json:"seqs"`
	DuplicateIndexes []int   `json:"duplicateIndexes"`
}

type errorResponse struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Errors  []vakt.Problem `json:"errors"`
}

type searchPage struct {
	Entries    []json.RawMessage `json:"entries"`
	NextCursor string            `json:"nextCursor"`
}

// decode parses a response body; a success type (anything but errorResponse) demands a 2xx
// status, so that an error never passes for an empty result.
func decode[T any](t *testing.T, r reply) T {
	t.Helper()
	var v T
	if _, isErr := any(v).(errorResponse); !isErr && (r.status < 200 || r.status > 299) {
		t.Fatalf("status %d, want success; body: %.2000s", r.status, r.body)
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("response %d is not the expected JSON: %v: %s", r.status, err, r.body)
	}
	return v
}

func wantStatus(t *testing.T, r reply, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %.2000s", r.status, status, r.body)
	}
}

// wantError checks an error response's status and code.
func wantError(t *testing.T, r reply, status int, code vakt.Code) errorResponse {
	t.Helper()
	wantStatus(t, r, status)
	er := decode[errorResponse](t, r)
	if er.Code != string(code) {
		t.Fatalf("error code %q, want %q; body: %s", er.Code, code, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type %q, want application/json", ct)
	}
	return er
}

// stored is the part of a served entry the tests look at.
type stored struct {
	LogID      string `json:"logId"`
	Seq        int64  `json:"seq"`
	ReceivedAt string `json:"receivedAt"`
	Activity   struct {
		StartDate string `json:"startDate"`
	} `json:"activity"`
}

func parseStored(t *testing.T, raw []byte) stored {
	t.Helper()
	var s stored
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("entry is not JSON: %v: %s", err, raw)
	}
	return s
}

// logIDs returns the logIds of a search page's entries, in order.
func logIDs(t *testing.T, raws []json.RawMessage) []string {
	t.Helper()
	out := make([]string, len(raws))
	for i, r := range raws {
		out[i] = parseStored(t, r).LogID
	}
	return out
}

// canonical returns the RFC 8785 (JCS) form of raw, computed by an independent implementation.
func canonical(t *testing.T, raw []byte) []byte {
	t.Helper()
	c, err := jcs.Transform(raw)
	if err != nil {
		t.Fatalf("not JSON: %v: %s", err, raw)
	}
	return c
}

// wantCanonical checks that raw is in canonical form.
func wantCanonical(t *testing.T, raw []byte) {
	t.Helper()
	if c := canonical(t, raw); !bytes.Equal(c, raw) {
		t.Errorf("entry is not canonical JSON:\n got %s\nwant %s", raw, c)
	}
}

// testSigning signs the test tenants' checkpoints.
var testSigning = sqlite.Signing{Instance: "test.vakt", Secret: []byte("a test secret of at least 32 bytes")}
