// Package session keeps people's web sessions where every node of an instance finds them: the
// contract of a session store (Store), the rules of expiry and bounds every store honours
// (Limits), an in-memory store for one node (Memory), and the sealing that lets a shared
// database hold a session without being able to read it (Seal, Open).
//
// A browser holds only a random id (the cookie). A store keys the session by the id's SHA-256,
// so that a copy of the store hands out no live cookies, and a store outside the process keeps
// the session's contents sealed under a key derived from the id, which no server keeps: a dump
// of the database reads neither the person's name, the CSRF token nor the personnummer of their
// recent searches. The package knows nothing of what a session holds; the web tool encodes it.
// No I/O here: database stores live in their drivers and run the conformance suite in
// sessiontest.
package session

import (
	"context"
	"crypto/sha256"
	"errors"
	"time"
)

// Defaults of Limits.
const (
	// DefaultIdle follows what care providers' own systems use for shared workstations.
	DefaultIdle = 30 * time.Minute
	// DefaultMaxAge makes a stolen cookie useless by the next working day.
	DefaultMaxAge = 12 * time.Hour
	// DefaultMax is far above the people of any care provider logged in at once.
	DefaultMax = 100_000
	// DefaultMaxItems is how many items (the web tool's recent searches) a session keeps.
	DefaultMaxItems = 5
	// DefaultTouchAfter is how stale a session's LastSeen may grow before a read writes it
	// anew. Reads are most requests; writing each would double the database's work for a
	// timestamp. The idle timeout is then measured to within this much.
	DefaultTouchAfter = 30 * time.Second
	// MaxIDLen bounds an id (a cookie value) a store looks up.
	MaxIDLen = 64
)

// Errors of Store. They are compared with errors.Is.
var (
	// ErrNotFound: no live session with that id (never made, ended, expired or pushed out),
	// or no item with that key.
	ErrNotFound = errors.New("session: not found")
	// ErrConflict: Update's version is not the stored one: another request, maybe on another
	// node, changed the session since it was read. Read it again and redo the change.
	ErrConflict = errors.New("session: changed concurrently")
)

// Record is a session as a store keeps it.
type Record struct {
	Created  time.Time
	LastSeen time.Time
	// Authenticated tells that a person is logged in. When a store is full, sessions without
	// one (every visit to the login page makes one) give way first; a person logged in is
	// never pushed out.
	Authenticated bool
	// Version is set by the store and changes at every Update; Update must be given the
	// version that was read (compare-and-swap).
	Version int64
	// Data is the session's contents, opaque to the store.
	Data []byte
}

// Store keeps sessions. Every method is safe for concurrent use, also by several processes
// sharing one store. ids are cookie values: a store keeps only their SHA-256 (Key), and one
// outside the process seals Data and items under the id (Seal). Expiry follows Limits: a
// session idle longer than Idle or older than MaxAge is gone, whether or not it was swept.
type Store interface {
	// Create stores a new session under id with r's contents; Created, LastSeen and Version
	// are set by the store. When the store holds Max sessions, sessions without a person give
	// way, oldest first.
	Create(ctx context.Context, id string, r Record) (Record, error)
	// Get returns the live session with id, or ErrNotFound (an expired one is deleted). It
	// marks the session used: LastSeen moves to now when older than TouchAfter.
	Get(ctx context.Context, id string) (Record, error)
	// Update replaces the session's Data and Authenticated if its version is still
	// r.Version, and returns the record as stored, with its new Version. ErrConflict when
	// the version moved on, ErrNotFound when the session is gone.
	Update(ctx context.Context, id string, r Record) (Record, error)
	// Delete ends the session and its items; ending one that is gone is no error.
	Delete(ctx context.Context, id string) error
	// PutItem attaches data to the session under key, replacing an item of that key; only
	// the newest MaxItems items are kept. Items are written once and read often (the web
	// tool's searches), and never conflict with Update. ErrNotFound when the session is gone.
	PutItem(ctx context.Context, id, key string, data []byte) error
	// Item returns the session's item under key, or ErrNotFound.
	Item(ctx context.Context, id, key string) ([]byte, error)
	// Sweep deletes expired sessions and returns how many it deleted. Stores also expire
	// sessions lazily; Sweep keeps the expired from piling up.
	Sweep(ctx context.Context) (int, error)
}

// Limits are the bounds a store enforces. Zero fields take the defaults.
type Limits struct {
	Idle       time.Duration
	MaxAge     time.Duration
	Max        int
	MaxItems   int
	TouchAfter time.Duration
	Now        func() time.Time // time.Now when nil; tests move it forward
}

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits {
	if l.Idle <= 0 {
		l.Idle = DefaultIdle
	}
	if l.MaxAge <= 0 {
		l.MaxAge = DefaultMaxAge
	}
	if l.Max <= 0 {
		l.Max = DefaultMax
	}
	if l.MaxItems <= 0 {
		l.MaxItems = DefaultMaxItems
	}
	if l.TouchAfter <= 0 {
		l.TouchAfter = DefaultTouchAfter
	}
	if l.TouchAfter > l.Idle/2 {
		l.TouchAfter = l.Idle / 2
	}
	if l.Now == nil {
		l.Now = time.Now
	}
	return l
}

// Expired reports whether r is past the idle timeout or its maximum age at now.
func (l Limits) Expired(r *Record, now time.Time) bool {
	return now.Sub(r.LastSeen) > l.Idle || now.Sub(r.Created) > l.MaxAge
}

// Key returns the key a store keeps a session under: the SHA-256 of its id.
func Key(id string) [32]byte { return sha256.Sum256([]byte(id)) }

// ValidID reports whether id can name a session at all, so that a store is not asked to hash
// whatever a client sends as a cookie.
func ValidID(id string) bool { return id != "" && len(id) <= MaxIDLen }

// Sweeper runs s.Sweep every interval until ctx ends; errors go to onError (a database that is
// briefly away is no reason to stop).
func Sweeper(ctx context.Context, s Store, interval time.Duration, onError func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil && onError != nil {
				onError(err)
			}
		}
	}
}
