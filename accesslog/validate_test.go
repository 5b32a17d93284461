package accesslog_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
)

// validateProblems validates d with o at index 3 and checks the problems; a problem's Reason
// must never contain any of the values in secrets.
func validateProblems(t *testing.T, d accesslog.Draft, o accesslog.ValidateOptions, want []vakt.Problem, secrets ...string) {
	t.Helper()
	e, got := d.Validate(3, o)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("problems:\n got %s\nwant %s", fmtProblems(got), fmtProblems(want))
	}
	if len(got) > 0 && !reflect.DeepEqual(e, accesslog.Entry{}) {
		t.Errorf("an invalid draft gave a non-zero entry %+v", e)
	}
	for _, p := range got {
		for _, s := range secrets {
			if s != "" && (strings.Contains(p.Reason, s) || strings.Contains(p.Field, s)) {
				t.Errorf("problem %+v repeats the value %q", p, s)
			}
		}
	}
}

func prob(field, reason string) vakt.Problem {
	return vakt.Problem{Index: 3, Field: field, Reason: reason}
}

func TestValidateRequired(t *testing.T) {
	validateProblems(t, accesslog.Draft{}, opts, []vakt.Problem{
		prob("logId", "is required"),
		prob("system.systemId", "is required"),
		prob("activity.activityType", "is required"),
		prob("activity.purpose", "is required"),
		prob("activity.startDate", "is required"),
		prob("user.userId", "is required"),
		prob("user.careProvider.careProviderId", "is required"),
		prob("user.careUnit.careUnitId", "is required"),
		prob("resources", "must name at least one resource"),
	})

	// Required elements inside optional ones are required once the optional one is present.
	d := minimalDraft()
	d.User.PersonID = &accesslog.DraftII{}
	d.Resources = []accesslog.DraftResource{
		{},
		{ResourceType: "a", CareProvider: accesslog.DraftCareProvider{CareProviderID: provider},
			Patient:  &accesslog.DraftPatient{PatientID: accesslog.DraftII{Plain: true}, PatientName: "N"},
			CareUnit: &accesslog.DraftCareUnit{CareUnitName: "U"}},
		{ResourceType: "a", CareProvider: accesslog.DraftCareProvider{CareProviderID: provider},
			Patient: &accesslog.DraftPatient{PatientID: accesslog.DraftII{Root: pnrOID}}},
		{ResourceType: "a", CareProvider: accesslog.DraftCareProvider{CareProviderID: provider},
			Patient: &accesslog.DraftPatient{PatientID: accesslog.DraftII{Extension: patientA}}},
	}
	validateProblems(t, d, opts, []vakt.Problem{
		prob("user.personId.root", "is required"),
		prob("resources[0].resourceType", "is required"),
		prob("resources[0].careProvider.careProviderId", "is required"),
		prob("resources[1].patient.patientId", "is required"),
		prob("resources[1].careUnit.careUnitId", "is required"),
		prob("resources[2].patient.patientId.extension", "is required"),
		prob("resources[3].patient.patientId.root", "is required"),
	})
}

func TestValidateIndex(t *testing.T) {
	d := minimalDraft()
	d.LogID = ""
	for _, i := range []int{-1, 0, 9999} {
		_, probs := d.Validate(i, opts)
		if len(probs) != 1 || probs[0].Index != i {
			t.Errorf("Validate(%d): %+v", i, probs)
		}
	}
}

