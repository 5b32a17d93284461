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
