// Package postgres is vakt's PostgreSQL engine: the same service on a database server that
// several stateless `vakt serve` nodes share. Registry holds tenants and tokens (schema vakt);
// Stores holds each tenant's log in a schema of its own (see docs/ARCHITECTURE.md). Migrations
// are embedded and applied on start, under an advisory lock so that nodes starting together do
// not race; each schema keeps its own version table.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"

	"github.com/vakt/vakt"
)

//go:embed migrations
var migrations embed.FS

// registrySchema holds the registry's tables and its version table.
const registrySchema = "vakt"

// migrate brings schema up to the newest version of the migrations in dir.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema, dir string) error {
	// CREATE SCHEMA IF NOT EXISTS is not safe against itself in concurrent sessions (both may
	// see no schema and one then fails on the catalog's unique index); a transaction-scoped
	// advisory lock on the schema's name serialises nodes that start together.
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "vakt schema "+schema); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize())
		return err
	})
	if err != nil {
		return translate(err, "create schema")
	}
	sub, err := fs.Sub(migrations, "migrations/"+dir)
	if err != nil {
		return err
	}
	// The migrations run in the schema: search_path is set on goose's connection pool, and
	// goose's version table, unqualified, lands in it too. Tenant schemas hold '-', so the
	// name is quoted.
	cfg := pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectCustom, db, sub,
		goose.WithStore(mustStore("goose_db_version")), goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("postgres: migrations of %s: %w", schema, err)
	}
	if _, err := p.Up(ctx); err != nil {
		return translate(err, "migrate "+schema)
	}
	return nil
}

func mustStore(table string) database.Store {
	s, err := database.NewStore(goose.DialectPostgres, table)
	if err != nil {
		panic(err)
	}
	return s
}

// errUnavailable is what callers get while the database cannot be reached.
var errUnavailable = &vakt.Error{Code: vakt.CodeUnavailable, Message: "the database is unavailable; retry later"}

// translate turns driver errors into vakt errors where the caller can act on them: a database
// that cannot be reached, or is shutting down or starting, is CodeUnavailable.
func translate(err error, doing string) error {
	if err == nil {
		return nil
	}
	var ve *vakt.Error
	if errors.As(err, &ve) || errors.Is(err, context.Canceled) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code[:2] {
		case "08", "57", "53": // connection exception, operator intervention (shutdown), resources
			return fmt.Errorf("postgres: %s: %w (%w)", doing, err, errUnavailable)
		}
		return fmt.Errorf("postgres: %s: %w", doing, err)
	}
	if pgconn.SafeToRetry(err) || pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded) || isConnError(err) {
		return fmt.Errorf("postgres: %s: %w (%w)", doing, err, errUnavailable)
	}
	return fmt.Errorf("postgres: %s: %w", doing, err)
}

// isConnError reports whether err means the connection failed or broke, rather than that the
// statement was wrong: a refused or reset connection, or one closed mid-statement (the server
// was stopped), which a retry on a new connection may well get past.
func isConnError(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)
