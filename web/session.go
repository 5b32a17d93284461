package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/oidc"
	sessionstore "github.com/vakt/vakt/session"
)

// Session lifetimes. The idle timeout follows what care providers' own systems use for shared
// workstations; the absolute bound makes a stolen cookie useless by the next working day.
const (
	DefaultIdleTimeout = sessionstore.DefaultIdle
	MaxSessionAge      = sessionstore.DefaultMaxAge
	maxSearches        = 5 // kept per session; older ones are dropped
	// DefaultMaxSessions is far above the people of any care provider logged in at once.
	DefaultMaxSessions = sessionstore.DefaultMax
)

// session is one browser's state, as this request read it from the store. Handlers change it
// through Sessions.update, which writes it back with a compare-and-swap, so that a change made
// at the same time by another request (maybe on another node) is not lost.
type session struct {
	version  int64
	csrf     string    // the synchronizer token every form must echo
	username string    // "" until the person has logged in
	lang     string    // "sv" or "en"
	ext      *external // login through the IdP (oidc_login.go); nil for local accounts
}

// sessionData is a session as it is encoded for the store.
type sessionData struct {
	CSRF     string        `json:"csrf"`
	Username string        `json:"username,omitempty"`
	Lang     string        `json:"lang"`
	Ext      *externalData `json:"ext,omitempty"`
}

type externalData struct {
	Start   *oidc.Start    `json:"start,omitempty"`
	Started time.Time      `json:"started"`
	Choices []account.User `json:"choices,omitempty"`
	User    *account.User  `json:"user,omitempty"`
}

func (s *session) encode() []byte {
	d := sessionData{CSRF: s.csrf, Username: s.username, Lang: s.lang}
	if x := s.ext; x != nil {
		d.Ext = &externalData{Start: x.start, Started: x.started, Choices: x.choices, User: x.user}
	}
	b, _ := json.Marshal(d)
	return b
}

func decodeSession(r sessionstore.Record) (*session, error) {
	var d sessionData
	if err := json.Unmarshal(r.Data, &d); err != nil {
		return nil, err
	}
	s := &session{version: r.Version, csrf: d.CSRF, username: d.Username, lang: d.Lang}
	if x := d.Ext; x != nil {
		s.ext = &external{start: x.Start, started: x.Started, choices: x.Choices, user: x.User}
	}
	return s, nil
}

// Sessions are people's sessions in the web tool. The browser holds only a random id; the
// sessions live in Store: in this process's memory by default (one node: a restart logs
// everyone out, and no session reaches the disk), or in a database that several nodes share
// (sessionstore.Store), where they are sealed under the id so that a dump reads nothing.
type Sessions struct {
	Idle time.Duration    // DefaultIdleTimeout when zero
	Now  func() time.Time // time.Now when nil; tests move it forward
	// Max bounds the sessions held (DefaultMaxSessions when zero). Every visit to the login page
	// makes an anonymous session, so without a bound anyone could fill the memory; when full,
	// anonymous sessions give way first, and people who are logged in are never pushed out.
	Max int
	// Store keeps the sessions; when nil, a session.Memory with the limits above. A shared
	// store enforces its own limits, given when it was made.
	Store sessionstore.Store

	once   sync.Once
	cache  itemCache
	lookup func() time.Time
}

func (s *Sessions) init() {
	s.once.Do(func() {
		if s.Store == nil {
			s.Store = sessionstore.NewMemory(sessionstore.Limits{Idle: s.Idle, Max: s.Max, MaxItems: maxSearches, Now: s.Now})
		}
		s.lookup = s.Now
		if s.lookup == nil {
			s.lookup = time.Now
		}
	})
}

func (s *Sessions) now() time.Time {
	s.init()
	return s.lookup()
}

func randomToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// create starts a new anonymous session and returns its id, the cookie's value.
func (s *Sessions) create(ctx context.Context, lang string) (string, *session, error) {
	return s.createAs(ctx, &session{lang: lang})
}

