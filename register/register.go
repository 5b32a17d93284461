// Package register holds the reference data that log controls judge accesses against: the staff
// register (who works where, and who they are as persons), the person register (names,
// addresses, protected identity, date of death), the watch list of patients of media interest
// and other VIPs, cases (ärenden) with their status, and the care units' working hours.
//
// In production these come from the HSA directory and the population register; until adapters
// for those exist, tenants import them (JSON array or NDJSON, replace-all or upsert). The rules
// of log controls read them through Source, so an adapter can stand in for the imported copy.
//
// The package does no I/O: drivers (sqlite, postgres) implement Store, which keeps records as
// opaque documents under their keys; this package parses, validates and interprets them.
package register

import (
	"context"
	"strings"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/ident"
)

// Kind names one register. The names leave the process (API paths, CLI flags, the kind column
// of storage) and keep their spelling.
type Kind string

// Registers.
const (
	KindStaff     Kind = "staff"
	KindPersons   Kind = "persons"
	KindWatchlist Kind = "watchlist"
	KindCases     Kind = "cases"
	KindUnits     Kind = "units"
)

// Kinds returns every register kind.
func Kinds() []Kind { return []Kind{KindStaff, KindPersons, KindWatchlist, KindCases, KindUnits} }

// ParseKind returns the register kind named by s.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds() {
		if string(k) == s {
			return k, nil
		}
	}
	return "", vakt.Errorf(vakt.CodeInvalid, "unknown register (want staff, persons, watchlist, cases or units)")
}

// Mode says what an import does with the records already stored.
type Mode string

// Import modes.
const (
	// ModeReplace makes the register hold exactly the imported records: what the import does not
	// name is removed. The usual mode for a nightly full extract.
	ModeReplace Mode = "replace"
	// ModeUpsert adds the imported records and replaces stored ones with the same key, leaving
	// the rest alone. For corrections and incremental feeds.
	ModeUpsert Mode = "upsert"
)

// ParseMode returns the import mode named by s; "" is ModeReplace.
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case "", ModeReplace:
		return ModeReplace, nil
	case ModeUpsert:
		return ModeUpsert, nil
	}
	return "", vakt.Errorf(vakt.CodeInvalid, "unknown import mode (want replace or upsert)")
}

// Address is where a person lives (folkbokföringsadress). Two addresses are the same when their
// street and postal code are, ignoring case, spacing and the postal code's space.
type Address struct {
	Street     string `json:"street"`
	PostalCode string `json:"postalCode,omitempty"`
	City       string `json:"city,omitempty"`
}

// Key returns the comparable form of a: lower-case street with single spaces and the postal
// code's digits; "" when a has no street.
func (a *Address) Key() string {
	if a == nil || strings.TrimSpace(a.Street) == "" {
		return ""
	}
	street := strings.ToLower(strings.Join(strings.Fields(a.Street), " "))
	return street + "|" + strings.ReplaceAll(a.PostalCode, " ", "")
}

// Assignment is a period in which a staff member worked at a care unit. To is the last day;
// zero To means the assignment is current.
type Assignment struct {
	CareUnit ident.HSAID
	From, To Date
}

// Staff is one person in the staff register (HSA): the HSA-id they act under, who they are as a
// person (personnummer, name, address), the care provider they work for, the units they work or
// worked at, and their roles there.
type Staff struct {
	HSAID        ident.HSAID
	PersonID     ident.PersonID
	GivenName    string
	FamilyName   string
	Address      *Address
	CareProvider ident.HSAID
	Units        []Assignment
	Roles        []string
}

// Person is one person in the person register (folkbokföring).
type Person struct {
	PersonID          ident.PersonID
	GivenName         string
	FamilyName        string
	Address           *Address
	ProtectedIdentity bool // skyddade personuppgifter: sekretessmarkering or skyddad folkbokföring
	DeceasedDate      Date // zero when alive
}

// WatchEntry puts a patient on the watch list (patients of media interest and other VIPs):
// every access to them is flagged until Until (the last day it applies; zero: indefinitely).
type WatchEntry struct {
	PersonID ident.PersonID
	Reason   string
	Until    Date
}

// CaseStatus is the state of a case (ärende).
type CaseStatus string

// Case statuses.
const (
	CaseOpen   CaseStatus = "open"
	CaseClosed CaseStatus = "closed"
)

// Case is an ärende about a patient, handled by a staff member; a closed case is one the care
// unit has finished, after which its patient's data should not be read for it.
type Case struct {
	ID       string
	Patient  ident.PersonID
	Handler  ident.HSAID // optional
	Status   CaseStatus
	ClosedAt time.Time // set exactly when Status is closed
}

// Unit holds a care unit's own working hours; units without one use DefaultHours.
type Unit struct {
	CareUnit ident.HSAID
	Hours    WorkingHours
}

// Source is where log controls read reference data from: an imported copy (Registers over a
// Store) or, later, adapters of the HSA directory and the population register. Each method calls
// fn once per record and stops at fn's first error, which it returns.
type Source interface {
	// Staff calls fn for every staff member.
	Staff(ctx context.Context, fn func(*Staff) error) error
	// Persons calls fn for those of ids that the person register holds, in no particular order.
	Persons(ctx context.Context, ids []ident.PersonID, fn func(*Person) error) error
	// Watchlist calls fn for every watch-list entry, expired ones included.
	Watchlist(ctx context.Context, fn func(*WatchEntry) error) error
	// Cases calls fn for every case about one of patients.
	Cases(ctx context.Context, patients []ident.PersonID, fn func(*Case) error) error
	// Units calls fn for every care unit with working hours of its own.
	Units(ctx context.Context, fn func(*Unit) error) error
}
