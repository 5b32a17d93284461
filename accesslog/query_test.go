package accesslog_test

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
)

var malformedCursor = vakt.Problem{Index: -1, Field: "cursor", Reason: "is malformed"}

func TestCursorRoundTrip(t *testing.T) {
	if s := (accesslog.Cursor{}).String(); s != "" {
		t.Fatalf("zero cursor: %q", s)
	}
	c, err := accesslog.ParseCursor("")
	if err != nil || !c.IsZero() {
		t.Fatalf("ParseCursor(\"\") = %+v, %v", c, err)
	}
	urlSafe := regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	for _, c := range []accesslog.Cursor{
		{StartDate: 0, Seq: 1},
		{StartDate: 1, Seq: 1},
		{StartDate: -1, Seq: 1},
		{StartDate: now.UnixMicro(), Seq: 4711},
		{StartDate: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro(), Seq: 127},
		{StartDate: time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC).UnixMicro(), Seq: 128},
		{StartDate: math.MaxInt64, Seq: 1 << 62},
		{StartDate: math.MinInt64, Seq: math.MaxInt32},
	} {
		s := c.String()
		if !urlSafe.MatchString(s) || len(s) > 64 {
			t.Errorf("%+v: %q is not a short URL-safe token", c, s)
		}
		if c.IsZero() {
			t.Errorf("%+v is zero", c)
		}
		got, err := accesslog.ParseCursor(s)
		if err != nil || got != c {
			t.Errorf("%+v: ParseCursor(%q) = %+v, %v", c, s, got, err)
		}
	}
}

func TestParseCursorMalformed(t *testing.T) {
	enc := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	varints := func(ts int64, seq uint64, extra ...byte) string {
		b := binary.AppendVarint(nil, ts)
		b = binary.AppendUvarint(b, seq)
		return enc(append(b, extra...))
	}
	valid := varints(now.UnixMicro(), 5)
	for _, c := range []struct{ name, s string }{
		{"not base64", "!!!!"},
		{"standard alphabet", strings.Repeat("+/", 4)},
		{"padded", valid + "=="[:(4-len(valid)%4)%4] + "="},
		{"one character", "A"},
		{"whitespace", " " + valid},
		{"trailing bytes", varints(now.UnixMicro(), 5, 0)},
		{"seq zero", varints(now.UnixMicro(), 0)},
		{"seq too large", varints(1, 1<<62+1)},
		{"seq max", varints(1, math.MaxUint64)},
		{"no seq", enc(binary.AppendVarint(nil, 12345))},
		{"no bytes", enc([]byte{0x80})},
		{"varint overflow", enc([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x01})},
		{"too long", strings.Repeat("A", 65)},
		{"too long but valid prefix", valid + strings.Repeat("A", 65-len(valid))},
		{"personnummer", "191212121212"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := accesslog.ParseCursor(c.s)
			wantError(t, err, vakt.CodeInvalid, malformedCursor)
			if !got.IsZero() {
				t.Errorf("returned %+v with the error", got)
			}
			if strings.Contains(err.Error(), c.s) {
				t.Errorf("error quotes the cursor: %v", err)
			}
		})
	}
}

func TestCursorBefore(t *testing.T) {
	var zero accesslog.Cursor
	for _, p := range [][2]int64{{0, 0}, {math.MaxInt64, math.MaxInt64}, {math.MinInt64, 1}} {
		if !zero.Before(p[0], p[1]) {
			t.Errorf("zero cursor: Before(%d, %d) is false", p[0], p[1])
		}
	}
	c := accesslog.Cursor{StartDate: 100, Seq: 5}
	for _, x := range []struct {
		startDate, seq int64
		want           bool
	}{
		{99, 1000, true}, // older
		{100, 4, true},   // same time, earlier seq
		{100, 5, false},  // the cursor's own entry
		{100, 6, false},  // same time, later seq
		{101, 1, false},  // newer
		{math.MinInt64, 1, true},
	} {
		if got := c.Before(x.startDate, x.seq); got != x.want {
			t.Errorf("Before(%d, %d) = %v", x.startDate, x.seq, got)
		}
	}
}

func TestQueryValidate(t *testing.T) {
	t0 := now
	limitProblem := vakt.Problem{Index: -1, Field: "limit", Reason: "must be between 1 and 1000"}
	toProblem := vakt.Problem{Index: -1, Field: "to", Reason: "must be after from"}
	for _, c := range []struct {
		name string
		q    accesslog.Query
		want []vakt.Problem
	}{
		{"zero", accesslog.Query{}, nil},
		{"limit 1", accesslog.Query{Limit: 1}, nil},
		{"limit max", accesslog.Query{Limit: accesslog.MaxLimit}, nil},
		{"limit over max", accesslog.Query{Limit: accesslog.MaxLimit + 1}, []vakt.Problem{limitProblem}},
		{"limit negative", accesslog.Query{Limit: -1}, []vakt.Problem{limitProblem}},
		{"from only", accesslog.Query{From: t0}, nil},
		{"to only", accesslog.Query{To: t0}, nil},
		{"from before to", accesslog.Query{From: t0, To: t0.Add(time.Nanosecond)}, nil},
		{"from equals to", accesslog.Query{From: t0, To: t0}, []vakt.Problem{toProblem}},
		{"from after to", accesslog.Query{From: t0.Add(time.Hour), To: t0}, []vakt.Problem{toProblem}},
		{"both", accesslog.Query{Limit: math.MaxInt, From: t0, To: t0.Add(-time.Hour)}, []vakt.Problem{limitProblem, toProblem}},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.q.Validate()
			if c.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantError(t, err, vakt.CodeInvalid, c.want...)
		})
	}
}

