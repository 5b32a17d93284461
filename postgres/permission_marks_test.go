package postgres

import (
	"context"
	"testing"

	"github.com/vakt/vakt/permlist"
	"github.com/vakt/vakt/permlist/permlisttest"
	"github.com/vakt/vakt/postgres/pgtest"
)

func TestPermissionMarkConformance(t *testing.T) {
	permlisttest.Run(t, func(t *testing.T) permlist.Stores {
		c, err := OpenControls(context.Background(), pgtest.DSN(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	})
}
