package accesslog_test

import (
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
)

func decode(body string, framing accesslog.Framing) ([]accesslog.Draft, error) {
	return accesslog.DecodeDrafts(strings.NewReader(body), framing, 100)
}

func TestDecodeDraftsFieldByField(t *testing.T) {
	want := []accesslog.Draft{fullDraft(), minimalDraft()}
	for _, c := range []struct {
		name    string
		framing accesslog.Framing
		body    string
	}{
		{"array", accesslog.FramingArray, "[" + fullJSON + ",\n" + minimalJSON + "]"},
		{"array with whitespace", accesslog.FramingArray, " \n\t[ " + fullJSON + " , " + minimalJSON + " ]\r\n "},
		{"ndjson", accesslog.FramingNDJSON, strings.ReplaceAll(fullJSON, "\n", "") + "\n" + minimalJSON + "\n"},
		{"ndjson without final newline", accesslog.FramingNDJSON, strings.ReplaceAll(fullJSON, "\n", "") + "\n" + minimalJSON},
		{"ndjson with CRLF and blank lines", accesslog.FramingNDJSON, "\r\n" + strings.ReplaceAll(fullJSON, "\n", "") + "\r\n\r\n" + minimalJSON + "\r\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := decode(c.body, c.framing)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestDecodeDraftsReaderChunks feeds the body a byte at a time, so that the decoder must
// refill its buffer in the middle of every token.
func TestDecodeDraftsReaderChunks(t *testing.T) {
	body := "[" + fullJSON + "," + minimalJSON + "]"
	got, err := accesslog.DecodeDrafts(iotest.OneByteReader(strings.NewReader(body)), accesslog.FramingArray, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := []accesslog.Draft{fullDraft(), minimalDraft()}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

func TestDecodeDraftsIdentifierForms(t *testing.T) {
	entry := func(personID, patientID string) string {
		return `{"user":{"personId":` + personID + `},"resources":[{"patient":{"patientId":` + patientID + `}}]}`
	}
	for _, c := range []struct {
		name              string
		personID, patient string
		wantPerson        *accesslog.DraftII
		wantPatient       *accesslog.DraftPatient
	}{
		{
			name: "strings", personID: `"19121212-1212"`, patient: `" 121212-1212 "`,
			wantPerson:  &accesslog.DraftII{Extension: "19121212-1212", Plain: true},
			wantPatient: &accesslog.DraftPatient{PatientID: accesslog.DraftII{Extension: " 121212-1212 ", Plain: true}},
		},
		{
			name: "objects", personID: `{"root":"` + pnrOID + `","extension":"191212121212"}`, patient: `{"extension":"x","root":"1.2.3"}`,
			wantPerson:  &accesslog.DraftII{Root: pnrOID, Extension: "191212121212"},
			wantPatient: &accesslog.DraftPatient{PatientID: accesslog.DraftII{Root: "1.2.3", Extension: "x"}},
		},
		{
			name: "object with root only", personID: `{"root":"1.2.3"}`, patient: `{"root":"1.2.3","extension":null}`,
			wantPerson:  &accesslog.DraftII{Root: "1.2.3"},
			wantPatient: &accesslog.DraftPatient{PatientID: accesslog.DraftII{Root: "1.2.3"}},
		},
		{
			// An absent personId stays nil; a patient without patientId is marked so that
			// Validate reports the missing required element.
			name: "null", personID: `null`, patient: `null`,
			wantPerson:  nil,
			wantPatient: &accesslog.DraftPatient{PatientID: accesslog.DraftII{Plain: true}},
		},
		{
			name: "empty", personID: `{}`, patient: `{}`,
			wantPerson:  &accesslog.DraftII{},
			wantPatient: &accesslog.DraftPatient{PatientID: accesslog.DraftII{Plain: true}},
		},
		{
			name: "empty string", personID: `""`, patient: `""`,
			wantPerson:  &accesslog.DraftII{Plain: true},
			wantPatient: &accesslog.DraftPatient{PatientID: accesslog.DraftII{Plain: true}},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := decode("["+entry(c.personID, c.patient)+"]", accesslog.FramingArray)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got[0].User.PersonID, c.wantPerson) {
				t.Errorf("personId: got %+v, want %+v", got[0].User.PersonID, c.wantPerson)
			}
			if !reflect.DeepEqual(got[0].Resources[0].Patient, c.wantPatient) {
				t.Errorf("patient: got %+v, want %+v", got[0].Resources[0].Patient, c.wantPatient)
			}
		})
	}
	// A patient without patientId decodes like one with a null patientId.
	got, err := decode(`[{"resources":[{"patient":{"patientName":"N"}}]}]`, accesslog.FramingArray)
	if err != nil {
		t.Fatal(err)
	}
	if want := (&accesslog.DraftPatient{PatientID: accesslog.DraftII{Plain: true}, PatientName: "N"}); !reflect.DeepEqual(got[0].Resources[0].Patient, want) {
		t.Errorf("patient without patientId: got %+v, want %+v", got[0].Resources[0].Patient, want)
	}
}

func TestDecodeDraftsNullIsAbsent(t *testing.T) {
	body := `[{"logId":null,"system":null,"activity":{"activityType":null,"activityLevel":null,"activityArgs":null,"startDate":null,"purpose":null},` +
		`"user":{"userId":null,"name":null,"personId":null,"assignment":null,"title":null,"careProvider":null,"careUnit":{"careUnitId":null,"careUnitName":null}},` +
		`"resources":[{"resourceType":null,"patient":null,"careProvider":{"careProviderId":null,"careProviderName":null},"careUnit":null}]},` +
		`{"resources":null},{}]`
	got, err := decode(body, accesslog.FramingArray)
	if err != nil {
		t.Fatal(err)
	}
	want := []accesslog.Draft{{Resources: []accesslog.DraftResource{{}}}, {}, {}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	// A null patient is absent: Validate has nothing to complain about there.
	if got[0].Resources[0].Patient != nil || got[0].Resources[0].CareUnit != nil || got[0].User.PersonID != nil {
		t.Fatal("null objects must decode as absent")
	}
}

const notField = "is not a field of the RIV-TA log entry"

func TestDecodeDraftsStructuralProblems(t *testing.T) {
	p := func(index int, field, reason string) vakt.Problem {
		return vakt.Problem{Index: index, Field: field, Reason: reason}
	}
	for _, c := range []struct {
		name string
		body string // the entries, without the surrounding array
		want []vakt.Problem
	}{
		{"unknown top level", `{"foo":1}`, []vakt.Problem{p(0, "foo", notField)}},
		{"unknown in system", `{"system":{"foo":{"a":[1,2]}}}`, []vakt.Problem{p(0, "system.foo", notField)}},
		{"unknown in activity", `{"activity":{"activityTyp":"Läsa"}}`, []vakt.Problem{p(0, "activity.activityTyp", notField)}},
		{"unknown in user", `{"user":{"userName":"x"}}`, []vakt.Problem{p(0, "user.userName", notField)}},
		{"unknown in personId", `{"user":{"personId":{"root":"1.2","type":"x"}}}`, []vakt.Problem{p(0, "user.personId.type", notField)}},
		{"unknown in user careProvider", `{"user":{"careProvider":{"id":"x"}}}`, []vakt.Problem{p(0, "user.careProvider.id", notField)}},
		{"unknown in user careUnit", `{"user":{"careUnit":{"id":"x"}}}`, []vakt.Problem{p(0, "user.careUnit.id", notField)}},
		{"unknown in resource", `{"resources":[{},{"foo":null}]}`, []vakt.Problem{p(0, "resources[1].foo", notField)}},
		{"unknown in patient", `{"resources":[{"patient":{"patientId":"x","name":"y"}}]}`, []vakt.Problem{p(0, "resources[0].patient.name", notField)}},
		{"unknown in patientId", `{"resources":[{"patient":{"patientId":{"root":"1.2","x":1}}}]}`, []vakt.Problem{p(0, "resources[0].patient.patientId.x", notField)}},
		{"unknown in resource careProvider", `{"resources":[{"careProvider":{"careUnitId":"x"}}]}`, []vakt.Problem{p(0, "resources[0].careProvider.careUnitId", notField)}},
		{"unknown in resource careUnit", `{"resources":[{"careUnit":{"careProviderId":"x"}}]}`, []vakt.Problem{p(0, "resources[0].careUnit.careProviderId", notField)}},
		{"service fields are not draft fields", `{"seq":1,"receivedAt":"2026-11-22T10:00:00.000000Z"}`,
			[]vakt.Problem{p(0, "seq", notField), p(0, "receivedAt", notField)}},
		{"nested names are not matched at the top level", `{"systemId":"x","careUnit":{}}`,
			[]vakt.Problem{p(0, "systemId", notField), p(0, "careUnit", notField)}},

		{"logId not a string", `{"logId":123}`, []vakt.Problem{p(0, "logId", "must be a JSON string")}},
		{"systemId not a string", `{"system":{"systemId":true}}`, []vakt.Problem{p(0, "system.systemId", "must be a JSON string")}},
		{"startDate not a string", `{"activity":{"startDate":20261122}}`, []vakt.Problem{p(0, "activity.startDate", "must be a JSON string")}},
		{"purpose is an object", `{"activity":{"purpose":{"text":"x"}}}`, []vakt.Problem{p(0, "activity.purpose", "must be a JSON string")}},
		{"user name is an array", `{"user":{"name":["a"]}}`, []vakt.Problem{p(0, "user.name", "must be a JSON string")}},
		{"careProviderId not a string", `{"user":{"careProvider":{"careProviderId":1}}}`, []vakt.Problem{p(0, "user.careProvider.careProviderId", "must be a JSON string")}},
		{"careUnitName not a string", `{"resources":[{"careUnit":{"careUnitName":false}}]}`, []vakt.Problem{p(0, "resources[0].careUnit.careUnitName", "must be a JSON string")}},
		{"extension not a string", `{"user":{"personId":{"extension":191212121212}}}`, []vakt.Problem{p(0, "user.personId.extension", "must be a JSON string")}},
		{"resourceType not a string", `{"resources":[{"resourceType":7}]}`, []vakt.Problem{p(0, "resources[0].resourceType", "must be a JSON string")}},

		{"system not an object", `{"system":"SE2321000016-S001"}`, []vakt.Problem{p(0, "system", "must be a JSON object")}},
		{"activity not an object", `{"activity":[]}`, []vakt.Problem{p(0, "activity", "must be a JSON object")}},
		{"user not an object", `{"user":1}`, []vakt.Problem{p(0, "user", "must be a JSON object")}},
		{"user careProvider not an object", `{"user":{"careProvider":"x"}}`, []vakt.Problem{p(0, "user.careProvider", "must be a JSON object")}},
		{"user careUnit not an object", `{"user":{"careUnit":true}}`, []vakt.Problem{p(0, "user.careUnit", "must be a JSON object")}},
		{"personId a number", `{"user":{"personId":191212121212}}`, []vakt.Problem{p(0, "user.personId", "must be a JSON object")}},
		{"patient not an object", `{"resources":[{"patient":"191212121212"}]}`, []vakt.Problem{p(0, "resources[0].patient", "must be a JSON object")}},
		{"patientId an array", `{"resources":[{"patient":{"patientId":["191212121212"]}}]}`, []vakt.Problem{p(0, "resources[0].patient.patientId", "must be a JSON object")}},
		{"resource careProvider not an object", `{"resources":[{"careProvider":[]}]}`, []vakt.Problem{p(0, "resources[0].careProvider", "must be a JSON object")}},
		{"resources an object", `{"resources":{"resourceType":"x"}}`, []vakt.Problem{p(0, "resources", "must be a JSON array")}},
		{"resources a string", `{"resources":"x"}`, []vakt.Problem{p(0, "resources", "must be a JSON array")}},
		{"resource not an object", `{"resources":[{},"x",{}]}`, []vakt.Problem{p(0, "resources[1]", "must be a JSON object")}},
		{"resource null", `{"resources":[null]}`, []vakt.Problem{p(0, "resources[0]", "must be a JSON object")}},
		{"entry a number", `1`, []vakt.Problem{p(0, "", "must be a JSON object")}},
		{"entry a string", `"x"`, []vakt.Problem{p(0, "", "must be a JSON object")}},
		{"entry an array", `[{}]`, []vakt.Problem{p(0, "", "must be a JSON object")}},
		{"entry null", `null`, []vakt.Problem{p(0, "", "must be a JSON object")}},

		{"all problems of all entries are collected", `{"foo":1,"logId":2,"system":{"systemId":[],"bar":{}}},` +
			`{},` +
			`{"user":{"careUnit":{"careUnitId":{},"x":1}},"resources":[{"patient":{"patientId":{"root":1}},"y":[]},7]},` +
			`"not an entry",` +
			`{"activity":{"z":null},"resources":{}}`,
			[]vakt.Problem{
				p(0, "foo", notField), p(0, "logId", "must be a JSON string"),
				p(0, "system.systemId", "must be a JSON string"), p(0, "system.bar", notField),
				p(2, "user.careUnit.careUnitId", "must be a JSON string"), p(2, "user.careUnit.x", notField),
				p(2, "resources[0].patient.patientId.root", "must be a JSON string"), p(2, "resources[0].y", notField),
				p(2, "resources[1]", "must be a JSON object"),
				p(3, "", "must be a JSON object"),
				p(4, "activity.z", notField), p(4, "resources", "must be a JSON array"),
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := decode("["+c.body+"]", accesslog.FramingArray)
			wantError(t, err, vakt.CodeInvalid, c.want...)
			// NDJSON reports the same problems when each entry is on its own line.
			if !strings.HasPrefix(c.name, "all problems") {
				_, err = decode(c.body+"\n", accesslog.FramingNDJSON)
				wantError(t, err, vakt.CodeInvalid, c.want...)
			}
		})
	}
}

func TestDecodeDraftsCollectsAcrossNDJSONLines(t *testing.T) {
	body := `{"a":1}` + "\n" + minimalJSON + "\n" + `{"user":{"b":2}}` + "\n" + `[]` + "\n"
	_, err := decode(body, accesslog.FramingNDJSON)
	wantError(t, err, vakt.CodeInvalid,
		vakt.Problem{Index: 0, Field: "a", Reason: notField},
		vakt.Problem{Index: 2, Field: "user.b", Reason: notField},
		vakt.Problem{Index: 3, Field: "", Reason: "must be a JSON object"},
	)
}

// TestDecodeDraftsSafeName checks that an unknown field's name is only echoed when it cannot
// carry personal data.
func TestDecodeDraftsSafeName(t *testing.T) {
	for _, c := range []struct{ name, want string }{
		{"patient_name", "patient_name"},
		{"PatientName", "PatientName"},
		{strings.Repeat("a", 40), strings.Repeat("a", 40)},
		{strings.Repeat("a", 41), "?"},
		{"191212121212", "?"},
		{"19121212-1212", "?"},
		{"121212-1212", "?"},
		{"pnr191212121212", "?"},
		{"Tolvan Tolvansson", "?"},
		{"Åsa", "?"},
		{"a.b", "?"},
		{"a[0]", "?"},
		{"", "?"},
	} {
		for _, parent := range []struct{ open, close, path string }{
			{`{`, `}`, ""},
			{`{"user":{`, `}}`, "user."},
			{`{"resources":[{"patient":{`, `}}]}`, "resources[0].patient."},
		} {
			body := `[` + parent.open + strconv.Quote(c.name) + `:"191212121212"` + parent.close + `]`
			_, err := decode(body, accesslog.FramingArray)
			wantError(t, err, vakt.CodeInvalid, vakt.Problem{Index: 0, Field: parent.path + c.want, Reason: notField})
			if c.want == "?" && c.name != "" && strings.Contains(err.Error(), c.name) {
				t.Errorf("error repeats the field name %q: %v", c.name, err)
			}
		}
	}
}

func TestDecodeDraftsSyntaxErrors(t *testing.T) {
	const secret = "191212121212"
	const first = `{"logId":"a"}`
	type problems = []vakt.Problem
	// at returns the reason for a syntax error at byte offset off.
	at := func(off int) string { return "is not valid JSON (at byte offset " + strconv.Itoa(off) + ")" }
	for _, c := range []struct {
		name    string
		framing accesslog.Framing
		body    string
		want    func(body string) problems
	}{
		{"missing comma between members", accesslog.FramingArray, `[` + first + `,{"logId":"a" "x":"` + secret + `"}]`,
			func(b string) problems {
				return problems{{Index: 1, Field: "", Reason: at(strings.Index(b, ` "x"`) + 1)}}
			}},
		{"missing comma between entries", accesslog.FramingArray, `[` + first + ` ` + first + `]`,
			func(b string) problems { return problems{{Index: 1, Field: "", Reason: at(len(first) + 2)}} }},
		{"trailing comma in array", accesslog.FramingArray, `[` + first + `,]`,
			func(b string) problems { return problems{{Index: 1, Field: "", Reason: at(strings.LastIndex(b, ","))}} }},
		{"bad literal in nested object", accesslog.FramingArray, `[` + first + `,` + first + `,{"user":{"name":nul}}]`,
			func(b string) problems {
				return problems{{Index: 2, Field: "user", Reason: at(strings.Index(b, "nul}") + 3)}}
			}},
		{"unquoted name", accesslog.FramingArray, `[{"system":{systemId:"` + secret + `"}}]`,
			func(b string) problems {
				return problems{{Index: 0, Field: "system", Reason: at(strings.Index(b, "systemId"))}}
			}},
		{"bad escape in string", accesslog.FramingArray, `[{"logId":"\x` + secret + `"}]`,
			func(b string) problems {
				return problems{{Index: 0, Field: "logId", Reason: at(strings.Index(b, `\x`))}}
			}},
		{"control character in string", accesslog.FramingArray, "[{\"logId\":\"a\x01" + secret + "\"}]",
			func(b string) problems {
				return problems{{Index: 0, Field: "logId", Reason: at(strings.Index(b, "\x01"))}}
			}},
		{"invalid UTF-8 in string", accesslog.FramingArray, "[{\"logId\":\"" + secret + "\xff\"}]",
			func(b string) problems {
				return problems{{Index: 0, Field: "logId", Reason: at(strings.Index(b, "\xff"))}}
			}},
		{"lone surrogate escape", accesslog.FramingArray, `[{"logId":"` + secret + `\ud800"}]`,
			func(b string) problems {
				return problems{{Index: 0, Field: "logId", Reason: at(strings.Index(b, `\ud800`))}}
			}},
		// Problems found before the syntax error are kept.
		{"invalid value inside an unknown field", accesslog.FramingArray, `[{"x":[1,2,}]`,
			func(b string) problems {
				return problems{{Index: 0, Field: "x", Reason: notField}, {Index: 0, Field: "", Reason: at(strings.LastIndex(b, ","))}}
			}},
		{"problems before the error are kept", accesslog.FramingNDJSON, `{"a":1}` + "\n" + `{"user":{"name":7,"b":[` + "\n",
			func(b string) problems {
				return problems{
					{Index: 0, Field: "a", Reason: notField},
					{Index: 1, Field: "user.name", Reason: "must be a JSON string"},
					{Index: 1, Field: "user.b", Reason: notField},
					{Index: 1, Field: "user", Reason: "ends too early"},
				}
			}},
		{"body not JSON", accesslog.FramingArray, `x` + secret,
			func(b string) problems { return problems{{Index: 0, Field: "", Reason: at(0)}} }},
		{"ndjson second line broken", accesslog.FramingNDJSON, first + "\n" + `{"logId":"a",` + secret + `}` + "\n",
			func(b string) problems { return problems{{Index: 1, Field: "", Reason: at(strings.Index(b, secret))}} }},
		{"ndjson garbage line", accesslog.FramingNDJSON, first + "\n" + first + "\n" + `personnummer ` + secret + "\n",
			func(b string) problems { return problems{{Index: 2, Field: "", Reason: at(2 * (len(first) + 1))}} }},

		// A body that stops in the middle of a value ends too early, wherever it stops.
		{"array truncated in entry", accesslog.FramingArray, `[` + first + `,{"logId":"` + secret,
			func(b string) problems { return problems{{Index: 1, Field: "logId", Reason: "ends too early"}} }},
		{"array truncated between entries", accesslog.FramingArray, `[` + first + `,`,
			func(b string) problems { return problems{{Index: 1, Field: "", Reason: "ends too early"}} }},
		{"array truncated after entry", accesslog.FramingArray, `[` + first,
			func(b string) problems { return problems{{Index: 1, Field: "", Reason: "ends too early"}} }},
		{"array truncated in resources", accesslog.FramingArray, `[{"resources":[{}`,
			func(b string) problems { return problems{{Index: 0, Field: "resources", Reason: "ends too early"}} }},
		{"ndjson truncated", accesslog.FramingNDJSON, first + "\n" + `{"user":{"name":"` + secret,
			func(b string) problems { return problems{{Index: 1, Field: "user.name", Reason: "ends too early"}} }},
		{"array only opened", accesslog.FramingArray, `[`,
			func(b string) problems { return problems{{Index: 0, Field: "", Reason: "ends too early"}} }},
		// An empty body has no value at all.
		{"empty body", accesslog.FramingArray, ``,
			func(b string) problems { return problems{{Index: 0, Field: "", Reason: "ends too early"}} }},
		{"whitespace body", accesslog.FramingArray, " \n ",
			func(b string) problems { return problems{{Index: 0, Field: "", Reason: "ends too early"}} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := decode(c.body, c.framing)
			wantError(t, err, vakt.CodeInvalid, c.want(c.body)...)
			// The message must not quote the input.
			if msg := err.Error(); strings.Contains(msg, secret) || strings.Contains(msg, "nul}") || strings.Contains(msg, `\x`) {
				t.Errorf("error quotes the input: %s", msg)
			}
		})
	}
}

func TestDecodeDraftsDuplicateNames(t *testing.T) {
	// A repeated member is a structural problem at its own path; decoding goes on.
	dup := func(index int, field string) vakt.Problem {
		return vakt.Problem{Index: index, Field: field, Reason: "is given twice"}
	}
	unknownX := vakt.Problem{Index: 0, Field: "x", Reason: notField}
	for _, c := range []struct {
		name, body string
		want       []vakt.Problem
	}{
		{"top level", `[{"logId":"a","logId":"b"}]`, []vakt.Problem{dup(0, "logId")}},
		{"nested, second entry", `[{},{"user":{"name":"a","name":"a"}}]`, []vakt.Problem{dup(1, "user.name")}},
		{"in a resource", `[{"resources":[{"resourceType":"a","resourceType":"a"}]}]`, []vakt.Problem{dup(0, "resources[0].resourceType")}},
		{"in patientId", `[{"resources":[{"patient":{"patientId":{"root":"1.2","root":"1.2"}}}]}]`, []vakt.Problem{dup(0, "resources[0].patient.patientId.root")}},
		{"same name after unescaping", `[{"logId":"a","log\u0049d":"b"}]`, []vakt.Problem{dup(0, "logId")}},
		{"unknown field repeated", `[{"x":1,"x":2}]`, []vakt.Problem{unknownX, dup(0, "x")}},
		// The value of an unknown member is skipped unread: the member is already refused.
		{"inside an unknown field", `[{"x":{"a":1,"a":2}}]`, []vakt.Problem{unknownX}},
		{"problems after a duplicate are still found", `[{"logId":"a","logId":"b","y":1}]`, []vakt.Problem{dup(0, "logId"), {Index: 0, Field: "y", Reason: notField}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := decode(c.body, accesslog.FramingArray)
			wantError(t, err, vakt.CodeInvalid, c.want...)
		})
	}
	// The same name in sibling objects is fine.
	if _, err := decode(`[{"user":{"name":"a"},"system":{"systemId":"s"},"resources":[{"resourceType":"a"},{"resourceType":"b"}]}]`, accesslog.FramingArray); err != nil {
		t.Fatal(err)
	}
}

// TestDecodeDraftsStrayClosingBracket checks syntax errors where the tokenizer only finds out
// when reading that the next token (a closing bracket) is out of place: the last problem names
// the place. (The decoder also reports the bracket as a value that is not an object.)
func TestDecodeDraftsStrayClosingBracket(t *testing.T) {
	for _, c := range []struct {
		framing accesslog.Framing
		body    string
		want    vakt.Problem
	}{
		{accesslog.FramingArray, `[{"resources":[{"resourceType":"a"}}]}]`,
			vakt.Problem{Index: 0, Field: "resources[1]", Reason: "is not valid JSON (at byte offset 35)"}},
		{accesslog.FramingNDJSON, `{"logId":"a"}` + "\n" + `]`,
			vakt.Problem{Index: 1, Field: "", Reason: "is not valid JSON (at byte offset 14)"}},
		{accesslog.FramingNDJSON, `{"logId":"a"}}`,
			vakt.Problem{Index: 1, Field: "", Reason: "is not valid JSON (at byte offset 13)"}},
	} {
		_, err := decode(c.body, c.framing)
		ve := vaktError(t, err)
		if last := ve.Problems[len(ve.Problems)-1]; ve.Code != vakt.CodeInvalid || last != c.want {
			t.Errorf("%s: got %v, want last problem %v", c.body, err, c.want)
		}
	}
}

func TestDecodeDraftsBodyShape(t *testing.T) {
	arrayProblem := vakt.Problem{Index: -1, Field: "", Reason: "must be a JSON array"}
	emptyProblem := vakt.Problem{Index: -1, Field: "", Reason: "must hold at least one entry"}
	trailingProblem := vakt.Problem{Index: -1, Field: "", Reason: "unexpected data after the JSON array"}
	for _, c := range []struct {
		name    string
		framing accesslog.Framing
		body    string
		want    vakt.Problem
	}{
		{"empty array", accesslog.FramingArray, `[]`, emptyProblem},
		{"empty array with whitespace", accesslog.FramingArray, " [ \n ] \n", emptyProblem},
		{"empty ndjson", accesslog.FramingNDJSON, ``, emptyProblem},
		{"blank ndjson", accesslog.FramingNDJSON, "\n\r\n \n", emptyProblem},
		{"object instead of array", accesslog.FramingArray, minimalJSON, arrayProblem},
		{"string instead of array", accesslog.FramingArray, `"[]"`, arrayProblem},
		{"null instead of array", accesslog.FramingArray, `null`, arrayProblem},
		{"second array", accesslog.FramingArray, `[` + minimalJSON + `][]`, trailingProblem},
		{"trailing object", accesslog.FramingArray, `[` + minimalJSON + "]\n" + minimalJSON, trailingProblem},
		{"trailing garbage", accesslog.FramingArray, `[` + minimalJSON + `] x`, trailingProblem},
		{"trailing bracket", accesslog.FramingArray, `[` + minimalJSON + `]]`, trailingProblem},
		{"trailing data after empty array", accesslog.FramingArray, `[] 1`, trailingProblem},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := decode(c.body, c.framing)
			wantError(t, err, vakt.CodeInvalid, c.want)
		})
	}
	// Trailing whitespace is not trailing data.
	if _, err := decode("["+minimalJSON+"] \r\n\t", accesslog.FramingArray); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeDraftsMaxEntries(t *testing.T) {
	entries := func(n int) string {
		return strings.Repeat(minimalJSON+",", n-1) + minimalJSON
	}
	for _, c := range []struct {
		name    string
		framing accesslog.Framing
		body    string
		max     int
		wantN   int // 0: CodeTooLarge
	}{
		{"array at the limit", accesslog.FramingArray, "[" + entries(3) + "]", 3, 3},
		{"array over the limit", accesslog.FramingArray, "[" + entries(4) + "]", 3, 0},
		{"array far over the limit", accesslog.FramingArray, "[" + entries(50) + "]", 1, 0},
		{"ndjson at the limit", accesslog.FramingNDJSON, strings.Repeat(minimalJSON+"\n", 3), 3, 3},
		{"ndjson over the limit", accesslog.FramingNDJSON, strings.Repeat(minimalJSON+"\n", 4), 3, 0},
		// The limit is checked before the next entry is read, so what follows does not matter.
		{"over the limit, then broken", accesslog.FramingArray, "[" + entries(3) + ",{", 3, 0},
		{"over the limit with invalid entries", accesslog.FramingArray, `[{"x":1},{"y":2}]`, 1, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := accesslog.DecodeDrafts(strings.NewReader(c.body), c.framing, c.max)
			if c.wantN == 0 {
				wantError(t, err, vakt.CodeTooLarge)
				if !strings.Contains(vakt.ErrorMessage(err), strconv.Itoa(c.max)) {
					t.Errorf("message %q does not name the limit", vakt.ErrorMessage(err))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != c.wantN {
				t.Fatalf("got %d drafts, want %d", len(got), c.wantN)
			}
		})
	}
}

func TestDecodeDraftsResourcesLimit(t *testing.T) {
	res := func(n int) string {
		return `[{"resources":[` + strings.Repeat(`{"resourceType":"a"},`, n-1) + `{"resourceType":"a"}]}]`
	}
	got, err := decode(res(accesslog.MaxResources), accesslog.FramingArray)
	if err != nil {
		t.Fatal(err)
	}
	if len(got[0].Resources) != accesslog.MaxResources {
		t.Fatalf("got %d resources", len(got[0].Resources))
	}
	_, err = decode(res(accesslog.MaxResources+5), accesslog.FramingArray)
	wantError(t, err, vakt.CodeInvalid, vakt.Problem{Index: 0, Field: "resources", Reason: "has more than 1000 resources"})
}

// TestDecodeDraftsReaderError checks that an I/O error of the body is passed on, not turned into
// a caller's error.
func TestDecodeDraftsReaderError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader(`[`+minimalJSON+`,{"logId":"x`), iotest.ErrReader(boom))
	_, err := accesslog.DecodeDrafts(r, accesslog.FramingArray, 10)
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the reader's error", err)
	}
	if vakt.ErrorCode(err) != vakt.CodeInternal {
		t.Fatalf("code %s, want internal", vakt.ErrorCode(err))
	}
}

// TestDecodeDraftsReuse checks that decoders taken from the pool start clean after an error.
func TestDecodeDraftsReuse(t *testing.T) {
	for range 3 {
		if _, err := decode(`[{"user":{"name":"x"`, accesslog.FramingArray); err == nil {
			t.Fatal("want an error")
		}
		if _, err := decode(`[{"x":1}]`, accesslog.FramingArray); err == nil {
			t.Fatal("want an error")
		}
		got, err := decode(minimalJSON, accesslog.FramingNDJSON)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, []accesslog.Draft{minimalDraft()}) {
			t.Fatalf("got %+v", got)
		}
	}
}

