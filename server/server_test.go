package server_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/auth"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/rest"
	"github.com/vakt/vakt/server"
	"github.com/vakt/vakt/sqlite"
	"github.com/vakt/vakt/tenant"
)

// TestPanicBecomesJSON500: a handler that panics answers a JSON 500 with a generic message, the
// panic is logged with the request id, and the server keeps serving.
func TestPanicBecomesJSON500(t *testing.T) {
	ctx := context.Background()
	reg, err := sqlite.OpenRegistry(ctx, filepath.Join(t.TempDir(), "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	if err := reg.CreateTenant(ctx, tenant.Tenant{ID: "t", Name: "T", CareProviders: []ident.HSAID{"SE2321000016-0001"}}); err != nil {
		t.Fatal(err)
	}
	tok, id := auth.NewToken()
	if err := reg.CreateCredential(ctx, auth.Credential{ID: id, TenantID: "t", Role: vakt.RoleReader, CreatedAt: time.Now()}, auth.HashToken(tok)); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	// No service: any authenticated call dereferences nil and panics.
	srv := &server.Server{API: &rest.API{Auth: &auth.Authenticator{Store: reg}}, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/api/v1/logs/some-id", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("X-Request-Id", "req-123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || resp.Header.Get("Content-Type") != "application/json" ||
		strings.TrimSpace(string(body)) != `{"code":"internal","message":"internal error"}` {
		t.Fatalf("panic answered %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if !strings.Contains(logs.String(), `"msg":"panic serving request"`) || !strings.Contains(logs.String(), `"request_id":"req-123"`) {
		t.Fatalf("panic not logged with its request id:\n%s", logs.String())
	}
	if r, err := http.Get(ts.URL + "/healthz"); err != nil || r.StatusCode != 200 {
		t.Fatalf("server stopped serving after a panic: %v", err)
	}
}
