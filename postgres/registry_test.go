package postgres

import (
	"context"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/tenant"

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
	files, err := fs.ReadDir(migrations, "migrations/registry")
	if err != nil {
		t.Fatal(err)
	}
	var versions int
	if err := r.pool.QueryRow(context.Background(), `SELECT count(*) FROM vakt.goose_db_version WHERE version_id > 0`).Scan(&versions); err != nil || versions != len(files) {
		t.Fatalf("%d versions applied (%v), want each of the %d once", versions, err, len(files))
	}
}

// While the database is down, calls fail fast as unavailable (503 for clients) with a clear
// message; once it is back, the same registry works again without being reopened.
func TestRegistrySurvivesADatabaseRestart(t *testing.T) {
	c := pgtest.Shared(t)
	ctx := context.Background()
	r, err := OpenRegistry(ctx, pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.CreateTenant(ctx, tenant.Tenant{ID: "t1", Name: "T", CareProviders: []ident.HSAID{"SE2321000016-0001"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Halt("fast"); err != nil {
		t.Fatal(err)
	}
	resumed := false
	defer func() {
		if !resumed {
			c.Resume()
		}
	}()
	callCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	start := time.Now()
	_, err = r.Tenant(callCtx, "t1")
	if vakt.ErrorCode(err) != vakt.CodeUnavailable {
		t.Fatalf("with the database down: %v, want unavailable", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("failing took %v; it must be fast", took)
	}
	if msg := vakt.ErrorMessage(err); !strings.Contains(msg, "database is unavailable") {
		t.Fatalf("message %q", msg)
	}
	if err := c.Resume(); err != nil {
		t.Fatal(err)
	}
	resumed = true
	if got, err := r.Tenant(ctx, "t1"); err != nil || got.ID != "t1" {
		t.Fatalf("after the restart: %v %v", got, err)
	}
}
