package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/ident"
)

var _ account.Store = (*Registry)(nil)

// CreateUser implements account.Store.
func (r *Registry) CreateUser(ctx context.Context, u account.User, passwordHash string) error {
	if err := u.Validate(); err != nil {
		return err
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = time.Now()
	}
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return translate(err, "begin")
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `INSERT INTO users(username, tenant_id, name, hsa_id, title, password_hash, must_change, created_at, disabled)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.Username, u.TenantID, u.Name, string(u.HSAID), u.Title, passwordHash, u.MustChange, u.CreatedAt.UnixMicro(), u.Disabled)
	switch {
	case isForeignKeyViolation(err):
		return vakt.Errorf(vakt.CodeNotFound, "no such tenant")
	case isUniqueViolation(err):
		return vakt.Errorf(vakt.CodeConflict, "username %q is taken", u.Username)
	case err != nil:
		return translate(err, "insert user")
	}
	if err := insertUserDetails(ctx, tx, &u); err != nil {
		return err
	}
	return translate(tx.Commit(), "commit user")
}

func insertUserDetails(ctx context.Context, tx *sql.Tx, u *account.User) error {
	for i, role := range u.Roles {
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_roles(username, role, position) VALUES (?, ?, ?)`, u.Username, string(role), i); err != nil {
			return translate(err, "insert user role")
		}
	}
	for i, cu := range u.CareUnits {
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_care_units(username, hsa_id, position) VALUES (?, ?, ?)`, u.Username, string(cu), i); err != nil {
			return translate(err, "insert user care unit")
		}
	}
	return nil
}

// UpdateUser implements account.Store.
func (r *Registry) UpdateUser(ctx context.Context, u account.User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return translate(err, "begin")
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE users SET name = ?, hsa_id = ?, title = ? WHERE username = ? AND tenant_id = ?`,
		u.Name, string(u.HSAID), u.Title, u.Username, u.TenantID)
	if err != nil {
		return translate(err, "update user")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return vakt.Errorf(vakt.CodeNotFound, "no such account")
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM user_roles WHERE username = ?`, u.Username); err != nil {
		return translate(err, "replace user roles")
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM user_care_units WHERE username = ?`, u.Username); err != nil {
		return translate(err, "replace user care units")
	}
	if err := insertUserDetails(ctx, tx, &u); err != nil {
		return err
	}
	return translate(tx.Commit(), "commit user")
}

// SetDisabled implements account.Store.
func (r *Registry) SetDisabled(ctx context.Context, tenantID, username string, disabled bool) error {
	res, err := r.db.ExecContext(ctx, `UPDATE users SET disabled = ? WHERE username = ? AND tenant_id = ?`, disabled, username, tenantID)
	if err != nil {
		return translate(err, "set disabled")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return vakt.Errorf(vakt.CodeNotFound, "no such account")
	}
	return nil
}

// DeleteUser implements account.Store. Roles and care units go with the account (ON DELETE
// CASCADE).
func (r *Registry) DeleteUser(ctx context.Context, tenantID, username string) error {
	res, err := r.db.ExecContext(ctx, `DELETE FROM users WHERE username = ? AND tenant_id = ?`, username, tenantID)
	if err != nil {
		return translate(err, "delete user")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return vakt.Errorf(vakt.CodeNotFound, "no such account")
	}
	return nil
}

// UserByName implements account.Store. Accounts are not cached: a login hashes for far longer
// than the three indexed reads take, and a web session re-reads its account on every request so
// that a changed or removed account takes effect at once.
func (r *Registry) UserByName(ctx context.Context, username string) (account.User, string, error) {
	row := r.db.QueryRowContext(ctx, `SELECT username, tenant_id, name, hsa_id, title, password_hash, must_change, created_at, disabled
		FROM users WHERE username = ?`, username)
	u, hash, err := scanUser(row.Scan)
	if err == sql.ErrNoRows {
		return account.User{}, "", vakt.Errorf(vakt.CodeNotFound, "no such account")
	}
	if err != nil {
		return account.User{}, "", translate(err, "read user")
	}
	if err := r.userDetails(ctx, &u); err != nil {
		return account.User{}, "", err
	}
	return u, hash, nil
}

func (r *Registry) userDetails(ctx context.Context, u *account.User) error {
	rows, err := r.db.QueryContext(ctx, `SELECT role FROM user_roles WHERE username = ? ORDER BY position`, u.Username)
	if err != nil {
		return translate(err, "read user roles")
	}
	for rows.Next() {
		var role string
		if err := rows.Scan(&role); err != nil {
			rows.Close()
			return translate(err, "read user roles")
		}
		u.Roles = append(u.Roles, vakt.Role(role))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return translate(err, "read user roles")
	}
	rows, err = r.db.QueryContext(ctx, `SELECT hsa_id FROM user_care_units WHERE username = ? ORDER BY position`, u.Username)
	if err != nil {
		return translate(err, "read user care units")
	}
	defer rows.Close()
	for rows.Next() {
		var cu string
		if err := rows.Scan(&cu); err != nil {
			return translate(err, "read user care units")
		}
		u.CareUnits = append(u.CareUnits, ident.HSAID(cu))
	}
	return translate(rows.Err(), "read user care units")
}

// Users implements account.Store.
func (r *Registry) Users(ctx context.Context, tenantID string) ([]account.User, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT username, tenant_id, name, hsa_id, title, password_hash, must_change, created_at, disabled
		FROM users WHERE ? = '' OR tenant_id = ? ORDER BY tenant_id, username`, tenantID, tenantID)
	if err != nil {
		return nil, translate(err, "list users")
	}
	var out []account.User
	for rows.Next() {
		u, _, err := scanUser(rows.Scan)
		if err != nil {
			rows.Close()
			return nil, translate(err, "list users")
		}
		out = append(out, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, translate(err, "list users")
	}
	for i := range out {
		if err := r.userDetails(ctx, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SetPassword implements account.Store.
func (r *Registry) SetPassword(ctx context.Context, username, passwordHash string, mustChange bool) error {
	res, err := r.db.ExecContext(ctx, `UPDATE users SET password_hash = ?, must_change = ? WHERE username = ?`, passwordHash, mustChange, username)
	if err != nil {
		return translate(err, "set password")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return vakt.Errorf(vakt.CodeNotFound, "no such account")
	}
	return nil
}

func scanUser(scan func(...any) error) (account.User, string, error) {
	var u account.User
	var hsa, hash string
	var created int64
	if err := scan(&u.Username, &u.TenantID, &u.Name, &hsa, &u.Title, &hash, &u.MustChange, &created, &u.Disabled); err != nil {
		return account.User{}, "", err
	}
	u.HSAID = ident.HSAID(hsa)
	u.CreatedAt = time.UnixMicro(created).UTC()
	return u, hash, nil
}
