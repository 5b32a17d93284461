package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/internal/browsertest"
)

// startFirst runs the whole service as `vakt serve --demo` does on an empty data directory.
func startFirst(t *testing.T, data string, demoEntries int) (*Main, string) {
	t.Helper()
	m := &Main{Config: ServeConfig{
		DataDir: data, Addr: "127.0.0.1:0", MaxBatch: 10000, MaxBodyBytes: 64 << 20, CacheMiB: 16,
		SealEntries: 500, Drain: 5 * time.Second, Logger: slog.New(slog.DiscardHandler), CheckpointInterval: 50 * time.Millisecond,
		FirstStart: true, FirstCareProvider: "SE2321000016-0001", Demo: demoEntries > 0, DemoEntries: demoEntries,
	}}
	if err := m.Open(context.Background()); err != nil {
		m.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return m, "http://" + m.Server.Addr() + "/"
}

// TestFirstStart: an empty data directory gets a tenant and an administrator whose one-time
// password is printed once; a second start on the same directory creates nothing and prints
// nothing.
func TestFirstStart(t *testing.T) {
	data := t.TempDir()
	func() {
		m := &Main{Config: ServeConfig{DataDir: data, Addr: "127.0.0.1:0", MaxBatch: 1, MaxBodyBytes: 1 << 20, CacheMiB: 1,
			Logger: slog.New(slog.DiscardHandler), FirstStart: true, FirstCareProvider: "SE2321000016-0001"}}
		defer m.Close()
		if err := m.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		if m.first == nil || m.first.Username != "admin" || m.first.TenantID != "region-exempel" {
			t.Fatalf("first start: %+v", m.first)
		}
		var out bytes.Buffer
		printFirstLogin(&out, "http://127.0.0.1:8080/", m.first)
		if !strings.Contains(out.String(), "http://127.0.0.1:8080/login") || !strings.Contains(out.String(), m.first.Password) {
			t.Fatalf("console:\n%s", out.String())
		}
	}()
	m2 := &Main{Config: ServeConfig{DataDir: data, Addr: "127.0.0.1:0", MaxBatch: 1, MaxBodyBytes: 1 << 20, CacheMiB: 1,
		Logger: slog.New(slog.DiscardHandler), FirstStart: true, FirstCareProvider: "SE2321000016-0001"}}
	defer m2.Close()
	if err := m2.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m2.first != nil {
		t.Fatal("a second start created another administrator")
	}
	if list := cli(t, "", "user", "list", "--data", data); strings.Count(list, "\nadmin ") != 1 {
		t.Fatalf("accounts:\n%s", list)
	}
}

// TestBrowser drives a real headless Chromium through what a newcomer does after
// `vakt serve --demo`: the start page, login with the one-time password, choosing a password,
// both tabs, an entry, an export download, English, and logout.
func TestBrowser(t *testing.T) {
	data := t.TempDir()
	m, url := startFirst(t, data, 3000)
	if m.first == nil || m.demo == nil {
		t.Fatal("the first start made no administrator or no demo data")
	}
	ctx, downloads := browsertest.New(t, 90*time.Second)
	page := browsertest.Page{T: t, Ctx: ctx}
	run := page.Run
	text := page.Text
	location := page.Location
	const mine = "mitt eget långa lösenord"

	run("start page and login",
		chromedp.Navigate(url),
		chromedp.Click(chromedp.CSS(`a[href="/login"]`)),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), m.first.Username),
		chromedp.SendKeys(chromedp.ID("password"), m.first.Password),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("new")),
	)
	if !strings.HasSuffix(location(), "/losenord") {
		t.Fatalf("after login with the one-time password: %s", location())
	}
	run("choose a password",
		chromedp.SendKeys(chromedp.ID("current"), m.first.Password),
		chromedp.SendKeys(chromedp.ID("new"), mine),
		chromedp.SendKeys(chromedp.ID("repeat"), mine),
		chromedp.Click(chromedp.ID("save-password")),
		chromedp.WaitVisible(chromedp.ID("password-done")),
	)

	// Tab Invånare: the demo's patient over the default period (the last month).
	run("search a citizen",
		chromedp.Click(chromedp.CSS(`nav a[href="/logguppfoljning/invanare"]`)),
		chromedp.WaitVisible(chromedp.ID("subject")),
		chromedp.SendKeys(chromedp.ID("subject"), m.demo.Patient.Formatted()),
		chromedp.Click(chromedp.ID("search")),
		chromedp.WaitVisible(chromedp.ID("results")),
	)
	if strings.Contains(location(), m.demo.Patient.Extension()) || strings.Contains(location(), m.demo.Patient.Formatted()) {
		t.Fatalf("the personnummer is in the URL %s", location())
	}
	resultURL := location()
	count, err := strconv.Atoi(strings.Fields(text("#result-count"))[0])
	if err != nil || count < 2 {
		t.Fatalf("result count %q: want the patient's accesses and the search itself", text("#result-count"))
	}
	run("sort and open an entry",
		chromedp.Click(chromedp.CSS(`#results thead th:nth-child(2) a`)),
		chromedp.WaitVisible(chromedp.CSS(`#results th[aria-sort="ascending"]`)),
		chromedp.Click(chromedp.CSS(`#results tbody tr:last-child a[href*="/post/"]`)),
		chromedp.WaitVisible(chromedp.ID("integrity")),
	)
	if s := text("#integrity"); !strings.Contains(s, "Verifierad") && !strings.Contains(s, "Väntar") {
		t.Fatalf("integrity: %q", s)
	}
	run("back to the result", chromedp.Navigate(resultURL), chromedp.WaitVisible(chromedp.ID("format")))
	run("choose CSV", chromedp.SetValue(chromedp.ID("format"), "csv"))
	run("export", chromedp.Click(chromedp.ID("export")))
	file := waitForDownload(t, ctx, downloads, ".csv")
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(body, []byte("\ufeffTidpunkt;")) || bytes.Count(body, []byte("\r\n")) != count+1 {
		t.Fatalf("the CSV has %d lines, want %d and a header:\n%s", bytes.Count(body, []byte("\r\n")), count, body)
	}

	// Tab Vårdpersonal: the demo's staff member.
	run("search a staff member",
		chromedp.Click(chromedp.CSS(`nav a[href="/logguppfoljning/vardpersonal"]`)),
		chromedp.WaitVisible(chromedp.ID("subject")),
		chromedp.SendKeys(chromedp.ID("subject"), string(m.demo.Staff)),
		chromedp.Click(chromedp.ID("search")),
		chromedp.WaitVisible(chromedp.ID("results")),
	)
	if s := text("main dl.summary"); !strings.Contains(s, string(m.demo.Staff)) {
		t.Fatalf("summary %q", s)
	}
	run("switch to English",
		chromedp.Click(chromedp.ID("language")),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] #logout`)),
	)
	if s := text("#logout"); s != "Log out" {
		t.Fatalf("logout button in English: %q", s)
	}
	run("log out",
		chromedp.Click(chromedp.ID("logout")),
		chromedp.WaitVisible(chromedp.ID("username")),
	)
	run("the tool is closed after logout",
		chromedp.Navigate(url+"logguppfoljning/invanare"),
		chromedp.WaitVisible(chromedp.ID("username")),
	)

	// Both searches and the export are in the tenant's own log, under the administrator.
	st, err := m.Stores.Store(context.Background(), "region-exempel")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	err = st.Export(context.Background(), accesslog.Query{}, func(s *accesslog.Stored) error {
		e, err := s.Entry()
		if err == nil && e.Activity.Level == "Logguppföljning" {
			kinds = append(kinds, string(e.Activity.Type))
		}
		return err
	})
	if err != nil || strings.Join(kinds, ",") != "Läsa,Utskrift,Läsa" {
		t.Fatalf("logged follow-up accesses, newest first: %v %v; want the staff search, the export and the citizen search", kinds, err)
	}
}

