package accesslog_test

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
)

// now is the time of receipt in tests: the upper bound of startDate is now + 24 h.
var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

var opts = accesslog.ValidateOptions{Now: now}

// luhnValid is an independent check of a personnummer's last ten digits: Luhn as usually
// described, doubling every second digit from the right.
func luhnValid(digits string) bool {
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d = d/10 + d%10
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// pnr returns the 12-digit number YYYYMMDD NNN C with the check digit luhnValid accepts, so
// that no test relies on a hand-computed check digit.
func pnr(yyyymmdd, nnn string) string {
	for c := '0'; c <= '9'; c++ {
		s := yyyymmdd + nnn + string(c)
		if luhnValid(s[2:]) {
			return s
		}
	}
	panic("no check digit")
}

// wrongCheck returns s with a wrong check digit.
func wrongCheck(s string) string {
	c := s[len(s)-1]
	return s[:len(s)-1] + string('0'+(c-'0'+1)%10)
}

// Identifiers used throughout the tests.
const (
	provider  = "SE2321000016-0001"
	provider2 = "SE2321000016-0002"
	unit      = "SE2321000016-E001"
	unit2     = "SE2321000016-E002"
	user      = "SE2321000016-U001"
	system    = "SE2321000016-S001"
	patientA  = "191212121212"                         // Skatteverket's example personnummer
	reserveOI = "1.2.752.97.3.1.3"                     // a care provider's reserve-number root
	coordOID  = ident.OIDCoordinationNumber            // samordningsnummer
	pnrOID    = ident.OIDPersonalIdentityNumber        // personnummer
	logID     = "0b7c1c52-6d0e-4d8a-9b7e-3f1d2c4b5a69" // 36 characters
)

// patientB is a second personnummer (a leap day) and coordC a samordningsnummer (day 12 + 60).
// TestHelpers checks their check digits.
const (
	patientB = "198002292384"
	coordC   = "199001723858"
)

// minimalDraft returns a valid draft with only the required elements.
func minimalDraft() accesslog.Draft {
	return accesslog.Draft{
		LogID:  logID,
		System: accesslog.DraftSystem{SystemID: system},
		Activity: accesslog.DraftActivity{
			ActivityType: "Läsa",
			StartDate:    "2026-11-22T10:15:30Z",
			Purpose:      "Vård och behandling",
		},
		User: accesslog.DraftUser{
			UserID:       user,
			CareProvider: accesslog.DraftCareProvider{CareProviderID: provider},
			CareUnit:     accesslog.DraftCareUnit{CareUnitID: unit},
		},
		Resources: []accesslog.DraftResource{{
			ResourceType: "Journalanteckning",
			CareProvider: accesslog.DraftCareProvider{CareProviderID: provider},
		}},
	}
}

// minimalJSON is minimalDraft as a producer sends it.
const minimalJSON = `{"logId":"` + logID + `","system":{"systemId":"` + system + `"},` +
	`"activity":{"activityType":"Läsa","startDate":"2026-11-22T10:15:30Z","purpose":"Vård och behandling"},` +
	`"user":{"userId":"` + user + `","careProvider":{"careProviderId":"` + provider + `"},"careUnit":{"careUnitId":"` + unit + `"}},` +
	`"resources":[{"resourceType":"Journalanteckning","careProvider":{"careProviderId":"` + provider + `"}}]}`

// fullDraft returns a valid draft with every optional element, texts that need escaping and
// all three identifier forms.
func fullDraft() accesslog.Draft {
	return accesslog.Draft{
		LogID:  logID,
		System: accesslog.DraftSystem{SystemID: system, SystemName: `Journal "Kålle" \ 2`},
		Activity: accesslog.DraftActivity{
			ActivityType:  "läsa",
			ActivityLevel: "Översikt",
			ActivityArgs:  "sök=<a&b>\tflik 2\nrad 3 – ✓ 🩺",
			StartDate:     "2026-11-22T14:05:00.123456789+01:00",
			Purpose:       "Vård och behandling",
		},
		User: accesslog.DraftUser{
			UserID:       user,
			Name:         "Åsa Öberg",
			PersonID:     &accesslog.DraftII{Root: pnrOID, Extension: "19121212-1212"},
			Assignment:   "Läkare, VC Norr",
			Title:        "Överläkare",
			CareProvider: accesslog.DraftCareProvider{CareProviderID: provider, CareProviderName: "Region Exempel"},
			CareUnit:     accesslog.DraftCareUnit{CareUnitID: unit, CareUnitName: "Vårdcentralen Norr"},
		},
		Resources: []accesslog.DraftResource{
			{
				ResourceType: "Journalanteckning",
				Patient:      &accesslog.DraftPatient{PatientID: accesslog.DraftII{Extension: "121212-1212", Plain: true}, PatientName: "Tolvan Tolvansson"},
				CareProvider: accesslog.DraftCareProvider{CareProviderID: provider, CareProviderName: "Region Exempel"},
				CareUnit:     &accesslog.DraftCareUnit{CareUnitID: unit2, CareUnitName: "Labb"},
			},
			{
				ResourceType: "Provsvar",
				Patient:      &accesslog.DraftPatient{PatientID: accesslog.DraftII{Root: coordOID, Extension: coordC}},
				CareProvider: accesslog.DraftCareProvider{CareProviderID: provider2},
			},
			{
				ResourceType: "Remiss",
				CareProvider: accesslog.DraftCareProvider{CareProviderID: provider},
			},
		},
	}
}

// fullJSON is fullDraft as a producer might send it: members in schema order, whitespace,
// escapes that canonical JSON writes differently.
var fullJSON = `{
  "logId": "` + logID + `",
  "system": {"systemId": "` + system + `", "systemName": "Journal \"K\u00e5lle\" \\ 2"},
  "activity": {
    "activityType": "läsa",
    "activityLevel": "Översikt",
    "activityArgs": "sök=\u003ca&b>\tflik 2\nrad 3 \u2013 ✓ \ud83e\ude7a",
    "startDate": "2026-11-22T14:05:00.123456789+01:00",
    "purpose": "Vård och behandling"
  },
  "user": {
    "userId": "` + user + `",
    "name": "Åsa Öberg",
    "personId": {"root": "` + pnrOID + `", "extension": "19121212-1212"},
    "assignment": "Läkare, VC Norr",
    "title": "Överläkare",
    "careProvider": {"careProviderId": "` + provider + `", "careProviderName": "Region Exempel"},
    "careUnit": {"careUnitId": "` + unit + `", "careUnitName": "Vårdcentralen Norr"}
  },
  "resources": [
    {
      "resourceType": "Journalanteckning",
      "patient": {"patientId": "121212-1212", "patientName": "Tolvan Tolvansson"},
      "careProvider": {"careProviderId": "` + provider + `", "careProviderName": "Region Exempel"},
      "careUnit": {"careUnitId": "` + unit2 + `", "careUnitName": "Labb"}
    },
    {
      "resourceType": "Provsvar",
      "patient": {"patientId": {"root": "` + coordOID + `", "extension": "` + coordC + `"}},
      "careProvider": {"careProviderId": "` + provider2 + `"}
    },
    {"resourceType": "Remiss", "careProvider": {"careProviderId": "` + provider + `"}}
  ]
}`

// vaktError returns err as a *vakt.Error, failing the test if it is not one.
func vaktError(t testing.TB, err error) *vakt.Error {
	t.Helper()
	var ve *vakt.Error
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T) is not a *vakt.Error", err, err)
	}
	return ve
}

