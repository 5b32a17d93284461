package account

import (
	"context"
	"slices"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/tenant"
)

// Recorder stores an administrative change in the acting person's tenant's own log. Admin calls
// it before it makes the change, so that a change that cannot be recorded is not made.
// accesslog.Service implements it.
type Recorder interface {
	RecordAccountChange(ctx context.Context, c Change) error
}

// Admin is account administration by people: the rules every surface must honour whichever
// registry stores the accounts. The acting person is the principal in ctx; each method checks
// their permission (ManageAccounts, GrantRoles), keeps them in their own tenant and, when they
// are limited to care units, to accounts and units of their own, records the change through
// Recorder and then makes it.
//
// Two administrators acting at once on one tenant are not serialised: each guard reads the
// accounts before the write, so in a narrow race both could, for example, disable the other
// two of the last three administrators. Every change is recorded, so such a race is visible.
type Admin struct {
	Store    Store
	Tenants  tenant.Directory
	Recorder Recorder
	Params   Params           // of new one-time passwords' hashes; DefaultParams when zero
	Now      func() time.Time // time.Now when nil
}

// Guardrail errors. They are returned as they are (compare with ==), so that a surface can
// explain which rule stopped the change.
var (
	// ErrSelf: an administrator may not disable, remove or reset the password of their own
	// account (the last so that someone at an unlocked screen cannot take it over).
	ErrSelf = &vakt.Error{Code: vakt.CodeForbidden, Message: "you cannot do this to your own account"}
	// ErrLastAdmin: the change would leave the tenant with no enabled account that may manage
	// accounts, or none that may grant roles, where there was one.
	ErrLastAdmin = &vakt.Error{Code: vakt.CodeConflict, Message: "the change would leave the tenant without an administrator of accounts"}
	// ErrOutsideUnits: an administrator limited to care units may only manage accounts limited
	// to units among theirs, and only give those units.
	ErrOutsideUnits = &vakt.Error{Code: vakt.CodeForbidden, Message: "the account or care unit is outside your care units"}
	// ErrNotGrantable: the change gives or takes a role the administrator may not grant.
	ErrNotGrantable = &vakt.Error{Code: vakt.CodeForbidden, Message: "you may not grant or take away that role"}
	// ErrTaken: the username belongs to an account already (in any tenant).
	ErrTaken = &vakt.Error{Code: vakt.CodeConflict, Message: "the username is taken"}
)

func (a *Admin) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Admin) params() Params {
	if a.Params == (Params{}) {
		return DefaultParams
	}
	return a.Params
}

// actor returns the acting person if they hold perm.
func actor(ctx context.Context, perm Permission) (*vakt.Principal, error) {
	p := vakt.PrincipalFrom(ctx)
	if p == nil {
		return nil, vakt.Errorf(vakt.CodeUnauthorized, "authentication required")
	}
	if !Allowed(p, perm) {
		return nil, vakt.Errorf(vakt.CodeForbidden, "your roles do not allow this")
	}
	return p, nil
}

var errNoAccount = vakt.Errorf(vakt.CodeNotFound, "no such account")

// visible reports whether p may see u: same tenant and, when p is limited, sharing a unit.
func visible(p *vakt.Principal, u *User) bool {
	if u.TenantID != p.TenantID {
		return false
	}
	if !p.Limited() {
		return true
	}
	for _, cu := range u.CareUnits {
		if p.InUnits(string(cu)) {
			return true
		}
	}
	return false
}

// manageable reports whether p may change u: visible and, when p is limited, limited itself to
// units all among p's (an account of the whole tenant is beyond a unit's administrator).
func manageable(p *vakt.Principal, u *User) bool {
	if !visible(p, u) {
		return false
	}
	if !p.Limited() {
		return true
	}
	return unitsWithin(p, u.CareUnits)
}

func unitsWithin(p *vakt.Principal, units []ident.HSAID) bool {
	if !p.Limited() {
		return true
	}
	if len(units) == 0 {
		return false
	}
	for _, cu := range units {
		if !p.InUnits(string(cu)) {
			return false
		}
	}
	return true
}

// List returns the accounts the acting person may see (ViewAccounts): their tenant's, and when
// they are limited to care units, those sharing one of them.
func (a *Admin) List(ctx context.Context) ([]User, error) {
	p, err := actor(ctx, ViewAccounts)
	if err != nil {
		return nil, err
	}
	users, err := a.Store.Users(ctx, p.TenantID)
	if err != nil {
		return nil, err
	}
	out := users[:0]
	for _, u := range users {
		if visible(p, &u) {
			out = append(out, u)
		}
	}
	return out, nil
}

// Get returns one account the acting person may see (ViewAccounts); any other, another
// tenant's included, is CodeNotFound exactly like one that does not exist.
func (a *Admin) Get(ctx context.Context, username string) (User, error) {
	p, err := actor(ctx, ViewAccounts)
	if err != nil {
		return User{}, err
	}
	return a.get(ctx, p, username)
}

