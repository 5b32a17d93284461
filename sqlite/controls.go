package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/control"
)

// Controls keeps each tenant's control register in the file <dir>/<tenant id>.controls.db,
// beside the tenant's log and registers: a file of its own so that a reviewer's assessment
// never queues behind a register import or the log's writer.
type Controls struct {
	sideFiles[*ControlStore]
}

var _ control.Stores = (*Controls)(nil)

// NewControls returns Controls that keep their files in dir (the directory of tenant files).
func NewControls(dir string) *Controls {
	return &Controls{newSideFiles(dir, ".controls.db", OpenControlStore)}
}

// ControlsPath returns the control register file of a tenant in a directory of tenant files.
func ControlsPath(dir, tenantID string) string {
	return sideFilePath(dir, tenantID, ".controls.db")
}

// Controls implements control.Stores.
func (r *Controls) Controls(ctx context.Context, tenantID string) (control.Store, error) {
	// Not returned directly: a nil pointer would make a non-nil interface.
	st, err := r.get(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// ControlStore is one tenant's control register in one SQLite file. See control.Store for the
// contract.
type ControlStore struct {
	wdb *sql.DB // one writing connection: it serialises updates, so each sees the latest state
	rdb *sql.DB
}

var _ control.Store = (*ControlStore)(nil)

// OpenControlStore opens (creating if needed) the control register file at path.
func OpenControlStore(ctx context.Context, path string) (*ControlStore, error) {
	wdb, err := openDB(path, connConfig{maxConns: 1, cacheKiB: 2048})
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, wdb, "controls"); err != nil {
		wdb.Close()
		return nil, err
	}
	rdb, err := openDB(path, connConfig{readOnly: true, maxConns: 2, cacheKiB: 2048})
	if err != nil {
		wdb.Close()
		return nil, err
	}
	return &ControlStore{wdb: wdb, rdb: rdb}, nil
}

// Close closes the file.
func (s *ControlStore) Close() error { return errors.Join(s.wdb.Close(), s.rdb.Close()) }

// Create implements control.Store.
func (s *ControlStore) Create(ctx context.Context, c *control.Control, ev control.Event) error {
	doc, err := json.Marshal(c)
	if err != nil {
		return err
	}
	evDoc, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return translate(err, "begin control")
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM controls WHERE id = ?`, c.ID).Scan(&n); err != nil {
		return translate(err, "create control")
	}
	if n > 0 {
		return vakt.Errorf(vakt.CodeConflict, "a control with that id exists")
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO controls (id, created, doc) VALUES (?, ?, ?)`, c.ID, c.Created.UnixMicro(), doc); err != nil {
		return translate(err, "create control")
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO control_events (control_id, n, doc) VALUES (?, 1, ?)`, c.ID, evDoc); err != nil {
		return translate(err, "create control")
	}
	return translate(tx.Commit(), "commit control")
}

func decodeControl(doc []byte) (control.Control, error) {
	var c control.Control
	if err := json.Unmarshal(doc, &c); err != nil {
		return control.Control{}, err
	}
	return c, nil
}

// Get implements control.Store.
func (s *ControlStore) Get(ctx context.Context, id string) (control.Control, error) {
	var doc []byte
	err := s.rdb.QueryRowContext(ctx, `SELECT doc FROM controls WHERE id = ?`, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return control.Control{}, vakt.Errorf(vakt.CodeNotFound, "no control with that id")
	}
	if err != nil {
		return control.Control{}, translate(err, "read control")
	}
	return decodeControl(doc)
}

// List implements control.Store.
func (s *ControlStore) List(ctx context.Context) ([]control.Control, error) {
	return queryDocs[control.Control](ctx, s.rdb, "list controls", `SELECT doc FROM controls ORDER BY created DESC, id`)
}

// Update implements control.Store. The read and the write happen in one transaction on the
// single writing connection, so concurrent updates of a control take turns.
func (s *ControlStore) Update(ctx context.Context, id string, fn func(*control.Control) (control.Event, error)) (control.Control, error) {
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return control.Control{}, translate(err, "begin control update")
	}
	defer tx.Rollback()
	var doc []byte
	err = tx.QueryRowContext(ctx, `SELECT doc FROM controls WHERE id = ?`, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return control.Control{}, vakt.Errorf(vakt.CodeNotFound, "no control with that id")
	}
	if err != nil {
		return control.Control{}, translate(err, "read control")
	}
	c, err := decodeControl(doc)
	if err != nil {
		return control.Control{}, err
	}
	ev, err := fn(&c)
	if err != nil {
		return control.Control{}, err
	}
	if doc, err = json.Marshal(&c); err != nil {
		return control.Control{}, err
	}
	evDoc, err := json.Marshal(ev)
	if err != nil {
		return control.Control{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE controls SET doc = ? WHERE id = ?`, doc, id); err != nil {
		return control.Control{}, translate(err, "update control")
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO control_events (control_id, n, doc)
		SELECT ?, coalesce(max(n), 0) + 1, ? FROM control_events WHERE control_id = ?`, id, evDoc, id); err != nil {
		return control.Control{}, translate(err, "record control event")
	}
	if err := tx.Commit(); err != nil {
		return control.Control{}, translate(err, "commit control update")
	}
	return c, nil
}

// History implements control.Store.
func (s *ControlStore) History(ctx context.Context, id string) ([]control.Event, error) {
	return queryDocs[control.Event](ctx, s.rdb, "read control history", `SELECT doc FROM control_events WHERE control_id = ? ORDER BY n`, id)
}
