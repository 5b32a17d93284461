package accesslog

import (
	"context"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/tenant"
)

// PersonEntry returns the entry vakt stores in tenant t's own log about something person p did
// in one of its tools (a read of log data, a change of reference data): user is p (HSA-id, name,
// title, the tenant's first care provider, and p's first care unit or, for a person of the
// whole tenant, the care provider), system is vakt's own for the tenant (FollowUpSystemID) under
// systemName, and each resource without a care provider gets the tenant's. It is the shape of
// the follow-up tool's and account administration's entries, so that a patient's or a staff
// member's history shows what people did in vakt like any other access. The caller appends it.
func PersonEntry(t *tenant.Tenant, p *vakt.Principal, systemName string, a Activity, resources []Resource) Entry {
	cp := CareProvider{ID: t.CareProviders[0], Name: t.Name}
	unit := CareUnit{ID: cp.ID}
	if p.Limited() {
		unit = CareUnit{ID: ident.HSAID(p.CareUnits[0])}
	}
	res := make([]Resource, len(resources))
	for i, r := range resources {
		if r.CareProvider.ID == "" {
			r.CareProvider = CareProvider{ID: cp.ID}
		}
		res[i] = r
	}
	a.Args = truncateRunes(a.Args, MaxArgsLen)
	a.StartDate = a.StartDate.UTC().Truncate(time.Microsecond)
	return Entry{
		LogID:    newUUID(),
		System:   System{ID: FollowUpSystemID(t), Name: systemName},
		Activity: a,
		User: User{ID: ident.HSAID(p.HSAID), Name: truncateRunes(p.Name, MaxTextLen), Title: truncateRunes(p.Title, MaxTextLen),
			CareProvider: cp, CareUnit: unit},
		Resources: res,
	}
}

// Person returns the person acting in ctx and their tenant, when they may do perm (what names
// it in the refusal) and have an HSA-id under which what they do can be logged. It is the check
// every tool that logs a person's reads makes first.
func Person(ctx context.Context, tenants tenant.Directory, perm account.Permission, what string) (*vakt.Principal, tenant.Tenant, error) {
	p := vakt.PrincipalFrom(ctx)
	if p == nil {
		return nil, tenant.Tenant{}, vakt.Errorf(vakt.CodeUnauthorized, "authentication required")
	}
	if !account.Allowed(p, perm) {
		return nil, tenant.Tenant{}, vakt.Errorf(vakt.CodeForbidden, "your roles do not allow %s", what)
	}
	if _, err := ident.ParseHSAID(p.HSAID); err != nil {
		return nil, tenant.Tenant{}, vakt.Errorf(vakt.CodeForbidden, "your account has no valid HSA-id, so what you do cannot be logged")
	}
	t, err := tenants.Tenant(ctx, p.TenantID)
	if vakt.ErrorCode(err) == vakt.CodeNotFound {
		return nil, tenant.Tenant{}, vakt.Errorf(vakt.CodeUnauthorized, "the account's tenant does not exist")
	}
	if err != nil {
		return nil, tenant.Tenant{}, err
	}
	return p, t, nil
}