// textFields are the free-text elements with their schema limits.
var textFields = []struct {
	path     string
	max      int
	required bool
	set      func(d *accesslog.Draft, s string)
	get      func(e *accesslog.Entry) string
}{
	{"system.systemName", 256, false,
		func(d *accesslog.Draft, s string) { d.System.SystemName = s },
		func(e *accesslog.Entry) string { return e.System.Name }},
	{"activity.activityType", 256, true,
		func(d *accesslog.Draft, s string) { d.Activity.ActivityType = s },
		func(e *accesslog.Entry) string { return string(e.Activity.Type) }},
	{"activity.activityLevel", 256, false,
		func(d *accesslog.Draft, s string) { d.Activity.ActivityLevel = s },
		func(e *accesslog.Entry) string { return e.Activity.Level }},
	{"activity.activityArgs", 8192, false,
		func(d *accesslog.Draft, s string) { d.Activity.ActivityArgs = s },
		func(e *accesslog.Entry) string { return e.Activity.Args }},
	{"activity.purpose", 256, true,
		func(d *accesslog.Draft, s string) { d.Activity.Purpose = s },
		func(e *accesslog.Entry) string { return string(e.Activity.Purpose) }},
	{"user.name", 256, false,
		func(d *accesslog.Draft, s string) { d.User.Name = s },
		func(e *accesslog.Entry) string { return e.User.Name }},
	{"user.assignment", 256, false,
		func(d *accesslog.Draft, s string) { d.User.Assignment = s },
		func(e *accesslog.Entry) string { return e.User.Assignment }},
	{"user.title", 256, false,
		func(d *accesslog.Draft, s string) { d.User.Title = s },
		func(e *accesslog.Entry) string { return e.User.Title }},
	{"user.careProvider.careProviderName", 256, false,
		func(d *accesslog.Draft, s string) { d.User.CareProvider.CareProviderName = s },
		func(e *accesslog.Entry) string { return e.User.CareProvider.Name }},
	{"user.careUnit.careUnitName", 256, false,
		func(d *accesslog.Draft, s string) { d.User.CareUnit.CareUnitName = s },
		func(e *accesslog.Entry) string { return e.User.CareUnit.Name }},
	{"resources[1].resourceType", 256, true,
		func(d *accesslog.Draft, s string) { d.Resources[1].ResourceType = s },
		func(e *accesslog.Entry) string { return e.Resources[1].Type }},
	{"resources[1].patient.patientName", 256, false,
		func(d *accesslog.Draft, s string) { d.Resources[1].Patient.PatientName = s },
		func(e *accesslog.Entry) string { return e.Resources[1].Patient.Name }},
	{"resources[1].careProvider.careProviderName", 256, false,
		func(d *accesslog.Draft, s string) { d.Resources[1].CareProvider.CareProviderName = s },
		func(e *accesslog.Entry) string { return e.Resources[1].CareProvider.Name }},
	{"resources[1].careUnit.careUnitName", 256, false,
		func(d *accesslog.Draft, s string) { d.Resources[1].CareUnit.CareUnitName = s },
		func(e *accesslog.Entry) string { return e.Resources[1].CareUnit.Name }},
}

// textDraft returns fullDraft with a second resource that has a patient and a care unit, so
// that every text field of textFields exists.
func textDraft() accesslog.Draft {
	d := fullDraft()
	d.Resources[1].CareUnit = &accesslog.DraftCareUnit{CareUnitID: unit}
	return d
}

func TestValidateTextLength(t *testing.T) {
	for _, f := range textFields {
		t.Run(f.path, func(t *testing.T) {
			ok := []string{
				strings.Repeat("å", f.max), // 2 bytes each: counted in characters, not bytes
				strings.Repeat("a", f.max),
				strings.Repeat("å", f.max-1) + "🩺", // 4 bytes
				"x",
				" leading and trailing space kept ",
			}
			for _, s := range ok {
				d := textDraft()
				f.set(&d, s)
				e := mustValidate(t, d, opts)
				if got := f.get(&e); got != s {
					t.Errorf("%d bytes: kept %q", len(s), got)
				}
			}
			reason := "is longer than " + map[int]string{256: "256", 8192: "8192"}[f.max] + " characters"
			for _, s := range []string{
				strings.Repeat("å", f.max+1),
				strings.Repeat("a", f.max+1),
				strings.Repeat("å", f.max) + "🩺",
			} {
				d := textDraft()
				f.set(&d, s)
				validateProblems(t, d, opts, []vakt.Problem{prob(f.path, reason)})
			}
			d := textDraft()
			f.set(&d, "")
			var want []vakt.Problem
			if f.required {
				want = []vakt.Problem{prob(f.path, "is required")}
			}
			validateProblems(t, d, opts, want)
		})
	}
}

func TestValidateTextCharacters(t *testing.T) {
	allowed := []string{
		"tab\there", "new\nline", "carriage\rreturn", "\t\n\r",
		"\u007f", "\u0085\u009f", // DEL and C1 controls are XML 1.0 characters
		"\ud7ff\ue000\ufffd", "\U00010000\U0010ffff", "\u2028\u2029", "<>&\"'\\",
	}
	controls := []string{"\x00", "a\x01b", "\x08", "\x0b", "\x0c", "\x1b[31m", "\x1f", "a\ufffe", "\uffff"}
	invalid := []string{"\xff", "a\xc3", "\xed\xa0\x80" /* an encoded surrogate */, "\xc0\xaf" /* overlong */}
	for _, f := range textFields {
		t.Run(f.path, func(t *testing.T) {
			for _, s := range allowed {
				d := textDraft()
				f.set(&d, s)
				e := mustValidate(t, d, opts)
				if got := f.get(&e); got != s {
					t.Errorf("kept %q, want %q", got, s)
				}
			}
			for _, s := range controls {
				d := textDraft()
				f.set(&d, s)
				validateProblems(t, d, opts, []vakt.Problem{prob(f.path, "contains a control character")})
			}
			for _, s := range invalid {
				d := textDraft()
				f.set(&d, s)
				validateProblems(t, d, opts, []vakt.Problem{prob(f.path, "is not valid UTF-8")})
			}
		})
	}
}

