package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/auth"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/tenant"
)

// TestRegistryCacheSeesOtherWriters: lookups are cached, yet a credential revoked or a tenant
// changed through another handle on the file (the CLI, while the server runs) shows at once.
func TestRegistryCacheSeesOtherWriters(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "registry.db")
	server, err := OpenRegistry(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	cli, err := OpenRegistry(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()

	if err := cli.CreateTenant(ctx, tenant.Tenant{ID: "t1", Name: "T", CareProviders: []ident.HSAID{"SE2321000016-0001"}}); err != nil {
		t.Fatal(err)
	}
	tok, id := auth.NewToken()
	if err := cli.CreateCredential(ctx, auth.Credential{ID: id, TenantID: "t1", Role: vakt.RoleWriter}, auth.HashToken(tok)); err != nil {
		t.Fatal(err)
	}
	a := &auth.Authenticator{Store: server}
	for range 3 { // the second and third come from the cache
		if _, err := a.Authenticate(ctx, tok); err != nil {
			t.Fatal(err)
		}
		tn, err := server.Tenant(ctx, "t1")
		if err != nil || len(tn.CareProviders) != 1 {
			t.Fatal(tn, err)
		}
		tn.CareProviders[0] = "changed" // the caller's copy, not the cache's
	}
	if tn, _ := server.Tenant(ctx, "t1"); tn.CareProviders[0] != "SE2321000016-0001" {
		t.Fatal("a caller changed the cached tenant")
	}
	if err := cli.RevokeCredential(ctx, id, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, tok); vakt.ErrorCode(err) != vakt.CodeUnauthorized {
		t.Fatalf("a revoked token still authenticates: %v", err)
	}
}
