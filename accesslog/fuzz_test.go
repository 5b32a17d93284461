package accesslog_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gowebpki/jcs"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
)

// fuzzPath is the shape of every problem's field: a JSON path of safe names.
var fuzzPath = regexp.MustCompile(`^$|^[A-Za-z_?]+(\[[0-9]+\])?(\.[A-Za-z_?]+(\[[0-9]+\])?)*$`)

// fuzzReason lists every reason DecodeDrafts may give. None can carry input.
var fuzzReason = regexp.MustCompile(`^(is not a field of the RIV-TA log entry|must be a JSON (string|object|array)|` +
	`has more than 1000 resources|must hold at least one entry|unexpected data after the JSON array|ends too early|is given twice|` +
	`is not valid JSON \(at byte offset [0-9]+\))$`)

// fuzzMaxEntries keeps fuzzed batches small.
const fuzzMaxEntries = 20

// fuzzBodies are seeds for FuzzDecodeDrafts beyond the synthetic entries.
func fuzzBodies() []string {
	return []string{
		"[" + fullJSON + "]",
		"[" + minimalJSON + "," + minimalJSON + "]",
		`[{"logId":"a","logId":"b"}]`,
		`[{"foo":1,"system":"x","resources":[1,null,{"patient":{"patientId":{"root":1}}}]}]`,
		`[{"user":{"personId":"121212-1212"},"resources":[{"patient":{"patientId":"191212121212"}}]}]`,
		`[{"191212121212":1}]`,
		`[{"seq":1,"receivedAt":"x"}]`,
		`[{"activity":{"startDate":"2026-11-22T10:15:30"}}] x`,
		`[{"logId":"\u2028\ud83e\ude7a\u0000"}]`,
		"[{\"logId\":\"\xff\"}]",
		`[`, `]`, `[]`, `[[]]`, `null`, ``, `{}`, `[{}`, `[{},]`, `[{} {}]`, `[{"x":[[[[[[[[[[]]]]]]]]]]}]`,
	}
}

