package rest_test

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/vakt/vakt"
)

func TestAppend(t *testing.T) {
	for _, framing := range []struct {
		name        string
		contentType string
		encode      func(*testing.T, ...map[string]any) []byte
	}{
		{"JSON array", "application/json", func(t *testing.T, es ...map[string]any) []byte { return mustJSON(t, es) }},
		{"NDJSON", "application/x-ndjson", ndjson},
	} {
		t.Run(framing.name, func(t *testing.T) {
			e := newEnv(t)
			writer, reader := e.token(t, tenantA, vakt.RoleWriter), e.token(t, tenantA, vakt.RoleReader)
			send := func(entries ...map[string]any) reply {
				t.Helper()
				return e.do(t, call{method: "POST", path: "/api/v1/logs", token: writer,
					contentType: framing.contentType, body: framing.encode(t, entries...)})
			}
			id := func(n int) string { return logID(t.Name(), n) }

			// Three new entries: 201, consecutive seqs from 1 in batch order.
			r := send(entry(id(1)), entry(id(2), patient(pnrOther)), entry(id(3), at("2026-11-20T08:00:00Z")))
			wantStatus(t, r, http.StatusCreated)
			got := decode[appendResponse](t, r)
			if got.Accepted != 3 || got.Duplicates != 0 || !slices.Equal(got.Seqs, []int64{1, 2, 3}) || got.DuplicateIndexes != nil {
				t.Fatalf("first batch: %s", r.body)
			}
			if bytes.Contains(r.body, []byte("duplicateIndexes")) {
				t.Errorf("duplicateIndexes present without duplicates: %s", r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}

			// The same batch again: all duplicates, 200, the original seqs.
			r = send(entry(id(1)), entry(id(2), patient(pnrOther)), entry(id(3), at("2026-11-20T08:00:00Z")))
			wantStatus(t, r, http.StatusOK)
			got = decode[appendResponse](t, r)
			if got.Accepted != 0 || got.Duplicates != 3 || !slices.Equal(got.Seqs, []int64{1, 2, 3}) || !slices.Equal(got.DuplicateIndexes, []int{0, 1, 2}) {
				t.Fatalf("re-sent batch: %s", r.body)
			}

			// Duplicates mixed with new entries: 201; new entries continue the sequence.
			r = send(entry(id(2), patient(pnrOther)), entry(id(4)), entry(id(5)))
			wantStatus(t, r, http.StatusCreated)
			got = decode[appendResponse](t, r)
			if got.Accepted != 2 || got.Duplicates != 1 || !slices.Equal(got.Seqs, []int64{2, 4, 5}) || !slices.Equal(got.DuplicateIndexes, []int{0}) {
				t.Fatalf("mixed batch: %s", r.body)
			}

			// Identity is the normalised content: another spelling of the same personnummer and
			// the same instant in another zone are the same entry.
			same := entry(id(1),
				patient(map[string]any{"root": "1.2.752.129.2.1.3.1", "extension": "19121212-1212"}),
				at("2026-11-22T13:05:00.000Z"))
			r = send(same)
			wantStatus(t, r, http.StatusOK)
			got = decode[appendResponse](t, r)
			if got.Duplicates != 1 || !slices.Equal(got.Seqs, []int64{1}) {
				t.Fatalf("normalised duplicate: %s", r.body)
			}

			// A repeat within one batch: the first occurrence wins, the second is a duplicate.
			r = send(entry(id(6)), entry(id(6)))
			wantStatus(t, r, http.StatusCreated)
			got = decode[appendResponse](t, r)
			if got.Accepted != 1 || got.Duplicates != 1 || !slices.Equal(got.Seqs, []int64{6, 6}) || !slices.Equal(got.DuplicateIndexes, []int{1}) {
				t.Fatalf("repeat within a batch: %s", r.body)
			}

			// Six entries are stored, each once.
			page := decode[searchPage](t, e.search(t, reader, map[string]any{}))
			if ids := logIDs(t, page.Entries); len(ids) != 6 {
				t.Fatalf("stored %d entries, want 6: %v", len(ids), ids)
			}
			for n, seq := range map[int]int64{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6} {
				r := e.get(t, reader, id(n))
				wantStatus(t, r, http.StatusOK)
				if s := parseStored(t, r.body); s.Seq != seq {
					t.Errorf("%s has seq %d, want %d", id(n), s.Seq, seq)
				}
			}
		})
	}
}

func TestAppendContentTypes(t *testing.T) {
	e := newEnv(t)
	writer := e.token(t, tenantA, vakt.RoleWriter)
	for i, c := range []struct {
		contentType string
		ndjson      bool
		request     conformance
	}{
		{"application/json", false, conforms},
		{"application/json; charset=utf-8", false, conforms},
		{"application/x-ndjson", true, conforms},
		// Synonyms the server accepts; the document names only application/x-ndjson.
		{"application/ndjson", true, mayViolate},
		{"application/jsonl", true, mayViolate},
		{"application/jsonlines", true, mayViolate},
	} {
		t.Run(c.contentType, func(t *testing.T) {
			a, b := entry(logID(t.Name(), 1)), entry(logID(t.Name(), 2))
			body := mustJSON(t, []any{a, b})
			if c.ndjson {
				body = ndjson(t, a, b)
			}
			r := e.do(t, call{method: "POST", path: "/api/v1/logs", token: writer, contentType: c.contentType, body: body, request: c.request})
			wantStatus(t, r, http.StatusCreated)
			if got := decode[appendResponse](t, r); !slices.Equal(got.Seqs, []int64{int64(2*i + 1), int64(2*i + 2)}) {
				t.Errorf("seqs %v", got.Seqs)
			}
		})
	}
	t.Run("no Content-Type is a JSON array", func(t *testing.T) {
		r := e.do(t, call{method: "POST", path: "/api/v1/logs", token: writer, contentType: noContentType,
			body: mustJSON(t, []any{entry(logID(t.Name(), 1))}), request: mayViolate})
		wantStatus(t, r, http.StatusCreated)
	})
	for _, c := range []struct {
		contentType string
		request     conformance
	}{
		{"text/plain", violates},
		{"application/xml", violates},
		{"multipart/form-data; boundary=x", violates},
		{"application/json;;", mayViolate}, // malformed parameters
	} {
		t.Run("refused "+c.contentType, func(t *testing.T) {
			r := e.do(t, call{method: "POST", path: "/api/v1/logs", token: writer, contentType: c.contentType,
				body: mustJSON(t, []any{entry(logID(t.Name(), 1))}), request: c.request})
			wantError(t, r, http.StatusUnsupportedMediaType, vakt.CodeUnsupported)
		})
	}
}

// problemSet renders problems for comparison, ignoring order.
func problemSet(ps []vakt.Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = fmt.Sprintf("%d %s: %s", p.Index, p.Field, p.Reason)
	}
	slices.Sort(out)
	return out
}

