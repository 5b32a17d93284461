package web

import (
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/logcontrol"
)

// knownKeys fails t when a problem key has no text: the page would show the key itself.
func knownKeys(t *testing.T, keys []string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := messages["sv"][k]; !ok {
			t.Fatalf("problem key %q has no text", k)
		}
	}
}

// FuzzFlagForm: whatever the flags form holds, parsing names known problems or gives a query
// within the API's bounds (the service would accept it).
func FuzzFlagForm(f *testing.F) {
	f.Add("2026-04", "", "", "", "watchlist")
	f.Add("", "2026-01-01", "2026-03-31", "SE2321000016-A1", "out_of_hours")
	f.Add("", "2026-01-01", "2026-06-30", "", "")
	f.Add("2026-13", "2026-02-30", "", "nonsense", "nonsense")
	f.Add("9999-12", "", "2026-01-01", " SE2321000016-A1 ", "self")
	f.Fuzz(func(t *testing.T, month, from, to, unit, kind string) {
		form := url.Values{"month": {month}, "from": {from}, "to": {to}, "careUnit": {unit}, "kind": {kind, kind}}
		ff, q, probs := parseFlagForm(form)
		knownKeys(t, probs)
		if len(probs) > 0 {
			return
		}
		if err := q.Validate(); err != nil {
			t.Fatalf("%+v: accepted by the form, refused by the service: %v", form, err)
		}
		if q.CareUnit != "" {
			if _, err := ident.ParseHSAID(string(q.CareUnit)); err != nil {
				t.Fatalf("unit %q accepted", q.CareUnit)
			}
		}
		if len(ff.Kinds) > 1 || len(q.Kinds) > 0 && !slices.Contains(logcontrol.Kinds(), q.Kinds[0]) {
			t.Fatalf("kinds %v", q.Kinds)
		}
	})
}

// FuzzTargetedForm: whatever the targeted-control form holds, parsing names known problems or
// gives a request that validates.
func FuzzTargetedForm(f *testing.F) {
	f.Add("SE2321000016-A1", "2026-04-01", "2026-04-30", "19121212-1212", "", "", "")
	f.Add("", "2026-04-01", "2026-04-30", "", "", "colleague", "9b1c3f2e-0000-4000-8000-000000000001")
	f.Add("SE2321000016-A1", "2026-01-01", "2026-06-30", "", "SE2321000016-S7", "", "")
	f.Add("x", "2026-02-30", "", "121212-1212", "x", "nonsense", "")
	f.Add("SE2321000016-A1", "2026-04-01", "2026-04-30", "19121212-1212", "SE2321000016-S7", "self", "a")
	ref := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, unit, from, to, patient, staff, flag, logID string) {
		form := url.Values{"careUnit": {unit}, "from": {from}, "to": {to}, "patient": {patient}, "staff": {staff}, "flag": {flag}, "flagLogId": {logID}}
		_, req, probs := parseTargetedForm(form, ref)
		knownKeys(t, probs)
		if len(probs) > 0 {
			return
		}
		if err := req.Validate(); err != nil {
			t.Fatalf("%+v: parsed without problems but invalid: %v", form, err)
		}
		if req.To.Sub(req.From) > logcontrol.MaxPeriod || !req.From.Before(req.To) {
			t.Fatalf("period %v – %v accepted", req.From, req.To)
		}
	})
}

// FuzzSampleForm: whatever the sample form holds, parsing and the request's own validation name
// known problems, and an accepted size is 1–100.
func FuzzSampleForm(f *testing.F) {
	f.Add("SE2321000016-A1", "2026-04", "10", "")
	f.Add("SE2321000016-A1", "2026-04", "100", "18446744073709551615")
	f.Add("nonsense", "2026-13", "0", "-1")
	f.Add("", "", "101", "18446744073709551616")
	f.Fuzz(func(t *testing.T, unit, month, size, seed string) {
		var v controlsView
		req := parseSampleForm(url.Values{"careUnit": {unit}, "month": {month}, "size": {size}, "seed": {seed}}, &v)
		knownKeys(t, v.Problems)
		if len(v.Problems) > 0 {
			return
		}
		if err := req.Validate(); err != nil {
			knownKeys(t, controlProblems(err))
			return
		}
		if req.Size < 1 || req.Size > 100 {
			t.Fatalf("size %d accepted", req.Size)
		}
	})
}
