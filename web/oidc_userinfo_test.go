package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/vakt/vakt/internal/oidctest"
	"github.com/vakt/vakt/oidc"
)

// userinfoPerson is a person whose ID token carries only name and title: the HSA-id and the
// roles come from the provider's userinfo endpoint alone.
func userinfoPerson(roles ...any) oidctest.Person {
	return oidctest.Person{Subject: "sub-" + personHSA,
		Claims:       map[string]any{"name": "Greta Granskare", "title": "Sjuksköterska"},
		UserinfoOnly: map[string]any{"employeeHsaId": personHSA, "vakt_roles": roles}}
}

// TestOIDCUserinfo: claims missing from the ID token are read from userinfo (by default, when
// the HSA-id or roles are missing), the ID token's claims win over userinfo's, a userinfo
// answer about another subject refuses the login, and with userinfo off the login is refused
// for the missing claims.
func TestOIDCUserinfo(t *testing.T) {
	o := newOIDCEnv(t, nil)
	b, r := o.loginAs(userinfoPerson("granskare@" + tenantA))
	if r.status != http.StatusOK || movesOn(r) != "/logguppfoljning/invanare" {
		t.Fatalf("login with the roles in userinfo: %d\n%s", r.status, r.body)
	}
	if page := b.get(movesOn(r)); page.status != http.StatusOK || !strings.Contains(page.body, "Greta Granskare") {
		t.Fatalf("search page: %d", page.status)
	}
	if page := b.get("/konton"); page.status != http.StatusForbidden {
		t.Fatalf("a reviewer from userinfo sees the accounts: %d", page.status)
	}

	other := userinfoPerson("granskare@" + tenantA)
	other.UserinfoSubject = "sub-someone-else"
	if _, r := o.loginAs(other); r.status != http.StatusUnauthorized {
		t.Fatalf("userinfo about another subject: %d\n%s", r.status, r.body)
	}

	// Always read, the ID token still wins: its roles stand, userinfo's wider ones do not.
	always := newOIDCEnvMode(t, oidc.UserinfoAlways, nil)
	p := person("granskare@" + tenantA)
	p.UserinfoOnly = map[string]any{"vakt_roles": []any{"lokal_administrator@" + tenantA}, "employeeHsaId": "SE2321000016-XXXX"}
	b, r = always.loginAs(p)
	if r.status != http.StatusOK {
		t.Fatalf("login with userinfo always: %d\n%s", r.status, r.body)
	}
	b.get(movesOn(r))
	if page := b.get("/konton"); page.status != http.StatusForbidden {
		t.Fatalf("userinfo's roles overrode the ID token's: /konton %d", page.status)
	}

	never := newOIDCEnvMode(t, oidc.UserinfoNever, nil)
	if _, r := never.loginAs(userinfoPerson("granskare@" + tenantA)); r.status != http.StatusForbidden || !strings.Contains(r.body, "inget HSA-id") && !strings.Contains(r.body, "ingen roll") {
		t.Fatalf("userinfo off, claims missing: %d\n%s", r.status, r.body)
	}
}
