package account

import (
	"slices"

	"github.com/vakt/vakt"
)

// Permission is something a person may be allowed to do in the web tool. Each route checks one.
type Permission string

// Permissions of people. docs/UI.md shows the same table for readers.
const (
	// FollowUp: search the tenant's log by patient (Invånare) or staff member (Vårdpersonal),
	// open an entry and check its integrity.
	FollowUp Permission = "follow_up"
	// Export: download a search result as CSV, XLSX or PDF.
	Export Permission = "export"
	// ViewAccounts: list the tenant's accounts with their roles and care units (who may see
	// what), for the review of permissions (behörighetslista).
	ViewAccounts Permission = "view_accounts"
	// ManageAccounts: create accounts, change their name, HSA-id, title and care units, disable
	// and enable them, give them a new one-time password and remove them (lokal administratör).
	ManageAccounts Permission = "manage_accounts"
	// GrantRoles: give accounts roles and take them away (behörighetsadministratör), within
	// the roles Grantable names.
	GrantRoles Permission = "grant_roles"
	// Controls: run log controls (loggkontroller) — draw the monthly sample of a unit's
	// accesses, assess each access, close the control with findings — and read the control
	// register.
	Controls Permission = "controls"
	// ControlOverview: see the monthly overview of which care units have done their sample
	// (chef: the manager answers for controls being done every month; reviewers to plan them).
	// It shows the control register only, no log data.
	ControlOverview Permission = "control_overview"
	// ReviewPermissions: read a care unit's permission list (behörighetslista) with each
	// holder's last activity at the unit, and mark holders for removal. The region's instruction
	// gives the review to the chef and the delegated granskare; the administrators who keep
	// accounts and roles need the list to act on the marks.
	ReviewPermissions Permission = "review_permissions"
	// EditWatchlist: see and change the watch list (bevakningslista) of patients of media
	// interest, whose every access is flagged. Those who run or answer for the controls keep it.
	EditWatchlist Permission = "edit_watchlist"
)

// Permissions returns every permission, in the order docs list them.
func Permissions() []Permission {
	return []Permission{FollowUp, Export, Controls, ViewAccounts, ManageAccounts, GrantRoles, ControlOverview, ReviewPermissions, EditWatchlist}
}

// matrix is the one place that decides what each role may do. Log follow-up is the work of
// reviewers, managers and log administrators (HSLF-FS 2016:40 4 kap. 9 §: systematic and
// recurring controls); the administrators of accounts and permissions see who may do what but
// not the log itself, so that granting access and reading patients' logs stay with different
// people.
//
// Between the two administrators the work is split the same way: the lokal_administrator keeps
// the accounts (who exists, where they work, whether they may log in) and the
// behorighetsadministrator decides what they may do (roles). So no single role can both create a
// person and give that person access to the log (HSLF-FS 2016:40 4 kap. 2 §: access is assigned
// after a decision about each user's need); a tenant that wants one person to do both gives that
// person both roles, which the account list then shows.
var matrix = map[vakt.Role][]Permission{
	vakt.RoleReviewer:        {FollowUp, Export, Controls, ControlOverview, ReviewPermissions, EditWatchlist},
	vakt.RoleManager:         {FollowUp, Export, ControlOverview, ReviewPermissions, EditWatchlist},
	vakt.RoleLogAdmin:        {FollowUp, Export, Controls, ControlOverview, ReviewPermissions, EditWatchlist},
	vakt.RoleLocalAdmin:      {ViewAccounts, ManageAccounts, ReviewPermissions},
	vakt.RolePermissionAdmin: {ViewAccounts, GrantRoles, ReviewPermissions},
}

// grants says which roles a holder of each role may give or take away. Only the
// behorighetsadministrator grants, and every person role, its own included, so that a tenant
// can name a successor; a grant to oneself is allowed but recorded like every change, and the
// log control for administrators who granted themselves roles finds it.
var grants = map[vakt.Role][]vakt.Role{
	vakt.RolePermissionAdmin: vakt.PersonRoles(),
}

// Grantable returns the roles p may give to an account or take from it, in vakt.PersonRoles
// order; none for a system or nobody.
func Grantable(p *vakt.Principal) []vakt.Role {
	if p == nil || p.Kind != vakt.PrincipalPerson {
		return nil
	}
	var out []vakt.Role
	for _, r := range vakt.PersonRoles() {
		for _, held := range p.Roles {
			if slices.Contains(grants[held], r) {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// Allowed reports whether principal p may do perm. Only people hold these permissions; a
// system's token never does.
func Allowed(p *vakt.Principal, perm Permission) bool {
	if p == nil || p.Kind != vakt.PrincipalPerson {
		return false
	}
	for _, r := range p.Roles {
		for _, q := range matrix[r] {
			if q == perm {
				return true
			}
		}
	}
	return false
}
