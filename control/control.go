// Package control is the control register (loggkontroller): every log control a care provider
// runs — the monthly random sample (stickprov) and targeted controls (riktad kontroll) — with its
// scope, reviewer, sampled accesses, each access's assessment, findings and conclusion, and the
// history of everything reviewers did to it (HSLF-FS 2016:40 4 kap. 9 §: controls are systematic,
// recurring and documented).
//
// The package holds the types, their rules, the reproducible sample and the Service that checks
// who may do what; it does no I/O of its own. Drivers (sqlite, postgres) implement Store, and
// controltest checks them.
package control

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/ident"
)

// Type is the kind of a control; the values are the Swedish terms, as they leave the process.
type Type string

// Types of control.
const (
	TypeSample   Type = "stickprov" // the monthly random sample of a care unit's accesses
	TypeTargeted Type = "riktad"    // a control on suspicion: a flag, a patient or a staff member
)

// Assessment is a reviewer's judgement of one sampled access.
type Assessment string

// Assessments, in the order the form offers them.
const (
	InOrder       Assessment = "i_ordning"           // the access had a care reason
	NeedsFollowUp Assessment = "behover_uppfoljning" // unclear: ask the user or their manager
	Unauthorised  Assessment = "obehorig"            // no reason: report to the manager at once
)

// Assessments returns every assessment, in the order the form offers them.
func Assessments() []Assessment { return []Assessment{InOrder, NeedsFollowUp, Unauthorised} }

// Valid reports whether a is one of Assessments.
func (a Assessment) Valid() bool {
	return a == InOrder || a == NeedsFollowUp || a == Unauthorised
}

// Limits of texts a reviewer writes. A comment explains one access; findings and conclusion
// summarise a control for the manager's report.
const (
	MaxCommentLen = 2000
	MaxSummaryLen = 8000
)

// Person is who did something to a control: the account's username and the HSA-id under which
// their reads are logged, so that the register and the log name them the same way.
type Person struct {
	Username string      `json:"username"`
	HSAID    ident.HSAID `json:"hsaId"`
	Name     string      `json:"name,omitempty"`
}

// Scope is what a control covers: the care unit whose accesses are reviewed and the period
// [From, To); for a sample the calendar month (Swedish time) it was drawn from, for a targeted
// control what raised the suspicion.
type Scope struct {
	CareUnit ident.HSAID `json:"careUnitId"`
	From     time.Time   `json:"from"`
	To       time.Time   `json:"to"`
	Month    string      `json:"month,omitempty"` // YYYY-MM, samples only
	// Targeted controls: a flag (its kind and the access it was raised on), or a patient, a
	// staff member or both.
	Flag      string      `json:"flag,omitempty"`      // a logcontrol flag kind
	FlagLogID string      `json:"flagLogId,omitempty"` // the flagged access
	Patient   string      `json:"patient,omitempty"`   // 12 digits; never shown in URLs or logs
	Staff     ident.HSAID `json:"staff,omitempty"`
}

// Period returns the scope's period as the dates it covers in Swedish time, last day
// inclusive ("2026-04-01 – 2026-04-30"), as reviewers typed it and the report prints it.
func (s Scope) Period() string {
	return s.From.In(stockholm).Format(time.DateOnly) + " – " + s.To.In(stockholm).Add(-time.Nanosecond).Format(time.DateOnly)
}

// SampleParams records how a control's accesses were picked, enough for anyone to pick them again
// from the log and get the same accesses: by Draw for a sample, the first in time order for a
// targeted control (TargetedAlgorithm; Seed is then 0).
type SampleParams struct {
	Algorithm  string `json:"algorithm"`  // SampleAlgorithm, StratifiedAlgorithm or TargetedAlgorithm
	Seed       uint64 `json:"seed"`       // recorded before the draw, shown to reviewers
	Size       int    `json:"size"`       // asked for
	Population int    `json:"population"` // accesses the sample was drawn from
	// Strata, for a stratified sample, is what the population was grouped by, and Strata its
	// strata as drawn (StratifiedAlgorithm).
	StrataBy Strata    `json:"strataBy,omitempty"`
	Strata   []Stratum `json:"strata,omitempty"`
}

// Item is one sampled access and its assessment (empty until a reviewer judges it).
type Item struct {
	LogID      string     `json:"logId"`
	Seq        int64      `json:"seq"`
	Assessment Assessment `json:"assessment,omitempty"`
	Comment    string     `json:"comment,omitempty"`
	AssessedBy *Person    `json:"assessedBy,omitempty"`
	AssessedAt *time.Time `json:"assessedAt,omitempty"`
}

// Control is one control in the register.
type Control struct {
	ID         string        `json:"id"`
	TenantID   string        `json:"tenantId"`
	Type       Type          `json:"type"`
	Scope      Scope         `json:"scope"`
	Reviewer   Person        `json:"reviewer"` // who created it and answers for it
	Created    time.Time     `json:"created"`
	Closed     *time.Time    `json:"closed,omitempty"`
	ClosedBy   *Person       `json:"closedBy,omitempty"`
	Sample     *SampleParams `json:"sample,omitempty"`
	Items      []Item        `json:"items"`
	Findings   string        `json:"findings,omitempty"`
	Conclusion string        `json:"conclusion,omitempty"`
}

