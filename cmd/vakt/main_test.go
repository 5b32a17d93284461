package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startMain runs the whole service on a free port with its data in a temporary directory.
func startMain(t *testing.T, dataDir string, logs io.Writer) (*Main, string) {
	t.Helper()
	if logs == nil {
		logs = io.Discard
	}
	m := &Main{Config: ServeConfig{
		DataDir: dataDir, Addr: "127.0.0.1:0", MaxBatch: 10000, MaxBodyBytes: 64 << 20, CacheMiB: 16,
		SealEntries: 500, Drain: 5 * time.Second, Logger: slog.New(slog.NewJSONHandler(logs, nil)),
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
	return m, "http://" + m.Server.Addr()
}

// cli runs a vakt command as the binary would and returns its stdout.
func cli(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut); err != nil {
		t.Fatalf("vakt %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

// TestEndToEnd walks the README: start the service, create a tenant and tokens with the CLI
// while it runs, generate synthetic data, ingest it, query it, and re-send it idempotently.
func TestEndToEnd(t *testing.T) {
	data := t.TempDir()
	var logs bytes.Buffer
	_, url := startMain(t, data, &logs)

	cli(t, "", "tenant", "create", "region-exempel", "--name", "Region Exempel", "--care-provider", "SE2321000016-0001", "--data", data)
	if out := cli(t, "", "tenant", "list", "--data", data); !strings.Contains(out, "region-exempel") || !strings.Contains(out, "SE2321000016-0001") {
		t.Fatalf("tenant list:\n%s", out)
	}
	writer := strings.TrimSpace(cli(t, "", "token", "create", "--tenant", "region-exempel", "--role", "writer", "--data", data))
	reader := strings.TrimSpace(cli(t, "", "token", "create", "--tenant", "region-exempel", "--role", "reader", "--data", data))
	if !strings.HasPrefix(writer, "vakt_") || strings.Contains(writer, "\n") {
		t.Fatalf("token create printed %q, want the token alone", writer)
	}

	file := filepath.Join(t.TempDir(), "month.ndjson")
	cli(t, "", "gen", "--entries", "3000", "--seed", "7", "--care-provider", "SE2321000016-0001", "--out", file)
	out := cli(t, "", "ingest", "--addr", url, "--token", writer, "--batch", "700", file)
	if !strings.Contains(out, "3000 entries: 3000 stored, 0 already stored") {
		t.Fatalf("ingest: %s", out)
	}
	out = cli(t, "", "ingest", "--addr", url, "--token", writer, file)
	if !strings.Contains(out, "3000 entries: 0 stored, 3000 already stored") {
		t.Fatalf("re-ingest: %s", out)
	}

	// The first patient of the file, found by personnummer read from stdin.
	first := firstLine(t, file)
	var e struct {
		Resources []struct {
			Patient *struct{ PatientID struct{ Extension string } }
		}
		User struct{ UserID string }
	}
	if err := json.Unmarshal(first, &e); err != nil {
		t.Fatal(err)
	}
	pnr := ""
	for _, r := range e.Resources {
		if r.Patient != nil {
			pnr = r.Patient.PatientID.Extension
		}
	}
	if pnr == "" {
		t.Fatal("first synthetic entry has no patient")
	}
	got := cli(t, pnr+"\n", "query", "--addr", url, "--token", reader, "--patient", "-", "--all")
	if !strings.Contains(got, pnr) {
		t.Fatalf("query by patient did not return the patient's entries:\n%.500s", got)
	}
	for _, line := range strings.Split(strings.TrimSpace(got), "\n") {
		if !strings.Contains(line, `"extension":"`+pnr+`"`) {
			t.Fatalf("query returned an entry of another patient: %.300s", line)
		}
	}
	exported := cli(t, "", "query", "--addr", url, "--token", reader, "--user", e.User.UserID, "--export")
	if n := strings.Count(exported, "\n"); n == 0 {
		t.Fatal("export by user returned nothing")
	}

	// The access log names routes, never personnummer or URLs.
	if strings.Contains(logs.String(), pnr) {
		t.Fatal("server log contains a personnummer")
	}
	if !strings.Contains(logs.String(), `"route":"POST /api/v1/logs/search"`) {
		t.Fatalf("server log lacks route patterns:\n%.1000s", logs.String())
	}

	// Start page, health, readiness and metrics answer.
	for path, want := range map[string]string{
		"/":             "vakt är igång",
		"/healthz":      "ok",
		"/readyz":       "ready",
		"/metrics":      `vakt_log_entries_appended_total{tenant="region-exempel"} 3000`,
		"/openapi.json": `"openapi"`,
	} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("GET %s: %d, body lacks %q", path, resp.StatusCode, want)
		}
	}
	if !strings.Contains(metrics(t, url), `vakt_store_entries{tenant="region-exempel"} 3000`) {
		t.Error("metrics lack the store's entry count")
	}
}

func metrics(t *testing.T, url string) string {
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func firstLine(t *testing.T, path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	sc.Scan()
	return sc.Bytes()
}

// TestRestartKeepsEverything closes the service and opens it again on the same data: entries,
// tenants and tokens survive, and sequence numbers continue.
func TestRestartKeepsEverything(t *testing.T) {
	data := t.TempDir()
	cli(t, "", "tenant", "create", "t1", "--name", "T1", "--care-provider", "SE2321000016-0001", "--data", data)
	writer := strings.TrimSpace(cli(t, "", "token", "create", "--tenant", "t1", "--role", "writer", "--data", data))
	reader := strings.TrimSpace(cli(t, "", "token", "create", "--tenant", "t1", "--role", "reader", "--data", data))
	file := filepath.Join(t.TempDir(), "a.ndjson")
	cli(t, "", "gen", "--entries", "1200", "--seed", "3", "--out", file)

	func() {
		m, url := startMainNoCleanup(t, data)
		cli(t, "", "ingest", "--addr", url, "--token", writer, file)
		m.stop(t)
	}()
	m, url := startMainNoCleanup(t, data)
	defer m.stop(t)
	out := cli(t, "", "query", "--addr", url, "--token", reader, "--export")
	if n := strings.Count(out, "\n"); n != 1200 {
		t.Fatalf("%d entries after restart, want 1200", n)
	}
	var maxSeq int64
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var s struct{ Seq int64 }
		json.Unmarshal([]byte(line), &s)
		maxSeq = max(maxSeq, s.Seq)
	}
	if maxSeq != 1200 {
		t.Fatalf("highest seq %d, want 1200", maxSeq)
	}
	if o := cli(t, "", "ingest", "--addr", url, "--token", writer, file); !strings.Contains(o, "0 stored, 1200 already stored") {
		t.Fatalf("re-ingest after restart: %s", o)
	}
}

type running struct {
	m      *Main
	cancel context.CancelFunc
	done   chan error
}

func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	if err := <-r.done; err != nil {
		t.Fatal(err)
	}
	if err := r.m.Close(); err != nil {
		t.Fatal(err)
	}
}

func startMainNoCleanup(t *testing.T, data string) (*running, string) {
	t.Helper()
	m := &Main{Config: ServeConfig{
		DataDir: data, Addr: "127.0.0.1:0", MaxBatch: 10000, MaxBodyBytes: 64 << 20, CacheMiB: 16,
		SealEntries: 500, Drain: 5 * time.Second, Logger: slog.New(slog.DiscardHandler),
	}}
	if err := m.Open(context.Background()); err != nil {
		m.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{m: m, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- m.Run(ctx) }()
	return r, "http://" + m.Server.Addr()
}