func FuzzDecodeDrafts(f *testing.F) {
	var lines [][]byte
	for _, e := range synthEntries(f, 60) {
		lines = append(lines, accesslog.Prepare(e).Content)
	}
	for i := 0; i+3 <= len(lines); i += 3 {
		f.Add(bytes.Join(lines[i:i+3], []byte("\n")), true)
		f.Add(append(append([]byte("["), bytes.Join(lines[i:i+3], []byte(","))...), ']'), false)
	}
	for _, b := range fuzzBodies() {
		f.Add([]byte(b), false)
		f.Add([]byte(strings.TrimSuffix(strings.TrimPrefix(b, "["), "]")), true)
	}
	stored := accesslog.Prepare(mustValidate(f, fullDraft(), opts))
	f.Add(stored.Seal(nil, 1, now), true)

	f.Fuzz(func(t *testing.T, data []byte, ndjson bool) {
		framing := accesslog.FramingArray
		if ndjson {
			framing = accesslog.FramingNDJSON
		}
		drafts, err := accesslog.DecodeDrafts(bytes.NewReader(data), framing, fuzzMaxEntries)
		if err != nil {
			var ve *vakt.Error
			if !errors.As(err, &ve) {
				t.Fatalf("not a *vakt.Error: %v", err)
			}
			switch ve.Code {
			case vakt.CodeTooLarge:
			case vakt.CodeInvalid:
				if len(ve.Problems) == 0 {
					t.Fatal("CodeInvalid without problems")
				}
			default:
				t.Fatalf("code %s", ve.Code)
			}
			for _, p := range ve.Problems {
				if !fuzzPath.MatchString(p.Field) || !fuzzReason.MatchString(p.Reason) || p.Index < -1 || p.Index >= fuzzMaxEntries {
					t.Fatalf("problem %+v", p)
				}
			}
			return
		}
		if len(drafts) == 0 || len(drafts) > fuzzMaxEntries {
			t.Fatalf("%d drafts without an error", len(drafts))
		}
		o := accesslog.ValidateOptions{Now: now, AllowReserveIDs: true}
		var first [][]byte
		for i := range drafts {
			e, probs := drafts[i].Validate(i, o)
			for _, p := range probs {
				if p.Index != i || !fuzzPath.MatchString(p.Field) || strings.Contains(p.Reason, `"`) {
					t.Fatalf("problem %+v", p)
				}
			}
			if len(probs) > 0 {
				return
			}
			first = append(first, accesslog.Prepare(e).Content)
		}
		// Every entry is valid: its canonical form must be a fixed point of decode, validate,
		// prepare, in either framing and through the stored form.
		for _, body := range [][]byte{
			bytes.Join(first, []byte("\n")),
			append(append([]byte("["), bytes.Join(first, []byte(","))...), ']'),
		} {
			framing := accesslog.FramingNDJSON
			if body[0] == '[' {
				framing = accesslog.FramingArray
			}
			again, err := accesslog.DecodeDrafts(bytes.NewReader(body), framing, fuzzMaxEntries)
			if err != nil {
				t.Fatalf("canonical form does not decode: %v\n%s", err, body)
			}
			if len(again) != len(first) {
				t.Fatalf("%d entries became %d", len(first), len(again))
			}
			for i := range again {
				e, probs := again[i].Validate(i, o)
				if len(probs) > 0 {
					t.Fatalf("canonical form does not validate: %s\n%s", fmtProblems(probs), first[i])
				}
				if c := accesslog.Prepare(e).Content; !bytes.Equal(c, first[i]) {
					t.Fatalf("not a fixed point:\n got %s\nwant %s", c, first[i])
				}
			}
		}
		for i, c := range first {
			checkJCS(t, "Content", c)
			p := accesslog.Prepare(mustValidate(t, drafts[i], o))
			sealed := p.Seal(nil, int64(i+1), now)
			d, _, _, err := accesslog.DecodeStored(sealed)
			if err != nil {
				t.Fatal(err)
			}
			if c2 := accesslog.Prepare(mustValidate(t, d, o)).Content; !bytes.Equal(c2, c) {
				t.Fatalf("stored form is not a fixed point:\n got %s\nwant %s", c2, c)
			}
			if got, err := accesslog.Content(sealed); err != nil || !bytes.Equal(got, c) {
				t.Fatalf("Content(Seal) = %s, %v", got, err)
			}
		}
	})
}

const dateTimeReason = "must be an xs:dateTime such as 2026-11-22T14:05:00Z or 2026-11-22T14:05:00+01:00"

func FuzzParseDateTime(f *testing.F) {
	for _, s := range []string{
		"2026-11-22T10:15:30Z", "2026-11-22T10:15:30z", "2026-11-22T11:15:30+01:00", "2026-11-22T10:15:30.123456789-05:00",
		"2026-07-01T12:00:00", "2026-01-15T12:00:00.5", "2026-03-29T02:30:00", "2026-10-25T02:30:00",
		"1900-01-01T00:00:00Z", "1850-06-01T12:00:00", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-14:00",
		"2026-11-22", "2026-11-22 10:15:30Z", "2026-02-29T00:00:00Z", "2026-11-22T24:00:00Z", "2026-11-22T10:15:30+0100",
		"2026-11-22T10:15:30.1234567890123456789Z", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := accesslog.ParseDateTime(s)
		if err != nil {
			if tm != (time.Time{}) {
				t.Fatal("non-zero time with an error")
			}
			if err.Error() != dateTimeReason { // one fixed text: it cannot quote the input
				t.Fatalf("error %v", err)
			}
			return
		}
		if len(s) < 19 || s[10] != 'T' {
			t.Fatalf("accepted %q", s)
		}
		// The year as written. ParseDateTime accepts year 0000, which XML Schema 1.0 does not
		// allow; Validate rejects it as before 1900.
		if y := tm.Year(); y < 0 || y > 9999 {
			t.Fatalf("%q: year %d", s, y)
		}
		// Written again (in UTC, or in its own zone when UTC has no four-digit year) and parsed,
		// it is the same instant.
		var again string
		_, off := tm.Zone()
		if u := tm.UTC(); u.Year() >= 1 && u.Year() <= 9999 {
			again = u.Format(time.RFC3339Nano)
		} else if off%60 == 0 {
			again = tm.Format(time.RFC3339Nano)
		} else {
			return // local mean time before 1900 and a year RFC 3339 cannot write in UTC
		}
		tm2, err := accesslog.ParseDateTime(again)
		if err != nil || !tm2.Equal(tm) {
			t.Fatalf("%q → %s → %s, %v", s, again, tm2, err)
		}
	})
}

