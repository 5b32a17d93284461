package accesslog_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gowebpki/jcs"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/synth"
)

// receivedAt is a time of commit with a fraction, in a zone other than UTC.
var receivedAt = time.Date(2026, 11, 22, 13, 0, 0, 500000000, time.FixedZone("CET", 3600))

// synthEntries returns n deterministic, realistic entries.
func synthEntries(t testing.TB, n int) []accesslog.Entry {
	t.Helper()
	g, err := synth.New(synth.Config{Seed: 7, CareProvider: provider, Entries: n, Persons: 20_000, Staff: 400, Units: 40})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]accesslog.Entry, 0, n)
	for {
		e, ok := g.Next()
		if !ok {
			return out
		}
		out = append(out, e)
	}
}

// checkJCS fails unless b is valid JSON that RFC 8785 leaves unchanged.
func checkJCS(t testing.TB, what string, b []byte) {
	t.Helper()
	if !json.Valid(b) {
		t.Fatalf("%s is not valid JSON: %s", what, b)
	}
	c, err := jcs.Transform(b)
	if err != nil {
		t.Fatalf("%s: jcs: %v\n%s", what, err, b)
	}
	if !bytes.Equal(c, b) {
		t.Fatalf("%s is not canonical:\n got %s\nwant %s", what, b, c)
	}
}

// trickyStrings need escaping or are easy to escape wrongly.
var trickyStrings = []string{
	`"`, `\`, `\"`, `"\\"`, `a"b\c`, "/", "'", "<>&", "<script>",
	"\t", "\n", "\r", "\b", "\f", "\x00", "\x01", "\x07", "\x0b", "\x1b", "\x1f", "a\tb\nc\r\nd",
	"\u007f", "\u0080", "\u009f", "\u00a0", "\u00ad", "\u2028", "\u2029", "\ufeff", "\ufffd", "\uffff",
	"åäö ÅÄÖ é e\u0301", "🩺", "👩\u200d⚕️", "\U0010ffff", "𝄞", "\U0001f600x",
	"Journal \"Kålle\" \\ 2\t<b>&amp;</b>",
}

// trickyEntry puts s in every text element of an entry. The entry need not be valid: Prepare
// must write canonical JSON for any strings.
func trickyEntry(s string) accesslog.Entry {
	return accesslog.Entry{
		LogID:  s,
		System: accesslog.System{ID: ident.HSAID(s), Name: s},
		Activity: accesslog.Activity{
			Type: accesslog.ActivityType(s), Level: s, Args: s + s,
			StartDate: time.Date(2026, 11, 22, 10, 0, 0, 1000, time.UTC), Purpose: accesslog.Purpose(s),
		},
		User: accesslog.User{
			ID: ident.HSAID(s), Name: s, Assignment: s, Title: s,
			CareProvider: accesslog.CareProvider{ID: ident.HSAID(s), Name: s},
			CareUnit:     accesslog.CareUnit{ID: ident.HSAID(s), Name: s},
		},
		Resources: []accesslog.Resource{{
			Type:         s,
			Patient:      accesslog.Patient{ID: mustReserve(`R"1\2`), Name: s},
			CareProvider: accesslog.CareProvider{ID: ident.HSAID(s), Name: s},
			CareUnit:     accesslog.CareUnit{ID: ident.HSAID(s), Name: s},
		}, {Type: s}},
	}
}

func mustReserve(ext string) ident.PersonID {
	p, err := ident.NewPersonID(reserveOI, ext, now, true)
	if err != nil {
		panic(err)
	}
	return p
}