func TestValidateLogID(t *testing.T) {
	for _, c := range []struct {
		logID  string
		reason string // "" for valid
	}{
		{logID, ""},
		{strings.Repeat("å", 36), ""},
		{"a b", ""},
		{"1", ""},
		{strings.Repeat("å", 37), "is longer than 36 characters"},
		{strings.Repeat("a", 37), "is longer than 36 characters"},
		{" " + logID[1:], "has leading or trailing whitespace"},
		{logID[1:] + "\n", "has leading or trailing whitespace"},
		{"\u00a0x", "has leading or trailing whitespace"},
		{"a\x00b", "contains a control character"},
		{"a\tb", ""},
		{"a\xffb", "is not valid UTF-8"},
	} {
		d := minimalDraft()
		d.LogID = c.logID
		if c.reason == "" {
			if e := mustValidate(t, d, opts); e.LogID != c.logID {
				t.Errorf("logId %q kept as %q", c.logID, e.LogID)
			}
			continue
		}
		validateProblems(t, d, opts, []vakt.Problem{prob("logId", c.reason)})
	}
}

func TestValidateHSAIDs(t *testing.T) {
	fields := []struct {
		path string
		set  func(d *accesslog.Draft, s string)
		get  func(e *accesslog.Entry) ident.HSAID
	}{
		{"system.systemId", func(d *accesslog.Draft, s string) { d.System.SystemID = s },
			func(e *accesslog.Entry) ident.HSAID { return e.System.ID }},
		{"user.userId", func(d *accesslog.Draft, s string) { d.User.UserID = s },
			func(e *accesslog.Entry) ident.HSAID { return e.User.ID }},
		{"user.careProvider.careProviderId", func(d *accesslog.Draft, s string) { d.User.CareProvider.CareProviderID = s },
			func(e *accesslog.Entry) ident.HSAID { return e.User.CareProvider.ID }},
		{"user.careUnit.careUnitId", func(d *accesslog.Draft, s string) { d.User.CareUnit.CareUnitID = s },
			func(e *accesslog.Entry) ident.HSAID { return e.User.CareUnit.ID }},
		{"resources[0].careProvider.careProviderId", func(d *accesslog.Draft, s string) { d.Resources[0].CareProvider.CareProviderID = s },
			func(e *accesslog.Entry) ident.HSAID { return e.Resources[0].CareProvider.ID }},
		{"resources[0].careUnit.careUnitId", func(d *accesslog.Draft, s string) { d.Resources[0].CareUnit.CareUnitID = s },
			func(e *accesslog.Entry) ident.HSAID { return e.Resources[0].CareUnit.ID }},
	}
	bad := []struct {
		id  string
		err error
	}{
		{"SE2321000016", ident.ErrHSASeparator},
		{"se2321000016-E001", ident.ErrHSAPrefix},
		{"SE23210000-E001x", ident.ErrHSAOrgNumber},
		{"SE2321000016-", ident.ErrHSALocalPart},
		{"SE2321000016-E_01", ident.ErrHSALocalPart},
		{"SE2321000016-E 01", ident.ErrHSASpace},
		{"SE2321000016-" + strings.Repeat("A", 20), ident.ErrHSATooLong},
		{"   ", ident.ErrEmpty},
	}
	for _, f := range fields {
		t.Run(f.path, func(t *testing.T) {
			for _, id := range []string{"SE2321000016-E9", "TSTNMT2321000156-B12", "SE162321000016-" + strings.Repeat("a", 17)} {
				d := fullDraft()
				f.set(&d, id)
				if e := mustValidate(t, d, opts); f.get(&e) != ident.HSAID(id) {
					t.Errorf("%q kept as %q", id, f.get(&e))
				}
			}
			d := fullDraft()
			f.set(&d, " SE2321000016-E9\t")
			if e := mustValidate(t, d, opts); f.get(&e) != "SE2321000016-E9" {
				t.Errorf("surrounding whitespace kept: %q", f.get(&e))
			}
			for _, b := range bad {
				d := fullDraft()
				f.set(&d, b.id)
				validateProblems(t, d, opts, []vakt.Problem{prob(f.path, b.err.Error())})
			}
			d = fullDraft()
			f.set(&d, "")
			validateProblems(t, d, opts, []vakt.Problem{prob(f.path, "is required")})
		})
	}
}

// personFields are the two places a person identifier appears.
var personFields = []struct {
	path string
	set  func(d *accesslog.Draft, ii accesslog.DraftII)
	get  func(e *accesslog.Entry) ident.PersonID
}{
	{"user.personId",
		func(d *accesslog.Draft, ii accesslog.DraftII) { d.User.PersonID = &ii },
		func(e *accesslog.Entry) ident.PersonID { return e.User.PersonID }},
	{"resources[0].patient.patientId",
		func(d *accesslog.Draft, ii accesslog.DraftII) {
			d.Resources[0].Patient = &accesslog.DraftPatient{PatientID: ii}
		},
		func(e *accesslog.Entry) ident.PersonID { return e.Resources[0].Patient.ID }},
}

