package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/auth"
	"github.com/vakt/vakt/bench"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/tenant"
)

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "ingest" && args[0] != "query") {
		return fmt.Errorf("usage: vakt bench ingest|query [flags]")
	}
	kind := args[0]
	fs := newFlags("bench "+kind, "bench "+kind+" [flags]", stderr)
	dir := fs.String("dir", "", "directory for benchmark databases (default: a new temporary directory, removed afterwards)")
	seed := fs.Uint64("seed", 1, "synthetic data seed")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile to this file (ingest: the timed HTTP run only)")
	var icfg bench.IngestConfig
	var qcfg bench.QueryConfig
	switch kind {
	case "ingest":
		fs.IntVar(&icfg.Entries, "entries", 1_000_000, "entries per run")
		fs.IntVar(&icfg.Batch, "batch", 1000, "entries per request")
		fs.IntVar(&icfg.Concurrency, "concurrency", 4, "requests in flight")
		fs.BoolVar(&icfg.Baselines, "baselines", true, "also measure the bare engine and raw SQLite on the same rows")
	case "query":
		fs.IntVar(&qcfg.Entries, "entries", 10_000_000, "entries in the dataset (built once in --dir and reused)")
		fs.IntVar(&qcfg.Days, "days", 5*365, "days the dataset spans")
		fs.IntVar(&qcfg.Persons, "persons", 200_000, "population of the dataset")
		fs.IntVar(&qcfg.Queries, "queries", 2000, "queries per kind")
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "vakt-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if kind == "ingest" {
			icfg.CPUProfile = f // only the timed HTTP run
		} else {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	start := func(ctx context.Context, dataDir string, cp ident.HSAID) (*bench.Server, error) {
		return startBenchServer(ctx, dataDir, cp)
	}
	var rep *bench.Report
	var err error
	t0 := time.Now()
	switch kind {
	case "ingest":
		icfg.Seed, icfg.Dir, icfg.Start, icfg.Log = *seed, *dir, start, stderr
		rep, err = bench.Ingest(ctx, icfg)
	case "query":
		qcfg.Seed, qcfg.Dir, qcfg.Start, qcfg.Log = *seed, *dir, start, stderr
		rep, err = bench.Query(ctx, qcfg)
	}
	if err != nil {
		return err
	}
	rep.Add("command", "vakt bench %s %v", kind, args[1:])
	rep.Add("wall time", "%s", time.Since(t0).Round(time.Second))
	rep.Print(stdout)
	return nil
}

// startBenchServer runs the real service in this process on a free port, with one tenant.
func startBenchServer(ctx context.Context, dataDir string, cp ident.HSAID) (*bench.Server, error) {
	m := &Main{Config: ServeConfig{
		DataDir: dataDir, Addr: "127.0.0.1:0", MaxBatch: 10000, MaxBodyBytes: 64 << 20, CacheMiB: 64,
		Drain: 10 * time.Second, Logger: slog.New(slog.DiscardHandler),
	}}
	if err := m.Open(ctx); err != nil {
		m.Close()
		return nil, err
	}
	if _, err := m.Registry.Tenant(ctx, "bench"); err != nil {
		if err := m.Registry.CreateTenant(ctx, tenant.Tenant{ID: "bench", Name: "Benchmark", CareProviders: []ident.HSAID{cp}}); err != nil {
			m.Close()
			return nil, err
		}
	}
	tokens := map[vakt.Role]string{}
	for _, role := range []vakt.Role{vakt.RoleWriter, vakt.RoleReader} {
		tok, id := auth.NewToken()
		if err := m.Registry.CreateCredential(ctx, auth.Credential{ID: id, TenantID: "bench", Role: role, CreatedAt: time.Now()}, auth.HashToken(tok)); err != nil {
			m.Close()
			return nil, err
		}
		tokens[role] = tok
	}
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(sctx) }()
	return &bench.Server{
		URL: "http://" + m.Server.Addr(), WriterToken: tokens[vakt.RoleWriter], ReaderToken: tokens[vakt.RoleReader], CareProvider: cp,
		Stop: func() error {
			cancel()
			err := <-done
			if cerr := m.Close(); err == nil {
				err = cerr
			}
			return err
		},
	}, nil
}
