package register

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/vakt/vakt"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func decodeAll(kind Kind, body string) ([]Record, error) {
	d := NewDecoder(strings.NewReader(body), kind, testNow)
	var out []Record
	for {
		r, err := d.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
}

func TestDecodeFramings(t *testing.T) {
	rec := `{"personId":"19121212-1212","reason":"VIP"}`
	for name, body := range map[string]string{
		"array":         "[" + rec + "," + strings.Replace(rec, "1212-1212", "1212-1212", 1) + "]",
		"ndjson":        rec + "\n" + rec + "\n",
		"ndjson-no-eol": rec,
		"spaces":        "  \n[ " + rec + " ]\n ",
	} {
		recs, err := decodeAll(KindWatchlist, body)
		if name == "array" || name == "ndjson" {
			// the same key twice
			if vakt.ErrorCode(err) != vakt.CodeInvalid || vakt.ErrorProblems(err)[0].Index != 1 ||
				vakt.ErrorProblems(err)[0].Reason != "repeats the key of record 0" {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if err != nil || len(recs) != 1 || recs[0].Key != "191212121212" || recs[0].Person != "191212121212" {
			t.Errorf("%s: %v %+v", name, err, recs)
		}
	}
	if recs, err := decodeAll(KindWatchlist, ""); err != nil || len(recs) != 0 {
		t.Errorf("empty body: %v %v", recs, err)
	}
	if recs, err := decodeAll(KindWatchlist, "[]"); err != nil || len(recs) != 0 {
		t.Errorf("empty array: %v %v", recs, err)
	}
}

func TestDecodeProblems(t *testing.T) {
	cases := []struct {
		kind   Kind
		body   string
		index  int
		field  string
		reason string
	}{
		{KindStaff, `{"hsaId":"SE2321000016-A1","personId":"19121212-1212","familyName":"B","careProviderId":"SE2321000016-0001","units":[{"careUnitId":"SE2321000016-U1","from":"2020-13-01"}]}`, 0, "units[0].from", "is not a date (YYYY-MM-DD)"},
		{KindStaff, `{"hsaId":"SE2321000016-A1","personId":"19121212-1213","familyName":"B","careProviderId":"SE2321000016-0001"}`, 0, "personId", "is not a valid personnummer or samordningsnummer"},
		{KindStaff, `{"hsaId":"nope","personId":"19121212-1212","familyName":"B","careProviderId":"SE2321000016-0001"}`, 0, "hsaId", "is not a valid HSA-id"},
		{KindStaff, `{"hsaId":"SE2321000016-A1","personId":"19121212-1212","careProviderId":"SE2321000016-0001"}`, 0, "familyName", "is required"},
		{KindStaff, `{"hsaId":"SE2321000016-A1","personId":"19121212-1212","familyName":"B","careProviderId":"SE2321000016-0001","units":[{"careUnitId":"SE2321000016-U1","from":"2020-01-02","to":"2020-01-01"}]}`, 0, "units[0].to", "is before from"},
		{KindStaff, `{"hsaId":"SE2321000016-A1","personId":"19121212-1212","familyName":"B","careProviderId":"SE2321000016-0001","units":[{"careUnitId":"SE2321000016-U1","from":5}]}`, 0, "units[0].from", "has the wrong JSON type (want a string)"},
		{KindPersons, `{"personId":"19121212-1212","protectedIdentity":"yes"}`, 0, "protectedIdentity", "has the wrong JSON type (want true or false)"},
		{KindPersons, `{"personId":"19121212-1212","nickname":"x"}`, 0, "nickname", "is not a field of this register"},
		{KindPersons, `{"personId":"19121212-1212","191212121212":"x"}`, 0, "", "is not a field of this register"},
		{KindPersons, `{"personId":"19121212-1212","reason":"x"}`, 0, "reason", "is not a field of this register"},
		{KindPersons, `{"personId":"19121212-1212","familyName":" Berg"}`, 0, "familyName", "has leading or trailing space"},
		{KindPersons, `[{"personId":"19121212-1212"}, 7]`, 1, "", "has the wrong JSON type (want an object)"},
		{KindWatchlist, `{"personId":"19121212-1212"}`, 0, "reason", "is required"},
		{KindCases, `{"caseId":"1","patientId":"19121212-1212","status":"closed"}`, 0, "closedAt", "is required when the case is closed"},
		{KindCases, `{"caseId":"1","patientId":"19121212-1212","status":"open","closedAt":"2026-01-01T00:00:00Z"}`, 0, "closedAt", "must be absent while the case is open"},
		{KindCases, `{"caseId":"1","patientId":"19121212-1212","status":"closed","closedAt":"2026-01-01"}`, 0, "closedAt", "is not a date-time with zone (RFC 3339)"},
		{KindCases, `{"caseId":"1","patientId":"19121212-1212","status":"paused"}`, 0, "status", "must be open or closed"},
		{KindUnits, `{"careUnitId":"SE2321000016-U1","workingHours":{"mon":"18:00-07:00"}}`, 0, "workingHours.mon", "is not HH:MM-HH:MM within one day"},
		{KindUnits, `{"careUnitId":"SE2321000016-U1","workingHours":{"holiday":"7-18"}}`, 0, "workingHours.holiday", "is not HH:MM-HH:MM within one day"},
		{KindUnits, `{"careUnitId":"SE2321000016-U1"}`, 0, "workingHours", "is required"},
		{KindWatchlist, `[{"personId":"19121212-1212","reason":"x"},{"personId":`, 1, "", ""},
	}
	for _, c := range cases {
		_, err := decodeAll(c.kind, c.body)
		probs := vakt.ErrorProblems(err)
		if vakt.ErrorCode(err) != vakt.CodeInvalid || len(probs) == 0 {
			t.Errorf("%s %s: err = %v", c.kind, c.body, err)
			continue
		}
		p := probs[0]
		if p.Index != c.index || p.Field != c.field || p.Reason != c.reason && !(c.reason == "" && strings.HasPrefix(p.Reason, "is not valid JSON (near byte")) {
			t.Errorf("%s %s:\n got %+v\nwant {%d %s %s}", c.kind, c.body, probs, c.index, c.field, c.reason)
		}
		if strings.Contains(err.Error(), "191212121212") || strings.Contains(err.Error(), "19121212-121") {
			t.Errorf("error shows a personnummer: %v", err)
		}
	}
}

func TestDecodeStopsAfterMaxProblems(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 3*MaxProblems; i++ {
		b.WriteString(`{"personId":"x"}` + "\n")
	}
	d := NewDecoder(strings.NewReader(b.String()), KindPersons, testNow)
	_, err := d.Next()
	if n := len(vakt.ErrorProblems(err)); n != MaxProblems || d.Count() != MaxProblems {
		t.Fatalf("problems = %d, read = %d", n, d.Count())
	}
	if _, err2 := d.Next(); !errors.Is(err2, err) {
		t.Fatal("Next after the end must repeat the error")
	}
}

// The stored document reads back as the same record, with the personnummer in its 12-digit
// form whatever form it was imported in.
func TestStoredDocumentRoundTrip(t *testing.T) {
	recs, err := decodeAll(KindStaff, `{"hsaId":"SE2321000016-A1","personId":"121212+1212","familyName":"Berg","careProviderId":"SE2321000016-0001","units":[{"careUnitId":"SE2321000016-U1","from":"2020-01-01"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	v, err := parseDoc(KindStaff, recs[0].Doc)
	if err != nil {
		t.Fatal(err)
	}
	s := v.(*Staff)
	if s.PersonID.Extension() != "191212121212" || !strings.Contains(string(recs[0].Doc), `"personId":"191212121212"`) || s.Units[0].From != NewDate(2020, 1, 1) {
		t.Fatalf("round trip: %s", recs[0].Doc)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(`[{"hsaId":"SE2321000016-A1","personId":"19121212-1212","familyName":"B","careProviderId":"SE2321000016-0001","units":[{"careUnitId":"SE2321000016-U1","from":"2020-01-01","to":"2021-01-01"}],"roles":["x"]}]`, 0)
	f.Add(`{"personId":"19121212-1212","protectedIdentity":true,"deceasedDate":"2020-01-01","address":{"street":"a","postalCode":"1"}}`+"\n", 1)
	f.Add(`{"personId":"19121212-1212","reason":"VIP","until":"2030-01-01"}`, 2)
	f.Add(`{"caseId":"1","patientId":"19121212-1212","status":"closed","closedAt":"2026-01-01T00:00:00Z"}`, 3)
	f.Add(`{"careUnitId":"SE2321000016-U1","workingHours":{"mon":"07:00-24:00"}}`, 4)
	f.Add(`[1,{"a":[`, 0)
	f.Fuzz(func(t *testing.T, body string, k int) {
		kinds := Kinds()
		kind := kinds[(k%len(kinds)+len(kinds))%len(kinds)]
		d := NewDecoder(strings.NewReader(body), kind, testNow)
		for i := 0; i < 10000; i++ {
			rec, err := d.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				if vakt.ErrorCode(err) != vakt.CodeInvalid {
					t.Fatalf("error of code %s: %v", vakt.ErrorCode(err), err)
				}
				for _, p := range vakt.ErrorProblems(err) {
					if p.Field != "" && !safeField(p.Field) {
						t.Fatalf("problem field echoes input: %q", p.Field)
					}
				}
				return
			}
			// Whatever is accepted is stored in a form that reads back.
			if _, err := parseDoc(kind, rec.Doc); err != nil {
				t.Fatalf("accepted record does not read back: %v", err)
			}
		}
	})
}

func safeField(f string) bool {
	for _, c := range f {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '[' || c == ']') {
			return false
		}
	}
	return true
}
