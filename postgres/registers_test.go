package postgres

import (
	"context"
	"testing"

	"github.com/vakt/vakt/logcontrol/logcontroltest"
	"github.com/vakt/vakt/postgres/pgtest"
	"github.com/vakt/vakt/register"
	"github.com/vakt/vakt/register/registertest"
)

func TestRegisterConformance(t *testing.T) {
	registertest.Run(t, func(t *testing.T) register.Stores {
		r, err := OpenRegisters(context.Background(), pgtest.DSN(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r
	})
}

// A document altered in the database is refused on read.
func TestRegisterAltered(t *testing.T) {
	registertest.RunAltered(t, func(t *testing.T) register.Stores {
		r, err := OpenRegisters(context.Background(), pgtest.DSN(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r
	}, func(t *testing.T, st register.Store, kind register.Kind, key string, doc []byte) {
		s := st.(*RegisterStore)
		tag, err := s.pool.Exec(context.Background(), `UPDATE `+s.schema+`.register_records SET doc = $1 WHERE kind = $2 AND key = $3`, doc, string(kind), key)
		if err != nil || tag.RowsAffected() != 1 {
			t.Fatalf("alter: %d rows, %v", tag.RowsAffected(), err)
		}
	})
}

func TestLogControlScenario(t *testing.T) {
	logcontroltest.Run(t, func(t *testing.T) logcontroltest.Env {
		dsn := pgtest.DSN(t)
		stores := openTestStores(t, dsn, LogOptions{})
		t.Cleanup(func() { stores.Close() })
		reg, err := OpenRegistry(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { reg.Close() })
		return logcontroltest.Env{Logs: stores, Registers: stores.RegisterStores(), Tenants: reg}
	})
}
