package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/accesslog/accesslogtest"
	"github.com/vakt/vakt/postgres/pgtest"
)

var testSigning = Signing{Instance: "test.vakt", Secret: []byte("a test secret of at least 32 bytes")}

// openTestStores opens stores on dsn with a long checkpoint interval, so that tests decide
// when checkpoints are signed.
func openTestStores(t testing.TB, dsn string, opts LogOptions) *Stores {
	t.Helper()
	if opts.CheckpointInterval == 0 {
		opts.CheckpointInterval = time.Hour
	}
	ss, err := OpenStores(context.Background(), dsn, testSigning, opts)
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

// ownedStore closes its Stores with it, so that each open of the suite is a node starting.
type ownedStore struct {
	*Store
	stores *Stores
}

func (o ownedStore) Close() error { return o.stores.Close() }

func TestLogStoreConformance(t *testing.T) {
	accesslogtest.Run(t, accesslogtest.Harness{
		New: func(t *testing.T) func() accesslog.Store {
			dsn := pgtest.DSN(t)
			return func() accesslog.Store {
				ss := openTestStores(t, dsn, LogOptions{})
				st, err := ss.store(context.Background(), "tenant")
				if err != nil {
					t.Fatal(err)
				}
				return ownedStore{st, ss}
			}
		},
	})
}
