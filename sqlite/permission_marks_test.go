package sqlite

import (
	"testing"

	"github.com/vakt/vakt/permlist"
	"github.com/vakt/vakt/permlist/permlisttest"
)

func TestPermissionMarkConformance(t *testing.T) {
	permlisttest.Run(t, func(t *testing.T) permlist.Stores {
		c := NewControls(t.TempDir())
		t.Cleanup(func() { c.Close() })
		return c
	})
}
