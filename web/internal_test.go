package web

import (
	"cmp"
	"context"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vakt/vakt/control"
	"github.com/vakt/vakt/logcontrol"
	sessionstore "github.com/vakt/vakt/session"
)

// TestMessages: every text exists in both languages, and every key the templates and handlers
// use exists.
func TestMessages(t *testing.T) {
	for key := range messages["sv"] {
		if _, ok := messages["en"][key]; !ok {
			t.Errorf("%q has no English text", key)
		}
	}
	for key := range messages["en"] {
		if _, ok := messages["sv"][key]; !ok {
			t.Errorf("%q has no Swedish text", key)
		}
	}
	used := regexp.MustCompile(`(?:\.L\.T|L\.T\(|problem\(|failKey\([^"\n]*|Problem = )\s*"([a-z][a-z0-9._]+)"`)
	for _, dir := range []string{"templates", "."} {
		files, _ := os.ReadDir(dir)
		for _, f := range files {
			if f.IsDir() || strings.HasSuffix(f.Name(), "_test.go") {
				continue
			}
			b, _ := os.ReadFile(dir + "/" + f.Name())
			for _, m := range used.FindAllStringSubmatch(string(b), -1) {
				if _, ok := messages["sv"][m[1]]; !ok {
					t.Errorf("%s uses the unknown text %q", f.Name(), m[1])
				}
			}
		}
	}
	if localeOf("fi").Lang != "sv" || localeOf("en").T("no.such.key") != "no.such.key" {
		t.Fatal("fallbacks are wrong")
	}
}

// FuzzLocalPath: whatever the language switch is told to return to, it redirects to a path on
// this site, never to another host.
func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/", "/logguppfoljning/invanare", "//evil.example", "/\\evil.example", "https://evil.example/", "/a\r\nLocation: x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := localPath(s)
		if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || strings.ContainsAny(p, "\r\n") {
			t.Fatalf("%q → %q", s, p)
		}
		base, _ := url.Parse("http://vakt.example/x")
		if u, err := base.Parse(p); err == nil && u.Host != "vakt.example" {
			t.Fatalf("%q → %q leaves the site for %q", s, p, u.Host)
		}
	})
}

// TestSessionBound: anonymous sessions cannot fill the store, and never push out a person who is
// logged in.
func TestSessionBound(t *testing.T) {
	ctx := context.Background()
	s := &Sessions{Max: 3}
	id, anon, _ := s.create(ctx, "sv")
	person, _, err := s.rotate(ctx, id, anon, "anna", nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		s.create(ctx, "sv")
	}
	if n := s.Store.(*sessionstore.Memory).Len(); n > 3 {
		t.Fatalf("%d sessions held, want at most 3", n)
	}
	if sess, _ := s.get(ctx, person); sess == nil || sess.username != "anna" {
		t.Fatal("a logged-in person was pushed out by anonymous sessions")
	}
	if sess, _ := s.get(ctx, id); sess != nil {
		t.Fatal("the session before login lives on after it")
	}
}

// TestControlTexts: every flag kind, explanation, control type and assessment has its text,
// since pages and the report show them by key.
func TestControlTexts(t *testing.T) {
	var keys []string
	for _, k := range logcontrol.Kinds() {
		keys = append(keys, keyOf("flag.kind.", string(k)))
	}
	for _, k := range []logcontrol.ExplanationKind{logcontrol.ExplainedByDocumentation, logcontrol.ExplainedBySameUnit} {
		keys = append(keys, keyOf("explanation.", string(k)))
	}
	for _, a := range control.Assessments() {
		keys = append(keys, keyOf("assessment.", string(a)))
	}
	for _, st := range control.AllStrata() {
		keys = append(keys, keyOf("controls.strata.", cmp.Or(string(st), "none")))
	}
	for _, ty := range []control.Type{control.TypeSample, control.TypeTargeted} {
		keys = append(keys, keyOf("controls.type.", string(ty)))
	}
	for _, k := range keys {
		for _, lang := range []string{"sv", "en"} {
			if _, ok := messages[lang][k]; !ok {
				t.Errorf("%s has no %s text", k, lang)
			}
		}
	}
}

// TestFlagSearchAcrossNodes: a flag search kept by one node is read back whole by another node
// that shares the session store (its own cache empty), and a follow-up search id never finds it.
func TestFlagSearchAcrossNodes(t *testing.T) {
	ctx := context.Background()
	store := sessionstore.NewMemory(sessionstore.Limits{})
	nodeA, nodeB := &Sessions{Store: store}, &Sessions{Store: store}
	id, _, err := nodeA.create(ctx, "sv")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 10, 1, 0, 0, 0, 0, stockholm)
	fs := &flagSearch{id: "abcdefghijklmnop", form: flagForm{Month: "2026-10", Kinds: []string{"self"}},
		q:  logcontrol.Query{From: from, To: from.AddDate(0, 1, 0), CareUnit: "SE2321000016-U1", Kinds: []logcontrol.Kind{"self"}},
		at: from.Add(40 * 24 * time.Hour),
		result: logcontrol.Result{Truncated: true,
			Flags: []logcontrol.Flag{{LogID: "l1", Kind: "self", Reason: "Användaren läste sin egen journal.", StartDate: from.Add(time.Hour).UTC(),
				UserID: "SE2321000016-A1", CareUnitID: "SE2321000016-U1", Explanations: []logcontrol.Explanation{}}},
			Units: []logcontrol.UnitMonth{{CareUnitID: "SE2321000016-U1", Month: "2026-10", Accesses: 10, Explained: 7, Flagged: 1}}}}
	if err := nodeA.addFlagSearch(ctx, id, fs); err != nil {
		t.Fatal(err)
	}
	got, err := nodeB.findFlagSearch(ctx, id, fs.id)
	if err != nil || got == nil {
		t.Fatalf("node B did not find the flag search: %v", err)
	}
	if !reflect.DeepEqual(got.result, fs.result) || !reflect.DeepEqual(got.form, fs.form) || !got.q.From.Equal(fs.q.From) ||
		!got.q.To.Equal(fs.q.To) || got.q.CareUnit != fs.q.CareUnit || !reflect.DeepEqual(got.q.Kinds, fs.q.Kinds) || !got.at.Equal(fs.at) {
		t.Fatalf("node B read\n%+v\nwant\n%+v", got, fs)
	}
	if sr, err := nodeB.findSearch(ctx, id, fs.id); err != nil || sr != nil {
		t.Fatalf("a follow-up search lookup found the flag search: %v, %v", sr, err)
	}
	if other, err := nodeB.findFlagSearch(ctx, id, "ponmlkjihgfedcba"); err != nil || other != nil {
		t.Fatalf("an unknown id found %v, %v", other, err)
	}
}
