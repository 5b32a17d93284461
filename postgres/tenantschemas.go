package postgres

import (
	"context"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/tenant"
)

// tenantSchemas gives the per-tenant stores beside the log (registers, control register) their
// tenant's schema, created and migrated on a tenant's first use, on a pool of their own or one
// they share with Stores.
type tenantSchemas struct {
	pool    *pgxpool.Pool
	ownPool bool

	mu       sync.Mutex
	migrated map[string]bool
}

// openTenantSchemas connects to the database at dsn with a pool of its own.
func openTenantSchemas(ctx context.Context, dsn string) (*tenantSchemas, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, vakt.Errorf(vakt.CodeInvalid, "the PostgreSQL connection string is not valid: %v", err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = "pg_catalog"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, translate(err, "connect")
	}
	return &tenantSchemas{pool: pool, ownPool: true, migrated: map[string]bool{}}, nil
}

func sharedTenantSchemas(pool *pgxpool.Pool) *tenantSchemas {
	return &tenantSchemas{pool: pool, migrated: map[string]bool{}}
}

// schema returns tenantID's schema name, migrated.
func (t *tenantSchemas) schema(ctx context.Context, tenantID string) (string, error) {
	if err := tenant.ValidateID(tenantID); err != nil {
		return "", err
	}
	schema := SchemaName(tenantID)
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.migrated[schema] {
		if err := migrate(ctx, t.pool, schema, "tenant"); err != nil {
			return "", err
		}
		t.migrated[schema] = true
	}
	return schema, nil
}

// Close closes the connections if they are its own.
func (t *tenantSchemas) Close() error {
	if t.ownPool {
		t.pool.Close()
	}
	return nil
}