// createAs stores sess as a new session with a fresh id and CSRF token.
func (s *Sessions) createAs(ctx context.Context, sess *session) (string, *session, error) {
	s.init()
	id := randomToken()
	sess.csrf = randomToken()
	r, err := s.Store.Create(ctx, id, sessionstore.Record{Authenticated: sess.username != "", Data: sess.encode()})
	if err != nil {
		return "", nil, err
	}
	sess.version = r.Version
	return id, sess, nil
}

// get returns the live session with id and marks it used; nil when there is none.
func (s *Sessions) get(ctx context.Context, id string) (*session, error) {
	s.init()
	if !sessionstore.ValidID(id) {
		return nil, nil
	}
	r, err := s.Store.Get(ctx, id)
	if errors.Is(err, sessionstore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	sess, err := decodeSession(r)
	if err != nil {
		return nil, err
	}
	return sess, nil
}

// errGone: the session ended while a request changed it (logout on another node, expiry).
var errGone = errors.New("web: the session has ended")

// update applies change to sess and stores it. When another request changed the session since
// it was read, it reads the session again and applies change to that, so that neither change
// is lost; change must therefore depend only on the session it is given. errGone when the
// session ended meanwhile.
func (s *Sessions) update(ctx context.Context, id string, sess *session, change func(*session)) error {
	s.init()
	for range 10 {
		change(sess)
		r, err := s.Store.Update(ctx, id, sessionstore.Record{Version: sess.version, Authenticated: sess.username != "", Data: sess.encode()})
		if err == nil {
			sess.version = r.Version
			return nil
		}
		if errors.Is(err, sessionstore.ErrNotFound) {
			return errGone
		}
		if !errors.Is(err, sessionstore.ErrConflict) {
			return err
		}
		fresh, err := s.get(ctx, id)
		if err != nil {
			return err
		}
		if fresh == nil {
			return errGone
		}
		*sess = *fresh
	}
	return errors.New("web: the session changed concurrently too often")
}

// remove ends the session with id.
func (s *Sessions) remove(ctx context.Context, id string) error {
	s.init()
	if !sessionstore.ValidID(id) {
		return nil
	}
	return s.Store.Delete(ctx, id)
}

// rotate ends the session with oldID and starts one for username under a new id and CSRF token,
// keeping the language, so that an id planted before login (session fixation) is worthless
// after it.
func (s *Sessions) rotate(ctx context.Context, oldID string, old *session, username string, ext *external) (string, *session, error) {
	if err := s.remove(ctx, oldID); err != nil {
		return "", nil, err
	}
	lang := "sv"
	if old != nil && old.lang != "" {
		lang = old.lang
	}
	return s.createAs(ctx, &session{lang: lang, username: username, ext: ext})
}

// validCSRF compares a submitted token with the session's in constant time.
func (sess *session) validCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(sess.csrf)) == 1
}

// addSearch keeps a search in the session (the store keeps the newest maxSearches) and returns
// its id.
func (s *Sessions) addSearch(ctx context.Context, id string, sr *search) (string, error) {
	s.init()
	sr.id = randomToken()[:16]
	if err := s.Store.PutItem(ctx, id, sr.id, encodeSearch(sr)); err != nil {
		if errors.Is(err, sessionstore.ErrNotFound) {
			return "", errGone
		}
		return "", err
	}
	s.cache.put(sessionstore.Key(id), sr.id, sr, len(sr.rows))
	return sr.id, nil
}

// findSearch returns the session's search with searchID, or nil.
func (s *Sessions) findSearch(ctx context.Context, id, searchID string) (*search, error) {
	s.init()
	if len(searchID) != 16 {
		return nil, nil
	}
	key := sessionstore.Key(id)
	if sr, ok := s.cache.get(key, searchID).(*search); ok {
		return sr, nil
	}
	b, err := s.Store.Item(ctx, id, searchID)
	if errors.Is(err, sessionstore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	sr, err := decodeSearch(b)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(sr.id), []byte(searchID)) != 1 {
		return nil, nil
	}
	s.cache.put(key, sr.id, sr, len(sr.rows))
	return sr, nil
}
