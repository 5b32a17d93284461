package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The log tables are partitioned by month of receivedAt (UTC). A partition must exist before a
// writer commits into its month, so every store creates the current month and MonthsAhead
// months after it when it opens, and again whenever a commit finds its month missing (the
// first commit of a new month on a node that has run since the last). Nodes that do this at
// the same time are serialised by an advisory lock on the schema.

// partitionedTables are the tables partitioned by month.
var partitionedTables = []string{"entries", "entry_patients"}

// partitionName names the partition of table that holds month t: entries_y2026m11.
func partitionName(table string, t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("%s_y%04dm%02d", table, t.Year(), int(t.Month()))
}

func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// ensurePartitions creates the partitions of the month of at and the MonthsAhead months after
// it, where they do not exist yet.
func (s *Store) ensurePartitions(ctx context.Context, at time.Time) error {
	var want []time.Time
	for m := range s.opts.MonthsAhead + 1 {
		month := monthStart(at).AddDate(0, m, 0)
		if !s.months[partitionName("entries", month)] {
			want = append(want, month)
		}
	}
	if len(want) == 0 {
		return nil
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "vakt partitions "+s.name); err != nil {
			return err
		}
		for _, month := range want {
			from, to := month, month.AddDate(0, 1, 0)
			for _, table := range partitionedTables {
				part := pgx.Identifier{s.name, partitionName(table, month)}.Sanitize()
				parent := pgx.Identifier{s.name, table}.Sanitize()
				// Bounds are literals: DDL takes no parameters, and these come from time values.
				sql := fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF %s FOR VALUES FROM ('%s') TO ('%s')`,
					part, parent, from.Format(time.RFC3339), to.Format(time.RFC3339))
				if _, err := tx.Exec(ctx, sql); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return translate(err, "create partitions")
	}
	for _, month := range want {
		s.months[partitionName("entries", month)] = true
	}
	return nil
}

// Partitions lists the months that have partitions, oldest first, as the operator sees them
// for archiving: the partition names of the entries table.
func (s *Store) Partitions(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT c.relname FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid
		JOIN pg_class p ON p.oid = i.inhparent
		JOIN pg_namespace n ON n.oid = p.relnamespace
		WHERE n.nspname = $1 AND p.relname = 'entries' ORDER BY c.relname`, s.name)
	if err != nil {
		return nil, translate(err, "list partitions")
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return names, translate(err, "list partitions")
}
