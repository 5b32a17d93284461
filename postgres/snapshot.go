package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/merkle"
)

// Snapshot reads a tenant's log as of one moment, while nodes go on writing: a read-only
// REPEATABLE READ transaction, so that the checkpoints and the entries it returns belong to the
// same state of the log. `vakt export` writes a bundle from one.
type Snapshot struct {
	st *Store
	tx pgx.Tx
}

// Snapshot opens tenantID's store (creating it on first use, as Store does) and starts a
// snapshot of it. The caller must Close it: it holds a connection of the pool.
func (s *Stores) Snapshot(ctx context.Context, tenantID string) (*Snapshot, error) {
	st, err := s.store(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, translate(err, "begin snapshot")
	}
	return &Snapshot{st: st, tx: tx}, nil
}

// Checkpoints returns the checkpoints the log keeps as of the snapshot, by increasing size: the
// sparse history and the latest. A log that has never been signed has none.
func (sn *Snapshot) Checkpoints(ctx context.Context) ([]accesslog.SignedCheckpoint, error) {
	latest, found, err := sn.st.readLatest(ctx, sn.tx)
	if err != nil || !found {
		return nil, err
	}
	return sn.st.checkpointsUpTo(ctx, sn.tx, latest)
}

// Scan calls fn for every entry of the snapshot in sequence order, with the leaf hash the tree
// holds for it.
func (sn *Snapshot) Scan(ctx context.Context, fn func(*accesslog.Stored, merkle.Hash) error) error {
	return sn.st.scan(ctx, sn.tx, 1, fn)
}

// Close ends the snapshot and gives its connection back.
func (sn *Snapshot) Close(ctx context.Context) error {
	return translate(sn.tx.Rollback(ctx), "end snapshot")
}
