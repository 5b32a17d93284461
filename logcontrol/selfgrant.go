package logcontrol

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/ident"
)

// selfGrant returns the KindSelfGrantedRole flag of e when e is vakt's record of an account
// change (level Kontoadministration, from system when it is set) in which the administrator
// gave their own account a role it did not hold (account.ChangeRecord.SelfGrant).
//
// Only the change entry is flagged, not the person's later entries: the roles are vakt's own
// (granskare, chef, administrators), so what they open is vakt's log, and every read a person
// makes there is itself an entry under their HSA-id that the reviewer finds by following the
// flag's userId; care accesses in the journal systems do not depend on these roles at all, so
// flagging them would accuse the wrong thing.
func selfGrant(e *accesslog.Entry, system ident.HSAID) (Flag, bool) {
	if e.Activity.Level != accesslog.AccountChangeLevel || (system != "" && e.System.ID != system) {
		return Flag{}, false
	}
	rec, err := account.ParseChangeArgs(e.Activity.Args)
	if err != nil || !rec.SelfGrant() {
		return Flag{}, false
	}
	var added []string
	for _, r := range rec.RolesAfter {
		if !slices.Contains(rec.RolesBefore, r) {
			added = append(added, roleName(r))
		}
	}
	role := "rollen " + added[0]
	if len(added) > 1 {
		role = "rollerna " + strings.Join(added[:len(added)-1], ", ") + " och " + added[len(added)-1]
	}
	acct := string(rec.HSAID)
	if !hasDigitRun(rec.Account, 6) {
		// A username made of digits could be a personnummer; the HSA-id alone names the account.
		acct = rec.Account + ", " + acct
	}
	return Flag{
		LogID: e.LogID, Kind: KindSelfGrantedRole, StartDate: e.Activity.StartDate, UserID: e.User.ID, CareUnitID: e.User.CareUnit.ID,
		Reason:       fmt.Sprintf("Administratören gav sitt eget konto (%s) %s", acct, role),
		Explanations: []Explanation{},
	}, true
}

// roleName is a role as the Swedish UI names it.
func roleName(r vakt.Role) string {
	switch r {
	case vakt.RoleReviewer:
		return "granskare"
	case vakt.RoleManager:
		return "chef"
	case vakt.RoleLogAdmin:
		return "loggadministratör"
	case vakt.RoleLocalAdmin:
		return "lokal administratör"
	case vakt.RolePermissionAdmin:
		return "behörighetsadministratör"
	}
	return string(r)
}

func hasDigitRun(s string, n int) bool {
	run := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			run++
			if run >= n {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}
