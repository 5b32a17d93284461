package bench

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/postgres"
	"github.com/vakt/vakt/sqlite"
	"github.com/vakt/vakt/synth"
)

// QueryConfig configures the query benchmark.
type QueryConfig struct {
	Entries int    // dataset size
	Days    int    // period the dataset spans
	Persons int    // population
	Queries int    // queries per kind
	Seed    uint64 // synthetic data seed
	Dir     string // datasets are built once under Dir and reused
	// DSN, when set, puts the dataset in this PostgreSQL database (tenant schema of "bench")
	// and serves it with `vakt serve --postgres`.
	DSN   string
	Start StartServer
	// Signing returns the signing configuration `vakt serve` uses for a data directory, so that
	// stores the benchmark opens itself sign with the same keys as the server.
	Signing func(dataDir string) (sqlite.Signing, error)
	Log     io.Writer
}

// targets are the people queried: patients and staff drawn from the entries themselves, so a
// busy patient is queried as often as reviewers would meet one.
type targets struct {
	Patients []string    `json:"patients"` // 12-digit numbers
	Users    []string    `json:"users"`
	Start    time.Time   `json:"start"`
	Days     int         `json:"days"`
	Entries  int         `json:"entries"`
	Created  time.Time   `json:"created"`
	Build    json.Number `json:"buildSeconds"`
}

// queryEngine is the storage a query dataset lives in: the embedded SQLite file of a data
// directory, or a tenant schema in PostgreSQL.
type queryEngine struct {
	name string
	// serveArgs are the extra `vakt serve` arguments that serve this engine.
	serveArgs []string
	// open opens the dataset's store; close releases it. A store opened with a clock receives
	// entries at the clock's times (a dataset's history is spread over months as in production,
	// which matters where storage is partitioned by the time of receipt).
	open func(ctx context.Context, clock func() time.Time) (st accesslog.Store, close func() error, err error)
	// reset removes the dataset's entries, so that it can be built anew.
	reset func(ctx context.Context) error
	// warm brings the dataset into memory (the OS page cache), as hours of use would.
	warm func(ctx context.Context) error
}

// sqliteEngine is the tenant file of dataDir.
func sqliteEngine(dataDir string, signing *sqlite.Signing) queryEngine {
	path := filepath.Join(dataDir, "tenants", "bench.db")
	return queryEngine{
		name: "SQLite",
		open: func(ctx context.Context, _ func() time.Time) (accesslog.Store, func() error, error) {
			st, err := sqlite.OpenStore(ctx, path, storeOptions("bench", signing))
			if err != nil {
				return nil, nil, err
			}
			return st, st.Close, nil
		},
		reset: func(context.Context) error {
			if err := os.RemoveAll(filepath.Dir(path)); err != nil {
				return err
			}
			return os.MkdirAll(filepath.Dir(path), 0o700)
		},
		warm: func(context.Context) error { return warmFile(path) },
	}
}

// postgresEngine is the schema of tenant "bench" in the database at dsn.
func postgresEngine(dsn string, signing *sqlite.Signing) queryEngine {
	return queryEngine{
		name:      "PostgreSQL",
		serveArgs: []string{"--postgres", dsn},
		open: func(ctx context.Context, clock func() time.Time) (accesslog.Store, func() error, error) {
			stores, err := postgres.OpenStores(ctx, dsn, postgres.Signing(*signing), postgres.LogOptions{Now: clock})
			if err != nil {
				return nil, nil, err
			}
			st, err := stores.Store(ctx, "bench")
			if err != nil {
				stores.Close()
				return nil, nil, err
			}
			return st, stores.Close, nil
		},
		reset: func(ctx context.Context) error {
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				return err
			}
			defer conn.Close(ctx)
			_, err = conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{postgres.SchemaName("bench")}.Sanitize()+` CASCADE`)
			return err
		},
		warm: func(ctx context.Context) error { return prewarmSchema(ctx, dsn, postgres.SchemaName("bench")) },
	}
}

