// Package vakt holds what every part of the service shares: the error model that each surface
// (REST, RIV-TA, web) maps once, and the acting principal carried in a request's context.
//
// It does no I/O and imports no driver.
package vakt

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Code classifies an Error so that each surface can map it to its own status (HTTP status,
// RIV-TA result code, translated UI text) without looking at message text.
type Code string

// Error codes. Anything that is not a *Error, or carries CodeInternal, is internal: users see a
// generic text and operators find the detail in the server log.
const (
	CodeInvalid      Code = "invalid"       // input breaks a rule; Problems names field and rule
	CodeConflict     Code = "conflict"      // contradicts stored state (same logId, other content)
	CodeNotFound     Code = "not_found"     // no such object, or not visible to the caller
	CodeUnauthorized Code = "unauthorized"  // no or unknown credential
	CodeForbidden    Code = "forbidden"     // credential known but not allowed to do this
	CodeTooLarge     Code = "too_large"     // request exceeds a size limit
	CodeUnavailable  Code = "unavailable"   // overload or a dependency is down; retry later
	CodeInternal     Code = "internal"      // a bug or an unexpected failure
	CodeUnsupported  Code = "unsupported"   // media type or feature not offered
	CodeCanceled     Code = "canceled"      // the caller went away
	CodeRateLimited  Code = "rate_limited"  // too many requests from one caller
	CodeUnprocessed  Code = "unprocessable" // well-formed but semantically unusable (e.g. unknown tenant)
)

// Problem names one broken rule in a request: which item (Index into a batch, -1 when the request
// has no items), which field (a JSON path such as "resources[0].patient.patientId"), and why.
// A Reason never contains the offending value, because values may be personnummer.
type Problem struct {
	Index  int    `json:"index"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// Error is the one error type that callers outside a package may inspect. Message is safe to show
// to the caller; it must never contain personal identity numbers.
type Error struct {
	Code     Code
	Message  string
	Problems []Problem
}

// Error implements error.
func (e *Error) Error() string {
	if len(e.Problems) == 0 {
		return fmt.Sprintf("vakt %s: %s", e.Code, e.Message)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "vakt %s: %s", e.Code, e.Message)
	for i, p := range e.Problems {
		if i == 3 {
			fmt.Fprintf(&b, " (and %d more)", len(e.Problems)-3)
			break
		}
		fmt.Fprintf(&b, "; [%d] %s: %s", p.Index, p.Field, p.Reason)
	}
	return b.String()
}

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a CodeInvalid error listing problems.
func Invalid(message string, problems ...Problem) *Error {
	return &Error{Code: CodeInvalid, Message: message, Problems: problems}
}

// ErrorCode returns the code of the first *Error in err's chain, CodeCanceled for context
// cancellation, and CodeInternal for anything else. A nil error has no code.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return CodeCanceled
	}
	return CodeInternal
}

// ErrorMessage returns the caller-safe message of err: the Message of an *Error, a generic text
// otherwise, so that internal detail never reaches a user.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Code != CodeInternal {
		return e.Message
	}
	return "internal error"
}

// ErrorProblems returns the problems of the first *Error in err's chain.
func ErrorProblems(err error) []Problem {
	var e *Error
	if errors.As(err, &e) {
		return e.Problems
	}
	return nil
}

// Role is what a credential may do within its tenant. Names that leave the process keep the
// spelling used in configuration and the API.
type Role string

// Roles of system credentials.
const (
	RoleWriter Role = "writer" // may store log entries
	RoleReader Role = "reader" // may search and export log entries
)

// Roles of people, per tenant and optionally limited to care units. The names are the Swedish
// ones care providers use in their routines for log follow-up (HSLF-FS 2016:40 4 kap.); what each
// may do is decided in one table, account.Allowed, and documented in docs/UI.md.
const (
	RoleReviewer        Role = "granskare"                // follows up accesses (logguppföljning)
	RoleManager         Role = "chef"                     // verksamhetschef: follows up their units' accesses
	RoleLogAdmin        Role = "loggadministrator"        // takes out and exports logs for the care provider
	RoleLocalAdmin      Role = "lokal_administrator"      // administers people's accounts locally
	RolePermissionAdmin Role = "behorighetsadministrator" // reviews who holds which role
)

// PersonRoles returns the roles a person's account may hold, in the order the UI lists them.
func PersonRoles() []Role {
	return []Role{RoleReviewer, RoleManager, RoleLogAdmin, RoleLocalAdmin, RolePermissionAdmin}
}

// ParsePersonRole returns the person role named by s.
func ParsePersonRole(s string) (Role, error) {
	for _, r := range PersonRoles() {
		if string(r) == s {
			return r, nil
		}
	}
	return "", Errorf(CodeInvalid, "unknown role %q (want granskare, chef, loggadministrator, lokal_administrator or behorighetsadministrator)", s)
}

// ParseRole returns the Role named by s.
func ParseRole(s string) (Role, error) {
	switch Role(s) {
	case RoleWriter, RoleReader:
		return Role(s), nil
	}
	return "", Errorf(CodeInvalid, "unknown role %q (want writer or reader)", s)
}

// PrincipalKind tells whether a principal is a producing system or a person.
type PrincipalKind string

// Principal kinds.
const (
	PrincipalSystem PrincipalKind = "system"
	PrincipalPerson PrincipalKind = "person"
)

// Principal is the authenticated caller of a request: which tenant it acts in and with which
// role. Services take it from the context and enforce tenant isolation with it; drivers never
// see it.
type Principal struct {
	Kind     PrincipalKind
	ID       string // credential id for systems, HSA-id or user name for persons
	TenantID string
	Roles    []Role

	// Persons only: who they are, so that their reads of the log can themselves be logged
	// under their own name (PDL 4 kap. 3 §), and the care units they are limited to.
	Name      string
	HSAID     string   // the person's HSA-id: user.userId of the entries about their reads
	Title     string   // optional
	CareUnits []string // HSA-ids of the care units the person is limited to; empty: the whole tenant
}

// Limited reports whether p sees only the entries of some care units.
func (p *Principal) Limited() bool { return p != nil && len(p.CareUnits) > 0 }

// InUnits reports whether unit is one of the care units p may see: any unit when p is not
// limited to some.
func (p *Principal) InUnits(unit string) bool {
	if !p.Limited() {
		return p != nil
	}
	for _, u := range p.CareUnits {
		if u == unit {
			return true
		}
	}
	return false
}

// Has reports whether p holds role r.
func (p *Principal) Has(r Role) bool {
	if p == nil {
		return false
	}
	for _, x := range p.Roles {
		if x == r {
			return true
		}
	}
	return false
}

type principalKey struct{}

// WithPrincipal returns a context that carries p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal carried by ctx, or nil.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

type requestIDKey struct{}

// WithRequestID returns a context carrying the request id that the access log records, so that
// other log lines about the same request can name it.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFrom returns the request id carried by ctx, or "".
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