func TestValidatePersonID(t *testing.T) {
	plain := func(s string) accesslog.DraftII { return accesslog.DraftII{Extension: s, Plain: true} }
	obj := func(root, ext string) accesslog.DraftII { return accesslog.DraftII{Root: root, Extension: ext} }
	in1950 := "1950-06-01T10:00:00+01:00"
	for _, c := range []struct {
		name      string
		ii        accesslog.DraftII
		startDate string // default minimalDraft's (2026)
		reserve   bool   // AllowReserveIDs
		kind      ident.Kind
		root, ext string // the normalised identifier
	}{
		{"12 digits", plain(patientA), "", false, ident.PersonalIdentityNumber, pnrOID, patientA},
		{"12 digits with dash", plain("19121212-1212"), "", false, ident.PersonalIdentityNumber, pnrOID, patientA},
		{"12 digits with plus", plain("19121212+1212"), "", false, ident.PersonalIdentityNumber, pnrOID, patientA},
		{"12 digits with surrounding space", plain(" 191212121212\t"), "", false, ident.PersonalIdentityNumber, pnrOID, patientA},
		{"10 digits in 2026", plain("121212-1212"), "", false, ident.PersonalIdentityNumber, pnrOID, "201212121212"},
		{"10 digits without separator in 2026", plain("1212121212"), "", false, ident.PersonalIdentityNumber, pnrOID, "201212121212"},
		{"10 digits with plus in 2026", plain("121212+1212"), "", false, ident.PersonalIdentityNumber, pnrOID, "191212121212"},
		// The century comes from startDate, not from the time of receipt (2026).
		{"10 digits in 1950", plain("121212-1212"), in1950, false, ident.PersonalIdentityNumber, pnrOID, "191212121212"},
		{"10 digits with plus in 1950", plain("121212+1212"), in1950, false, ident.PersonalIdentityNumber, pnrOID, "181212121212"},
		{"10 digits object in 1950", obj(pnrOID, "121212-1212"), in1950, false, ident.PersonalIdentityNumber, pnrOID, "191212121212"},
		{"10 digits samordningsnummer in 1950", plain(coordC[2:8] + "-" + coordC[8:]), in1950, false, ident.CoordinationNumber, coordOID, "18" + coordC[2:]},
		// The startDate's own zone decides the year: New Year's Eve in Stockholm is 2000 in UTC+1 ...
		{"startDate year in its zone", plain("991231-" + pnr("19991231", "123")[8:]), "2000-01-01T00:30:00+01:00", false, ident.PersonalIdentityNumber, pnrOID, pnr("19991231", "123")},
		{"samordningsnummer", plain(coordC), "", false, ident.CoordinationNumber, coordOID, coordC},
		{"samordningsnummer object", obj(coordOID, coordC), "", false, ident.CoordinationNumber, coordOID, coordC},
		{"personnummer object", obj(pnrOID, patientB), "", false, ident.PersonalIdentityNumber, pnrOID, patientB},
		{"reserve number allowed", obj(reserveOI, "R-0001/ab"), "", true, ident.ReserveNumber, reserveOI, "R-0001/ab"},
		{"reserve number of 64 characters", obj(reserveOI, strings.Repeat("R", 64)), "", true, ident.ReserveNumber, reserveOI, strings.Repeat("R", 64)},
		{"national root with reserve allowed", obj(pnrOID, patientA), "", true, ident.PersonalIdentityNumber, pnrOID, patientA},
	} {
		for _, f := range personFields {
			t.Run(c.name+"/"+f.path, func(t *testing.T) {
				d := minimalDraft()
				if c.startDate != "" {
					d.Activity.StartDate = c.startDate
				}
				f.set(&d, c.ii)
				e := mustValidate(t, d, accesslog.ValidateOptions{Now: now, AllowReserveIDs: c.reserve})
				p := f.get(&e)
				if p.Kind() != c.kind || p.Root() != c.root || p.Extension() != c.ext {
					t.Fatalf("got %s %s %s, want %s %s %s", p.Kind(), p.Root(), p.Extension(), c.kind, c.root, c.ext)
				}
			})
		}
	}
}

