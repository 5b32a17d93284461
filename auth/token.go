// Package auth turns credentials into principals. Producing systems present bearer tokens, each
// bound to one tenant and one role; only a SHA-256 hash of a token is ever stored, so a copy of
// the database does not yield usable credentials. (People log in through the web UI; mutual TLS
// for systems comes later.)
//
// The package does no I/O itself; drivers implement CredentialStore.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"github.com/vakt/vakt"
)

// TokenPrefix starts every token so that secret scanners and people recognise one.
const TokenPrefix = "vakt_"

// Credential is a system's bearer token as stored: everything but the secret.
type Credential struct {
	ID        string // public handle, used to list and revoke
	TenantID  string
	Role      vakt.Role
	Label     string // what the token is for, e.g. "Cosmic prod"
	CreatedAt time.Time
	RevokedAt time.Time // zero while valid
}

// CredentialStore persists credentials. Implementations must make a credential created or
// revoked by another process on the same storage effective without a restart.
type CredentialStore interface {
	// CreateCredential stores c with the SHA-256 hash of its token.
	CreateCredential(ctx context.Context, c Credential, tokenHash []byte) error
	// CredentialByHash returns the credential whose token hashes to tokenHash, or CodeNotFound.
	CredentialByHash(ctx context.Context, tokenHash []byte) (Credential, error)
	// Credentials returns the credentials of a tenant (all tenants when tenantID is empty).
	Credentials(ctx context.Context, tenantID string) ([]Credential, error)
	// RevokeCredential marks a credential revoked, or returns CodeNotFound.
	RevokeCredential(ctx context.Context, id string, at time.Time) error
}

// NewToken returns a fresh token (256 random bits) and its credential id.
func NewToken() (token, id string) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	token = TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	var idb [6]byte
	if _, err := rand.Read(idb[:]); err != nil {
		panic(err)
	}
	return token, "tok-" + hex.EncodeToString(idb[:])
}

// HashToken returns the stored form of a token. A fast hash suffices: tokens carry 256 random
// bits, so there is nothing for a slow hash to protect against guessing.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Authenticator checks bearer tokens.
type Authenticator struct {
	Store CredentialStore
}

// Authenticate returns the principal of token. Unknown, malformed and revoked tokens all give the
// same CodeUnauthorized error, so a caller learns nothing about which it was.
func (a *Authenticator) Authenticate(ctx context.Context, token string) (*vakt.Principal, error) {
	unauthorized := vakt.Errorf(vakt.CodeUnauthorized, "missing, unknown or revoked token")
	if !strings.HasPrefix(token, TokenPrefix) || len(token) > 128 {
		return nil, unauthorized
	}
	c, err := a.Store.CredentialByHash(ctx, HashToken(token))
	if vakt.ErrorCode(err) == vakt.CodeNotFound {
		return nil, unauthorized
	}
	if err != nil {
		return nil, err
	}
	if !c.RevokedAt.IsZero() {
		return nil, unauthorized
	}
	return &vakt.Principal{Kind: vakt.PrincipalSystem, ID: c.ID, TenantID: c.TenantID, Roles: []vakt.Role{c.Role}}, nil
}