func TestAppendAtomicRejection(t *testing.T) {
	long := strings.Repeat("å", 257)
	for _, c := range []struct {
		name    string
		batch   func(id func(int) string) []map[string]any
		message string
		want    []string // "index field: reason"
	}{
		{
			name: "invalid entries",
			batch: func(id func(int) string) []map[string]any {
				return []map[string]any{
					entry(id(0)),
					entry(id(1), patient("191212121213"), set("activity.purpose", remove)),
					entry(id(2)),
					entry(id(3), set("system.systemName", long), set("user.userId", "se2321000016-1234"), at("2026-12-24T00:00:00Z")),
					entry(id(4), set("resources", []any{})),
					entry(id(5), set("user.careUnit", remove), patient(map[string]any{"root": "1.2.752.129.2.1.3.3", "extension": pnrTolvan})),
					entry(id(6), set("logId", strings.Repeat("x", 37)), set("activity.activityArgs", strings.Repeat("a", 8193))),
					entry(id(7)),
				}
			},
			message: "request has invalid entries; nothing was stored",
			want: []string{
				"1 activity.purpose: is required",
				"1 resources[0].patient.patientId: check digit does not match (Luhn)",
				"3 activity.startDate: is more than 24 hours in the future",
				"3 system.systemName: is longer than 256 characters",
				"3 user.userId: HSA-id must start with an issuer prefix of 2 to 10 upper-case letters",
				"4 resources: must name at least one resource",
				"5 resources[0].patient.patientId.root: root OID does not match the kind of number: a personnummer under the samordningsnummer root",
				"5 user.careUnit.careUnitId: is required",
				"6 activity.activityArgs: is longer than 8192 characters",
				"6 logId: is longer than 36 characters",
			},
		},
		{
			name: "structural problems",
			batch: func(id func(int) string) []map[string]any {
				return []map[string]any{
					entry(id(0)),
					entry(id(1), set("comment", "x"), set("user.role", "x")),
					entry(id(2), set("activity.startDate", 20261122)),
					entry(id(3), set("resources", "Journalanteckning"), set("system", []any{})),
					entry(id(4)),
				}
			},
			message: "request has invalid entries; nothing was stored",
			want: []string{
				"1 comment: is not a field of the RIV-TA log entry",
				"1 user.role: is not a field of the RIV-TA log entry",
				"2 activity.startDate: must be a JSON string",
				"3 resources: must be a JSON array",
				"3 system: must be a JSON object",
			},
		},
		{
			// One answer lists both kinds; a field of the wrong JSON type is not also "required".
			name: "structural and rule problems together",
			batch: func(id func(int) string) []map[string]any {
				return []map[string]any{
					entry(id(0), patient("191212121213")),
					entry(id(1), set("comment", "x")),
					entry(id(2), set("activity.startDate", 20261122), set("activity.purpose", remove)),
				}
			},
			message: "request has invalid entries; nothing was stored",
			want: []string{
				"0 resources[0].patient.patientId: check digit does not match (Luhn)",
				"1 comment: is not a field of the RIV-TA log entry",
				"2 activity.purpose: is required",
				"2 activity.startDate: must be a JSON string",
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			writer, reader := e.token(t, tenantA, vakt.RoleWriter), e.token(t, tenantA, vakt.RoleReader)
			id := func(n int) string { return logID(t.Name(), n) }
			batch := c.batch(id)
			for _, framing := range []struct{ contentType string }{{"application/json"}, {"application/x-ndjson"}} {
				body := mustJSON(t, batch)
				if framing.contentType == "application/x-ndjson" {
					body = ndjson(t, batch...)
				}
				r := e.do(t, call{method: "POST", path: "/api/v1/logs", token: writer, contentType: framing.contentType, body: body, request: violates})
				er := wantError(t, r, http.StatusBadRequest, vakt.CodeInvalid)
				if er.Message != c.message {
					t.Errorf("message %q, want %q", er.Message, c.message)
				}
				if got := problemSet(er.Errors); !slices.Equal(got, c.want) {
					t.Errorf("%s: problems\n%s\nwant\n%s", framing.contentType, strings.Join(got, "\n"), strings.Join(c.want, "\n"))
				}
			}
			// Nothing of the batch is stored, not even its valid entries.
			if page := decode[searchPage](t, e.search(t, reader, map[string]any{})); len(page.Entries) != 0 {
				t.Errorf("stored after a refused batch: %v", logIDs(t, page.Entries))
			}
			wantError(t, e.get(t, reader, id(0)), http.StatusNotFound, vakt.CodeNotFound)
			// The same valid entries alone are accepted and get the first seqs: the refused
			// batch used none.
			r := e.appendJSON(t, writer, entry(id(0)))
			wantStatus(t, r, http.StatusCreated)
			if got := decode[appendResponse](t, r); !slices.Equal(got.Seqs, []int64{1}) {
				t.Errorf("seqs after a refused batch %v, want [1]", got.Seqs)
			}
		})
	}
}

