package permlist

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/internal/swetime"
	"github.com/vakt/vakt/register"
	"github.com/vakt/vakt/tenant"
)

// Level is the activity level of the entries that record reads of and changes to permission
// lists in the tenant's log.
const Level = "Behörighetslista"

// stockholm is the zone of "now" for assignments: an assignment that ends on a date applies
// through that day in Sweden.
var stockholm = swetime.Stockholm

// Service builds permission lists for people allowed account.ReviewPermissions and keeps their
// marks. A list shows each holder's last activity at the unit, which is read from the log, so
// building it is first stored as a read in the tenant's own log (PDL 4 kap. 3 §); a mark or
// unmark is stored there as a change before it is made. A person limited to care units sees
// and marks the lists of those units only.
type Service struct {
	Logs      accesslog.Stores
	Registers register.Stores
	Accounts  account.Store
	Marks     Stores
	Tenants   tenant.Directory
	Now       func() time.Time // defaults to time.Now
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

// Account is a vakt account that gives its holder access to the unit's log data.
type Account struct {
	Username    string
	Roles       []vakt.Role
	WholeTenant bool // not limited to care units: every unit of the tenant
}

// Holder is one person on a unit's permission list.
type Holder struct {
	HSAID ident.HSAID
	Name  string
	// Assignment is the person's current assignment at the unit in the staff register; nil when
	// the person is on the list through a vakt account only.
	Assignment   *register.Assignment
	Accounts     []Account
	LastActivity time.Time // zero: no entry from the unit in the log
	Mark         *Mark
}

// List is the permission list of one care unit.
type List struct {
	CareUnit ident.HSAID
	At       time.Time // when it was built
	Holders  []Holder  // by HSA-id
}

type caller struct {
	p     *vakt.Principal
	t     tenant.Tenant
	marks Store
}

func (s *Service) caller(ctx context.Context) (*caller, error) {
	p, t, err := accesslog.Person(ctx, s.Tenants, account.ReviewPermissions, "the permission list")
	if err != nil {
		return nil, err
	}
	ms, err := s.Marks.PermissionMarks(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	return &caller{p: p, t: t, marks: ms}, nil
}

func (c *caller) person() Person {
	return Person{Username: c.p.ID, HSAID: ident.HSAID(c.p.HSAID), Name: c.p.Name}
}

// unit checks the care unit asked for: an HSA-id, and one of the caller's units.
func (c *caller) unit(unit ident.HSAID) error {
	if _, err := ident.ParseHSAID(string(unit)); err != nil {
		return vakt.Invalid("care unit is invalid", vakt.Problem{Index: -1, Field: "careUnitId", Reason: "is not an HSA-id"})
	}
	if !c.p.InUnits(string(unit)) {
		return vakt.Errorf(vakt.CodeForbidden, "the unit is not one of yours")
	}
	return nil
}

// Units returns the care units whose lists the caller may open, sorted: a limited person's
// own units; otherwise the units of current assignments in the staff register and of the
// tenant's accounts limited to units.
func (s *Service) Units(ctx context.Context) ([]ident.HSAID, error) {
	c, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if c.p.Limited() {
		out := make([]ident.HSAID, 0, len(c.p.CareUnits))
		for _, u := range c.p.CareUnits {
			out = append(out, ident.HSAID(u))
		}
		slices.Sort(out)
		return out, nil
	}
	seen := map[ident.HSAID]bool{}
	today := register.DateOf(s.now(), stockholm)
	if err := s.staff(ctx, c.t.ID, func(st *register.Staff) {
		for _, a := range st.Units {
			if current(a, today) {
				seen[a.CareUnit] = true
			}
		}
	}); err != nil {
		return nil, err
	}
	users, err := s.Accounts.Users(ctx, c.t.ID)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		for _, cu := range u.CareUnits {
			seen[cu] = true
		}
	}
	out := make([]ident.HSAID, 0, len(seen))
	for u := range seen {
		out = append(out, u)
	}
	slices.Sort(out)
	return out, nil
}

func current(a register.Assignment, today register.Date) bool {
	return !a.From.After(today) && (a.To.IsZero() || !a.To.Before(today))
}

func (s *Service) staff(ctx context.Context, tenantID string, fn func(*register.Staff)) error {
	if s.Registers == nil {
		return nil
	}
	st, err := s.Registers.Registers(ctx, tenantID)
	if err != nil {
		return err
	}
	return register.Registers{Store: st}.Staff(ctx, func(x *register.Staff) error { fn(x); return nil })
}

// holders returns who holds access to unit now, without last activity or marks.
func (s *Service) holders(ctx context.Context, c *caller, unit ident.HSAID) ([]Holder, error) {
	byID := map[ident.HSAID]*Holder{}
	get := func(id ident.HSAID) *Holder {
		h := byID[id]
		if h == nil {
			h = &Holder{HSAID: id}
			byID[id] = h
		}
		return h
	}
	today := register.DateOf(s.now(), stockholm)
	if err := s.staff(ctx, c.t.ID, func(st *register.Staff) {
		for _, a := range st.Units {
			if a.CareUnit == unit && current(a, today) {
				h := get(st.HSAID)
				a := a
				h.Assignment = &a
				h.Name = strings.TrimSpace(st.GivenName + " " + st.FamilyName)
				return
			}
		}
	}); err != nil {
		return nil, err
	}
	users, err := s.Accounts.Users(ctx, c.t.ID)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if u.Disabled || len(u.Roles) == 0 || u.HSAID == "" {
			continue
		}
		whole := len(u.CareUnits) == 0
		if !whole && !slices.Contains(u.CareUnits, unit) {
			continue
		}
		h := get(u.HSAID)
		if h.Name == "" {
			h.Name = u.Name
		}
		h.Accounts = append(h.Accounts, Account{Username: u.Username, Roles: slices.Clone(u.Roles), WholeTenant: whole})
	}
	out := make([]Holder, 0, len(byID))
	for _, h := range byID {
		out = append(out, *h)
	}
	slices.SortFunc(out, func(a, b Holder) int { return strings.Compare(string(a.HSAID), string(b.HSAID)) })
	return out, nil
}

