package oidc

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/tenant"
)

// ClaimMapping names the ID-token claims vakt reads a person from. Empty fields take the
// defaults of DefaultClaims.
type ClaimMapping struct {
	// HSAID carries the person's HSA-id (a string, or an array of exactly one). Inera's IdP
	// delivers the chosen tjänste-id as employeeHsaId, hence the default.
	HSAID string
	// Roles carries the person's roles in vakt: an array of strings (or one string with values
	// separated by spaces), each "<role>@<tenant>" for the whole tenant or
	// "<role>@<tenant>/<care unit HSA-id>" limited to one care unit, e.g.
	// "granskare@region-exempel/SE2321000016-7P5Q". The region's permission system decides
	// them; vakt only checks that they name roles and tenants it knows.
	Roles string
	// Name and Title are shown and logged as user.name and user.title of the person's reads.
	// Without Name, given_name and family_name are joined.
	Name  string
	Title string
}

// DefaultClaims are the claim names used when a ClaimMapping leaves one empty.
var DefaultClaims = ClaimMapping{HSAID: "employeeHsaId", Roles: "vakt_roles", Name: "name", Title: "title"}

func (m ClaimMapping) withDefaults() ClaimMapping {
	if m.HSAID == "" {
		m.HSAID = DefaultClaims.HSAID
	}
	if m.Roles == "" {
		m.Roles = DefaultClaims.Roles
	}
	if m.Name == "" {
		m.Name = DefaultClaims.Name
	}
	if m.Title == "" {
		m.Title = DefaultClaims.Title
	}
	return m
}

// Reason says why claims were refused. The values are stable: the web tool translates them.
type Reason string

// Reasons for refusing a login whose ID token was valid.
const (
	ReasonNoHSAID        Reason = "hsa_id_missing"    // no HSA-id claim
	ReasonBadHSAID       Reason = "hsa_id_invalid"    // the HSA-id claim is no HSA-id
	ReasonNoRoles        Reason = "roles_missing"     // no roles claim, or an empty one
	ReasonBadRoles       Reason = "roles_invalid"     // a value is not <role>@<tenant>[/<care unit>]
	ReasonUnknownRole    Reason = "role_unknown"      // a value names a role vakt does not know
	ReasonBadCareUnit    Reason = "care_unit_invalid" // a value's care unit is no HSA-id
	ReasonUnitsDiffer    Reason = "care_units_differ" // roles of one tenant are limited to different units
	ReasonUnknownTenant  Reason = "tenant_unknown"    // a value names a tenant that does not exist
	ReasonBadNameOrTitle Reason = "name_invalid"      // the name or title claim is not a short string
)

// Rejection is the error of claims that a valid ID token carried but vakt does not accept. It
// names the claim and the rule, never the value, which may be personal data.
type Rejection struct {
	Claim  string
	Reason Reason
}

func (r *Rejection) Error() string {
	return "oidc: claim " + r.Claim + " refused: " + string(r.Reason)
}

// Limits on claims, so that a hostile or broken IdP response cannot make a session large.
const (
	maxRoleValues = 100
	maxRoleLen    = 200
	maxTextLen    = 256
)

// Users maps an ID token's claims to the accounts the person may act as: one per tenant named in
// the roles claim, ordered by tenant id. Each holds the roles given for its tenant and, when they
// are limited to care units, those units. Nothing is widened: any value vakt cannot represent
// exactly refuses the whole login with a *Rejection. Whether the tenants exist is for the caller
// to check (ReasonUnknownTenant), since this package does no I/O.
//
// The accounts are not stored: their Username is the HSA-id, which no local account can have
// (local usernames are lower case, HSA-ids start with the upper-case country code).
func Users(claims map[string]any, m ClaimMapping) ([]account.User, error) {
	m = m.withDefaults()
	hsa, err := hsaID(claims, m.HSAID)
	if err != nil {
		return nil, err
	}
	name, ok := text(claims, m.Name)
	if !ok {
		return nil, &Rejection{Claim: m.Name, Reason: ReasonBadNameOrTitle}
	}
	if name == "" {
		given, ok1 := text(claims, "given_name")
		family, ok2 := text(claims, "family_name")
		if ok1 && ok2 {
			name = strings.TrimSpace(given + " " + family)
		}
	}
	title, ok := text(claims, m.Title)
	if !ok {
		return nil, &Rejection{Claim: m.Title, Reason: ReasonBadNameOrTitle}
	}
	values, err := roleValues(claims, m.Roles)
	if err != nil {
		return nil, err
	}
	// per tenant: role → the care units it is limited to ("" = the whole tenant)
	grants := map[string]map[vakt.Role]map[ident.HSAID]bool{}
	for _, v := range values {
		g, err := ParseRoleValue(v)
		if err != nil {
			return nil, &Rejection{Claim: m.Roles, Reason: err.(*Rejection).Reason}
		}
		if grants[g.Tenant] == nil {
			grants[g.Tenant] = map[vakt.Role]map[ident.HSAID]bool{}
		}
		if grants[g.Tenant][g.Role] == nil {
			grants[g.Tenant][g.Role] = map[ident.HSAID]bool{}
		}
		grants[g.Tenant][g.Role][g.CareUnit] = true
	}
	var users []account.User
	for tenantID, roles := range grants {
		u := account.User{Username: string(hsa), TenantID: tenantID, Name: name, HSAID: hsa, Title: title}
		var units []ident.HSAID // of the first role, in sorted order
		first := true
		for _, role := range vakt.PersonRoles() { // the UI's order
			set := roles[role]
			if set == nil {
				continue
			}
			var these []ident.HSAID
			if !set[""] { // a grant for the whole tenant covers any unit grant of the same role
				for cu := range set {
					these = append(these, cu)
				}
				slices.Sort(these)
			}
			if first {
				units, first = these, false
			} else if !slices.Equal(units, these) {
				// account.User has one set of units for all its roles; merging would give a role
				// units it was not granted.
				return nil, &Rejection{Claim: m.Roles, Reason: ReasonUnitsDiffer}
			}
			u.Roles = append(u.Roles, role)
		}
		u.CareUnits = units
		users = append(users, u)
	}
	slices.SortFunc(users, func(a, b account.User) int { return strings.Compare(a.TenantID, b.TenantID) })
	return users, nil
}

