package bench

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/rivta"
	"github.com/vakt/vakt/sqlite"
)

// IngestConfig configures the ingest benchmark.
type IngestConfig struct {
	Entries     int    // entries per run
	Batch       int    // entries per request or Append
	Concurrency int    // requests in flight
	Seed        uint64 // synthetic data seed
	Dir         string // where the runs keep their databases (a fresh subdirectory each)
	Baselines   bool   // also run the bare engine and raw SQLite
	Start       StartServer
	Log         io.Writer // progress
	CPUProfile  string    // if set, the server of the HTTP run writes a CPU profile here
	// File, if set, holds the entries (NDJSON) instead of synthetic ones, e.g. to feed another
	// log the very same entries.
	File string
	// MerkleOff also measures HTTP ingest with tamper evidence turned off (serve --no-merkle).
	MerkleOff bool
	// Rounds of the HTTP runs; the median run counts.
	Rounds int
	// SOAP, if above zero, also measures ingest through RIV-TA StoreLog 2 with this many
	// entries per call, in the same rounds and on the same entries.
	SOAP int
}

// surface is what one HTTP run sends: the bodies, where, and how to check each answer.
type surface struct {
	path, contentType, action string
	bodies                    [][]byte
	entries                   []int // entries in each body
	ok                        func(status int, body []byte, entries int) bool
}

func restSurface(bodies [][]byte) surface {
	counts := make([]int, len(bodies))
	for i, b := range bodies {
		counts[i] = bytes.Count(b, []byte("\n"))
	}
	return surface{path: "/api/v1/logs", contentType: "application/x-ndjson", bodies: bodies, entries: counts,
		ok: func(status int, b []byte, n int) bool {
			var res struct{ Accepted int }
			return status == http.StatusCreated && json.Unmarshal(b, &res) == nil && res.Accepted == n
		}}
}

// soapSurface turns NDJSON bodies into StoreLog 2 requests of per entries each.
func soapSurface(bodies [][]byte, per int) (surface, error) {
	var entries []accesslog.Entry
	now := time.Now()
	for _, b := range bodies {
		drafts, err := accesslog.DecodeDrafts(bytes.NewReader(b), accesslog.FramingNDJSON, len(b))
		if err != nil {
			return surface{}, err
		}
		for i := range drafts {
			e, problems := drafts[i].Validate(i, accesslog.ValidateOptions{Now: now})
			if len(problems) > 0 {
				return surface{}, fmt.Errorf("bench: entry %d is invalid: %v", len(entries), problems[0])
			}
			entries = append(entries, e)
		}
	}
	s := surface{path: rivta.StoreLogPath, contentType: "text/xml; charset=utf-8", action: `"` + rivta.StoreLogAction + `"`,
		ok: func(status int, b []byte, n int) bool {
			return status == http.StatusOK && bytes.Contains(b, []byte("<core:resultCode>OK<")) &&
				bytes.Contains(b, []byte(fmt.Sprintf(">%d entries stored", n)))
		}}
	for i := 0; i < len(entries); i += per {
		chunk := entries[i:min(i+per, len(entries))]
		s.bodies = append(s.bodies, rivta.StoreLogRequest("SE165565594230-1000", chunk))
		s.entries = append(s.entries, len(chunk))
	}
	return s, nil
}

// httpRun is the outcome of one HTTP run.
type httpRun struct {
	rate  float64
	bytes int64
	lat   latencies
}

// medianRun returns the run of median rate (the upper one of an even count).
func medianRun(runs []httpRun) httpRun {
	s := slices.Clone(runs)
	slices.SortFunc(s, func(a, b httpRun) int { return cmp.Compare(a.rate, b.rate) })
	return s[len(s)/2]
}

// roundsNote lists the rates of all runs when there was more than one.
func roundsNote(runs []httpRun) string {
	if len(runs) < 2 {
		return ""
	}
	rates := make([]string, len(runs))
	for i, r := range runs {
		rates[i] = fmt.Sprintf("%.0f", r.rate)
	}
	return fmt.Sprintf("   (median of %d runs: %s)", len(runs), strings.Join(rates, ", "))
}

