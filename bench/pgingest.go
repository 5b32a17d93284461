package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/postgres"
)

// PGIngestConfig configures the PostgreSQL ingest benchmark.
type PGIngestConfig struct {
	IngestConfig
	// DSN is the database the benchmark may use whole: it drops and recreates the schemas of
	// the tenants "bench" and "bench-copy-*".
	DSN string
	// Nodes lists the node counts to measure (1 and 2): that many `vakt serve --postgres`
	// processes on the database, the load spread over them in turn.
	Nodes []int
}

// PGIngest measures durable ingest through HTTP into PostgreSQL with one and more server
// nodes, beside the baseline the issue names: a bare COPY of the same rows into the same
// tables with the same indexes on the same server, in the same run.
func PGIngest(ctx context.Context, cfg PGIngestConfig) (*Report, error) {
	cp := ident.HSAID("SE2321000016-0001")
	fmt.Fprintf(cfg.Log, "generating %d entries...\n", cfg.Entries)
	bodies, avg, err := generateBodies(cfg.Entries, 30, cfg.Batch, cfg.Seed, cp)
	if err != nil {
		return nil, err
	}
	rep := &Report{Title: fmt.Sprintf("PostgreSQL ingest: %d entries (avg %d bytes), batches of %d, %d in flight, durable on acknowledge",
		cfg.Entries, avg, cfg.Batch, cfg.Concurrency)}
	rep.Add("machine", "%s", Machine())
	conn, err := pgx.Connect(ctx, cfg.DSN)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	var version, settings string
	if err := conn.QueryRow(ctx, `SELECT current_setting('server_version'),
		format('fsync=%s synchronous_commit=%s shared_buffers=%s max_wal_size=%s', current_setting('fsync'),
		current_setting('synchronous_commit'), current_setting('shared_buffers'), current_setting('max_wal_size'))`).Scan(&version, &settings); err != nil {
		return nil, err
	}
	rep.Add("server", "PostgreSQL %s, %s", version, settings)
	reset := func(tenantID string) error {
		_, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{postgres.SchemaName(tenantID)}.Sanitize()+` CASCADE`)
		if err == nil {
			_, err = conn.Exec(ctx, `CHECKPOINT`) // each run starts with no dirty pages of the one before
		}
		return err
	}
	rs := restSurface(bodies)
	dir, err := os.MkdirTemp(cfg.Dir, "pg-")
	if err != nil {
		return nil, err
	}
	rates := map[int][]float64{}
	var lats = map[int]latencies{}
	var copies, copies1 []float64
	pend, err := pendingsFrom(bodies)
	if err != nil {
		return nil, err
	}
	stores, err := postgres.OpenStores(ctx, cfg.DSN, postgres.Signing{Instance: "bench.vakt", Secret: make([]byte, 32)}, postgres.LogOptions{})
	if err != nil {
		return nil, err
	}
	defer stores.Close()
	for round := range max(cfg.Rounds, 1) {
		for _, nodes := range cfg.Nodes {
			fmt.Fprintf(cfg.Log, "run %d: HTTP into PostgreSQL, %d node(s)\n", round+1, nodes)
			if err := reset("bench"); err != nil {
				return nil, err
			}
			runtime.GC()
			var srvs []*Server
			var urls []string
			for range nodes {
				srv, err := cfg.Start(ctx, dir, cp, "--postgres", cfg.DSN)
				if err != nil {
					return nil, err
				}
				srvs = append(srvs, srv)
				urls = append(urls, srv.URL)
			}
			elapsed, lat, err := drive(ctx, cfg.Concurrency, rs, urls, srvs[0].WriterToken)
			for _, s := range srvs {
				if e := s.Stop(); err == nil {
					err = e
				}
			}
			if err != nil {
				return nil, err
			}
			rates[nodes] = append(rates[nodes], float64(cfg.Entries)/elapsed.Seconds())
			lats[nodes] = append(lats[nodes], lat...)
		}
		// Every copy run gets a fresh tenant: Stores keeps the tenants it opened.
		fmt.Fprintf(cfg.Log, "run %d: bare COPY of the same rows\n", round+1)
		copyTenant := fmt.Sprintf("bench-copy-%d-%d", round+1, cfg.Concurrency)
		if err := reset(copyTenant); err != nil {
			return nil, err
		}
		took, err := stores.BareCopy(ctx, copyTenant, pend, cfg.Concurrency)
		if err != nil {
			return nil, err
		}
		copies = append(copies, float64(cfg.Entries)/took.Seconds())
		fmt.Fprintf(cfg.Log, "run %d: bare COPY, one stream\n", round+1)
		copyTenant = fmt.Sprintf("bench-copy-%d-1", round+1)
		if err := reset(copyTenant); err != nil {
			return nil, err
		}
		if took, err = stores.BareCopy(ctx, copyTenant, pend, 1); err != nil {
			return nil, err
		}
		copies1 = append(copies1, float64(cfg.Entries)/took.Seconds())
	}
	copyRate, copy1Rate := median(copies), median(copies1)
	rep.Add(fmt.Sprintf("bare COPY, %d streams", cfg.Concurrency), "%8.0f entries/s   (median of %v; same rows, tables and indexes, one transaction per batch, no numbering, dedup or tree)", copyRate, rounded(copies))
	rep.Add("bare COPY, one stream", "%8.0f entries/s   (median of %v)", copy1Rate, rounded(copies1))
	for _, nodes := range cfg.Nodes {
		r := median(rates[nodes])
		rep.Add(fmt.Sprintf("HTTP API, %d node(s)", nodes), "%8.0f entries/s   batch latency %s   (median of %v)", r, lats[nodes], rounded(rates[nodes]))
		rep.Add(fmt.Sprintf("  / bare COPY, %d streams", cfg.Concurrency), "%8.2f", r/copyRate)
		rep.Add("  / bare COPY, one stream", "%8.2f", r/copy1Rate)
	}
	return rep, nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func rounded(xs []float64) []int {
	out := make([]int, len(xs))
	for i, x := range xs {
		out[i] = int(x + 0.5)
	}
	return out
}
