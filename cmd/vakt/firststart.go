package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/internal/swetime"
	"github.com/vakt/vakt/synth"
	"github.com/vakt/vakt/tenant"
)

// The first start of `vakt serve` on an empty data directory makes the web tool usable at once,
// as Jupyter and Grafana do: a first tenant and an administrator account whose one-time password
// is printed once on the console. Nothing of it is hidden: the tenant and account are ordinary
// ones that `vakt tenant list` and `vakt user list` show.

// First-start names. The care provider is the one of the README's examples and of `vakt gen`.
const (
	firstTenantID   = "region-exempel"
	firstTenantName = "Region Exempel"
	firstUsername   = "admin"
)

// firstLogin is what the console shows after a first start.
type firstLogin struct {
	Username, Password string
	TenantID           string
}

// firstStart creates the first tenant and administrator when the registry holds neither tenants
// nor accounts, and returns the login to print; nil when the registry was not empty.
func firstStart(ctx context.Context, reg interface {
	tenant.Directory
	account.Store
}, careProvider ident.HSAID) (*firstLogin, error) {
	ts, err := reg.Tenants(ctx)
	if err != nil {
		return nil, err
	}
	us, err := reg.Users(ctx, "")
	if err != nil {
		return nil, err
	}
	if len(ts) > 0 || len(us) > 0 {
		return nil, nil
	}
	t := tenant.Tenant{ID: firstTenantID, Name: firstTenantName, CareProviders: []ident.HSAID{careProvider}, CreatedAt: time.Now()}
	if err := reg.CreateTenant(ctx, t); err != nil {
		return nil, fmt.Errorf("first start: create tenant: %w", err)
	}
	hsa, err := account.LocalHSAID(careProvider)
	if err != nil {
		return nil, err
	}
	// The administrator may do everything the tool offers, follow-up included, so that a newcomer
	// can try it; a real installation creates people's accounts with the roles they need.
	u := account.User{Username: firstUsername, TenantID: t.ID, Name: "Administratör", HSAID: hsa, MustChange: true,
		Roles:     []vakt.Role{vakt.RoleLogAdmin, vakt.RoleLocalAdmin, vakt.RolePermissionAdmin},
		CreatedAt: time.Now()}
	pw := account.GeneratePassword()
	if err := reg.CreateUser(ctx, u, account.HashPassword(pw, account.DefaultParams)); err != nil {
		return nil, fmt.Errorf("first start: create administrator: %w", err)
	}
	return &firstLogin{Username: u.Username, Password: pw, TenantID: t.ID}, nil
}

// printFirstLogin shows the login once. The password is not put in the URL: URLs end up in
// browser history, proxies' logs and screenshots, and this one must be changed at first login.
func printFirstLogin(w io.Writer, url string, l *firstLogin) {
	fmt.Fprintf(w, `
  vakt has started on an empty data directory and created tenant %q and an administrator.

      Log in at   %slogin
      Username    %s
      Password    %s   (one-time: you choose your own at first login)

  The password is shown only now. Create more accounts with: vakt user create --help

`, l.TenantID, url, l.Username, l.Password)
}

// demoExamples are a patient and a staff member from the demo data, to try the two tabs with.
type demoExamples struct {
	Patient ident.PersonID
	Staff   ident.HSAID
	Entries int
}

// loadDemo stores a synthetic month of accesses, ending today, in tenantID's log when that log
// is empty, so that both tabs and the exports can be tried on realistic data.
func loadDemo(ctx context.Context, stores accesslog.Stores, t tenant.Tenant, entries int) (*demoExamples, error) {
	st, err := stores.Store(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	stats, err := st.Stats(ctx)
	if err != nil {
		return nil, err
	}
	if stats.Entries > 0 {
		return nil, nil
	}
	loc := swetime.Stockholm
	now := time.Now().In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	g, err := synth.New(synth.Config{Seed: 1, CareProvider: t.CareProviders[0], CareProviderName: t.Name,
		Start: today.AddDate(0, 0, -30), Days: 30, Entries: entries, Persons: 20000, Staff: 300, Units: 25})
	if err != nil {
		return nil, err
	}
	ex := &demoExamples{}
	batch := make([]accesslog.Pending, 0, 5000)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := st.Append(ctx, batch)
		batch = batch[:0]
		return err
	}
	for {
		e, ok := g.Next()
		if !ok {
			break
		}
		if ex.Patient.IsZero() {
			if ps := e.Patients(); len(ps) > 0 {
				ex.Patient, ex.Staff = ps[0], e.User.ID
			}
		}
		batch = append(batch, accesslog.Prepare(e))
		ex.Entries++
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return ex, nil
}

func printDemo(w io.Writer, ex *demoExamples) {
	fmt.Fprintf(w, `  Demo data: %d synthetic accesses over the last 30 days. To try the tabs, search
      Invånare      %s
      Vårdpersonal  %s

`, ex.Entries, ex.Patient.Formatted(), ex.Staff)
}
