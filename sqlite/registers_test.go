package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/vakt/vakt/logcontrol/logcontroltest"

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

// A document altered in the register file is refused on read.
func TestRegisterAltered(t *testing.T) {
	registertest.RunAltered(t, func(t *testing.T) register.Stores {
		r := NewRegisters(t.TempDir())
		t.Cleanup(func() { r.Close() })
		return r
	}, func(t *testing.T, st register.Store, kind register.Kind, key string, doc []byte) {
		res, err := st.(*RegisterStore).wdb.Exec(`UPDATE register_records SET doc = ? WHERE kind = ? AND key = ?`, doc, string(kind), key)
		if n, _ := res.RowsAffected(); err != nil || n != 1 {
			t.Fatalf("alter: %d rows, %v", n, err)
		}
	})
}

func TestLogControlScenario(t *testing.T) {
	logcontroltest.Run(t, func(t *testing.T) logcontroltest.Env {
		dir := t.TempDir()
		stores, err := NewStores(dir, Options{}, Signing{Instance: "test.vakt", Secret: []byte("a test secret of at least 32 bytes")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stores.Close() })
		reg, err := OpenRegistry(context.Background(), filepath.Join(dir, "registry.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { reg.Close() })
		regs := NewRegisters(dir)
		t.Cleanup(func() { regs.Close() })
		return logcontroltest.Env{Logs: stores, Registers: regs, Tenants: reg}
	})
}
