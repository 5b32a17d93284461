package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/auth"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/tenant"
)

// Registry holds the tenants of a data directory and the credentials of their systems. It
// implements tenant.Directory and auth.CredentialStore. Tenants and tokens created or revoked by
// the CLI while a server runs take effect at once: lookups are cached only until anything in
// the file changes, which SQLite's data_version tells on every call (see fresh).
type Registry struct {
	db *sql.DB

	mu      sync.Mutex
	watch   *sql.Conn // a connection of its own, for PRAGMA data_version
	version int64
	tenants map[string]tenant.Tenant
	creds   map[string]auth.Credential // by token hash
}

var (
	_ tenant.Directory     = (*Registry)(nil)
	_ auth.CredentialStore = (*Registry)(nil)
)

// OpenRegistry opens (creating if needed) the registry database at path.
func OpenRegistry(ctx context.Context, path string) (*Registry, error) {
	db, err := openDB(path, connConfig{maxConns: 4, cacheKiB: 2048})
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, db, "registry"); err != nil {
		db.Close()
		return nil, err
	}
	watch, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, translate(err, "open registry")
	}
	return &Registry{db: db, watch: watch}, nil
}

// Close closes the registry.
func (r *Registry) Close() error {
	r.watch.Close()
	return r.db.Close()
}

// maxCached bounds each cache; registries hold tens of tenants and hundreds of credentials.
const maxCached = 10000

// fresh empties the caches if the file changed since they were filled, and reports whether
// they may be used. PRAGMA data_version on one connection changes whenever any other
// connection, in this process or another, commits a change. The caller holds r.mu.
func (r *Registry) fresh(ctx context.Context) bool {
	var v int64
	if err := r.watch.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
		return false
	}
	if v != r.version || r.tenants == nil {
		r.version = v
		r.tenants = map[string]tenant.Tenant{}
		r.creds = map[string]auth.Credential{}
	}
	return true
}

