// Package tenant describes the customers of a vakt instance. A tenant is one customer instance
// (Inera's "Utökad loggtjänst" gives each care provider such an instance): it owns one or more
// care providers, and every log entry belongs to the tenant that owns the entry's
// user.careProvider. A tenant's data is stored apart from every other tenant's, can be exported
// whole and deleted whole.
//
// The package holds types and rules only; drivers implement Directory.
package tenant

import (
	"context"
	"slices"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/ident"
)

// Tenant is one customer instance.
type Tenant struct {
	ID              string        // stable, URL- and file-name-safe: [a-z0-9][a-z0-9-]{0,62}
	Name            string        // for people, e.g. "Region Exempel"
	CareProviders   []ident.HSAID // vårdgivare whose entries this tenant holds; each in one tenant only
	AllowReserveIDs bool          // accept reserve numbers (reservnummer) as person identifiers
	CreatedAt       time.Time
}

// MaxNameLen bounds a tenant's display name.
const MaxNameLen = 256

// ValidateID checks a tenant id. Ids name database files and schemas, so the alphabet is narrow.
func ValidateID(id string) error {
	if id == "" {
		return vakt.Invalid("tenant id is required", vakt.Problem{Index: -1, Field: "id", Reason: "is required"})
	}
	if len(id) > 63 {
		return vakt.Invalid("tenant id is too long", vakt.Problem{Index: -1, Field: "id", Reason: "is longer than 63 characters"})
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || (c == '-' && i > 0)
		if !ok {
			return vakt.Invalid("tenant id has characters outside a-z, 0-9 and '-'",
				vakt.Problem{Index: -1, Field: "id", Reason: "must be lower-case letters, digits and '-' (not first)"})
		}
	}
	return nil
}

// Validate checks t before it is created.
func (t *Tenant) Validate() error {
	if err := ValidateID(t.ID); err != nil {
		return err
	}
	var probs []vakt.Problem
	if t.Name == "" {
		probs = append(probs, vakt.Problem{Index: -1, Field: "name", Reason: "is required"})
	} else if len([]rune(t.Name)) > MaxNameLen {
		probs = append(probs, vakt.Problem{Index: -1, Field: "name", Reason: "is longer than 256 characters"})
	}
	if len(t.CareProviders) == 0 {
		probs = append(probs, vakt.Problem{Index: -1, Field: "careProviders", Reason: "must name at least one care provider"})
	}
	seen := map[ident.HSAID]bool{}
	for i, cp := range t.CareProviders {
		if _, err := ident.ParseHSAID(string(cp)); err != nil {
			probs = append(probs, vakt.Problem{Index: i, Field: "careProviders", Reason: err.Error()})
		}
		if seen[cp] {
			probs = append(probs, vakt.Problem{Index: i, Field: "careProviders", Reason: "is named twice"})
		}
		seen[cp] = true
	}
	if len(probs) > 0 {
		return vakt.Invalid("tenant is invalid", probs...)
	}
	return nil
}

// Owns reports whether the tenant holds the entries of care provider cp.
func (t *Tenant) Owns(cp ident.HSAID) bool {
	return slices.Contains(t.CareProviders, cp)
}

// Directory stores tenants. Implementations must be safe for concurrent use and must let
// changes made by another process on the same storage (the CLI while a server runs) become
// visible without a restart.
type Directory interface {
	// CreateTenant stores t. CodeConflict if the id exists or one of its care providers already
	// belongs to a tenant; CodeInvalid if t does not validate.
	CreateTenant(ctx context.Context, t Tenant) error
	// Tenant returns the tenant with id, or CodeNotFound.
	Tenant(ctx context.Context, id string) (Tenant, error)
	// Tenants returns all tenants ordered by id.
	Tenants(ctx context.Context) ([]Tenant, error)
}

// Clone returns a copy of t that shares no memory with it.
func (t Tenant) Clone() Tenant {
	t.CareProviders = slices.Clone(t.CareProviders)
	return t
}
