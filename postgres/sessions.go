package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vakt/vakt/session"
)

// Sessions is a session.Store in the registry's database, shared by every node of an instance
// (tables web_sessions and web_session_items). Rows are keyed by the SHA-256 of the cookie and
// their contents sealed under it (session.Seal), so that neither a dump nor a reader of the
// database can use or read a session.
//
// A request costs one read by primary key (Get); it writes only when the session changed
// (Update, a compare-and-swap on its version) or its last use is older than
// Limits.TouchAfter. Times come from Limits.Now, not the database, so that nodes and tests
// agree with the clock they were given.
type Sessions struct {
	pool   *pgxpool.Pool
	limits session.Limits
}

var _ session.Store = (*Sessions)(nil)

// Sessions returns the session store on the registry's connections, enforcing l.
func (r *Registry) Sessions(l session.Limits) *Sessions {
	return &Sessions{pool: r.pool, limits: l.WithDefaults()}
}

// Limits returns the bounds the store enforces, defaults filled in.
func (s *Sessions) Limits() session.Limits { return s.limits }

// sessionLabel is the additional data the session row's contents are sealed with; items use
// "item:" and their key.
const sessionLabel = "session"

// live returns the oldest last use and creation time a live session may have at now.
func (s *Sessions) live(now time.Time) (lastSeen, created time.Time) {
	return now.Add(-s.limits.Idle), now.Add(-s.limits.MaxAge)
}

// Create implements session.Store.
func (s *Sessions) Create(ctx context.Context, id string, r session.Record) (session.Record, error) {
	if !session.ValidID(id) {
		return session.Record{}, session.ErrNotFound
	}
	sealed, err := session.Seal(id, sessionLabel, r.Data)
	if err != nil {
		return session.Record{}, err
	}
	key := session.Key(id)
	now := s.limits.Now().UTC().Truncate(time.Microsecond)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// The bound: counting stops at Max, so a full table costs one index scan of Max rows,
		// and only logins and login-page visits create sessions.
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM web_sessions LIMIT $1) s`, s.limits.Max).Scan(&n); err != nil {
			return err
		}
		if n >= s.limits.Max {
			seen, created := s.live(now)
			tag, err := tx.Exec(ctx, `DELETE FROM web_sessions WHERE last_seen < $1 OR created_at < $2`, seen, created)
			if err != nil {
				return err
			}
			if n -= int(tag.RowsAffected()); n >= s.limits.Max {
				if _, err := tx.Exec(ctx, `DELETE FROM web_sessions WHERE id IN (
					SELECT id FROM web_sessions WHERE NOT authenticated ORDER BY last_seen LIMIT $1)`, n-s.limits.Max+1); err != nil {
					return err
				}
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO web_sessions (id, authenticated, created_at, last_seen, version, data)
			VALUES ($1, $2, $3, $3, 1, $4)`, key[:], r.Authenticated, now, sealed)
		return err
	})
	if err != nil {
		return session.Record{}, translate(err, "create session")
	}
	r.Created, r.LastSeen, r.Version = now, now, 1
	return r, nil
}

// Get implements session.Store.
func (s *Sessions) Get(ctx context.Context, id string) (session.Record, error) {
	if !session.ValidID(id) {
		return session.Record{}, session.ErrNotFound
	}
	key := session.Key(id)
	var r session.Record
	var sealed []byte
	err := s.pool.QueryRow(ctx, `SELECT authenticated, created_at, last_seen, version, data FROM web_sessions WHERE id = $1`,
		key[:]).Scan(&r.Authenticated, &r.Created, &r.LastSeen, &r.Version, &sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return session.Record{}, session.ErrNotFound
	}
	if err != nil {
		return session.Record{}, translate(err, "read session")
	}
	now := s.limits.Now().UTC().Truncate(time.Microsecond)
	if s.limits.Expired(&r, now) {
		if _, err := s.pool.Exec(ctx, `DELETE FROM web_sessions WHERE id = $1 AND version = $2`, key[:], r.Version); err != nil {
			return session.Record{}, translate(err, "delete expired session")
		}
		return session.Record{}, session.ErrNotFound
	}
	if r.Data, err = session.Open(id, sessionLabel, sealed); err != nil {
		// A row that does not open under its own cookie was altered in the database.
		return session.Record{}, session.ErrNotFound
	}
	if now.Sub(r.LastSeen) > s.limits.TouchAfter {
		// The touch does not move the version: it changes nothing another node could lose.
		if _, err := s.pool.Exec(ctx, `UPDATE web_sessions SET last_seen = $2 WHERE id = $1 AND last_seen < $2`, key[:], now); err != nil {
			return session.Record{}, translate(err, "touch session")
		}
		r.LastSeen = now
	}
	return r, nil
}