// Grant is one value of the roles claim.
type Grant struct {
	Role     vakt.Role
	Tenant   string
	CareUnit ident.HSAID // "" for the whole tenant
}

// ParseRoleValue parses "<role>@<tenant>" or "<role>@<tenant>/<care unit HSA-id>". Errors are
// *Rejection with the claim left empty.
func ParseRoleValue(v string) (Grant, error) {
	bad := func(r Reason) (Grant, error) { return Grant{}, &Rejection{Reason: r} }
	if len(v) > maxRoleLen || !utf8.ValidString(v) {
		return bad(ReasonBadRoles)
	}
	role, rest, ok := strings.Cut(v, "@")
	if !ok || role == "" {
		return bad(ReasonBadRoles)
	}
	tenantID, unit, limited := strings.Cut(rest, "/")
	if tenant.ValidateID(tenantID) != nil {
		return bad(ReasonBadRoles)
	}
	r, err := vakt.ParsePersonRole(role)
	if err != nil {
		return bad(ReasonUnknownRole)
	}
	g := Grant{Role: r, Tenant: tenantID}
	if limited {
		cu, err := ident.ParseHSAID(unit)
		if err != nil || string(cu) != unit {
			return bad(ReasonBadCareUnit)
		}
		g.CareUnit = cu
	}
	return g, nil
}

// hsaID reads the HSA-id claim: a string, or an array holding exactly one string (some IdPs
// send every attribute as an array).
func hsaID(claims map[string]any, name string) (ident.HSAID, error) {
	v, ok := claims[name]
	if !ok || v == nil {
		return "", &Rejection{Claim: name, Reason: ReasonNoHSAID}
	}
	if a, ok := v.([]any); ok && len(a) == 1 {
		v = a[0]
	}
	s, ok := v.(string)
	if !ok {
		return "", &Rejection{Claim: name, Reason: ReasonBadHSAID}
	}
	id, err := ident.ParseHSAID(s)
	if err != nil || string(id) != s {
		return "", &Rejection{Claim: name, Reason: ReasonBadHSAID}
	}
	return id, nil
}

// text reads an optional short string claim; ok is false when it is there but not one.
func text(claims map[string]any, name string) (string, bool) {
	v, present := claims[name]
	if !present || v == nil {
		return "", true
	}
	s, ok := v.(string)
	if !ok || !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxTextLen {
		return "", false
	}
	return strings.TrimSpace(s), true
}

// roleValues reads the roles claim: an array of strings or one string of space-separated values.
func roleValues(claims map[string]any, name string) ([]string, error) {
	var out []string
	switch v := claims[name].(type) {
	case nil:
	case string:
		out = strings.Fields(v)
	case []any:
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, &Rejection{Claim: name, Reason: ReasonBadRoles}
			}
			out = append(out, s)
		}
	default:
		return nil, &Rejection{Claim: name, Reason: ReasonBadRoles}
	}
	if len(out) == 0 {
		return nil, &Rejection{Claim: name, Reason: ReasonNoRoles}
	}
	if len(out) > maxRoleValues {
		return nil, &Rejection{Claim: name, Reason: ReasonBadRoles}
	}
	return out, nil
}