func TestValidatePersonIDProblems(t *testing.T) {
	plain := func(s string) accesslog.DraftII { return accesslog.DraftII{Extension: s, Plain: true} }
	obj := func(root, ext string) accesslog.DraftII { return accesslog.DraftII{Root: root, Extension: ext} }
	badDate := pnr("19121312", "121")
	for _, c := range []struct {
		name    string
		ii      accesslog.DraftII
		reserve bool
		sub     string // "", ".root" or ".extension"
		reason  string
	}{
		{"plain empty", plain(""), false, "", "is required"},
		{"plain wrong check digit", plain(wrongCheck(patientA)), false, "", ident.ErrChecksum.Error()},
		{"plain 10 digits wrong check digit", plain("121212-1213"), false, "", ident.ErrChecksum.Error()},
		{"plain not a number", plain("Tolvan"), false, "", ident.ErrFormat.Error()},
		{"plain 11 digits", plain(patientA[1:]), false, "", ident.ErrFormat.Error()},
		{"plain no such date", plain(badDate), false, "", ident.ErrDate.Error()},
		{"plain whitespace", plain("  "), false, "", ident.ErrEmpty.Error()},
		{"plain reserve-looking", plain("R-0001"), true, "", ident.ErrFormat.Error()},
		{"object wrong check digit", obj(pnrOID, wrongCheck(patientA)), false, ".extension", ident.ErrChecksum.Error()},
		{"object bad format", obj(pnrOID, "1912121212121"), false, ".extension", ident.ErrFormat.Error()},
		{"object no such date", obj(coordOID, pnr("19121392", "121")), false, ".extension", ident.ErrDate.Error()},
		{"samordningsnummer under personnummer root", obj(pnrOID, coordC), false, ".root", "root OID does not match the kind of number: a samordningsnummer under the personnummer root"},
		{"personnummer under samordningsnummer root", obj(coordOID, patientA), false, ".root", "root OID does not match the kind of number: a personnummer under the samordningsnummer root"},
		{"reserve not allowed", obj(reserveOI, "R-0001"), false, ".root", ident.ErrReserveNotAllowed.Error()},
		{"reserve not allowed, personnummer as extension", obj(reserveOI, patientA), false, ".root", ident.ErrReserveNotAllowed.Error()},
		{"root not an OID", obj("Tolvan", patientA), false, ".root", ident.ErrRoot.Error()},
		{"root not an OID, reserve allowed", obj("1.02.3", "R1"), true, ".root", ident.ErrRoot.Error()},
		{"root one arc", obj("1", "R1"), true, ".root", ident.ErrRoot.Error()},
		{"reserve with space", obj(reserveOI, "R 1"), true, ".extension", ident.ErrReserveFormat.Error()},
		{"reserve not ASCII", obj(reserveOI, "Rå"), true, ".extension", ident.ErrReserveFormat.Error()},
		{"reserve too long", obj(reserveOI, strings.Repeat("R", 65)), true, ".extension", "is longer than 64 characters"},
		{"root too long", obj("1."+strings.Repeat("2", 63), "R"), true, ".root", "is longer than 64 characters"},
		{"root missing", obj("", patientA), false, ".root", "is required"},
		{"extension missing", obj(pnrOID, ""), false, ".extension", "is required"},
	} {
		for _, f := range personFields {
			t.Run(c.name+"/"+f.path, func(t *testing.T) {
				d := minimalDraft()
				f.set(&d, c.ii)
				validateProblems(t, d, accesslog.ValidateOptions{Now: now, AllowReserveIDs: c.reserve},
					[]vakt.Problem{prob(f.path+c.sub, c.reason)}, c.ii.Extension, strings.TrimSpace(c.ii.Extension))
			})
		}
	}
}

// TestValidatePersonIDReference checks the reference date of 10-digit numbers when startDate
// is unusable: the time of receipt, and an explicit problem when there is none.
func TestValidatePersonIDReference(t *testing.T) {
	d := minimalDraft()
	d.Activity.StartDate = "yesterday"
	d.User.PersonID = &accesslog.DraftII{Extension: "121212-1212", Plain: true}
	dateProblem := prob("activity.startDate", dateTimeReason)
	validateProblems(t, d, opts, []vakt.Problem{dateProblem})
	validateProblems(t, d, accesslog.ValidateOptions{}, []vakt.Problem{dateProblem, prob("user.personId", ident.ErrReference.Error())})

	// A valid startDate serves even without a time of receipt.
	d.Activity.StartDate = "2026-11-22T10:00:00Z"
	e := mustValidate(t, d, accesslog.ValidateOptions{})
	if got := e.User.PersonID.Extension(); got != "201212121212" {
		t.Fatalf("got %s", got)
	}
}

