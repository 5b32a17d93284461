// Package watchlist lets people keep the tenant's watch list (bevakningslista) of patients of
// media interest and other VIPs, whose every access log controls flag (the region's
// instruction: check accesses to patients of media interest). Systems import the whole list
// through register.Service; this package edits it one entry at a time for people allowed
// account.EditWatchlist, and records every change in the tenant's own log before making it.
//
// The package does no I/O of its own: it works on register.Store and accesslog.Store.
package watchlist

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/internal/swetime"
	"github.com/vakt/vakt/register"
	"github.com/vakt/vakt/tenant"
)

// Level is the activity level of the entries that record changes to the watch list.
const Level = "Bevakningslista"

var stockholm = swetime.Stockholm

// Service edits watch lists.
//
// Viewing the list reads reference data, not the log, and is not logged; it shows the
// personnummer of the people on it only to those allowed to change it. The list is the
// tenant's, for every care unit, so a person limited to care units may view it but not change
// it.
type Service struct {
	Registers register.Stores
	Logs      accesslog.Stores
	Tenants   tenant.Directory
	Now       func() time.Time // defaults to time.Now
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

type caller struct {
	p   *vakt.Principal
	t   tenant.Tenant
	reg register.Store
}

func (s *Service) caller(ctx context.Context, change bool) (*caller, error) {
	p := vakt.PrincipalFrom(ctx)
	if p == nil {
		return nil, vakt.Errorf(vakt.CodeUnauthorized, "authentication required")
	}
	if !account.Allowed(p, account.EditWatchlist) {
		return nil, vakt.Errorf(vakt.CodeForbidden, "your roles do not allow the watch list")
	}
	if change && p.Limited() {
		return nil, vakt.Errorf(vakt.CodeForbidden, "the watch list covers every care unit; an account limited to care units cannot change it")
	}
	if _, err := ident.ParseHSAID(p.HSAID); change && err != nil {
		return nil, vakt.Errorf(vakt.CodeForbidden, "your account has no valid HSA-id, so your changes cannot be logged")
	}
	t, err := s.Tenants.Tenant(ctx, p.TenantID)
	if vakt.ErrorCode(err) == vakt.CodeNotFound {
		return nil, vakt.Errorf(vakt.CodeUnauthorized, "the account's tenant does not exist")
	}
	if err != nil {
		return nil, err
	}
	reg, err := s.Registers.Registers(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	return &caller{p: p, t: t, reg: reg}, nil
}

// List returns the caller's tenant's watch list, expired entries included, by personnummer.
func (s *Service) List(ctx context.Context) ([]register.WatchEntry, error) {
	c, err := s.caller(ctx, false)
	if err != nil {
		return nil, err
	}
	var out []register.WatchEntry
	err = register.Registers{Store: c.reg}.Watchlist(ctx, func(w *register.WatchEntry) error {
		out = append(out, *w)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b register.WatchEntry) int {
		return strings.Compare(a.PersonID.Extension(), b.PersonID.Extension())
	})
	return out, nil
}

// Add puts personID on the watch list with reason until until (YYYY-MM-DD, the last day; ""
// for no end), or replaces the entry the person has. The fields follow the register's import
// rules (docs/CONTROLS.md), and until may not lie in the past; refused input is a CodeInvalid
// error whose problems name each field ("personId", "reason", "until") and never quote a value.
// The change is recorded in the tenant's log before it is made.
func (s *Service) Add(ctx context.Context, personID, reason, until string) (register.WatchEntry, error) {
	c, err := s.caller(ctx, true)
	if err != nil {
		return register.WatchEntry{}, err
	}
	now := s.now()
	doc := map[string]string{"personId": strings.TrimSpace(personID), "reason": strings.TrimSpace(reason)}
	if u := strings.TrimSpace(until); u != "" {
		doc["until"] = u
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return register.WatchEntry{}, err
	}
	dec := register.NewDecoder(bytes.NewReader(body), register.KindWatchlist, now)
	rec, err := dec.Next()
	var probs []vakt.Problem
	var ve *vakt.Error
	switch {
	case err == nil:
	case asInvalid(err, &ve):
		for _, p := range ve.Problems {
			probs = append(probs, vakt.Problem{Index: -1, Field: p.Field, Reason: p.Reason})
		}
	default:
		return register.WatchEntry{}, err
	}
	if d, perr := register.ParseDate(doc["until"]); perr == nil && d.Before(register.DateOf(now, stockholm)) {
		probs = append(probs, vakt.Problem{Index: -1, Field: "until", Reason: "is in the past"})
	}
	if len(probs) > 0 {
		return register.WatchEntry{}, vakt.Invalid("watch list entry is invalid", probs...)
	}
	var w register.WatchEntry
	pid, _ := ident.ParsePersonID(rec.Person, now)
	w.PersonID, w.Reason = pid, doc["reason"]
	if u, err := register.ParseDate(doc["until"]); err == nil {
		w.Until = u
	}
	args := "Bevakningslista; action=add; by=" + c.p.ID
	if !w.Until.IsZero() {
		args += "; until=" + w.Until.String()
	}
	if err := s.record(ctx, c, accesslog.ActivityWrite, args, pid, now); err != nil {
		return register.WatchEntry{}, err
	}
	done := false
	_, err = c.reg.Import(ctx, register.KindWatchlist, false, func() (register.Record, error) {
		if done {
			return register.Record{}, errEOF
		}
		done = true
		return rec, nil
	})
	return w, err
}

// Remove takes personID off the watch list; CodeNotFound when the person is not on it. The
// change is recorded in the tenant's log before it is made.
func (s *Service) Remove(ctx context.Context, personID string) error {
	c, err := s.caller(ctx, true)
	if err != nil {
		return err
	}
	now := s.now()
	pid, err := ident.ParsePersonID(strings.TrimSpace(personID), now)
	if err != nil || (pid.Kind() != ident.PersonalIdentityNumber && pid.Kind() != ident.CoordinationNumber) {
		return vakt.Invalid("watch list entry is invalid", vakt.Problem{Index: -1, Field: "personId", Reason: "is not a personnummer or samordningsnummer"})
	}
	found := false
	err = register.Registers{Store: c.reg}.Watchlist(ctx, func(w *register.WatchEntry) error {
		found = found || w.PersonID == pid
		return nil
	})
	if err != nil {
		return err
	}
	if !found {
		return vakt.Errorf(vakt.CodeNotFound, "the person is not on the watch list")
	}
	if err := s.record(ctx, c, accesslog.ActivityDelete, "Bevakningslista; action=remove; by="+c.p.ID, pid, now); err != nil {
		return err
	}
	return c.reg.Delete(ctx, register.KindWatchlist, pid.Extension())
}

// record appends the entry about a change to the tenant's log, naming the patient as its
// resource: the patient's own history then shows who put them on the list or took them off.
func (s *Service) record(ctx context.Context, c *caller, act accesslog.ActivityType, args string, pid ident.PersonID, at time.Time) error {
	logs, err := s.Logs.Store(ctx, c.t.ID)
	if err != nil {
		return err
	}
	e := accesslog.PersonEntry(&c.t, c.p, "vakt bevakningslista",
		accesslog.Activity{Type: act, Level: Level, Args: args, StartDate: at, Purpose: accesslog.PurposeAdministration},
		[]accesslog.Resource{{Type: "Bevakningslista", Patient: accesslog.Patient{ID: pid}}})
	_, err = logs.Append(ctx, []accesslog.Pending{accesslog.Prepare(e)})
	return err
}

var errEOF = io.EOF

func asInvalid(err error, ve **vakt.Error) bool {
	return errors.As(err, ve) && (*ve).Code == vakt.CodeInvalid
}
