// Package permlist is the permission list (behörighetslista) of a care unit: who holds access
// to the unit — staff the staff register places there now, and vakt accounts with roles for the
// unit — with each person's last activity in the log at the unit, so that reviewers and
// managers find those who have left or moved and mark them for removal (the region's
// instruction: go through the list regularly and remove people who have left; HSLF-FS 2016:40
// 4 kap. 2 §: access follows each user's need).
//
// A mark is a decision for the administrators to act on, not the removal itself: assignments
// live in the HSA directory and accounts are removed by a lokal administratör. The package
// holds the types, their rules and the Service that checks who may do what and records every
// read and change in the tenant's log; it does no I/O of its own. Drivers (sqlite, postgres)
// implement Store, and permlisttest checks them.
package permlist

import (
	"context"
	"time"

	"github.com/vakt/vakt/ident"
)

// MaxReasonLen bounds the reason of a mark.
const MaxReasonLen = 500

// Person is who marked someone: the account's username and HSA-id, as the log names them.
type Person struct {
	Username string      `json:"username"`
	HSAID    ident.HSAID `json:"hsaId"`
	Name     string      `json:"name,omitempty"`
}

// Mark says that HSAID should lose access to CareUnit, why, who decided it and when.
type Mark struct {
	CareUnit ident.HSAID `json:"careUnitId"`
	HSAID    ident.HSAID `json:"hsaId"`
	Reason   string      `json:"reason"`
	By       Person      `json:"by"`
	At       time.Time   `json:"at"`
}

// Store keeps one tenant's marks for removal. Drivers implement it; permlisttest.Run checks
// every clause. A Store sees no principals: who may mark is the Service's business.
type Store interface {
	// SetMark stores m, replacing the mark of the same care unit and HSA-id if there is one.
	SetMark(ctx context.Context, m Mark) error
	// DeleteMark removes the mark of hsaID at careUnit; CodeNotFound when there is none.
	DeleteMark(ctx context.Context, careUnit, hsaID ident.HSAID) error
	// Marks returns the marks of careUnit ordered by HSA-id (empty for none).
	Marks(ctx context.Context, careUnit ident.HSAID) ([]Mark, error)
}

// Stores gives access to each tenant's marks.
type Stores interface {
	// PermissionMarks returns the marks of tenantID, creating their storage on first use. The
	// store stays owned by Stores.
	PermissionMarks(ctx context.Context, tenantID string) (Store, error)
}
