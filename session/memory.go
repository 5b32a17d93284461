package session

import (
	"bytes"
	"context"
	"sync"
	"time"
)

// Memory is a Store in the process's memory, for one node (the embedded mode): a restart logs
// everyone out, which for one node is the safe failure, and no session reaches the disk. It
// keeps Data as given; the memory is the process's own.
type Memory struct {
	limits Limits

	mu sync.Mutex
	m  map[[32]byte]*memSession
}

type memSession struct {
	rec   Record
	items []memItem // oldest first
}

type memItem struct {
	key  string
	data []byte
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty store enforcing l.
func NewMemory(l Limits) *Memory {
	return &Memory{limits: l.WithDefaults(), m: map[[32]byte]*memSession{}}
}

// Limits returns the bounds the store enforces, defaults filled in.
func (s *Memory) Limits() Limits { return s.limits }

// Create implements Store.
func (s *Memory) Create(_ context.Context, id string, r Record) (Record, error) {
	if !ValidID(id) {
		return Record{}, ErrNotFound
	}
	now := s.limits.Now()
	r.Created, r.LastSeen, r.Version, r.Data = now, now, 1, bytes.Clone(r.Data)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	for k, old := range s.m {
		if len(s.m) < s.limits.Max {
			break
		}
		if !old.rec.Authenticated {
			delete(s.m, k)
		}
	}
	s.m[Key(id)] = &memSession{rec: r}
	return r, nil
}

// Get implements Store.
func (s *Memory) Get(_ context.Context, id string) (Record, error) {
	if !ValidID(id) {
		return Record{}, ErrNotFound
	}
	key, now := Key(id), s.limits.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := s.m[key]
	if ms == nil {
		return Record{}, ErrNotFound
	}
	if s.limits.Expired(&ms.rec, now) {
		delete(s.m, key)
		return Record{}, ErrNotFound
	}
	if now.Sub(ms.rec.LastSeen) > s.limits.TouchAfter {
		ms.rec.LastSeen = now
	}
	r := ms.rec
	r.Data = bytes.Clone(r.Data)
	return r, nil
}

// Update implements Store.
func (s *Memory) Update(_ context.Context, id string, r Record) (Record, error) {
	if !ValidID(id) {
		return Record{}, ErrNotFound
	}
	key, now := Key(id), s.limits.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := s.m[key]
	if ms == nil || s.limits.Expired(&ms.rec, now) {
		return Record{}, ErrNotFound
	}
	if ms.rec.Version != r.Version {
		return Record{}, ErrConflict
	}
	ms.rec.Data, ms.rec.Authenticated = bytes.Clone(r.Data), r.Authenticated
	ms.rec.Version++
	ms.rec.LastSeen = now
	out := ms.rec
	out.Data = bytes.Clone(out.Data)
	return out, nil
}

// Delete implements Store.
func (s *Memory) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, Key(id))
	return nil
}

// PutItem implements Store.
func (s *Memory) PutItem(_ context.Context, id, key string, data []byte) error {
	if !ValidID(id) {
		return ErrNotFound
	}
	now := s.limits.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := s.m[Key(id)]
	if ms == nil || s.limits.Expired(&ms.rec, now) {
		return ErrNotFound
	}
	for i, it := range ms.items {
		if it.key == key {
			ms.items = append(ms.items[:i:i], ms.items[i+1:]...)
			break
		}
	}
	ms.items = append(ms.items, memItem{key: key, data: bytes.Clone(data)})
	if n := len(ms.items) - s.limits.MaxItems; n > 0 {
		ms.items = append([]memItem(nil), ms.items[n:]...)
	}
	return nil
}

// Item implements Store.
func (s *Memory) Item(_ context.Context, id, key string) ([]byte, error) {
	if !ValidID(id) {
		return nil, ErrNotFound
	}
	now := s.limits.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := s.m[Key(id)]
	if ms == nil || s.limits.Expired(&ms.rec, now) {
		return nil, ErrNotFound
	}
	for _, it := range ms.items {
		if it.key == key {
			return bytes.Clone(it.data), nil
		}
	}
	return nil, ErrNotFound
}

// Sweep implements Store.
func (s *Memory) Sweep(context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sweep(s.limits.Now()), nil
}

// sweep drops expired sessions; the caller holds s.mu.
func (s *Memory) sweep(now time.Time) int {
	n := 0
	for k, ms := range s.m {
		if s.limits.Expired(&ms.rec, now) {
			delete(s.m, k)
			n++
		}
	}
	return n
}

// Len returns the number of sessions held, expired ones not yet swept included.
func (s *Memory) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
