package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/auth"
	"github.com/vakt/vakt/control"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/logcontrol"
	"github.com/vakt/vakt/oidc"
	"github.com/vakt/vakt/permlist"
	"github.com/vakt/vakt/postgres"
	"github.com/vakt/vakt/register"
	"github.com/vakt/vakt/rest"
	"github.com/vakt/vakt/rivta"
	"github.com/vakt/vakt/server"
	"github.com/vakt/vakt/session"
	"github.com/vakt/vakt/sqlite"
	"github.com/vakt/vakt/tenant"
	"github.com/vakt/vakt/watchlist"
	"github.com/vakt/vakt/web"
)

// ServeConfig is everything `vakt serve` needs, validated before anything starts.
type ServeConfig struct {
	DataDir string
	// Postgres, when set, is the connection string of the PostgreSQL database that holds the
	// registry and every tenant's log instead of DataDir's SQLite files. DataDir then keeps
	// only the instance name and signing secret, unless those are given explicitly.
	Postgres     string
	Addr         string
	MaxBatch     int
	MaxBodyBytes int64
	CacheMiB     int
	SealEntries  int
	Drain        time.Duration
	// Instance names this instance in checkpoint origins; SigningKey is the base64 secret that
	// tenants' checkpoint keys derive from. Both default to files in DataDir.
	Instance           string
	SigningKey         string
	CheckpointInterval time.Duration
	// NoMerkle turns tamper evidence off: only for benchmarks that measure its cost.
	NoMerkle bool
	// MaxQueryResult and ReportWait are the RIV-TA query contracts' result limit and how long
	// a call waits before its query goes on as a report.
	MaxQueryResult int
	ReportWait     time.Duration
	// FirstStart creates a first tenant (owning FirstCareProvider) and an administrator with a
	// one-time password when the registry is empty. Demo loads DemoEntries synthetic accesses
	// into the first tenant when its log is empty.
	FirstStart        bool
	FirstCareProvider string
	Demo              bool
	DemoEntries       int
	// IdleTimeout ends a person's web session after this long without a request.
	IdleTimeout time.Duration
	// OIDC, when OIDC.Issuer is set, lets people log in through the region's OpenID provider;
	// PublicURL is this service's address as browsers see it (the callback and post-logout
	// URLs derive from it). NoPasswordLogin turns local password login off.
	OIDC            oidc.Config
	OIDCLabel       string
	PublicURL       string
	NoPasswordLogin bool
	Logger          *slog.Logger
}

func (c *ServeConfig) validate() error {
	if c.DataDir == "" {
		return errors.New("--data must name a directory")
	}
	if c.MaxBatch < 1 || c.MaxBatch > 100000 {
		return errors.New("--max-batch must be between 1 and 100000")
	}
	if c.MaxBodyBytes < 1<<10 {
		return errors.New("--max-body must be at least 1024 bytes")
	}
	if c.MaxQueryResult < 0 || c.MaxQueryResult > 1_000_000 {
		return errors.New("--soap-max-result must be between 1 and 1000000")
	}
	if c.ReportWait < 0 || c.ReportWait > time.Minute || c.ReportWait > 0 && c.ReportWait < time.Millisecond {
		return errors.New("--soap-report-wait must be between 1ms and 1m")
	}
	if c.CacheMiB < 1 {
		return errors.New("--cache-mib must be at least 1")
	}
	if c.SealEntries < 0 || c.SealEntries > 10_000_000 {
		return errors.New("--seal-entries must be between 1 and 10000000 (0 for the default)")
	}
	if c.FirstStart {
		if _, err := ident.ParseHSAID(c.FirstCareProvider); err != nil {
			return fmt.Errorf("--first-care-provider: %w", err)
		}
	}
	if c.Demo && (c.DemoEntries < 1 || c.DemoEntries > 10_000_000) {
		return errors.New("--demo-entries must be between 1 and 10000000")
	}
	if c.IdleTimeout < 0 || c.IdleTimeout > 24*time.Hour {
		return errors.New("--idle-timeout must be between 1s and 24h (0 for the default)")
	}
	if c.OIDC.Issuer != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" {
			return errors.New("--public-url must be this service's absolute http(s) URL when --oidc-issuer is set")
		}
		if err := c.OIDC.Validate(); err != nil {
			return fmt.Errorf("--oidc-*: %w", err)
		}
	} else if c.OIDC.ClientID != "" || c.OIDC.ClientSecret != "" {
		return errors.New("--oidc-client-id and --oidc-client-secret need --oidc-issuer")
	}
	if c.NoPasswordLogin && c.OIDC.Issuer == "" {
		return errors.New("--password-login=false needs --oidc-issuer, or nobody could log in")
	}
	return nil
}

