package postgres

import (
	"context"
	"testing"

	"github.com/vakt/vakt/control"
	"github.com/vakt/vakt/control/controltest"
	"github.com/vakt/vakt/postgres/pgtest"
)

func TestControlConformance(t *testing.T) {
	controltest.Run(t, func(t *testing.T) control.Stores {
		c, err := OpenControls(context.Background(), pgtest.DSN(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	})
}
