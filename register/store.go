package register

import (
	"context"
	"io"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/ident"
)

// Store keeps one tenant's imported registers. Drivers (sqlite, postgres) implement it;
// registertest.Run checks every clause of this contract.
//
// A Store keeps records as opaque documents: Key is unique within a kind, Person is indexed.
// Stores see no principals: who may import is the Service's business.
type Store interface {
	// Import stores the records next yields into the register kind, all or nothing, and returns
	// how many it stored. With replace the register afterwards holds exactly those records;
	// otherwise they are added and replace stored records with the same key. next returns
	// io.EOF after the last record; any other error aborts the import, which then changes
	// nothing and returns that error. Imports of one kind are serialised; readers see the
	// register before or after an import, never between.
	Import(ctx context.Context, kind Kind, replace bool, next func() (Record, error)) (int, error)
	// All calls fn with the document of every record of kind, in no particular order.
	All(ctx context.Context, kind Kind, fn func(doc []byte) error) error
	// ByPerson calls fn with the document of every record of kind whose Person is one of persons.
	ByPerson(ctx context.Context, kind Kind, persons []string, fn func(doc []byte) error) error
	// Count returns the number of records of kind.
	Count(ctx context.Context, kind Kind) (int, error)
	// Delete removes the record of kind with key; CodeNotFound when there is none. It waits for
	// an import of the kind in progress, like an import does.
	Delete(ctx context.Context, kind Kind, key string) error
}

// Stores gives access to each tenant's register store.
type Stores interface {
	// Registers returns the register store of tenantID, creating it on first use. The store
	// stays owned by Stores.
	Registers(ctx context.Context, tenantID string) (Store, error)
}

// Registers reads a Store's documents as typed records: the Source that log controls use when a
// tenant imports its registers.
type Registers struct{ Store Store }

var _ Source = Registers{}

func each[T any](kind Kind, fn func(*T) error) func([]byte) error {
	return func(doc []byte) error {
		v, err := parseDoc(kind, doc)
		if err != nil {
			return err
		}
		return fn(v.(*T))
	}
}

func keys(ids []ident.PersonID) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if k := id.Kind(); k == ident.PersonalIdentityNumber || k == ident.CoordinationNumber {
			out = append(out, id.Extension())
		}
	}
	return out
}

// Staff implements Source.
func (r Registers) Staff(ctx context.Context, fn func(*Staff) error) error {
	return r.Store.All(ctx, KindStaff, each(KindStaff, fn))
}

// Persons implements Source.
func (r Registers) Persons(ctx context.Context, ids []ident.PersonID, fn func(*Person) error) error {
	return r.Store.ByPerson(ctx, KindPersons, keys(ids), each(KindPersons, fn))
}

// Watchlist implements Source.
func (r Registers) Watchlist(ctx context.Context, fn func(*WatchEntry) error) error {
	return r.Store.All(ctx, KindWatchlist, each(KindWatchlist, fn))
}

// Cases implements Source.
func (r Registers) Cases(ctx context.Context, patients []ident.PersonID, fn func(*Case) error) error {
	return r.Store.ByPerson(ctx, KindCases, keys(patients), each(KindCases, fn))
}

// Units implements Source.
func (r Registers) Units(ctx context.Context, fn func(*Unit) error) error {
	return r.Store.All(ctx, KindUnits, each(KindUnits, fn))
}

// Service imports registers for the callers allowed to: a system token of the tenant with the
// writer role, the credential producing systems already hold. Reference data decides which
// accesses get flagged, so readers of the log cannot change it; of the registers only the watch
// list is also edited by people, one entry at a time and recorded in the log (package
// watchlist), since no national source holds it.
type Service struct {
	Stores Stores
	Now    func() time.Time // defaults to time.Now
}

// ImportReport is the outcome of a successful import.
type ImportReport struct {
	Kind     Kind `json:"kind"`
	Mode     Mode `json:"mode"`
	Imported int  `json:"imported"`
	Total    int  `json:"total"` // records the register holds afterwards
}

// Import reads records of kind from r (JSON array or NDJSON) and stores them in the caller's
// tenant by mode, all or nothing. See Decoder.Next for the errors of bad input.
func (s *Service) Import(ctx context.Context, kind Kind, mode Mode, r io.Reader) (ImportReport, error) {
	p := vakt.PrincipalFrom(ctx)
	if p == nil {
		return ImportReport{}, vakt.Errorf(vakt.CodeUnauthorized, "authentication required")
	}
	if p.Kind != vakt.PrincipalSystem || !p.Has(vakt.RoleWriter) {
		return ImportReport{}, vakt.Errorf(vakt.CodeForbidden, "registers are imported with a system token that has the writer role")
	}
	return s.ImportTenant(ctx, p.TenantID, kind, mode, r)
}

// ImportTenant imports into tenantID without looking at the caller: for the operator's CLI,
// which acts with the data directory's or database's own authority.
func (s *Service) ImportTenant(ctx context.Context, tenantID string, kind Kind, mode Mode, r io.Reader) (ImportReport, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	st, err := s.Stores.Registers(ctx, tenantID)
	if err != nil {
		return ImportReport{}, err
	}
	dec := NewDecoder(r, kind, now())
	n, err := st.Import(ctx, kind, mode == ModeReplace, dec.Next)
	if err != nil {
		return ImportReport{}, err
	}
	total, err := st.Count(ctx, kind)
	if err != nil {
		return ImportReport{}, err
	}
	return ImportReport{Kind: kind, Mode: mode, Imported: n, Total: total}, nil
}