// prewarmSchema reads every table and index of schema into the OS page cache with pg_prewarm
// (contrib), the PostgreSQL counterpart of warmFile.
func prewarmSchema(ctx context.Context, dsn, schema string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_prewarm`); err != nil {
		return fmt.Errorf("bench: pg_prewarm (PostgreSQL contrib) is needed to warm the cache: %w", err)
	}
	_, err = conn.Exec(ctx, `SELECT pg_prewarm(c.oid, 'read') FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'i')`, schema)
	return err
}

// Query measures patient histories and staff-member months at a dataset of cfg.Entries entries,
// through the API, the web tool's Invånare tab and directly against the store.
func Query(ctx context.Context, cfg QueryConfig) (*Report, error) {
	cp := ident.HSAID("SE2321000016-0001")
	kind := "query"
	if cfg.DSN != "" {
		kind = "query-pg"
	}
	dataDir := filepath.Join(cfg.Dir, fmt.Sprintf("%s-%d-%dd-%dp-seed%d", kind, cfg.Entries, cfg.Days, cfg.Persons, cfg.Seed))
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	signing, err := cfg.Signing(dataDir)
	if err != nil {
		return nil, err
	}
	eng := sqliteEngine(dataDir, &signing)
	if cfg.DSN != "" {
		eng = postgresEngine(cfg.DSN, &signing)
	}
	tg, err := buildDataset(ctx, cfg, dataDir, cp, eng)
	if err != nil {
		return nil, err
	}
	rep := &Report{Title: fmt.Sprintf("Query (%s): %d entries over %d days, %d persons", eng.name, tg.Entries, tg.Days, cfg.Persons)}
	rep.Add("machine", "%s", Machine())
	if cfg.DSN != "" {
		v, err := pgSettings(ctx, cfg.DSN)
		if err != nil {
			return nil, err
		}
		rep.Add("server", "%s", v)
	}
	rep.Add("dataset build", "%s s (store Append in batches of 1000, includes generation)", tg.Build)

	r := rand.New(rand.NewPCG(cfg.Seed, 99))
	var patientQs, patientPage, userQs []accesslog.Query
	for range cfg.Queries {
		pid, err := ident.ParsePersonID(tg.Patients[r.IntN(len(tg.Patients))], time.Now())
		if err != nil {
			return nil, err
		}
		patientQs = append(patientQs, accesslog.Query{PatientID: pid, Limit: accesslog.MaxLimit})
		patientPage = append(patientPage, accesslog.Query{PatientID: pid, Limit: accesslog.DefaultLimit})
		from := tg.Start.AddDate(0, 0, r.IntN(max(tg.Days-30, 1)))
		u, _ := ident.ParseHSAID(tg.Users[r.IntN(len(tg.Users))])
		userQs = append(userQs, accesslog.Query{UserID: u, From: from, To: from.AddDate(0, 1, 0), Limit: accesslog.MaxLimit})
	}

	// Entries to prove: one from the first page of each patient queried. (Opening the store also
	// brings the Merkle tree of a dataset built before the tree existed up to date.)
	fmt.Fprintln(cfg.Log, "sampling entries to prove...")
	st, closeStore, err := eng.open(ctx, nil)
	if err != nil {
		return nil, err
	}
	stats, err := st.Stats(ctx)
	if err == nil {
		rep.Add("bytes on disk per entry", "%.0f (entries, tree and all indexes)", float64(stats.DiskBytes)/float64(stats.Entries))
	}
	var logIDs []string
	if err == nil {
		logIDs, err = sampleLogIDs(ctx, st, patientPage, r)
	}
	if cerr := closeStore(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}

	// Measure the steady state of a server whose data fits in memory: read the data into the OS
	// page cache right before each measured phase, as it would be after some hours of use. Once
	// is not enough on hosts that page out memory left untouched for a while (virtual machines
	// whose host reclaims idle pages do so within tens of seconds).
	fmt.Fprintln(cfg.Log, "reading the data into the page cache before each phase...")
	rep.Add("cache", "data read into the OS page cache before each measured phase (warm)")
	measure := func(fn func(accesslog.Query) (int, error), qs []accesslog.Query) (latencies, float64, error) {
		if err := eng.warm(ctx); err != nil {
			return nil, 0, err
		}
		return measureLatency(fn, qs)
	}

	fmt.Fprintln(cfg.Log, "querying through the API...")
	srv, err := cfg.Start(ctx, dataDir, cp, eng.serveArgs...)
	if err != nil {
		return nil, err
	}
	stop := func(err error) (*Report, error) {
		if serr := srv.Stop(); err == nil {
			err = serr
		}
		return nil, err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	api := func(q accesslog.Query) (int, error) { return apiHistory(ctx, client, srv, q, true) }
	firstPage := func(q accesslog.Query) (int, error) { return apiHistory(ctx, client, srv, q, false) }
	warm(api, patientQs[:min(200, len(patientQs))])
	pl, pn, err := measure(api, patientQs)
	if err != nil {
		return stop(err)
	}
	fl, _, err := measure(firstPage, patientPage)
	if err != nil {
		return stop(err)
	}
	ul, un, err := measure(api, userQs)
	if err != nil {
		return stop(err)
	}
	apiProof := func(id string) (int, error) { return apiProve(ctx, client, srv, id) }
	warm(apiProof, logIDs[:min(200, len(logIDs))])
	if err := eng.warm(ctx); err != nil {
		return stop(err)
	}
	prl, _, err := measureLatency(apiProof, logIDs)
	if err != nil {
		return stop(err)
	}

	fmt.Fprintln(cfg.Log, "searching in the web tool's Invånare tab...")
	tab, err := newWebReviewer(ctx, srv)
	if err != nil {
		return stop(err)
	}
	// Five years back from the end of the dataset: the patient's whole history in it.
	webFrom, webTo := tg.Start.AddDate(0, 0, max(tg.Days-5*365, 0)), tg.Start.AddDate(0, 0, tg.Days)
	var tabSearch, tabResult latencies
	invanare := func(q accesslog.Query) (int, error) {
		s, res, n, err := tab.searchCitizen(ctx, q.PatientID.Extension(), webFrom, webTo)
		tabSearch, tabResult = append(tabSearch, s), append(tabResult, res)
		return n, err
	}
	warm(invanare, patientQs[:min(200, len(patientQs))])
	tabSearch, tabResult = nil, nil
	wl, wn, err := measure(invanare, patientQs)
	if err != nil {
		return stop(err)
	}
	if err := srv.Stop(); err != nil {
		return nil, err
	}
	rep.Add("API patient history, all entries", "%s  mean %.0f entries", pl, pn)
	rep.Add("API patient history, first page (100)", "%s", fl)
	rep.Add("API staff member, one month, all", "%s  mean %.0f entries", ul, un)
	rep.Add("API inclusion proof (GET /logs/{logId}/proof)", "%s", prl)
	rep.Add("web Invånare tab, five years (search + result page)", "%s  mean %.0f rows found", wl, wn)
	rep.Add("  of which POST /logguppfoljning/sok", "%s  (logs the search durably, runs it)", tabSearch)
	rep.Add("  of which GET the result page", "%s  (first 50 rows, sorted by time)", tabResult)

	fmt.Fprintln(cfg.Log, "querying the store directly...")
	st, closeStore, err = eng.open(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer closeStore()
	direct := func(q accesslog.Query) (int, error) {
		n := 0
		for {
			p, err := st.Search(ctx, q)
			if err != nil {
				return n, err
			}
			n += len(p.Entries)
			if p.Next.IsZero() {
				return n, nil
			}
			q.After = p.Next
		}
	}
	warm(direct, patientQs[:min(200, len(patientQs))])
	dpl, _, err := measure(direct, patientQs)
	if err != nil {
		return nil, err
	}
	dfl, _, err := measure(func(q accesslog.Query) (int, error) {
		p, err := st.Search(ctx, q)
		return len(p.Entries), err
	}, patientPage)
	if err != nil {
		return nil, err
	}
	dul, _, err := measure(direct, userQs)
	if err != nil {
		return nil, err
	}
	rep.Add("store patient history, all entries", "%s  (no HTTP, no JSON)", dpl)
	rep.Add("store patient history, first page (100)", "%s", dfl)
	rep.Add("store staff member, one month, all", "%s", dul)
	storeProof := func(id string) (int, error) {
		p, err := st.Prove(ctx, id)
		return len(p.Hashes), err
	}
	warm(storeProof, logIDs[:min(200, len(logIDs))])
	if err := eng.warm(ctx); err != nil {
		return nil, err
	}
	dprl, depth, err := measureLatency(storeProof, logIDs)
	if err != nil {
		return nil, err
	}
	rep.Add("store inclusion proof", "%s  %.0f hashes (no HTTP)", dprl, depth)
	return rep, closeStore()
}

// pgSettings describes the server and the settings that matter for the figures.
func pgSettings(ctx context.Context, dsn string) (string, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	var s string
	err = conn.QueryRow(ctx, `SELECT format('PostgreSQL %s, fsync=%s synchronous_commit=%s shared_buffers=%s max_wal_size=%s',
		current_setting('server_version'), current_setting('fsync'), current_setting('synchronous_commit'),
		current_setting('shared_buffers'), current_setting('max_wal_size'))`).Scan(&s)
	return s, err
}

// sampleLogIDs returns the logId of one entry, drawn at random, of the first page of each query.
func sampleLogIDs(ctx context.Context, st accesslog.Store, qs []accesslog.Query, r *rand.Rand) ([]string, error) {
	var ids []string
	for _, q := range qs {
		p, err := st.Search(ctx, q)
		if err != nil {
			return nil, err
		}
		if len(p.Entries) == 0 {
			continue
		}
		var e struct {
			LogID string `json:"logId"`
		}
		if err := json.Unmarshal(p.Entries[r.IntN(len(p.Entries))].JSON, &e); err != nil {
			return nil, err
		}
		ids = append(ids, e.LogID)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("bench: no entries found to prove")
	}
	return ids, nil
}

// apiProve fetches the inclusion proof of one entry and returns its number of hashes.
func apiProve(ctx context.Context, c *http.Client, srv *Server, logID string) (int, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/v1/logs/"+url.PathEscape(logID)+"/proof", nil)
	req.Header.Set("Authorization", "Bearer "+srv.ReaderToken)
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err != nil {
		return 0, fmt.Errorf("proof: status %d: %v", resp.StatusCode, err)
	}
	return bytes.Count(b, []byte(`",`)), nil
}