func TestValidateStartDate(t *testing.T) {
	utc := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"2026-11-22T10:15:30Z", utc("2026-11-22T10:15:30Z")},
		{"2026-11-22T10:15:30z", utc("2026-11-22T10:15:30Z")},
		{"2026-11-22T11:15:30+01:00", utc("2026-11-22T10:15:30Z")},
		{"2026-11-22T05:15:30-05:00", utc("2026-11-22T10:15:30Z")},
		{"2026-11-22T10:15:30+00:00", utc("2026-11-22T10:15:30Z")},
		{"2026-11-22T10:15:30-00:00", utc("2026-11-22T10:15:30Z")},
		{"2026-11-23T00:15:30+14:00", utc("2026-11-22T10:15:30Z")},
		// Without a zone: Swedish local time, CEST (UTC+2) in summer and CET (UTC+1) in winter.
		{"2026-07-01T12:00:00", utc("2026-07-01T10:00:00Z")},
		{"2026-01-15T12:00:00", utc("2026-01-15T11:00:00Z")},
		{"2026-03-29T01:59:59", utc("2026-03-29T00:59:59Z")}, // last second of winter time
		{"2026-03-29T03:00:00", utc("2026-03-29T01:00:00Z")}, // first of summer time
		{"2026-10-25T03:00:00", utc("2026-10-25T02:00:00Z")}, // after the change back
		{"2026-07-01T12:00:00.25", utc("2026-07-01T10:00:00.25Z")},
		{"1950-06-01T12:00:00", utc("1950-06-01T11:00:00Z")}, // no summer time in 1950
		// Fractions are truncated to microseconds, not rounded.
		{"2026-11-22T10:15:30.123456789Z", utc("2026-11-22T10:15:30.123456Z")},
		{"2026-11-22T10:15:30.9999999Z", utc("2026-11-22T10:15:30.999999Z")},
		{"2026-11-22T10:15:30.1Z", utc("2026-11-22T10:15:30.1Z")},
		{"2026-11-22T10:15:30.000000Z", utc("2026-11-22T10:15:30Z")},
		{"2026-11-22T10:15:30.0000009Z", utc("2026-11-22T10:15:30Z")},
		{"2026-11-22T10:15:30.1234567891234Z", utc("2026-11-22T10:15:30.123456Z")},
		// Bounds: 1900 and now + 24 h are allowed.
		{"1900-01-01T00:00:00Z", utc("1900-01-01T00:00:00Z")},
		{"2026-11-23T12:00:00Z", utc("2026-11-23T12:00:00Z")},
		{"2026-11-23T13:00:00+01:00", utc("2026-11-23T12:00:00Z")},
	} {
		d := minimalDraft()
		d.Activity.StartDate = c.in
		e := mustValidate(t, d, opts)
		got := e.Activity.StartDate
		if !got.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("%s: got %s, want %s", c.in, got.Format(time.RFC3339Nano), c.want.Format(time.RFC3339Nano))
		}
	}

	bad := dateTimeReason
	for _, c := range []struct{ in, reason string }{
		{"2031-05-17", bad},
		{"2026-11-22T10:15", bad},
		{"2026-11-22 10:15:30Z", bad},
		{"2026-11-22t10:15:30Z", bad},
		{"2026-11-22T10:15:30ZZ", bad},
		{"2026-11-22T10:15:30+0100", bad},
		{"2026-11-22T10:15:30+01", bad},
		{"2026-11-22T10:15:30 +01:00", bad},
		{"2026-11-22T10:15:30.Z", bad},
		{"2026-11-22T10:15:30UTC", bad},
		{"22/11/2026 10:15:30", bad},
		{"2026-13-01T00:00:00Z", bad},
		{"2026-02-29T00:00:00Z", bad},
		{"2026-11-22T24:00:01Z", bad},
		{"2026-11-22T10:60:00Z", bad},
		{"+2026-11-22T10:15:30Z", bad},
		{"20261122T101530Z", bad},
		{"2026-11-22T10:15:30.1234567890123456789012Z", bad}, // longer than 40 bytes
		{" 2026-11-22T10:15:30Z", bad},
		{"1899-12-31T23:59:59Z", "is before 1900"},
		{"1900-01-01T00:59:59+01:00", "is before 1900"},
		{"0001-01-01T00:00:00Z", "is before 1900"},
		{"2026-11-23T12:00:01Z", "is more than 24 hours in the future"},
		{"2026-11-23T12:00:00.000001Z", "is more than 24 hours in the future"},
		{"2026-11-23T12:00:00.000000001Z", "is more than 24 hours in the future"},
		{"9999-12-31T23:59:59Z", "is more than 24 hours in the future"},
	} {
		d := minimalDraft()
		d.Activity.StartDate = c.in
		t.Run(c.in, func(t *testing.T) {
			validateProblems(t, d, opts, []vakt.Problem{prob("activity.startDate", c.reason)}, c.in)
		})
	}

	// Without a time of receipt there is no upper bound.
	d := minimalDraft()
	d.Activity.StartDate = "9999-12-31T23:59:59Z"
	if e := mustValidate(t, d, accesslog.ValidateOptions{}); e.Activity.StartDate.Year() != 9999 {
		t.Fatal(e.Activity.StartDate)
	}
}

func TestParseDateTime(t *testing.T) {
	// Without a zone the time is in Europe/Stockholm; with one, in that zone.
	tm, err := accesslog.ParseDateTime("2026-07-01T12:00:00")
	if err != nil || tm.Location().String() != "Europe/Stockholm" {
		t.Fatalf("got %v, %v", tm, err)
	}
	if _, off := tm.Zone(); off != 2*3600 {
		t.Fatalf("summer offset %d", off)
	}
	tm, err = accesslog.ParseDateTime("2026-07-01T12:00:00-03:30")
	if _, off := tm.Zone(); err != nil || off != -(3*3600+1800) {
		t.Fatalf("got %v, %v", tm, err)
	}
	if _, err := accesslog.ParseDateTime("not 191212121212 a date"); err == nil || strings.Contains(err.Error(), "1912") {
		t.Fatalf("got %v", err)
	}
}

