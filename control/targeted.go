package control

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/logcontrol"
)

// TargetedAlgorithm names how a targeted control picks its accesses: every access in scope,
// ordered by activity.startDate and then sequence number, the first Size of them. Recorded like
// a sample's algorithm so that the same accesses can be found again from the log.
const TargetedAlgorithm = "first-by-time-v1"

// MaxTargetedItems bounds a targeted control's accesses: as many as one page shows and a
// reviewer can judge in a sitting. The page and the report state how many more were in scope,
// so a reviewer who needs them narrows the period.
const MaxTargetedItems = MaxSampleSize

// MaxTargetedPeriod is the longest period a targeted control covers, the bound of a flag search
// (logcontrol.MaxPeriod), so that a control started from a flag can cover the search's period.
const MaxTargetedPeriod = logcontrol.MaxPeriod

// TargetedRequest asks for a targeted control (riktad kontroll) on suspicion: from a flag (its
// kind and the logId of the flagged access), or on a patient, a staff member or both, over the
// period [From, To) of a care unit's accesses.
type TargetedRequest struct {
	// CareUnit is the unit whose accesses are controlled. For a flag it may be left empty: it
	// is then the unit the flagged access was made from.
	CareUnit  ident.HSAID
	From, To  time.Time
	FlagKind  logcontrol.Kind
	FlagLogID string
	Patient   ident.PersonID // never put in URLs or logs; the stored scope holds it
	Staff     ident.HSAID
}

// Validate checks r's own fields.
func (r *TargetedRequest) Validate() error {
	var probs []vakt.Problem
	add := func(field, reason string) {
		probs = append(probs, vakt.Problem{Index: -1, Field: field, Reason: reason})
	}
	if r.CareUnit != "" || r.FlagLogID == "" {
		if _, err := ident.ParseHSAID(string(r.CareUnit)); err != nil {
			add("careUnitId", "is not an HSA-id")
		}
	}
	switch {
	case r.From.IsZero() || r.To.IsZero():
		add("period", "from and to are required")
	case !r.From.Before(r.To):
		add("period", "to must be after from")
	case r.To.Sub(r.From) > MaxTargetedPeriod:
		add("period", "must be at most 92 days")
	}
	flag := r.FlagKind != "" || r.FlagLogID != ""
	switch {
	case flag && (!r.Patient.IsZero() || r.Staff != ""):
		add("scope", "a flag names its access's user and patients; give a flag or a patient and staff member, not both")
	case flag:
		if !slices.Contains(logcontrol.Kinds(), r.FlagKind) {
			add("flag", "is not a flag kind")
		}
		if r.FlagLogID == "" || len(r.FlagLogID) > accesslog.MaxTextLen {
			add("flagLogId", "is required with a flag")
		}
	case r.Patient.IsZero() && r.Staff == "":
		add("scope", "a targeted control names a flag, a patient or a staff member")
	}
	if r.Staff != "" {
		if _, err := ident.ParseHSAID(string(r.Staff)); err != nil {
			add("staff", "is not an HSA-id")
		}
	}
	if !r.Patient.IsZero() && r.Patient.Kind() == ident.ReserveNumber {
		add("patient", "must be a personnummer or samordningsnummer")
	}
	if len(probs) > 0 {
		return vakt.Invalid("targeted control request is invalid", probs...)
	}
	return nil
}

