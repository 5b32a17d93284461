package rest_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/vakt/vakt"
)

// digitRuns returns every run of six consecutive digits of the personnummer in s (a birth date
// is six digits, and personal data on its own).
func digitRuns(s string) []string {
	var d strings.Builder
	for _, c := range s {
		if c >= '0' && c <= '9' {
			d.WriteRune(c)
		}
	}
	digits := d.String()
	var out []string
	for i := 0; i+6 <= len(digits); i++ {
		out = append(out, digits[i:i+6])
	}
	return out
}

// wantNoRuns fails if text holds a run of six digits of any of pnrs.
func wantNoRuns(t *testing.T, what, text string, pnrs ...string) {
	t.Helper()
	for _, p := range pnrs {
		for _, run := range digitRuns(p) {
			if i := strings.Index(text, run); i >= 0 {
				t.Errorf("%s shows %q of a personnummer: …%s…", what, run, text[max(0, i-60):min(len(text), i+60)])
			}
		}
	}
}

// TestPrivacy checks that personnummer sent to the API never come back in an error and never
// reach the server's log, and that the access log names routes, not URLs or bodies.
func TestPrivacy(t *testing.T) {
	e := newEnv(t)
	writer, reader := e.token(t, tenantA, vakt.RoleWriter), e.token(t, tenantA, vakt.RoleReader)
	const bad = "191212121213" // Tolvan with a wrong check digit
	secrets := []string{bad, pnrTolvan, pnrThird}

	// An entry whose logId is a personnummer (a producer bug) is stored, then contradicted.
	wantStatus(t, e.appendJSON(t, writer, entry(pnrThird, patient(pnrTolvan))), http.StatusCreated)

	var errorReplies []reply
	for _, c := range []call{
		{method: "POST", path: "/api/v1/logs", body: mustJSON(t, []any{entry("p1", patient(bad))}), request: mayViolate},
		{method: "POST", path: "/api/v1/logs", body: mustJSON(t, []any{entry("p2", patient("121212-1213"))}), request: mayViolate},
		{method: "POST", path: "/api/v1/logs", request: mayViolate, body: mustJSON(t, []any{entry("p3",
			set("user.personId", map[string]any{"root": "1.2.752.129.2.1.3.1", "extension": "19121212-1213"}))})},
		// A member named like a personnummer, and a personnummer as a number.
		{method: "POST", path: "/api/v1/logs", request: violates, body: mustJSON(t, []any{entry("p4", set(bad, 1), patient(191212121213))})},
		// A syntax error right after a personnummer.
		{method: "POST", path: "/api/v1/logs", request: violates, body: []byte(`[{"logId":"p5","resources":[{"patient":{"patientId":"191212121213"x}}]}]`)},
		{method: "POST", path: "/api/v1/logs", contentType: "application/x-ndjson", request: violates, body: []byte(`{"logId":"p6","user":{"personId":"191212121213",}}` + "\n")},
		// The same logId with other content: the message would name the logId.
		{method: "POST", path: "/api/v1/logs", body: mustJSON(t, []any{entry(pnrThird, patient(pnrOther))})},
		{method: "POST", path: "/api/v1/logs/search", body: []byte(`{"patientId":"191212121213"}`)},
		{method: "POST", path: "/api/v1/logs/search", body: []byte(`{"patientId":{"root":"1.2.752.129.2.1.3.1","extension":"191212121213"}}`)},
		{method: "POST", path: "/api/v1/logs/search", body: []byte(`{"patientId":"191212121213","191212121212":1}`), request: violates},
		{method: "POST", path: "/api/v1/logs/search", body: []byte(`{"patientId":191212121213}`), request: violates},
		{method: "POST", path: "/api/v1/logs/export", body: []byte(`{"patientId":"121212+1213"}`)},
		{method: "POST", path: "/api/v1/logs/export", body: []byte(`{"patientId":"191212121213"`), request: violates},
	} {
		if c.method == "POST" && c.path == "/api/v1/logs" {
			c.token = writer
		} else {
			c.token = reader
		}
		r := e.do(t, c)
		if r.status < 400 {
			t.Fatalf("%s %s %s: want an error, got %s", c.method, c.path, c.body, r)
		}
		wantNoRuns(t, "error response "+string(r.body), string(r.body), secrets...)
		errorReplies = append(errorReplies, r)
	}
	conflict := decode[errorResponse](t, errorReplies[6])
	// A logId that merely contains a personnummer is masked as well.
	embedded := "x-" + pnrTolvan
	e.appendJSON(t, writer, entry(embedded))
	r := e.appendJSON(t, writer, entry(embedded, set("activity.activityArgs", "changed")))
	if r.status != http.StatusConflict || strings.Contains(string(r.body), pnrTolvan) {
		t.Errorf("conflict on a logId containing a personnummer echoed it: %s", r.body)
	}
	if conflict.Code != "conflict" || !strings.Contains(conflict.Message, "(a value that contains a personal identity number)") {
		t.Errorf("conflict on a personnummer-like logId: %+v", conflict)
	}

	// Successful reads that name a patient: the answer holds the number, the logs must not.
	okReplies := []reply{
		e.search(t, reader, map[string]any{"patientId": pnrTolvan}),
		e.export(t, reader, map[string]any{"patientId": map[string]any{"root": "1.2.752.129.2.1.3.1", "extension": pnrTolvan}}),
		e.get(t, reader, pnrThird),
	}
	for _, r := range okReplies {
		wantStatus(t, r, http.StatusOK)
		if !strings.Contains(string(r.body), pnrTolvan) {
			t.Errorf("an authorised read does not show the patient: %s", r.body)
		}
	}

	// The server's log: one access-log line per request, naming the route pattern.
	for _, r := range append(errorReplies, okReplies...) {
		rec := e.accessLog(t, r)
		route, _ := rec["route"].(string)
		if !regexp.MustCompile(`^(POST /api/v1/logs(/search|/export)?|GET /api/v1/logs/\{logId\})$`).MatchString(route) {
			t.Errorf("access log route %q is not a route pattern", route)
		}
		if rec["status"] != float64(r.status) || rec["credential"] == nil || rec["tenant"] != tenantA {
			t.Errorf("access log record %v for a %d response", rec, r.status)
		}
	}
	log := e.log.String()
	wantNoRuns(t, "the server log", log, secrets...)
	for _, s := range []string{"/api/v1/logs/" + pnrThird, "Tolvan", "Anna Andersson", "Kardiologmottagningen", "Journalsystemet", `"p1"`, "p5", "Vård och behandling", "patientId", "extension"} {
		if strings.Contains(log, s) {
			t.Errorf("the server log holds request content %q:\n%s", s, log)
		}
	}
	if !strings.Contains(log, `"route":"GET /api/v1/logs/{logId}"`) {
		t.Errorf("the access log lacks the GET route pattern:\n%s", log)
	}
}