func TestValidateResourcesCount(t *testing.T) {
	many := func(n int) []accesslog.DraftResource {
		rs := make([]accesslog.DraftResource, n)
		for i := range rs {
			rs[i] = minimalDraft().Resources[0]
		}
		return rs
	}
	d := minimalDraft()
	d.Resources = many(accesslog.MaxResources)
	if e := mustValidate(t, d, opts); len(e.Resources) != accesslog.MaxResources {
		t.Fatalf("%d resources", len(e.Resources))
	}
	d.Resources = many(accesslog.MaxResources + 1)
	validateProblems(t, d, opts, []vakt.Problem{prob("resources", "has more than 1000 resources")})
	d.Resources = []accesslog.DraftResource{}
	validateProblems(t, d, opts, []vakt.Problem{prob("resources", "must name at least one resource")})
}

// TestValidateNormalised checks the whole Entry of the fully populated draft: identifiers
// parsed, startDate in UTC, every text exactly as given.
func TestValidateNormalised(t *testing.T) {
	d := fullDraft()
	d.System.SystemID = "  " + system + " "
	got := mustValidate(t, d, opts)
	want := accesslog.Entry{
		LogID:  logID,
		System: accesslog.System{ID: system, Name: `Journal "Kålle" \ 2`},
		Activity: accesslog.Activity{
			Type:      "läsa",
			Level:     "Översikt",
			Args:      "sök=<a&b>\tflik 2\nrad 3 – ✓ 🩺",
			StartDate: time.Date(2026, 11, 22, 13, 5, 0, 123456000, time.UTC),
			Purpose:   accesslog.PurposeCare,
		},
		User: accesslog.User{
			ID:           user,
			Name:         "Åsa Öberg",
			PersonID:     mustPerson(t, patientA),
			Assignment:   "Läkare, VC Norr",
			Title:        "Överläkare",
			CareProvider: accesslog.CareProvider{ID: provider, Name: "Region Exempel"},
			CareUnit:     accesslog.CareUnit{ID: unit, Name: "Vårdcentralen Norr"},
		},
		Resources: []accesslog.Resource{
			{
				Type:         "Journalanteckning",
				Patient:      accesslog.Patient{ID: mustPerson(t, "201212121212"), Name: "Tolvan Tolvansson"},
				CareProvider: accesslog.CareProvider{ID: provider, Name: "Region Exempel"},
				CareUnit:     accesslog.CareUnit{ID: unit2, Name: "Labb"},
			},
			{
				Type:         "Provsvar",
				Patient:      accesslog.Patient{ID: mustPerson(t, coordC)},
				CareProvider: accesslog.CareProvider{ID: provider2},
			},
			{
				Type:         "Remiss",
				CareProvider: accesslog.CareProvider{ID: provider},
			},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	if got.Activity.StartDate.Location() != time.UTC {
		t.Fatal("startDate not in UTC")
	}
	// Validating does not change the draft.
	if d2 := fullDraft(); d.Activity != d2.Activity || *d.User.PersonID != *d2.User.PersonID {
		t.Fatal("Validate changed its draft")
	}
}

func TestKnown(t *testing.T) {
	for _, c := range []struct {
		in   accesslog.ActivityType
		want accesslog.ActivityType
	}{
		{"Läsa", accesslog.ActivityRead},
		{"läsa", accesslog.ActivityRead},
		{"LÄSA", accesslog.ActivityRead},
		{"lÄsA", accesslog.ActivityRead},
		{"skriva", accesslog.ActivityWrite},
		{"SIGNERA", accesslog.ActivitySign},
		{"utskrift", accesslog.ActivityPrint},
		{"vidimera", accesslog.ActivityCountersign},
		{"RADERA", accesslog.ActivityDelete},
		{"NÖDÖPPNING", accesslog.ActivityEmergencyOpen},
		{"nödöppning", accesslog.ActivityEmergencyOpen},
	} {
		if got, ok := c.in.Known(); !ok || got != c.want {
			t.Errorf("%q.Known() = %q, %v", c.in, got, ok)
		}
	}
	for _, s := range []accesslog.ActivityType{"", "Läs", "Lasa", " Läsa", "Läsa ", "Egen aktivitet", "Read"} {
		if got, ok := s.Known(); ok || got != "" {
			t.Errorf("%q.Known() = %q, %v", s, got, ok)
		}
	}
	for _, c := range []struct{ in, want accesslog.Purpose }{
		{"Vård och behandling", accesslog.PurposeCare},
		{"VÅRD OCH BEHANDLING", accesslog.PurposeCare},
		{"kvalitetssäkring", accesslog.PurposeQualityAssurance},
		{"ADMINISTRATION", accesslog.PurposeAdministration},
		{"uppföljning", accesslog.PurposeFollowUp},
		{"statistik", accesslog.PurposeStatistics},
		{"Forskning", accesslog.PurposeResearch},
		{"utlämnande", accesslog.PurposeDisclosure},
	} {
		if got, ok := c.in.Known(); !ok || got != c.want {
			t.Errorf("%q.Known() = %q, %v", c.in, got, ok)
		}
	}
	for _, s := range []accesslog.Purpose{"", "Vård", "Vård och  behandling", "Egen vård"} {
		if got, ok := s.Known(); ok || got != "" {
			t.Errorf("%q.Known() = %q, %v", s, got, ok)
		}
	}

	// Each recognised value is its own canonical form, and the lists are copies.
	types := accesslog.KnownActivityTypes()
	if len(types) != 7 {
		t.Fatalf("%d activity types", len(types))
	}
	for _, k := range types {
		if got, ok := k.Known(); !ok || got != k {
			t.Errorf("%q.Known() = %q, %v", k, got, ok)
		}
	}
	types[0] = "changed"
	if accesslog.KnownActivityTypes()[0] != accesslog.ActivityRead {
		t.Error("KnownActivityTypes returned its own array")
	}
	purposes := accesslog.KnownPurposes()
	if len(purposes) != 7 {
		t.Fatalf("%d purposes", len(purposes))
	}
	for _, k := range purposes {
		if got, ok := k.Known(); !ok || got != k {
			t.Errorf("%q.Known() = %q, %v", k, got, ok)
		}
	}
	purposes[0] = "changed"
	if accesslog.KnownPurposes()[0] != accesslog.PurposeCare {
		t.Error("KnownPurposes returned its own array")
	}

	// Validation keeps the producer's spelling, known or not.
	for _, s := range []string{"LÄSA", "Egen aktivitet"} {
		d := minimalDraft()
		d.Activity.ActivityType = s
		d.Activity.Purpose = strings.ToUpper(s)
		e := mustValidate(t, d, opts)
		if string(e.Activity.Type) != s || string(e.Activity.Purpose) != strings.ToUpper(s) {
			t.Errorf("%q became %q / %q", s, e.Activity.Type, e.Activity.Purpose)
		}
	}
}

func TestEntryPatients(t *testing.T) {
	a, b, c := mustPerson(t, patientA), mustPerson(t, patientB), mustPerson(t, coordC)
	res := func(ps ...ident.PersonID) []accesslog.Resource {
		out := make([]accesslog.Resource, len(ps))
		for i, p := range ps {
			out[i].Patient.ID = p
		}
		return out
	}
	var none ident.PersonID
	for _, tc := range []struct {
		res  []accesslog.Resource
		want []ident.PersonID
	}{
		{nil, nil},
		{res(none, none), nil},
		{res(a), []ident.PersonID{a}},
		{res(a, a, a), []ident.PersonID{a}},
		{res(b, none, a, b, c, a, none, c), []ident.PersonID{b, a, c}},
	} {
		e := accesslog.Entry{Resources: tc.res}
		if got := e.Patients(); !slices.Equal(got, tc.want) {
			t.Errorf("got %d patients %v, want %v", len(got), got, tc.want)
		}
	}
	// The same number under the same root is one patient however it was written.
	d := minimalDraft()
	d.Resources = append(d.Resources, d.Resources[0], d.Resources[0])
	d.Resources[0].Patient = &accesslog.DraftPatient{PatientID: accesslog.DraftII{Extension: "121212-1212", Plain: true}}
	d.Resources[1].Patient = &accesslog.DraftPatient{PatientID: accesslog.DraftII{Root: pnrOID, Extension: "201212121212"}}
	d.Resources[2].Patient = &accesslog.DraftPatient{PatientID: accesslog.DraftII{Extension: "20121212+1212", Plain: true}}
	e := mustValidate(t, d, opts)
	if got := e.Patients(); len(got) != 1 || got[0].Extension() != "201212121212" {
		t.Fatalf("got %v", got)
	}
}

// TestParseDateTimeFollowsXSD: what Go's parser tolerates but xs:dateTime forbids is refused.
func TestParseDateTimeFollowsXSD(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"2026-11-22T10:15:30Z", true},
		{"2026-11-22T10:15:30.5+14:00", true},
		{"2026-11-22T10:15:30-14:00", true},
		{"2026-11-22T10:15:30,5Z", false},
		{"0000-01-01T00:00:00Z", false},
		{"2026-11-22T10:15:30+14:30", false},
		{"2026-11-22T10:15:30-15:00", false},
		{"2026-11-22 10:15:30Z", false},
	} {
		_, err := accesslog.ParseDateTime(c.in)
		if (err == nil) != c.ok {
			t.Errorf("ParseDateTime(%q) error = %v, want ok=%v", c.in, err, c.ok)
		}
	}
}
