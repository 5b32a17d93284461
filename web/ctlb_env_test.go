package web_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/control"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/permlist"
	"github.com/vakt/vakt/register"
	"github.com/vakt/vakt/sqlite"
	"github.com/vakt/vakt/watchlist"
	"github.com/vakt/vakt/web"
)

// followUpEnv is the test world of the pages beside the control register (overview, permission
// list, watch list): env with the tenants' registers and control register reachable by the test.
type followUpEnv struct {
	*env
	regs     *sqlite.Registers
	controls control.Stores
}

func newFollowUpEnv(t *testing.T) *followUpEnv {
	t.Helper()
	fe := &followUpEnv{regs: sqlite.NewRegisters(t.TempDir())}
	t.Cleanup(func() { fe.regs.Close() })
	fe.env = newEnvWith(t, false, func(ui *web.UI, _ string) {
		ui.Controls.Registers = fe.regs
		fe.controls = ui.Controls.Controls
		configureFollowUp(t, ui, fe)
	})
	return fe
}

// importRegister replaces a register of tenantID with body (JSON array).
func (fe *followUpEnv) importRegister(tenantID string, kind register.Kind, body string) {
	fe.t.Helper()
	svc := register.Service{Stores: fe.regs}
	if _, err := svc.ImportTenant(context.Background(), tenantID, kind, register.ModeReplace, strings.NewReader(body)); err != nil {
		fe.t.Fatal(err)
	}
}

// entries counts the entries of tenantID's log.
func (fe *followUpEnv) entries(tenantID string) int64 {
	fe.t.Helper()
	st, err := fe.stores.Store(context.Background(), tenantID)
	if err != nil {
		fe.t.Fatal(err)
	}
	s, err := st.Stats(context.Background())
	if err != nil {
		fe.t.Fatal(err)
	}
	return s.Entries
}

// newest returns the entries of the last hour in tenantID's log whose level is level, oldest
// first.
func (fe *followUpEnv) newest(tenantID, level string) []accesslog.Entry {
	fe.t.Helper()
	st, err := fe.stores.Store(context.Background(), tenantID)
	if err != nil {
		fe.t.Fatal(err)
	}
	var out []accesslog.Entry
	now := time.Now()
	err = st.Export(context.Background(), accesslog.Query{From: now.Add(-time.Hour), To: now.Add(time.Hour)}, func(sd *accesslog.Stored) error {
		e, err := sd.Entry()
		if err == nil && e.Activity.Level == level {
			out = append(out, e)
		}
		return err
	})
	if err != nil {
		fe.t.Fatal(err)
	}
	slices.Reverse(out) // Export gives newest first
	return out
}

// sample stores a sample control of unit and month in tenantID's control register, closed when
// closed is set.
func (fe *followUpEnv) sample(tenantID, id, unit, month string, closed bool) {
	fe.t.Helper()
	ctx := context.Background()
	cs, err := fe.controls.Controls(ctx, tenantID)
	if err != nil {
		fe.t.Fatal(err)
	}
	m, _ := time.Parse("2006-01", month)
	who := control.Person{Username: "gun", HSAID: "SE2321000016-GUN1", Name: "Gun Granskare"}
	ct := control.Control{ID: id, TenantID: tenantID, Type: control.TypeSample,
		Scope:    control.Scope{CareUnit: hsa(unit), From: m, To: m.AddDate(0, 1, 0), Month: month},
		Reviewer: who, Created: m.AddDate(0, 1, 2), Sample: &control.SampleParams{Algorithm: control.SampleAlgorithm, Size: 1, Population: 1},
		Items: []control.Item{{LogID: "00000000-0000-4000-8000-000000000001", Seq: 1, Assessment: control.InOrder}}}
	if closed {
		at := m.AddDate(0, 1, 5)
		ct.Closed, ct.ClosedBy, ct.Findings, ct.Conclusion = &at, &who, "Inga avvikelser", "I sin ordning"
	}
	if err := cs.Create(ctx, &ct, control.Event{At: ct.Created, Actor: who, Action: control.ActionCreated}); err != nil {
		fe.t.Fatal(err)
	}
}

func hsa(s string) ident.HSAID { return ident.HSAID(s) }

// configureFollowUp gives the UI the services of the permission list and the watch list.
func configureFollowUp(t *testing.T, ui *web.UI, fe *followUpEnv) {
	t.Helper()
	marks, ok := ui.Controls.Controls.(permlist.Stores)
	if !ok {
		t.Fatal("the control register keeps no marks")
	}
	ui.Permissions = &permlist.Service{Logs: ui.Service.Stores, Registers: fe.regs, Accounts: ui.Accounts, Marks: marks, Tenants: ui.Service.Tenants}
	ui.Watchlist = &watchlist.Service{Registers: fe.regs, Logs: ui.Service.Stores, Tenants: ui.Service.Tenants}
}

// accountHSA returns the HSA-id of an account.
func (fe *followUpEnv) accountHSA(username string) ident.HSAID {
	fe.t.Helper()
	u, _, err := fe.reg.UserByName(context.Background(), username)
	if err != nil {
		fe.t.Fatal(err)
	}
	return u.HSAID
}
