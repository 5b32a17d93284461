package rest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/rest"
)

// TestOpenAPIDocument checks the document itself: it loads, it is valid OpenAPI 3.1 (examples
// included), and it describes exactly the routes the server has.
func TestOpenAPIDocument(t *testing.T) {
	doc, _ := loadSpec(t)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	var routes []string
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			routes = append(routes, method+" "+path)
			if op.OperationID == "" || op.Summary == "" {
				t.Errorf("%s %s lacks an operationId or summary", method, path)
			}
			// Every operation under /api/v1 names the role it needs; the others need none.
			var roles []string
			if op.Security != nil {
				for _, req := range *op.Security {
					roles = append(roles, req["bearerAuth"]...)
				}
			}
			if strings.HasPrefix(path, "/api/v1/") {
				want := "reader"
				if method == "POST" && path == "/api/v1/logs" || strings.HasPrefix(path, "/api/v1/registers/") {
					want = "writer"
				}
				if !slices.Equal(roles, []string{want}) {
					t.Errorf("%s %s requires roles %v, want [%s]", method, path, roles, want)
				}
				for _, status := range []int{401, 500, 503} {
					if op.Responses.Status(status) == nil {
						t.Errorf("%s %s does not document %d", method, path, status)
					}
				}
			} else if op.Security == nil || len(*op.Security) != 0 {
				t.Errorf("%s %s should need no authentication", method, path)
			}
		}
	}
	slices.Sort(routes)
	want := []string{
		"GET /api/v1/checkpoint", "GET /api/v1/checkpoint/key", "GET /api/v1/consistency",
		"GET /api/v1/logs/{logId}", "GET /api/v1/logs/{logId}/proof",
		"GET /healthz", "GET /metrics", "GET /openapi.json", "GET /readyz",
		"POST /api/v1/controls/flags/search", "POST /api/v1/logs", "POST /api/v1/logs/export", "POST /api/v1/logs/search",
		"PUT /api/v1/registers/{kind}",
	}
	if !slices.Equal(routes, want) {
		t.Errorf("documented routes %v, want %v", routes, want)
	}

	// The error codes are vakt's.
	codes := doc.Components.Schemas["ErrorCode"].Value.Enum
	wantCodes := []vakt.Code{vakt.CodeInvalid, vakt.CodeUnauthorized, vakt.CodeForbidden, vakt.CodeNotFound, vakt.CodeConflict,
		vakt.CodeTooLarge, vakt.CodeUnsupported, vakt.CodeUnprocessed, vakt.CodeRateLimited, vakt.CodeInternal,
		vakt.CodeUnavailable, vakt.CodeCanceled}
	if len(codes) != len(wantCodes) {
		t.Errorf("ErrorCode has %d values, vakt has %d codes", len(codes), len(wantCodes))
	}
	for _, c := range wantCodes {
		if !slices.Contains(codes, any(string(c))) {
			t.Errorf("ErrorCode lacks %q", c)
		}
	}

	// Limits in the schemas are the validator's.
	props := func(name string) openapi3.Schemas { return doc.Components.Schemas[name].Value.Properties }
	for _, c := range []struct {
		schema, prop string
		max          uint64
	}{
		{"Entry", "logId", accesslog.MaxLogIDLen},
		{"Activity", "activityArgs", accesslog.MaxArgsLen},
		{"Activity", "activityType", accesslog.MaxTextLen},
		{"User", "name", accesslog.MaxTextLen},
		{"HsaId", "", 32},
		{"II", "root", accesslog.MaxIIFieldLen},
		{"II", "extension", accesslog.MaxIIFieldLen},
	} {
		s := doc.Components.Schemas[c.schema].Value
		if c.prop != "" {
			s = props(c.schema)[c.prop].Value
		}
		if s.MaxLength == nil || *s.MaxLength != c.max {
			t.Errorf("%s.%s maxLength %v, want %d", c.schema, c.prop, s.MaxLength, c.max)
		}
	}
	if r := props("Entry")["resources"].Value; r.MinItems != 1 || r.MaxItems == nil || *r.MaxItems != accesslog.MaxResources {
		t.Errorf("Entry.resources items %d..%v, want 1..%d", r.MinItems, r.MaxItems, accesslog.MaxResources)
	}
	if l := props("Query")["limit"].Value; l.Max == nil || *l.Max != accesslog.MaxLimit || l.Default != float64(accesslog.DefaultLimit) {
		t.Errorf("Query.limit max %v default %v", l.Max, l.Default)
	}
	for _, name := range []string{"Entry", "System", "Activity", "User", "CareProvider", "CareUnit", "Resource", "Patient", "II",
		"StoredEntry", "Query", "Error", "Problem", "AppendResponse", "SearchPage"} {
		if ap := doc.Components.Schemas[name].Value.AdditionalProperties; ap.Has == nil || *ap.Has {
			t.Errorf("%s allows additional properties", name)
		}
	}
}

// TestOpenAPIServed checks that /openapi.json serves the embedded document.
func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, call{method: "GET", path: "/openapi.json"})
	wantStatus(t, r, http.StatusOK)
	if !bytes.Equal(r.body, rest.OpenAPI()) {
		t.Errorf("/openapi.json is not the embedded document")
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
}

