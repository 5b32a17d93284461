package rest_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vakt/vakt"
)

func TestRegisterImport(t *testing.T) {
	e := newEnv(t)
	writer := e.token(t, tenantA, vakt.RoleWriter)
	reader := e.token(t, tenantA, vakt.RoleReader)
	staff := `[{"hsaId":"` + userA1 + `","personId":"` + pnrOther + `","givenName":"Anna","familyName":"Andersson","careProviderId":"` + cpA + `",
	  "units":[{"careUnitId":"` + unitA1 + `","from":"2020-01-01"}]}]`

	r := e.do(t, call{method: "PUT", path: "/api/v1/registers/staff", token: writer, body: []byte(staff)})
	var rep map[string]any
	if r.status != 200 || json.Unmarshal(r.body, &rep) != nil || rep["imported"] != 1.0 || rep["total"] != 1.0 || rep["mode"] != "replace" {
		t.Fatalf("import: %s", r)
	}
	ndjson := `{"personId":"` + pnrThird + `","reason":"Känd artist"}` + "\n"
	r = e.do(t, call{method: "PUT", path: "/api/v1/registers/watchlist?mode=upsert", token: writer, contentType: "application/x-ndjson", body: []byte(ndjson)})
	if r.status != 200 || !strings.Contains(string(r.body), `"mode":"upsert"`) {
		t.Fatalf("NDJSON upsert: %s", r)
	}

	// A reader may not change reference data.
	if r := e.do(t, call{method: "PUT", path: "/api/v1/registers/staff", token: reader, body: []byte(staff)}); r.status != 403 {
		t.Fatalf("reader import: %s", r)
	}
	// Bad records: problems name record and field; no personnummer in the answer or the log.
	bad := `[{"personId":"` + pnrTolvan + `","reason":"a"},{"personId":"` + pnrTolvan[:11] + `9","reason":"b","until":"snart"}]`
	r = e.do(t, call{method: "PUT", path: "/api/v1/registers/watchlist", token: writer, body: []byte(bad), request: notValidatable})
	var eb struct {
		Code   string         `json:"code"`
		Errors []vakt.Problem `json:"errors"`
	}
	if r.status != 400 || json.Unmarshal(r.body, &eb) != nil || len(eb.Errors) != 2 ||
		eb.Errors[0] != (vakt.Problem{Index: 1, Field: "personId", Reason: "is not a valid personnummer or samordningsnummer"}) ||
		eb.Errors[1] != (vakt.Problem{Index: 1, Field: "until", Reason: "is not a date (YYYY-MM-DD)"}) {
		t.Fatalf("bad import: %s", r)
	}
	if strings.Contains(string(r.body), pnrTolvan[2:]) {
		t.Fatalf("the answer shows a personnummer: %s", r.body)
	}
	if line, _ := json.Marshal(e.accessLog(t, r)); strings.Contains(string(line), pnrTolvan[2:]) {
		t.Fatalf("the access log shows a personnummer: %s", line)
	}
	// The failed import changed nothing: the VIP is still the only one on the list, so only
	// accesses to them are flagged below.
	if r := e.do(t, call{method: "PUT", path: "/api/v1/registers/nonsense", token: writer, body: []byte("[]"), request: violates}); r.status != 404 {
		t.Fatalf("unknown register: %s", r)
	}
	if r := e.do(t, call{method: "PUT", path: "/api/v1/registers/staff?mode=merge", token: writer, body: []byte("[]"), request: violates}); r.status != 400 {
		t.Fatalf("unknown mode: %s", r)
	}
	if r := e.do(t, call{method: "PUT", path: "/api/v1/registers/staff", token: writer, contentType: "text/csv", body: []byte("a,b"), request: violates}); r.status != 415 {
		t.Fatalf("CSV: %s", r)
	}

	// Flags: tenant A's VIP and a Sunday access.
	vip := entry(logID("vip", 1), func(m map[string]any) {
		m["resources"].([]any)[0].(map[string]any)["patient"] = map[string]any{"patientId": pnrThird}
	})
	plain := entry(logID("plain", 1))
	if r := e.appendJSON(t, writer, vip, plain); r.status != 201 {
		t.Fatalf("append: %s", r)
	}
	search := func(token string, body string) reply {
		return e.do(t, call{method: "POST", path: "/api/v1/controls/flags/search", token: token, body: []byte(body)})
	}
	r = search(reader, `{"from":"2026-11-01T00:00:00+01:00","to":"2026-12-01T00:00:00+01:00"}`)
	var res struct {
		Flags []struct {
			LogID, Kind, Reason string
			Explanations        []struct{ Kind string }
		}
		Units []map[string]any
	}
	if r.status != 200 || json.Unmarshal(r.body, &res) != nil {
		t.Fatalf("flags: %s", r)
	}
	var got []string
	for _, f := range res.Flags {
		got = append(got, f.Kind+" "+f.LogID[:8])
		if len(f.Explanations) != 1 || f.Explanations[0].Kind != "same_unit" {
			t.Errorf("flag %s %s: explanations %+v", f.LogID, f.Kind, f.Explanations)
		}
	}
	vipID, plainID := logID("vip", 1)[:8], logID("plain", 1)[:8]
	want := map[string]bool{"watchlist " + vipID: true, "out_of_hours " + vipID: true, "out_of_hours " + plainID: true}
	if len(got) != 3 || !want[got[0]] || !want[got[1]] || !want[got[2]] {
		t.Fatalf("flags %v", got)
	}
	if len(res.Units) != 1 || res.Units[0]["accesses"] != 2.0 || res.Units[0]["explainedShare"] != 1.0 || res.Units[0]["month"] != "2026-11" {
		t.Fatalf("units %v", res.Units)
	}

	// Tenant B sees nothing of A; a writer may not read flags; bad searches name the field.
	if r := search(e.token(t, tenantB, vakt.RoleReader), `{"from":"2026-11-01T00:00:00+01:00","to":"2026-12-01T00:00:00+01:00"}`); r.status != 200 || !strings.Contains(string(r.body), `"flags":[]`) {
		t.Fatalf("tenant B: %s", r)
	}
	if r := search(writer, `{"from":"2026-11-01T00:00:00+01:00","to":"2026-12-01T00:00:00+01:00"}`); r.status != 403 {
		t.Fatalf("writer: %s", r)
	}
	r = e.do(t, call{method: "POST", path: "/api/v1/controls/flags/search", token: reader,
		body: []byte(`{"from":"2026-11-01T00:00:00+01:00","to":"2027-11-01T00:00:00+01:00","kinds":["nosy"]}`)})
	if r.status != 400 || !strings.Contains(string(r.body), `"field":"to"`) || !strings.Contains(string(r.body), `"field":"kinds[0]"`) {
		t.Fatalf("bad search: %s", r)
	}
}
