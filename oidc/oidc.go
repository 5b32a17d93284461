// Package oidc logs people in through an OpenID Connect provider (in practice a region's IdP,
// where staff authenticate with their SITHS card): the authorization code flow with PKCE, a
// state and a nonce, ID-token verification with coreos/go-oidc, and the mapping of the token's
// claims to the accounts the person may act as (Users).
//
// The package keeps no sessions: the web tool binds state, nonce and verifier to the browser's
// pre-login session and hands them back to Exchange. It never logs; the client secret is held
// only to authenticate to the token endpoint.
package oidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/account"
)

// Config is a relying party's registration at the provider.
type Config struct {
	// Issuer is the provider's issuer URL; its discovery document is read from
	// Issuer + "/.well-known/openid-configuration" and must name the same issuer.
	Issuer string
	// ClientID and ClientSecret are vakt's registration (client_secret_basic).
	ClientID     string
	ClientSecret string
	// RedirectURL is vakt's callback as registered at the provider:
	// <public base URL>/login/oidc/callback.
	RedirectURL string
	// Scopes are requested besides openid (e.g. profile, or the IdP's scope for HSA claims).
	Scopes []string
	Claims ClaimMapping
	// Userinfo says when the provider's userinfo endpoint is asked for the person's claims
	// besides the ID token (UserinfoMissing when empty).
	Userinfo UserinfoMode
	// HTTPClient talks to the provider (discovery, keys, token endpoint); one with a 10-second
	// timeout when nil.
	HTTPClient *http.Client
}

// UserinfoMode says when Exchange reads the userinfo endpoint. Some providers keep ID tokens
// small and hand out the rest of a person's claims (often the roles and the HSA-id) only there.
type UserinfoMode string

// Modes of UserinfoMode.
const (
	// UserinfoMissing reads userinfo when the ID token lacks the HSA-id or the roles claim.
	UserinfoMissing UserinfoMode = "missing"
	// UserinfoAlways reads userinfo at every login (claims the ID token has still win).
	UserinfoAlways UserinfoMode = "always"
	// UserinfoNever reads the ID token only.
	UserinfoNever UserinfoMode = "never"
)

// Validate checks c before anything starts. Error texts name the flag's subject, never the secret.
func (c *Config) Validate() error {
	switch c.Userinfo {
	case "", UserinfoMissing, UserinfoAlways, UserinfoNever:
	default:
		return errors.New("the OIDC userinfo mode must be missing, always or never")
	}
	u, err := url.Parse(c.Issuer)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("the OIDC issuer must be an absolute URL without query or fragment")
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname())) {
		return errors.New("the OIDC issuer must use https (http only on a loopback address, for tests)")
	}
	if c.ClientID == "" {
		return errors.New("the OIDC client id is required")
	}
	if c.ClientSecret == "" {
		return errors.New("the OIDC client secret is required")
	}
	r, err := url.Parse(c.RedirectURL)
	if err != nil || r.Host == "" || (r.Scheme != "https" && r.Scheme != "http") {
		return errors.New("the OIDC redirect URL must be an absolute http or https URL")
	}
	return nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Client logs people in at one provider. The provider's metadata is fetched at the first login
// rather than at start, so that vakt (and its log API) starts while the IdP is unreachable; a
// failed fetch is retried at most every retryAfter.
type Client struct {
	cfg Config

	mu         sync.Mutex
	provider   *gooidc.Provider
	endSession string
	failedAt   time.Time
}

const retryAfter = 5 * time.Second

// New returns a client for cfg, which must validate.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	cfg.Claims = cfg.Claims.withDefaults()
	return &Client{cfg: cfg}, nil
}

// Claims returns the claim mapping in use, defaults filled in.
func (c *Client) Claims() ClaimMapping { return c.cfg.Claims }

// discover returns the provider's metadata, fetching it if need be.
func (c *Client) discover(ctx context.Context) (*gooidc.Provider, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider != nil {
		return c.provider, nil
	}
	if !c.failedAt.IsZero() && time.Since(c.failedAt) < retryAfter {
		return nil, vakt.Errorf(vakt.CodeUnavailable, "the identity provider was unreachable moments ago")
	}
	// The provider keeps this context for refreshing its keys in later requests, so it must
	// outlive this one; the HTTP client's timeout bounds the fetch.
	p, err := gooidc.NewProvider(gooidc.ClientContext(context.WithoutCancel(ctx), c.cfg.HTTPClient), c.cfg.Issuer)
	if err != nil {
		c.failedAt = time.Now()
		return nil, wrap(vakt.CodeUnavailable, "the identity provider's metadata could not be read", err)
	}
	var extra struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if p.Claims(&extra) == nil {
		if u, err := url.Parse(extra.EndSession); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
			c.endSession = extra.EndSession
		}
	}
	c.provider = p
	return p, nil
}

func (c *Client) oauth2(p *gooidc.Provider) *oauth2.Config {
	return &oauth2.Config{
		ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret, RedirectURL: c.cfg.RedirectURL,
		Endpoint: p.Endpoint(), Scopes: append([]string{gooidc.ScopeOpenID}, c.cfg.Scopes...),
	}
}

// Start is the secrets of one login attempt, kept on the server until the callback.
type Start struct {
	State    string // echoed by the provider; ties the callback to this attempt
	Nonce    string // must come back inside the ID token; ties the token to this attempt
	Verifier string // PKCE code verifier; only its S256 hash goes to the provider
}

// NewStart returns fresh random secrets for a login attempt.
func NewStart() Start {
	return Start{State: oauth2.GenerateVerifier(), Nonce: oauth2.GenerateVerifier(), Verifier: oauth2.GenerateVerifier()}
}

