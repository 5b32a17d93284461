package control

import (
	"context"
	"slices"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/register"
)

// UnitStatus says how far a care unit has come with a month's sample.
type UnitStatus string

// Statuses of a unit in the monthly overview; the values leave the process (page and tests).
const (
	StatusDone    UnitStatus = "klar"     // a sample of the month is closed
	StatusStarted UnitStatus = "pagar"    // a sample is drawn but not closed
	StatusNotDone UnitStatus = "ej_gjord" // no sample of the month
)

// OverviewUnit is one care unit's line in the monthly overview: its status and the month's
// samples of the unit (newest first), whose reviewers and dates the page shows.
type OverviewUnit struct {
	CareUnit ident.HSAID
	Status   UnitStatus
	Controls []Control
}

// Overview is the monthly overview of controls: which units have done the month's sample
// (HSLF-FS 2016:40 4 kap. 9 §: recurring controls; the region's instruction: every month).
type Overview struct {
	Month                  string // YYYY-MM
	Units                  []OverviewUnit
	Done, Started, NotDone int
}

// Overview returns the monthly overview for month (YYYY-MM): every care unit of the caller's
// tenant that the caller may see, with the status of its sample. The units are those the staff
// register assigns someone to during the month, those with registered working hours, those
// with a control of the month, and, for a person limited to care units, their own units.
//
// It reads the control register and the registers only, never the log: a control names its
// unit, month and reviewer but no patient, so the overview is no read of log data and is not
// logged. It needs account.ControlOverview.
func (s *Service) Overview(ctx context.Context, month string) (Overview, error) {
	p := vakt.PrincipalFrom(ctx)
	if p == nil {
		return Overview{}, vakt.Errorf(vakt.CodeUnauthorized, "authentication required")
	}
	if !account.Allowed(p, account.ControlOverview) {
		return Overview{}, vakt.Errorf(vakt.CodeForbidden, "your roles do not allow the overview of controls")
	}
	m, err := time.ParseInLocation("2006-01", month, stockholm)
	if err != nil {
		return Overview{}, vakt.Invalid("overview request is invalid", vakt.Problem{Index: -1, Field: "month", Reason: "is not a month (YYYY-MM)"})
	}
	t, err := s.Tenants.Tenant(ctx, p.TenantID)
	if vakt.ErrorCode(err) == vakt.CodeNotFound {
		return Overview{}, vakt.Errorf(vakt.CodeUnauthorized, "the account's tenant does not exist")
	}
	if err != nil {
		return Overview{}, err
	}
	cs, err := s.Controls.Controls(ctx, t.ID)
	if err != nil {
		return Overview{}, err
	}
	all, err := cs.List(ctx)
	if err != nil {
		return Overview{}, err
	}
	units := map[ident.HSAID]bool{}
	for _, u := range p.CareUnits {
		units[ident.HSAID(u)] = true
	}
	if s.Registers != nil {
		first := register.DateOf(m, stockholm)
		last := register.DateOf(m.AddDate(0, 1, -1), stockholm)
		if err := UnitsOfMonth(ctx, s.Registers, t.ID, first, last, func(u ident.HSAID) { units[u] = true }); err != nil {
			return Overview{}, err
		}
	}
	byUnit := map[ident.HSAID][]Control{}
	for _, c := range all {
		if c.Type == TypeSample && c.Scope.Month == month {
			units[c.Scope.CareUnit] = true
			byUnit[c.Scope.CareUnit] = append(byUnit[c.Scope.CareUnit], c)
		}
	}
	ov := Overview{Month: month}
	for u := range units {
		if !p.InUnits(string(u)) {
			continue
		}
		line := OverviewUnit{CareUnit: u, Status: StatusNotDone, Controls: byUnit[u]}
		for _, c := range line.Controls {
			if c.Closed != nil {
				line.Status = StatusDone
				break
			}
			line.Status = StatusStarted
		}
		switch line.Status {
		case StatusDone:
			ov.Done++
		case StatusStarted:
			ov.Started++
		default:
			ov.NotDone++
		}
		ov.Units = append(ov.Units, line)
	}
	slices.SortFunc(ov.Units, func(a, b OverviewUnit) int {
		if a.CareUnit < b.CareUnit {
			return -1
		}
		if a.CareUnit > b.CareUnit {
			return 1
		}
		return 0
	})
	return ov, nil
}

// UnitsOfMonth calls fn with every care unit of tenantID's registers that counts in the period
// first…last (dates, both included): units the staff register assigns someone to for a day of
// the period, and units with working hours of their own. A unit may be given more than once.
func UnitsOfMonth(ctx context.Context, regs register.Stores, tenantID string, first, last register.Date, fn func(ident.HSAID)) error {
	st, err := regs.Registers(ctx, tenantID)
	if err != nil {
		return err
	}
	src := register.Registers{Store: st}
	err = src.Staff(ctx, func(s *register.Staff) error {
		for _, a := range s.Units {
			if !a.From.After(last) && (a.To.IsZero() || !a.To.Before(first)) {
				fn(a.CareUnit)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return src.Units(ctx, func(u *register.Unit) error {
		fn(u.CareUnit)
		return nil
	})
}