func TestCanonicalMatchesJCS(t *testing.T) {
	var entries []accesslog.Entry
	entries = append(entries, synthEntries(t, 3000)...)
	for _, s := range trickyStrings {
		entries = append(entries, trickyEntry(s))
	}
	entries = append(entries, mustValidate(t, fullDraft(), opts), mustValidate(t, minimalDraft(), opts), accesslog.Entry{})
	// Every control character, and the characters around the ASCII boundaries.
	for c := rune(0); c < 0x100; c++ {
		entries = append(entries, trickyEntry(string(c)+"x"+string(c)))
	}
	seqs := []int64{1, 9, 10, 4711, 1 << 31, 1<<53 - 1}
	for i, e := range entries {
		p := accesslog.Prepare(e)
		checkJCS(t, "Content", p.Content)
		sealed := p.Seal(nil, seqs[i%len(seqs)], receivedAt.Add(time.Duration(i)*time.Microsecond))
		checkJCS(t, "Seal", sealed)

		// The members really are the entry's: encoding/json reads back the texts.
		var m struct {
			LogID    string `json:"logId"`
			Activity struct {
				ActivityArgs string `json:"activityArgs"`
			} `json:"activity"`
			Seq int64 `json:"seq"`
		}
		if err := json.Unmarshal(sealed, &m); err != nil {
			t.Fatal(err)
		}
		if m.LogID != strings.ToValidUTF8(e.LogID, "\ufffd") || m.Activity.ActivityArgs != strings.ToValidUTF8(e.Activity.Args, "\ufffd") || m.Seq != seqs[i%len(seqs)] {
			t.Fatalf("entry %d does not read back: %+v", i, m)
		}
	}
}

// TestCanonicalInvalidUTF8 checks that invalid UTF-8, which validation never lets through,
// still gives well-formed canonical JSON.
func TestCanonicalInvalidUTF8(t *testing.T) {
	for _, s := range []string{"\xff", "a\xc3", "\xed\xa0\x80", "å\xe2\x82"} {
		p := accesslog.Prepare(trickyEntry(s))
		if !utf8.Valid(p.Content) {
			t.Fatalf("%q: output is not UTF-8", s)
		}
		checkJCS(t, "Content", p.Content)
	}
}

// goldenFull is the canonical JSON of fullDraft, written by hand from RFC 8785: members sorted,
// no whitespace, only '"', '\\' and control characters escaped, absent elements left out.
const goldenFull = `{"activity":{"activityArgs":"sök=<a&b>\tflik 2\nrad 3 – ✓ 🩺","activityLevel":"Översikt",` +
	`"activityType":"läsa","purpose":"Vård och behandling","startDate":"2026-11-22T13:05:00.123456Z"},` +
	`"logId":"0b7c1c52-6d0e-4d8a-9b7e-3f1d2c4b5a69",` +
	`"resources":[` +
	`{"careProvider":{"careProviderId":"SE2321000016-0001","careProviderName":"Region Exempel"},` +
	`"careUnit":{"careUnitId":"SE2321000016-E002","careUnitName":"Labb"},` +
	`"patient":{"patientId":{"extension":"201212121212","root":"1.2.752.129.2.1.3.1"},"patientName":"Tolvan Tolvansson"},` +
	`"resourceType":"Journalanteckning"},` +
	`{"careProvider":{"careProviderId":"SE2321000016-0002"},` +
	`"patient":{"patientId":{"extension":"199001723858","root":"1.2.752.129.2.1.3.3"}},"resourceType":"Provsvar"},` +
	`{"careProvider":{"careProviderId":"SE2321000016-0001"},"resourceType":"Remiss"}],` +
	`"system":{"systemId":"SE2321000016-S001","systemName":"Journal \"Kålle\" \\ 2"},` +
	`"user":{"assignment":"Läkare, VC Norr",` +
	`"careProvider":{"careProviderId":"SE2321000016-0001","careProviderName":"Region Exempel"},` +
	`"careUnit":{"careUnitId":"SE2321000016-E001","careUnitName":"Vårdcentralen Norr"},` +
	`"name":"Åsa Öberg","personId":{"extension":"191212121212","root":"1.2.752.129.2.1.3.1"},` +
	`"title":"Överläkare","userId":"SE2321000016-U001"}}`