// List returns the permission list of unit with each holder's last activity at the unit and
// the unit's marks. Last activity is read from the log, so the read is logged first (activity
// Läsa, level Behörighetslista, arguments naming the unit and how many people were looked up).
func (s *Service) List(ctx context.Context, unit ident.HSAID) (List, error) {
	c, err := s.caller(ctx)
	if err != nil {
		return List{}, err
	}
	if err := c.unit(unit); err != nil {
		return List{}, err
	}
	hs, err := s.holders(ctx, c, unit)
	if err != nil {
		return List{}, err
	}
	now := s.now()
	logs, err := s.Logs.Store(ctx, c.t.ID)
	if err != nil {
		return List{}, err
	}
	ids := make([]ident.HSAID, len(hs))
	for i := range hs {
		ids[i] = hs[i].HSAID
	}
	args := "Behörighetslista, vårdenhet " + string(unit) + ", senaste aktivitet för " + strconv.Itoa(len(ids)) + " personer"
	e := accesslog.PersonEntry(&c.t, c.p, "vakt behörighetslista",
		accesslog.Activity{Type: accesslog.ActivityRead, Level: Level, Args: args, StartDate: now, Purpose: accesslog.PurposeFollowUp},
		[]accesslog.Resource{{Type: "Åtkomstlogg"}})
	if _, err := logs.Append(ctx, []accesslog.Pending{accesslog.Prepare(e)}); err != nil {
		return List{}, err
	}
	last, err := accesslog.LastActivity(ctx, logs, unit, ids)
	if err != nil {
		return List{}, err
	}
	marks, err := c.marks.Marks(ctx, unit)
	if err != nil {
		return List{}, err
	}
	byID := map[ident.HSAID]Mark{}
	for _, m := range marks {
		byID[m.HSAID] = m
	}
	for i := range hs {
		hs[i].LastActivity = last[hs[i].HSAID]
		if m, ok := byID[hs[i].HSAID]; ok {
			hs[i].Mark = &m
		}
	}
	return List{CareUnit: unit, At: now, Holders: hs}, nil
}

