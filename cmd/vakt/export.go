package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/audit"
	"github.com/vakt/vakt/bundle"
	"github.com/vakt/vakt/merkle"
	"github.com/vakt/vakt/postgres"
	"github.com/vakt/vakt/sqlite"
)

// errDamaged makes `vakt verify` exit non-zero without repeating the report.
var errDamaged = errors.New("the log does not match its signed checkpoints")

// runExport writes a tenant's whole log as a bundle. It reads the log from one snapshot (the
// tenant's SQLite file, or a read-only transaction on PostgreSQL), so it works while servers
// go on writing.
func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", "export --tenant ID [--out FILE] [flags]", stderr)
	data := fs.String("data", "vakt-data", "data directory (with --postgres: where the signing secret is)")
	tenantID := fs.String("tenant", "", "tenant to export")
	out := fs.String("out", "", "bundle file (default TENANT-YYYYMMDD-HHMMSS.vakt.tar.gz)")
	pgFlag := postgresFlag(fs)
	instance := fs.String("instance", "", "the instance name the servers sign with (as given to vakt serve; default: the one in the data directory)")
	signingKey := fs.String("signing-key", "", "the servers' base64 signing secret (as given to vakt serve; default: the one in the data directory)")
	if err := parse(fs, args, "signing-key", "postgres"); err != nil {
		return err
	}
	pg := postgresDSN(pgFlag)
	reg, err := openRegistry(ctx, *data, pg)
	if err != nil {
		return err
	}
	t, err := reg.Tenant(ctx, *tenantID)
	reg.Close()
	if err != nil {
		return fmt.Errorf("tenant %q: %w", *tenantID, err)
	}
	signing, err := openSigning(*data, *instance, *signingKey)
	if err != nil {
		return err
	}
	origin := merkle.Origin(signing.Instance, t.ID)
	keys, err := merkle.DeriveKey(signing.Secret, origin)
	if err != nil {
		return err
	}
	var r interface {
		Checkpoints(context.Context) ([]accesslog.SignedCheckpoint, error)
		Scan(context.Context, func(*accesslog.Stored, merkle.Hash) error) error
	}
	if pg != "" {
		stores, err := postgres.OpenStores(ctx, pg, postgres.Signing(signing), postgres.LogOptions{})
		if err != nil {
			return err
		}
		defer stores.Close()
		sn, err := stores.Snapshot(ctx, t.ID)
		if err != nil {
			return err
		}
		defer sn.Close(ctx)
		r = sn
	} else {
		sr, err := sqlite.OpenReader(ctx, sqlite.TenantPath(tenantDir(*data), t.ID))
		if err != nil {
			return err
		}
		defer sr.Close()
		r = sr
	}
	cps, err := r.Checkpoints(ctx)
	if err != nil {
		return err
	}
	if *out == "" {
		*out = fmt.Sprintf("%s-%s.vakt.tar.gz", t.ID, time.Now().UTC().Format("20060102-150405"))
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	m, err := bundle.Write(ctx, w, bundle.Source{Tenant: t.ID, Origin: origin, VerifierKey: keys.VerifierKey, Checkpoints: cps,
		Scan: func(ctx context.Context, fn func(*accesslog.Stored, merkle.Hash) error) error { return r.Scan(ctx, fn) }})
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(*out)
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d entries, %d signed checkpoint(s), origin %s\n", *out, m.Entries, m.Checkpoints, origin)
	return nil
}

