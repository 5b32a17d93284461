package postgres

import (
	"context"
	"testing"

	"github.com/vakt/vakt/postgres/pgtest"
	"github.com/vakt/vakt/tenant/registrytest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestRegistryConformance(t *testing.T) {
	registrytest.Run(t, registrytest.Harness{
		New: func(t *testing.T) func() registrytest.Registry {
			dsn := pgtest.DSN(t)
			return func() registrytest.Registry {
				r, err := OpenRegistry(context.Background(), dsn)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { r.Close() })
				return r
			}
		},
	})
}

// Nodes that start together migrate once: the advisory lock serialises them.
func TestRegistryMigratesOnceUnderConcurrentStarts(t *testing.T) {
	dsn := pgtest.DSN(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			r, err := OpenRegistry(context.Background(), dsn)
			if err == nil {
				r.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	r, err := OpenRegistry(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var versions int
	if err := r.pool.QueryRow(context.Background(), `SELECT count(*) FROM vakt.goose_db_version WHERE version_id > 0`).Scan(&versions); err != nil || versions != 1 {
		t.Fatalf("%d versions applied (%v), want 1", versions, err)
	}
}