func (a *Admin) get(ctx context.Context, p *vakt.Principal, username string) (User, error) {
	if ValidateUsername(username) != nil {
		return User{}, errNoAccount
	}
	u, _, err := a.Store.UserByName(ctx, username)
	if err != nil {
		return User{}, err
	}
	if !visible(p, &u) {
		return User{}, errNoAccount
	}
	return u, nil
}

// Capabilities says what the acting person may do to an account, for a surface to offer only
// what will be allowed; the methods check again.
type Capabilities struct {
	Manage    bool        // change details and units, disable, enable, reset password, remove
	Grant     []vakt.Role // roles that may be given or taken
	Self      bool        // the account is the person's own
	Units     []string    // the units the person may give; nil: any
	CanCreate bool
}

// CapabilitiesFor returns what the person in ctx may do to u (zero User: to a new account).
func CapabilitiesFor(ctx context.Context, u *User) Capabilities {
	p := vakt.PrincipalFrom(ctx)
	if p == nil {
		return Capabilities{}
	}
	c := Capabilities{Self: u.Username == p.ID, Units: p.CareUnits, CanCreate: Allowed(p, ManageAccounts)}
	if u.Username == "" || manageable(p, u) {
		c.Manage = Allowed(p, ManageAccounts)
		if Allowed(p, GrantRoles) {
			c.Grant = Grantable(p)
		}
	}
	return c
}

// checkGrant checks that every role added or taken away between before and after is grantable
// by p.
func checkGrant(p *vakt.Principal, before, after []vakt.Role) error {
	may := Grantable(p)
	for _, r := range after {
		if !slices.Contains(before, r) && !slices.Contains(may, r) {
			return ErrNotGrantable
		}
	}
	for _, r := range before {
		if !slices.Contains(after, r) && !slices.Contains(may, r) {
			return ErrNotGrantable
		}
	}
	return nil
}

// keepsAdmins checks that replacing before by after (after nil: removing it) does not leave the
// tenant without an enabled account allowed ManageAccounts, or GrantRoles, where it had one.
func (a *Admin) keepsAdmins(ctx context.Context, before User, after *User) error {
	users, err := a.Store.Users(ctx, before.TenantID)
	if err != nil {
		return err
	}
	for _, perm := range []Permission{ManageAccounts, GrantRoles} {
		was, will := 0, 0
		for _, u := range users {
			if !u.Disabled && Allowed(u.Principal(), perm) {
				was++
			}
			if u.Username == before.Username {
				if after == nil {
					continue
				}
				u = *after
			}
			if !u.Disabled && Allowed(u.Principal(), perm) {
				will++
			}
		}
		if was > 0 && will == 0 {
			return ErrLastAdmin
		}
	}
	return nil
}

// record stores c in the log and then makes it with apply.
func (a *Admin) record(ctx context.Context, c Change, apply func() error) error {
	if err := a.Recorder.RecordAccountChange(ctx, c); err != nil {
		return err
	}
	return apply()
}

// NewAccount is what an administrator gives for a new account.
type NewAccount struct {
	Username  string
	Name      string
	HSAID     ident.HSAID // empty: a local id under the tenant's first care provider (LocalHSAID)
	Title     string
	Roles     []vakt.Role // each must be grantable by the administrator
	CareUnits []ident.HSAID
}

// Create makes an account in the acting person's tenant (ManageAccounts) with a generated
// one-time password, which it returns: the only time anybody sees it; it must be changed at the
// first login. Roles need GrantRoles for each role (a lokal_administrator without it creates
// accounts without roles). A limited administrator must give units, all among theirs.
// CodeInvalid names the field; ErrTaken if the username exists in any tenant.
func (a *Admin) Create(ctx context.Context, n NewAccount) (User, string, error) {
	p, err := actor(ctx, ManageAccounts)
	if err != nil {
		return User{}, "", err
	}
	u := User{Username: n.Username, TenantID: p.TenantID, Name: n.Name, HSAID: n.HSAID, Title: n.Title,
		Roles: n.Roles, CareUnits: n.CareUnits, MustChange: true, CreatedAt: a.now().UTC().Truncate(time.Microsecond)}
	if u.HSAID == "" {
		t, err := a.Tenants.Tenant(ctx, p.TenantID)
		if err != nil {
			return User{}, "", err
		}
		if u.HSAID, err = LocalHSAID(t.CareProviders[0]); err != nil {
			return User{}, "", err
		}
	}
	if err := u.Validate(); err != nil {
		return User{}, "", err
	}
	if !unitsWithin(p, u.CareUnits) {
		return User{}, "", ErrOutsideUnits
	}
	if err := checkGrant(p, nil, u.Roles); err != nil {
		return User{}, "", err
	}
	if _, _, err := a.Store.UserByName(ctx, u.Username); err == nil {
		return User{}, "", ErrTaken
	} else if vakt.ErrorCode(err) != vakt.CodeNotFound {
		return User{}, "", err
	}
	pw := GeneratePassword()
	err = a.record(ctx, Change{Action: ActionCreate, After: u}, func() error {
		return a.Store.CreateUser(ctx, u, HashPassword(pw, a.params()))
	})
	if vakt.ErrorCode(err) == vakt.CodeConflict {
		return User{}, "", ErrTaken
	}
	if err != nil {
		return User{}, "", err
	}
	return u, pw, nil
}

