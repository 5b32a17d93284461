package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/postgres/pgtest"
	"github.com/vakt/vakt/synth"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// pgNode starts a `vakt serve --postgres` process. Every node of an instance is given the same
// instance name and signing secret.
// pgSigning are the signing arguments every node of the tests' PostgreSQL instance shares.
var pgSigning = []string{"--instance", "pg.test.vakt",
	"--signing-key", base64.StdEncoding.EncodeToString([]byte("the signing secret of the test instance, 32+ bytes"))}

func pgNode(t *testing.T, bin, dsn string) *serverProc {
	t.Helper()
	args := append([]string{"--data", t.TempDir(), "--postgres", dsn, "--checkpoint-interval", "100ms"}, pgSigning...)
	return startProcArgs(t, bin, args...)
}

func synthBatches(t *testing.T, seed uint64, entries, size int) [][]byte {
	t.Helper()
	g, err := synth.New(synth.Config{Seed: seed, CareProvider: ident.HSAID("SE2321000016-0001"), Entries: entries})
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	var buf bytes.Buffer
	n := 0
	for {
		e, ok := g.Next()
		if !ok {
			break
		}
		buf.Write(accesslog.Prepare(e).Content)
		buf.WriteByte('\n')
		if n++; n%size == 0 {
			out = append(out, bytes.Clone(buf.Bytes()))
			buf.Reset()
		}
	}
	if buf.Len() > 0 {
		out = append(out, bytes.Clone(buf.Bytes()))
	}
	return out
}

