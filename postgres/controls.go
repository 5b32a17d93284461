package postgres

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/control"
)

// Controls keeps each tenant's control register in the tenant's schema (tables controls and
// control_events), on the pool of Stores or one of its own. The schema is created and migrated
// on a tenant's first use, as Stores does.
type Controls struct {
	*tenantSchemas
}

var _ control.Stores = (*Controls)(nil)

// OpenControls connects to the database at dsn, for tools and tests that use the control
// register without serving logs.
func OpenControls(ctx context.Context, dsn string) (*Controls, error) {
	ts, err := openTenantSchemas(ctx, dsn)
	if err != nil {
		return nil, err
	}
	return &Controls{ts}, nil
}

// ControlStores returns the tenants' control registers on the pool of s.
func (s *Stores) ControlStores() *Controls {
	return &Controls{sharedTenantSchemas(s.pool)}
}

// Controls implements control.Stores.
func (r *Controls) Controls(ctx context.Context, tenantID string) (control.Store, error) {
	schema, err := r.schema(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return &ControlStore{pool: r.pool, schema: pgx.Identifier{schema}.Sanitize()}, nil
}

// ControlStore is one tenant's control register in its schema. See control.Store for the
// contract.
type ControlStore struct {
	pool   *pgxpool.Pool
	schema string // sanitized
}

var _ control.Store = (*ControlStore)(nil)

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
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO `+s.schema+`.controls (id, created, doc) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`, c.ID, c.Created, doc)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return vakt.Errorf(vakt.CodeConflict, "a control with that id exists")
		}
		_, err = tx.Exec(ctx, `INSERT INTO `+s.schema+`.control_events (control_id, n, doc) VALUES ($1, 1, $2)`, c.ID, evDoc)
		return err
	})
	return translate(err, "create control")
}

// Get implements control.Store.
func (s *ControlStore) Get(ctx context.Context, id string) (control.Control, error) {
	var doc []byte
	err := s.pool.QueryRow(ctx, `SELECT doc FROM `+s.schema+`.controls WHERE id = $1`, id).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return control.Control{}, vakt.Errorf(vakt.CodeNotFound, "no control with that id")
	}
	if err != nil {
		return control.Control{}, translate(err, "read control")
	}
	var c control.Control
	return c, json.Unmarshal(doc, &c)
}

// List implements control.Store.
func (s *ControlStore) List(ctx context.Context) ([]control.Control, error) {
	return queryDocs[control.Control](ctx, s.pool, "list controls", `SELECT doc FROM `+s.schema+`.controls ORDER BY created DESC, id`)
}

// Update implements control.Store: the row is locked (FOR UPDATE) for the transaction, so
// updates of one control take turns on every node.
func (s *ControlStore) Update(ctx context.Context, id string, fn func(*control.Control) (control.Event, error)) (control.Control, error) {
	var c control.Control
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var doc []byte
		err := tx.QueryRow(ctx, `SELECT doc FROM `+s.schema+`.controls WHERE id = $1 FOR UPDATE`, id).Scan(&doc)
		if errors.Is(err, pgx.ErrNoRows) {
			return vakt.Errorf(vakt.CodeNotFound, "no control with that id")
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal(doc, &c); err != nil {
			return err
		}
		ev, err := fn(&c)
		if err != nil {
			return err
		}
		if doc, err = json.Marshal(&c); err != nil {
			return err
		}
		evDoc, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE `+s.schema+`.controls SET doc = $1 WHERE id = $2`, doc, id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO `+s.schema+`.control_events (control_id, n, doc)
			SELECT $1, coalesce(max(n), 0) + 1, $2 FROM `+s.schema+`.control_events WHERE control_id = $1`, id, evDoc)
		return err
	})
	if err != nil {
		return control.Control{}, translate(err, "update control")
	}
	return c, nil
}

// History implements control.Store.
func (s *ControlStore) History(ctx context.Context, id string) ([]control.Event, error) {
	return queryDocs[control.Event](ctx, s.pool, "read control history", `SELECT doc FROM `+s.schema+`.control_events WHERE control_id = $1 ORDER BY n`, id)
}
