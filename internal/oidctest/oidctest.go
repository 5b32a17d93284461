// Package oidctest starts a real OpenID provider for tests: the OpenID-certified op package of
// zitadel/oidc, on a TLS loopback listener, with an in-memory storage written here. Its login
// page signs in whichever person the test chose, without a form, so that an HTTP client can walk
// the whole authorization code flow; with SetLoginButton it shows a page whose button the person
// presses first, as at a real IdP, for tests in a browser.
//
// Faults make the provider misbehave on purpose (a wrong nonce, another audience, an expired
// ID token, a signature by an unpublished key), so that tests see the relying party refuse
// tokens that a real, signed response carries. It is test code only: nothing in vakt's binary
// imports it.
package oidctest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"html/template"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Person is who the provider's login page signs in: the subject and the claims its ID token
// carries besides the standard ones.
type Person struct {
	Subject string
	Claims  map[string]any
	// UserinfoOnly are claims the provider gives only at its userinfo endpoint, not in the ID
	// token, as IdPs do that keep ID tokens small.
	UserinfoOnly map[string]any
	// UserinfoSubject, when set, is the subject the userinfo endpoint names instead of Subject:
	// a provider answering about somebody else.
	UserinfoSubject string
}

// Fault is a way for the provider to misbehave in the next ID tokens it issues.
type Fault int

// Faults.
const (
	NoFault       Fault = iota
	WrongNonce          // the ID token carries another nonce than the request's
	WrongAudience       // the ID token is issued to another client
	Expired             // the ID token expired an hour ago
	ForeignKey          // the ID token is signed by a key the provider does not publish
)

// Provider is a running OpenID provider.
type Provider struct {
	Issuer       string       // the issuer URL (https on loopback)
	ClientID     string       // the one registered client
	ClientSecret string       // its secret (client_secret_basic)
	HTTPClient   *http.Client // trusts the provider's certificate; the relying party uses it

	st  *storage
	srv *httptest.Server
}

// Start starts a provider with one confidential client and stops it when the test ends. The
// client's redirect URIs are set later with AllowRedirect, once the relying party listens.
func Start(t testing.TB) *Provider {
	t.Helper()
	st := newStorage(t)
	mux := http.NewServeMux()
	srv := httptest.NewUnstartedServer(mux)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	var key [32]byte
	rand.Read(key[:])
	provider, err := op.NewProvider(&op.Config{CryptoKey: key, CodeMethodS256: true, AuthMethodPost: true},
		st, op.StaticIssuer(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	st.callback = op.AuthCallbackURL(provider)
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("authRequestID")
		st.mu.Lock()
		button := st.button
		st.mu.Unlock()
		if button {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			if err := loginPage.Execute(w, id); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
			}
			return
		}
		if err := st.complete(id); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, st.callback(op.ContextWithIssuer(r.Context(), srv.URL), id), http.StatusFound)
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		id := r.PostFormValue("authRequestID")
		if err := st.complete(id); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, st.callback(op.ContextWithIssuer(r.Context(), srv.URL), id), http.StatusFound)
	})
	mux.Handle("/", provider)
	p := &Provider{Issuer: srv.URL, ClientID: st.client.id, ClientSecret: st.client.secret, HTTPClient: srv.Client(), st: st, srv: srv}
	st.client.loginURL = srv.URL + "/login?authRequestID="
	return p
}