// Main is a running vakt service; tests start it on ":0" with its data in a temporary directory.
type Main struct {
	Config   ServeConfig
	Registry registry
	Stores   stores
	Regs     registers
	Controls controlStores
	Server   *server.Server
	Web      *web.UI

	sessions session.Store // the shared session store on PostgreSQL; nil: in memory
	unlock   func()        // releases the data directory's writer lock (embedded engine)

	first *firstLogin   // set when this start created the first tenant and administrator
	demo  *demoExamples // set when this start loaded demo data
}

// registry is the tenant registry of either engine.
type registry interface {
	tenant.Directory
	auth.CredentialStore
	account.Store
	Close() error
}

// registers are the tenants' reference registers of either engine.
// controlStores is a control register driver the Main owns and closes.
type controlStores interface {
	control.Stores
	permlist.Stores // the marks of the permission lists live beside the control register
	Close() error
}

type registers interface {
	register.Stores
	Close() error
}

// stores are the tenant logs of either engine.
type stores interface {
	accesslog.Stores
	Close() error
}

// registryPath and tenantDir lay out a data directory.
func registryPath(dataDir string) string { return filepath.Join(dataDir, "registry.db") }
func tenantDir(dataDir string) string    { return filepath.Join(dataDir, "tenants") }

// openRegistry opens the registry: in the PostgreSQL database when pgDSN is set, otherwise
// the registry file of a data directory, creating the directory if needed.
func openRegistry(ctx context.Context, dataDir, pgDSN string) (registry, error) {
	if pgDSN != "" {
		return postgres.OpenRegistry(ctx, pgDSN)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	return sqlite.OpenRegistry(ctx, registryPath(dataDir))
}

// postgresFlag adds --postgres to a command; postgresDSN reads it after parsing, falling back
// on VAKT_POSTGRES_DSN.
func postgresFlag(fs *flag.FlagSet) *string {
	return fs.String("postgres", "", "PostgreSQL connection string: registry and logs in that database instead of the data directory (or VAKT_POSTGRES_DSN)")
}

func postgresDSN(flagValue *string) string {
	if *flagValue != "" {
		return *flagValue
	}
	return os.Getenv("VAKT_POSTGRES_DSN")
}

// Open opens storage and binds the listening socket.
func (m *Main) Open(ctx context.Context) error {
	c := &m.Config
	if err := c.validate(); err != nil {
		return err
	}
	log := c.Logger
	var err error
	if m.Registry, err = openRegistry(ctx, c.DataDir, c.Postgres); err != nil {
		return fmt.Errorf("open registry: %w", err)
	}
	signing, err := openSigning(c.DataDir, c.Instance, c.SigningKey)
	if err != nil {
		return fmt.Errorf("checkpoint signing: %w", err)
	}
	if c.NoMerkle {
		log.Warn("tamper evidence is OFF (--no-merkle): no Merkle tree, no checkpoints, no proofs; for benchmarks only")
	}
	reg := prometheus.NewRegistry()
	var ping func(context.Context) error
	if c.Postgres != "" {
		if c.NoMerkle {
			return errors.New("--no-merkle is not available with --postgres")
		}
		pg, err := postgres.OpenStores(ctx, c.Postgres, postgres.Signing(signing),
			postgres.LogOptions{CheckpointInterval: c.CheckpointInterval, Logger: log})
		if err != nil {
			return fmt.Errorf("open tenant stores: %w", err)
		}
		m.Stores, ping = pg, pg.Ping
		m.Regs = pg.RegisterStores()
		m.Controls = pg.ControlStores()
		reg.MustRegister(pgStoreCollector{pg})
	} else {
		if m.unlock, err = lockData(c.DataDir); err != nil {
			if errors.Is(err, errDataInUse) {
				return errors.New("another vakt serve uses this data directory")
			}
			return err
		}
		opts := sqlite.Options{CacheKiB: c.CacheMiB * 1024, SealEntries: c.SealEntries, Logger: log,
			CheckpointInterval: c.CheckpointInterval, NoMerkle: c.NoMerkle}
		sq, err := sqlite.NewStores(tenantDir(c.DataDir), opts, signing)
		if err != nil {
			return fmt.Errorf("open tenant stores: %w", err)
		}
		m.Stores = sq
		m.Regs = sqlite.NewRegisters(tenantDir(c.DataDir))
		m.Controls = sqlite.NewControls(tenantDir(c.DataDir))
		reg.MustRegister(storeCollector{sq})
	}
	if c.FirstStart {
		if m.first, err = firstStart(ctx, m.Registry, ident.HSAID(c.FirstCareProvider)); err != nil {
			return err
		}
	}
	if c.Demo {
		ts, err := m.Registry.Tenants(ctx)
		if err != nil {
			return err
		}
		if len(ts) == 0 {
			return errors.New("--demo needs a tenant to load its data into; leave --first-start on or create one")
		}
		if m.demo, err = loadDemo(ctx, m.Stores, ts[0], c.DemoEntries); err != nil {
			return fmt.Errorf("load demo data: %w", err)
		}
	}
	appended := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vakt_log_entries_appended_total", Help: "Log entries stored, by tenant.",
	}, []string{"tenant"})
	dups := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vakt_log_entries_duplicate_total", Help: "Log entries re-sent identically (idempotent), by tenant.",
	}, []string{"tenant"})
	reg.MustRegister(appended, dups)
	svc := &accesslog.Service{Stores: m.Stores, Tenants: m.Registry, MaxBatch: c.MaxBatch}
	api := &rest.API{
		Service: svc, Auth: &auth.Authenticator{Store: m.Registry}, Logger: log, MaxBodyBytes: c.MaxBodyBytes,
		OnAppend: func(tenant string, accepted, duplicates int) {
			appended.WithLabelValues(tenant).Add(float64(accepted))
			dups.WithLabelValues(tenant).Add(float64(duplicates))
		},
		Registers: &register.Service{Stores: m.Regs},
		Controls:  &logcontrol.Service{Logs: m.Stores, Registers: m.Regs, Tenants: m.Registry},
	}
	soap := &rivta.API{
		Service: svc, Auth: api.Auth, Logger: log, MaxBodyBytes: c.MaxBodyBytes, OnAppend: api.OnAppend,
		MaxQueryResult: c.MaxQueryResult, ReportWait: c.ReportWait,
	}
	sessions := &web.Sessions{Idle: c.IdleTimeout}
	if pg, ok := m.Registry.(*postgres.Registry); ok {
		// Every node reads and writes the sessions in the shared database: any node serves any
		// request, and a node can go away without logging anybody out.
		m.sessions = pg.Sessions(session.Limits{Idle: c.IdleTimeout})
		sessions.Store = m.sessions
	}
	ui := web.UI{Service: svc, Accounts: m.Registry, Auth: &account.Authenticator{Store: m.Registry},
		Sessions: sessions, Logger: log, NoPasswordLogin: c.NoPasswordLogin, OIDCLabel: c.OIDCLabel,
		Controls:    &control.Service{Logs: m.Stores, Controls: m.Controls, Tenants: m.Registry, Registers: m.Regs},
		Permissions: &permlist.Service{Logs: m.Stores, Registers: m.Regs, Accounts: m.Registry, Marks: m.Controls, Tenants: m.Registry},
		Watchlist:   &watchlist.Service{Registers: m.Regs, Logs: m.Stores, Tenants: m.Registry},
		Flags:       api.Controls}
	if c.OIDC.Issuer != "" {
		if ui.OIDC, err = oidc.New(c.OIDC); err != nil {
			return fmt.Errorf("oidc: %w", err)
		}
		ui.PostLogoutURL = strings.TrimSuffix(c.PublicURL, "/") + "/login"
		log.Info("people log in through OpenID Connect", "issuer", c.OIDC.Issuer, "client_id", c.OIDC.ClientID,
			"redirect_url", c.OIDC.RedirectURL, "password_login", !c.NoPasswordLogin)
	}
	if m.Web, err = web.New(ui); err != nil {
		return err
	}
	m.Server = &server.Server{
		API: api, Surfaces: []interface{ Register(*http.ServeMux) }{soap, m.Web}, Registry: reg, Logger: log, Version: version,
		Ready: func(ctx context.Context) error {
			if _, err := m.Registry.Tenants(ctx); err != nil {
				return err
			}
			if ping != nil {
				return ping(ctx)
			}
			return nil
		},
	}
	if err := m.Server.Listen(c.Addr); err != nil {
		return err
	}
	return nil
}

