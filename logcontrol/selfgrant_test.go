package logcontrol

import (
	"strings"
	"testing"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/ident"
)

func changeEntry(args string) *accesslog.Entry {
	return &accesslog.Entry{LogID: "l1", System: accesslog.System{ID: "SE2321000016-VAKT"},
		Activity: accesslog.Activity{Level: accesslog.AccountChangeLevel, Args: args, StartDate: time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC)},
		User:     accesslog.User{ID: "SE2321000016-ADM"}}
}

func TestSelfGrant(t *testing.T) {
	rec := func(by, acct string, before, after []vakt.Role) string {
		c := account.Change{Action: account.ActionRoles,
			Before: account.User{Username: acct, HSAID: "SE2321000016-ADM", Roles: before},
			After:  account.User{Username: acct, HSAID: "SE2321000016-ADM", Roles: after}}
		r := c.Record(by)
		return r.Args()
	}
	admin := []vakt.Role{vakt.RoleLocalAdmin}
	more := []vakt.Role{vakt.RoleLocalAdmin, vakt.RoleLogAdmin}
	for _, c := range []struct {
		name, system, args, reason string
	}{
		{"self-grant", "SE2321000016-VAKT", rec("ada", "ada", admin, more), "Administratören gav sitt eget konto (ada, SE2321000016-ADM) rollen loggadministratör"},
		{"numeric username is not shown", "", rec("191212121212", "191212121212", admin, more), "Administratören gav sitt eget konto (SE2321000016-ADM) rollen loggadministratör"},
		{"grant to another", "", rec("ada", "bo", admin, more), ""},
		{"self-revoke", "", rec("ada", "ada", more, admin), ""},
		{"another system's entry", "SE2321000016-OTHER", rec("ada", "ada", admin, more), ""},
		{"not a change record", "", "Kontoadministration; action=roles", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, ok := selfGrant(changeEntry(c.args), ident.HSAID(c.system))
			if ok != (c.reason != "") || f.Reason != c.reason {
				t.Errorf("got %v %q, want %q", ok, f.Reason, c.reason)
			}
			if strings.Contains(f.Reason, "191212121212") {
				t.Error("reason shows a personnummer-like username")
			}
		})
	}
}
