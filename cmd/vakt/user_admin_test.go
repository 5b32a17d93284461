package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/merkle"
	"github.com/vakt/vakt/postgres"
	"github.com/vakt/vakt/postgres/pgtest"
	"github.com/vakt/vakt/sqlite"
)

// TestUserAdmin: the operator's account commands on the embedded engine, each recorded in the
// tenant's log as made by "cli:" and the operator, refused while vakt serve holds the data
// directory.
func TestUserAdmin(t *testing.T) {
	data := t.TempDir()
	where := []string{"--data", data}
	testUserAdmin(t, where, func(fn func(*accesslog.Stored) error) {
		r, err := sqlite.OpenReader(context.Background(), sqlite.TenantPath(tenantDir(data), "region-exempel"))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if err := r.Scan(context.Background(), func(s *accesslog.Stored, _ merkle.Hash) error { return fn(s) }); err != nil {
			t.Fatal(err)
		}
	})
	unlock, err := lockData(data)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	var out, errOut bytes.Buffer
	err = run(context.Background(), []string{"user", "disable", "anna", "--operator", "ops", "--data", data}, strings.NewReader(""), &out, &errOut)
	if !errors.Is(err, errDataInUse) {
		t.Fatalf("a change while vakt serve holds the data directory: %v", err)
	}
}

// TestUserAdminPostgres: the same on PostgreSQL, where servers may run meanwhile.
func TestUserAdminPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	where := append([]string{"--data", t.TempDir(), "--postgres", dsn}, pgSigning...)
	testUserAdmin(t, where, func(fn func(*accesslog.Stored) error) {
		ctx := context.Background()
		stores, err := postgres.OpenStores(ctx, dsn, postgres.Signing{Instance: pgSigning[1], Secret: []byte("the signing secret of the test instance, 32+ bytes")}, postgres.LogOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer stores.Close()
		sn, err := stores.Snapshot(ctx, "region-exempel")
		if err != nil {
			t.Fatal(err)
		}
		defer sn.Close(ctx)
		if err := sn.Scan(ctx, func(s *accesslog.Stored, _ merkle.Hash) error { return fn(s) }); err != nil {
			t.Fatal(err)
		}
	})
}

func testUserAdmin(t *testing.T, where []string, scan func(func(*accesslog.Stored) error)) {
	ctx := context.Background()
	at := func(args ...string) []string { return append(args, where...) }
	regOnly := where[:2]
	if len(where) > 2 {
		regOnly = where[:4]
	}
	cli(t, "", append([]string{"tenant", "create", "region-exempel", "--name", "Region Exempel", "--care-provider", "SE2321000016-0001"}, regOnly...)...)
	cli(t, "", append([]string{"user", "create", "admin", "--tenant", "region-exempel", "--role", "lokal_administrator", "--role", "behorighetsadministrator", "--generate-password"}, regOnly...)...)
	for _, u := range []string{"anna", "bo"} {
		cli(t, "ett långt lösenord\n", append([]string{"user", "create", u, "--tenant", "region-exempel", "--role", "granskare"}, regOnly...)...)
	}
	dsn := ""
	if len(where) > 2 {
		dsn = where[3]
	}
	reg, err := openRegistry(ctx, where[1], dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	auth := &account.Authenticator{Store: reg}

	cli(t, "", at("user", "disable", "anna", "--operator", "ops")...)
	if _, err := auth.Login(ctx, "anna", "ett långt lösenord"); err == nil {
		t.Fatal("a disabled account logs in")
	}
	cli(t, "", at("user", "enable", "anna", "--operator", "ops")...)
	if _, err := auth.Login(ctx, "anna", "ett långt lösenord"); err != nil {
		t.Fatalf("an enabled account: %v", err)
	}
	cli(t, "ett nytt långt lösenord\n", at("user", "password", "anna", "--operator", "ops")...)
	if u, err := auth.Login(ctx, "anna", "ett nytt långt lösenord"); err != nil || u.MustChange {
		t.Fatalf("password from standard input: %+v %v", u, err)
	}
	pw := strings.TrimSpace(cli(t, "", at("user", "password", "anna", "--generate-password", "--operator", "ops")...))
	if u, err := auth.Login(ctx, "anna", pw); err != nil || !u.MustChange {
		t.Fatalf("generated password: %+v %v", u, err)
	}
	cli(t, "", at("user", "roles", "anna", "--grant", "chef", "--revoke", "granskare", "--care-unit", "SE2321000016-7P5P", "--operator", "ops")...)
	if u, _, err := reg.UserByName(ctx, "anna"); err != nil || len(u.Roles) != 1 || u.Roles[0] != vakt.RoleManager ||
		len(u.CareUnits) != 1 || u.CareUnits[0] != "SE2321000016-7P5P" {
		t.Fatalf("after roles: %+v %v", u, err)
	}
	cli(t, "", at("user", "remove", "bo", "--operator", "ops")...)
	if _, _, err := reg.UserByName(ctx, "bo"); vakt.ErrorCode(err) != vakt.CodeNotFound {
		t.Fatalf("a removed account: %v", err)
	}

	// Refused, and nothing changed or recorded.
	var out, errOut bytes.Buffer
	for _, bad := range [][]string{
		at("user", "roles", "admin", "--role", "granskare", "--operator", "ops"), // the last administrator
		at("user", "disable", "admin", "--operator", "ops"),
		at("user", "remove", "admin", "--operator", "ops"),
		at("user", "disable", "nobody", "--operator", "ops"),
		at("user", "roles", "anna", "--grant", "admin", "--operator", "ops"),
		at("user", "roles", "anna", "--role", "chef", "--grant", "granskare", "--operator", "ops"),
		at("user", "roles", "anna", "--operator", "ops"),
		at("user", "disable", "anna", "--operator", "Root!"),
		at("user", "password", "anna", "--operator", "ops"), // too short a password
	} {
		if err := run(ctx, bad, strings.NewReader("kort\n"), &out, &errOut); err == nil {
			t.Errorf("vakt %v succeeded", bad)
		}
	}
	if strings.Contains(errOut.String(), "kort") {
		t.Fatal("an error repeated the password")
	}
	if u, _, _ := reg.UserByName(ctx, "admin"); u.Disabled || len(u.Roles) != 2 {
		t.Fatalf("a refused change changed the administrator: %+v", u)
	}

	// The log holds each change, made by the operator.
	var actions []account.Action
	scan(func(s *accesslog.Stored) error {
		e, err := s.Entry()
		if err != nil {
			return err
		}
		if e.Activity.Level != accesslog.AccountChangeLevel {
			return nil
		}
		rec, err := account.ParseChangeArgs(e.Activity.Args)
		if err != nil {
			t.Errorf("record %q: %v", e.Activity.Args, err)
			return nil
		}
		if rec.By != "cli:ops" || !account.IsOperator(rec.By) || e.User.ID != "SE2321000016-0001" || !strings.Contains(e.User.Name, "ops") {
			t.Errorf("a change recorded as by %q, user %s %q", rec.By, e.User.ID, e.User.Name)
		}
		actions = append(actions, rec.Action)
		return nil
	})
	want := []account.Action{account.ActionDisable, account.ActionEnable, account.ActionResetPassword, account.ActionResetPassword,
		account.ActionUpdate, account.ActionRoles, account.ActionRemove}
	if len(actions) != len(want) {
		t.Fatalf("recorded %v, want %v", actions, want)
	}
	for i := range want {
		if actions[i] != want[i] {
			t.Fatalf("recorded %v, want %v", actions, want)
		}
	}
}