// TestBrowserAccounts: the first administrator creates an account in a real Chromium, reads its
// one-time password off the page, and the new person logs in with it, chooses a password and
// reaches the tab their role opens; the creation is in the tenant's log.
func TestBrowserAccounts(t *testing.T) {
	data := t.TempDir()
	m, url := startFirst(t, data, 0)
	ctx, _ := browsertest.New(t, 90*time.Second)
	page := browsertest.Page{T: t, Ctx: ctx}
	run := page.Run
	text := page.Text
	const mine, hers = "mitt eget långa lösenord", "hennes eget långa lösenord"
	run("administrator logs in and chooses a password",
		chromedp.Navigate(url+"login"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), m.first.Username),
		chromedp.SendKeys(chromedp.ID("password"), m.first.Password),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("new")),
		chromedp.SendKeys(chromedp.ID("current"), m.first.Password),
		chromedp.SendKeys(chromedp.ID("new"), mine),
		chromedp.SendKeys(chromedp.ID("repeat"), mine),
		chromedp.Click(chromedp.ID("save-password")),
		chromedp.WaitVisible(chromedp.ID("password-done")),
	)
	run("create an account",
		chromedp.Click(chromedp.CSS(`nav a[href="/konton"]`)),
		chromedp.WaitVisible(chromedp.ID("accounts")),
		chromedp.Click(chromedp.ID("new-account")),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "greta.g"),
		chromedp.SendKeys(chromedp.ID("name"), "Greta Granskare"),
		chromedp.SendKeys(chromedp.ID("title"), "Sjuksköterska"),
		chromedp.Click(chromedp.ID("role-granskare")),
		chromedp.Click(chromedp.ID("create-account")),
		chromedp.WaitVisible(chromedp.ID("one-time-password")),
	)
	pw := strings.TrimSpace(text("#one-time-password"))
	if len(pw) != 29 {
		t.Fatalf("one-time password %q", pw)
	}
	run("log out and in as the new person",
		chromedp.Click(chromedp.ID("logout")),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "greta.g"),
		chromedp.SendKeys(chromedp.ID("password"), pw),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("new")),
		chromedp.SendKeys(chromedp.ID("current"), pw),
		chromedp.SendKeys(chromedp.ID("new"), hers),
		chromedp.SendKeys(chromedp.ID("repeat"), hers),
		chromedp.Click(chromedp.ID("save-password")),
		chromedp.WaitVisible(chromedp.ID("password-done")),
		chromedp.Click(chromedp.CSS(`nav a[href="/logguppfoljning/invanare"]`)),
		chromedp.WaitVisible(chromedp.ID("subject")),
	)
	if s := text(".who"); !strings.Contains(s, "Greta Granskare") {
		t.Fatalf("logged in as %q", s)
	}
	st, err := m.Stores.Store(context.Background(), "region-exempel")
	if err != nil {
		t.Fatal(err)
	}
	var recs []account.ChangeRecord
	err = st.Export(context.Background(), accesslog.Query{}, func(s *accesslog.Stored) error {
		e, err := s.Entry()
		if err == nil && e.Activity.Level == accesslog.AccountChangeLevel {
			r, err := account.ParseChangeArgs(e.Activity.Args)
			if err != nil {
				return err
			}
			recs = append(recs, r)
		}
		return err
	})
	if err != nil || len(recs) != 1 || recs[0].Action != account.ActionCreate || recs[0].By != m.first.Username || recs[0].Account != "greta.g" ||
		len(recs[0].RolesAfter) != 1 || recs[0].RolesAfter[0] != vakt.RoleReviewer {
		t.Fatalf("recorded %+v %v", recs, err)
	}
}

// waitForDownload waits until a finished file with suffix is in dir (Chromium writes a
// .crdownload file first and renames it when done).
func waitForDownload(t *testing.T, ctx context.Context, dir, suffix string) string {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		files, _ := filepath.Glob(filepath.Join(dir, "*"+suffix))
		if len(files) == 1 {
			return files[0]
		}
		select {
		case <-ctx.Done():
			names, _ := os.ReadDir(dir)
			t.Fatalf("no %s download (directory holds %v)", suffix, names)
		case <-tick.C:
		}
	}
}