// CreateTenant implements tenant.Directory.
func (r *Registry) CreateTenant(ctx context.Context, t tenant.Tenant) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = time.Now()
	}
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return translate(err, "begin")
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO tenants(id, name, allow_reserve, created_at) VALUES (?, ?, ?, ?)`,
		t.ID, t.Name, t.AllowReserveIDs, t.CreatedAt.UnixMicro()); err != nil {
		if isUniqueViolation(err) {
			return vakt.Errorf(vakt.CodeConflict, "tenant %q already exists", t.ID)
		}
		return translate(err, "insert tenant")
	}
	for i, cp := range t.CareProviders {
		if _, err := tx.ExecContext(ctx, `INSERT INTO tenant_care_providers(hsa_id, tenant_id, position) VALUES (?, ?, ?)`,
			string(cp), t.ID, i); err != nil {
			if isUniqueViolation(err) {
				return vakt.Errorf(vakt.CodeConflict, "care provider %s already belongs to a tenant", cp)
			}
			return translate(err, "insert care provider")
		}
	}
	return translate(tx.Commit(), "commit tenant")
}

// Tenant implements tenant.Directory.
func (r *Registry) Tenant(ctx context.Context, id string) (tenant.Tenant, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ok := r.fresh(ctx)
	if t, hit := r.tenants[id]; ok && hit {
		return t.Clone(), nil
	}
	t, err := r.readTenant(ctx, id)
	if err == nil && ok && len(r.tenants) < maxCached {
		r.tenants[id] = t.Clone()
	}
	return t, err
}

func (r *Registry) readTenant(ctx context.Context, id string) (tenant.Tenant, error) {
	var t tenant.Tenant
	var created int64
	err := r.db.QueryRowContext(ctx, `SELECT id, name, allow_reserve, created_at FROM tenants WHERE id = ?`, id).
		Scan(&t.ID, &t.Name, &t.AllowReserveIDs, &created)
	if err == sql.ErrNoRows {
		return tenant.Tenant{}, vakt.Errorf(vakt.CodeNotFound, "no such tenant")
	}
	if err != nil {
		return tenant.Tenant{}, translate(err, "read tenant")
	}
	t.CreatedAt = time.UnixMicro(created).UTC()
	rows, err := r.db.QueryContext(ctx, `SELECT hsa_id FROM tenant_care_providers WHERE tenant_id = ? ORDER BY position`, id)
	if err != nil {
		return tenant.Tenant{}, translate(err, "read care providers")
	}
	defer rows.Close()
	for rows.Next() {
		var cp string
		if err := rows.Scan(&cp); err != nil {
			return tenant.Tenant{}, translate(err, "read care provider")
		}
		t.CareProviders = append(t.CareProviders, ident.HSAID(cp))
	}
	return t, translate(rows.Err(), "read care providers")
}

// Tenants implements tenant.Directory.
func (r *Registry) Tenants(ctx context.Context) ([]tenant.Tenant, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT id FROM tenants ORDER BY id`)
	if err != nil {
		return nil, translate(err, "list tenants")
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, translate(err, "list tenants")
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
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
	_, err := r.db.ExecContext(ctx, `INSERT INTO credentials(id, tenant_id, role, label, token_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		c.ID, c.TenantID, string(c.Role), c.Label, tokenHash, c.CreatedAt.UnixMicro())
	if isForeignKeyViolation(err) {
		return vakt.Errorf(vakt.CodeNotFound, "no such tenant")
	}
	if isUniqueViolation(err) {
		return vakt.Errorf(vakt.CodeConflict, "credential already exists")
	}
	return translate(err, "insert credential")
}

// CredentialByHash implements auth.CredentialStore. Unknown hashes are not cached, so guessing
// tokens cannot fill the cache.
func (r *Registry) CredentialByHash(ctx context.Context, tokenHash []byte) (auth.Credential, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ok := r.fresh(ctx)
	if c, hit := r.creds[string(tokenHash)]; ok && hit {
		return c, nil
	}
	c, err := r.readCredential(ctx, tokenHash)
	if err == nil && ok && len(r.creds) < maxCached {
		r.creds[string(tokenHash)] = c
	}
	return c, err
}

func (r *Registry) readCredential(ctx context.Context, tokenHash []byte) (auth.Credential, error) {
	row := r.db.QueryRowContext(ctx, `SELECT id, tenant_id, role, label, created_at, revoked_at FROM credentials WHERE token_hash = ?`, tokenHash)
	c, err := scanCredential(row.Scan)
	if err == sql.ErrNoRows {
		return auth.Credential{}, vakt.Errorf(vakt.CodeNotFound, "no such credential")
	}
	return c, translate(err, "read credential")
}

// Credentials implements auth.CredentialStore.
func (r *Registry) Credentials(ctx context.Context, tenantID string) ([]auth.Credential, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT id, tenant_id, role, label, created_at, revoked_at FROM credentials
		WHERE ? = '' OR tenant_id = ? ORDER BY tenant_id, created_at, id`, tenantID, tenantID)
	if err != nil {
		return nil, translate(err, "list credentials")
	}
	defer rows.Close()
	var out []auth.Credential
	for rows.Next() {
		c, err := scanCredential(rows.Scan)
		if err != nil {
			return nil, translate(err, "list credentials")
		}
		out = append(out, c)
	}
	return out, translate(rows.Err(), "list credentials")
}

// RevokeCredential implements auth.CredentialStore.
func (r *Registry) RevokeCredential(ctx context.Context, id string, at time.Time) error {
	res, err := r.db.ExecContext(ctx, `UPDATE credentials SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, at.UnixMicro(), id)
	if err != nil {
		return translate(err, "revoke credential")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return vakt.Errorf(vakt.CodeNotFound, "no such credential")
	}
	return nil
}

func scanCredential(scan func(...any) error) (auth.Credential, error) {
	var c auth.Credential
	var role string
	var created int64
	var revoked sql.NullInt64
	if err := scan(&c.ID, &c.TenantID, &role, &c.Label, &created, &revoked); err != nil {
		return auth.Credential{}, err
	}
	c.Role = vakt.Role(role)
	c.CreatedAt = time.UnixMicro(created).UTC()
	if revoked.Valid {
		c.RevokedAt = time.UnixMicro(revoked.Int64).UTC()
	}
	return c, nil
}