// sessionSweep is how often a node deletes the expired sessions from a shared session store.
// Reads expire sessions lazily; the sweep keeps the abandoned ones from piling up, and several
// nodes sweeping at once only delete the same rows.
const sessionSweep = time.Minute

// Run serves until ctx ends.
func (m *Main) Run(ctx context.Context) error {
	if m.sessions != nil {
		sweepCtx, stop := context.WithCancel(ctx)
		defer stop()
		log := m.Server.Logger
		go session.Sweeper(sweepCtx, m.sessions, sessionSweep, func(err error) {
			log.Warn("sweeping expired web sessions failed", "err", err)
		})
	}
	return m.Server.Serve(ctx, m.Config.Drain)
}

// Close releases storage; everything acknowledged is already durable.
func (m *Main) Close() error {
	var errs []error
	if m.Regs != nil {
		errs = append(errs, m.Regs.Close())
	}
	if m.Controls != nil {
		errs = append(errs, m.Controls.Close())
	}
	if m.Stores != nil {
		errs = append(errs, m.Stores.Close())
	}
	if m.Registry != nil {
		errs = append(errs, m.Registry.Close())
	}
	if m.unlock != nil {
		m.unlock()
		m.unlock = nil
	}
	return errors.Join(errs...)
}

func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlags("serve", "serve [flags]", stderr)
	var c ServeConfig
	fs.StringVar(&c.DataDir, "data", "vakt-data", "data directory (registry and one SQLite file per tenant; with --postgres only the signing files)")
	pg := postgresFlag(fs)
	fs.StringVar(&c.Addr, "addr", "localhost:8080", "listen address HOST:PORT")
	fs.IntVar(&c.MaxBatch, "max-batch", accesslog.DefaultMaxBatch, "most entries per ingest request")
	fs.Int64Var(&c.MaxBodyBytes, "max-body", rest.DefaultMaxBodyBytes, "largest ingest request body in bytes")
	fs.IntVar(&c.CacheMiB, "cache-mib", 64, "SQLite page cache per tenant for writing, MiB")
	fs.IntVar(&c.SealEntries, "seal-entries", 65536, "tuning: entries indexed in memory before they are written as an index run")
	fs.DurationVar(&c.Drain, "drain", 15*time.Second, "how long shutdown waits for requests in flight")
	fs.StringVar(&c.Instance, "instance", "", "name of this instance in checkpoint origins, e.g. loggtjanst.region.se (default: the host name, fixed at first start)")
	fs.StringVar(&c.SigningKey, "signing-key", "", "base64 secret (≥ 32 bytes) that checkpoint keys derive from (default: created at first start in DATA/signing.key)")
	fs.DurationVar(&c.CheckpointInterval, "checkpoint-interval", time.Second, "longest time before new entries are covered by a signed checkpoint")
	fs.BoolVar(&c.NoMerkle, "no-merkle", false, "benchmarks only: turn tamper evidence off")
	fs.IntVar(&c.MaxQueryResult, "soap-max-result", rivta.DefaultMaxQueryResult, "RIV-TA queries: most entries in one answer (beyond: MAX_QUERY_RESULT_EXCEEDED)")
	fs.DurationVar(&c.ReportWait, "soap-report-wait", rivta.DefaultReportWait, "RIV-TA queries: how long a call waits before its query goes on as a report (REPORT_IN_PROCESS)")
	fs.BoolVar(&c.FirstStart, "first-start", true, "on an empty data directory, create a first tenant and an administrator and print a one-time password")
	fs.StringVar(&c.FirstCareProvider, "first-care-provider", "SE2321000016-0001", "HSA-id of the care provider (vårdgivare) of the first tenant")
	fs.BoolVar(&c.Demo, "demo", false, "load a synthetic month of accesses into the first tenant if its log is empty, to try the web tool")
	fs.IntVar(&c.DemoEntries, "demo-entries", 60000, "how many synthetic accesses --demo loads")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", web.DefaultIdleTimeout, "web sessions end after this long without a request")
	fs.StringVar(&c.PublicURL, "public-url", "", "this service's URL as browsers reach it, e.g. https://vakt.region.se (needed with --oidc-issuer)")
	fs.StringVar(&c.OIDC.Issuer, "oidc-issuer", "", "OpenID Connect issuer URL of the identity provider people log in with (off when empty)")
	fs.StringVar(&c.OIDC.ClientID, "oidc-client-id", "", "vakt's client id at the identity provider")
	fs.StringVar(&c.OIDC.ClientSecret, "oidc-client-secret", "", "vakt's client secret (better: VAKT_OIDC_CLIENT_SECRET or VAKT_OIDC_CLIENT_SECRET_FILE)")
	var scopes stringList
	fs.Var(&scopes, "oidc-scopes", "scopes requested besides openid, comma-separated (default profile)")
	fs.StringVar(&c.OIDC.Claims.HSAID, "oidc-claim-hsa-id", oidc.DefaultClaims.HSAID, "ID-token claim holding the person's HSA-id")
	fs.StringVar(&c.OIDC.Claims.Roles, "oidc-claim-roles", oidc.DefaultClaims.Roles, "ID-token claim holding the person's roles as role@tenant or role@tenant/careUnitHsaId")
	fs.StringVar(&c.OIDC.Claims.Name, "oidc-claim-name", oidc.DefaultClaims.Name, "ID-token claim holding the person's name")
	fs.StringVar(&c.OIDC.Claims.Title, "oidc-claim-title", oidc.DefaultClaims.Title, "ID-token claim holding the person's title")
	fs.StringVar((*string)(&c.OIDC.Userinfo), "oidc-userinfo", string(oidc.UserinfoMissing), "when to read the IdP's userinfo endpoint besides the ID token: missing (when the HSA-id or roles claim is missing), always or never; the ID token's claims win")
	fs.StringVar(&c.OIDCLabel, "oidc-label", web.DefaultOIDCLabel, "text of the login page's button for the identity provider")
	passwordLogin := fs.Bool("password-login", true, "allow local accounts to log in with a password (turn off in production with an identity provider)")
	logFormat := fs.String("log-format", "auto", "log format: auto (text on a terminal, else json), json or text")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	cpuprofile := fs.String("cpuprofile", "", "debugging: write a CPU profile of the whole run to this file")
	if err := parse(fs, args, "signing-key", "postgres", "oidc-client-secret"); err != nil {
		return err
	}
	if len(scopes) == 0 {
		scopes = stringList{"profile"}
	}
	c.OIDC.Scopes, c.NoPasswordLogin = scopes, !*passwordLogin
	if c.PublicURL != "" {
		c.OIDC.RedirectURL = strings.TrimSuffix(c.PublicURL, "/") + "/login/oidc/callback"
	}
	c.Postgres = postgresDSN(pg)
	log, err := newLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	c.Logger = log
	if os.Getenv("GOGC") == "" {
		// The live heap is small (indexes of the newest entries, fences, dictionaries) and every
		// request allocates its response, so the default GOGC=100 collects every few dozen
		// requests and its mark phase takes a core from requests on a small server. 400 trades a
		// little memory for far fewer collections; GOGC in the environment overrides it.
		debug.SetGCPercent(400)
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	m := &Main{Config: c}
	if err := m.Open(ctx); err != nil {
		m.Close()
		return err
	}
	abs, _ := filepath.Abs(c.DataDir)
	storage := "sqlite:" + abs
	if c.Postgres != "" {
		storage = "postgres" // the connection string may hold a password
	}
	url := "http://" + m.Server.Addr() + "/"
	log.Info("vakt is serving", "version", version, "url", url, "storage", storage)
	if m.first != nil {
		printFirstLogin(stderr, url, m.first)
	}
	if m.demo != nil {
		printDemo(stderr, m.demo)
	}
	runErr := m.Run(ctx)
	log.Info("shutting down")
	return errors.Join(runErr, m.Close())
}