// loginPage is the provider's own login page in SetLoginButton mode: one button that signs in
// the chosen person.
var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><title>Testinloggning</title></head>
<body><form method="post" action="/login"><input type="hidden" name="authRequestID" value="{{.}}">
<button id="idp-login">Logga in</button></form></body></html>
`))

// SetLoginButton makes the login page wait for the person to press its button before it signs
// them in. The navigation back to the relying party then starts on the provider's own page, as
// at a real IdP where the person types the card's PIN: a browser treats it as another site's.
func (p *Provider) SetLoginButton(on bool) {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	p.st.button = on
}

// Certificate is the provider's TLS certificate, for browsers that must trust it.
func (p *Provider) Certificate() *x509.Certificate { return p.srv.Certificate() }

// AllowRedirect registers uri as a redirect URI of the client, and post-logout URIs likewise.
func (p *Provider) AllowRedirect(uris ...string) {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	p.st.client.redirects = append(p.st.client.redirects, uris...)
}

// SetPerson chooses who the login page signs in from now on.
func (p *Provider) SetPerson(person Person) {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	p.st.person = person
}

// SetFault makes the next ID tokens misbehave (NoFault: behave again).
func (p *Provider) SetFault(f Fault) {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	p.st.fault = f
	p.st.swapped = false
}

// EndedSessions returns how many RP-initiated logouts the provider has handled.
func (p *Provider) EndedSessions() int {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	return p.st.ended
}

// storage is the provider's state, in memory.
type storage struct {
	mu       sync.Mutex
	client   *client
	person   Person
	fault    Fault
	swapped  bool // a WrongAudience login has its code
	requests map[string]*authRequest
	codes    map[string]string // code → request id
	tokens   map[string]*authRequest
	ended    int
	button   bool // the login page waits for its button
	callback func(context.Context, string) string

	key, foreign *rsa.PrivateKey
	keyID        string
}

func newStorage(t testing.TB) *storage {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &storage{
		client:   &client{id: "vakt", secret: randomID()},
		requests: map[string]*authRequest{}, codes: map[string]string{}, tokens: map[string]*authRequest{},
		key: key, foreign: foreign, keyID: randomID()[:8],
	}
}

func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

var errNotFound = errors.New("not found")

// complete marks request id as authenticated by the chosen person.
func (s *storage) complete(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	req := s.requests[id]
	if req == nil {
		return errNotFound
	}
	if s.person.Subject == "" {
		return errors.New("the test chose no person")
	}
	req.subject, req.claims, req.done, req.authTime = s.person.Subject, s.person.Claims, true, time.Now()
	req.userinfo, req.userinfoSubject = s.person.UserinfoOnly, s.person.UserinfoSubject
	req.fault = s.fault
	return nil
}

// authRequest is one authorization request and what the login decided about it.
type authRequest struct {
	id      string
	req     oidc.AuthRequest
	subject string
	claims  map[string]any
	done    bool
	// userinfo claims and subject (see Person)
	userinfo        map[string]any
	userinfoSubject string
	authTime        time.Time
	fault           Fault
	coded           bool // a code was issued for it; from then on a WrongAudience request names another client
}

func (a *authRequest) GetID() string          { return a.id }
func (a *authRequest) GetACR() string         { return "" }
func (a *authRequest) GetAMR() []string       { return []string{"smartcard"} }
func (a *authRequest) GetAuthTime() time.Time { return a.authTime }
func (a *authRequest) GetClientID() string {
	if a.fault == WrongAudience && a.coded {
		return "another-client"
	}
	return a.req.ClientID
}
func (a *authRequest) GetNonce() string {
	if a.fault == WrongNonce {
		return "not-" + a.req.Nonce
	}
	return a.req.Nonce
}
func (a *authRequest) GetAudience() []string { return []string{a.GetClientID()} }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.req.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.req.CodeChallenge, Method: a.req.CodeChallengeMethod}
}
func (a *authRequest) GetRedirectURI() string             { return a.req.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType { return a.req.ResponseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return a.req.ResponseMode }
func (a *authRequest) GetScopes() []string                { return a.req.Scopes }
func (a *authRequest) GetState() string                   { return a.req.State }
func (a *authRequest) GetSubject() string                 { return a.subject }
func (a *authRequest) Done() bool                         { return a.done }

// client is the relying party's registration.
type client struct {
	id, secret string
	redirects  []string
	loginURL   string
	fault      func() Fault
	swapped    bool
}

func (c *client) GetID() string {
	if c.swapped {
		// once a WrongAudience login has its code, the registration answers as another client
		// at the token endpoint, so that the ID token is issued to that one
		return "another-client"
	}
	return c.id
}
func (c *client) RedirectURIs() []string              { return c.redirects }
func (c *client) PostLogoutRedirectURIs() []string    { return c.redirects }
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *client) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodBasic }
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType         { return []oidc.GrantType{oidc.GrantTypeCode} }
func (c *client) LoginURL(id string) string            { return c.loginURL + id }
func (c *client) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeBearer }
func (c *client) DevMode() bool                        { return false }
func (c *client) IsScopeAllowed(string) bool           { return false }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c *client) ClockSkew() time.Duration             { return 0 }
func (c *client) IDTokenLifetime() time.Duration {
	if c.fault != nil && c.fault() == Expired {
		return -time.Hour
	}
	return 5 * time.Minute
}
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// snapshot returns a copy of the client that answers for the current fault.
func (s *storage) snapshot() *client {
	c := *s.client
	c.redirects = slices.Clone(c.redirects)
	f := s.fault
	c.fault = func() Fault { return f }
	c.swapped = s.swapped
	return &c
}

func (s *storage) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &authRequest{id: randomID(), req: *req}
	s.requests[a.id] = a
	return a, nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.requests[id]; a != nil {
		return a, nil
	}
	return nil, errNotFound
}

func (s *storage) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.requests[s.codes[code]]; a != nil {
		return a, nil
	}
	return nil, errNotFound
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = id
	if a := s.requests[id]; a != nil && a.fault == WrongAudience {
		a.coded, s.swapped = true, true
	}
	return nil
}

func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.requests, id)
	for code, rid := range s.codes {
		if rid == id {
			delete(s.codes, code)
		}
	}
	return nil
}

func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := randomID()
	if a, ok := req.(*authRequest); ok {
		s.tokens[id] = a
	}
	return id, time.Now().Add(5 * time.Minute), nil
}

func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errors.New("refresh tokens are not offered")
}

func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, op.ErrInvalidRefreshToken
}

func (s *storage) TerminateSession(context.Context, string, string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended++
	return nil
}

func (s *storage) RevokeToken(context.Context, string, string, string) *oidc.Error { return nil }

func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

// signingKey is an RS256 key as the op package wants it.
type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k signingKey) Key() any                                    { return k.key }
func (k signingKey) ID() string                                  { return k.id }

type publicKey struct{ signingKey }

func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.key.PublicKey }

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fault == ForeignKey {
		return signingKey{id: s.keyID, key: s.foreign}, nil
	}
	return signingKey{id: s.keyID, key: s.key}, nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{signingKey{id: s.keyID, key: s.key}}}, nil
}

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id != s.client.id {
		return nil, errNotFound
	}
	return s.snapshot(), nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Compared by hash so that the comparison takes the same time whatever the secret.
	if id != s.client.id || sha256.Sum256([]byte(secret)) != sha256.Sum256([]byte(s.client.secret)) {
		return errors.New("wrong client credentials")
	}
	return nil
}

// SetUserinfoFromScopes sets the subject only; the claims follow from the request below.
func (s *storage) SetUserinfoFromScopes(_ context.Context, ui *oidc.UserInfo, subject, _ string, _ []string) error {
	ui.Subject = subject
	return nil
}

// SetUserinfoFromRequest puts the claims of the person who completed the request into its ID
// token.
func (s *storage) SetUserinfoFromRequest(_ context.Context, ui *oidc.UserInfo, req op.IDTokenRequest, _ []string) error {
	a, ok := req.(*authRequest)
	if !ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range a.claims {
		ui.AppendClaims(k, v)
	}
	return nil
}

func (s *storage) SetUserinfoFromToken(_ context.Context, ui *oidc.UserInfo, tokenID, subject, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ui.Subject = subject
	if a := s.tokens[tokenID]; a != nil {
		for k, v := range a.claims {
			ui.AppendClaims(k, v)
		}
		for k, v := range a.userinfo {
			ui.AppendClaims(k, v)
		}
		if a.userinfoSubject != "" {
			ui.Subject = a.userinfoSubject
		}
	}
	return nil
}

func (s *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errors.New("introspection is not offered")
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errNotFound
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("JWT profile grants are not offered")
}

func (s *storage) Health(context.Context) error { return nil }
