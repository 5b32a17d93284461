package sqlite

import (
	"testing"

	"github.com/vakt/vakt/control"
	"github.com/vakt/vakt/control/controltest"
)

func TestControlConformance(t *testing.T) {
	controltest.Run(t, func(t *testing.T) control.Stores {
		c := NewControls(t.TempDir())
		t.Cleanup(func() { c.Close() })
		return c
	})
}
