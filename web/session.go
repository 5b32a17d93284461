package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"
)

// Session lifetimes. The idle timeout follows what care providers' own systems use for shared
// workstations; the absolute bound makes a stolen cookie useless by the next working day.
const (
	DefaultIdleTimeout = 30 * time.Minute
	MaxSessionAge      = 12 * time.Hour
	maxSearches        = 5 // kept per session; older ones are dropped
	// DefaultMaxSessions is far above the people of any care provider logged in at once.
	DefaultMaxSessions = 100_000
)

// session is one browser's state on the server. The browser holds only a random id; the store
// is keyed by its SHA-256, so that a memory dump does not hand out live cookies either.
type session struct {
	csrf     string // the synchronizer token every form must echo
	username string // "" until the person has logged in
	lang     string // "sv" or "en"
	created  time.Time
	lastSeen time.Time
	searches []*search     // newest last
	flags    []*flagSearch // flag searches (flags.go), newest last
	ext      *external     // login through the IdP (oidc_login.go); nil for local accounts
}

// Sessions is the server-side session store. It lives in memory: a restart logs everyone out,
// which for one node is the safe failure, and no session data ever reaches the disk.
type Sessions struct {
	Idle time.Duration    // DefaultIdleTimeout when zero
	Now  func() time.Time // time.Now when nil; tests move it forward
	// Max bounds the sessions held (DefaultMaxSessions when zero). Every visit to the login page
	// makes an anonymous session, so without a bound anyone could fill the memory; when full,
	// anonymous sessions give way first, and people who are logged in are never pushed out.
	Max int

	mu sync.Mutex
	m  map[[32]byte]*session
}

func (s *Sessions) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sessions) idle() time.Duration {
	if s.Idle > 0 {
		return s.Idle
	}
	return DefaultIdleTimeout
}

func randomToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// create starts a new session and returns its id, the cookie's value.
func (s *Sessions) create(lang string) (string, *session) {
	id := randomToken()
	now := s.now()
	sess := &session{csrf: randomToken(), lang: lang, created: now, lastSeen: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[[32]byte]*session{}
	}
	s.sweep(now)
	max := s.Max
	if max <= 0 {
		max = DefaultMaxSessions
	}
	for k, old := range s.m {
		if len(s.m) < max {
			break
		}
		if old.username == "" {
			delete(s.m, k)
		}
	}
	s.m[sha256.Sum256([]byte(id))] = sess
	return id, sess
}

// get returns the live session with id and marks it used, or nil. An expired session is removed.
func (s *Sessions) get(id string) *session {
	if id == "" || len(id) > 64 {
		return nil
	}
	key := sha256.Sum256([]byte(id))
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.m[key]
	if sess == nil {
		return nil
	}
	if now.Sub(sess.lastSeen) > s.idle() || now.Sub(sess.created) > MaxSessionAge {
		delete(s.m, key)
		return nil
	}
	sess.lastSeen = now
	return sess
}

// remove ends the session with id.
func (s *Sessions) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, sha256.Sum256([]byte(id)))
}

// sweep drops expired sessions; the caller holds s.mu. Sessions are few (people, not systems),
// so a pass over all of them at each login costs nothing worth a background goroutine.
func (s *Sessions) sweep(now time.Time) {
	for k, sess := range s.m {
		if now.Sub(sess.lastSeen) > s.idle() || now.Sub(sess.created) > MaxSessionAge {
			delete(s.m, k)
		}
	}
}

// Len returns the number of sessions held (for tests and metrics).
func (s *Sessions) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// validCSRF compares a submitted token with the session's in constant time.
func (sess *session) validCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(sess.csrf)) == 1
}

// addSearch keeps a search in the session and returns its id.
func (s *Sessions) addSearch(sess *session, sr *search) string {
	sr.id = randomToken()[:16]
	s.mu.Lock()
	defer s.mu.Unlock()
	sess.searches = append(sess.searches, sr)
	if len(sess.searches) > maxSearches {
		sess.searches = sess.searches[len(sess.searches)-maxSearches:]
	}
	return sr.id
}

// findSearch returns the session's search with id, or nil.
func (s *Sessions) findSearch(sess *session, id string) *search {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sr := range sess.searches {
		if subtle.ConstantTimeCompare([]byte(sr.id), []byte(id)) == 1 {
			return sr
		}
	}
	return nil
}

// rotate ends the session with oldID and starts one for username under a new id, keeping the
// language, so that an id planted before login (session fixation) is worthless after it.
func (s *Sessions) rotate(oldID string, username string) (string, *session) {
	s.mu.Lock()
	old := s.m[sha256.Sum256([]byte(oldID))]
	delete(s.m, sha256.Sum256([]byte(oldID)))
	s.mu.Unlock()
	lang := "sv"
	if old != nil {
		lang = old.lang
	}
	id, sess := s.create(lang)
	s.mu.Lock()
	sess.username = username
	s.mu.Unlock()
	return id, sess
}
