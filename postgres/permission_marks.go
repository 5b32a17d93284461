package postgres

import (
	"context"
	"encoding/json"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/permlist"
)

// The marks for removal of the permission lists live in the tenant's schema beside the control
// register (table permission_marks, tenant migration 00004).

var _ permlist.Stores = (*Controls)(nil)
var _ permlist.Store = (*ControlStore)(nil)

// PermissionMarks implements permlist.Stores.
func (r *Controls) PermissionMarks(ctx context.Context, tenantID string) (permlist.Store, error) {
	st, err := r.Controls(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return st.(*ControlStore), nil
}

// SetMark implements permlist.Store.
func (s *ControlStore) SetMark(ctx context.Context, m permlist.Mark) error {
	doc, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO `+s.schema+`.permission_marks (care_unit, hsa_id, doc) VALUES ($1, $2, $3)
		ON CONFLICT (care_unit, hsa_id) DO UPDATE SET doc = excluded.doc`, string(m.CareUnit), string(m.HSAID), doc)
	return translate(err, "store mark")
}

// DeleteMark implements permlist.Store.
func (s *ControlStore) DeleteMark(ctx context.Context, careUnit, hsaID ident.HSAID) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM `+s.schema+`.permission_marks WHERE care_unit = $1 AND hsa_id = $2`, string(careUnit), string(hsaID))
	if err != nil {
		return translate(err, "delete mark")
	}
	if tag.RowsAffected() == 0 {
		return vakt.Errorf(vakt.CodeNotFound, "no such mark")
	}
	return nil
}

// Marks implements permlist.Store.
func (s *ControlStore) Marks(ctx context.Context, careUnit ident.HSAID) ([]permlist.Mark, error) {
	return queryDocs[permlist.Mark](ctx, s.pool, "read marks", `SELECT doc FROM `+s.schema+`.permission_marks WHERE care_unit = $1 ORDER BY hsa_id COLLATE "C"`, string(careUnit))
}