// runVerify checks a log against its signed checkpoints: from a bundle, from a data directory,
// or from a live service.
func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", "verify BUNDLE | verify --data DIR --tenant ID | verify --addr URL --token TOKEN  [flags]", stderr)
	data := fs.String("data", "", "verify a tenant's file in this data directory")
	tenantID := fs.String("tenant", "", "the tenant, with --data")
	addr := fs.String("addr", "", "verify a live service at this URL (with a reader --token)")
	token := fs.String("token", "", "reader token, with --addr (or VAKT_TOKEN, VAKT_TOKEN_FILE)")
	key := fs.String("key", "", "the verifier key you trust (as published by GET /api/v1/checkpoint/key); default: the key the source brings")
	var saved stringList
	fs.Var(&saved, "checkpoint", "a checkpoint file you kept earlier; the log must still reproduce it (repeat for several)")
	id, rest := splitID(args)
	if err := parse(fs, rest, "token"); err != nil {
		return err
	}
	if id == "" && fs.NArg() == 1 {
		id = fs.Arg(0)
	}
	var extra [][]byte
	for _, path := range saved {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		extra = append(extra, b)
	}
	pin := func(brought string) (string, error) {
		if *key == "" {
			fmt.Fprintf(stderr, "key: %s (the source's own; pass --key to check it against the one you trust)\n", brought)
			return brought, nil
		}
		if strings.TrimSpace(*key) != strings.TrimSpace(brought) {
			return "", fmt.Errorf("the source's verifier key is not the one you gave with --key")
		}
		return strings.TrimSpace(*key), nil
	}

	var rep audit.Report
	switch {
	case id != "" && *data == "" && *addr == "":
		f, err := os.Open(id)
		if err != nil {
			return err
		}
		defer f.Close()
		b, err := bundle.Open(bufio.NewReaderSize(f, 1<<20))
		if err != nil {
			return err
		}
		defer b.Close()
		k, err := pin(b.VerifierKey)
		if err != nil {
			return err
		}
		v := audit.NewVerifier(k, append(b.Checkpoints, extra...), b.HasLeaves())
		if err := b.Entries(func(js []byte, leaf *merkle.Hash) error { v.Add(js, leaf); return nil }); err != nil {
			return err
		}
		rep = v.Finish()
		fmt.Fprintf(stdout, "bundle: tenant %s, origin %s, %d entries\n", b.Manifest.Tenant, b.Manifest.Origin, b.Manifest.Entries)
	case *data != "" && *tenantID != "":
		signing, err := openSigning(*data, "", "")
		if err != nil {
			return err
		}
		keys, err := merkle.DeriveKey(signing.Secret, merkle.Origin(signing.Instance, *tenantID))
		if err != nil {
			return err
		}
		k, err := pin(keys.VerifierKey)
		if err != nil {
			return err
		}
		r, err := sqlite.OpenReader(ctx, sqlite.TenantPath(tenantDir(*data), *tenantID))
		if err != nil {
			return err
		}
		defer r.Close()
		cps, err := r.Checkpoints(ctx)
		if err != nil {
			return err
		}
		signed := extra
		for _, cp := range cps {
			signed = append(signed, cp.Note)
		}
		v := audit.NewVerifier(k, signed, true)
		err = r.Scan(ctx, func(s *accesslog.Stored, leaf merkle.Hash) error { v.Add(s.JSON, &leaf); return nil })
		if err != nil {
			return err
		}
		rep = v.Finish()
	case *addr != "":
		if *token == "" {
			return errors.New("--token (or VAKT_TOKEN) is required with --addr")
		}
		var err error
		if rep, err = verifyLive(ctx, *addr, *token, pin, extra); err != nil {
			return err
		}
	default:
		fs.Usage()
		return errors.New("give a bundle, --data and --tenant, or --addr and --token")
	}
	printReport(stdout, rep)
	if !rep.OK() {
		return errDamaged
	}
	return nil
}

func printReport(w io.Writer, r audit.Report) {
	switch {
	case r.Checkpoints == 0:
		fmt.Fprintln(w, "checkpoints: none with a valid signature")
	case r.Verified == 0:
		fmt.Fprintf(w, "checkpoints: %d with valid signatures; the entries reproduce none of them\n", r.Checkpoints)
	default:
		fmt.Fprintf(w, "checkpoints: %d with valid signatures; the entries reproduce them up to size %d\n", r.Checkpoints, r.Verified)
	}
	fmt.Fprintf(w, "entries: %d read", r.Entries)
	if r.Uncovered > 0 {
		fmt.Fprintf(w, ", %d newer than the latest checkpoint (not yet covered)", r.Uncovered)
	}
	fmt.Fprintln(w)
	if r.OK() {
		fmt.Fprintln(w, "OK: the log matches its signed checkpoints")
		return
	}
	for i, f := range r.Findings {
		if i == 0 {
			fmt.Fprintf(w, "DAMAGED: %s\n", f)
		} else {
			fmt.Fprintf(w, "also: %s\n", f)
		}
	}
}

// verifyLive fetches the key, the latest checkpoint and the whole log in sequence order from a
// running service and verifies them.
func verifyLive(ctx context.Context, addr, token string, pin func(string) (string, error), extra [][]byte) (audit.Report, error) {
	get := func(path string) ([]byte, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(addr, "/")+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, strings.TrimSpace(string(b)))
		}
		return b, err
	}
	vkey, err := get("/api/v1/checkpoint/key")
	if err != nil {
		return audit.Report{}, err
	}
	k, err := pin(strings.TrimSpace(string(vkey)))
	if err != nil {
		return audit.Report{}, err
	}
	cp, err := get("/api/v1/checkpoint")
	if err != nil {
		return audit.Report{}, err
	}
	v := audit.NewVerifier(k, append(extra, cp), false)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(addr, "/")+"/api/v1/logs/export", strings.NewReader(`{"order":"seq"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return audit.Report{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return audit.Report{}, fmt.Errorf("export: %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 1<<16), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if strings.HasPrefix(string(line), `{"error":`) {
			return audit.Report{}, fmt.Errorf("export ended with an error: %s", line)
		}
		v.Add(line, nil)
	}
	if err := sc.Err(); err != nil {
		return audit.Report{}, err
	}
	return v.Finish(), nil
}
