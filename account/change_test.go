package account_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/ident"
)

func TestChangeRecord(t *testing.T) {
	before := account.User{Username: "anna", TenantID: "t1", Name: "Anna; x=y", HSAID: "SE2321000016-1234",
		Roles: []vakt.Role{vakt.RoleReviewer}, CareUnits: []ident.HSAID{"SE2321000016-UA"}}
	after := before.Clone()
	after.Roles = append(after.Roles, vakt.RolePermissionAdmin)
	after.Name = "Anna Berg"
	cases := []struct {
		name   string
		c      account.Change
		by     string
		check  func(r account.ChangeRecord) bool
		self   bool
		inArgs string
	}{
		{"self grant", account.Change{Action: account.ActionRoles, Before: before, After: after}, "anna",
			func(r account.ChangeRecord) bool {
				return slices.Equal(r.RolesBefore, before.Roles) && slices.Equal(r.RolesAfter, after.Roles) && slices.Equal(r.Changed, []string{"name", "roles"})
			}, true, "rolesAfter=granskare,behorighetsadministrator"},
		{"grant to another", account.Change{Action: account.ActionRoles, Before: before, After: after}, "bo",
			func(r account.ChangeRecord) bool { return r.By == "bo" && r.Account == "anna" }, false, "by=bo; account=anna"},
		{"self revoke", account.Change{Action: account.ActionRoles, Before: after, After: before}, "anna",
			func(r account.ChangeRecord) bool { return len(r.RolesAfter) == 1 }, false, "rolesBefore=granskare,behorighetsadministrator"},
		{"create", account.Change{Action: account.ActionCreate, After: after}, "bo",
			func(r account.ChangeRecord) bool {
				return r.RolesBefore == nil && len(r.RolesAfter) == 2 && r.HSAID == after.HSAID && r.Changed == nil
			}, false, "action=create"},
		{"remove", account.Change{Action: account.ActionRemove, Before: before}, "bo",
			func(r account.ChangeRecord) bool { return r.RolesAfter == nil && r.HSAID == before.HSAID }, false, "action=remove"},
		{"disable", account.Change{Action: account.ActionDisable, Before: before, After: func() account.User { u := before.Clone(); u.Disabled = true; return u }()}, "bo",
			func(r account.ChangeRecord) bool {
				return r.DisabledAfter && slices.Equal(r.Changed, []string{"disabled"})
			}, false, "disabled=true"},
		{"new HSA-id", account.Change{Action: account.ActionUpdate, Before: before, After: func() account.User { u := before.Clone(); u.HSAID = "SE2321000016-9"; return u }()}, "bo",
			func(r account.ChangeRecord) bool { return r.HSAIDBefore == before.HSAID && r.HSAID == "SE2321000016-9" }, false, "hsaIdBefore=SE2321000016-1234"},
		{"reset", account.Change{Action: account.ActionResetPassword, Before: before, After: before}, "bo",
			func(r account.ChangeRecord) bool { return slices.Equal(r.Changed, []string{"password"}) }, false, "changed=password"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := c.c.Record(c.by)
			args := rec.Args()
			if !strings.HasPrefix(args, "Kontoadministration; ") || !strings.Contains(args, c.inArgs) || strings.Contains(args, "Anna") {
				t.Fatalf("args %q (names and titles are never recorded)", args)
			}
			got, err := account.ParseChangeArgs(args)
			if err != nil {
				t.Fatal(err)
			}
			if !c.check(got) || got.SelfGrant() != c.self || got.Action != c.c.Action {
				t.Fatalf("record %+v (self grant %v)", got, got.SelfGrant())
			}
		})
	}
	for _, bad := range []string{
		"", "Kontoadministration", "Logguppföljning; action=create",
		"Kontoadministration; action=explode; by=a; account=b; hsaId=SE2321000016-1; rolesBefore=; rolesAfter=; careUnitsBefore=; careUnitsAfter=; changed=; disabled=false",
		"Kontoadministration; action=create; by=a; account=b; hsaId=SE2321000016-1; rolesBefore=; rolesAfter=admin; careUnitsBefore=; careUnitsAfter=; changed=; disabled=false",
		"Kontoadministration; action=create; by=a; account=b; hsaId=SE2321000016-1; rolesBefore=; rolesAfter=; careUnitsBefore=; careUnitsAfter=; changed=; disabled=false; by=c",
		"Kontoadministration; action=create; by=a; account=b; hsaId=SE2321000016-1; rolesBefore=; rolesAfter=; careUnitsBefore=; careUnitsAfter=; changed=",
		"Kontoadministration; action=create; by=A; account=b; hsaId=SE2321000016-1; rolesBefore=; rolesAfter=; careUnitsBefore=; careUnitsAfter=; changed=; disabled=false",
	} {
		if _, err := account.ParseChangeArgs(bad); vakt.ErrorCode(err) != vakt.CodeInvalid {
			t.Errorf("%q: %v, want CodeInvalid", bad, err)
		}
	}
}

// FuzzParseChangeArgs: ParseChangeArgs never panics, and what it accepts it writes back as the
// same record.
func FuzzParseChangeArgs(f *testing.F) {
	u := account.User{Username: "anna", HSAID: "SE2321000016-1234", Roles: []vakt.Role{vakt.RoleReviewer}, CareUnits: []ident.HSAID{"SE2321000016-UA"}}
	v := u.Clone()
	v.Roles = nil
	for _, c := range []account.Change{
		{Action: account.ActionRoles, Before: u, After: v},
		{Action: account.ActionCreate, After: u},
		{Action: account.ActionRemove, Before: v},
	} {
		r := c.Record("bo")
		f.Add(r.Args())
	}
	f.Add("Kontoadministration; action=create; by=a")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := account.ParseChangeArgs(s)
		if err != nil {
			return
		}
		again, err := account.ParseChangeArgs(r.Args())
		if err != nil {
			t.Fatalf("accepted %q but not its own rewrite %q: %v", s, r.Args(), err)
		}
		if again.Args() != r.Args() {
			t.Fatalf("rewrite differs: %q, %q", again.Args(), r.Args())
		}
	})
}

// TestOperatorRecord: a change by an operator on the command line is recorded as "cli:NAME",
// read back as an operator, and never taken for an account.
func TestOperatorRecord(t *testing.T) {
	p, err := account.Operator("ops", "region", "SE2321000016-0001")
	if err != nil {
		t.Fatal(err)
	}
	c := account.Change{Action: account.ActionDisable, Before: account.User{Username: "anna", HSAID: "SE2321000016-1234", Roles: []vakt.Role{vakt.RoleReviewer}}}
	c.After = c.Before.Clone()
	c.After.Disabled = true
	rec := c.Record(p.ID)
	args := rec.Args()
	got, err := account.ParseChangeArgs(args)
	if err != nil || got.By != "cli:ops" || !account.IsOperator(got.By) || got.SelfGrant() {
		t.Fatalf("%q: %+v %v", args, got, err)
	}
	for _, bad := range []string{"Root!", "", "-x", "a:b"} {
		if _, err := account.Operator(bad, "region", "SE2321000016-0001"); err == nil {
			t.Errorf("operator %q accepted", bad)
		}
	}
	if account.IsOperator("anna") || account.IsOperator("cli:") || account.IsOperator("cli:A B") {
		t.Fatal("IsOperator accepts what is no operator")
	}
	if _, err := account.ParseChangeArgs(strings.Replace(args, "by=cli:ops", "by=cli:Ops;", 1)); err == nil {
		t.Fatal("a malformed operator was read back")
	}
}