// example returns the value of a named example of an operation's request body.
func example(t *testing.T, path, method, name string) any {
	t.Helper()
	doc, _ := loadSpec(t)
	op := doc.Paths.Find(path).GetOperation(method)
	ex := op.RequestBody.Value.Content.Get("application/json").Examples[name]
	if ex == nil {
		t.Fatalf("%s %s has no example %q", method, path, name)
	}
	return ex.Value.Value
}

// TestOpenAPIExamples sends the document's examples to the server: they must work as shown,
// and the stored form of the example entry must be exactly the documented StoredEntry example.
func TestOpenAPIExamples(t *testing.T) {
	e := newEnv(t)
	writer, reader := e.token(t, tenantA, vakt.RoleWriter), e.token(t, tenantA, vakt.RoleReader)
	doc, _ := loadSpec(t)

	batch := mustJSON(t, example(t, "/api/v1/logs", "POST", "one"))
	r := e.do(t, call{method: "POST", path: "/api/v1/logs", token: writer, body: batch})
	wantStatus(t, r, http.StatusCreated)

	var sent []map[string]any
	if err := json.Unmarshal(batch, &sent); err != nil {
		t.Fatal(err)
	}
	got := e.get(t, reader, sent[0]["logId"].(string))
	wantStatus(t, got, http.StatusOK)
	served := bytes.TrimSuffix(got.body, []byte("\n"))
	s := parseStored(t, served)
	stored := doc.Components.Schemas["StoredEntry"].Value.Examples[0].(map[string]any)
	stored["seq"], stored["receivedAt"] = s.Seq, s.ReceivedAt
	if want := canonical(t, mustJSON(t, stored)); !bytes.Equal(served, want) {
		t.Errorf("the example entry is stored as\n%s\nthe document shows\n%s", served, want)
	}

	for _, name := range []string{"patient", "nextPage", "user"} {
		body := mustJSON(t, example(t, "/api/v1/logs/search", "POST", name))
		r := e.do(t, call{method: "POST", path: "/api/v1/logs/search", token: reader, body: body})
		wantStatus(t, r, http.StatusOK)
	}
	body := mustJSON(t, example(t, "/api/v1/logs/export", "POST", "unit"))
	wantStatus(t, e.do(t, call{method: "POST", path: "/api/v1/logs/export", token: reader, body: body}), http.StatusOK)

	// The documented 400 example's reasons are the validator's.
	ex := doc.Components.Responses["InvalidBatch"].Value.Content.Get("application/json").Examples["invalid"].Value.Value
	r = e.do(t, call{method: "POST", path: "/api/v1/logs", token: writer, request: violates, body: mustJSON(t, []any{
		entry(logID(t.Name(), 2), patient("191212121213")),
		entry(logID(t.Name(), 3)),
		entry(logID(t.Name(), 4), set("activity.startDate", nil)),
	})})
	er := wantError(t, r, http.StatusBadRequest, vakt.CodeInvalid)
	var want errorResponse
	if err := json.Unmarshal(mustJSON(t, ex), &want); err != nil {
		t.Fatal(err)
	}
	if er.Message != want.Message || !slices.Equal(er.Errors, want.Errors) {
		t.Errorf("400 example %+v, server says %+v", want, er)
	}
}

// TestOpenAPIValidatorRejects makes sure the conformance checks can fail: responses that break
// the document are caught.
func TestOpenAPIValidatorRejects(t *testing.T) {
	doc, _ := loadSpec(t)
	schema := func(name string) *openapi3.Schema { return doc.Components.Schemas[name].Value }
	opt := openapi3.EnableJSONSchema2020()
	good := map[string]any{"accepted": 1, "duplicates": 0, "seqs": []any{1}}
	if err := schema("AppendResponse").VisitJSON(good, opt); err != nil {
		t.Fatalf("a good AppendResponse fails: %v", err)
	}
	for _, c := range []struct {
		schema string
		value  any
	}{
		{"AppendResponse", map[string]any{"accepted": 1, "duplicates": 0, "seqs": []any{0}}},
		{"AppendResponse", map[string]any{"accepted": 1, "duplicates": 0, "seqs": []any{1}, "extra": true}},
		{"Error", map[string]any{"code": "oops", "message": "x"}},
		{"PersonId", "19121212121"},
		{"PersonId", map[string]any{"root": "1.2.752.129.2.1.3.1"}},
		{"HsaId", "se2321000016-0001"},
		{"HsaId", "SE2321000016-0001-" + strings.Repeat("x", 20)},
		{"StoredII", map[string]any{"extension": "191212121212"}},
		{"SearchPage", map[string]any{"entries": []any{}, "nextCursor": ""}},
	} {
		if err := schema(c.schema).VisitJSON(c.value, opt); err == nil {
			t.Errorf("%s accepts %v", c.schema, c.value)
		}
	}
	// The doc's own stored example is a StoredEntry; the same with patientId as a string is not.
	ex := schema("StoredEntry").Examples[0]
	if err := schema("StoredEntry").VisitJSON(ex, opt); err != nil {
		t.Errorf("the StoredEntry example fails: %v", err)
	}
	var broken map[string]any
	if err := json.Unmarshal(mustJSON(t, ex), &broken); err != nil {
		t.Fatal(err)
	}
	broken["resources"].([]any)[0].(map[string]any)["patient"].(map[string]any)["patientId"] = pnrTolvan
	if err := schema("StoredEntry").VisitJSON(broken, opt); err == nil {
		t.Errorf("StoredEntry accepts a patientId string")
	}
}
