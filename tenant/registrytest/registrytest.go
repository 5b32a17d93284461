// Package registrytest is the conformance suite of tenant registries: every driver's Registry
// (tenants with their care providers, system credentials and people's accounts) must pass it
// unchanged.
package registrytest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/auth"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/tenant"
)

// Registry is what a registry driver implements.
type Registry interface {
	tenant.Directory
	auth.CredentialStore
	account.Store
}

// Harness opens registries for the suite. New starts an empty registry for one test and returns
// a function that opens a handle on it; called twice, that function gives two handles on the
// same registry, as a server and the CLI (or two server nodes) have. Handles are closed by the
// harness when the test ends.
type Harness struct {
	New func(t *testing.T) (open func() Registry)
}

// Run runs the suite.
func Run(t *testing.T, h Harness) {
	t.Run("Tenants", func(t *testing.T) { testTenants(t, h.New(t)()) })
	t.Run("Credentials", func(t *testing.T) { testCredentials(t, h.New(t)()) })
	t.Run("OtherHandles", func(t *testing.T) { testOtherHandles(t, h.New(t)) })
	t.Run("Accounts", func(t *testing.T) { testAccounts(t, h.New(t)()) })
	t.Run("AccountsOtherHandles", func(t *testing.T) { testAccountsOtherHandles(t, h.New(t)) })
	t.Run("AccountChanges", func(t *testing.T) { testAccountChanges(t, h.New(t)()) })
	t.Run("AccountChangesOtherHandles", func(t *testing.T) { testAccountChangesOtherHandles(t, h.New(t)) })
}

func code(t *testing.T, err error, want vakt.Code, what string) {
	t.Helper()
	if got := vakt.ErrorCode(err); got != want {
		t.Fatalf("%s: code %q (%v), want %q", what, got, err, want)
	}
}

func testTenants(t *testing.T, r Registry) {
	ctx := context.Background()
	a := tenant.Tenant{ID: "region-b", Name: "Region B", CareProviders: []ident.HSAID{"SE2321000016-0002", "SE2321000016-0001"}, AllowReserveIDs: true,
		CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)}
	if err := r.CreateTenant(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := r.CreateTenant(ctx, tenant.Tenant{ID: "region-a", Name: "Region A", CareProviders: []ident.HSAID{"SE2321000131-0001"}}); err != nil {
		t.Fatal(err)
	}
	got, err := r.Tenant(ctx, "region-b")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != a.ID || got.Name != a.Name || !slices.Equal(got.CareProviders, a.CareProviders) || !got.AllowReserveIDs || !got.CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("got %+v, want %+v (care providers in the order given)", got, a)
	}
	got.CareProviders[0] = "changed"
	if again, _ := r.Tenant(ctx, "region-b"); again.CareProviders[0] != a.CareProviders[0] {
		t.Fatal("changing a returned tenant changed the registry")
	}
	all, err := r.Tenants(ctx)
	if err != nil || len(all) != 2 || all[0].ID != "region-a" || all[1].ID != "region-b" {
		t.Fatalf("Tenants: %v %v, want both ordered by id", all, err)
	}
	if _, err := r.Tenant(ctx, "nobody"); true {
		code(t, err, vakt.CodeNotFound, "unknown tenant")
	}
	code(t, r.CreateTenant(ctx, tenant.Tenant{ID: "region-b", Name: "Again", CareProviders: []ident.HSAID{"SE2321000016-0009"}}), vakt.CodeConflict, "same id")
	code(t, r.CreateTenant(ctx, tenant.Tenant{ID: "region-c", Name: "C", CareProviders: []ident.HSAID{"SE2321000016-0001"}}), vakt.CodeConflict, "a care provider of another tenant")
	if _, err := r.Tenant(ctx, "region-c"); vakt.ErrorCode(err) != vakt.CodeNotFound {
		t.Fatal("a refused tenant was stored in part")
	}
	code(t, r.CreateTenant(ctx, tenant.Tenant{ID: "Bad Id", Name: "x", CareProviders: []ident.HSAID{"SE2321000016-0003"}}), vakt.CodeInvalid, "invalid id")
}

