package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/register"
)

// Registers keeps each tenant's reference registers in the file <dir>/<tenant id>.registers.db,
// beside the tenant's log (tenant ids hold no '.', so the names cannot meet). A file of their
// own, because SQLite has one writer per file: a replace-all import of millions of persons is
// one long transaction, and in the log's file it would hold up every group commit meanwhile.
type Registers struct {
	sideFiles[*RegisterStore]
}

var _ register.Stores = (*Registers)(nil)

// NewRegisters returns Registers that keep their files in dir (the directory of tenant files).
func NewRegisters(dir string) *Registers {
	return &Registers{newSideFiles(dir, ".registers.db", OpenRegisterStore)}
}

// RegistersPath returns the register file of a tenant in a directory of tenant files.
func RegistersPath(dir, tenantID string) string {
	return sideFilePath(dir, tenantID, ".registers.db")
}

// Registers implements register.Stores.
func (r *Registers) Registers(ctx context.Context, tenantID string) (register.Store, error) {
	// Not returned directly: a nil pointer would make a non-nil interface.
	st, err := r.get(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// RegisterStore is one tenant's registers in one SQLite file. See register.Store for the
// contract.
type RegisterStore struct {
	wdb *sql.DB // one writing connection: imports queue up on it
	rdb *sql.DB
}

var _ register.Store = (*RegisterStore)(nil)

// OpenRegisterStore opens (creating if needed) the register file at path.
func OpenRegisterStore(ctx context.Context, path string) (*RegisterStore, error) {
	wdb, err := openDB(path, connConfig{maxConns: 1, cacheKiB: 16384})
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, wdb, "registers"); err != nil {
		wdb.Close()
		return nil, err
	}
	rdb, err := openDB(path, connConfig{readOnly: true, maxConns: 2, cacheKiB: 16384})
	if err != nil {
		wdb.Close()
		return nil, err
	}
	return &RegisterStore{wdb: wdb, rdb: rdb}, nil
}

// Close closes the file.
func (s *RegisterStore) Close() error { return errors.Join(s.wdb.Close(), s.rdb.Close()) }

// Import implements register.Store. The whole import is one transaction on the single writing
// connection, which also serialises imports.
func (s *RegisterStore) Import(ctx context.Context, kind register.Kind, replace bool, next func() (register.Record, error)) (int, error) {
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return 0, translate(err, "begin import")
	}
	defer tx.Rollback()
	if replace {
		if _, err := tx.ExecContext(ctx, `DELETE FROM register_records WHERE kind = ?`, string(kind)); err != nil {
			return 0, translate(err, "clear register")
		}
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO register_records (kind, key, person, doc) VALUES (?, ?, ?, ?)
		ON CONFLICT (kind, key) DO UPDATE SET person = excluded.person, doc = excluded.doc`)
	if err != nil {
		return 0, translate(err, "prepare import")
	}
	defer ins.Close()
	n := 0
	for {
		rec, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
		if _, err := ins.ExecContext(ctx, string(kind), rec.Key, rec.Person, rec.Doc); err != nil {
			return 0, translate(err, "import record")
		}
		n++
	}
	if err := tx.Commit(); err != nil {
		return 0, translate(err, "commit import")
	}
	return n, nil
}

// All implements register.Store.
func (s *RegisterStore) All(ctx context.Context, kind register.Kind, fn func(doc []byte) error) error {
	return s.each(ctx, fn, `SELECT doc FROM register_records WHERE kind = ?`, string(kind))
}

// ByPerson implements register.Store. The list travels as one JSON parameter, so the statement
// is the same whatever its length.
func (s *RegisterStore) ByPerson(ctx context.Context, kind register.Kind, persons []string, fn func(doc []byte) error) error {
	if len(persons) == 0 {
		return nil
	}
	list, err := json.Marshal(persons)
	if err != nil {
		return err
	}
	return s.each(ctx, fn, `SELECT doc FROM register_records WHERE kind = ? AND person IN (SELECT value FROM json_each(?))`, string(kind), string(list))
}

func (s *RegisterStore) each(ctx context.Context, fn func([]byte) error, query string, args ...any) error {
	rows, err := s.rdb.QueryContext(ctx, query, args...)
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
	err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM register_records WHERE kind = ?`, string(kind)).Scan(&n)
	return n, translate(err, "count register")
}

// Delete implements register.Store. It runs on the writing connection, after any import.
func (s *RegisterStore) Delete(ctx context.Context, kind register.Kind, key string) error {
	res, err := s.wdb.ExecContext(ctx, `DELETE FROM register_records WHERE kind = ? AND key = ?`, string(kind), key)
	if err != nil {
		return translate(err, "delete record")
	}
	if n, err := res.RowsAffected(); err != nil {
		return translate(err, "delete record")
	} else if n == 0 {
		return vakt.Errorf(vakt.CodeNotFound, "no such record")
	}
	return nil
}
