package account

import (
	"context"
	"strings"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/ident"
)

// OperatorPrefix starts the principal id of an operator acting from the command line (the
// break-glass path of `vakt user`), recorded as the "by" of the account changes they make. The
// ':' is outside the username alphabet, so an operator can never be mistaken for an account.
const OperatorPrefix = "cli:"

// OperatorID returns the principal id of the operator name (e.g. their login on the server):
// OperatorPrefix and name, which must keep to the username alphabet.
func OperatorID(name string) (string, error) {
	if err := ValidateUsername(name); err != nil {
		return "", vakt.Invalid("operator is invalid", vakt.Problem{Index: -1, Field: "operator",
			Reason: "must be lower-case letters, digits, '.', '_' and '-' (not first), at most 64"})
	}
	return OperatorPrefix + name, nil
}

// IsOperator reports whether by (a ChangeRecord's By) names an operator rather than an account.
func IsOperator(by string) bool {
	name, ok := strings.CutPrefix(by, OperatorPrefix)
	return ok && ValidateUsername(name) == nil
}

// Operator returns the principal an operator acts as in tenantID from the command line: a
// person holding lokal_administrator and behorighetsadministrator for the whole tenant, so that
// Admin's rules of the tenant (a valid account, not the last administrator) still hold, while
// those that protect accounts from the person at the browser (their own account, their care
// units, the roles they may grant) cannot stand in the way of the operator mending access.
// hsaID is logged as user.userId of the changes' entries.
func Operator(name, tenantID string, hsaID ident.HSAID) (*vakt.Principal, error) {
	id, err := OperatorID(name)
	if err != nil {
		return nil, err
	}
	if _, err := ident.ParseHSAID(string(hsaID)); err != nil {
		return nil, vakt.Invalid("operator HSA-id is invalid", vakt.Problem{Index: -1, Field: "operatorHsaId", Reason: "is not an HSA-id"})
	}
	return &vakt.Principal{Kind: vakt.PrincipalPerson, ID: id, TenantID: tenantID, HSAID: string(hsaID),
		Name: "Driftoperatör " + name, Title: "vakt kommandorad",
		Roles: []vakt.Role{vakt.RoleLocalAdmin, vakt.RolePermissionAdmin}}, nil
}

// SetPassword gives an account the password (ManageAccounts), recorded like ResetPassword; with
// mustChange the owner must choose their own at the next login. The password must pass
// CheckPassword. Not for one's own account (ErrSelf): that is the password page. The browser
// offers only ResetPassword; this is for an operator who hands a person a password another way.
func (a *Admin) SetPassword(ctx context.Context, username, password string, mustChange bool) error {
	p, before, err := a.manage(ctx, ManageAccounts, username)
	if err != nil {
		return err
	}
	if before.Username == p.ID {
		return ErrSelf
	}
	if err := CheckPassword(password); err != nil {
		return err
	}
	after := before.Clone()
	after.MustChange = mustChange
	return a.record(ctx, Change{Action: ActionResetPassword, Before: before, After: after}, func() error {
		return a.Store.SetPassword(ctx, before.Username, HashPassword(password, a.params()), mustChange)
	})
}
