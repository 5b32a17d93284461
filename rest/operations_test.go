package rest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vakt/vakt"
)

func TestHealth(t *testing.T) {
	var ready atomic.Bool
	e := newEnvConfig(t, envConfig{ready: func(context.Context) error {
		if !ready.Load() {
			return errors.New("registry unreachable")
		}
		return nil
	}})
	for _, c := range []struct {
		path   string
		ready  bool
		status int
		body   string
	}{
		{"/healthz", true, http.StatusOK, "ok\n"},
		{"/readyz", true, http.StatusOK, "ready\n"},
		{"/healthz", false, http.StatusOK, "ok\n"},
		{"/readyz", false, http.StatusServiceUnavailable, "not ready\n"},
	} {
		ready.Store(c.ready)
		r := e.do(t, call{method: "GET", path: c.path})
		if r.status != c.status || string(r.body) != c.body {
			t.Errorf("%s (ready %v): %d %q, want %d %q", c.path, c.ready, r.status, r.body, c.status, c.body)
		}
		if ct := r.header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", c.path, ct)
		}
	}
	e.log.waitFor(t, "the reason for not being ready", func(s string) bool {
		return strings.Contains(s, `"msg":"not ready"`) && strings.Contains(s, "registry unreachable")
	})
}

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	writer, reader := e.token(t, tenantA, vakt.RoleWriter), e.token(t, tenantA, vakt.RoleReader)
	id := logID(t.Name(), 1)
	wantStatus(t, e.appendJSON(t, writer, entry(id)), http.StatusCreated)
	wantStatus(t, e.get(t, reader, id), http.StatusOK)
	wantStatus(t, e.search(t, writer, map[string]any{}), http.StatusForbidden)

	r := e.do(t, call{method: "GET", path: "/metrics"})
	wantStatus(t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q", ct)
	}
	m := string(r.body)
	for _, want := range []string{
		`vakt_http_requests_total{route="POST /api/v1/logs",status="201"} 1`,
		`vakt_http_requests_total{route="GET /api/v1/logs/{logId}",status="200"} 1`,
		`vakt_http_requests_total{route="POST /api/v1/logs/search",status="403"} 1`,
		`vakt_http_request_duration_seconds_count{route="POST /api/v1/logs"} 1`,
		`vakt_build_info{version="test"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(m, id) {
		t.Errorf("metrics name a logId: labels must be route patterns")
	}
}
