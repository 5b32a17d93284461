package web

import (
	"context"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	sessionstore "github.com/vakt/vakt/session"
	"github.com/vakt/vakt/control"
	"github.com/vakt/vakt/logcontrol"
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
