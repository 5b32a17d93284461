package rest_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/synth"
)

// corpus is tenant A's log for the search tests: synthetic entries plus hand-made ones that
// exercise what synthetic data lacks (a second care provider, ties in startDate, other spellings
// of activity types, samordningsnummer).
type corpus struct {
	e       *env
	reader  string
	entries []indexed // every stored entry, as the reference model sees it
}

type indexed struct {
	entry accesslog.Entry
	seq   int64
	json  []byte // as served
}

func newCorpus(t *testing.T) *corpus {
	t.Helper()
	e := newEnv(t)
	writer, reader := e.token(t, tenantA, vakt.RoleWriter), e.token(t, tenantA, vakt.RoleReader)
	g, err := synth.New(synth.Config{Seed: 7, CareProvider: cpA, Entries: 400, Persons: 400, Staff: 20, Units: 4, Systems: 2, Days: 5})
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	if _, err := synth.WriteNDJSON(&body, g); err != nil {
		t.Fatal(err)
	}
	r := e.do(t, call{method: "POST", path: "/api/v1/logs", token: writer, contentType: "application/x-ndjson", body: body.Bytes()})
	wantStatus(t, r, http.StatusCreated)

	var hand []map[string]any
	for i := range 12 {
		// Twelve entries at one instant: only seq orders them.
		hand = append(hand, entry(logID("tie", i), at("2026-10-03T10:00:00+02:00"), patient(pnrThird),
			set("user.userId", userA2), set("user.careUnit.careUnitId", unitA2)))
	}
	hand = append(hand,
		entry(logID("cp2", 1), set("user.careProvider.careProviderId", cpA2), at("2026-10-02T09:00:00Z")),
		entry(logID("cp2", 2), set("user.careProvider.careProviderId", cpA2), at("2026-10-04T09:00:00Z"), set("activity.activityType", "LÄSA")),
		entry(logID("lower", 1), set("activity.activityType", "läsa"), at("2026-10-01T00:00:00+02:00")),
		entry(logID("coord", 1), patient(samordning), at("2026-10-05T23:59:59.999999Z")),
		entry(logID("two", 1), at("2026-10-02T12:00:00Z"), set("resources[1]", map[string]any{
			"resourceType": "Provsvar",
			"patient":      map[string]any{"patientId": map[string]any{"root": "1.2.752.129.2.1.3.3", "extension": samordning}},
			"careProvider": map[string]any{"careProviderId": cpB},
		})),
	)
	wantStatus(t, e.appendJSON(t, writer, hand...), http.StatusCreated)

	// The reference model: every stored entry, read back through export.
	x := e.export(t, reader, map[string]any{})
	wantStatus(t, x, http.StatusOK)
	c := &corpus{e: e, reader: reader}
	for line := range bytes.Lines(x.body) {
		raw := bytes.TrimSuffix(line, []byte("\n"))
		st := accesslog.Stored{JSON: raw}
		ent, err := st.Entry()
		if err != nil {
			t.Fatal(err)
		}
		c.entries = append(c.entries, indexed{entry: ent, seq: parseStored(t, raw).Seq, json: slices.Clone(raw)})
	}
	if len(c.entries) != 400+len(hand) {
		t.Fatalf("export gave %d entries, want %d", len(c.entries), 400+len(hand))
	}
	seqs := make([]int64, len(c.entries))
	for i, x := range c.entries {
		seqs[i] = x.seq
	}
	slices.Sort(seqs)
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("seqs are not 1..%d without gaps: %v", len(seqs), seqs)
		}
	}
	return c
}

// want returns what q must find, in the documented order: newest first by (startDate, seq).
func (c *corpus) want(q accesslog.Query) [][]byte {
	var hits []indexed
	for _, x := range c.entries {
		if q.Matches(&x.entry) {
			hits = append(hits, x)
		}
	}
	slices.SortFunc(hits, func(a, b indexed) int {
		if n := b.entry.Activity.StartDate.Compare(a.entry.Activity.StartDate); n != 0 {
			return n
		}
		return cmp.Compare(b.seq, a.seq)
	})
	out := make([][]byte, len(hits))
	for i, h := range hits {
		out[i] = h.json
	}
	return out
}