// TestAccessLog checks one access-log record in full.
func TestAccessLog(t *testing.T) {
	e := newEnv(t)
	reader := e.token(t, tenantA, vakt.RoleReader)
	id := logID(t.Name(), 1)
	r := e.get(t, reader, id)
	wantStatus(t, r, http.StatusNotFound)
	rec := e.accessLog(t, r)
	want := map[string]any{
		"level": "INFO", "msg": "request", "route": "GET /api/v1/logs/{logId}", "status": float64(404),
		"request_id": r.requestID, "credential": "tok-region-a-reader-1", "tenant": tenantA,
	}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("access log %s = %v, want %v", k, rec[k], v)
		}
	}
	if _, ok := rec["bytes"].(float64); !ok {
		t.Errorf("access log lacks bytes: %v", rec)
	}
	for k := range rec {
		if _, ok := want[k]; !ok && k != "bytes" && k != "duration" {
			t.Errorf("access log has an unexpected attribute %s=%v", k, rec[k])
		}
	}
	if strings.Contains(e.log.String(), id) {
		t.Errorf("the log holds the logId of the URL")
	}

	// Unauthenticated requests name no credential.
	r = e.do(t, call{method: "POST", path: "/api/v1/logs/search", body: []byte(`{}`)})
	rec = e.accessLog(t, r)
	if rec["route"] != "POST /api/v1/logs/search" || rec["status"] != float64(401) || rec["credential"] != nil || rec["tenant"] != nil {
		t.Errorf("access log of a 401: %v", rec)
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	reader := e.token(t, tenantA, vakt.RoleReader)
	for _, c := range []call{
		{method: "GET", path: "/healthz"},
		{method: "GET", path: "/openapi.json"},
		{method: "POST", path: "/api/v1/logs/search", token: reader, body: []byte(`{}`)},
		{method: "POST", path: "/api/v1/logs/export", token: reader, body: []byte(`{}`)},
		{method: "POST", path: "/api/v1/logs/search", body: []byte(`{}`)},
		{method: "POST", path: "/api/v1/logs/search", token: reader, body: []byte(`{"limit":5000}`), request: violates},
		{method: "GET", path: "/api/v1/logs/nope", token: reader},
	} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			r := e.do(t, c)
			for h, want := range map[string]string{
				"X-Content-Type-Options": "nosniff",
				"Cache-Control":          "no-store",
				"X-Frame-Options":        "DENY",
				"Referrer-Policy":        "no-referrer",
			} {
				if got := r.header.Get(h); got != want {
					t.Errorf("%s: %q, want %q", h, got, want)
				}
			}
			if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'self'") {
				t.Errorf("Content-Security-Policy %q", csp)
			}
			if r.header.Get("Strict-Transport-Security") != "" {
				t.Errorf("Strict-Transport-Security over plain HTTP")
			}
			if r.header.Get("X-Request-Id") != r.requestID {
				t.Errorf("X-Request-Id %q, sent %q", r.header.Get("X-Request-Id"), r.requestID)
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	e := newEnv(t)
	generated := regexp.MustCompile(`^[0-9a-f]{16}$`)
	for _, c := range []struct {
		name, id string
		echoed   bool
		request  conformance
	}{
		{"valid", "req-ABC_1.2", true, conforms},
		{"64 characters", strings.Repeat("a", 64), true, conforms},
		{"65 characters", strings.Repeat("a", 65), false, violates},
		{"a space", "has space", false, violates},
		{"non-ASCII", "åäö", false, violates},
		{"percent signs", "abc%0d%0a", false, violates},
		{"absent", "", false, conforms},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(t, call{method: "GET", path: "/healthz", header: map[string]string{"X-Request-Id": c.id}, request: c.request})
			got := r.header.Get("X-Request-Id")
			if c.echoed {
				if got != c.id {
					t.Errorf("X-Request-Id %q, want %q echoed", got, c.id)
				}
			} else if !generated.MatchString(got) {
				t.Errorf("X-Request-Id %q, want a generated one", got)
			}
			rec := e.accessLog(t, reply{requestID: got})
			if rec["route"] != "GET /healthz" {
				t.Errorf("access log %v", rec)
			}
		})
	}
}
