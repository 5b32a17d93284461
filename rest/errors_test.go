package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
)

// faultyStores wraps the real stores; its stores fail Append, or Export after some entries.
type faultyStores struct {
	accesslog.Stores
	appendErr   error
	exportAfter int
	exportErr   error
}

func (f *faultyStores) Store(ctx context.Context, tenantID string) (accesslog.Store, error) {
	st, err := f.Stores.Store(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return &faultyStore{Store: st, f: f}, nil
}

type faultyStore struct {
	accesslog.Store
	f *faultyStores
}

func (s *faultyStore) Append(ctx context.Context, batch []accesslog.Pending) ([]accesslog.AppendResult, error) {
	if s.f.appendErr != nil {
		return nil, s.f.appendErr
	}
	return s.Store.Append(ctx, batch)
}

func (s *faultyStore) Export(ctx context.Context, q accesslog.Query, fn func(*accesslog.Stored) error) error {
	if s.f.exportErr == nil {
		return s.Store.Export(ctx, q, fn)
	}
	n := 0
	err := s.Store.Export(ctx, q, func(st *accesslog.Stored) error {
		if n == s.f.exportAfter {
			return s.f.exportErr
		}
		n++
		return fn(st)
	})
	if err == nil && n == s.f.exportAfter {
		err = s.f.exportErr
	}
	return err
}

// TestExportFailsMidStream checks the documented end of a broken export: the entries sent so
// far, then one error line.
func TestExportFailsMidStream(t *testing.T) {
	for _, c := range []struct {
		name    string
		after   int
		err     error
		code    vakt.Code
		message string
	}{
		{"unavailable after 3", 3, &vakt.Error{Code: vakt.CodeUnavailable, Message: "storage is busy; retry later"}, vakt.CodeUnavailable, "storage is busy; retry later"},
		{"internal after 1", 1, errors.New("sqlite: read page 7: disk I/O error"), vakt.CodeInternal, "internal error"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &faultyStores{exportAfter: c.after, exportErr: c.err}
			e := newEnvConfig(t, envConfig{wrap: func(s accesslog.Stores) accesslog.Stores { f.Stores = s; return f }})
			writer, reader := e.token(t, tenantA, vakt.RoleWriter), e.token(t, tenantA, vakt.RoleReader)
			var batch []map[string]any
			for i := range 5 {
				batch = append(batch, entry(logID(t.Name(), i)))
			}
			wantStatus(t, e.appendJSON(t, writer, batch...), http.StatusCreated)

			r := e.export(t, reader, map[string]any{})
			wantStatus(t, r, http.StatusOK) // the status went out with the first line
			lines := bytes.Split(bytes.TrimSuffix(r.body, []byte("\n")), []byte("\n"))
			if len(lines) != c.after+1 {
				t.Fatalf("%d lines, want %d entries and an error line:\n%s", len(lines), c.after, r.body)
			}
			var last struct {
				Error *struct {
					Code    string `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(lines[c.after], &last); err != nil || last.Error == nil {
				t.Fatalf("last line is not an error line: %s", lines[c.after])
			}
			if last.Error.Code != string(c.code) || last.Error.Message != c.message {
				t.Errorf("error line %s, want code %s message %q", lines[c.after], c.code, c.message)
			}
			if strings.Contains(string(r.body), "disk I/O") {
				t.Errorf("internal detail reached the client")
			}
			if c.code == vakt.CodeInternal {
				e.log.waitFor(t, "the internal error", func(s string) bool {
					return strings.Contains(s, `"msg":"export failed mid-stream"`) && strings.Contains(s, "disk I/O error")
				})
			}
		})
	}
	t.Run("before the first line", func(t *testing.T) {
		f := &faultyStores{exportAfter: 0, exportErr: &vakt.Error{Code: vakt.CodeUnavailable, Message: "storage is busy; retry later"}}
		e := newEnvConfig(t, envConfig{wrap: func(s accesslog.Stores) accesslog.Stores { f.Stores = s; return f }})
		reader := e.token(t, tenantA, vakt.RoleReader)
		r := e.export(t, reader, map[string]any{})
		wantError(t, r, http.StatusServiceUnavailable, vakt.CodeUnavailable)
		if r.header.Get("Retry-After") != "1" {
			t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
		}
	})
}

func TestInternalError(t *testing.T) {
	f := &faultyStores{appendErr: errors.New("sqlite: commit: secret detail")}
	e := newEnvConfig(t, envConfig{wrap: func(s accesslog.Stores) accesslog.Stores { f.Stores = s; return f }})
	writer := e.token(t, tenantA, vakt.RoleWriter)
	r := e.appendJSON(t, writer, entry(logID(t.Name(), 1)))
	er := wantError(t, r, http.StatusInternalServerError, vakt.CodeInternal)
	if er.Message != "internal error" || strings.Contains(string(r.body), "secret") {
		t.Errorf("internal detail reached the client: %s", r.body)
	}
	e.log.waitFor(t, "the internal error with its route", func(s string) bool {
		return strings.Contains(s, `"msg":"request failed","route":"POST /api/v1/logs"`) && strings.Contains(s, "secret detail")
	})
}

// TestUnavailable closes the real stores, as a shutdown does: requests get 503 and Retry-After.
func TestUnavailable(t *testing.T) {
	e := newEnv(t)
	writer, reader := e.token(t, tenantA, vakt.RoleWriter), e.token(t, tenantA, vakt.RoleReader)
	if err := e.stores.Close(); err != nil {
		t.Fatal(err)
	}
	for _, r := range []reply{
		e.appendJSON(t, writer, entry(logID(t.Name(), 1))),
		e.search(t, reader, map[string]any{}),
		e.export(t, reader, map[string]any{}),
		e.get(t, reader, logID(t.Name(), 1)),
	} {
		er := wantError(t, r, http.StatusServiceUnavailable, vakt.CodeUnavailable)
		if r.header.Get("Retry-After") != "1" {
			t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
		}
		if er.Message != "the log store is shutting down; retry later" {
			t.Errorf("message %q", er.Message)
		}
	}
}

// TestContractEdges covers the request-shape rules that sit in the handlers: the role is checked
// before a body is read, a query is one JSON object and nothing more, a patientId object has
// root and extension only, and queries are JSON.
func TestContractEdges(t *testing.T) {
	e := newEnv(t)
	writer, reader := e.token(t, tenantA, vakt.RoleWriter), e.token(t, tenantA, vakt.RoleReader)
	cases := []struct {
		name   string
		c      call
		status int
		code   vakt.Code
	}{
		{"reader appends garbage: 403 before parsing",
			call{method: "POST", path: "/api/v1/logs", token: reader, contentType: "text/plain", body: []byte("not json"), request: violates},
			http.StatusForbidden, vakt.CodeForbidden},
		{"writer searches garbage: 403 before parsing",
			call{method: "POST", path: "/api/v1/logs/search", token: writer, body: []byte("{{{"), request: violates},
			http.StatusForbidden, vakt.CodeForbidden},
		{"data after the query",
			call{method: "POST", path: "/api/v1/logs/search", token: reader, body: []byte(`{"limit":1} {"patientId":"x"}`), request: notValidatable}, // the validator reads one JSON value
			http.StatusBadRequest, vakt.CodeInvalid},
		{"patientId object with an extra member",
			call{method: "POST", path: "/api/v1/logs/search", token: reader, body: []byte(`{"patientId":{"root":"1.2.752.129.2.1.3.1","extension":"191212121212","x":1}}`), request: violates},
			http.StatusBadRequest, vakt.CodeInvalid},
		{"query as text/plain",
			call{method: "POST", path: "/api/v1/logs/export", token: reader, contentType: "text/plain", body: []byte(`{}`), request: violates},
			http.StatusUnsupportedMediaType, vakt.CodeUnsupported},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, e.do(t, c.c), c.status, c.code)
		})
	}
}
