package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
)

// searchSQL builds the statement of a query: one parameterised SELECT, newest first by
// (start_date, seq), that the planner serves from the index of the query's most selective
// filter: patient (entry_patients), user, care unit, or time. Filter values only ever travel
// as parameters.
func (s *Store) searchSQL(q *accesslog.Query, limit int) (string, []any) {
	var b strings.Builder
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	// t is the table whose (start_date, seq) drives the order: entry_patients when searching
	// by patient, so that its index gives the order without a sort.
	t := "e"
	if !q.PatientID.IsZero() {
		t = "p"
		b.WriteString(`SELECT e.seq, e.received_at, e.start_date, e.doc FROM ` + s.schema + `.entry_patients p JOIN ` + s.schema +
			`.entries e ON e.seq = p.seq AND e.received_at = p.received_at WHERE p.patient = ` + arg(patientKey(q.PatientID)))
	} else {
		b.WriteString(`SELECT e.seq, e.received_at, e.start_date, e.doc FROM ` + s.schema + `.entries e WHERE true`)
	}
	if q.UserID != "" {
		b.WriteString(` AND e.user_id = ` + arg(string(q.UserID)))
	}
	if q.CareUnitID != "" {
		b.WriteString(` AND e.care_unit_id = ` + arg(string(q.CareUnitID)))
	}
	if q.CareProviderID != "" {
		b.WriteString(` AND e.care_provider_id = ` + arg(string(q.CareProviderID)))
	}
	if q.ActivityType != "" {
		b.WriteString(` AND e.activity = ` + arg(strings.ToLower(string(q.ActivityType))))
	}
	if !q.From.IsZero() {
		b.WriteString(` AND ` + t + `.start_date >= ` + arg(accesslog.CeilMicro(q.From)))
	}
	if !q.To.IsZero() {
		b.WriteString(` AND ` + t + `.start_date < ` + arg(accesslog.CeilMicro(q.To)))
	}
	if !q.After.IsZero() {
		b.WriteString(` AND (` + t + `.start_date, ` + t + `.seq) < (` + arg(q.After.StartDate) + `, ` + arg(q.After.Seq) + `)`)
	}
	b.WriteString(` ORDER BY ` + t + `.start_date DESC, ` + t + `.seq DESC LIMIT ` + arg(limit))
	return b.String(), args
}

// Search implements accesslog.Store.
func (s *Store) Search(ctx context.Context, q accesslog.Query) (accesslog.Page, error) {
	if err := q.Validate(); err != nil {
		return accesslog.Page{}, err
	}
	limit := q.PageSize()
	stmt, args := s.searchSQL(&q, limit)
	rows, err := s.pool.Query(ctx, stmt, args...)
	if err != nil {
		return accesslog.Page{}, translate(err, "search")
	}
	defer rows.Close()
	var page accesslog.Page
	var last accesslog.Cursor
	for rows.Next() {
		var st accesslog.Stored
		if err := rows.Scan(&st.Seq, &st.ReceivedAt, &last.StartDate, &st.JSON); err != nil {
			return accesslog.Page{}, translate(err, "search")
		}
		st.ReceivedAt = st.ReceivedAt.UTC()
		last.Seq = st.Seq
		page.Entries = append(page.Entries, st)
	}
	if err := rows.Err(); err != nil {
		return accesslog.Page{}, translate(err, "search")
	}
	if len(page.Entries) == limit {
		page.Next = last
	}
	return page, nil
}

// Export implements accesslog.Store, a page of Search at a time.
func (s *Store) Export(ctx context.Context, q accesslog.Query, fn func(*accesslog.Stored) error) error {
	q.Limit = accesslog.MaxLimit
	q.After = accesslog.Cursor{}
	for {
		page, err := s.Search(ctx, q)
		if err != nil {
			return err
		}
		for i := range page.Entries {
			if err := fn(&page.Entries[i]); err != nil {
				return err
			}
		}
		if page.Next.IsZero() {
			return nil
		}
		q.After = page.Next
	}
}

// Get implements accesslog.Store.
func (s *Store) Get(ctx context.Context, logID string) (accesslog.Stored, error) {
	var st accesslog.Stored
	err := s.pool.QueryRow(ctx, s.sql.get, logID).Scan(&st.Seq, &st.ReceivedAt, &st.JSON)
	if errors.Is(err, pgx.ErrNoRows) {
		return accesslog.Stored{}, notFound()
	}
	if err != nil {
		return accesslog.Stored{}, translate(err, "get entry")
	}
	st.ReceivedAt = st.ReceivedAt.UTC()
	return st, nil
}

func notFound() error { return vakt.Errorf(vakt.CodeNotFound, "no entry with that logId") }

// readRows reads entries by a statement whose two parameters bound seq.
func (s *Store) readRows(ctx context.Context, q querier, stmt string, lo, hi int64) ([]accesslog.Stored, error) {
	rows, err := q.Query(ctx, stmt, lo, hi)
	if err != nil {
		return nil, translate(err, "read entries")
	}
	defer rows.Close()
	var out []accesslog.Stored
	for rows.Next() {
		var st accesslog.Stored
		if err := rows.Scan(&st.Seq, &st.ReceivedAt, &st.JSON); err != nil {
			return nil, translate(err, "read entries")
		}
		st.ReceivedAt = st.ReceivedAt.UTC()
		out = append(out, st)
	}
	return out, translate(rows.Err(), "read entries")
}

// Stats implements accesslog.Store: the entries are the head's size, the bytes those of every
// table and index in the tenant's schema.
func (s *Store) Stats(ctx context.Context) (accesslog.Stats, error) {
	var st accesslog.Stats
	err := s.pool.QueryRow(ctx, `SELECT (SELECT size FROM `+s.schema+`.head),
		(SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c
		 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r')`, s.name).Scan(&st.Entries, &st.DiskBytes)
	return st, translate(err, "read stats")
}

// Internals describes a store's inner workings for metrics.
type Internals struct {
	Commits     int64
	CommitTotal time.Duration
}

// Internals returns counters of the store's work so far.
func (s *Store) Internals() Internals {
	return Internals{Commits: s.commits.Load(), CommitTotal: time.Duration(s.commitNanos.Load())}
}
