package account

import (
	"slices"
	"strings"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/ident"
)

// Action is a kind of administrative change to an account. The names leave the process (they
// are written into the tenant's log), so they never change.
type Action string

// Actions of Admin.
const (
	ActionCreate        Action = "create"
	ActionUpdate        Action = "update" // name, HSA-id, title, care units
	ActionRoles         Action = "roles"
	ActionDisable       Action = "disable"
	ActionEnable        Action = "enable"
	ActionResetPassword Action = "reset_password"
	ActionRemove        Action = "remove"
)

func (a Action) valid() bool {
	switch a {
	case ActionCreate, ActionUpdate, ActionRoles, ActionDisable, ActionEnable, ActionResetPassword, ActionRemove:
		return true
	}
	return false
}

// Change is one administrative change to an account, as the tenant's log records it: who made
// it (the acting principal, outside Change), the account as it was (Before; zero for
// ActionCreate) and as it becomes (After; zero for ActionRemove).
type Change struct {
	Action Action
	Before User
	After  User
}

// Subject returns the account the change is about.
func (c *Change) Subject() *User {
	if c.Action == ActionCreate {
		return &c.After
	}
	return &c.Before
}

// ChangeRecord is what a change's record in the log says, read back by ParseChangeArgs: the
// fields a log control needs to find, for example, an administrator who granted themselves a
// role (By names the acting account; compare it with Account, and RolesAfter with RolesBefore).
// Names and titles are not recorded, only that they changed, because their text is free and
// could carry anything.
type ChangeRecord struct {
	Action        Action
	By            string      // username of the administrator, or an operator's id (IsOperator)
	Account       string      // username of the account changed
	HSAID         ident.HSAID // the account's HSA-id (after the change; before, for a removal)
	HSAIDBefore   ident.HSAID // set when the change gave the account another HSA-id
	RolesBefore   []vakt.Role
	RolesAfter    []vakt.Role
	UnitsBefore   []ident.HSAID
	UnitsAfter    []ident.HSAID
	Changed       []string // the fields that changed: name, hsaId, title, roles, careUnits, disabled, password
	DisabledAfter bool
}

// ChangeArgsPrefix starts the activity arguments of every account change's log entry.
const ChangeArgsPrefix = "Kontoadministration"

// Record returns what the log records about c made by the account username by.
func (c *Change) Record(by string) ChangeRecord {
	r := ChangeRecord{Action: c.Action, By: by, Account: c.Subject().Username}
	b, a := c.Before, c.After
	switch c.Action {
	case ActionRemove:
		a = User{}
	case ActionCreate:
		b = User{}
	}
	r.HSAID = a.HSAID
	if c.Action == ActionRemove {
		r.HSAID = b.HSAID
	}
	r.RolesBefore, r.RolesAfter = slices.Clone(b.Roles), slices.Clone(a.Roles)
	r.UnitsBefore, r.UnitsAfter = slices.Clone(b.CareUnits), slices.Clone(a.CareUnits)
	r.DisabledAfter = a.Disabled
	if c.Action != ActionCreate && c.Action != ActionRemove {
		if a.HSAID != b.HSAID {
			r.HSAIDBefore = b.HSAID
		}
		for _, f := range []struct {
			name string
			diff bool
		}{
			{"name", a.Name != b.Name}, {"hsaId", a.HSAID != b.HSAID}, {"title", a.Title != b.Title},
			{"roles", !slices.Equal(a.Roles, b.Roles)}, {"careUnits", !slices.Equal(a.CareUnits, b.CareUnits)},
			{"disabled", a.Disabled != b.Disabled},
		} {
			if f.diff {
				r.Changed = append(r.Changed, f.name)
			}
		}
		if c.Action == ActionResetPassword {
			r.Changed = append(r.Changed, "password")
		}
	}
	return r
}

