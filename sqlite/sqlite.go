// Package sqlite is vakt's embedded storage engine: one SQLite database file per tenant for the
// access log (Store), and one registry file for tenants and credentials (Registry). It is what
// `vakt serve` runs on when no PostgreSQL DSN is given.
//
// Durability: every database runs in WAL mode with synchronous=FULL, so a commit is on stable
// storage when it returns; except a Store's writing connection, whose commits are flushed by a
// goroutine of their own before anyone learns of them (see durable.go). The driver owns its schema; migrations are embedded and applied on
// open, each in its own transaction.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/vakt/vakt"
)

const driverName = "vakt-sqlite3"

var (
	registerOnce sync.Once
	sqliteDriver *sqlite3.SQLiteDriver
)

// registerDriver installs a database/sql driver whose connections get vakt's pragmas, so that no
// connection in the pool ever runs with different durability settings.
func registerDriver() {
	registerOnce.Do(func() {
		sqliteDriver = &sqlite3.SQLiteDriver{
			ConnectHook: func(c *sqlite3.SQLiteConn) error {
				for _, p := range []string{
					"PRAGMA journal_mode=WAL",
					"PRAGMA synchronous=FULL",
					"PRAGMA foreign_keys=ON",
					"PRAGMA busy_timeout=10000",
					"PRAGMA temp_store=MEMORY",
				} {
					if _, err := c.Exec(p, nil); err != nil {
						return fmt.Errorf("sqlite: %s: %w", p, err)
					}
				}
				return nil
			},
		}
		sql.Register(driverName, sqliteDriver)
	})
}

// connConfig is how one pool's connections are set up beyond the common pragmas.
type connConfig struct {
	readOnly     bool
	maxConns     int
	cacheKiB     int   // page cache per connection
	mmapBytes    int64 // memory-mapped reads, shared by all connections through the OS cache
	noCheckpoint bool  // leave WAL checkpoints to a background checkpointer
	syncNormal   bool  // commits do not flush the WAL; the caller does (see durable.go)
}

// openDB opens a pool on the database file at path.
func openDB(path string, cfg connConfig) (*sql.DB, error) {
	registerDriver()
	// Each connection keeps its prepared statements: every query's text is fixed (lists travel
	// as one JSON parameter), so the same few are used again and again, and preparing one
	// costs as much as a small read.
	dsn := "file:" + path + "?_txlock=immediate&_stmt_cache_size=64"
	if cfg.readOnly {
		dsn = "file:" + path + "?mode=ro&_query_only=true&_stmt_cache_size=64"
	}
	var pragmas []string
	if cfg.cacheKiB > 0 {
		pragmas = append(pragmas, "PRAGMA cache_size=-"+strconv.Itoa(cfg.cacheKiB))
	}
	if cfg.mmapBytes > 0 {
		pragmas = append(pragmas, "PRAGMA mmap_size="+strconv.FormatInt(cfg.mmapBytes, 10))
	}
	if cfg.noCheckpoint {
		pragmas = append(pragmas, "PRAGMA wal_autocheckpoint=0")
	}
	if cfg.syncNormal {
		pragmas = append(pragmas, "PRAGMA synchronous=NORMAL")
	}
	db := sql.OpenDB(&pragmaConnector{dsn: dsn, pragmas: pragmas})
	n := max(cfg.maxConns, 1)
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, translate(err, "open database")
	}
	return db, nil
}

// pragmaConnector opens connections through the registered driver and applies per-pool
// pragmas to each, since a pool hands out connections in no particular order.
type pragmaConnector struct {
	dsn     string
	pragmas []string
}

func (c *pragmaConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Driver().Open(c.dsn)
	if err != nil {
		return nil, err
	}
	ex := conn.(driver.ExecerContext)
	for _, p := range c.pragmas {
		if _, err := ex.ExecContext(ctx, p, nil); err != nil {
			conn.Close()
			return nil, fmt.Errorf("sqlite: %s: %w", p, err)
		}
	}
	return conn, nil
}

func (c *pragmaConnector) Driver() driver.Driver { return sqliteDriver }

// translate maps SQLite errors to vakt errors by code, never by message text. Anything not
// listed stays internal, wrapped with what was being done.
func translate(err error, doing string) error {
	if err == nil {
		return nil
	}
	var ve *vakt.Error
	if errors.As(err, &ve) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrFull:
			return &vakt.Error{Code: vakt.CodeUnavailable, Message: "storage is full; nothing was stored, retry later"}
		case sqlite3.ErrBusy, sqlite3.ErrLocked:
			return &vakt.Error{Code: vakt.CodeUnavailable, Message: "storage is busy; retry later"}
		case sqlite3.ErrIoErr, sqlite3.ErrCantOpen:
			return fmt.Errorf("sqlite: %s: %w (%w)", doing, err, errUnavailable)
		}
	}
	return fmt.Errorf("sqlite: %s: %w", doing, err)
}

// errUnavailable marks I/O failures that operators must see but callers may retry.
var errUnavailable = &vakt.Error{Code: vakt.CodeUnavailable, Message: "storage is unavailable; retry later"}

func isUniqueViolation(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)
}

//go:embed migrations
var migrations embed.FS

// migrate brings the database to the newest schema of set (a folder under migrations/). Each
// file NNNN_name.sql is one version, applied in its own transaction together with the new
// PRAGMA user_version, so a crash leaves the database at a whole version.
func migrate(ctx context.Context, db *sql.DB, set string) error {
	dir := path.Join("migrations", set)
	files, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for _, f := range files {
		names = append(names, f.Name())
	}
	slices.Sort(names)
	var current int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return translate(err, "read schema version")
	}
	if current > len(names) {
		return fmt.Errorf("sqlite: database schema version %d is newer than this binary knows (%d); upgrade vakt", current, len(names))
	}
	for i := current; i < len(names); i++ {
		want := fmt.Sprintf("%04d_", i+1)
		if !strings.HasPrefix(names[i], want) {
			return fmt.Errorf("sqlite: migration %s out of sequence (want prefix %s)", names[i], want)
		}
		body, err := migrations.ReadFile(path.Join(dir, names[i]))
		if err != nil {
			return err
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return translate(err, "begin migration")
		}
		// Another connection (the register store beside a log, or another process) may have
		// applied this version since it was read; the write lock this transaction holds makes the
		// second look final.
		var now int
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&now); err != nil {
			tx.Rollback()
			return translate(err, "read schema version")
		}
		if now > i {
			tx.Rollback()
			continue
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return translate(err, "apply migration "+names[i])
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version=%d", i+1)); err != nil {
			tx.Rollback()
			return translate(err, "set schema version")
		}
		if err := tx.Commit(); err != nil {
			return translate(err, "commit migration "+names[i])
		}
	}
	return nil
}

func isForeignKeyViolation(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintForeignKey
}

// OpenRaw opens a plain SQLite database with the durability settings of vakt's own stores (WAL,
// synchronous=FULL) and the same page cache as a store's writer, for benchmark baselines.
func OpenRaw(path string) (*sql.DB, error) {
	return openDB(path, connConfig{maxConns: 1, cacheKiB: 65536})
}