func TestAppendMalformed(t *testing.T) {
	e := newEnv(t)
	writer := e.token(t, tenantA, vakt.RoleWriter)
	valid := string(mustJSON(t, entry(logID(t.Name(), 1))))
	for _, c := range []struct {
		name, contentType, body string
		wantMessage             string
		wantIndex               int
	}{
		{"not an array", "application/json", valid, "request body must be a JSON array of log entries", -1},
		{"empty array", "application/json", "[]", "request holds no log entries", -1},
		{"empty NDJSON", "application/x-ndjson", "\n", "request holds no log entries", -1},
		{"empty", "application/json", "", "request body ends in the middle of a JSON value; nothing was stored", 0},
		{"cut off", "application/json", "[" + valid[:len(valid)/2], "request body ends in the middle of a JSON value; nothing was stored", 0},
		{"syntax error in the second entry", "application/x-ndjson", valid + "\n{\"logId\": nope}\n", "request body is not valid JSON; nothing was stored", 1},
		{"data after the array", "application/json", "[" + valid + "] []", "request body has data after the array", -1},
		{"duplicate member", "application/json", `[{"logId":"a","logId":"b"}]`, "request has invalid entries; nothing was stored", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(t, call{method: "POST", path: "/api/v1/logs", token: writer, contentType: c.contentType, body: []byte(c.body), request: mayViolate})
			er := wantError(t, r, http.StatusBadRequest, vakt.CodeInvalid)
			if er.Message != c.wantMessage {
				t.Errorf("message %q, want %q", er.Message, c.wantMessage)
			}
			if len(er.Errors) == 0 || er.Errors[len(er.Errors)-1].Index != c.wantIndex {
				t.Errorf("problems %+v, want the last at index %d", er.Errors, c.wantIndex)
			}
		})
	}
}