func warm[Q any](fn func(Q) (int, error), qs []Q) {
	for _, q := range qs {
		fn(q)
	}
}

func measureLatency[Q any](fn func(Q) (int, error), qs []Q) (latencies, float64, error) {
	var lat latencies
	total := 0
	for _, q := range qs {
		t := time.Now()
		n, err := fn(q)
		if err != nil {
			return nil, 0, err
		}
		lat = append(lat, time.Since(t))
		total += n
	}
	return lat, float64(total) / float64(len(qs)), nil
}

type apiQuery struct {
	PatientID string `json:"patientId,omitempty"`
	UserID    string `json:"userId,omitempty"`
	From      string `json:"from,omitempty"`
	To        string `json:"to,omitempty"`
	Limit     int    `json:"limit,omitempty"`
	Cursor    string `json:"cursor,omitempty"`
}

// apiHistory reads the first page of q, or every page if follow is set, and returns the number
// of entries.
func apiHistory(ctx context.Context, c *http.Client, srv *Server, q accesslog.Query, follow bool) (int, error) {
	aq := apiQuery{UserID: string(q.UserID), Limit: q.Limit}
	if !q.PatientID.IsZero() {
		aq.PatientID = q.PatientID.Extension()
	}
	if !q.From.IsZero() {
		aq.From, aq.To = q.From.Format(time.RFC3339), q.To.Format(time.RFC3339)
	}
	n := 0
	for {
		body, _ := json.Marshal(aq)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/api/v1/logs/search", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+srv.ReaderToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			return n, err
		}
		// A real client parses the page; here only the count and the cursor matter, and a full
		// JSON decode would spend the server's CPU on the client's side of the measurement.
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err != nil {
			return n, fmt.Errorf("search: status %d: %v", resp.StatusCode, err)
		}
		n += bytes.Count(b, []byte(`{"activity":`))
		const key = `"nextCursor":"`
		i := bytes.LastIndex(b, []byte(key))
		if i < 0 || !follow {
			return n, nil
		}
		j := bytes.IndexByte(b[i+len(key):], '"')
		aq.Cursor = string(b[i+len(key) : i+len(key)+j])
	}
}

