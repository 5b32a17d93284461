package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/auth"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/tenant"
)

// Registry holds the tenants and system credentials of every node, in schema vakt. It
// implements tenant.Directory and auth.CredentialStore. Nothing is cached: another node, or
// the CLI, may change it at any time, and a revoked token must stop working at once.
type Registry struct {
	pool *pgxpool.Pool
}

var (
	_ tenant.Directory     = (*Registry)(nil)
	_ auth.CredentialStore = (*Registry)(nil)
)

// OpenRegistry connects to the database at dsn and brings the registry's schema up to date.
func OpenRegistry(ctx context.Context, dsn string) (*Registry, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, vakt.Errorf(vakt.CodeInvalid, "the PostgreSQL connection string is not valid: %v", err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = registrySchema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, translate(err, "connect")
	}
	if err := migrate(ctx, pool, registrySchema, "registry"); err != nil {
		pool.Close()
		return nil, err
	}
	return &Registry{pool: pool}, nil
}

// Close closes the registry's connections.
func (r *Registry) Close() error {
	r.pool.Close()
	return nil
}

// Ping checks that the database answers.
func (r *Registry) Ping(ctx context.Context) error { return translate(r.pool.Ping(ctx), "ping") }

// CreateTenant implements tenant.Directory.
func (r *Registry) CreateTenant(ctx context.Context, t tenant.Tenant) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = time.Now()
	}
	return pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO tenants(id, name, allow_reserve, created_at) VALUES ($1, $2, $3, $4)`,
			t.ID, t.Name, t.AllowReserveIDs, t.CreatedAt.Truncate(time.Microsecond)); err != nil {
			if pgCode(err) == uniqueViolation {
				return vakt.Errorf(vakt.CodeConflict, "tenant %q already exists", t.ID)
			}
			return translate(err, "insert tenant")
		}
		for i, cp := range t.CareProviders {
			if _, err := tx.Exec(ctx, `INSERT INTO tenant_care_providers(hsa_id, tenant_id, position) VALUES ($1, $2, $3)`,
				string(cp), t.ID, i); err != nil {
				if pgCode(err) == uniqueViolation {
					return vakt.Errorf(vakt.CodeConflict, "care provider %s already belongs to a tenant", cp)
				}
				return translate(err, "insert care provider")
			}
		}
		return nil
	})
}

// Tenant implements tenant.Directory.
func (r *Registry) Tenant(ctx context.Context, id string) (tenant.Tenant, error) {
	var t tenant.Tenant
	err := r.pool.QueryRow(ctx, `SELECT id, name, allow_reserve, created_at FROM tenants WHERE id = $1`, id).
		Scan(&t.ID, &t.Name, &t.AllowReserveIDs, &t.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return tenant.Tenant{}, vakt.Errorf(vakt.CodeNotFound, "no such tenant")
	}
	if err != nil {
		return tenant.Tenant{}, translate(err, "read tenant")
	}
	t.CreatedAt = t.CreatedAt.UTC()
	rows, err := r.pool.Query(ctx, `SELECT hsa_id FROM tenant_care_providers WHERE tenant_id = $1 ORDER BY position`, id)
	if err != nil {
		return tenant.Tenant{}, translate(err, "read care providers")
	}
	cps, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return tenant.Tenant{}, translate(err, "read care providers")
	}
	for _, cp := range cps {
		t.CareProviders = append(t.CareProviders, ident.HSAID(cp))
	}
	return t, nil
}

// Tenants implements tenant.Directory.
func (r *Registry) Tenants(ctx context.Context) ([]tenant.Tenant, error) {
	rows, err := r.pool.Query(ctx, `SELECT id FROM tenants ORDER BY id`)
	if err != nil {
		return nil, translate(err, "list tenants")
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, translate(err, "list tenants")
	}
	out := make([]tenant.Tenant, 0, len(ids))
	for _, id := range ids {
		t, err := r.Tenant(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// CreateCredential implements auth.CredentialStore.
func (r *Registry) CreateCredential(ctx context.Context, c auth.Credential, tokenHash []byte) error {
	if _, err := vakt.ParseRole(string(c.Role)); err != nil {
		return err
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = time.Now()
	}
	_, err := r.pool.Exec(ctx, `INSERT INTO credentials(id, tenant_id, role, label, token_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		c.ID, c.TenantID, string(c.Role), c.Label, tokenHash, c.CreatedAt.Truncate(time.Microsecond))
	switch pgCode(err) {
	case foreignKeyViolation:
		return vakt.Errorf(vakt.CodeNotFound, "no such tenant")
	case uniqueViolation:
		return vakt.Errorf(vakt.CodeConflict, "credential already exists")
	}
	return translate(err, "insert credential")
}

// CredentialByHash implements auth.CredentialStore.
func (r *Registry) CredentialByHash(ctx context.Context, tokenHash []byte) (auth.Credential, error) {
	c, err := scanCredential(r.pool.QueryRow(ctx, `SELECT id, tenant_id, role, label, created_at, revoked_at FROM credentials WHERE token_hash = $1`, tokenHash))
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.Credential{}, vakt.Errorf(vakt.CodeNotFound, "no such credential")
	}
	return c, translate(err, "read credential")
}

// Credentials implements auth.CredentialStore.
func (r *Registry) Credentials(ctx context.Context, tenantID string) ([]auth.Credential, error) {
	rows, err := r.pool.Query(ctx, `SELECT id, tenant_id, role, label, created_at, revoked_at FROM credentials
		WHERE $1 = '' OR tenant_id = $1 ORDER BY tenant_id, created_at, id`, tenantID)
	if err != nil {
		return nil, translate(err, "list credentials")
	}
	defer rows.Close()
	var out []auth.Credential
	for rows.Next() {
		c, err := scanCredential(rows)
		if err != nil {
			return nil, translate(err, "list credentials")
		}
		out = append(out, c)
	}
	return out, translate(rows.Err(), "list credentials")
}

// RevokeCredential implements auth.CredentialStore. A second revocation keeps the first time.
func (r *Registry) RevokeCredential(ctx context.Context, id string, at time.Time) error {
	tag, err := r.pool.Exec(ctx, `UPDATE credentials SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2`, at.Truncate(time.Microsecond), id)
	if err != nil {
		return translate(err, "revoke credential")
	}
	if tag.RowsAffected() == 0 {
		return vakt.Errorf(vakt.CodeNotFound, "no such credential")
	}
	return nil
}

func scanCredential(row pgx.Row) (auth.Credential, error) {
	var c auth.Credential
	var role string
	var revoked *time.Time
	if err := row.Scan(&c.ID, &c.TenantID, &role, &c.Label, &c.CreatedAt, &revoked); err != nil {
		return auth.Credential{}, err
	}
	c.Role = vakt.Role(role)
	c.CreatedAt = c.CreatedAt.UTC()
	if revoked != nil {
		c.RevokedAt = revoked.UTC()
	}
	return c, nil
}
