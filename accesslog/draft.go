package accesslog

import (
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/internal/swetime"
)

// Draft is an entry as a producer sent it, every value still a string, before validation.
// Surfaces (REST JSON, RIV-TA XML) decode into Drafts so that one Validate enforces the same
// rules whichever way an entry arrived. Field names follow the RIV-TA element names.
type Draft struct {
	LogID     string
	System    DraftSystem
	Activity  DraftActivity
	User      DraftUser
	Resources []DraftResource
}

// DraftSystem is the system element of a Draft.
type DraftSystem struct{ SystemID, SystemName string }

// DraftActivity is the activity element of a Draft.
type DraftActivity struct {
	ActivityType, ActivityLevel, ActivityArgs, StartDate, Purpose string
}

// DraftUser is the user element of a Draft.
type DraftUser struct {
	UserID       string
	Name         string
	PersonID     *DraftII // nil when absent
	Assignment   string
	Title        string
	CareProvider DraftCareProvider
	CareUnit     DraftCareUnit
}

// DraftResource is one resource element of a Draft.
type DraftResource struct {
	ResourceType string
	Patient      *DraftPatient // nil when absent
	CareProvider DraftCareProvider
	CareUnit     *DraftCareUnit // nil when absent
}

// DraftPatient is the patient element of a resource.
type DraftPatient struct {
	PatientID   DraftII
	PatientName string
}

// DraftII is an IIType (root and extension). Plain is set when the producer sent the identifier
// as a bare string, in which case Root is empty and the kind is inferred from the number.
type DraftII struct {
	Root, Extension string
	Plain           bool
}

// DraftCareProvider is a careProvider element.
type DraftCareProvider struct{ CareProviderID, CareProviderName string }

// DraftCareUnit is a careUnit element.
type DraftCareUnit struct{ CareUnitID, CareUnitName string }

// ValidateOptions are the tenant- and time-dependent parts of validation.
type ValidateOptions struct {
	// Now is the time of receipt: the upper bound for startDate (plus MaxClockSkew) and the
	// reference date for 10-digit personnummer when startDate itself is unusable.
	Now time.Time
	// AllowReserveIDs admits person identifiers under roots other than the national OIDs, kept
	// verbatim and marked as reserve numbers. Off unless the tenant opts in.
	AllowReserveIDs bool
}

// Bounds of activity.startDate. A producer's clock may run a little fast; an access far in the
// future or before the twentieth century is a producer bug that would poison time ordering.
const MaxClockSkew = 24 * time.Hour

var minStartDate = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

var stockholm = swetime.Stockholm

