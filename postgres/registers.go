package postgres

import (
	"context"
	"errors"
	"io"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/register"
)

// Registers keeps each tenant's reference registers in the tenant's schema (table
// register_records), on a connection pool of its own or one it shares with Stores. The schema
// is created and migrated on a tenant's first use, as Stores does.
type Registers struct {
	*tenantSchemas
}

var _ register.Stores = (*Registers)(nil)

// OpenRegisters connects to the database at dsn, for tools that import registers without
// serving logs.
func OpenRegisters(ctx context.Context, dsn string) (*Registers, error) {
	ts, err := openTenantSchemas(ctx, dsn)
	if err != nil {
		return nil, err
	}
	return &Registers{ts}, nil
}

// RegisterStores returns the tenants' registers on the pool of s.
func (s *Stores) RegisterStores() *Registers {
	return &Registers{sharedTenantSchemas(s.pool)}
}

// Registers implements register.Stores.
func (r *Registers) Registers(ctx context.Context, tenantID string) (register.Store, error) {
	schema, err := r.schema(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return &RegisterStore{pool: r.pool, schema: pgx.Identifier{schema}.Sanitize(), lockName: "vakt registers " + schema}, nil
}

// RegisterStore is one tenant's registers in its schema. See register.Store for the contract.
type RegisterStore struct {
	pool     *pgxpool.Pool
	schema   string // sanitized
	lockName string
}

var _ register.Store = (*RegisterStore)(nil)

// importChunk is how many records one INSERT carries (as arrays, so the statement stays the same).
const importChunk = 2000

// Import implements register.Store: one transaction, serialised per tenant and kind on every
// node by an advisory lock; readers keep seeing the old register until it commits.
func (s *RegisterStore) Import(ctx context.Context, kind register.Kind, replace bool, next func() (register.Record, error)) (int, error) {
	n := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, s.lockName+" "+string(kind)); err != nil {
			return err
		}
		if replace {
			if _, err := tx.Exec(ctx, `DELETE FROM `+s.schema+`.register_records WHERE kind = $1`, string(kind)); err != nil {
				return err
			}
		}
		keys := make([]string, 0, importChunk)
		persons := make([]string, 0, importChunk)
		docs := make([][]byte, 0, importChunk)
		flush := func() error {
			if len(keys) == 0 {
				return nil
			}
			_, err := tx.Exec(ctx, `INSERT INTO `+s.schema+`.register_records (kind, key, person, doc)
				SELECT $1, k, p, d FROM unnest($2::text[], $3::text[], $4::bytea[]) AS u(k, p, d)
				ON CONFLICT (kind, key) DO UPDATE SET person = excluded.person, doc = excluded.doc`,
				string(kind), keys, persons, docs)
			keys, persons, docs = keys[:0], persons[:0], docs[:0]
			return err
		}
		for {
			rec, err := next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			keys, persons, docs = append(keys, rec.Key), append(persons, rec.Person), append(docs, rec.Doc)
			n++
			if len(keys) == importChunk {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		return flush()
	})
	if err != nil {
		var ve *vakt.Error
		if errors.As(err, &ve) {
			return 0, err
		}
		return 0, translate(err, "import register")
	}
	return n, nil
}

// All implements register.Store.
func (s *RegisterStore) All(ctx context.Context, kind register.Kind, fn func(doc []byte) error) error {
	return s.each(ctx, fn, `SELECT doc FROM `+s.schema+`.register_records WHERE kind = $1`, string(kind))
}

// ByPerson implements register.Store.
func (s *RegisterStore) ByPerson(ctx context.Context, kind register.Kind, persons []string, fn func(doc []byte) error) error {
	if len(persons) == 0 {
		return nil
	}
	return s.each(ctx, fn, `SELECT doc FROM `+s.schema+`.register_records WHERE kind = $1 AND person = ANY($2::text[])`, string(kind), persons)
}

func (s *RegisterStore) each(ctx context.Context, fn func([]byte) error, query string, args ...any) error {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return translate(err, "read register")
	}
	defer rows.Close()
	var doc []byte
	for rows.Next() {
		if err := rows.Scan(&doc); err != nil {
			return translate(err, "read register")
		}
		if err := fn(doc); err != nil {
			return err
		}
	}
	return translate(rows.Err(), "read register")
}

// Count implements register.Store.
func (s *RegisterStore) Count(ctx context.Context, kind register.Kind) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM `+s.schema+`.register_records WHERE kind = $1`, string(kind)).Scan(&n)
	return n, translate(err, "count register")
}

// Delete implements register.Store, under the same advisory lock as an import of the kind.
func (s *RegisterStore) Delete(ctx context.Context, kind register.Kind, key string) error {
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, s.lockName+" "+string(kind)); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM `+s.schema+`.register_records WHERE kind = $1 AND key = $2`, string(kind), key)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return translate(err, "delete record")
	}
	if n == 0 {
		return vakt.Errorf(vakt.CodeNotFound, "no such record")
	}
	return nil
}
