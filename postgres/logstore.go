package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/merkle"
	"github.com/vakt/vakt/tenant"
)

// LogOptions tune the log stores. Zero values take the defaults.
type LogOptions struct {
	// MaxGroup is the most entries one node commits in one transaction (16384).
	MaxGroup int
	// CheckpointInterval is the longest a new entry waits to be covered by a signed checkpoint
	// (1 s).
	CheckpointInterval time.Duration
	// MonthsAhead is how many months of partitions exist beyond the current one (2).
	MonthsAhead int
	// Now is the clock (time.Now); tests move it to cross months.
	Now    func() time.Time
	Logger *slog.Logger
}

func (o LogOptions) withDefaults() LogOptions {
	if o.MaxGroup <= 0 {
		o.MaxGroup = 16384
	}
	if o.CheckpointInterval <= 0 {
		o.CheckpointInterval = time.Second
	}
	if o.MonthsAhead <= 0 {
		o.MonthsAhead = 2
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Signing is how an instance signs its tenants' checkpoints: every tenant's log is named
// Instance/<tenant id> and signed with a key derived from Secret (see merkle.DeriveKey). Every
// node of an instance must be given the same two values.
type Signing struct {
	Instance string
	Secret   []byte
}

// Stores keeps one Store per tenant, each in a schema of its own, on one connection pool that
// every tenant shares. Any node can serve any tenant: nothing a Store keeps in memory is more
// than a cache that it checks against the database under the tenant's write lock.
type Stores struct {
	pool    *pgxpool.Pool
	opts    LogOptions
	signing Signing

	mu   sync.Mutex
	open map[string]*Store
}

var _ accesslog.Stores = (*Stores)(nil)

// OpenStores connects to the database at dsn. Tenant schemas are created and migrated when a
// tenant's store is first used.
func OpenStores(ctx context.Context, dsn string, signing Signing, opts LogOptions) (*Stores, error) {
	if !merkle.ValidInstanceName(signing.Instance) || len(signing.Secret) < 32 {
		return nil, errors.New("postgres: stores need a valid instance name and a signing secret of at least 32 bytes")
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, vakt.Errorf(vakt.CodeInvalid, "the PostgreSQL connection string is not valid: %v", err)
	}
	// Every statement names its schema; a search_path that reaches no tenant table makes a
	// missing qualification fail loudly instead of reading the wrong tenant.
	cfg.ConnConfig.RuntimeParams["search_path"] = "pg_catalog"
	// Statements are prepared once per connection (pgx's statement cache). Left to itself,
	// PostgreSQL plans each execution anew whenever its generic plan looks costlier, and over a
	// log partitioned by month that planning (every partition of entries and entry_patients)
	// costs more than running a patient history: 5–15 ms against 2–3 ms at 60 partitions. No
	// statement here gains from a plan specialised to its values, since partitions are pruned
	// at execution and the search's indexes follow its filters, not their values.
	cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
	if cfg.MaxConns < 8 {
		cfg.MaxConns = 8
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, translate(err, "connect")
	}
	return &Stores{pool: pool, opts: opts.withDefaults(), signing: signing, open: map[string]*Store{}}, nil
}

// Ping checks that the database answers.
func (s *Stores) Ping(ctx context.Context) error { return translate(s.pool.Ping(ctx), "ping") }

// Store implements accesslog.Stores.
func (s *Stores) Store(ctx context.Context, tenantID string) (accesslog.Store, error) {
	st, err := s.store(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return st, nil
}

func (s *Stores) store(ctx context.Context, tenantID string) (*Store, error) {
	if err := tenant.ValidateID(tenantID); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open == nil {
		return nil, errStoreClosed
	}
	if st, ok := s.open[tenantID]; ok {
		return st, nil
	}
	origin := merkle.Origin(s.signing.Instance, tenantID)
	keys, err := merkle.DeriveKey(s.signing.Secret, origin)
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, s.pool, SchemaName(tenantID), origin, keys, s.opts, s.opts.Logger.With("tenant", tenantID))
	if err != nil {
		return nil, err
	}
	s.open[tenantID] = st
	return st, nil
}

// Opened returns the stores this node has opened so far, by tenant id.
func (s *Stores) Opened() map[string]*Store {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]*Store, len(s.open))
	for id, st := range s.open {
		out[id] = st
	}
	return out
}

// Close stops every open store and closes the connections.
func (s *Stores) Close() error {
	s.mu.Lock()
	open := s.open
	s.open = nil
	s.mu.Unlock()
	var errs []error
	for _, st := range open {
		errs = append(errs, st.Close())
	}
	s.pool.Close()
	return errors.Join(errs...)
}

// SchemaName returns the schema that holds a tenant's log: "t_" and the tenant id, or for ids
// too long for a PostgreSQL identifier (63 bytes) a prefix of the id and a hash of all of it.
// The prefix keeps schemas apart from PostgreSQL's own and vakt's registry, whatever the id.
func SchemaName(tenantID string) string {
	if len(tenantID) <= 61 {
		return "t_" + tenantID
	}
	sum := sha256.Sum256([]byte(tenantID))
	return "t_" + tenantID[:44] + "_" + hex.EncodeToString(sum[:8])
}

