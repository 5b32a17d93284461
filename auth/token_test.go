package auth_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/auth"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/sqlite"
	"github.com/vakt/vakt/tenant"
)

func TestNewToken(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok, id := auth.NewToken()
		if !strings.HasPrefix(tok, auth.TokenPrefix) || len(tok) != len(auth.TokenPrefix)+43 || !strings.HasPrefix(id, "tok-") {
			t.Fatalf("token %q id %q have the wrong shape", tok, id)
		}
		if seen[tok] || seen[id] {
			t.Fatal("NewToken repeated itself")
		}
		seen[tok], seen[id] = true, true
		if h := auth.HashToken(tok); len(h) != 32 || string(h) == tok {
			t.Fatal("HashToken is not a SHA-256")
		}
	}
}

// TestAuthenticate runs the authenticator against the real credential store.
func TestAuthenticate(t *testing.T) {
	ctx := context.Background()
	reg, err := sqlite.OpenRegistry(ctx, filepath.Join(t.TempDir(), "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	if err := reg.CreateTenant(ctx, tenant.Tenant{ID: "t1", Name: "T1", CareProviders: []ident.HSAID{"SE2321000016-0001"}}); err != nil {
		t.Fatal(err)
	}
	a := &auth.Authenticator{Store: reg}
	tok, id := auth.NewToken()
	if err := reg.CreateCredential(ctx, auth.Credential{ID: id, TenantID: "t1", Role: vakt.RoleReader, CreatedAt: time.Now()}, auth.HashToken(tok)); err != nil {
		t.Fatal(err)
	}
	p, err := a.Authenticate(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if p.TenantID != "t1" || p.ID != id || !p.Has(vakt.RoleReader) || p.Has(vakt.RoleWriter) || p.Kind != vakt.PrincipalSystem {
		t.Fatalf("principal %+v", p)
	}
	other, _ := auth.NewToken()
	for name, bad := range map[string]string{
		"unknown":   other,
		"no prefix": strings.TrimPrefix(tok, auth.TokenPrefix),
		"too long":  tok + strings.Repeat("x", 200),
		"empty":     "",
	} {
		if _, err := a.Authenticate(ctx, bad); vakt.ErrorCode(err) != vakt.CodeUnauthorized {
			t.Errorf("%s token: err = %v, want unauthorized", name, err)
		}
	}
	if err := reg.RevokeCredential(ctx, id, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, tok); vakt.ErrorCode(err) != vakt.CodeUnauthorized {
		t.Fatalf("revoked token: err = %v, want unauthorized", err)
	}
	if err := reg.CreateCredential(ctx, auth.Credential{ID: "tok-x", TenantID: "nope", Role: vakt.RoleReader}, auth.HashToken(other)); vakt.ErrorCode(err) != vakt.CodeNotFound {
		t.Fatalf("credential for a missing tenant: err = %v, want not found", err)
	}
}
