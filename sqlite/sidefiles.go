package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"sync"

	"github.com/vakt/vakt/tenant"
)

// sideFiles keeps one SQLite file per tenant beside the tenant's log file, <dir>/<tenant
// id><suffix> (tenant ids hold no '.', so the names cannot meet), opened on a tenant's first use
// and kept open. The registers and the control register each have their own kind of file.
type sideFiles[S interface{ Close() error }] struct {
	dir      string
	suffix   string
	openFile func(ctx context.Context, path string) (S, error)

	mu   sync.Mutex
	open map[string]S // nil once closed
}

func newSideFiles[S interface{ Close() error }](dir, suffix string, openFile func(context.Context, string) (S, error)) sideFiles[S] {
	return sideFiles[S]{dir: dir, suffix: suffix, openFile: openFile, open: map[string]S{}}
}

func sideFilePath(dir, tenantID, suffix string) string {
	return filepath.Join(dir, tenantID+suffix)
}

// get returns tenantID's open file, opening it on first use.
func (f *sideFiles[S]) get(ctx context.Context, tenantID string) (S, error) {
	var zero S
	if err := tenant.ValidateID(tenantID); err != nil {
		return zero, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.open == nil {
		return zero, errClosed
	}
	if st, ok := f.open[tenantID]; ok {
		return st, nil
	}
	st, err := f.openFile(ctx, sideFilePath(f.dir, tenantID, f.suffix))
	if err != nil {
		return zero, err
	}
	f.open[tenantID] = st
	return st, nil
}

// Close closes every open file.
func (f *sideFiles[S]) Close() error {
	f.mu.Lock()
	open := f.open
	f.open = nil
	f.mu.Unlock()
	var errs []error
	for _, st := range open {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}