// Store is one tenant's access log in its schema. See accesslog.Store for the contract.
//
// Appends from this node's callers are committed together by one writer goroutine (group
// commit); writers on different nodes take turns on the row lock of the tenant's head row,
// inside which they number the entries and grow the Merkle tree.
type Store struct {
	pool   *pgxpool.Pool
	schema string // sanitized, ready to put in SQL
	name   string // unquoted
	origin string
	keys   merkle.KeyPair
	opts   LogOptions
	log    *slog.Logger

	sql statements

	closeMu sync.RWMutex
	closed  bool
	reqs    chan *appendReq
	quit    chan struct{}
	wg      sync.WaitGroup

	// Owned by the writer goroutine: the tree as this node last committed or read it. Under
	// the head lock it is checked against the head row and reloaded when another node moved on.
	tree   *treeState
	months map[string]bool // partitions known to exist, by name

	cpMu  sync.Mutex // serialises signing on this node
	tiles *tileCache

	commits     atomic.Int64
	commitNanos atomic.Int64
}

var _ accesslog.Store = (*Store)(nil)

var errStoreClosed = &vakt.Error{Code: vakt.CodeUnavailable, Message: "the log store is shutting down; retry later"}

func openStore(ctx context.Context, pool *pgxpool.Pool, schema, origin string, keys merkle.KeyPair, opts LogOptions, log *slog.Logger) (*Store, error) {
	if err := migrate(ctx, pool, schema, "tenant"); err != nil {
		return nil, err
	}
	s := &Store{
		pool:   pool,
		schema: pgx.Identifier{schema}.Sanitize(),
		name:   schema,
		origin: origin,
		keys:   keys,
		opts:   opts,
		log:    log,
		reqs:   make(chan *appendReq, 256),
		quit:   make(chan struct{}),
		months: map[string]bool{},
		tiles:  newTileCache(),
	}
	s.sql = newStatements(s.schema)
	if err := s.ensurePartitions(ctx, opts.Now()); err != nil {
		return nil, err
	}
	if err := s.verifyLatestCheckpoint(ctx); err != nil {
		return nil, err
	}
	s.wg.Add(2)
	go s.writeLoop()
	go s.checkpointLoop()
	return s, nil
}

// Close stops the store's writer and checkpointer. Everything Append acknowledged is already
// committed; the connections belong to Stores.
func (s *Store) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return nil
	}
	s.closed = true
	close(s.reqs)
	close(s.quit)
	s.closeMu.Unlock()
	s.wg.Wait()
	return nil
}

// patientKey is how entry_patients names a patient: the 12 digits of a personnummer or
// samordningsnummer (the two never share digits: a samordningsnummer's day is 61–91), or the
// issuer's root and the reserve number for reserve numbers, which always hold a '|'.
func patientKey(p ident.PersonID) string {
	if k := p.Key(); k > 0 {
		return strconv.FormatInt(k, 10)
	}
	return p.Root() + "|" + p.Extension()
}

// statements holds the SQL of a store, with its schema filled in once.
type statements struct {
	lockHead, updateHead, readHead    string
	knownIDs, get, seqOf, upsertTiles string
	readTiles, scan                   string
	latestCheckpoint, storeLatest     string
	lastHistory, storeHistory         string
	history                           string
}

func newStatements(schema string) statements {
	q := func(stmt string) string { return strings.ReplaceAll(stmt, "{s}", schema) }
	return statements{
		lockHead:   q(`SELECT size, received_at, edge FROM {s}.head FOR UPDATE`),
		readHead:   q(`SELECT size, edge FROM {s}.head`),
		updateHead: q(`UPDATE {s}.head SET size = $1, received_at = $2, edge = $3`),
		knownIDs: q(`SELECT l.log_id, e.seq, e.doc FROM {s}.log_ids l
			JOIN {s}.entries e ON e.seq = l.seq AND e.received_at = l.received_at
			WHERE l.log_id = ANY($1)`),
		get: q(`SELECT e.seq, e.received_at, e.doc FROM {s}.log_ids l
			JOIN {s}.entries e ON e.seq = l.seq AND e.received_at = l.received_at
			WHERE l.log_id = $1`),
		seqOf: q(`SELECT seq FROM {s}.log_ids WHERE log_id = $1`),
		upsertTiles: q(`INSERT INTO {s}.tiles (level, idx, hashes)
			SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])
			ON CONFLICT (level, idx) DO UPDATE SET hashes = EXCLUDED.hashes`),
		readTiles: q(`SELECT t.level, t.idx, t.hashes FROM {s}.tiles t
			JOIN unnest($1::smallint[], $2::bigint[]) AS w(level, idx) ON t.level = w.level AND t.idx = w.idx`),
		scan:             q(`SELECT seq, received_at, doc FROM {s}.entries WHERE seq BETWEEN $1 AND $2 ORDER BY seq`),
		latestCheckpoint: q(`SELECT size, note FROM {s}.checkpoint_latest`),
		storeLatest: q(`INSERT INTO {s}.checkpoint_latest (size, note, created) VALUES ($1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET size = EXCLUDED.size, note = EXCLUDED.note, created = EXCLUDED.created
			WHERE {s}.checkpoint_latest.size < EXCLUDED.size`),
		lastHistory:  q(`SELECT max(created) FROM {s}.checkpoints`),
		storeHistory: q(`INSERT INTO {s}.checkpoints (size, note, created) VALUES ($1, $2, $3) ON CONFLICT (size) DO NOTHING`),
		history:      q(`SELECT size, note FROM {s}.checkpoints WHERE size < $1 ORDER BY size`),
	}
}