// Ingest measures durable ingest through HTTP and, in the same run on the same rows, the
// baselines: the bare storage engine (sqlite.Store.Append, no HTTP, no JSON decoding, no
// validation) and raw SQLite inserts with conventional B-tree indexes (logId unique, patient,
// user, care unit), WAL and synchronous=FULL, batch rows per transaction.
func Ingest(ctx context.Context, cfg IngestConfig) (*Report, error) {
	cp := ident.HSAID("SE2321000016-0001")
	var bodies [][]byte
	var avg int
	var err error
	if cfg.File != "" {
		fmt.Fprintf(cfg.Log, "reading %s...\n", cfg.File)
		bodies, cfg.Entries, avg, err = readBodies(cfg.File, cfg.Batch)
	} else {
		fmt.Fprintf(cfg.Log, "generating %d entries...\n", cfg.Entries)
		bodies, avg, err = generateBodies(cfg.Entries, 30, cfg.Batch, cfg.Seed, cp)
	}
	if err != nil {
		return nil, err
	}
	rep := &Report{Title: fmt.Sprintf("Ingest: %d entries (avg %d bytes), batches of %d, %d in flight, durable on acknowledge",
		cfg.Entries, avg, cfg.Batch, cfg.Concurrency)}
	rep.Add("machine", "%s", Machine())

	// With tamper evidence also measured off, the rounds alternate which goes first, so that
	// neither profits from the machine's state the other leaves behind; the medians count.
	// A warm-up run on a fifth of the entries, not counted: the first run after the entries
	// are generated was repeatedly 20–25 % slower than every later one on our test machine.
	fmt.Fprintln(cfg.Log, "warm-up run (not counted)")
	runtime.GC()
	rs := restSurface(bodies)
	warm := restSurface(bodies[:max(len(bodies)/5, 1)])
	if _, _, _, err := ingestHTTP(ctx, cfg, warm, cp); err != nil {
		return nil, err
	}
	var soap surface
	if cfg.SOAP > 0 {
		fmt.Fprintf(cfg.Log, "encoding the entries as StoreLog 2 requests of %d...\n", cfg.SOAP)
		if soap, err = soapSurface(bodies, cfg.SOAP); err != nil {
			return nil, err
		}
	}
	const (
		runOn = iota
		runOff
		runSOAP
	)
	var on, off, soapRuns []httpRun
	for round := range max(cfg.Rounds, 1) {
		order := []int{runOn, runOff, runSOAP}
		if round%2 == 1 {
			order = []int{runSOAP, runOff, runOn}
		}
		for _, kind := range order {
			if kind == runOff && !cfg.MerkleOff || kind == runSOAP && cfg.SOAP <= 0 {
				continue
			}
			var args []string
			sf := rs
			switch kind {
			case runOn:
				fmt.Fprintf(cfg.Log, "run %d: HTTP (POST /api/v1/logs, NDJSON)\n", round+1)
			case runOff:
				fmt.Fprintf(cfg.Log, "run %d: HTTP with tamper evidence off (serve --no-merkle)\n", round+1)
				args = []string{"--no-merkle"}
			case runSOAP:
				fmt.Fprintf(cfg.Log, "run %d: SOAP (RIV-TA StoreLog 2, %d entries per call)\n", round+1, cfg.SOAP)
				sf = soap
			}
			runtime.GC()
			var r httpRun
			if r.rate, r.bytes, r.lat, err = ingestHTTP(ctx, cfg, sf, cp, args...); err != nil {
				return nil, err
			}
			switch kind {
			case runOn:
				on = append(on, r)
			case runOff:
				off = append(off, r)
			case runSOAP:
				soapRuns = append(soapRuns, r)
			}
		}
	}
	onMed := medianRun(on)
	httpRate := onMed.rate
	rep.Add("HTTP API", "%8.0f entries/s   batch latency %s%s", httpRate, onMed.lat, roundsNote(on))
	rep.Add("  bytes on disk per entry", "%8.0f (entries, indexes and Merkle tree, after checkpoint)", float64(onMed.bytes)/float64(cfg.Entries))
	if cfg.MerkleOff {
		offMed := medianRun(off)
		rep.Add("HTTP API, tamper evidence off", "%8.0f entries/s   batch latency %s%s", offMed.rate, offMed.lat, roundsNote(off))
		rep.Add("  bytes on disk per entry", "%8.0f (entries and indexes)", float64(offMed.bytes)/float64(cfg.Entries))
		rep.Add("tree on / tree off", "%8.2f", httpRate/offMed.rate)
	}
	if cfg.SOAP > 0 {
		sm := medianRun(soapRuns)
		rep.Add(fmt.Sprintf("SOAP StoreLog 2, %d per call", cfg.SOAP), "%8.0f entries/s   call latency %s%s", sm.rate, sm.lat, roundsNote(soapRuns))
		rep.Add("SOAP / REST (both tree on)", "%8.2f", sm.rate/httpRate)
	}
	if !cfg.Baselines {
		return rep, nil
	}
	fmt.Fprintln(cfg.Log, "preparing the same rows for the runs without HTTP...")
	pend, err := pendingsFrom(bodies)
	if err != nil {
		return nil, err
	}
	bodies = nil
	runtime.GC()
	fmt.Fprintln(cfg.Log, "run: bare engine (sqlite.Store.Append)")
	// The same collector setting as `vakt serve`, so the baseline is not handicapped by holding
	// a million decoded entries under the default GOGC.
	// The baseline runs twice and the better run counts, so that a slow moment of the machine
	// can only make the HTTP/baseline ratio look worse, never better.
	old := debug.SetGCPercent(400)
	bare1, err := ingestBare(ctx, cfg, pend)
	if err != nil {
		debug.SetGCPercent(old)
		return nil, err
	}
	bare2, err := ingestBare(ctx, cfg, pend)
	debug.SetGCPercent(old)
	if err != nil {
		return nil, err
	}
	bareRate := max(bare1, bare2)
	rep.Add("bare engine", "%8.0f entries/s   (better of two runs: %.0f, %.0f; same rows, same indexes, same durability, no HTTP)", bareRate, bare1, bare2)
	fmt.Fprintln(cfg.Log, "run: raw SQLite with B-tree indexes")
	rawRate, rawBytes, err := ingestRawSQLite(ctx, cfg, pend)
	if err != nil {
		return nil, err
	}
	rep.Add("raw SQLite, B-tree indexes", "%8.0f entries/s   %.0f bytes/entry (logId unique + patient, user, unit indexes; WAL, synchronous=FULL)", rawRate, float64(rawBytes)/float64(cfg.Entries))
	fmt.Fprintln(cfg.Log, "run: raw SQLite without indexes")
	floorRate, _, err := ingestRawSQLiteNoIndex(ctx, cfg, pend)
	if err != nil {
		return nil, err
	}
	rep.Add("raw SQLite, no index", "%8.0f entries/s   (append only: the floor of the disk path)", floorRate)
	rep.Add("HTTP / bare engine", "%8.2f", httpRate/bareRate)
	rep.Add("HTTP / raw SQLite B-tree", "%8.2f", httpRate/rawRate)
	return rep, nil
}

