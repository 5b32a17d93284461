package sqlite

import (
	"testing"

	"github.com/vakt/vakt/register"
	"github.com/vakt/vakt/register/registertest"
)

func TestRegisterConformance(t *testing.T) {
	registertest.Run(t, func(t *testing.T) register.Stores {
		r := NewRegisters(t.TempDir())
		t.Cleanup(func() { r.Close() })
		return r
	})
}
