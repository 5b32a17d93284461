package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/auth"
	"github.com/vakt/vakt/bench"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/sqlite"
	"github.com/vakt/vakt/tenant"
)

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "ingest" && args[0] != "query" && args[0] != "flags") {
		return fmt.Errorf("usage: vakt bench ingest|query|flags [flags]")
	}
	kind := args[0]
	fs := newFlags("bench "+kind, "bench "+kind+" [flags]", stderr)
	dir := fs.String("dir", "", "directory for benchmark databases (default: a new temporary directory, removed afterwards)")
	seed := fs.Uint64("seed", 1, "synthetic data seed")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile to this file (ingest: of the server during the HTTP run; query: of the benchmark process)")
	var icfg bench.IngestConfig
	var pgDSN string
	var qcfg bench.QueryConfig
	var fcfg bench.FlagsConfig
	switch kind {
	case "ingest":
		fs.IntVar(&icfg.Entries, "entries", 1_000_000, "entries per run")
		fs.IntVar(&icfg.Batch, "batch", 1000, "entries per request")
		fs.IntVar(&icfg.Concurrency, "concurrency", 4, "requests in flight")
		fs.BoolVar(&icfg.Baselines, "baselines", true, "also measure the bare engine and raw SQLite on the same rows")
		fs.BoolVar(&icfg.MerkleOff, "merkle-off", true, "also measure HTTP ingest with tamper evidence turned off")
		fs.IntVar(&icfg.Rounds, "rounds", 3, "HTTP runs (each with tamper evidence on and, with --merkle-off, off); the medians count")
		fs.IntVar(&icfg.SOAP, "soap", 0, "also measure RIV-TA StoreLog 2 over SOAP with this many entries per call (e.g. 100)")
		fs.StringVar(&icfg.File, "file", "", "NDJSON entries to ingest instead of synthetic ones")
		fs.StringVar(&pgDSN, "postgres", "", "measure ingest into this PostgreSQL database instead (1 and 2 nodes beside a bare COPY); the benchmark drops and recreates the schemas of tenants bench and bench-copy-*")
	case "query":
		fs.IntVar(&qcfg.Entries, "entries", 10_000_000, "entries in the dataset (built once in --dir and reused)")
		fs.IntVar(&qcfg.Days, "days", 5*365, "days the dataset spans")
		fs.IntVar(&qcfg.Persons, "persons", 200_000, "population of the dataset")
		fs.IntVar(&qcfg.Queries, "queries", 2000, "queries per kind")
		fs.StringVar(&qcfg.DSN, "postgres", "", "build and query the dataset in this PostgreSQL database instead (the schema of tenant bench, dropped and rebuilt when it does not hold the dataset); needs the pg_prewarm extension (contrib)")
	case "flags":
		fs.IntVar(&fcfg.Entries, "entries", 10_000_000, "accesses in the month (the dataset is built once in --dir and reused)")
		fs.IntVar(&fcfg.Persons, "persons", 2_000_000, "persons in the person register (the population)")
		fs.IntVar(&fcfg.Staff, "staff", 50_000, "staff in the staff register")
		fs.IntVar(&fcfg.Units, "units", 1000, "care units")
		fs.IntVar(&fcfg.Rounds, "rounds", 3, "measured runs of the bare scan and of the flags; the medians count")
		fs.BoolVar(&fcfg.Check, "check", false, "also compute the flags the straightforward way (every entry exported and decoded whole) and fail unless the results are identical")
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
		if kind == "ingest" {
			icfg.CPUProfile = *cpuprofile // the server of the HTTP run
		} else {
			f, err := os.Create(*cpuprofile)
			if err != nil {
				return err
			}
			defer f.Close()
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	start := startBenchServer
	var rep *bench.Report
	var err error
	t0 := time.Now()
	switch kind {
	case "ingest":
		icfg.Seed, icfg.Dir, icfg.Start, icfg.Log = *seed, *dir, start, stderr
		if pgDSN != "" {
			rep, err = bench.PGIngest(ctx, bench.PGIngestConfig{IngestConfig: icfg, DSN: pgDSN, Nodes: []int{1, 2}})
		} else {
			rep, err = bench.Ingest(ctx, icfg)
		}
	case "query":
		qcfg.Seed, qcfg.Dir, qcfg.Start, qcfg.Log = *seed, *dir, start, stderr
		qcfg.Signing = func(dataDir string) (sqlite.Signing, error) { return openSigning(dataDir, "", "") }
		rep, err = bench.Query(ctx, qcfg)
	case "flags":
		fcfg.Seed, fcfg.Dir, fcfg.Log = *seed, *dir, stderr
		rep, err = bench.Flags(ctx, fcfg)
	}
	if err != nil {
		return err
	}
	rep.Add("command", "vakt bench %s %v", kind, args[1:])
	rep.Add("wall time", "%s", time.Since(t0).Round(time.Second))
	rep.Print(stdout)
	return nil
}

// startBenchServer runs the real service as a child process (`vakt serve` of this very binary,
// with its production defaults) on a free port, with one tenant. A separate process keeps the
// load generator's memory and garbage collection out of the server's measurements.
func startBenchServer(ctx context.Context, dataDir string, cp ident.HSAID, serveArgs ...string) (*bench.Server, error) {
	pg := ""
	if i := slices.Index(serveArgs, "--postgres"); i >= 0 && i+1 < len(serveArgs) {
		pg = serveArgs[i+1]
	}
	reg, err := openRegistry(ctx, dataDir, pg)
	if err != nil {
		return nil, err
	}
	if _, err := reg.Tenant(ctx, "bench"); err != nil {
		if err := reg.CreateTenant(ctx, tenant.Tenant{ID: "bench", Name: "Benchmark", CareProviders: []ident.HSAID{cp}}); err != nil {
			reg.Close()
			return nil, err
		}
	}
	tokens := map[vakt.Role]string{}
	for _, role := range []vakt.Role{vakt.RoleWriter, vakt.RoleReader} {
		tok, id := auth.NewToken()
		if err := reg.CreateCredential(ctx, auth.Credential{ID: id, TenantID: "bench", Role: role, Label: "bench", CreatedAt: time.Now()}, auth.HashToken(tok)); err != nil {
			reg.Close()
			return nil, err
		}
		tokens[role] = tok
	}
	// A reviewer for the web tool's benchmark; a reused data directory gets a new password.
	reviewerPW := account.GeneratePassword()
	reviewer := account.User{Username: "bench-granskare", TenantID: "bench", Name: "Bench Granskare",
		HSAID: ident.HSAID("SE2321000016-BNCH"), Roles: []vakt.Role{vakt.RoleReviewer}, CreatedAt: time.Now()}
	hash := account.HashPassword(reviewerPW, account.DefaultParams)
	err = reg.CreateUser(ctx, reviewer, hash)
	if vakt.ErrorCode(err) == vakt.CodeConflict {
		err = reg.SetPassword(ctx, reviewer.Username, hash, false)
	}
	if err != nil {
		reg.Close()
		return nil, err
	}
	if err := reg.Close(); err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := append([]string{"serve", "--data", dataDir, "--addr", "127.0.0.1:0", "--log-format", "json"}, serveArgs...)
	cmd := exec.Command(exe, args...)
	cmd.Env = os.Environ()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct{ Msg, URL string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "vakt is serving" {
				urls <- strings.TrimSuffix(line.URL, "/")
			}
		}
	}()
	var url string
	select {
	case url = <-urls:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		return nil, fmt.Errorf("bench: server did not start")
	}
	return &bench.Server{
		URL: url, WriterToken: tokens[vakt.RoleWriter], ReaderToken: tokens[vakt.RoleReader], CareProvider: cp,
		Reviewer: reviewer.Username, ReviewerPassword: reviewerPW,
		Stop: func() error {
			cmd.Process.Signal(syscall.SIGTERM)
			return cmd.Wait()
		},
	}, nil
}
