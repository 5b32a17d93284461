package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/vakt/vakt/accesslog"
)

// ScanAccesses implements accesslog.Store: one statement over the time index (a consistent
// snapshot, streamed by the driver, so memory stays flat), each row's canonical JSON projected
// straight from the driver's buffer (accesslog.Projector) without decoding the whole entry.
func (s *Store) ScanAccesses(ctx context.Context, from, to time.Time, fn func(*accesslog.Access) error) error {
	fromTS, toTS := accesslog.CeilMicro(from), accesslog.CeilMicro(to)
	if fromTS >= toTS {
		return nil
	}
	rows, err := s.pool.Query(ctx, `SELECT seq, doc FROM `+s.schema+`.entries WHERE start_date >= $1 AND start_date < $2`, fromTS, toTS)
	if err != nil {
		return translate(err, "scan accesses")
	}
	defer rows.Close()
	p := accesslog.NewProjector()
	var a accesslog.Access
	var seq int64
	var doc pgtype.DriverBytes
	for rows.Next() {
		if err := rows.Scan(&seq, &doc); err != nil {
			return translate(err, "scan accesses")
		}
		if err := p.Project(doc, &a); err != nil {
			return fmt.Errorf("postgres: entry %d: %w", seq, err)
		}
		a.Seq = seq
		if err := fn(&a); err != nil {
			return err
		}
	}
	return translate(rows.Err(), "scan accesses")
}