// wantError checks err's code and problems (in order).
func wantError(t testing.TB, err error, code vakt.Code, want ...vakt.Problem) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s with %v", code, want)
	}
	ve := vaktError(t, err)
	if ve.Code != code {
		t.Fatalf("code %s, want %s (%v)", ve.Code, code, err)
	}
	if want != nil && !reflect.DeepEqual(ve.Problems, want) {
		t.Fatalf("problems:\n got %s\nwant %s", fmtProblems(ve.Problems), fmtProblems(want))
	}
}

func fmtProblems(ps []vakt.Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("\n\t")
		b.WriteString(strings.Join([]string{strconv.Itoa(p.Index), p.Field, p.Reason}, " | "))
	}
	return b.String()
}

// mustValidate validates d and fails the test on any problem.
func mustValidate(t testing.TB, d accesslog.Draft, o accesslog.ValidateOptions) accesslog.Entry {
	t.Helper()
	e, probs := d.Validate(0, o)
	if len(probs) > 0 {
		t.Fatalf("Validate: %s", fmtProblems(probs))
	}
	return e
}

func mustPerson(t testing.TB, s string) ident.PersonID {
	t.Helper()
	p, err := ident.ParsePersonID(s, now)
	if err != nil {
		t.Fatalf("ParsePersonID: %v", err)
	}
	return p
}

func TestHelpers(t *testing.T) {
	if pnr("19121212", "121") != patientA || pnr("19800229", "238") != patientB || pnr("19900172", "385") != coordC {
		t.Fatal("constants do not have the check digits pnr computes")
	}
	for _, s := range []string{patientA, patientB, coordC} {
		if !luhnValid(s[2:]) || luhnValid(wrongCheck(s)[2:]) {
			t.Fatalf("%s: check digit helpers disagree", s)
		}
	}
	if p := mustPerson(t, coordC); p.Kind() != ident.CoordinationNumber {
		t.Fatalf("coordC is a %s", p.Kind())
	}
	if len(logID) != 36 {
		t.Fatal("logID must be 36 characters")
	}
}
