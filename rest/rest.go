// Package rest is vakt's REST/JSON interface, the primary one for producing systems and
// integrators: ingest, search, export and lookup of access-log entries, described by the
// OpenAPI document served at /openapi.json.
//
// The package translates HTTP to calls of accesslog.Service and back. It maps vakt errors to
// HTTP statuses in one table (statusOf), never sends internal error text to clients, and keeps
// personnummer out of URLs: every query that names a person travels in a POST body.
package rest

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/auth"
	"github.com/vakt/vakt/logcontrol"
	"github.com/vakt/vakt/register"
)

// Limits of request bodies.
const (
	DefaultMaxBodyBytes = 64 << 20 // an ingest request; 10,000 entries of 6 KB
	maxQueryBodyBytes   = 64 << 10 // a search or export request
)

// API serves the REST interface.
type API struct {
	Service      *accesslog.Service
	Auth         *auth.Authenticator
	Logger       *slog.Logger
	MaxBodyBytes int64
	// OnAppend, if set, is told about every successful append (for metrics).
	OnAppend func(tenantID string, accepted, duplicates int)

	// Registers and Controls, when set, serve register imports and log controls' flags.
	Registers        *register.Service
	Controls         *logcontrol.Service
	MaxRegisterBytes int64 // defaults to DefaultMaxRegisterBytes
}

//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the OpenAPI 3 document of the interface.
func OpenAPI() []byte { return openAPI }

// Register adds the API's routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.Handle("POST /api/v1/logs", a.authenticated(a.handleAppend))
	mux.Handle("POST /api/v1/logs/search", a.authenticated(a.handleSearch))
	mux.Handle("POST /api/v1/logs/export", a.authenticated(a.handleExport))
	mux.Handle("GET /api/v1/logs/{logId}", a.authenticated(a.handleGet))
	mux.Handle("GET /api/v1/logs/{logId}/proof", a.authenticated(a.handleProof))
	mux.Handle("GET /api/v1/checkpoint", a.authenticated(a.handleCheckpoint))
	mux.Handle("GET /api/v1/checkpoint/key", a.authenticated(a.handleCheckpointKey))
	mux.Handle("GET /api/v1/consistency", a.authenticated(a.handleConsistency))
	if a.Registers != nil {
		mux.Handle("PUT /api/v1/registers/{kind}", a.authenticated(a.handleRegisterImport))
	}
	if a.Controls != nil {
		mux.Handle("POST /api/v1/controls/flags/search", a.authenticated(a.handleFlagSearch))
	}
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openAPI)
	})
}

func (a *API) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}

// authenticated wraps a handler with bearer-token authentication: the principal goes into the
// request context, where the service enforces roles and tenants.
func (a *API) authenticated(h func(http.ResponseWriter, *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := Bearer(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vakt"`)
			a.writeError(w, r, vakt.Errorf(vakt.CodeUnauthorized, "an Authorization: Bearer token is required"))
			return
		}
		p, err := a.Auth.Authenticate(r.Context(), token)
		if err != nil {
			if vakt.ErrorCode(err) == vakt.CodeUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="vakt", error="invalid_token"`)
			}
			a.writeError(w, r, err)
			return
		}
		NotePrincipal(r.Context(), p.ID, p.TenantID)
		h(w, r.WithContext(vakt.WithPrincipal(r.Context(), p)))
	})
}

// Bearer returns the token of an Authorization: Bearer header; the SOAP surface uses it too.
func Bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	const prefix = "Bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", false
	}
	return strings.TrimSpace(h[len(prefix):]), true
}

// PrincipalSlot lets the server's access log learn which credential made a request without the
// rest package logging anything itself. The server puts an empty slot in the context; the
// authentication middleware fills it. LogicalAddress is the RIV-TA header of a SOAP request.
type PrincipalSlot struct{ ID, TenantID, LogicalAddress string }

type principalSlot struct{}

// WithPrincipalSlot returns a context carrying slot.
func WithPrincipalSlot(ctx context.Context, slot *PrincipalSlot) context.Context {
	return context.WithValue(ctx, principalSlot{}, slot)
}

// NotePrincipal records the authenticated credential in the context's slot, if there is one;
// for other surfaces (SOAP) that authenticate on their own.
func NotePrincipal(ctx context.Context, id, tenantID string) {
	if s, ok := ctx.Value(principalSlot{}).(*PrincipalSlot); ok {
		s.ID, s.TenantID = id, tenantID
	}
}

// NoteLogicalAddress records a SOAP request's LogicalAddress in the context's slot.
func NoteLogicalAddress(ctx context.Context, addr string) {
	if s, ok := ctx.Value(principalSlot{}).(*PrincipalSlot); ok {
		s.LogicalAddress = addr
	}
}

// errorBody is the JSON of every error response.
type errorBody struct {
	Code    vakt.Code      `json:"code"`
	Message string         `json:"message"`
	Errors  []vakt.Problem `json:"errors,omitempty"`
}

// statusOf is the one mapping from vakt error codes to HTTP statuses.
func statusOf(code vakt.Code) int {
	switch code {
	case vakt.CodeInvalid:
		return http.StatusBadRequest
	case vakt.CodeUnauthorized:
		return http.StatusUnauthorized
	case vakt.CodeForbidden:
		return http.StatusForbidden
	case vakt.CodeNotFound:
		return http.StatusNotFound
	case vakt.CodeConflict:
		return http.StatusConflict
	case vakt.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case vakt.CodeUnsupported:
		return http.StatusUnsupportedMediaType
	case vakt.CodeUnprocessed:
		return http.StatusUnprocessableEntity
	case vakt.CodeRateLimited:
		return http.StatusTooManyRequests
	case vakt.CodeUnavailable:
		return http.StatusServiceUnavailable
	case vakt.CodeCanceled:
		return 499 // client closed request; never sent, only logged
	}
	return http.StatusInternalServerError
}

// requireRole answers 403 unless the request's principal holds role. Handlers check it before
// reading a body, so that a credential without the role cannot make the server parse one; the
// service checks again.
func (a *API) requireRole(w http.ResponseWriter, r *http.Request, role vakt.Role) bool {
	if vakt.PrincipalFrom(r.Context()).Has(role) {
		return true
	}
	a.writeError(w, r, vakt.Errorf(vakt.CodeForbidden, "this credential lacks the %s role", role))
	return false
}

// writeError answers with err. Internal errors are logged with their detail and answered with
// a generic message; caller errors are not logged (the access log has their status).
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := vakt.ErrorCode(err)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		code = vakt.CodeTooLarge
		err = vakt.Errorf(vakt.CodeTooLarge, "request body exceeds %d bytes", mbe.Limit)
	}
	status := statusOf(code)
	if code == vakt.CodeInternal {
		a.logger().ErrorContext(r.Context(), "request failed", "route", r.Pattern, "request_id", vakt.RequestIDFrom(r.Context()), "err", err)
	}
	if code == vakt.CodeUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	if status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="vakt", error="invalid_token"`)
	}
	if code == vakt.CodeCanceled {
		// The client is gone; the status only reaches the access log and metrics.
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, errorBody{Code: code, Message: vakt.ErrorMessage(err), Errors: vakt.ErrorProblems(err)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}