// Details are the fields of an account a lokal_administrator keeps.
type Details struct {
	Name      string
	HSAID     ident.HSAID
	Title     string
	CareUnits []ident.HSAID
}

// manage returns the account username if the acting person holds perm and may change it.
func (a *Admin) manage(ctx context.Context, perm Permission, username string) (*vakt.Principal, User, error) {
	p, err := actor(ctx, perm)
	if err != nil {
		return nil, User{}, err
	}
	u, err := a.get(ctx, p, username)
	if err != nil {
		return nil, User{}, err
	}
	if !manageable(p, &u) {
		return nil, User{}, ErrOutsideUnits
	}
	return p, u, nil
}

// UpdateDetails changes an account's name, HSA-id, title and care units (ManageAccounts). A
// limited administrator may only give units among theirs, and at least one.
func (a *Admin) UpdateDetails(ctx context.Context, username string, d Details) (User, error) {
	p, before, err := a.manage(ctx, ManageAccounts, username)
	if err != nil {
		return User{}, err
	}
	after := before.Clone()
	after.Name, after.HSAID, after.Title, after.CareUnits = d.Name, d.HSAID, d.Title, d.CareUnits
	if err := after.Validate(); err != nil {
		return User{}, err
	}
	if !unitsWithin(p, after.CareUnits) {
		return User{}, ErrOutsideUnits
	}
	err = a.record(ctx, Change{Action: ActionUpdate, Before: before, After: after}, func() error {
		return a.Store.UpdateUser(ctx, after)
	})
	return after, err
}

// SetRoles replaces an account's roles (GrantRoles); every role given or taken must be
// grantable by the acting person. Taking the last administrator's roles is ErrLastAdmin.
func (a *Admin) SetRoles(ctx context.Context, username string, roles []vakt.Role) (User, error) {
	p, before, err := a.manage(ctx, GrantRoles, username)
	if err != nil {
		return User{}, err
	}
	after := before.Clone()
	after.Roles = roles
	if err := after.Validate(); err != nil {
		return User{}, err
	}
	if err := checkGrant(p, before.Roles, after.Roles); err != nil {
		return User{}, err
	}
	if err := a.keepsAdmins(ctx, before, &after); err != nil {
		return User{}, err
	}
	err = a.record(ctx, Change{Action: ActionRoles, Before: before, After: after}, func() error {
		return a.Store.UpdateUser(ctx, after)
	})
	return after, err
}

// SetDisabled disables or enables an account (ManageAccounts). A disabled account cannot log in
// and its open sessions end at their next request. Nobody disables their own account
// (ErrSelf) or the last administrator (ErrLastAdmin).
func (a *Admin) SetDisabled(ctx context.Context, username string, disabled bool) (User, error) {
	p, before, err := a.manage(ctx, ManageAccounts, username)
	if err != nil {
		return User{}, err
	}
	if before.Username == p.ID {
		return User{}, ErrSelf
	}
	after := before.Clone()
	after.Disabled = disabled
	action := ActionEnable
	if disabled {
		action = ActionDisable
		if err := a.keepsAdmins(ctx, before, &after); err != nil {
			return User{}, err
		}
	}
	err = a.record(ctx, Change{Action: action, Before: before, After: after}, func() error {
		return a.Store.SetDisabled(ctx, before.TenantID, before.Username, disabled)
	})
	return after, err
}

// ResetPassword gives an account a new generated one-time password and returns it: the only
// time anybody sees it; the owner must choose their own at the next login (ManageAccounts). Not
// for one's own account (ErrSelf): that is the password page, which asks for the current one.
func (a *Admin) ResetPassword(ctx context.Context, username string) (string, error) {
	p, before, err := a.manage(ctx, ManageAccounts, username)
	if err != nil {
		return "", err
	}
	if before.Username == p.ID {
		return "", ErrSelf
	}
	after := before.Clone()
	after.MustChange = true
	pw := GeneratePassword()
	err = a.record(ctx, Change{Action: ActionResetPassword, Before: before, After: after}, func() error {
		return a.Store.SetPassword(ctx, before.Username, HashPassword(pw, a.params()), true)
	})
	if err != nil {
		return "", err
	}
	return pw, nil
}

// Remove deletes an account (ManageAccounts). Nobody removes their own account (ErrSelf) or
// the last administrator (ErrLastAdmin). The account's past reads stay in the log under its
// HSA-id.
func (a *Admin) Remove(ctx context.Context, username string) error {
	p, before, err := a.manage(ctx, ManageAccounts, username)
	if err != nil {
		return err
	}
	if before.Username == p.ID {
		return ErrSelf
	}
	if err := a.keepsAdmins(ctx, before, nil); err != nil {
		return err
	}
	return a.record(ctx, Change{Action: ActionRemove, Before: before}, func() error {
		return a.Store.DeleteUser(ctx, before.TenantID, before.Username)
	})
}