// checkReason checks the free text of a mark: required, at most MaxReasonLen characters, no
// control characters.
func checkReason(s string) string {
	switch {
	case s == "":
		return "is required"
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	case utf8.RuneCountInString(s) > MaxReasonLen:
		return "is longer than " + strconv.Itoa(MaxReasonLen) + " characters"
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "contains control characters"
	}
	return ""
}

// Mark marks hsaID for removal from unit with reason, replacing an earlier mark. The person
// must be on the unit's list. The change is recorded in the tenant's log before it is stored
// (activity Skriva, level Behörighetslista, arguments naming the action, unit and HSA-id; the
// reason is free text and stays in the mark only).
func (s *Service) Mark(ctx context.Context, unit, hsaID ident.HSAID, reason string) (Mark, error) {
	c, err := s.caller(ctx)
	if err != nil {
		return Mark{}, err
	}
	if err := c.unit(unit); err != nil {
		return Mark{}, err
	}
	reason = strings.TrimSpace(reason)
	var probs []vakt.Problem
	if r := checkReason(reason); r != "" {
		probs = append(probs, vakt.Problem{Index: -1, Field: "reason", Reason: r})
	}
	if _, err := ident.ParseHSAID(string(hsaID)); err != nil {
		probs = append(probs, vakt.Problem{Index: -1, Field: "hsaId", Reason: "is not an HSA-id"})
	} else {
		hs, err := s.holders(ctx, c, unit)
		if err != nil {
			return Mark{}, err
		}
		if !slices.ContainsFunc(hs, func(h Holder) bool { return h.HSAID == hsaID }) {
			probs = append(probs, vakt.Problem{Index: -1, Field: "hsaId", Reason: "is not on the unit's permission list"})
		}
	}
	if len(probs) > 0 {
		return Mark{}, vakt.Invalid("mark is invalid", probs...)
	}
	m := Mark{CareUnit: unit, HSAID: hsaID, Reason: reason, By: c.person(), At: s.now()}
	if err := s.record(ctx, c, "mark", unit, hsaID, m.At); err != nil {
		return Mark{}, err
	}
	return m, c.marks.SetMark(ctx, m)
}

// Unmark takes the mark of hsaID at unit away, recorded like Mark (activity Radera);
// CodeNotFound when there is none.
func (s *Service) Unmark(ctx context.Context, unit, hsaID ident.HSAID) error {
	c, err := s.caller(ctx)
	if err != nil {
		return err
	}
	if err := c.unit(unit); err != nil {
		return err
	}
	ms, err := c.marks.Marks(ctx, unit)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(ms, func(m Mark) bool { return m.HSAID == hsaID }) {
		return vakt.Errorf(vakt.CodeNotFound, "no such mark")
	}
	if err := s.record(ctx, c, "unmark", unit, hsaID, s.now()); err != nil {
		return err
	}
	return c.marks.DeleteMark(ctx, unit, hsaID)
}

// record appends the entry about a mark or unmark to the tenant's log: so the tamper-evident
// log holds every decision, and a change that cannot be recorded is not made.
func (s *Service) record(ctx context.Context, c *caller, action string, unit, hsaID ident.HSAID, at time.Time) error {
	logs, err := s.Logs.Store(ctx, c.t.ID)
	if err != nil {
		return err
	}
	act := accesslog.ActivityWrite
	if action == "unmark" {
		act = accesslog.ActivityDelete
	}
	args := "Behörighetslista; action=" + action + "; by=" + c.p.ID + "; careUnit=" + string(unit) + "; hsaId=" + string(hsaID)
	e := accesslog.PersonEntry(&c.t, c.p, "vakt behörighetslista",
		accesslog.Activity{Type: act, Level: Level, Args: args, StartDate: at, Purpose: accesslog.PurposeAdministration},
		[]accesslog.Resource{{Type: "Behörighet"}})
	_, err = logs.Append(ctx, []accesslog.Pending{accesslog.Prepare(e)})
	return err
}
