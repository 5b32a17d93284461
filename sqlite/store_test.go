package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/accesslog/accesslogtest"
)

func harness(opts Options) accesslogtest.Harness {
	return accesslogtest.Harness{
		New: func(t *testing.T) func() accesslog.Store {
			path := filepath.Join(t.TempDir(), "tenant.db")
			return func() accesslog.Store {
				st, err := OpenStore(context.Background(), path, opts)
				if err != nil {
					t.Fatal(err)
				}
				return st
			}
		},
	}
}

func TestStoreConformance(t *testing.T) {
	for _, c := range []struct {
		name string
		opts Options
	}{
		{"defaults", Options{}},
		// Tiny runs make every test cross seals and many merges.
		{"tiny runs", Options{SealEntries: 37, MergeFanIn: 2, MaxGroup: 100}},
		{"small runs", Options{SealEntries: 500, MergeFanIn: 3}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := harness(c.opts)
			h.Large = c.name == "small runs"
			accesslogtest.Run(t, h)
		})
	}
}