// buildDataset fills dataDir's tenant "bench" with cfg.Entries synthetic entries through the bare
// engine, unless a complete dataset is already there.
func buildDataset(ctx context.Context, cfg QueryConfig, dataDir string, cp ident.HSAID, eng queryEngine) (*targets, error) {
	meta := filepath.Join(dataDir, "targets.json")
	if b, err := os.ReadFile(meta); err == nil {
		var tg targets
		if json.Unmarshal(b, &tg) == nil && tg.Entries == cfg.Entries {
			// The store may have been dropped since (PostgreSQL schemas are shared with other
			// benchmarks): reuse it only when it still holds the dataset.
			st, closeStore, err := eng.open(ctx, nil)
			if err != nil {
				return nil, err
			}
			stats, err := st.Stats(ctx)
			closeStore()
			if err != nil {
				return nil, err
			}
			if stats.Entries >= int64(tg.Entries) {
				fmt.Fprintf(cfg.Log, "reusing the dataset of %s (%d entries)\n", dataDir, stats.Entries)
				return &tg, nil
			}
		}
	}
	if err := os.Remove(meta); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	if err := eng.reset(ctx); err != nil {
		return nil, err
	}
	start := time.Now()
	g, err := synth.New(synth.Config{Seed: cfg.Seed, CareProvider: cp, Entries: cfg.Entries, Days: cfg.Days, Persons: cfg.Persons})
	if err != nil {
		return nil, err
	}
	// Entries are received as the history unfolds: the clock is the time of the newest entry
	// generated so far.
	var received atomic.Int64
	received.Store(g.Config().Start.UnixNano())
	clock := func() time.Time { return time.Unix(0, received.Load()) }
	st, closeStore, err := eng.open(ctx, clock)
	if err != nil {
		return nil, err
	}
	tg := &targets{Start: g.Config().Start, Days: g.Config().Days, Entries: cfg.Entries}
	r := rand.New(rand.NewPCG(cfg.Seed, 7))
	const sample = 20000
	seen := 0
	batches := make(chan []accesslog.Pending, 4)
	var (
		mu   sync.Mutex
		werr error
		wg   sync.WaitGroup
	)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				if _, err := st.Append(ctx, b); err != nil {
					mu.Lock()
					werr = cmp.Or(werr, err)
					mu.Unlock()
				}
			}
		}()
	}
	batch := make([]accesslog.Pending, 0, 1000)
	done := 0
	for {
		e, ok := g.Next()
		if !ok {
			break
		}
		// Reservoir samples of the patients and users met in entries.
		if ps := e.Patients(); len(ps) > 0 {
			seen++
			if len(tg.Patients) < sample {
				tg.Patients = append(tg.Patients, ps[0].Extension())
				tg.Users = append(tg.Users, string(e.User.ID))
			} else if j := r.IntN(seen); j < sample {
				tg.Patients[j] = ps[0].Extension()
				tg.Users[j] = string(e.User.ID)
			}
		}
		batch = append(batch, accesslog.Prepare(e))
		received.Store(e.Activity.StartDate.UnixNano())
		if len(batch) == cap(batch) {
			batches <- batch
			batch = make([]accesslog.Pending, 0, 1000)
		}
		if done++; done%1_000_000 == 0 {
			fmt.Fprintf(cfg.Log, "  %d entries stored (%.0f/s)\n", done, float64(done)/time.Since(start).Seconds())
		}
	}
	if len(batch) > 0 {
		batches <- batch
	}
	close(batches)
	wg.Wait()
	if err := closeStore(); err != nil {
		return nil, err
	}
	if werr != nil {
		return nil, werr
	}
	tg.Created = time.Now()
	tg.Build = json.Number(fmt.Sprintf("%.0f", time.Since(start).Seconds()))
	b, _ := json.Marshal(tg)
	return tg, os.WriteFile(meta, b, 0o600)
}

// warmFile reads a file (and its WAL) so that the OS caches it.
func warmFile(path string) error {
	for _, p := range []string{path, path + "-wal"} {
		f, err := os.Open(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