// Validate checks d against the RIV-TA log:2 schema's rules and vakt's identifier rules and
// returns the normalised Entry. Every broken rule becomes one Problem with the given index and
// the JSON path of the field; values never appear in a Problem. Normalisation: identifiers are
// parsed (personnummer become root OID + 12 digits), startDate becomes UTC, everything else is
// kept as given.
func (d *Draft) Validate(index int, opts ValidateOptions) (Entry, []vakt.Problem) {
	v := validator{index: index}
	var e Entry

	switch {
	case d.LogID == "":
		v.add("logId", "is required")
	case utf8.RuneCountInString(d.LogID) > MaxLogIDLen:
		v.add("logId", "is longer than 36 characters")
	case strings.TrimSpace(d.LogID) != d.LogID:
		v.add("logId", "has leading or trailing whitespace")
	default:
		v.text("", "logId", d.LogID, MaxLogIDLen, false)
		e.LogID = d.LogID
	}

	e.System.ID = v.hsa("system", "systemId", d.System.SystemID)
	e.System.Name = v.text("system", "systemName", d.System.SystemName, MaxTextLen, false)

	a := &d.Activity
	e.Activity.Type = ActivityType(v.text("activity", "activityType", a.ActivityType, MaxTextLen, true))
	e.Activity.Level = v.text("activity", "activityLevel", a.ActivityLevel, MaxTextLen, false)
	e.Activity.Args = v.text("activity", "activityArgs", a.ActivityArgs, MaxArgsLen, false)
	e.Activity.Purpose = Purpose(v.text("activity", "purpose", a.Purpose, MaxTextLen, true))
	ref := opts.Now
	if a.StartDate == "" {
		v.add("activity.startDate", "is required")
	} else if t, err := ParseDateTime(a.StartDate); err != nil {
		v.add("activity.startDate", err.Error())
	} else if t.Before(minStartDate) {
		v.add("activity.startDate", "is before 1900")
	} else if !opts.Now.IsZero() && t.After(opts.Now.Add(MaxClockSkew)) {
		v.add("activity.startDate", "is more than 24 hours in the future")
	} else {
		// Indexes and cursors count in microseconds; finer digits would make them disagree.
		e.Activity.StartDate = t.UTC().Truncate(time.Microsecond)
		ref = t
	}

	u := &d.User
	e.User.ID = v.hsa("user", "userId", u.UserID)
	e.User.Name = v.text("user", "name", u.Name, MaxTextLen, false)
	if u.PersonID != nil {
		e.User.PersonID = v.person("user", "personId", *u.PersonID, ref, opts.AllowReserveIDs)
	}
	e.User.Assignment = v.text("user", "assignment", u.Assignment, MaxTextLen, false)
	e.User.Title = v.text("user", "title", u.Title, MaxTextLen, false)
	e.User.CareProvider = v.careProvider("user.careProvider", u.CareProvider)
	e.User.CareUnit = v.careUnit("user.careUnit", u.CareUnit)

	switch {
	case len(d.Resources) == 0:
		v.add("resources", "must name at least one resource")
	case len(d.Resources) > MaxResources:
		v.add("resources", "has more than 1000 resources")
	default:
		e.Resources = make([]Resource, len(d.Resources))
		for i := range d.Resources {
			r := &d.Resources[i]
			rp := resourcePathsOf(i)
			out := &e.Resources[i]
			out.Type = v.text(rp.base, "resourceType", r.ResourceType, MaxTextLen, true)
			if r.Patient != nil {
				out.Patient.ID = v.person(rp.patient, "patientId", r.Patient.PatientID, ref, opts.AllowReserveIDs)
				out.Patient.Name = v.text(rp.patient, "patientName", r.Patient.PatientName, MaxTextLen, false)
			}
			out.CareProvider = v.careProvider(rp.careProvider, r.CareProvider)
			if r.CareUnit != nil {
				out.CareUnit = v.careUnit(rp.careUnit, *r.CareUnit)
			}
		}
	}
	if len(v.problems) > 0 {
		return Entry{}, v.problems
	}
	return e, nil
}

type validator struct {
	index    int
	problems []vakt.Problem
}

func (v *validator) add(field, reason string) {
	v.problems = append(v.problems, vakt.Problem{Index: v.index, Field: field, Reason: reason})
}

// addAt records a problem at parent.leaf; paths are only put together for problems, so valid
// entries cost no string building.
func (v *validator) addAt(parent, leaf, reason string) { v.add(join(parent, leaf), reason) }

// text checks a string element: XML-representable characters and the schema's maxLength,
// counted in characters as XML Schema does.
func (v *validator) text(parent, leaf, s string, max int, required bool) string {
	if s == "" {
		if required {
			v.addAt(parent, leaf, "is required")
		}
		return ""
	}
	if !utf8.ValidString(s) {
		v.addAt(parent, leaf, "is not valid UTF-8")
		return ""
	}
	if n := utf8.RuneCountInString(s); n > max {
		v.addAt(parent, leaf, "is longer than "+strconv.Itoa(max)+" characters")
		return ""
	}
	for _, r := range s {
		if !xmlChar(r) {
			v.addAt(parent, leaf, "contains a control character")
			return ""
		}
	}
	return s
}

// xmlChar reports whether r may appear in an XML 1.0 document. Entries must survive a round trip
// through the RIV-TA SOAP interface, so JSON may not carry what XML cannot.
func xmlChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