func testCredentials(t *testing.T, r Registry) {
	ctx := context.Background()
	for _, id := range []string{"t1", "t2"} {
		if err := r.CreateTenant(ctx, tenant.Tenant{ID: id, Name: id, CareProviders: []ident.HSAID{ident.HSAID("SE2321000016-" + id)}}); err != nil {
			t.Fatal(err)
		}
	}
	created := time.Date(2026, 5, 6, 7, 8, 9, 10000, time.UTC)
	tok, id := auth.NewToken()
	c := auth.Credential{ID: id, TenantID: "t1", Role: vakt.RoleWriter, Label: "journal system", CreatedAt: created}
	if err := r.CreateCredential(ctx, c, auth.HashToken(tok)); err != nil {
		t.Fatal(err)
	}
	tok2, id2 := auth.NewToken()
	if err := r.CreateCredential(ctx, auth.Credential{ID: id2, TenantID: "t2", Role: vakt.RoleReader}, auth.HashToken(tok2)); err != nil {
		t.Fatal(err)
	}
	got, err := r.CredentialByHash(ctx, auth.HashToken(tok))
	if err != nil || got.ID != id || got.TenantID != "t1" || got.Role != vakt.RoleWriter || got.Label != c.Label || !got.CreatedAt.Equal(created) || !got.RevokedAt.IsZero() {
		t.Fatalf("got %+v %v, want %+v", got, err, c)
	}
	_, err = r.CredentialByHash(ctx, auth.HashToken("vakt_unknown"))
	code(t, err, vakt.CodeNotFound, "unknown token")
	code(t, r.CreateCredential(ctx, auth.Credential{ID: "other", TenantID: "nobody", Role: vakt.RoleReader}, auth.HashToken("vakt_x")), vakt.CodeNotFound, "credential of an unknown tenant")
	code(t, r.CreateCredential(ctx, auth.Credential{ID: id, TenantID: "t1", Role: vakt.RoleReader}, auth.HashToken("vakt_y")), vakt.CodeConflict, "same credential id")
	code(t, r.CreateCredential(ctx, auth.Credential{ID: "x", TenantID: "t1", Role: "admin"}, auth.HashToken("vakt_z")), vakt.CodeInvalid, "unknown role")

	list, err := r.Credentials(ctx, "t1")
	if err != nil || len(list) != 1 || list[0].ID != id {
		t.Fatalf("Credentials(t1): %v %v", list, err)
	}
	if all, err := r.Credentials(ctx, ""); err != nil || len(all) != 2 {
		t.Fatalf("Credentials(all): %v %v", all, err)
	}
	first := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	if err := r.RevokeCredential(ctx, id, first); err != nil {
		t.Fatal(err)
	}
	if err := r.RevokeCredential(ctx, id, first.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.CredentialByHash(ctx, auth.HashToken(tok)); !got.RevokedAt.Equal(first) {
		t.Fatalf("revoked at %v, want the first revocation %v", got.RevokedAt, first)
	}
	code(t, r.RevokeCredential(ctx, "nobody", first), vakt.CodeNotFound, "revoke unknown")
}

// testOtherHandles: what one handle writes, another sees at once: a token the CLI revokes
// stops working on a running server.
func testOtherHandles(t *testing.T, open func() Registry) {
	ctx := context.Background()
	server, cli := open(), open()
	if err := cli.CreateTenant(ctx, tenant.Tenant{ID: "t1", Name: "T", CareProviders: []ident.HSAID{"SE2321000016-0001"}}); err != nil {
		t.Fatal(err)
	}
	tok, id := auth.NewToken()
	if err := cli.CreateCredential(ctx, auth.Credential{ID: id, TenantID: "t1", Role: vakt.RoleWriter}, auth.HashToken(tok)); err != nil {
		t.Fatal(err)
	}
	a := &auth.Authenticator{Store: server}
	for range 3 {
		if _, err := a.Authenticate(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if _, err := server.Tenant(ctx, "t1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := cli.RevokeCredential(ctx, id, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, tok); vakt.ErrorCode(err) != vakt.CodeUnauthorized {
		t.Fatalf("a revoked token still authenticates: %v", err)
	}
	if err := cli.CreateTenant(ctx, tenant.Tenant{ID: "t2", Name: "T2", CareProviders: []ident.HSAID{"SE2321000016-0002"}}); err != nil {
		t.Fatal(err)
	}
	if all, err := server.Tenants(ctx); err != nil || len(all) != 2 {
		t.Fatalf("the other handle's tenant is missing: %v %v", all, err)
	}
}

func testAccounts(t *testing.T, r Registry) {
	ctx := context.Background()
	for _, id := range []string{"t1", "t2"} {
		if err := r.CreateTenant(ctx, tenant.Tenant{ID: id, Name: id, CareProviders: []ident.HSAID{ident.HSAID("SE2321000016-" + id)}}); err != nil {
			t.Fatal(err)
		}
	}
	created := time.Date(2026, 5, 6, 7, 8, 9, 10000, time.UTC)
	anna := account.User{Username: "anna", TenantID: "t1", Name: "Anna Andersson", HSAID: "SE2321000016-1234", Title: "Verksamhetschef",
		Roles: []vakt.Role{vakt.RoleManager, vakt.RoleReviewer}, CareUnits: []ident.HSAID{"SE2321000016-UB", "SE2321000016-UA"},
		MustChange: true, CreatedAt: created}
	if err := r.CreateUser(ctx, anna, "$argon2id$hash-1"); err != nil {
		t.Fatal(err)
	}
	bo := account.User{Username: "bo", TenantID: "t2", HSAID: "SE2321000016-5678", Roles: []vakt.Role{vakt.RoleLogAdmin}}
	if err := r.CreateUser(ctx, bo, "$argon2id$hash-2"); err != nil {
		t.Fatal(err)
	}
	got, hash, err := r.UserByName(ctx, "anna")
	if err != nil {
		t.Fatal(err)
	}
	if hash != "$argon2id$hash-1" || got.Username != anna.Username || got.TenantID != "t1" || got.Name != anna.Name || got.HSAID != anna.HSAID ||
		got.Title != anna.Title || !slices.Equal(got.Roles, anna.Roles) || !slices.Equal(got.CareUnits, anna.CareUnits) ||
		!got.MustChange || !got.CreatedAt.Equal(created) {
		t.Fatalf("got %+v (hash %q), want %+v (roles and units in the order given)", got, hash, anna)
	}
	if got, _, err := r.UserByName(ctx, "bo"); err != nil || len(got.CareUnits) != 0 || got.MustChange || got.CreatedAt.IsZero() {
		t.Fatalf("bo: %+v %v, want no care units, no forced change and a creation time", got, err)
	}
	_, _, err = r.UserByName(ctx, "nobody")
	code(t, err, vakt.CodeNotFound, "unknown account")
	code(t, r.CreateUser(ctx, account.User{Username: "anna", TenantID: "t2", HSAID: "SE2321000016-9", Roles: []vakt.Role{vakt.RoleReviewer}}, "h"),
		vakt.CodeConflict, "username taken in another tenant")
	code(t, r.CreateUser(ctx, account.User{Username: "cecilia", TenantID: "nobody", HSAID: "SE2321000016-9", Roles: []vakt.Role{vakt.RoleReviewer}}, "h"),
		vakt.CodeNotFound, "account of an unknown tenant")
	code(t, r.CreateUser(ctx, account.User{Username: "cecilia", TenantID: "t1", HSAID: "SE2321000016-9", Roles: []vakt.Role{"admin"}}, "h"),
		vakt.CodeInvalid, "unknown role")
	if _, _, err := r.UserByName(ctx, "cecilia"); vakt.ErrorCode(err) != vakt.CodeNotFound {
		t.Fatal("a refused account was stored")
	}
	if list, err := r.Users(ctx, "t1"); err != nil || len(list) != 1 || list[0].Username != "anna" || len(list[0].Roles) != 2 || len(list[0].CareUnits) != 2 {
		t.Fatalf("Users(t1): %+v %v", list, err)
	}
	if all, err := r.Users(ctx, ""); err != nil || len(all) != 2 || all[0].Username != "anna" || all[1].Username != "bo" {
		t.Fatalf("Users(all): %+v %v, want anna and bo ordered by tenant", all, err)
	}
	if err := r.SetPassword(ctx, "anna", "$argon2id$hash-3", false); err != nil {
		t.Fatal(err)
	}
	if got, hash, err := r.UserByName(ctx, "anna"); err != nil || hash != "$argon2id$hash-3" || got.MustChange {
		t.Fatalf("after SetPassword: %+v %q %v", got, hash, err)
	}
	code(t, r.SetPassword(ctx, "nobody", "h", false), vakt.CodeNotFound, "password of an unknown account")
}

// testAccountsOtherHandles: an account the CLI creates can log in on a running server at once,
// and a password changed on one node is the one every node checks.
func testAccountsOtherHandles(t *testing.T, open func() Registry) {
	ctx := context.Background()
	server, cli := open(), open()
	if err := cli.CreateTenant(ctx, tenant.Tenant{ID: "t1", Name: "T", CareProviders: []ident.HSAID{"SE2321000016-0001"}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := server.UserByName(ctx, "anna"); vakt.ErrorCode(err) != vakt.CodeNotFound {
		t.Fatalf("before creation: %v", err)
	}
	params := account.Params{MemoryKiB: 64, Time: 1, Threads: 1}
	u := account.User{Username: "anna", TenantID: "t1", HSAID: "SE2321000016-1234", Roles: []vakt.Role{vakt.RoleReviewer}}
	if err := cli.CreateUser(ctx, u, account.HashPassword("första lösenordet", params)); err != nil {
		t.Fatal(err)
	}
	a := &account.Authenticator{Store: server, Params: params}
	if got, err := a.Login(ctx, "anna", "första lösenordet"); err != nil || got.TenantID != "t1" {
		t.Fatalf("login through the other handle: %+v %v", got, err)
	}
	if err := cli.SetPassword(ctx, "anna", account.HashPassword("andra lösenordet", params), false); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Login(ctx, "anna", "första lösenordet"); vakt.ErrorCode(err) != vakt.CodeUnauthorized {
		t.Fatalf("the old password still works: %v", err)
	}
	if _, err := a.Login(ctx, "anna", "andra lösenordet"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Login(ctx, "nobody", "andra lösenordet"); vakt.ErrorCode(err) != vakt.CodeUnauthorized {
		t.Fatalf("unknown account: %v", err)
	}
}

// testAccountChanges: an account's details, roles and units are replaced whole, it can be
// disabled and enabled and removed; every change stays inside the account's tenant.
func testAccountChanges(t *testing.T, r Registry) {
	ctx := context.Background()
	for _, id := range []string{"t1", "t2"} {
		if err := r.CreateTenant(ctx, tenant.Tenant{ID: id, Name: id, CareProviders: []ident.HSAID{ident.HSAID("SE2321000016-" + id)}}); err != nil {
			t.Fatal(err)
		}
	}
	created := time.Date(2026, 5, 6, 7, 8, 9, 10000, time.UTC)
	anna := account.User{Username: "anna", TenantID: "t1", Name: "Anna", HSAID: "SE2321000016-1234", Title: "Sjuksköterska",
		Roles: []vakt.Role{vakt.RoleReviewer}, CareUnits: []ident.HSAID{"SE2321000016-UA"}, MustChange: true, CreatedAt: created}
	if err := r.CreateUser(ctx, anna, "$argon2id$hash-1"); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := r.UserByName(ctx, "anna"); got.Disabled {
		t.Fatal("a new account is disabled")
	}
	if err := r.CreateUser(ctx, account.User{Username: "norole", TenantID: "t1", HSAID: "SE2321000016-4321"}, "h"); err != nil {
		t.Fatalf("an account without roles: %v", err)
	}
	if err := r.CreateUser(ctx, account.User{Username: "bo", TenantID: "t2", HSAID: "SE2321000016-5678", Roles: []vakt.Role{vakt.RoleLogAdmin}}, "h"); err != nil {
		t.Fatal(err)
	}

	changed := anna.Clone()
	changed.Name, changed.HSAID, changed.Title = "Anna Berg", "SE2321000016-9999", "Verksamhetschef"
	changed.Roles = []vakt.Role{vakt.RoleManager, vakt.RoleLocalAdmin}
	changed.CareUnits = []ident.HSAID{"SE2321000016-UC", "SE2321000016-UB"}
	changed.MustChange, changed.Disabled, changed.CreatedAt = false, true, time.Now() // not changed by UpdateUser
	if err := r.UpdateUser(ctx, changed); err != nil {
		t.Fatal(err)
	}
	got, hash, err := r.UserByName(ctx, "anna")
	if err != nil || hash != "$argon2id$hash-1" || got.Name != "Anna Berg" || got.HSAID != "SE2321000016-9999" || got.Title != "Verksamhetschef" ||
		!slices.Equal(got.Roles, changed.Roles) || !slices.Equal(got.CareUnits, changed.CareUnits) ||
		!got.MustChange || got.Disabled || !got.CreatedAt.Equal(created) {
		t.Fatalf("after UpdateUser: %+v %q %v", got, hash, err)
	}
	none := got.Clone()
	none.Roles, none.CareUnits = nil, nil
	if err := r.UpdateUser(ctx, none); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := r.UserByName(ctx, "anna"); len(got.Roles) != 0 || len(got.CareUnits) != 0 {
		t.Fatalf("roles and units not emptied: %+v", got)
	}
	code(t, r.UpdateUser(ctx, account.User{Username: "nobody", TenantID: "t1", HSAID: "SE2321000016-1"}), vakt.CodeNotFound, "update unknown")
	foreign := anna.Clone()
	foreign.TenantID = "t2"
	code(t, r.UpdateUser(ctx, foreign), vakt.CodeNotFound, "update through another tenant")
	bad := anna.Clone()
	bad.Roles = []vakt.Role{vakt.RoleReviewer, "admin"}
	code(t, r.UpdateUser(ctx, bad), vakt.CodeInvalid, "update with an unknown role")
	bad = anna.Clone()
	bad.CareUnits = []ident.HSAID{"SE2321000016-UA", "SE2321000016-UA"}
	code(t, r.UpdateUser(ctx, bad), vakt.CodeInvalid, "update with a unit twice")
	if got, _, _ := r.UserByName(ctx, "anna"); got.Name != "Anna Berg" || len(got.Roles) != 0 {
		t.Fatalf("a refused update changed the account: %+v", got)
	}

	if err := r.SetDisabled(ctx, "t1", "anna", true); err != nil {
		t.Fatal(err)
	}
	if err := r.SetDisabled(ctx, "t1", "anna", true); err != nil {
		t.Fatalf("disabling twice: %v", err)
	}
	if got, _, _ := r.UserByName(ctx, "anna"); !got.Disabled {
		t.Fatal("not disabled")
	}
	if list, _ := r.Users(ctx, "t1"); len(list) != 2 || !list[0].Disabled || list[1].Disabled {
		t.Fatalf("Users does not show the disabled state: %+v", list)
	}
	code(t, r.SetDisabled(ctx, "t2", "anna", false), vakt.CodeNotFound, "enable through another tenant")
	code(t, r.SetDisabled(ctx, "t1", "nobody", true), vakt.CodeNotFound, "disable unknown")
	if got, _, _ := r.UserByName(ctx, "anna"); !got.Disabled {
		t.Fatal("another tenant enabled the account")
	}
	if err := r.SetDisabled(ctx, "t1", "anna", false); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := r.UserByName(ctx, "anna"); got.Disabled {
		t.Fatal("not enabled")
	}

	code(t, r.DeleteUser(ctx, "t2", "anna"), vakt.CodeNotFound, "remove through another tenant")
	if _, _, err := r.UserByName(ctx, "anna"); err != nil {
		t.Fatalf("another tenant removed the account: %v", err)
	}
	if err := r.DeleteUser(ctx, "t1", "anna"); err != nil {
		t.Fatal(err)
	}
	_, _, err = r.UserByName(ctx, "anna")
	code(t, err, vakt.CodeNotFound, "removed account")
	code(t, r.DeleteUser(ctx, "t1", "anna"), vakt.CodeNotFound, "remove twice")
	if list, _ := r.Users(ctx, ""); len(list) != 2 || list[0].Username != "norole" || list[1].Username != "bo" {
		t.Fatalf("after removal: %+v", list)
	}
	// The username is free again, and the new account has none of the old one's roles or units.
	if err := r.CreateUser(ctx, account.User{Username: "anna", TenantID: "t2", HSAID: "SE2321000016-7777"}, "h"); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := r.UserByName(ctx, "anna"); got.TenantID != "t2" || len(got.Roles) != 0 || len(got.CareUnits) != 0 {
		t.Fatalf("the username's new account: %+v", got)
	}
}

// testAccountChangesOtherHandles: an account disabled, changed or removed through one handle
// (the CLI, another node) cannot log in through another at once.
func testAccountChangesOtherHandles(t *testing.T, open func() Registry) {
	ctx := context.Background()
	server, cli := open(), open()
	if err := cli.CreateTenant(ctx, tenant.Tenant{ID: "t1", Name: "T", CareProviders: []ident.HSAID{"SE2321000016-0001"}}); err != nil {
		t.Fatal(err)
	}
	params := account.Params{MemoryKiB: 64, Time: 1, Threads: 1}
	u := account.User{Username: "anna", TenantID: "t1", HSAID: "SE2321000016-1234", Roles: []vakt.Role{vakt.RoleReviewer}}
	if err := cli.CreateUser(ctx, u, account.HashPassword("ett lösenord att minnas", params)); err != nil {
		t.Fatal(err)
	}
	a := &account.Authenticator{Store: server, Params: params}
	if _, err := a.Login(ctx, "anna", "ett lösenord att minnas"); err != nil {
		t.Fatal(err)
	}
	if err := cli.SetDisabled(ctx, "t1", "anna", true); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Login(ctx, "anna", "ett lösenord att minnas"); vakt.ErrorCode(err) != vakt.CodeUnauthorized {
		t.Fatalf("a disabled account logs in: %v", err)
	}
	if err := cli.SetDisabled(ctx, "t1", "anna", false); err != nil {
		t.Fatal(err)
	}
	u.Roles = []vakt.Role{vakt.RoleManager}
	if err := cli.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Login(ctx, "anna", "ett lösenord att minnas"); err != nil || !slices.Equal(got.Roles, u.Roles) {
		t.Fatalf("after enabling and changing roles: %+v %v", got, err)
	}
	if err := cli.DeleteUser(ctx, "t1", "anna"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Login(ctx, "anna", "ett lösenord att minnas"); vakt.ErrorCode(err) != vakt.CodeUnauthorized {
		t.Fatalf("a removed account logs in: %v", err)
	}
}
