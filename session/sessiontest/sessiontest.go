// Package sessiontest is the conformance suite of session.Store: every store runs it, so that
// the web tool behaves the same on one node in memory and on many nodes sharing a database.
package sessiontest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/vakt/vakt/session"
)

// Clock is the suite's clock; stores under test must take Limits.Now from it.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock forward.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// NewStores returns two handles on one new, empty store enforcing l: for a shared database two
// connections, as two nodes would have; for a store in memory the same store twice.
type NewStores func(t *testing.T, l session.Limits) (a, b session.Store)

// NewID returns a random session id as the web tool makes them.
func NewID() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Run runs the suite.
func Run(t *testing.T, newStores NewStores) {
	ctx := context.Background()
	limits := func(c *Clock) session.Limits {
		return session.Limits{Idle: 10 * time.Minute, MaxAge: time.Hour, Max: 5, MaxItems: 3, TouchAfter: 10 * time.Second, Now: c.Now}
	}
	start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

	t.Run("RoundTrip", func(t *testing.T) {
		c := &Clock{t: start}
		s, other := newStores(t, limits(c))
		id := NewID()
		r, err := s.Create(ctx, id, session.Record{Data: []byte("anonymous")})
		if err != nil || r.Version == 0 || !r.Created.Equal(start) || !r.LastSeen.Equal(start) {
			t.Fatalf("Create: %+v %v", r, err)
		}
		got, err := other.Get(ctx, id)
		if err != nil || string(got.Data) != "anonymous" || got.Authenticated || got.Version != r.Version || !got.Created.Equal(start) {
			t.Fatalf("Get on the other handle: %+v %v", got, err)
		}
		for _, bad := range []string{"", NewID(), string(bytes.Repeat([]byte("a"), session.MaxIDLen+1)), id[:len(id)-1]} {
			if _, err := s.Get(ctx, bad); !errors.Is(err, session.ErrNotFound) {
				t.Errorf("Get(%q): %v, want ErrNotFound", bad, err)
			}
		}
	})

	t.Run("UpdateCompareAndSwap", func(t *testing.T) {
		c := &Clock{t: start}
		s, other := newStores(t, limits(c))
		id := NewID()
		r, _ := s.Create(ctx, id, session.Record{Data: []byte("v1")})
		r.Data, r.Authenticated = []byte("anna"), true
		u, err := s.Update(ctx, id, r)
		if err != nil || u.Version == r.Version || string(u.Data) != "anna" || !u.Authenticated {
			t.Fatalf("Update: %+v %v", u, err)
		}
		r.Data = []byte("stale")
		if _, err := other.Update(ctx, id, r); !errors.Is(err, session.ErrConflict) {
			t.Fatalf("Update with a stale version: %v, want ErrConflict", err)
		}
		got, _ := other.Get(ctx, id)
		if string(got.Data) != "anna" || !got.Authenticated || got.Version != u.Version {
			t.Fatalf("after a refused update: %+v", got)
		}
		if _, err := s.Update(ctx, NewID(), got); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("Update of no session: %v", err)
		}
	})

	t.Run("Expiry", func(t *testing.T) {
		c := &Clock{t: start}
		s, other := newStores(t, limits(c))
		idle, old := NewID(), NewID()
		s.Create(ctx, idle, session.Record{})
		s.Create(ctx, old, session.Record{Authenticated: true})
		// old is used every 9 minutes: alive until its hour is up; idle is left alone.
		for i := range 6 {
			c.Add(9 * time.Minute)
			if _, err := other.Get(ctx, old); err != nil {
				t.Fatalf("a session in use, after %d minutes: %v", (i+1)*9, err)
			}
		}
		if _, err := s.Get(ctx, idle); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("an idle session: %v", err)
		}
		c.Add(7 * time.Minute) // 61 minutes old
		if _, err := s.Get(ctx, old); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("a session past its maximum age: %v", err)
		}
		if _, err := s.Update(ctx, old, session.Record{Version: 1}); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("Update of an expired session: %v", err)
		}
	})

	t.Run("TouchWithinTouchAfter", func(t *testing.T) {
		c := &Clock{t: start}
		s, other := newStores(t, limits(c))
		id := NewID()
		s.Create(ctx, id, session.Record{})
		c.Add(5 * time.Second)
		if r, _ := s.Get(ctx, id); !r.LastSeen.Equal(start) {
			t.Fatalf("LastSeen moved within TouchAfter: %v", r.LastSeen)
		}
		c.Add(6 * time.Second)
		s.Get(ctx, id)
		if r, _ := other.Get(ctx, id); !r.LastSeen.Equal(start.Add(11 * time.Second)) {
			t.Fatalf("LastSeen after TouchAfter: %v", r.LastSeen)
		}
		// Idle is measured from the touch, to within TouchAfter.
		c.Add(10*time.Minute - time.Second)
		if _, err := other.Get(ctx, id); err != nil {
			t.Fatalf("expired although used %v ago: %v", 10*time.Minute-time.Second, err)
		}
	})

	t.Run("DeleteEndsSessionAndItems", func(t *testing.T) {
		c := &Clock{t: start}
		s, other := newStores(t, limits(c))
		id := NewID()
		s.Create(ctx, id, session.Record{Authenticated: true})
		if err := s.PutItem(ctx, id, "a", []byte("search")); err != nil {
			t.Fatal(err)
		}
		if err := other.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, id); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("Get after Delete: %v", err)
		}
		if _, err := s.Item(ctx, id, "a"); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("Item after Delete: %v", err)
		}
		if err := s.Delete(ctx, id); err != nil {
			t.Fatalf("deleting twice: %v", err)
		}
		// The id cannot be brought back to life by an item either.
		if err := s.PutItem(ctx, id, "b", []byte("x")); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("PutItem after Delete: %v", err)
		}
	})

	t.Run("Items", func(t *testing.T) {
		c := &Clock{t: start}
		s, other := newStores(t, limits(c))
		id, stranger := NewID(), NewID()
		s.Create(ctx, id, session.Record{Authenticated: true})
		s.Create(ctx, stranger, session.Record{Authenticated: true})
		for i := range 5 {
			c.Add(time.Second)
			if err := s.PutItem(ctx, id, "k"+strconv.Itoa(i), []byte("search "+strconv.Itoa(i))); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 5 {
			data, err := other.Item(ctx, id, "k"+strconv.Itoa(i))
			switch {
			case i < 2 && !errors.Is(err, session.ErrNotFound):
				t.Errorf("item %d of 5 kept beyond MaxItems=3: %q %v", i, data, err)
			case i >= 2 && (err != nil || string(data) != "search "+strconv.Itoa(i)):
				t.Errorf("item %d: %q %v", i, data, err)
			}
		}
		if _, err := other.Item(ctx, stranger, "k4"); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("another session's item: %v", err)
		}
		if err := s.PutItem(ctx, id, "k2", []byte("replaced")); err != nil {
			t.Fatal(err)
		}
		if data, _ := other.Item(ctx, id, "k2"); string(data) != "replaced" {
			t.Fatalf("replaced item: %q", data)
		}
		big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB: a search with many rows
		if err := s.PutItem(ctx, id, "big", big); err != nil {
			t.Fatal(err)
		}
		if data, err := other.Item(ctx, id, "big"); err != nil || !bytes.Equal(data, big) {
			t.Fatalf("a large item: %d bytes, %v", len(data), err)
		}
	})

	t.Run("Bound", func(t *testing.T) {
		c := &Clock{t: start}
		s, other := newStores(t, limits(c))
		person := NewID()
		s.Create(ctx, person, session.Record{Authenticated: true, Data: []byte("anna")})
		var anon []string
		for range 12 {
			c.Add(time.Second)
			id := NewID()
			if _, err := other.Create(ctx, id, session.Record{}); err != nil {
				t.Fatal(err)
			}
			anon = append(anon, id)
		}
		if r, err := s.Get(ctx, person); err != nil || string(r.Data) != "anna" {
			t.Fatalf("a person logged in was pushed out by anonymous sessions: %v", err)
		}
		live := 0
		for _, id := range anon {
			if _, err := s.Get(ctx, id); err == nil {
				live++
			}
		}
		if live+1 > 5 {
			t.Fatalf("%d sessions live, Max is 5", live+1)
		}
		if _, err := s.Get(ctx, anon[len(anon)-1]); err != nil {
			t.Fatalf("the newest session was pushed out: %v", err)
		}
	})

	t.Run("Sweep", func(t *testing.T) {
		c := &Clock{t: start}
		s, other := newStores(t, limits(c))
		for range 3 {
			s.Create(ctx, NewID(), session.Record{})
		}
		keep := NewID()
		c.Add(5 * time.Minute)
		s.Create(ctx, keep, session.Record{})
		c.Add(6 * time.Minute)
		n, err := other.Sweep(ctx)
		if err != nil || n != 3 {
			t.Fatalf("Sweep: %d %v, want 3", n, err)
		}
		if _, err := s.Get(ctx, keep); err != nil {
			t.Fatalf("Sweep took a live session: %v", err)
		}
	})

	// Two nodes change one session at once: every change survives, because Update is a
	// compare-and-swap and items never conflict with it.
	t.Run("Concurrent", func(t *testing.T) {
		c := &Clock{t: start}
		s, other := newStores(t, limits(c))
		id := NewID()
		s.Create(ctx, id, session.Record{Authenticated: true, Data: []byte("0")})
		const n = 20
		var wg sync.WaitGroup
		errs := make(chan error, 2*n)
		for i := range n {
			st := s
			if i%2 == 1 {
				st = other
			}
			wg.Add(2)
			go func() {
				defer wg.Done()
				for {
					r, err := st.Get(ctx, id)
					if err != nil {
						errs <- err
						return
					}
					v, _ := strconv.Atoi(string(r.Data))
					r.Data = []byte(strconv.Itoa(v + 1))
					_, err = st.Update(ctx, id, r)
					if errors.Is(err, session.ErrConflict) {
						continue
					}
					if err != nil {
						errs <- err
					}
					return
				}
			}()
			go func() {
				defer wg.Done()
				if err := st.PutItem(ctx, id, fmt.Sprint("item", i%3), []byte("x")); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		r, _ := s.Get(ctx, id)
		if string(r.Data) != strconv.Itoa(n) {
			t.Fatalf("after %d concurrent increments: %s", n, r.Data)
		}
		for i := range 3 {
			if _, err := other.Item(ctx, id, fmt.Sprint("item", i)); err != nil {
				t.Fatalf("item %d lost: %v", i, err)
			}
		}
	})
}