// mostCommon returns the most frequent value of key among the entries, ties broken by value.
func mostCommon[K cmp.Ordered](c *corpus, key func(*accesslog.Entry) []K) K {
	n := map[K]int{}
	for i := range c.entries {
		for _, k := range key(&c.entries[i].entry) {
			n[k]++
		}
	}
	var best K
	for k, v := range n {
		if v > n[best] || v == n[best] && k < best {
			best = k
		}
	}
	return best
}

// searchAll pages through q with limit, checking each page, and returns the entries in order.
func (c *corpus) searchAll(t *testing.T, q map[string]any, limit int) [][]byte {
	t.Helper()
	var out [][]byte
	cursor := ""
	for page := 0; ; page++ {
		body := map[string]any{}
		for k, v := range q {
			body[k] = v
		}
		if limit != 0 {
			body["limit"] = limit
		}
		if cursor != "" {
			body["cursor"] = cursor
		}
		r := c.e.search(t, c.reader, body)
		wantStatus(t, r, http.StatusOK)
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type %q", ct)
		}
		p := decode[searchPage](t, r)
		size := cmp.Or(limit, 100)
		if len(p.Entries) > size {
			t.Fatalf("page %d has %d entries, limit %d", page, len(p.Entries), size)
		}
		for _, raw := range p.Entries {
			wantCanonical(t, raw)
			out = append(out, []byte(raw))
		}
		if p.NextCursor == "" {
			return out
		}
		if len(p.Entries) != size {
			t.Fatalf("page %d has %d entries and a nextCursor; a full page has %d", page, len(p.Entries), size)
		}
		cursor = p.NextCursor
		if page > 1000 {
			t.Fatal("pagination does not end")
		}
	}
}

func sameEntries(t *testing.T, what string, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d entries, want %d", what, len(got), len(want))
	}
	seen := map[string]bool{}
	for i := range got {
		s := parseStored(t, got[i])
		if seen[s.LogID] {
			t.Errorf("%s: %s repeated", what, s.LogID)
		}
		seen[s.LogID] = true
		if i < len(want) && !bytes.Equal(got[i], want[i]) {
			t.Errorf("%s: entry %d is seq %d, want seq %d", what, i, s.Seq, parseStored(t, want[i]).Seq)
			return
		}
	}
}