// freshDir empties a run's directory and flushes every dirty page to disk, so that a run's
// fsyncs do not compete with the write-back of the run before it.
func freshDir(base, name string) (string, error) {
	dir := filepath.Join(base, name)
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	syscall.Sync()
	return dir, nil
}

func ingestHTTP(ctx context.Context, cfg IngestConfig, sf surface, cp ident.HSAID, serveArgs ...string) (float64, int64, latencies, error) {
	total := 0
	for _, n := range sf.entries {
		total += n
	}
	dir, err := freshDir(cfg.Dir, "http")
	if err != nil {
		return 0, 0, nil, err
	}
	args := serveArgs
	if cfg.CPUProfile != "" && len(serveArgs) == 0 {
		args = append(args, "--cpuprofile", cfg.CPUProfile)
	}
	srv, err := cfg.Start(ctx, dir, cp, args...)
	if err != nil {
		return 0, 0, nil, err
	}
	elapsed, lat, err := drive(ctx, cfg.Concurrency, sf, []string{srv.URL}, srv.WriterToken)
	if err != nil {
		srv.Stop()
		return 0, 0, nil, err
	}
	if err := srv.Stop(); err != nil {
		return 0, 0, nil, err
	}
	return float64(total) / elapsed.Seconds(), dirSize(filepath.Join(dir, "tenants")), lat, nil
}

