package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
)

// queryDocs runs a query whose one column is a JSON document and decodes every row into a T,
// in the query's order; an empty result is an empty slice. what names the read in errors.
func queryDocs[T any](ctx context.Context, db *sql.DB, what, query string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, translate(err, what)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return nil, translate(err, what)
		}
		var v T
		if err := json.Unmarshal(doc, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, translate(rows.Err(), what)
}
