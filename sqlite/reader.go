package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"os"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/merkle"
)

// Reader reads a tenant's log file without opening a Store: no writer, no goroutines, nothing
// written. `vakt export` and `vakt verify --data` use it, also while a server writes the same
// file; everything a Reader returns comes from one consistent snapshot.
type Reader struct {
	db *sql.DB
	tx *sql.Tx
}

// OpenReader opens the tenant log at path read-only and takes a snapshot of it.
func OpenReader(ctx context.Context, path string) (*Reader, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	db, err := openDB(path, connConfig{readOnly: true, maxConns: 1, cacheKiB: 16384})
	if err != nil {
		return nil, err
	}
	// A read transaction in WAL mode sees one snapshot for its whole life.
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		db.Close()
		return nil, translate(err, "begin snapshot")
	}
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil || version < 2 {
		tx.Rollback()
		db.Close()
		if err == nil {
			err = errors.New("sqlite: the file has no Merkle tree yet; open it with `vakt serve` once to build it")
		}
		return nil, err
	}
	return &Reader{db: db, tx: tx}, nil
}

// Close releases the snapshot.
func (r *Reader) Close() error {
	r.tx.Rollback()
	return r.db.Close()
}

// Entries returns the number of entries in the snapshot.
func (r *Reader) Entries(ctx context.Context) (int64, error) {
	var n int64
	err := r.tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM entries`).Scan(&n)
	return n, translate(err, "count entries")
}

// Checkpoints returns the stored checkpoints, history and latest, by increasing size.
func (r *Reader) Checkpoints(ctx context.Context) ([]accesslog.SignedCheckpoint, error) {
	rows, err := r.tx.QueryContext(ctx, `SELECT size, note FROM checkpoints UNION SELECT size, note FROM checkpoint_latest ORDER BY size`)
	if err != nil {
		return nil, translate(err, "read checkpoints")
	}
	defer rows.Close()
	var out []accesslog.SignedCheckpoint
	for rows.Next() {
		var cp accesslog.SignedCheckpoint
		if err := rows.Scan(&cp.Size, &cp.Note); err != nil {
			return nil, translate(err, "read checkpoints")
		}
		out = append(out, cp)
	}
	return out, translate(rows.Err(), "read checkpoints")
}

// Scan calls fn for every entry in sequence order with its stored leaf hash (computed for
// entries the stored tree does not reach yet).
func (r *Reader) Scan(ctx context.Context, fn func(*accesslog.Stored, merkle.Hash) error) error {
	n, err := r.Entries(ctx)
	if err != nil {
		return err
	}
	size, err := storedTreeSize(ctx, r.tx)
	if err != nil {
		return err
	}
	// A tree longer than the log means entries were removed; the verifier finds that out from
	// the checkpoints, so scan what is there.
	size = min(size, uint64(n))
	if err := scanEntries(ctx, r.tx, 1, int64(size), true, fn); err != nil {
		return err
	}
	// Entries the stored tree does not reach yet: a crash came between their commit and the
	// tree's, which catches up when the log is next opened. Their leaves are computed.
	return scanEntries(ctx, r.tx, int64(size)+1, n, false, func(s *accesslog.Stored, _ merkle.Hash) error {
		return fn(s, merkle.LeafHash(s.JSON))
	})
}