// goldenFullSealed is goldenFull with seq 4711 and receivedAt (UTC, six fraction digits).
const goldenFullSealed = `{"activity":{"activityArgs":"sök=<a&b>\tflik 2\nrad 3 – ✓ 🩺","activityLevel":"Översikt",` +
	`"activityType":"läsa","purpose":"Vård och behandling","startDate":"2026-11-22T13:05:00.123456Z"},` +
	`"logId":"0b7c1c52-6d0e-4d8a-9b7e-3f1d2c4b5a69",` +
	`"receivedAt":"2026-11-22T12:00:00.500000Z",` +
	`"resources":[` +
	`{"careProvider":{"careProviderId":"SE2321000016-0001","careProviderName":"Region Exempel"},` +
	`"careUnit":{"careUnitId":"SE2321000016-E002","careUnitName":"Labb"},` +
	`"patient":{"patientId":{"extension":"201212121212","root":"1.2.752.129.2.1.3.1"},"patientName":"Tolvan Tolvansson"},` +
	`"resourceType":"Journalanteckning"},` +
	`{"careProvider":{"careProviderId":"SE2321000016-0002"},` +
	`"patient":{"patientId":{"extension":"199001723858","root":"1.2.752.129.2.1.3.3"}},"resourceType":"Provsvar"},` +
	`{"careProvider":{"careProviderId":"SE2321000016-0001"},"resourceType":"Remiss"}],` +
	`"seq":4711,` +
	`"system":{"systemId":"SE2321000016-S001","systemName":"Journal \"Kålle\" \\ 2"},` +
	`"user":{"assignment":"Läkare, VC Norr",` +
	`"careProvider":{"careProviderId":"SE2321000016-0001","careProviderName":"Region Exempel"},` +
	`"careUnit":{"careUnitId":"SE2321000016-E001","careUnitName":"Vårdcentralen Norr"},` +
	`"name":"Åsa Öberg","personId":{"extension":"191212121212","root":"1.2.752.129.2.1.3.1"},` +
	`"title":"Överläkare","userId":"SE2321000016-U001"}}`

func TestCanonicalGolden(t *testing.T) {
	p := accesslog.Prepare(mustValidate(t, fullDraft(), opts))
	if string(p.Content) != goldenFull {
		t.Fatalf("Content:\n got %s\nwant %s", p.Content, goldenFull)
	}
	if got := p.Seal(nil, 4711, receivedAt); string(got) != goldenFullSealed {
		t.Fatalf("Seal:\n got %s\nwant %s", got, goldenFullSealed)
	}
	// Seal appends to dst.
	if got := p.Seal([]byte("x\n"), 4711, receivedAt); string(got) != "x\n"+goldenFullSealed {
		t.Fatalf("Seal does not append: %s", got)
	}
	checkJCS(t, "golden", []byte(goldenFull))
	checkJCS(t, "golden sealed", []byte(goldenFullSealed))

	// The minimal entry: no optional member at all.
	const goldenMinimal = `{"activity":{"activityType":"Läsa","purpose":"Vård och behandling","startDate":"2026-11-22T10:15:30Z"},` +
		`"logId":"0b7c1c52-6d0e-4d8a-9b7e-3f1d2c4b5a69",` +
		`"resources":[{"careProvider":{"careProviderId":"SE2321000016-0001"},"resourceType":"Journalanteckning"}],` +
		`"system":{"systemId":"SE2321000016-S001"},` +
		`"user":{"careProvider":{"careProviderId":"SE2321000016-0001"},"careUnit":{"careUnitId":"SE2321000016-E001"},"userId":"SE2321000016-U001"}}`
	if p := accesslog.Prepare(mustValidate(t, minimalDraft(), opts)); string(p.Content) != goldenMinimal {
		t.Fatalf("minimal:\n got %s\nwant %s", p.Content, goldenMinimal)
	}

	// A reserve number is kept verbatim and escaped like any string; a samordningsnummer given
	// as 10 digits is written as 12.
	d := minimalDraft()
	d.User.PersonID = &accesslog.DraftII{Root: reserveOI, Extension: `R"1\2`}
	d.Resources[0].Patient = &accesslog.DraftPatient{PatientID: accesslog.DraftII{Extension: "900172+3858", Plain: true}}
	p = accesslog.Prepare(mustValidate(t, d, accesslog.ValidateOptions{Now: now, AllowReserveIDs: true}))
	for _, want := range []string{
		`"personId":{"extension":"R\"1\\2","root":"1.2.752.97.3.1.3"}`,
		`"patient":{"patientId":{"extension":"189001723858","root":"1.2.752.129.2.1.3.3"}}`,
	} {
		if !bytes.Contains(p.Content, []byte(want)) {
			t.Errorf("%s lacks %s", p.Content, want)
		}
	}
}

