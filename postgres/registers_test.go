package postgres

import (
	"context"
	"testing"

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