// CreateTargeted starts a targeted control with the caller as reviewer. Its accesses are those
// made from the unit in the period that name a patient and
//
//   - for a flag: the flagged access itself, and every access by the same user to a patient
//     the flagged access names (the pattern around the suspicion, not only the one access);
//   - for a patient and/or a staff member: every access to that patient, by that staff member.
//
// They are ordered by time (TargetedAlgorithm) and the first MaxTargetedItems kept; how many
// were in scope is recorded. The request is logged as a read before the log is read, naming the
// patient when one is given.
func (s *Service) CreateTargeted(ctx context.Context, r TargetedRequest) (Control, error) {
	c, err := s.caller(ctx)
	if err != nil {
		return Control{}, err
	}
	if err := r.Validate(); err != nil {
		return Control{}, err
	}
	if r.CareUnit != "" && !c.p.InUnits(string(r.CareUnit)) {
		return Control{}, vakt.Errorf(vakt.CodeForbidden, "the unit is not one of yours")
	}
	now := s.now()
	id := newID()
	args := "Loggkontroll, riktad " + id + ", " + r.From.In(stockholm).Format(time.DateOnly) + "–" +
		r.To.In(stockholm).Add(-time.Nanosecond).Format(time.DateOnly)
	if r.CareUnit != "" {
		args += ", vårdenhet " + string(r.CareUnit)
	}
	if r.FlagLogID != "" {
		args += ", flagga " + string(r.FlagKind) + " på " + r.FlagLogID
	}
	if r.Staff != "" {
		args += ", personal " + string(r.Staff)
	}
	var logged []ident.PersonID
	if !r.Patient.IsZero() {
		logged = []ident.PersonID{r.Patient}
	}
	if err := s.logRead(ctx, c, args, logged, now); err != nil {
		return Control{}, err
	}

	q := accesslog.Query{CareUnitID: r.CareUnit, From: r.From, To: r.To, PatientID: r.Patient, UserID: r.Staff}
	var flagged *accesslog.Stored
	var flaggedPatients []ident.PersonID
	if r.FlagLogID != "" {
		noFlag := vakt.Invalid("targeted control request is invalid", vakt.Problem{Index: -1, Field: "flagLogId", Reason: "names no access of your units in the period"})
		sd, err := c.logs.Get(ctx, r.FlagLogID)
		if vakt.ErrorCode(err) == vakt.CodeNotFound {
			return Control{}, noFlag
		}
		if err != nil {
			return Control{}, err
		}
		e, err := sd.Entry()
		if err != nil {
			return Control{}, err
		}
		unit := e.User.CareUnit.ID
		// a limited reviewer learns nothing of other units' accesses, not even that one exists
		if r.CareUnit != "" && unit != r.CareUnit || !c.p.InUnits(string(unit)) ||
			e.Activity.StartDate.Before(r.From) || !e.Activity.StartDate.Before(r.To) {
			return Control{}, noFlag
		}
		r.CareUnit, q.CareUnitID, q.UserID = unit, unit, e.User.ID
		flagged, flaggedPatients = &sd, e.Patients()
	}

	type access struct {
		at    time.Time
		seq   int64
		logID string
	}
	var inScope []access
	err = c.logs.Export(ctx, q, func(sd *accesslog.Stored) error {
		e, err := sd.Entry()
		if err != nil {
			return err
		}
		if e.User.CareUnit.ID != r.CareUnit || !q.Matches(&e) {
			return nil
		}
		ps := e.Patients()
		if flagged != nil {
			if sd.Seq != flagged.Seq && !slices.ContainsFunc(ps, func(p ident.PersonID) bool { return slices.Contains(flaggedPatients, p) }) {
				return nil
			}
		} else if len(ps) == 0 {
			return nil
		}
		inScope = append(inScope, access{e.Activity.StartDate, sd.Seq, e.LogID})
		return nil
	})
	if err != nil {
		return Control{}, err
	}
	slices.SortFunc(inScope, func(a, b access) int { return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.seq, b.seq)) })
	ct := Control{
		ID: id, TenantID: c.t.ID, Type: TypeTargeted,
		Scope: Scope{CareUnit: r.CareUnit, From: r.From.UTC(), To: r.To.UTC(), Flag: string(r.FlagKind), FlagLogID: r.FlagLogID,
			Staff: r.Staff},
		Reviewer: c.person(), Created: now,
		Sample: &SampleParams{Algorithm: TargetedAlgorithm, Size: MaxTargetedItems, Population: len(inScope)},
		Items:  []Item{},
	}
	if !r.Patient.IsZero() {
		ct.Scope.Patient = r.Patient.Extension()
	}
	for _, a := range inScope[:min(len(inScope), MaxTargetedItems)] {
		ct.Items = append(ct.Items, Item{LogID: a.logID, Seq: a.seq})
	}
	if err := ct.Validate(); err != nil {
		return Control{}, err
	}
	if err := c.controls.Create(ctx, &ct, Event{At: now, Actor: c.person(), Action: ActionCreated}); err != nil {
		return Control{}, err
	}
	return ct, nil
}
