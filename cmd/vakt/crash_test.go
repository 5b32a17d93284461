package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/synth"
)

// buildVakt compiles the vakt binary for tests that need a real process to kill.
func buildVakt(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "vakt")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, ".")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// serverProc is `vakt serve` running as a child process.
type serverProc struct {
	cmd *exec.Cmd
	url string
}

func startProc(t *testing.T, bin, data string) *serverProc {
	t.Helper()
	return startProcArgs(t, bin, "--data", data, "--seal-entries", "700")
}

// startProcArgs starts `vakt serve` on a free port with further flags.
func startProcArgs(t *testing.T, bin string, args ...string) *serverProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			var line struct{ Msg, URL string }
			if !sent && json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "vakt is serving" {
				urls <- strings.TrimSuffix(line.URL, "/")
				sent = true
			}
		}
	}()
	select {
	case u := <-urls:
		return &serverProc{cmd: cmd, url: u}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("server did not start")
		return nil
	}
}

func (p *serverProc) kill9(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
}

func (p *serverProc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("server exited with %v after SIGTERM", err)
	}
}

type crashBatch struct {
	body []byte
	ids  []string
}

func post(url, token string, body []byte) (int, error) {
	req, _ := http.NewRequest(http.MethodPost, url+"/api/v1/logs", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// stored returns logId → seq of every entry the server holds.
func stored(t *testing.T, url, token string) map[string]int64 {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/api/v1/logs/export", strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]int64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e struct {
			LogID string `json:"logId"`
			Seq   int64  `json:"seq"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.LogID == "" {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		out[e.LogID] = e.Seq
	}
	return out
}

// TestKill9DuringIngest kills the server with SIGKILL while clients send batches, several times.
// After every restart: every acknowledged batch is stored whole, every batch in flight at the
// kill is stored whole or not at all, and sequence numbers are 1..n without gaps. Finally all
// batches are re-sent and every entry is stored exactly once.
func TestKill9DuringIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a server process")
	}
	bin := buildVakt(t)
	data := t.TempDir()
	cli(t, "", "tenant", "create", "crash", "--name", "Crash", "--care-provider", "SE2321000016-0001", "--data", data)
	writer := strings.TrimSpace(cli(t, "", "token", "create", "--tenant", "crash", "--role", "writer", "--data", data))
	reader := strings.TrimSpace(cli(t, "", "token", "create", "--tenant", "crash", "--role", "reader", "--data", data))

	g, err := synth.New(synth.Config{Seed: 11, CareProvider: ident.HSAID("SE2321000016-0001"), Entries: 24000})
	if err != nil {
		t.Fatal(err)
	}
	var batches []crashBatch
	var cur crashBatch
	var buf bytes.Buffer
	for {
		e, ok := g.Next()
		if !ok {
			break
		}
		buf.Write(accesslog.Prepare(e).Content)
		buf.WriteByte('\n')
		cur.ids = append(cur.ids, e.LogID)
		if len(cur.ids) == 200 {
			cur.body = bytes.Clone(buf.Bytes())
			batches = append(batches, cur)
			cur, buf = crashBatch{}, bytes.Buffer{}
		}
	}

	acked := map[int]bool{}
	queue := make([]int, len(batches))
	for i := range queue {
		queue[i] = i
	}
	sent := map[int]bool{}
	const rounds = 3
	for round := range rounds {
		srv := startProc(t, bin, data)
		// Clients send batches until enough are acknowledged in this round; then the server dies
		// while requests are still in flight.
		var mu sync.Mutex
		inFlight := map[int]bool{}
		ackedThisRound := 0
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					mu.Lock()
					if len(queue) == 0 {
						mu.Unlock()
						return
					}
					select {
					case <-stop:
						mu.Unlock()
						return
					default:
					}
					i := queue[0]
					queue = queue[1:]
					inFlight[i] = true
					sent[i] = true
					mu.Unlock()
					status, err := post(srv.url, writer, batches[i].body)
					mu.Lock()
					delete(inFlight, i)
					switch {
					case err != nil:
						// The server is gone: the batch may or may not be stored. Send it again
						// in a later round (harmless either way) and stop this client.
						queue = append(queue, i)
						mu.Unlock()
						return
					case status == http.StatusCreated || status == http.StatusOK:
						acked[i] = true
						ackedThisRound++
					default:
						t.Errorf("batch %d: status %d", i, status)
					}
					mu.Unlock()
				}
			}()
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			mu.Lock()
			n := ackedThisRound
			mu.Unlock()
			if n >= 25 || time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond) // polling a counter, not synchronising: the kill may come at any moment
		}
		srv.kill9(t)
		close(stop)
		wg.Wait()

		srv = startProc(t, bin, data)
		have := stored(t, srv.url, reader)
		for i := range batches {
			if !sent[i] {
				continue
			}
			n := 0
			for _, id := range batches[i].ids {
				if _, ok := have[id]; ok {
					n++
				}
			}
			switch {
			case acked[i] && n != len(batches[i].ids):
				t.Fatalf("round %d: acknowledged batch %d has %d of %d entries after kill -9", round, i, n, len(batches[i].ids))
			case n != 0 && n != len(batches[i].ids):
				t.Fatalf("round %d: batch %d in flight at the kill is half stored (%d of %d)", round, i, n, len(batches[i].ids))
			}
		}
		checkGapFree(t, have)
		srv.stop(t)
	}

	// Re-send everything: the stored batches are duplicates, the rest is stored once.
	srv := startProc(t, bin, data)
	for i := range batches {
		if status, err := post(srv.url, writer, batches[i].body); err != nil || (status != http.StatusCreated && status != http.StatusOK) {
			t.Fatalf("re-send of batch %d: %d %v", i, status, err)
		}
	}
	have := stored(t, srv.url, reader)
	if len(have) != 200*len(batches) {
		t.Fatalf("%d entries stored after re-sending all, want %d", len(have), 200*len(batches))
	}
	checkGapFree(t, have)
	srv.stop(t)
	// Three kills never left an entry outside the Merkle tree: the whole log reproduces its
	// signed checkpoints.
	if out, ok := verifyOut(t, "--data", data, "--tenant", "crash"); !ok || !strings.Contains(out, "OK") {
		t.Fatalf("vakt verify after kill -9:\n%s", out)
	}
	if len(acked) < rounds*25 {
		t.Fatalf("only %d batches were acknowledged before the kills; the test proved little", len(acked))
	}
	t.Logf("%d batches acknowledged before kills, %d entries in the end", len(acked), len(have))
}

func checkGapFree(t *testing.T, have map[string]int64) {
	t.Helper()
	seqs := make([]int64, 0, len(have))
	for _, s := range have {
		seqs = append(seqs, s)
	}
	slices.Sort(seqs)
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("sequence numbers not gap-free: position %d holds %d (of %d entries)", i, s, len(seqs))
		}
	}
}