func FuzzParseCursor(f *testing.F) {
	for _, c := range []accesslog.Cursor{{StartDate: now.UnixMicro(), Seq: 1}, {StartDate: -1, Seq: 1 << 62}, {StartDate: 1 << 62, Seq: 300}} {
		f.Add(c.String())
	}
	for _, s := range []string{"", "A", "AAAA", "AQ", "AAE", "!!", strings.Repeat("_", 64), strings.Repeat("-", 65), "gICAgICAgICAAQE"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := accesslog.ParseCursor(s)
		if err != nil {
			if vakt.ErrorCode(err) != vakt.CodeInvalid || !c.IsZero() {
				t.Fatalf("got %+v, %v", c, err)
			}
			return
		}
		if s == "" {
			if !c.IsZero() {
				t.Fatalf("empty cursor parsed as %+v", c)
			}
			return
		}
		if c.IsZero() || c.Seq < 1 {
			t.Fatalf("%q parsed as %+v", s, c)
		}
		// Several texts may name one position (the encoding is not checked for being the
		// shortest), but the text String writes is never longer and parses back.
		again := c.String()
		if len(again) > len(s) {
			t.Fatalf("%q: String is longer: %q", s, again)
		}
		if c2, err := accesslog.ParseCursor(again); err != nil || c2 != c {
			t.Fatalf("%+v → %q → %+v, %v", c, again, c2, err)
		}
	})
}

func FuzzAppendString(f *testing.F) {
	for _, s := range trickyStrings {
		f.Add(s)
	}
	f.Add("\xff\xfe")
	f.Add("a\xed\xa0\x80b")
	f.Fuzz(func(t *testing.T, s string) {
		out := accesslog.AppendString([]byte("x"), s)
		if out[0] != 'x' {
			t.Fatal("does not append")
		}
		out = out[1:]
		if !utf8.Valid(out) || !json.Valid(out) {
			t.Fatalf("%q → %q is not valid JSON", s, out)
		}
		// It is what RFC 8785 writes ...
		c, err := jcs.Transform(out)
		if err != nil || !bytes.Equal(c, out) {
			t.Fatalf("%q → %q, JCS %q, %v", s, out, c, err)
		}
		if !utf8.ValidString(s) {
			// Invalid bytes become U+FFFD, each on its own.
			var want strings.Builder
			for i := 0; i < len(s); {
				r, n := utf8.DecodeRuneInString(s[i:])
				want.WriteRune(r)
				i += n
			}
			s = want.String()
		}
		// ... of this very string ...
		var back string
		if err := json.Unmarshal(out, &back); err != nil || back != s {
			t.Fatalf("%q → %q → %q, %v", s, out, back, err)
		}
		// ... and what another encoder's output becomes in JCS.
		m, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if c, err := jcs.Transform(m); err != nil || !bytes.Equal(c, out) {
			t.Fatalf("%q: ours %q, encoding/json+JCS %q, %v", s, out, c, err)
		}
	})
}