func TestAppendConflict(t *testing.T) {
	e := newEnv(t)
	writer, reader := e.token(t, tenantA, vakt.RoleWriter), e.token(t, tenantA, vakt.RoleReader)
	id := func(n int) string { return logID(t.Name(), n) }
	wantStatus(t, e.appendJSON(t, writer, entry(id(1))), http.StatusCreated)
	original := e.get(t, reader, id(1))
	wantStatus(t, original, http.StatusOK)

	for _, c := range []struct {
		name  string
		batch []map[string]any
		index int
		named string
	}{
		{"stored logId, other content", []map[string]any{entry(id(2)), entry(id(1), set("activity.activityType", "Skriva")), entry(id(3))}, 1, id(1)},
		{"stored logId, other patient", []map[string]any{entry(id(1), patient(pnrOther))}, 0, id(1)},
		{"repeat within the batch", []map[string]any{entry(id(4)), entry(id(5)), entry(id(4), at("2026-11-22T14:06:00+01:00"))}, 2, id(4)},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.appendJSON(t, writer, c.batch...)
			er := wantError(t, r, http.StatusConflict, vakt.CodeConflict)
			if !strings.Contains(er.Message, `"`+c.named+`"`) {
				t.Errorf("message %q does not name logId %s", er.Message, c.named)
			}
			want := []vakt.Problem{{Index: c.index, Field: "logId", Reason: "is already stored with different content"}}
			if !slices.Equal(er.Errors, want) {
				t.Errorf("problems %+v, want %+v", er.Errors, want)
			}
		})
	}
	// Nothing of the refused batches was stored, and the original is unchanged.
	page := decode[searchPage](t, e.search(t, reader, map[string]any{}))
	if ids := logIDs(t, page.Entries); !slices.Equal(ids, []string{id(1)}) {
		t.Errorf("stored %v, want only %s", ids, id(1))
	}
	if r := e.get(t, reader, id(1)); !bytes.Equal(r.body, original.body) {
		t.Errorf("entry changed:\n%s\nwas\n%s", r.body, original.body)
	}
	// The next new entry gets seq 2: refused batches used no numbers.
	r := e.appendJSON(t, writer, entry(id(9)))
	if got := decode[appendResponse](t, r); !slices.Equal(got.Seqs, []int64{2}) {
		t.Errorf("seqs %v, want [2]", got.Seqs)
	}
}