// Args returns r as activity arguments: ChangeArgsPrefix, then "key=value" pairs separated by
// "; ", lists comma-separated. Every value comes from a narrow alphabet (usernames, HSA-ids,
// role and field names), so no value can contain a separator and ParseChangeArgs reads back
// exactly r.
func (r *ChangeRecord) Args() string {
	var b strings.Builder
	b.WriteString(ChangeArgsPrefix)
	put := func(k, v string) {
		b.WriteString("; ")
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
	}
	put("action", string(r.Action))
	put("by", r.By)
	put("account", r.Account)
	put("hsaId", string(r.HSAID))
	if r.HSAIDBefore != "" {
		put("hsaIdBefore", string(r.HSAIDBefore))
	}
	put("rolesBefore", joinList(r.RolesBefore))
	put("rolesAfter", joinList(r.RolesAfter))
	put("careUnitsBefore", joinList(r.UnitsBefore))
	put("careUnitsAfter", joinList(r.UnitsAfter))
	put("changed", strings.Join(r.Changed, ","))
	if r.DisabledAfter {
		put("disabled", "true")
	} else {
		put("disabled", "false")
	}
	return b.String()
}

func joinList[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ",")
}

func splitList[T ~string](s string) []T {
	if s == "" {
		return nil
	}
	var out []T
	for _, x := range strings.Split(s, ",") {
		out = append(out, T(x))
	}
	return out
}

var changedFields = []string{"name", "hsaId", "title", "roles", "careUnits", "disabled", "password"}

// ParseChangeArgs reads the activity arguments of an account change's log entry, as Args writes
// them, and checks every value against its alphabet: usernames, HSA-ids, person roles, known
// field names. Anything else, an entry written by another system included, is CodeInvalid.
func ParseChangeArgs(s string) (ChangeRecord, error) {
	bad := func(reason string) (ChangeRecord, error) {
		return ChangeRecord{}, vakt.Invalid("not an account change record", vakt.Problem{Index: -1, Field: "activityArgs", Reason: reason})
	}
	rest, ok := strings.CutPrefix(s, ChangeArgsPrefix+"; ")
	if !ok {
		return bad("does not start with " + ChangeArgsPrefix)
	}
	var r ChangeRecord
	seen := map[string]bool{}
	for _, kv := range strings.Split(rest, "; ") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || seen[k] {
			return bad("has a malformed or repeated pair")
		}
		seen[k] = true
		var err error
		switch k {
		case "action":
			r.Action = Action(v)
			if !r.Action.valid() {
				return bad("names an unknown action")
			}
		case "by":
			r.By = v
			if !IsOperator(v) {
				err = ValidateUsername(v)
			}
		case "account":
			r.Account, err = v, ValidateUsername(v)
		case "hsaId":
			r.HSAID, err = ident.ParseHSAID(v)
		case "hsaIdBefore":
			r.HSAIDBefore, err = ident.ParseHSAID(v)
		case "rolesBefore", "rolesAfter":
			roles := splitList[vakt.Role](v)
			for _, x := range roles {
				if _, e := vakt.ParsePersonRole(string(x)); e != nil {
					err = e
				}
			}
			if k == "rolesBefore" {
				r.RolesBefore = roles
			} else {
				r.RolesAfter = roles
			}
		case "careUnitsBefore", "careUnitsAfter":
			units := splitList[ident.HSAID](v)
			for _, x := range units {
				if _, e := ident.ParseHSAID(string(x)); e != nil {
					err = e
				}
			}
			if k == "careUnitsBefore" {
				r.UnitsBefore = units
			} else {
				r.UnitsAfter = units
			}
		case "changed":
			r.Changed = splitList[string](v)
			for _, f := range r.Changed {
				if !slices.Contains(changedFields, f) {
					return bad("names an unknown field")
				}
			}
		case "disabled":
			if v != "true" && v != "false" {
				return bad("has a disabled value other than true or false")
			}
			r.DisabledAfter = v == "true"
		default:
			return bad("has an unknown key")
		}
		if err != nil {
			return bad("has an invalid " + k)
		}
	}
	for _, k := range []string{"action", "by", "account", "hsaId", "rolesBefore", "rolesAfter", "careUnitsBefore", "careUnitsAfter", "changed", "disabled"} {
		if !seen[k] {
			return bad("lacks " + k)
		}
	}
	return r, nil
}

// SelfGrant reports whether r records an administrator giving their own account a role it did
// not hold: the pattern the log control "self_granted_role" looks for.
func (r *ChangeRecord) SelfGrant() bool {
	if r.By != r.Account {
		return false
	}
	for _, role := range r.RolesAfter {
		if !slices.Contains(r.RolesBefore, role) {
			return true
		}
	}
	return false
}
