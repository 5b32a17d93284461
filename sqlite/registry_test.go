package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/vakt/vakt/tenant/registrytest"
)

func TestRegistryConformance(t *testing.T) {
	registrytest.Run(t, registrytest.Harness{
		New: func(t *testing.T) func() registrytest.Registry {
			path := filepath.Join(t.TempDir(), "registry.db")
			return func() registrytest.Registry {
				r, err := OpenRegistry(context.Background(), path)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { r.Close() })
				return r
			}
		},
	})
}