// AuthCodeURL returns where to send the browser to log in. CodeUnavailable when the provider's
// metadata cannot be read.
func (c *Client) AuthCodeURL(ctx context.Context, s Start) (string, error) {
	p, err := c.discover(ctx)
	if err != nil {
		return "", err
	}
	return c.oauth2(p).AuthCodeURL(s.State, gooidc.Nonce(s.Nonce), oauth2.S256ChallengeOption(s.Verifier)), nil
}

// Login is a verified login: the accounts the person may act as (see Users) and the token's
// subject at the provider.
type Login struct {
	Users   []account.User
	Subject string
}

// Exchange redeems code with the attempt's verifier, verifies the ID token (signature by a key
// the provider publishes, issuer, audience = this client, expiry, and the attempt's nonce) and
// maps its claims. Errors: CodeUnauthorized when the code or the token is refused,
// CodeUnavailable when the provider cannot be reached, *Rejection when the claims are refused.
func (c *Client) Exchange(ctx context.Context, s Start, code string) (Login, error) {
	p, err := c.discover(ctx)
	if err != nil {
		return Login{}, err
	}
	hctx := context.WithValue(ctx, oauth2.HTTPClient, c.cfg.HTTPClient)
	tok, err := c.oauth2(p).Exchange(hctx, code, oauth2.VerifierOption(s.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return Login{}, wrap(vakt.CodeUnauthorized, "the identity provider refused the code", err)
		}
		return Login{}, wrap(vakt.CodeUnavailable, "the identity provider's token endpoint could not be reached", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return Login{}, vakt.Errorf(vakt.CodeUnauthorized, "the identity provider sent no ID token")
	}
	idt, err := p.Verifier(&gooidc.Config{ClientID: c.cfg.ClientID}).Verify(gooidc.ClientContext(ctx, c.cfg.HTTPClient), raw)
	if err != nil {
		return Login{}, wrap(vakt.CodeUnauthorized, "the ID token did not verify", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(s.Nonce)) != 1 {
		return Login{}, vakt.Errorf(vakt.CodeUnauthorized, "the ID token carries another nonce than this login's")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return Login{}, wrap(vakt.CodeUnauthorized, "the ID token's claims could not be read", err)
	}
	if c.wantUserinfo(p, claims) {
		if err := c.mergeUserinfo(ctx, p, tok, idt.Subject, claims); err != nil {
			return Login{}, err
		}
	}
	users, err := Users(claims, c.cfg.Claims)
	if err != nil {
		return Login{}, err
	}
	return Login{Users: users, Subject: idt.Subject}, nil
}

// wantUserinfo reports whether a login with the ID token's claims reads userinfo too.
func (c *Client) wantUserinfo(p *gooidc.Provider, claims map[string]any) bool {
	switch c.cfg.Userinfo {
	case UserinfoNever:
		return false
	case UserinfoAlways:
		return true
	}
	if p.UserInfoEndpoint() == "" {
		return false // the claims stay missing, and the login is refused for that
	}
	_, hsa := claims[c.cfg.Claims.HSAID]
	_, roles := claims[c.cfg.Claims.Roles]
	return !hsa || !roles
}

// mergeUserinfo reads the userinfo endpoint with the login's access token and adds its claims
// to claims where the ID token has none of that name: the ID token wins, being the assertion
// the provider signed for this very login (its nonce), while userinfo only fills in. The
// userinfo's subject must be the ID token's (OpenID Connect Core 1.0, 5.3.2), else the answer
// is about somebody else and the login is refused.
func (c *Client) mergeUserinfo(ctx context.Context, p *gooidc.Provider, tok *oauth2.Token, subject string, claims map[string]any) error {
	if p.UserInfoEndpoint() == "" {
		return vakt.Errorf(vakt.CodeUnavailable, "the identity provider offers no userinfo endpoint")
	}
	info, err := p.UserInfo(gooidc.ClientContext(ctx, c.cfg.HTTPClient), oauth2.StaticTokenSource(tok))
	if err != nil {
		return wrap(vakt.CodeUnavailable, "the identity provider's userinfo endpoint could not be read", err)
	}
	if subtle.ConstantTimeCompare([]byte(info.Subject), []byte(subject)) != 1 {
		return vakt.Errorf(vakt.CodeUnauthorized, "the userinfo endpoint answered for another subject than the ID token's")
	}
	var extra map[string]any
	if err := info.Claims(&extra); err != nil {
		return wrap(vakt.CodeUnauthorized, "the userinfo claims could not be read", err)
	}
	for k, v := range extra {
		if _, ok := claims[k]; !ok {
			claims[k] = v
		}
	}
	return nil
}

// EndSessionURL returns the provider's end_session_endpoint with this client's id and
// postLogout as where to return (RP-initiated logout 1.0), or "" if the provider advertises
// none or its metadata has not been read. It sends no id_token_hint: the link is a URL, which
// browsers keep in their history, and an ID token may hold personal data.
func (c *Client) EndSessionURL(postLogout string) string {
	c.mu.Lock()
	end := c.endSession
	c.mu.Unlock()
	if end == "" {
		return ""
	}
	u, err := url.Parse(end)
	if err != nil {
		return ""
	}
	q := u.Query()
	q.Set("client_id", c.cfg.ClientID)
	if postLogout != "" {
		q.Set("post_logout_redirect_uri", postLogout)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// wrap returns an error with code and message for callers and the cause for the server's log.
func wrap(code vakt.Code, msg string, cause error) error {
	return fmt.Errorf("%w (%v)", vakt.Errorf(code, "%s", msg), cause)
}

// String describes the client without its secret, for start-up logs.
func (c *Client) String() string {
	return fmt.Sprintf("oidc issuer=%s client_id=%s redirect=%s", c.cfg.Issuer, c.cfg.ClientID, c.cfg.RedirectURL)
}
