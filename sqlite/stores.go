package sqlite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/merkle"
	"github.com/vakt/vakt/tenant"
)

// Stores keeps one Store per tenant: the file <dir>/<tenant id>.db, opened on first use. Tenant
// isolation on disk is physical: a tenant's entries never share a file with another's.
type Stores struct {
	dir     string
	opts    Options
	signing Signing
	mu      sync.Mutex
	open    map[string]*Store
}

// Signing is how an instance signs its tenants' checkpoints: every tenant's log is named
// Instance/<tenant id> and signed with a key derived from Secret (see merkle.DeriveKey).
type Signing struct {
	Instance string
	Secret   []byte
}

var _ accesslog.Stores = (*Stores)(nil)

// NewStores returns Stores that keep tenant files in dir, creating it if needed.
func NewStores(dir string, opts Options, signing Signing) (*Stores, error) {
	if !opts.NoMerkle && (!merkle.ValidInstanceName(signing.Instance) || len(signing.Secret) < 32) {
		return nil, errors.New("sqlite: stores need a valid instance name and a signing secret of at least 32 bytes")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return &Stores{dir: dir, opts: opts, signing: signing, open: map[string]*Store{}}, nil
}

// Path returns the database file of a tenant.
func (s *Stores) Path(tenantID string) string { return TenantPath(s.dir, tenantID) }

// TenantPath returns the database file of a tenant in a directory of tenant files.
func TenantPath(dir, tenantID string) string { return filepath.Join(dir, tenantID+".db") }

// Store implements accesslog.Stores.
func (s *Stores) Store(ctx context.Context, tenantID string) (accesslog.Store, error) {
	if err := tenant.ValidateID(tenantID); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open == nil {
		return nil, errClosed
	}
	if st, ok := s.open[tenantID]; ok {
		return st, nil
	}
	opts := s.opts
	if opts.Logger != nil {
		opts.Logger = opts.Logger.With("tenant", tenantID)
	}
	if !opts.NoMerkle {
		opts.Origin = merkle.Origin(s.signing.Instance, tenantID)
		kp, err := merkle.DeriveKey(s.signing.Secret, opts.Origin)
		if err != nil {
			return nil, err
		}
		opts.Keys = &kp
	}
	st, err := OpenStore(ctx, s.Path(tenantID), opts)
	if err != nil {
		return nil, err
	}
	s.open[tenantID] = st
	return st, nil
}

// Opened returns the stores opened so far, by tenant id.
func (s *Stores) Opened() map[string]*Store {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]*Store, len(s.open))
	for id, st := range s.open {
		out[id] = st
	}
	return out
}

// Close closes every open store.
func (s *Stores) Close() error {
	s.mu.Lock()
	open := s.open
	s.open = nil
	s.mu.Unlock()
	var errs []error
	for _, st := range open {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}