func TestDecodeStored(t *testing.T) {
	e := mustValidate(t, fullDraft(), opts)
	p := accesslog.Prepare(e)
	stored := p.Seal(nil, 4711, now)

	d, seq, receivedAt, err := accesslog.DecodeStored(stored)
	if err != nil {
		t.Fatal(err)
	}
	if seq != 4711 || receivedAt != "2026-11-22T12:00:00.000000Z" {
		t.Fatalf("seq %d, receivedAt %q", seq, receivedAt)
	}
	e2 := mustValidate(t, d, opts)
	if !reflect.DeepEqual(e2, e) {
		t.Fatalf("got  %+v\nwant %+v", e2, e)
	}

	// Trailing whitespace is not trailing data.
	if _, _, _, err := accesslog.DecodeStored(append(stored, " \r\n"...)); err != nil {
		t.Fatal(err)
	}

	// Without the service fields it decodes too, and returns their zero values.
	d, seq, receivedAt, err = accesslog.DecodeStored(p.Content)
	if err != nil || seq != 0 || receivedAt != "" {
		t.Fatalf("content: seq %d, receivedAt %q, err %v", seq, receivedAt, err)
	}
	if e3 := mustValidate(t, d, opts); !reflect.DeepEqual(e3, e) {
		t.Fatalf("got  %+v\nwant %+v", e3, e)
	}

	// DecodeDrafts does not accept what DecodeStored does.
	_, err = accesslog.DecodeDrafts(strings.NewReader(string(stored)), accesslog.FramingNDJSON, 1)
	wantError(t, err, vakt.CodeInvalid,
		vakt.Problem{Index: 0, Field: "receivedAt", Reason: notField},
		vakt.Problem{Index: 0, Field: "seq", Reason: notField})

	for _, c := range []struct {
		name string
		json string
		want vakt.Problem
	}{
		{"seq a string", `{"seq":"1"}`, vakt.Problem{Field: "seq", Reason: "must be a number"}},
		{"seq a fraction", `{"seq":1.5}`, vakt.Problem{Field: "seq", Reason: "must be an integer"}},
		{"seq too large", `{"seq":99999999999999999999}`, vakt.Problem{Field: "seq", Reason: "must be an integer"}},
		{"receivedAt a number", `{"receivedAt":1}`, vakt.Problem{Field: "receivedAt", Reason: "must be a JSON string"}},
		{"seq nested", `{"user":{"seq":1}}`, vakt.Problem{Field: "user.seq", Reason: notField}},
		{"not an object", `[]`, vakt.Problem{Field: "", Reason: "must be a JSON object"}},
		{"truncated", `{"seq":1`, vakt.Problem{Field: "", Reason: "ends too early"}},
		{"empty", ``, vakt.Problem{Field: "", Reason: "ends too early"}},
		{"second entry", minimalJSON + minimalJSON, vakt.Problem{Field: "", Reason: "unexpected data after the entry"}},
		{"trailing garbage", minimalJSON + " x", vakt.Problem{Field: "", Reason: "unexpected data after the entry"}},
		{"trailing bracket", minimalJSON + "]", vakt.Problem{Field: "", Reason: "unexpected data after the entry"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, _, err := accesslog.DecodeStored([]byte(c.json))
			wantError(t, err, vakt.CodeInvalid, c.want)
		})
	}
}
