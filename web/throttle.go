package web

import (
	"crypto/sha256"
	"net"
	"net/http"
	"sync"
	"time"
)

// Defaults of Throttle. Five wrong passwords are more than a person mistypes; thirty from one
// address leave room for a ward's shared NAT while stopping a guessing script. The delay doubles
// from 30 seconds to at most 15 minutes, so an online guesser gets a few hundred tries a day
// per username at most, while a person who forgot the password waits minutes, not days.
const (
	DefaultThrottleFree        = 5
	DefaultThrottleFreeAddress = 30
	DefaultThrottleBase        = 30 * time.Second
	DefaultThrottleMax         = 15 * time.Minute
	maxThrottleKeys            = 100_000
)

// Throttle slows down guessing of local passwords: after Free failed logins for one username
// (FreeAddress from one client address) within Max of each other, further attempts are
// refused, before any password is hashed, for a delay that doubles with each further failure.
// A successful login clears its username's count. It lives in memory, so each node counts on
// its own and a restart forgets; that bounds guessing per node, which is what it is for.
type Throttle struct {
	Free        int              // DefaultThrottleFree when zero
	FreeAddress int              // DefaultThrottleFreeAddress when zero
	Base, Max   time.Duration    // first and longest delay; the defaults when zero
	Now         func() time.Time // time.Now when nil; tests move it forward

	mu sync.Mutex
	m  map[[32]byte]*failures
}

type failures struct {
	n     int       // failures counted
	last  time.Time // of the last failure
	until time.Time // attempts are refused until then
}

func (t *Throttle) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func orDefault[T int | time.Duration](v, d T) T {
	if v > 0 {
		return v
	}
	return d
}

// key hashes a username or address, so that the memory a key takes does not depend on what a
// client sends.
func throttleKey(kind, s string) [32]byte { return sha256.Sum256([]byte(kind + "\x00" + s)) }

// clientAddress is the address a request came from. vakt does not trust forwarding headers: in
// front of a proxy every request has the proxy's address, and the per-address limit counts the
// proxy (OPERATIONS.md says to keep it high there, or rely on the per-username limit).
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// wait returns how long a login as username from addr must still wait, 0 if it may go on.
func (t *Throttle) wait(username, addr string) time.Duration {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	var d time.Duration
	for _, k := range [][32]byte{throttleKey("user", username), throttleKey("addr", addr)} {
		if f := t.m[k]; f != nil && f.until.After(now) && f.until.Sub(now) > d {
			d = f.until.Sub(now)
		}
	}
	return d
}

// failed counts a failed login as username from addr.
func (t *Throttle) failed(username, addr string) {
	now := t.now()
	max := orDefault(t.Max, DefaultThrottleMax)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[[32]byte]*failures{}
	}
	if len(t.m) >= maxThrottleKeys {
		t.sweep(now, max)
	}
	for _, k := range []struct {
		key  [32]byte
		free int
	}{
		{throttleKey("user", username), orDefault(t.Free, DefaultThrottleFree)},
		{throttleKey("addr", addr), orDefault(t.FreeAddress, DefaultThrottleFreeAddress)},
	} {
		f := t.m[k.key]
		if f == nil || (now.Sub(f.last) > max && !f.until.After(now)) {
			if f == nil && len(t.m) >= maxThrottleKeys {
				continue // full of live entries: the others still hold
			}
			f = &failures{}
			t.m[k.key] = f
		}
		f.n++
		f.last = now
		if over := f.n - k.free; over > 0 {
			delay := orDefault(t.Base, DefaultThrottleBase)
			for i := 1; i < over && delay < max; i++ {
				delay *= 2
			}
			f.until = now.Add(min(delay, max))
		}
	}
}

// succeeded clears the count of username (not of the address, or one valid account would let
// a guesser from that address go on).
func (t *Throttle) succeeded(username string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, throttleKey("user", username))
}

// sweep forgets counts that have run out; the caller holds t.mu.
func (t *Throttle) sweep(now time.Time, max time.Duration) {
	for k, f := range t.m {
		if now.Sub(f.last) > max && !f.until.After(now) {
			delete(t.m, k)
		}
	}
}
