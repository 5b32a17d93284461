// Package accesslog is the domain of the PDL access log: the entry (the RIV-TA
// informationsecurity:auditing:log:2 LogType), its validation and canonical JSON form, queries
// with keyset cursors, the Store contract that every storage driver honours, and the Service
// that enforces tenant isolation around a Store.
//
// It does no I/O of its own: drivers (sqlite, postgres) implement Store, surfaces (rest, rivta)
// decode requests into Drafts and call the Service.
package accesslog

import (
	"strings"
	"time"

	"github.com/vakt/vakt/ident"
)

// Length limits of the RIV-TA log:2 schema (informationsecurity_auditing_log_2.0.xsd). Identifiers
// of type HsaId (32) are enforced by ident.ParseHSAID.
const (
	MaxLogIDLen   = 36   // Id
	MaxTextLen    = 256  // SystemName, ActivityTypeValue, ActivityLevel, PurposeDescription, UserName, ...
	MaxArgsLen    = 8192 // ActivityArgs
	MaxResources  = 1000 // not in the schema: a sanity bound on resources per entry
	MaxIIFieldLen = 64   // root and extension of an IIType (the schema leaves them unbounded)
)

// Entry is one access-log entry: who (User, from which CareUnit of which CareProvider), did what
// (Activity) to which data (Resources, each optionally naming a Patient), through which System.
// It maps 1:1 to the RIV-TA LogType; optional elements are empty strings or zero values.
//
// An Entry is valid by construction when it comes from Draft.Validate.
type Entry struct {
	LogID     string // logId: the producer's UUID of the entry, the unit of idempotency
	System    System
	Activity  Activity
	User      User
	Resources []Resource
}

// System is the producing system (SystemType).
type System struct {
	ID   ident.HSAID // systemId
	Name string      // systemName, optional
}

// Activity says what was done, when and why (ActivityType).
type Activity struct {
	Type      ActivityType // activityType
	Level     string       // activityLevel, optional
	Args      string       // activityArgs, optional
	StartDate time.Time    // startDate: when the access happened; UTC after validation
	Purpose   Purpose      // purpose
}

// User is the person who performed the activity and owns the entry (UserType). The entry
// belongs to the tenant that owns User.CareProvider.
type User struct {
	ID           ident.HSAID    // userId
	Name         string         // name, optional
	PersonID     ident.PersonID // personId, optional (zero when absent)
	Assignment   string         // assignment (medarbetaruppdrag), optional
	Title        string         // title, optional
	CareProvider CareProvider   // careProvider (vårdgivare) the user acted for
	CareUnit     CareUnit       // careUnit (vårdenhet) the user acted for
}

// Resource is one piece of information the activity touched (ResourceType).
type Resource struct {
	Type         string       // resourceType, e.g. "Journalanteckning"
	Patient      Patient      // patient, optional (zero ID when absent)
	CareProvider CareProvider // careProvider that holds the information
	CareUnit     CareUnit     // careUnit that produced the information, optional (zero ID when absent)
}

// Patient is the person whose data a resource holds (PatientType).
type Patient struct {
	ID   ident.PersonID // patientId
	Name string         // patientName, optional
}

// CareProvider is a vårdgivare (CareProviderType).
type CareProvider struct {
	ID   ident.HSAID // careProviderId
	Name string      // careProviderName, optional
}

// CareUnit is a vårdenhet (CareUnitType).
type CareUnit struct {
	ID   ident.HSAID // careUnitId
	Name string      // careUnitName, optional
}

// Patients returns the distinct patients named by e's resources, in order of first appearance.
// An entry may name several; a search by any of them finds the entry.
func (e *Entry) Patients() []ident.PersonID {
	var out []ident.PersonID
	for i := range e.Resources {
		p := e.Resources[i].Patient.ID
		if p.IsZero() {
			continue
		}
		dup := false
		for _, q := range out {
			if q == p {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, p)
		}
	}
	return out
}

// ActivityType is the kind of access (activityType). The contract leaves it free text; the values
// of the national application guide (ARK_0041, Tillämpningsanvisning PDL-loggning) are recognised
// by Known, and any other text is kept exactly as given.
type ActivityType string

// Activity types recognised by vakt.
const (
	ActivityRead           ActivityType = "Läsa"
	ActivityWrite          ActivityType = "Skriva"
	ActivitySign           ActivityType = "Signera"
	ActivityPrint          ActivityType = "Utskrift"
	ActivityCountersign    ActivityType = "Vidimera"
	ActivityDelete         ActivityType = "Radera"
	ActivityEmergencyOpen  ActivityType = "Nödöppning"
	activityTypeKnownCount              = 7
)

var knownActivityTypes = [activityTypeKnownCount]ActivityType{
	ActivityRead, ActivityWrite, ActivitySign, ActivityPrint, ActivityCountersign, ActivityDelete, ActivityEmergencyOpen,
}

// Known returns the recognised activity type that t names, ignoring case, and whether there is
// one. Producers spell the values differently ("läsa", "LÄSA"); rules and statistics compare
// the recognised value while the stored entry keeps the producer's spelling.
func (t ActivityType) Known() (ActivityType, bool) {
	for _, k := range knownActivityTypes {
		if strings.EqualFold(string(t), string(k)) {
			return k, true
		}
	}
	return "", false
}

// KnownActivityTypes returns the recognised activity types.
func KnownActivityTypes() []ActivityType {
	return append([]ActivityType(nil), knownActivityTypes[:]...)
}

// Purpose is why the activity was done (purpose). Free text in the contract; common values are
// recognised by Known and others are kept as given.
type Purpose string

// Purposes recognised by vakt (PDL 2 kap. 4 §: the purposes for which patient data may be
// processed, as producers commonly write them).
const (
	PurposeCare             Purpose = "Vård och behandling"
	PurposeQualityAssurance Purpose = "Kvalitetssäkring"
	PurposeAdministration   Purpose = "Administration"
	PurposeFollowUp         Purpose = "Uppföljning"
	PurposeStatistics       Purpose = "Statistik"
	PurposeResearch         Purpose = "Forskning"
	PurposeDisclosure       Purpose = "Utlämnande"
	purposeKnownCount               = 7
)

var knownPurposes = [purposeKnownCount]Purpose{
	PurposeCare, PurposeQualityAssurance, PurposeAdministration, PurposeFollowUp, PurposeStatistics, PurposeResearch, PurposeDisclosure,
}

// Known returns the recognised purpose that p names, ignoring case, and whether there is one.
func (p Purpose) Known() (Purpose, bool) {
	for _, k := range knownPurposes {
		if strings.EqualFold(string(p), string(k)) {
			return k, true
		}
	}
	return "", false
}

// KnownPurposes returns the recognised purposes.
func KnownPurposes() []Purpose {
	return append([]Purpose(nil), knownPurposes[:]...)
}