func TestSearchFilters(t *testing.T) {
	c := newCorpus(t)
	pid := func(s string) ident.PersonID {
		p, err := ident.ParsePersonID(s, now)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	when := func(s string) time.Time {
		tm, err := accesslog.ParseDateTime(s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	patientOf := func(e *accesslog.Entry) []string {
		var out []string
		for _, p := range e.Patients() {
			out = append(out, p.Extension())
		}
		return out
	}
	frequentPatient := mostCommon(c, patientOf)
	frequentUser := mostCommon(c, func(e *accesslog.Entry) []ident.HSAID { return []ident.HSAID{e.User.ID} })
	frequentUnit := mostCommon(c, func(e *accesslog.Entry) []ident.HSAID { return []ident.HSAID{e.User.CareUnit.ID} })

	for _, tc := range []struct {
		name  string
		body  map[string]any
		query accesslog.Query
		least int // the corpus must give at least this many hits, so the case tests something
	}{
		{"everything", map[string]any{}, accesslog.Query{}, 400},
		{"patientId as 12 digits", map[string]any{"patientId": frequentPatient}, accesslog.Query{PatientID: pid(frequentPatient)}, 5},
		{"patientId as an object", map[string]any{"patientId": map[string]any{"root": "1.2.752.129.2.1.3.1", "extension": frequentPatient}},
			accesslog.Query{PatientID: pid(frequentPatient)}, 5},
		{"patientId with a separator", map[string]any{"patientId": "19811218-9876"}, accesslog.Query{PatientID: pid(pnrThird)}, 12},
		{"patientId as 10 digits", map[string]any{"patientId": "811218-9876"}, accesslog.Query{PatientID: pid(pnrThird)}, 12},
		{"samordningsnummer, any resource", map[string]any{"patientId": map[string]any{"root": "1.2.752.129.2.1.3.3", "extension": samordning}},
			accesslog.Query{PatientID: pid(samordning)}, 2},
		{"userId", map[string]any{"userId": string(frequentUser)}, accesslog.Query{UserID: frequentUser}, 10},
		{"careUnitId", map[string]any{"careUnitId": string(frequentUnit)}, accesslog.Query{CareUnitID: frequentUnit}, 10},
		{"careProviderId", map[string]any{"careProviderId": cpA2}, accesslog.Query{CareProviderID: cpA2}, 2},
		{"careProviderId of most", map[string]any{"careProviderId": cpA}, accesslog.Query{CareProviderID: cpA}, 400},
		{"activityType ignores case", map[string]any{"activityType": "läsa"}, accesslog.Query{ActivityType: "läsa"}, 100},
		{"activityType other", map[string]any{"activityType": "Skriva"}, accesslog.Query{ActivityType: "Skriva"}, 1},
		{"from", map[string]any{"from": "2026-10-03T10:00:00+02:00"}, accesslog.Query{From: when("2026-10-03T10:00:00+02:00")}, 12},
		{"to", map[string]any{"to": "2026-10-03T10:00:00+02:00"}, accesslog.Query{To: when("2026-10-03T10:00:00+02:00")}, 10},
		{"from and to, local time", map[string]any{"from": "2026-10-02T00:00:00", "to": "2026-10-03T00:00:00"},
			accesslog.Query{From: when("2026-10-02T00:00:00"), To: when("2026-10-03T00:00:00")}, 10},
		{"everything at once", map[string]any{
			"patientId": pnrThird, "userId": userA2, "careUnitId": unitA2, "careProviderId": cpA, "activityType": "LÄSA",
			"from": "2026-10-03T08:00:00Z", "to": "2026-10-03T08:00:00.000001Z",
		}, accesslog.Query{PatientID: pid(pnrThird), UserID: userA2, CareUnitID: unitA2, CareProviderID: cpA, ActivityType: "LÄSA",
			From: when("2026-10-03T08:00:00Z"), To: when("2026-10-03T08:00:00.000001Z")}, 12},
		{"nothing", map[string]any{"patientId": pnrOther}, accesslog.Query{PatientID: pid(pnrOther)}, 0},
		{"nulls and empty strings do not filter", map[string]any{"patientId": nil, "userId": "", "careUnitId": nil, "from": "", "to": nil, "limit": nil, "cursor": ""},
			accesslog.Query{}, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := c.want(tc.query)
			if len(want) < tc.least {
				t.Fatalf("the corpus has %d matches, the case needs at least %d", len(want), tc.least)
			}
			// Small pages for at least six of them, the default size and the largest.
			for _, limit := range []int{max(7, len(want)/6), 0, 1000} {
				got := c.searchAll(t, tc.body, limit)
				sameEntries(t, fmt.Sprintf("search with limit %d", limit), got, want)
			}
			// Export gives the same entries, byte for byte, in the same order.
			x := c.e.export(t, c.reader, tc.body)
			wantStatus(t, x, http.StatusOK)
			if ct := x.header.Get("Content-Type"); ct != "application/x-ndjson" {
				t.Errorf("export Content-Type %q", ct)
			}
			if len(x.body) > 0 && !bytes.HasSuffix(x.body, []byte("\n")) {
				t.Errorf("export does not end in a newline")
			}
			var lines [][]byte
			for line := range bytes.Lines(x.body) {
				lines = append(lines, bytes.TrimSuffix(line, []byte("\n")))
			}
			sameEntries(t, "export", lines, want)
		})
	}
}

func TestSearchPagination(t *testing.T) {
	c := newCorpus(t)
	all := c.want(accesslog.Query{})

	t.Run("default and maximum page size", func(t *testing.T) {
		for _, q := range []map[string]any{{}, {"limit": 0}, {"limit": nil}, {"limit": 100}} {
			p := decode[searchPage](t, c.e.search(t, c.reader, q))
			if len(p.Entries) != 100 || p.NextCursor == "" {
				t.Errorf("%v: %d entries, nextCursor %q; want 100 and a cursor", q, len(p.Entries), p.NextCursor)
			}
		}
		p := decode[searchPage](t, c.e.search(t, c.reader, map[string]any{"limit": 1000}))
		if len(p.Entries) != len(all) || p.NextCursor != "" {
			t.Errorf("limit 1000: %d entries, nextCursor %q; want all %d and none", len(p.Entries), p.NextCursor, len(all))
		}
		// An exact fit has no next page.
		p = decode[searchPage](t, c.e.search(t, c.reader, map[string]any{"limit": len(all)}))
		if len(p.Entries) != len(all) || p.NextCursor != "" {
			t.Errorf("limit %d: %d entries, nextCursor %q", len(all), len(p.Entries), p.NextCursor)
		}
	})

	t.Run("one by one", func(t *testing.T) {
		got := c.searchAll(t, map[string]any{"patientId": pnrThird}, 1)
		sameEntries(t, "limit 1", got, c.want(accesslog.Query{PatientID: mustPID(t, pnrThird)}))
	})

	t.Run("export from a cursor", func(t *testing.T) {
		p := decode[searchPage](t, c.e.search(t, c.reader, map[string]any{"limit": 50}))
		x := c.e.export(t, c.reader, map[string]any{"cursor": p.NextCursor, "limit": 50})
		wantStatus(t, x, http.StatusOK)
		var lines [][]byte
		for line := range bytes.Lines(x.body) {
			lines = append(lines, bytes.TrimSuffix(line, []byte("\n")))
		}
		sameEntries(t, "export after the first page", lines, all[50:])
	})

	t.Run("appends between pages", func(t *testing.T) {
		writer := c.e.token(t, tenantA, vakt.RoleWriter)
		p := decode[searchPage](t, c.e.search(t, c.reader, map[string]any{"limit": 10}))
		last := parseStored(t, p.Entries[9])
		// One entry newer than the cursor's position, one older.
		newer := entry(logID(t.Name(), 1), at("2026-11-30T12:00:00Z"))
		older := entry(logID(t.Name(), 2), at("2026-09-30T12:00:00Z"))
		wantStatus(t, c.e.appendJSON(t, writer, newer, older), http.StatusCreated)
		var rest []string
		cursor := p.NextCursor
		for cursor != "" {
			p := decode[searchPage](t, c.e.search(t, c.reader, map[string]any{"limit": 100, "cursor": cursor}))
			rest = append(rest, logIDs(t, p.Entries)...)
			cursor = p.NextCursor
		}
		if slices.Contains(rest, logID(t.Name(), 1)) {
			t.Errorf("an entry newer than the cursor's position appeared on a later page")
		}
		if !slices.Contains(rest, logID(t.Name(), 2)) {
			t.Errorf("an entry older than the cursor's position is missing from later pages")
		}
		if len(rest) != len(all)-10+1 {
			t.Errorf("later pages hold %d entries, want %d (after seq %d)", len(rest), len(all)-10+1, last.Seq)
		}
	})
}

func mustPID(t *testing.T, s string) ident.PersonID {
	t.Helper()
	p, err := ident.ParsePersonID(s, now)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSearchInvalid(t *testing.T) {
	e := newEnv(t)
	reader := e.token(t, tenantA, vakt.RoleReader)
	for _, c := range []struct {
		name    string
		body    string
		request conformance
		field   string // of the one problem
		reason  string // a prefix of its reason
	}{
		{"unknown member", `{"patient":"191212121212"}`, violates, "", "has an unknown field"},
		{"not an object", `[]`, violates, "", "is not a valid query object"},
		{"malformed JSON", `{"limit":`, violates, "", "is not a valid query object"},
		{"limit too big", `{"limit":1001}`, violates, "limit", "must be between 1 and 1000"},
		{"limit negative", `{"limit":-1}`, violates, "limit", "must be between 1 and 1000"},
		{"limit of the wrong type", `{"limit":"10"}`, violates, "limit", "has the wrong JSON type"},
		{"cursor not base64url", `{"cursor":"!!"}`, violates, "cursor", "is malformed"},
		{"cursor not issued here", `{"cursor":"AAAA"}`, conforms, "cursor", "is malformed"},
		{"cursor too long", `{"cursor":"` + strings.Repeat("A", 65) + `"}`, violates, "cursor", "is malformed"},
		{"from equals to", `{"from":"2026-10-02T00:00:00Z","to":"2026-10-02T02:00:00+02:00"}`, conforms, "to", "must be after from"},
		{"from after to", `{"from":"2026-10-03T00:00:00Z","to":"2026-10-02T00:00:00Z"}`, conforms, "to", "must be after from"},
		{"from without a time", `{"from":"2026-10-02"}`, violates, "from", "must be an xs:dateTime"},
		{"to of the wrong type", `{"to":20261002}`, violates, "to", "has the wrong JSON type"},
		{"patientId check digit", `{"patientId":"191212121213"}`, conforms, "patientId", "check digit does not match"},
		{"patientId a number", `{"patientId":191212121212}`, violates, "patientId", "must be a string or an object"},
		{"patientId without extension", `{"patientId":{"root":"1.2.752.129.2.1.3.1"}}`, violates, "patientId.extension", "is required"},
		{"patientId under the other root", `{"patientId":{"root":"1.2.752.129.2.1.3.3","extension":"191212121212"}}`, conforms, "patientId.root", "root OID does not match"},
		{"reserve number not allowed", `{"patientId":{"root":"1.2.752.129.2.1.3.99","extension":"R123"}}`, conforms, "patientId.root", "reserve numbers are not allowed here"},
		{"userId not an HSA-id", `{"userId":"anna"}`, violates, "userId", "HSA-id must start"},
		{"careUnitId too long", `{"careUnitId":"SE2321000016-` + strings.Repeat("A", 30) + `"}`, violates, "careUnitId", "HSA-id is too long"},
		{"activityType too long", `{"activityType":"` + strings.Repeat("x", 257) + `"}`, violates, "activityType", "is longer than 256 characters"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, path := range []string{"/api/v1/logs/search", "/api/v1/logs/export"} {
				r := e.do(t, call{method: "POST", path: path, token: reader, body: []byte(c.body), request: c.request})
				er := wantError(t, r, http.StatusBadRequest, vakt.CodeInvalid)
				if er.Message != "query is invalid" {
					t.Errorf("%s: message %q", path, er.Message)
				}
				if len(er.Errors) != 1 || er.Errors[0].Index != -1 || er.Errors[0].Field != c.field || !strings.HasPrefix(er.Errors[0].Reason, c.reason) {
					t.Errorf("%s: problems %+v, want one at index -1, field %q, reason %q…", path, er.Errors, c.field, c.reason)
				}
			}
		})
	}
	t.Run("body over 64 KiB", func(t *testing.T) {
		body := `{"activityType":"` + strings.Repeat("x", 64<<10) + `"}`
		for _, path := range []string{"/api/v1/logs/search", "/api/v1/logs/export"} {
			r := e.do(t, call{method: "POST", path: path, token: reader, body: []byte(body), request: violates})
			wantError(t, r, http.StatusRequestEntityTooLarge, vakt.CodeTooLarge)
		}
	})
	t.Run("several problems at once", func(t *testing.T) {
		r := e.do(t, call{method: "POST", path: "/api/v1/logs/search", token: reader, request: violates,
			body: []byte(`{"patientId":"191212121213","userId":"x","from":"yesterday","limit":5000}`)})
		er := wantError(t, r, http.StatusBadRequest, vakt.CodeInvalid)
		var fields []string
		for _, p := range er.Errors {
			fields = append(fields, p.Field)
		}
		slices.Sort(fields)
		if want := []string{"from", "patientId", "userId"}; !slices.Equal(fields, want) {
			t.Errorf("problems name %v, want %v", fields, want)
		}
	})
	t.Run("empty body matches everything", func(t *testing.T) {
		for _, path := range []string{"/api/v1/logs/search", "/api/v1/logs/export"} {
			r := e.do(t, call{method: "POST", path: path, token: reader})
			wantStatus(t, r, http.StatusOK)
		}
	})
}

func TestExportEmpty(t *testing.T) {
	e := newEnv(t)
	reader := e.token(t, tenantA, vakt.RoleReader)
	r := e.export(t, reader, map[string]any{"patientId": pnrTolvan})
	wantStatus(t, r, http.StatusOK)
	if len(r.body) != 0 {
		t.Errorf("export of nothing gave %q", r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("Content-Type %q", ct)
	}
	p := decode[searchPage](t, e.search(t, reader, map[string]any{}))
	if p.Entries == nil || len(p.Entries) != 0 || p.NextCursor != "" {
		t.Errorf("search of nothing: %+v", p)
	}
}

func TestGet(t *testing.T) {
	e := newEnv(t)
	writer, reader := e.token(t, tenantA, vakt.RoleWriter), e.token(t, tenantA, vakt.RoleReader)
	ids := []string{logID(t.Name(), 1), "log 2 with spaces", "log/3/with/slashes", "lög-4-ünïcode", "LOG-5"}
	var batch []map[string]any
	for _, id := range ids {
		batch = append(batch, entry(id))
	}
	wantStatus(t, e.appendJSON(t, writer, batch...), http.StatusCreated)
	page := decode[searchPage](t, e.search(t, reader, map[string]any{}))
	served := map[string][]byte{}
	for _, raw := range page.Entries {
		served[parseStored(t, raw).LogID] = raw
	}
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			r := e.get(t, reader, escapePath(id))
			wantStatus(t, r, http.StatusOK)
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if want := append(served[id], '\n'); !bytes.Equal(r.body, want) {
				t.Errorf("GET serves\n%s\nsearch serves\n%s", r.body, want)
			}
			wantCanonical(t, bytes.TrimSuffix(r.body, []byte("\n")))
		})
	}
	t.Run("missing", func(t *testing.T) {
		for _, id := range []string{logID(t.Name(), 9), "log-5", strings.Repeat("x", 36)} {
			er := wantError(t, e.get(t, reader, escapePath(id)), http.StatusNotFound, vakt.CodeNotFound)
			if er.Message != "no entry with that logId" {
				t.Errorf("message %q", er.Message)
			}
		}
	})
}