func (v *validator) hsa(parent, leaf, s string) ident.HSAID {
	if s == "" {
		v.addAt(parent, leaf, "is required")
		return ""
	}
	id, err := ident.ParseHSAID(s)
	if err != nil {
		v.addAt(parent, leaf, err.Error())
		return ""
	}
	return id
}

func (v *validator) careProvider(path string, cp DraftCareProvider) CareProvider {
	return CareProvider{
		ID:   v.hsa(path, "careProviderId", cp.CareProviderID),
		Name: v.text(path, "careProviderName", cp.CareProviderName, MaxTextLen, false),
	}
}

func (v *validator) careUnit(path string, cu DraftCareUnit) CareUnit {
	return CareUnit{
		ID:   v.hsa(path, "careUnitId", cu.CareUnitID),
		Name: v.text(path, "careUnitName", cu.CareUnitName, MaxTextLen, false),
	}
}

func (v *validator) person(parent, leaf string, ii DraftII, ref time.Time, allowReserve bool) ident.PersonID {
	// Paths are joined only when there is a problem to report.
	at := func(sub string) string {
		if sub == "" {
			return join(parent, leaf)
		}
		return join(parent, leaf) + "." + sub
	}
	if ii.Plain {
		if ii.Extension == "" {
			v.add(at(""), "is required")
			return ident.PersonID{}
		}
		p, err := ident.ParsePersonID(ii.Extension, ref)
		if err != nil {
			v.add(at(""), err.Error())
		}
		return p
	}
	switch {
	case ii.Root == "":
		v.add(at("root"), "is required")
		return ident.PersonID{}
	case ii.Extension == "":
		v.add(at("extension"), "is required")
		return ident.PersonID{}
	case len(ii.Root) > MaxIIFieldLen:
		v.add(at("root"), "is longer than 64 characters")
		return ident.PersonID{}
	case len(ii.Extension) > MaxIIFieldLen:
		v.add(at("extension"), "is longer than 64 characters")
		return ident.PersonID{}
	}
	p, err := ident.NewPersonID(ii.Root, ii.Extension, ref, allowReserve)
	if err != nil {
		sub := "extension"
		if errors.Is(err, ident.ErrRoot) || errors.Is(err, ident.ErrReserveNotAllowed) || errors.Is(err, ident.ErrRootMismatch) {
			sub = "root"
		}
		v.add(at(sub), err.Error())
	}
	return p
}

// ParseDateTime parses an xs:dateTime as producers send it: RFC 3339 with optional fractional
// seconds; without a zone designator the time is Swedish local time (Europe/Stockholm), which is
// what Swedish systems mean when they leave it out. Errors do not repeat the input.
func ParseDateTime(s string) (time.Time, error) {
	if len(s) < 19 || len(s) > 40 {
		return time.Time{}, errDateTime
	}
	// A zone is present when the text ends in Z or in ±hh:mm after the seconds.
	hasZone := s[len(s)-1] == 'Z' || s[len(s)-1] == 'z'
	if !hasZone && len(s) >= 25 {
		z := s[len(s)-6:]
		hasZone = (z[0] == '+' || z[0] == '-') && z[3] == ':'
	}
	var (
		t   time.Time
		err error
	)
	if hasZone {
		t, err = time.Parse(time.RFC3339Nano, strings.Replace(s, "z", "Z", 1))
	} else {
		t, err = time.ParseInLocation("2006-01-02T15:04:05.999999999", s, stockholm)
	}
	// Go accepts what xs:dateTime does not: year 0000, a comma before the fraction, offsets
	// beyond ±14:00.
	if err != nil || s[10] != 'T' || s[:4] == "0000" || strings.IndexByte(s, ',') >= 0 {
		return time.Time{}, errDateTime
	}
	if _, off := t.Zone(); hasZone && (off > 14*3600 || off < -14*3600) {
		return time.Time{}, errDateTime
	}
	return t, nil
}

var errDateTime = errors.New("must be an xs:dateTime such as 2026-11-22T14:05:00Z or 2026-11-22T14:05:00+01:00")