// Item returns the item with sequence number seq, or nil.
func (c *Control) Item(seq int64) *Item {
	for i := range c.Items {
		if c.Items[i].Seq == seq {
			return &c.Items[i]
		}
	}
	return nil
}

// Assessed returns how many items have an assessment.
func (c *Control) Assessed() int {
	n := 0
	for i := range c.Items {
		if c.Items[i].Assessment != "" {
			n++
		}
	}
	return n
}

// Validate checks what a Store may rely on: a control with these fields is whole.
func (c *Control) Validate() error {
	var probs []vakt.Problem
	add := func(field, reason string) {
		probs = append(probs, vakt.Problem{Index: -1, Field: field, Reason: reason})
	}
	if !validID(c.ID) {
		add("id", "must be 1 to 64 letters, digits or '-'")
	}
	if c.TenantID == "" {
		add("tenantId", "is required")
	}
	switch c.Type {
	case TypeSample:
		if c.Sample == nil {
			add("sample", "is required for a sample")
		}
		if _, err := time.Parse("2006-01", c.Scope.Month); err != nil {
			add("scope.month", "is not a month (YYYY-MM)")
		}
	case TypeTargeted:
		if c.Scope.Flag == "" && c.Scope.Patient == "" && c.Scope.Staff == "" {
			add("scope", "a targeted control names a flag, a patient or a staff member")
		}
		if (c.Scope.Flag == "") != (c.Scope.FlagLogID == "") {
			add("scope.flagLogId", "a flag needs both its kind and the logId of its access")
		}
	default:
		add("type", "must be stickprov or riktad")
	}
	if _, err := ident.ParseHSAID(string(c.Scope.CareUnit)); err != nil {
		add("scope.careUnitId", "is not an HSA-id")
	}
	if c.Scope.From.IsZero() || !c.Scope.From.Before(c.Scope.To) {
		add("scope.to", "must be after from")
	}
	if c.Reviewer.Username == "" {
		add("reviewer.username", "is required")
	}
	if c.Created.IsZero() {
		add("created", "is required")
	}
	seen := map[int64]bool{}
	for i, it := range c.Items {
		if it.LogID == "" || it.Seq <= 0 || seen[it.Seq] {
			add("items", "each item needs a logId and a distinct positive seq")
			break
		}
		seen[it.Seq] = true
		if it.Assessment != "" && !it.Assessment.Valid() {
			add("items["+strconv.Itoa(i)+"].assessment", "must be i_ordning, behover_uppfoljning or obehorig")
		}
	}
	if len(probs) > 0 {
		return vakt.Invalid("control is invalid", probs...)
	}
	return nil
}

func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// checkText checks a reviewer's free text: at most max characters, valid UTF-8, no control
// characters other than line breaks and tabs.
func checkText(s string, max int) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	if utf8.RuneCountInString(s) > max {
		return "is longer than " + strconv.Itoa(max) + " characters"
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) >= 0 {
		return "contains control characters"
	}
	return ""
}

// Action is what an event of a control's history records.
type Action string

// Actions.
const (
	ActionCreated  Action = "created"
	ActionAssessed Action = "assessed"
	ActionClosed   Action = "closed"
)

// Event is one entry of a control's history: who did what when. Events are only appended; the
// history is the register's own record of everything reviewers did.
type Event struct {
	At     time.Time `json:"at"`
	Actor  Person    `json:"actor"`
	Action Action    `json:"action"`
	Seq    int64     `json:"seq,omitempty"`    // the item, for ActionAssessed
	Detail string    `json:"detail,omitempty"` // the assessment, for ActionAssessed
}

// Store keeps one tenant's control register. Drivers implement it; controltest.Run checks every
// clause. A Store sees no principals: who may do what is the Service's business.
type Store interface {
	// Create stores c, which is valid, with ev as the first event of its history. A control
	// with c.ID already stored is CodeConflict and changes nothing.
	Create(ctx context.Context, c *Control, ev Event) error
	// Get returns the control with id, CodeNotFound if there is none.
	Get(ctx context.Context, id string) (Control, error)
	// List returns every control, newest (Created) first, ties by id.
	List(ctx context.Context) ([]Control, error)
	// Update changes the control with id atomically: fn gets the stored control, changes it
	// and returns the event that records the change; the changed control and the event are
	// stored together, or, when fn returns an error, nothing is and Update returns that error.
	// Updates of one control are serialised, so fn always sees the latest state. A missing
	// control is CodeNotFound.
	Update(ctx context.Context, id string, fn func(*Control) (Event, error)) (Control, error)
	// History returns the events of the control with id, oldest first (empty for none).
	History(ctx context.Context, id string) ([]Event, error)
}

// Stores gives access to each tenant's control register.
type Stores interface {
	// Controls returns the control register of tenantID, creating it on first use. The store
	// stays owned by Stores.
	Controls(ctx context.Context, tenantID string) (Store, error)
}
