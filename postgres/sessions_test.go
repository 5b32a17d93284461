package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/vakt/vakt/postgres/pgtest"
	"github.com/vakt/vakt/session"
	"github.com/vakt/vakt/session/sessiontest"
)

// Two registries on one database are two nodes: each has its own connections.
func TestSessionsConformance(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T, l session.Limits) (session.Store, session.Store) {
		dsn := pgtest.DSN(t)
		var out [2]session.Store
		for i := range out {
			r, err := OpenRegistry(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			out[i] = r.Sessions(l)
		}
		return out[0], out[1]
	})
}

// TestSessionsDump: what the tables hold, read as a dump would, names no cookie, no username,
// no CSRF token and no personnummer of a search.
func TestSessionsDump(t *testing.T) {
	ctx := context.Background()
	r, err := OpenRegistry(ctx, pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s := r.Sessions(session.Limits{})
	id, csrf := sessiontest.NewID(), sessiontest.NewID()
	if _, err := s.Create(ctx, id, session.Record{Authenticated: true, Data: []byte(`{"csrf":"` + csrf + `","username":"greta.granskare"}`)}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutItem(ctx, id, "s1", []byte(`{"subject":"19121212-1212","patient":"191212121212"}`)); err != nil {
		t.Fatal(err)
	}
	var dump strings.Builder
	for _, q := range []string{`SELECT encode(id, 'escape') || encode(data, 'escape') || t::text FROM web_sessions t`,
		`SELECT encode(data, 'escape') || t::text FROM web_session_items t`} {
		rows, err := r.pool.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			dump.WriteString(line + "\n")
		}
		rows.Close()
	}
	if dump.Len() < 100 {
		t.Fatalf("the dump is nearly empty: %q", dump.String())
	}
	for _, secret := range []string{id, csrf, "greta", "191212", "1212-1212"} {
		if strings.Contains(dump.String(), secret) {
			t.Errorf("the tables show %q", secret)
		}
	}
}
