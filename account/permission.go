package account

import "github.com/vakt/vakt"

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
)

// Permissions returns every permission, in the order docs list them.
func Permissions() []Permission { return []Permission{FollowUp, Export, ViewAccounts} }

// matrix is the one place that decides what each role may do. Log follow-up is the work of
// reviewers, managers and log administrators (HSLF-FS 2016:40 4 kap. 9 §: systematic and
// recurring controls); the administrators of accounts and permissions see who may do what but
// not the log itself, so that granting access and reading patients' logs stay with different
// people.
var matrix = map[vakt.Role][]Permission{
	vakt.RoleReviewer:        {FollowUp, Export},
	vakt.RoleManager:         {FollowUp, Export},
	vakt.RoleLogAdmin:        {FollowUp, Export},
	vakt.RoleLocalAdmin:      {ViewAccounts},
	vakt.RolePermissionAdmin: {ViewAccounts},
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