func ingestBare(ctx context.Context, cfg IngestConfig, pend [][]accesslog.Pending) (float64, error) {
	dir, err := freshDir(cfg.Dir, "bare")
	if err != nil {
		return 0, err
	}
	st, err := sqlite.OpenStore(ctx, filepath.Join(dir, "bare.db"), storeOptions("bare", nil))
	if err != nil {
		return 0, err
	}
	defer st.Close()
	var next atomic.Int64
	var firstErr atomic.Pointer[error]
	var wg sync.WaitGroup
	start := time.Now()
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(pend) {
					return
				}
				if _, err := st.Append(ctx, pend[i]); err != nil {
					firstErr.Store(&err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if p := firstErr.Load(); p != nil {
		return 0, *p
	}
	return float64(cfg.Entries) / elapsed.Seconds(), nil
}

func ingestRawSQLite(ctx context.Context, cfg IngestConfig, pend [][]accesslog.Pending) (float64, int64, error) {
	return rawInsert(ctx, cfg, pend, "raw", `
CREATE TABLE entries(seq INTEGER PRIMARY KEY, logid TEXT NOT NULL UNIQUE, patient INTEGER, user_id TEXT, unit_id TEXT, ts INTEGER, body BLOB);
CREATE INDEX entries_patient ON entries(patient, ts);
CREATE INDEX entries_user ON entries(user_id, ts);
CREATE INDEX entries_unit ON entries(unit_id, ts);`)
}

func ingestRawSQLiteNoIndex(ctx context.Context, cfg IngestConfig, pend [][]accesslog.Pending) (float64, int64, error) {
	return rawInsert(ctx, cfg, pend, "raw-noindex", `
CREATE TABLE entries(seq INTEGER PRIMARY KEY, logid TEXT NOT NULL, patient INTEGER, user_id TEXT, unit_id TEXT, ts INTEGER, body BLOB);`)
}

// rawInsert inserts the same rows into a plain SQLite table: the entry's canonical JSON and the
// keys the service indexes, one transaction per batch.
func rawInsert(ctx context.Context, cfg IngestConfig, pend [][]accesslog.Pending, name, schema string) (float64, int64, error) {
	dir, err := freshDir(cfg.Dir, name)
	if err != nil {
		return 0, 0, err
	}
	db, err := sqlite.OpenRaw(filepath.Join(dir, name+".db"))
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return 0, 0, err
	}
	start := time.Now()
	for _, batch := range pend {
		if err := rawBatch(ctx, db, batch); err != nil {
			return 0, 0, err
		}
	}
	elapsed := time.Since(start)
	db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return float64(cfg.Entries) / elapsed.Seconds(), dirSize(dir), nil
}

func rawBatch(ctx context.Context, db *sql.DB, batch []accesslog.Pending) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, `INSERT INTO entries(logid, patient, user_id, unit_id, ts, body) VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	for i := range batch {
		e := &batch[i].Entry
		var patient int64
		if ps := e.Patients(); len(ps) > 0 {
			patient = ps[0].Key()
		}
		if _, err := st.ExecContext(ctx, e.LogID, patient, string(e.User.ID), string(e.User.CareUnit.ID),
			e.Activity.StartDate.UnixMicro(), batch[i].Content); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// readBodies reads NDJSON entries from a file into request bodies of batch entries each.
func readBodies(path string, batch int) (bodies [][]byte, n, avg int, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, 0, err
	}
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	total := 0
	for i := 0; i < len(lines); i += batch {
		var b bytes.Buffer
		for _, l := range lines[i:min(i+batch, len(lines))] {
			total += len(l)
			b.Write(l)
			b.WriteByte('\n')
		}
		bodies = append(bodies, b.Bytes())
	}
	return bodies, len(lines), total / max(len(lines), 1), nil
}

// drive sends every body of sf with concurrency requests in flight, spread over the servers at
// urls in turn, and returns the time it took and each request's latency.
func drive(ctx context.Context, concurrency int, sf surface, urls []string, token string) (time.Duration, latencies, error) {
	bodies := sf.bodies
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrency, DisableCompression: true}}
	var next atomic.Int64
	var mu sync.Mutex
	var lat latencies
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(bodies) {
					return
				}
				t := time.Now()
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, urls[i%len(urls)]+sf.path, bytes.NewReader(bodies[i]))
				req.Header.Set("Content-Type", sf.contentType)
				if sf.action != "" {
					req.Header.Set("SOAPAction", sf.action)
				}
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := client.Do(req)
				if err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if !sf.ok(resp.StatusCode, b, sf.entries[i]) {
						err = fmt.Errorf("batch %d: status %d: %.500s", i, resp.StatusCode, b)
					}
				}
				d := time.Since(t)
				mu.Lock()
				lat = append(lat, d)
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), lat, firstErr
}