func TestAppendLimits(t *testing.T) {
	t.Run("body size", func(t *testing.T) {
		e := newEnvConfig(t, envConfig{maxBody: 4096})
		writer, reader := e.token(t, tenantA, vakt.RoleWriter), e.token(t, tenantA, vakt.RoleReader)
		var batch []map[string]any
		for i := range 12 {
			batch = append(batch, entry(logID(t.Name(), i)))
		}
		for _, ct := range []string{"application/json", "application/x-ndjson"} {
			body := mustJSON(t, batch)
			if ct == "application/x-ndjson" {
				body = ndjson(t, batch...)
			}
			if len(body) <= 4096 {
				t.Fatalf("test body of %d bytes is not over the limit", len(body))
			}
			r := e.do(t, call{method: "POST", path: "/api/v1/logs", token: writer, contentType: ct, body: body})
			er := wantError(t, r, http.StatusRequestEntityTooLarge, vakt.CodeTooLarge)
			if er.Message != "request body exceeds 4096 bytes" {
				t.Errorf("message %q", er.Message)
			}
		}
		if page := decode[searchPage](t, e.search(t, reader, map[string]any{})); len(page.Entries) != 0 {
			t.Errorf("stored %d entries of a refused batch", len(page.Entries))
		}
		// A batch under the limit passes.
		wantStatus(t, e.appendJSON(t, writer, batch[:2]...), http.StatusCreated)
	})
	t.Run("entries", func(t *testing.T) {
		e := newEnvConfig(t, envConfig{maxBatch: 3})
		writer := e.token(t, tenantA, vakt.RoleWriter)
		var batch []map[string]any
		for i := range 4 {
			batch = append(batch, entry(logID(t.Name(), i)))
		}
		for _, ct := range []string{"application/json", "application/x-ndjson"} {
			body := mustJSON(t, batch)
			if ct == "application/x-ndjson" {
				body = ndjson(t, batch...)
			}
			r := e.do(t, call{method: "POST", path: "/api/v1/logs", token: writer, contentType: ct, body: body})
			er := wantError(t, r, http.StatusRequestEntityTooLarge, vakt.CodeTooLarge)
			if er.Message != "a request may hold at most 3 entries" {
				t.Errorf("message %q", er.Message)
			}
		}
		wantStatus(t, e.appendJSON(t, writer, batch[:3]...), http.StatusCreated)
	})
	t.Run("default of 10,000 entries", func(t *testing.T) {
		e := newEnv(t)
		writer := e.token(t, tenantA, vakt.RoleWriter)
		line := mustJSON(t, entry("x"))
		var body bytes.Buffer
		for range 10001 {
			body.Write(line)
			body.WriteByte('\n')
		}
		r := e.do(t, call{method: "POST", path: "/api/v1/logs", token: writer, contentType: "application/x-ndjson", body: body.Bytes(), request: notValidatable})
		er := wantError(t, r, http.StatusRequestEntityTooLarge, vakt.CodeTooLarge)
		if er.Message != "a request may hold at most 10000 entries" {
			t.Errorf("message %q", er.Message)
		}
	})
}

// TestAppendResponseSeqsMatchStore checks that the seqs an append reports are those that search
// and get serve, for a batch big enough to span several internal groups.
func TestAppendResponseSeqsMatchStore(t *testing.T) {
	e := newEnv(t)
	writer, reader := e.token(t, tenantA, vakt.RoleWriter), e.token(t, tenantA, vakt.RoleReader)
	var batch []map[string]any
	for i := range 250 {
		batch = append(batch, entry(logID(t.Name(), i), at(fmt.Sprintf("2026-11-2%dT%02d:%02d:00Z", i%7, i%24, i%60))))
	}
	r := e.do(t, call{method: "POST", path: "/api/v1/logs", token: writer, contentType: "application/x-ndjson", body: ndjson(t, batch...)})
	wantStatus(t, r, http.StatusCreated)
	got := decode[appendResponse](t, r)
	seqOf := map[string]int64{}
	for i, s := range got.Seqs {
		if s != int64(i+1) {
			t.Fatalf("seq %d at index %d", s, i)
		}
		seqOf[batch[i]["logId"].(string)] = s
	}
	x := e.export(t, reader, map[string]any{})
	wantStatus(t, x, http.StatusOK)
	n := 0
	for line := range bytes.Lines(x.body) {
		s := parseStored(t, bytes.TrimSuffix(line, []byte("\n")))
		if seqOf[s.LogID] != s.Seq {
			t.Errorf("%s served with seq %d, append said %d", s.LogID, s.Seq, seqOf[s.LogID])
		}
		n++
	}
	if n != len(batch) {
		t.Errorf("exported %d entries, want %d", n, len(batch))
	}
}