// Two server processes on one PostgreSQL database take batches for the same tenant at the same
// time, some batches through both. Afterwards each node serves all entries exactly once,
// numbered 1..n, and `vakt verify` finds the log consistent with its signed checkpoints.
func TestTwoServersOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs two server processes")
	}
	dsn := pgtest.DSN(t)
	bin := buildVakt(t)
	cli(t, "", "tenant", "create", "region", "--name", "Region", "--care-provider", "SE2321000016-0001", "--postgres", dsn)
	writer := strings.TrimSpace(cli(t, "", "token", "create", "--tenant", "region", "--role", "writer", "--postgres", dsn))
	reader := strings.TrimSpace(cli(t, "", "token", "create", "--tenant", "region", "--role", "reader", "--postgres", dsn))
	nodes := []*serverProc{pgNode(t, bin, dsn), pgNode(t, bin, dsn)}
	defer func() {
		for _, n := range nodes {
			n.stop(t)
		}
	}()

	batches := synthBatches(t, 5, 12000, 200)
	var wg sync.WaitGroup
	errs := make(chan error, len(batches)*2)
	for c := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; i < len(batches); i += 4 {
				targets := []*serverProc{nodes[i%2]}
				if i%10 == 0 { // sent to both nodes: stored once
					targets = nodes
				}
				for _, n := range targets {
					status, err := post(n.url, writer, batches[i])
					if err != nil || status != http.StatusCreated && status != http.StatusOK {
						errs <- fmt.Errorf("batch %d to %s: %d %v", i, n.url, status, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, n := range nodes {
		got := stored(t, n.url, reader)
		if len(got) != 12000 {
			t.Fatalf("%s holds %d entries, want 12000", n.url, len(got))
		}
		seen := make([]bool, len(got)+1)
		for id, seq := range got {
			if seq < 1 || seq > int64(len(got)) || seen[seq] {
				t.Fatalf("entry %s has seq %d: not a gap-free numbering", id, seq)
			}
			seen[seq] = true
		}
	}
	webLoginAcrossNodes(t, nodes[0].url, nodes[1].url, dsn)
	// Let a checkpoint cover everything, then verify the log through each node.
	time.Sleep(300 * time.Millisecond)
	for _, n := range nodes {
		out := cli(t, "", "verify", "--addr", n.url, "--token", reader)
		if !strings.Contains(out, "12000") {
			t.Fatalf("vakt verify through %s:\n%s", n.url, out)
		}
	}
	// A bundle exported from the database while a node goes on writing holds one consistent
	// state of the log, which verifies offline.
	more := synthBatches(t, 100, 1000, 50)
	done := make(chan error, 1)
	go func() {
		for _, b := range more {
			status, err := post(nodes[0].url, writer, b)
			if err == nil && status != http.StatusCreated {
				err = fmt.Errorf("status %d", status)
			}
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	bundle := filepath.Join(t.TempDir(), "region.vakt.tar.gz")
	out := cli(t, "", append([]string{"export", "--tenant", "region", "--postgres", dsn, "--data", t.TempDir(), "--out", bundle}, pgSigning...)...)
	if !strings.Contains(out, "entries") {
		t.Fatalf("vakt export: %s", out)
	}
	if err := <-done; err != nil {
		t.Fatal("writing during the export:", err)
	}
	if out := cli(t, "", "verify", bundle); !strings.Contains(out, "OK: the log matches its signed checkpoints") {
		t.Fatalf("vakt verify of the exported bundle:\n%s", out)
	}
}

// With the database down, ingest answers 503 at once with a clear message; when it is back,
// the same server process goes on without a restart.
func TestPostgresDownGives503(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a server process")
	}
	c := pgtest.Shared(t)
	dsn := pgtest.DSN(t)
	bin := buildVakt(t)
	cli(t, "", "tenant", "create", "region", "--name", "Region", "--care-provider", "SE2321000016-0001", "--postgres", dsn)
	writer := strings.TrimSpace(cli(t, "", "token", "create", "--tenant", "region", "--role", "writer", "--postgres", dsn))
	node := pgNode(t, bin, dsn)
	defer node.stop(t)
	batches := synthBatches(t, 6, 600, 200)
	if status, err := post(node.url, writer, batches[0]); err != nil || status != http.StatusCreated {
		t.Fatalf("first batch: %d %v", status, err)
	}
	if err := c.Halt("fast"); err != nil {
		t.Fatal(err)
	}
	resumed := false
	defer func() {
		if !resumed {
			c.Resume()
		}
	}()
	start := time.Now()
	req, _ := http.NewRequest(http.MethodPost, node.url+"/api/v1/logs", bytes.NewReader(batches[1]))
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+writer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body.String(), "unavailable") {
		t.Fatalf("with the database down: %d %s", resp.StatusCode, body.String())
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the 503 took %v; it must come fast", took)
	}
	if resp, err := http.Get(node.url + "/readyz"); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with the database down: %v %v", resp, err)
	}
	if err := c.Resume(); err != nil {
		t.Fatal(err)
	}
	resumed = true
	for _, b := range batches[1:] {
		if status, err := post(node.url, writer, b); err != nil || status != http.StatusCreated {
			t.Fatalf("after the restart: %d %v", status, err)
		}
	}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// webLoginAcrossNodes logs a person in on the node at a and opens a page on the node at b: the
// nodes share their sessions in the database, so no sticky sessions are needed.
func webLoginAcrossNodes(t *testing.T, a, b, dsn string) {
	t.Helper()
	cli(t, "ett långt lösenord\n", "user", "create", "greta", "--tenant", "region", "--role", "granskare", "--postgres", dsn)
	jar, _ := cookiejar.New(nil) // keyed by host, not port, as browsers do
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string) (int, string) {
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	_, page := get(a + "/login")
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token on the login page")
	}
	resp, err := c.PostForm(a+"/login", url.Values{"csrf": {m[1]}, "username": {"greta"}, "password": {"ett långt lösenord"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("web login on the first node: %d", resp.StatusCode)
	}
	if status, body := get(b + "/logguppfoljning/invanare"); status != http.StatusOK || !strings.Contains(body, "greta") && !strings.Contains(body, "Greta") {
		t.Fatalf("a page on the second node after login on the first: %d", status)
	}
}