// Update implements session.Store.
func (s *Sessions) Update(ctx context.Context, id string, r session.Record) (session.Record, error) {
	if !session.ValidID(id) {
		return session.Record{}, session.ErrNotFound
	}
	sealed, err := session.Seal(id, sessionLabel, r.Data)
	if err != nil {
		return session.Record{}, err
	}
	key := session.Key(id)
	now := s.limits.Now().UTC().Truncate(time.Microsecond)
	seen, created := s.live(now)
	err = s.pool.QueryRow(ctx, `UPDATE web_sessions SET data = $3, authenticated = $4, version = version + 1, last_seen = $5
		WHERE id = $1 AND version = $2 AND last_seen >= $6 AND created_at >= $7 RETURNING created_at, version`,
		key[:], r.Version, sealed, r.Authenticated, now, seen, created).Scan(&r.Created, &r.Version)
	if errors.Is(err, pgx.ErrNoRows) {
		var n int
		err := s.pool.QueryRow(ctx, `SELECT count(*) FROM web_sessions WHERE id = $1 AND last_seen >= $2 AND created_at >= $3`,
			key[:], seen, created).Scan(&n)
		if err != nil {
			return session.Record{}, translate(err, "read session")
		}
		if n == 0 {
			return session.Record{}, session.ErrNotFound
		}
		return session.Record{}, session.ErrConflict
	}
	if err != nil {
		return session.Record{}, translate(err, "update session")
	}
	r.LastSeen = now
	return r, nil
}

// Delete implements session.Store.
func (s *Sessions) Delete(ctx context.Context, id string) error {
	key := session.Key(id)
	_, err := s.pool.Exec(ctx, `DELETE FROM web_sessions WHERE id = $1`, key[:])
	return translate(err, "delete session")
}

// PutItem implements session.Store.
func (s *Sessions) PutItem(ctx context.Context, id, itemKey string, data []byte) error {
	if !session.ValidID(id) {
		return session.ErrNotFound
	}
	sealed, err := session.Seal(id, "item:"+itemKey, data)
	if err != nil {
		return err
	}
	key := session.Key(id)
	seen, created := s.live(s.limits.Now().UTC())
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// The share lock keeps the session from being deleted (logout on another node) between
		// this check and the insert.
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM web_sessions WHERE id = $1 AND last_seen >= $2 AND created_at >= $3 FOR KEY SHARE`,
			key[:], seen, created).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return session.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO web_session_items (session, key, data) VALUES ($1, $2, $3)
			ON CONFLICT (session, key) DO UPDATE SET data = excluded.data, seq = DEFAULT`, key[:], itemKey, sealed); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM web_session_items WHERE session = $1 AND seq NOT IN (
			SELECT seq FROM web_session_items WHERE session = $1 ORDER BY seq DESC LIMIT $2)`, key[:], s.limits.MaxItems)
		return err
	})
	if errors.Is(err, session.ErrNotFound) || pgCode(err) == foreignKeyViolation {
		return session.ErrNotFound
	}
	return translate(err, "store session item")
}

// Item implements session.Store.
func (s *Sessions) Item(ctx context.Context, id, itemKey string) ([]byte, error) {
	if !session.ValidID(id) {
		return nil, session.ErrNotFound
	}
	key := session.Key(id)
	seen, created := s.live(s.limits.Now().UTC())
	var sealed []byte
	err := s.pool.QueryRow(ctx, `SELECT i.data FROM web_session_items i JOIN web_sessions s ON s.id = i.session
		WHERE i.session = $1 AND i.key = $2 AND s.last_seen >= $3 AND s.created_at >= $4`, key[:], itemKey, seen, created).Scan(&sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, session.ErrNotFound
	}
	if err != nil {
		return nil, translate(err, "read session item")
	}
	data, err := session.Open(id, "item:"+itemKey, sealed)
	if err != nil {
		return nil, session.ErrNotFound
	}
	return data, nil
}

// Sweep implements session.Store.
func (s *Sessions) Sweep(ctx context.Context) (int, error) {
	seen, created := s.live(s.limits.Now().UTC())
	tag, err := s.pool.Exec(ctx, `DELETE FROM web_sessions WHERE last_seen < $1 OR created_at < $2`, seen, created)
	if err != nil {
		return 0, translate(err, "sweep sessions")
	}
	return int(tag.RowsAffected()), nil
}
