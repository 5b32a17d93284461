// Package account holds people's local accounts: the account itself, its roles per tenant and
// care unit, the password hash (argon2id), the check of a login, and the one table that says what
// each role may do (Allowed).
//
// Local accounts are for the embedded mode, so that one command gives a working system; in
// production people log in through OpenID Connect and only the mapping to roles stays here.
// The package does no I/O: registry drivers (sqlite, postgres) implement Store.
package account

import (
	"context"
	"crypto/rand"
	"slices"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/ident"
)

// User is a person's local account. It acts in one tenant, holds roles there and, when CareUnits
// is not empty, sees only those care units' entries. An account without roles may log in and
// change its password, nothing more: a lokal_administrator creates the account and a
// behorighetsadministrator grants its roles (see Admin).
type User struct {
	Username   string        // login name, unique in the registry: 1–64 of a-z 0-9 . _ - (lower case)
	TenantID   string        // the tenant the person acts in
	Name       string        // display name; logged as user.name of the person's own reads
	HSAID      ident.HSAID   // the person's HSA-id; user.userId of the entries about their reads
	Title      string        // optional, e.g. "Verksamhetschef"
	Roles      []vakt.Role   // person roles (vakt.PersonRoles), at least one
	CareUnits  []ident.HSAID // vårdenheter the person is limited to; empty: the whole tenant
	MustChange bool          // the password is a one-time password and must be changed at login
	Disabled   bool          // the account may not log in, and its open sessions end at their next request
	CreatedAt  time.Time
}

// MaxUsernameLen bounds a username.
const MaxUsernameLen = 64

// MaxCareUnits bounds the care units of one account, so that the record of a change to it
// always fits the activity arguments of one log entry (accesslog.MaxArgsLen).
const MaxCareUnits = 100

// ValidateUsername checks a login name. The alphabet is narrow so that a name cannot be mistaken
// for another in a list, and never holds a personnummer by accident of format rules alone.
func ValidateUsername(name string) error {
	bad := func(reason string) error {
		return vakt.Invalid("username is invalid", vakt.Problem{Index: -1, Field: "username", Reason: reason})
	}
	if name == "" {
		return bad("is required")
	}
	if len(name) > MaxUsernameLen {
		return bad("is longer than 64 characters")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' && i > 0) {
			return bad("must be lower-case letters, digits, '.', '_' and '-' (not first)")
		}
	}
	return nil
}

// Validate checks u before it is created.
func (u *User) Validate() error {
	if err := ValidateUsername(u.Username); err != nil {
		return err
	}
	var probs []vakt.Problem
	add := func(field, reason string) {
		probs = append(probs, vakt.Problem{Index: -1, Field: field, Reason: reason})
	}
	if u.TenantID == "" {
		add("tenant", "is required")
	}
	if len([]rune(u.Name)) > 256 {
		add("name", "is longer than 256 characters")
	}
	if len([]rune(u.Title)) > 256 {
		add("title", "is longer than 256 characters")
	}
	if _, err := ident.ParseHSAID(string(u.HSAID)); err != nil {
		add("hsaId", err.Error())
	}
	for i, r := range u.Roles {
		if _, err := vakt.ParsePersonRole(string(r)); err != nil {
			add("roles", "names an unknown role")
		} else if slices.Contains(u.Roles[:i], r) {
			add("roles", "names a role twice")
		}
	}
	if len(u.CareUnits) > MaxCareUnits {
		add("careUnits", "names more than 100 care units")
	}
	for i, cu := range u.CareUnits {
		if _, err := ident.ParseHSAID(string(cu)); err != nil {
			add("careUnits", err.Error())
		} else if slices.Contains(u.CareUnits[:i], cu) {
			add("careUnits", "names a care unit twice")
		}
	}
	if len(probs) > 0 {
		return vakt.Invalid("account is invalid", probs...)
	}
	return nil
}

// Principal returns the principal of a person logged in with u.
func (u *User) Principal() *vakt.Principal {
	p := &vakt.Principal{
		Kind: vakt.PrincipalPerson, ID: u.Username, TenantID: u.TenantID,
		Roles: slices.Clone(u.Roles), Name: u.DisplayName(), HSAID: string(u.HSAID), Title: u.Title,
	}
	for _, cu := range u.CareUnits {
		p.CareUnits = append(p.CareUnits, string(cu))
	}
	return p
}

// DisplayName returns the name to show and log: Name, or the username when there is none.
func (u *User) DisplayName() string {
	if u.Name != "" {
		return u.Name
	}
	return u.Username
}

// Clone returns a copy of u that shares no memory with it.
func (u User) Clone() User {
	u.Roles = slices.Clone(u.Roles)
	u.CareUnits = slices.Clone(u.CareUnits)
	return u
}

// LocalHSAID returns a new HSA-id for a local account that has none of its own: the issuer and
// organisation number of the tenant's care provider, and a local part "VAKT" followed by eight
// random characters, so that the person's own reads can be logged under an id that no real HSA
// person id of the care provider uses (HSA's local parts do not start with VAKT).
func LocalHSAID(careProvider ident.HSAID) (ident.HSAID, error) {
	s := string(careProvider)
	dash := -1
	for i := 0; i < len(s); i++ {
		if s[i] == '-' {
			dash = i
			break
		}
	}
	if dash < 0 {
		return "", vakt.Errorf(vakt.CodeInvalid, "care provider HSA-id has no organisation number")
	}
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	var b [8]byte
	rand.Read(b[:])
	local := make([]byte, 0, 12)
	local = append(local, "VAKT"...)
	for _, c := range b {
		local = append(local, alphabet[int(c)%len(alphabet)])
	}
	return ident.ParseHSAID(s[:dash+1] + string(local))
}

// Store persists accounts. Registry drivers implement it beside tenant.Directory; the
// conformance suite tenant/registrytest checks every clause. Like the rest of the registry, an
// account created or changed by another process (the CLI while a server runs) must take effect
// at once, without a restart.
type Store interface {
	// CreateUser stores u with its encoded password hash (see HashPassword). CodeInvalid if u
	// does not validate; CodeNotFound if its tenant does not exist; CodeConflict if the username
	// is taken (in any tenant).
	CreateUser(ctx context.Context, u User, passwordHash string) error
	// UserByName returns the account with username and its encoded password hash, or
	// CodeNotFound.
	UserByName(ctx context.Context, username string) (User, string, error)
	// Users returns the accounts of a tenant (of all tenants when tenantID is empty), ordered by
	// tenant and username.
	Users(ctx context.Context, tenantID string) ([]User, error)
	// SetPassword replaces the password hash of username and sets whether it must be changed at
	// the next login, or returns CodeNotFound.
	SetPassword(ctx context.Context, username, passwordHash string, mustChange bool) error
	// UpdateUser replaces the name, HSA-id, title, roles and care units of the account
	// u.Username in tenant u.TenantID, all or nothing; its password, Disabled, MustChange and
	// CreatedAt stay as stored. CodeInvalid if u does not validate; CodeNotFound if the tenant
	// has no such account (an account of another tenant is not found either).
	UpdateUser(ctx context.Context, u User) error
	// SetDisabled disables or enables the account username of tenantID. Setting the state it
	// already has is no error. CodeNotFound if the tenant has no such account.
	SetDisabled(ctx context.Context, tenantID, username string, disabled bool) error
	// DeleteUser removes the account username of tenantID with its roles and care units; the
	// username may then be taken again. CodeNotFound if the tenant has no such account.
	DeleteUser(ctx context.Context, tenantID, username string) error
}