// TestCanonicalStartDate checks how startDate and receivedAt are written: UTC, RFC 3339 with
// the fraction's trailing zeros dropped (startDate) or six digits (receivedAt).
func TestCanonicalStartDate(t *testing.T) {
	for _, c := range []struct {
		in         time.Time
		start, rcv string
	}{
		{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "2026-01-02T03:04:05Z", "2026-01-02T03:04:05.000000Z"},
		{time.Date(2026, 1, 2, 3, 4, 5, 120000000, time.UTC), "2026-01-02T03:04:05.12Z", "2026-01-02T03:04:05.120000Z"},
		{time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC), "2026-01-02T03:04:05.123456Z", "2026-01-02T03:04:05.123456Z"},
		{time.Date(2026, 7, 1, 12, 0, 0, 1000, time.FixedZone("CEST", 7200)), "2026-07-01T10:00:00.000001Z", "2026-07-01T10:00:00.000001Z"},
		{time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), "1900-01-01T00:00:00Z", "1900-01-01T00:00:00.000000Z"},
	} {
		e := mustValidate(t, minimalDraft(), opts)
		e.Activity.StartDate = c.in
		p := accesslog.Prepare(e)
		if want := `{"activity":{"activityType":"Läsa","purpose":"Vård och behandling","startDate":"` + c.start + `"}`; !bytes.HasPrefix(p.Content, []byte(want)) {
			t.Errorf("got %s, want prefix %s", p.Content, want)
		}
		if want := `"receivedAt":"` + c.rcv + `"`; !bytes.Contains(p.Seal(nil, 1, c.in), []byte(want)) {
			t.Errorf("got %s, want %s", p.Seal(nil, 1, c.in), want)
		}
	}
}

func TestSealContentAssemble(t *testing.T) {
	entries := synthEntries(t, 500)
	for _, s := range trickyStrings {
		entries = append(entries, trickyEntry(s))
	}
	entries = append(entries, mustValidate(t, fullDraft(), opts))
	for i, e := range entries {
		p := accesslog.Prepare(e)
		seq := int64(i + 1)
		at := receivedAt.Add(time.Duration(i) * time.Second)
		sealed := p.Seal(nil, seq, at)

		content, err := accesslog.Content(sealed)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(content, p.Content) {
			t.Fatalf("Content(Seal) differs:\n got %s\nwant %s", content, p.Content)
		}
		if !bytes.Equal(append(append([]byte(nil), p.Head()...), p.Actor()...), p.Content) {
			t.Fatal("Head + Actor is not Content")
		}
		if !bytes.HasPrefix(p.Actor(), []byte(`,"system":{"systemId":`)) || !bytes.HasSuffix(p.Actor(), []byte("}}")) {
			t.Fatalf("Actor: %s", p.Actor())
		}
		assembled, err := accesslog.Assemble([]byte("prefix"), p.Head(), p.Actor(), seq, at)
		if err != nil {
			t.Fatal(err)
		}
		if string(assembled) != "prefix"+string(sealed) {
			t.Fatalf("Assemble differs from Seal:\n got %s\nwant %s", assembled, sealed)
		}
	}

	p := accesslog.Prepare(mustValidate(t, fullDraft(), opts))
	for _, c := range []struct{ head, actor string }{
		{`{"activity":{},"logId":"x"`, string(p.Actor())},
		{string(p.Head()), ""},
	} {
		if _, err := accesslog.Assemble(nil, []byte(c.head), []byte(c.actor), 1, receivedAt); err == nil {
			t.Errorf("Assemble(%q, %q) succeeded", c.head, c.actor)
		}
	}
	for _, s := range []string{"", "{}", string(p.Content), `{"seq":1,"receivedAt":"x"}`, `{"a":1,"receivedAt":"x`} {
		if _, err := accesslog.Content([]byte(s)); err == nil {
			t.Errorf("Content(%q) succeeded", s)
		}
	}
}

