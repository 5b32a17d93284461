package sqlite

import (
	"context"
	"encoding/json"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/permlist"
)

// The marks for removal of the permission lists live in the tenant's control register file
// (<tenant>.controls.db, table permission_marks): they are part of the tenant's log controls,
// and a file of their own would be one more to back up for a handful of rows.

var _ permlist.Stores = (*Controls)(nil)
var _ permlist.Store = (*ControlStore)(nil)

// PermissionMarks implements permlist.Stores.
func (r *Controls) PermissionMarks(ctx context.Context, tenantID string) (permlist.Store, error) {
	st, err := r.get(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// SetMark implements permlist.Store.
func (s *ControlStore) SetMark(ctx context.Context, m permlist.Mark) error {
	doc, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = s.wdb.ExecContext(ctx, `INSERT INTO permission_marks (care_unit, hsa_id, doc) VALUES (?, ?, ?)
		ON CONFLICT (care_unit, hsa_id) DO UPDATE SET doc = excluded.doc`, string(m.CareUnit), string(m.HSAID), doc)
	return translate(err, "store mark")
}

// DeleteMark implements permlist.Store.
func (s *ControlStore) DeleteMark(ctx context.Context, careUnit, hsaID ident.HSAID) error {
	res, err := s.wdb.ExecContext(ctx, `DELETE FROM permission_marks WHERE care_unit = ? AND hsa_id = ?`, string(careUnit), string(hsaID))
	if err != nil {
		return translate(err, "delete mark")
	}
	if n, err := res.RowsAffected(); err != nil {
		return translate(err, "delete mark")
	} else if n == 0 {
		return vakt.Errorf(vakt.CodeNotFound, "no such mark")
	}
	return nil
}

// Marks implements permlist.Store.
func (s *ControlStore) Marks(ctx context.Context, careUnit ident.HSAID) ([]permlist.Mark, error) {
	return queryDocs[permlist.Mark](ctx, s.rdb, "read marks", `SELECT doc FROM permission_marks WHERE care_unit = ? ORDER BY hsa_id`, string(careUnit))
}