func TestQueryPageSize(t *testing.T) {
	for _, c := range []struct{ limit, want int }{{0, accesslog.DefaultLimit}, {1, 1}, {250, 250}, {accesslog.MaxLimit, accesslog.MaxLimit}} {
		q := accesslog.Query{Limit: c.limit}
		if got := q.PageSize(); got != c.want {
			t.Errorf("Limit %d: PageSize %d", c.limit, got)
		}
	}
}

func TestQueryMatches(t *testing.T) {
	a, b, c := mustPerson(t, patientA), mustPerson(t, patientB), mustPerson(t, coordC)
	start := time.Date(2026, 11, 22, 10, 15, 30, 123456000, time.UTC)
	e := accesslog.Entry{
		LogID:    logID,
		Activity: accesslog.Activity{Type: "läsa", StartDate: start, Purpose: accesslog.PurposeCare},
		User: accesslog.User{
			ID:           user,
			CareProvider: accesslog.CareProvider{ID: provider},
			CareUnit:     accesslog.CareUnit{ID: unit},
		},
		Resources: []accesslog.Resource{
			{Type: "a", CareProvider: accesslog.CareProvider{ID: provider2}, CareUnit: accesslog.CareUnit{ID: unit2}},
			{Type: "b", Patient: accesslog.Patient{ID: a}, CareProvider: accesslog.CareProvider{ID: provider}},
			{Type: "c", Patient: accesslog.Patient{ID: b}, CareProvider: accesslog.CareProvider{ID: provider}},
		},
	}
	for _, x := range []struct {
		name string
		q    accesslog.Query
		want bool
	}{
		{"no filter", accesslog.Query{}, true},
		{"limit and cursor are not filters", accesslog.Query{Limit: 1, After: accesslog.Cursor{StartDate: 1, Seq: 1}}, true},
		{"patient of the second resource", accesslog.Query{PatientID: a}, true},
		{"patient of the third resource", accesslog.Query{PatientID: b}, true},
		{"other patient", accesslog.Query{PatientID: c}, false},
		{"same number under a reserve root", accesslog.Query{PatientID: mustReserve(patientA)}, false},
		{"user", accesslog.Query{UserID: user}, true},
		{"other user", accesslog.Query{UserID: "SE2321000016-U002"}, false},
		{"user case differs", accesslog.Query{UserID: ident.HSAID(strings.ToLower(user))}, false},
		{"care unit of the user", accesslog.Query{CareUnitID: unit}, true},
		{"care unit of a resource only", accesslog.Query{CareUnitID: unit2}, false},
		{"care provider of the user", accesslog.Query{CareProviderID: provider}, true},
		{"care provider of a resource only", accesslog.Query{CareProviderID: provider2}, false},
		{"activity type as stored", accesslog.Query{ActivityType: "läsa"}, true},
		{"activity type canonical", accesslog.Query{ActivityType: accesslog.ActivityRead}, true},
		{"activity type upper case", accesslog.Query{ActivityType: "LÄSA"}, true},
		{"other activity type", accesslog.Query{ActivityType: accesslog.ActivityWrite}, false},
		{"activity type prefix", accesslog.Query{ActivityType: "läs"}, false},
		{"from equal: inclusive", accesslog.Query{From: start}, true},
		{"from in another zone", accesslog.Query{From: start.In(time.FixedZone("X", 3600))}, true},
		{"from earlier", accesslog.Query{From: start.Add(-time.Hour)}, true},
		{"from a nanosecond later", accesslog.Query{From: start.Add(time.Nanosecond)}, false},
		{"to equal: exclusive", accesslog.Query{To: start}, false},
		{"to a nanosecond later", accesslog.Query{To: start.Add(time.Nanosecond)}, true},
		{"to earlier", accesslog.Query{To: start.Add(-time.Microsecond)}, false},
		{"window", accesslog.Query{From: start, To: start.Add(time.Microsecond)}, true},
		{"all filters", accesslog.Query{PatientID: b, UserID: user, CareUnitID: unit, CareProviderID: provider,
			ActivityType: "Läsa", From: start.Add(-time.Second), To: start.Add(time.Second)}, true},
		{"all filters but one", accesslog.Query{PatientID: b, UserID: user, CareUnitID: unit, CareProviderID: provider,
			ActivityType: "Skriva", From: start.Add(-time.Second), To: start.Add(time.Second)}, false},
	} {
		if got := x.q.Matches(&e); got != x.want {
			t.Errorf("%s: Matches = %v", x.name, got)
		}
	}
	// An entry without patients matches no patient query.
	e.Resources = e.Resources[:1]
	if q := (accesslog.Query{PatientID: a}); q.Matches(&e) {
		t.Error("entry without patients matched a patient")
	}
}