// escapePath percent-encodes a logId for a URL path.
func escapePath(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// TestCanonicalJSON checks the served form of an entry: canonical, normalised, and the same
// bytes whichever way it is read.
func TestCanonicalJSON(t *testing.T) {
	e := newEnv(t)
	writer, reader := e.token(t, tenantA, vakt.RoleWriter), e.token(t, tenantA, vakt.RoleReader)
	id := logID(t.Name(), 1)
	in := entry(id,
		at("2026-11-22T14:05:00.1234567+01:00"),
		patient("121212+1212"), // "+": a hundred years or older, so 1912
		set("user.personId", map[string]any{"root": "1.2.752.129.2.1.3.1", "extension": "19410708-6995"}),
		set("activity.activityArgs", "tab\there \"quoted\" <b>&amp; back\\slash é"),
		set("system.systemName", ""),
		set("user.title", nil),
		set("resources[0].careUnit", nil),
	)
	wantStatus(t, e.appendJSON(t, writer, in), http.StatusCreated)
	r := e.get(t, reader, id)
	wantStatus(t, r, http.StatusOK)
	raw := bytes.TrimSuffix(r.body, []byte("\n"))
	wantCanonical(t, raw)
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	act := got["activity"].(map[string]any)
	if act["startDate"] != "2026-11-22T13:05:00.123456Z" {
		t.Errorf("startDate %v, want UTC to the microsecond", act["startDate"])
	}
	res := got["resources"].([]any)[0].(map[string]any)
	wantPID := map[string]any{"extension": pnrTolvan, "root": "1.2.752.129.2.1.3.1"}
	if pid := res["patient"].(map[string]any)["patientId"]; fmt.Sprint(pid) != fmt.Sprint(wantPID) {
		t.Errorf("patientId %v, want %v", pid, wantPID)
	}
	if _, ok := res["careUnit"]; ok {
		t.Errorf("null careUnit is served")
	}
	if _, ok := got["system"].(map[string]any)["systemName"]; ok {
		t.Errorf("empty systemName is served")
	}
	if _, ok := got["user"].(map[string]any)["title"]; ok {
		t.Errorf("null title is served")
	}
	if pid := got["user"].(map[string]any)["personId"]; fmt.Sprint(pid) != fmt.Sprint(map[string]any{"extension": pnrOther, "root": "1.2.752.129.2.1.3.1"}) {
		t.Errorf("personId %v", pid)
	}
	if !bytes.Contains(raw, []byte(`"tab\there \"quoted\" <b>&amp; back\\slash`)) {
		t.Errorf("activityArgs not escaped the RFC 8785 way: %s", raw)
	}
	s := parseStored(t, raw)
	if _, err := time.Parse(accesslog.ReceivedAtLayout, s.ReceivedAt); err != nil || len(s.ReceivedAt) != len(accesslog.ReceivedAtLayout) {
		t.Errorf("receivedAt %q is not %s", s.ReceivedAt, accesslog.ReceivedAtLayout)
	}
	// Member order is the canonical one at the top level too.
	if !bytes.HasPrefix(raw, []byte(`{"activity":{"activityArgs":`)) || !bytes.Contains(raw, []byte(`,"logId":"`+id+`","receivedAt":"`)) {
		t.Errorf("members out of order: %s", raw)
	}
}

// TestSearchLongActivityType checks that the query's limit on activityType counts characters,
// as the entry's does: the longest activity type an entry may have can be searched for.
func TestSearchLongActivityType(t *testing.T) {
	e := newEnv(t)
	writer, reader := e.token(t, tenantA, vakt.RoleWriter), e.token(t, tenantA, vakt.RoleReader)
	longest := strings.Repeat("ä", accesslog.MaxTextLen) // 512 bytes
	id := logID(t.Name(), 1)
	wantStatus(t, e.appendJSON(t, writer, entry(id, set("activity.activityType", longest)), entry(logID(t.Name(), 2))), http.StatusCreated)
	p := decode[searchPage](t, e.search(t, reader, map[string]any{"activityType": strings.ToUpper(longest)}))
	if got := logIDs(t, p.Entries); !slices.Equal(got, []string{id}) {
		t.Errorf("search by the longest activityType found %v", got)
	}
	r := e.do(t, call{method: "POST", path: "/api/v1/logs/search", token: reader, request: violates,
		body: mustJSON(t, map[string]any{"activityType": longest + "ä"})})
	er := wantError(t, r, http.StatusBadRequest, vakt.CodeInvalid)
	if len(er.Errors) != 1 || er.Errors[0].Field != "activityType" {
		t.Errorf("problems %+v", er.Errors)
	}
}