func TestHasLogID(t *testing.T) {
	for _, id := range []string{logID, `a"b`, `a\b`, `\`, `"`, "tab\there", "å", "\x01", `","resources":[`, "a b"} {
		e := mustValidate(t, minimalDraft(), opts)
		e.LogID = id
		// The same text inside another element must not count.
		e.Activity.Args = `,"logId":"other","resources":[`
		e.Resources[0].Type = `"logId":"` + id + `"`
		p := accesslog.Prepare(e)
		if !accesslog.HasLogID(p.Head(), id) {
			t.Errorf("HasLogID(%q) is false for its own head", id)
		}
		for _, other := range []string{"", id + "x", "x" + id, id[:len(id)-1], strings.ToUpper(id) + "Å", `\` + id, id + `\`, `"` + id, "other"} {
			if other != id && accesslog.HasLogID(p.Head(), other) {
				t.Errorf("head of %q: HasLogID(%q) is true", id, other)
			}
		}
	}
}

// TestStoredRoundTrip checks that what search and export serve decodes and validates back to
// the same content, and that Stored.Entry gives the entry.
func TestStoredRoundTrip(t *testing.T) {
	entries := synthEntries(t, 2000)
	entries = append(entries, mustValidate(t, fullDraft(), opts), mustValidate(t, minimalDraft(), opts))
	reserve := minimalDraft()
	reserve.User.PersonID = &accesslog.DraftII{Root: reserveOI, Extension: `R"1\2`}
	reserve.Resources[0].Patient = &accesslog.DraftPatient{PatientID: accesslog.DraftII{Root: reserveOI, Extension: "~!"}}
	entries = append(entries, mustValidate(t, reserve, accesslog.ValidateOptions{Now: now, AllowReserveIDs: true}))
	for i, e := range entries {
		p := accesslog.Prepare(e)
		sealed := p.Seal(nil, int64(i+1), receivedAt)
		d, seq, rcv, err := accesslog.DecodeStored(sealed)
		if err != nil {
			t.Fatal(err)
		}
		if seq != int64(i+1) || rcv != "2026-11-22T12:00:00.500000Z" {
			t.Fatalf("seq %d, receivedAt %s", seq, rcv)
		}
		e2 := mustValidate(t, d, accesslog.ValidateOptions{Now: now, AllowReserveIDs: true})
		if p2 := accesslog.Prepare(e2); !bytes.Equal(p2.Content, p.Content) {
			t.Fatalf("round trip changed the content:\n got %s\nwant %s", p2.Content, p.Content)
		}
		if !reflect.DeepEqual(e2, e) {
			t.Fatalf("round trip changed the entry:\n got %+v\nwant %+v", e2, e)
		}

		st := accesslog.Stored{Seq: int64(i + 1), ReceivedAt: receivedAt, JSON: sealed}
		e3, err := st.Entry()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(e3, e) {
			t.Fatalf("Stored.Entry:\n got %+v\nwant %+v", e3, e)
		}
	}

	// Stored entries stay readable after the time bounds have passed.
	old := minimalDraft()
	old.Activity.StartDate = "1950-06-01T10:00:00Z"
	p := accesslog.Prepare(mustValidate(t, old, accesslog.ValidateOptions{Now: time.Date(1950, 6, 1, 0, 0, 0, 0, time.UTC)}))
	st := accesslog.Stored{JSON: p.Seal(nil, 1, receivedAt)}
	if e, err := st.Entry(); err != nil || e.Activity.StartDate.Year() != 1950 {
		t.Fatalf("got %v, %v", e.Activity.StartDate, err)
	}

	for _, bad := range []string{"", "{", `{"logId":"x"}`, `{"foo":1}`, `[]`} {
		st := accesslog.Stored{JSON: []byte(bad)}
		if _, err := st.Entry(); err == nil {
			t.Errorf("Stored.Entry(%q) succeeded", bad)
		} else if strings.Contains(err.Error(), "191212") {
			t.Errorf("error quotes the entry: %v", err)
		}
	}
}

// TestJCSOracle makes sure the reference implementation is not a no-op on the mistakes a JCS
// encoder can make, so that TestCanonicalMatchesJCS would catch them.
func TestJCSOracle(t *testing.T) {
	for _, s := range []string{
		`{"b":1,"a":2}`,                       // member order
		`{"a": 1}`,                            // whitespace
		`{"a":"\u00e5"}`,                      // escaped non-ASCII
		`{"a":"\u001F"}`,                      // upper-case hex
		`{"a":"\u0009"}`,                      // long form where a short one exists
		`{"a":"\/"}`,                          // needless escape
		`{"a":1.0}`,                           // number form
		`{"activityType":1,"activityArgs":2}`, // the order of two of our names
	} {
		c, err := jcs.Transform([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		if string(c) == s {
			t.Errorf("jcs leaves %s unchanged", s)
		}
	}
}
