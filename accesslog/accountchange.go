package accesslog

import (
	"context"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/ident"
)

var _ account.Recorder = (*Service)(nil)

// AccountChangeLevel is the activity level of the entries that record account administration.
const AccountChangeLevel = "Kontoadministration"

// RecordAccountChange stores, in the acting person's tenant's own log, an entry about an
// administrative change to an account (account.Admin calls it before making the change): who
// changed it (user: the administrator's HSA-id, name, title, care provider and unit, as for a
// search), when, activity Skriva (Radera for a removal), level Kontoadministration, purpose
// Administration, system "vakt kontoadministration", and in the activity arguments the record
// account.ParseChangeArgs reads back: the account, its HSA-id, roles and care units before and
// after. The log is tamper-evident, so neither the administrator nor an operator can take a
// change back out of it, and log controls find an administrator who granted themselves a role
// (account.ChangeRecord.SelfGrant). It needs a person allowed ManageAccounts or GrantRoles.
func (s *Service) RecordAccountChange(ctx context.Context, c account.Change) error {
	p := vakt.PrincipalFrom(ctx)
	if p == nil {
		return vakt.Errorf(vakt.CodeUnauthorized, "authentication required")
	}
	if !account.Allowed(p, account.ManageAccounts) && !account.Allowed(p, account.GrantRoles) {
		return vakt.Errorf(vakt.CodeForbidden, "your roles do not allow this")
	}
	if _, err := ident.ParseHSAID(p.HSAID); err != nil {
		return vakt.Errorf(vakt.CodeForbidden, "your account has no valid HSA-id, so your changes cannot be logged")
	}
	if c.Subject().TenantID != p.TenantID {
		return vakt.Errorf(vakt.CodeNotFound, "no such account")
	}
	t, err := s.Tenants.Tenant(ctx, p.TenantID)
	if vakt.ErrorCode(err) == vakt.CodeNotFound {
		return vakt.Errorf(vakt.CodeUnauthorized, "the account's tenant does not exist")
	}
	if err != nil {
		return err
	}
	st, err := s.Stores.Store(ctx, t.ID)
	if err != nil {
		return err
	}
	cp := CareProvider{ID: t.CareProviders[0], Name: t.Name}
	unit := CareUnit{ID: cp.ID}
	if p.Limited() {
		unit = CareUnit{ID: ident.HSAID(p.CareUnits[0])}
	}
	activity := ActivityWrite
	if c.Action == account.ActionRemove {
		activity = ActivityDelete
	}
	rec := c.Record(p.ID)
	e := Entry{
		LogID:  newUUID(),
		System: System{ID: FollowUpSystemID(&t), Name: "vakt kontoadministration"},
		Activity: Activity{Type: activity, Level: AccountChangeLevel, Args: truncateRunes(rec.Args(), MaxArgsLen),
			StartDate: s.now().UTC().Truncate(time.Microsecond), Purpose: PurposeAdministration},
		User: User{ID: ident.HSAID(p.HSAID), Name: truncateRunes(p.Name, MaxTextLen), Title: truncateRunes(p.Title, MaxTextLen),
			CareProvider: cp, CareUnit: unit},
		Resources: []Resource{{Type: "Konto", CareProvider: CareProvider{ID: cp.ID}}},
	}
	_, err = st.Append(ctx, []Pending{Prepare(e)})
	return err
}
