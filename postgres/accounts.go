package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

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
	return pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO users(username, tenant_id, name, hsa_id, title, password_hash, must_change, created_at, disabled)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			u.Username, u.TenantID, u.Name, string(u.HSAID), u.Title, passwordHash, u.MustChange, u.CreatedAt.Truncate(time.Microsecond), u.Disabled)
		switch pgCode(err) {
		case foreignKeyViolation:
			return vakt.Errorf(vakt.CodeNotFound, "no such tenant")
		case uniqueViolation:
			return vakt.Errorf(vakt.CodeConflict, "username %q is taken", u.Username)
		}
		if err != nil {
			return translate(err, "insert user")
		}
		return insertUserDetails(ctx, tx, &u)
	})
}

func insertUserDetails(ctx context.Context, tx pgx.Tx, u *account.User) error {
	for i, role := range u.Roles {
		if _, err := tx.Exec(ctx, `INSERT INTO user_roles(username, role, position) VALUES ($1, $2, $3)`, u.Username, string(role), i); err != nil {
			return translate(err, "insert user role")
		}
	}
	for i, cu := range u.CareUnits {
		if _, err := tx.Exec(ctx, `INSERT INTO user_care_units(username, hsa_id, position) VALUES ($1, $2, $3)`, u.Username, string(cu), i); err != nil {
			return translate(err, "insert user care unit")
		}
	}
	return nil
}

// UpdateUser implements account.Store. The row lock of the UPDATE serialises two changes of one
// account, so roles and care units are never a mix of both.
func (r *Registry) UpdateUser(ctx context.Context, u account.User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET name = $1, hsa_id = $2, title = $3 WHERE username = $4 AND tenant_id = $5`,
			u.Name, string(u.HSAID), u.Title, u.Username, u.TenantID)
		if err != nil {
			return translate(err, "update user")
		}
		if tag.RowsAffected() == 0 {
			return vakt.Errorf(vakt.CodeNotFound, "no such account")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM user_roles WHERE username = $1`, u.Username); err != nil {
			return translate(err, "replace user roles")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM user_care_units WHERE username = $1`, u.Username); err != nil {
			return translate(err, "replace user care units")
		}
		return insertUserDetails(ctx, tx, &u)
	})
}

// SetDisabled implements account.Store.
func (r *Registry) SetDisabled(ctx context.Context, tenantID, username string, disabled bool) error {
	tag, err := r.pool.Exec(ctx, `UPDATE users SET disabled = $1 WHERE username = $2 AND tenant_id = $3`, disabled, username, tenantID)
	if err != nil {
		return translate(err, "set disabled")
	}
	if tag.RowsAffected() == 0 {
		return vakt.Errorf(vakt.CodeNotFound, "no such account")
	}
	return nil
}

// DeleteUser implements account.Store. Roles and care units go with the account (ON DELETE
// CASCADE).
func (r *Registry) DeleteUser(ctx context.Context, tenantID, username string) error {
	tag, err := r.pool.Exec(ctx, `DELETE FROM users WHERE username = $1 AND tenant_id = $2`, username, tenantID)
	if err != nil {
		return translate(err, "delete user")
	}
	if tag.RowsAffected() == 0 {
		return vakt.Errorf(vakt.CodeNotFound, "no such account")
	}
	return nil
}

const userColumns = `username, tenant_id, name, hsa_id, title, password_hash, must_change, created_at, disabled,
	ARRAY(SELECT role FROM user_roles ur WHERE ur.username = users.username ORDER BY position),
	ARRAY(SELECT hsa_id FROM user_care_units uc WHERE uc.username = users.username ORDER BY position)`

// UserByName implements account.Store.
func (r *Registry) UserByName(ctx context.Context, username string) (account.User, string, error) {
	u, hash, err := scanUser(r.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE username = $1`, username))
	if errors.Is(err, pgx.ErrNoRows) {
		return account.User{}, "", vakt.Errorf(vakt.CodeNotFound, "no such account")
	}
	return u, hash, translate(err, "read user")
}

// Users implements account.Store.
func (r *Registry) Users(ctx context.Context, tenantID string) ([]account.User, error) {
	rows, err := r.pool.Query(ctx, `SELECT `+userColumns+` FROM users WHERE $1 = '' OR tenant_id = $1 ORDER BY tenant_id, username`, tenantID)
	if err != nil {
		return nil, translate(err, "list users")
	}
	defer rows.Close()
	var out []account.User
	for rows.Next() {
		u, _, err := scanUser(rows)
		if err != nil {
			return nil, translate(err, "list users")
		}
		out = append(out, u)
	}
	return out, translate(rows.Err(), "list users")
}

// SetPassword implements account.Store.
func (r *Registry) SetPassword(ctx context.Context, username, passwordHash string, mustChange bool) error {
	tag, err := r.pool.Exec(ctx, `UPDATE users SET password_hash = $1, must_change = $2 WHERE username = $3`, passwordHash, mustChange, username)
	if err != nil {
		return translate(err, "set password")
	}
	if tag.RowsAffected() == 0 {
		return vakt.Errorf(vakt.CodeNotFound, "no such account")
	}
	return nil
}

func scanUser(row pgx.Row) (account.User, string, error) {
	var u account.User
	var hsa, hash string
	var roles, units []string
	if err := row.Scan(&u.Username, &u.TenantID, &u.Name, &hsa, &u.Title, &hash, &u.MustChange, &u.CreatedAt, &u.Disabled, &roles, &units); err != nil {
		return account.User{}, "", err
	}
	u.HSAID = ident.HSAID(hsa)
	u.CreatedAt = u.CreatedAt.UTC()
	for _, r := range roles {
		u.Roles = append(u.Roles, vakt.Role(r))
	}
	for _, cu := range units {
		u.CareUnits = append(u.CareUnits, ident.HSAID(cu))
	}
	return u, hash, nil
}
