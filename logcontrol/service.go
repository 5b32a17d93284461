package logcontrol

import (
	"context"
	"strings"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/register"
	"github.com/vakt/vakt/tenant"
)

// Service computes flags for callers allowed to see them. Flags name patients' accesses, so
// they are a read of log data:
//
//   - a person needs account.FollowUp (granskare, chef, loggadministrator); the read is stored
//     in the tenant's own log before anything is computed (PDL 4 kap. 3 §), and a person limited
//     to care units sees only accesses made from them;
//   - a system token needs the reader role, the role that may already search the whole log,
//     for integrations that feed a case-management or SIEM system; its calls are recorded in
//     the server's access log by credential, like its searches.
type Service struct {
	Logs      accesslog.Stores
	Registers register.Stores
	Tenants   tenant.Directory
	Now       func() time.Time // defaults to time.Now
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Flags computes the flags and explained shares of q in the caller's tenant.
func (s *Service) Flags(ctx context.Context, q Query) (Result, error) {
	p := vakt.PrincipalFrom(ctx)
	if p == nil {
		return Result{}, vakt.Errorf(vakt.CodeUnauthorized, "authentication required")
	}
	switch p.Kind {
	case vakt.PrincipalSystem:
		if !p.Has(vakt.RoleReader) {
			return Result{}, vakt.Errorf(vakt.CodeForbidden, "this credential lacks the reader role")
		}
	case vakt.PrincipalPerson:
		if !account.Allowed(p, account.FollowUp) {
			return Result{}, vakt.Errorf(vakt.CodeForbidden, "your roles do not allow this")
		}
		if _, err := ident.ParseHSAID(p.HSAID); err != nil {
			return Result{}, vakt.Errorf(vakt.CodeForbidden, "your account has no valid HSA-id, so your searches cannot be logged")
		}
	default:
		return Result{}, vakt.Errorf(vakt.CodeForbidden, "unknown kind of credential")
	}
	if err := q.Validate(); err != nil {
		return Result{}, err
	}
	t, err := s.Tenants.Tenant(ctx, p.TenantID)
	if vakt.ErrorCode(err) == vakt.CodeNotFound {
		return Result{}, vakt.Errorf(vakt.CodeUnauthorized, "the credential's tenant does not exist")
	}
	if err != nil {
		return Result{}, err
	}
	st, err := s.Logs.Store(ctx, t.ID)
	if err != nil {
		return Result{}, err
	}
	regs, err := s.Registers.Registers(ctx, t.ID)
	if err != nil {
		return Result{}, err
	}
	var visible Visible
	if p.Kind == vakt.PrincipalPerson {
		if err := s.logRead(ctx, st, p, &t, &q); err != nil {
			return Result{}, err
		}
		if p.Limited() {
			if q.CareUnit != "" && !p.InUnits(string(q.CareUnit)) {
				return Result{Flags: []Flag{}, Units: []UnitMonth{}}, nil
			}
			visible = func(u ident.HSAID) bool { return p.InUnits(string(u)) }
		}
	}
	q.AccountSystem = accesslog.FollowUpSystemID(&t)
	return Compute(ctx, StoreEntries{st}, register.Registers{Store: regs}, q, visible)
}

// logRead appends the entry that records a person's flag search to the tenant's log, in the
// shape of the follow-up tool's own entries (accesslog.Service.FollowUp).
func (s *Service) logRead(ctx context.Context, st accesslog.Store, p *vakt.Principal, t *tenant.Tenant, q *Query) error {
	var args strings.Builder
	args.WriteString("Loggkontroll, automatiska flaggor, ")
	args.WriteString(q.From.In(Stockholm).Format(time.DateOnly) + "–" + q.To.In(Stockholm).Add(-time.Nanosecond).Format(time.DateOnly))
	if q.CareUnit != "" {
		args.WriteString(", vårdenhet " + string(q.CareUnit))
	}
	if len(q.Kinds) > 0 {
		ks := make([]string, len(q.Kinds))
		for i, k := range q.Kinds {
			ks[i] = string(k)
		}
		args.WriteString(", flaggor " + strings.Join(ks, " "))
	}
	e := accesslog.PersonEntry(t, p, "vakt loggkontroll",
		accesslog.Activity{Type: accesslog.ActivityRead, Level: "Loggkontroll", Args: args.String(), StartDate: s.now(), Purpose: accesslog.PurposeFollowUp},
		[]accesslog.Resource{{Type: "Åtkomstlogg"}})
	_, err := st.Append(ctx, []accesslog.Pending{accesslog.Prepare(e)})
	return err
}
