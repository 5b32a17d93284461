package accesslog

import (
	"context"
	"time"

	"github.com/vakt/vakt/ident"
)

// Access is the part of a stored entry that set-oriented rules read (the automatic flags of log
// controls): who, from where, when, what kind of activity, and which patients with the units
// that produced their data. Names, titles, arguments and purposes are left out, so reading a
// month of Accesses costs a fraction of decoding and validating a month of Entries.
type Access struct {
	Seq           int64
	LogID         string
	StartDate     time.Time // activity.startDate, UTC, microseconds
	ActivityType  ActivityType
	ActivityLevel string
	SystemID      ident.HSAID    // system.systemId
	UserID        ident.HSAID    // user.userId
	UserPersonID  ident.PersonID // user.personId, zero when absent
	CareProvider  ident.HSAID    // user.careProvider.careProviderId
	CareUnit      ident.HSAID    // user.careUnit.careUnitId
	// Resources holds the resources that name a patient, in the entry's order.
	Resources []AccessResource
}

// AccessResource is a resource that names a patient: the patient and the care unit that
// produced the data (zero when the entry does not say).
type AccessResource struct {
	Patient  ident.PersonID
	CareUnit ident.HSAID
}

// AccessOf returns the projection of e stored under seq.
func AccessOf(e *Entry, seq int64) Access {
	a := Access{
		Seq: seq, LogID: e.LogID, StartDate: e.Activity.StartDate, ActivityType: e.Activity.Type, ActivityLevel: e.Activity.Level,
		SystemID: e.System.ID, UserID: e.User.ID, UserPersonID: e.User.PersonID, CareProvider: e.User.CareProvider.ID, CareUnit: e.User.CareUnit.ID,
	}
	for i := range e.Resources {
		if r := &e.Resources[i]; !r.Patient.ID.IsZero() {
			a.Resources = append(a.Resources, AccessResource{Patient: r.Patient.ID, CareUnit: r.CareUnit.ID})
		}
	}
	return a
}

// Patients appends to dst the distinct patients of a, in order of first appearance (as
// Entry.Patients).
func (a *Access) Patients(dst []ident.PersonID) []ident.PersonID {
	for i := range a.Resources {
		p := a.Resources[i].Patient
		dup := false
		for _, q := range dst {
			if q == p {
				dup = true
				break
			}
		}
		if !dup {
			dst = append(dst, p)
		}
	}
	return dst
}

// ExportAccesses is the straightforward way to what Store.ScanAccesses does: every entry with
// startDate in [from, to) read through Export, decoded and validated as an Entry, and projected.
// It is the reference the conformance suite and the log-control tests compare the drivers'
// scans with, and the baseline of `vakt bench flags`.
func ExportAccesses(ctx context.Context, st Store, from, to time.Time, fn func(*Access) error) error {
	return st.Export(ctx, Query{From: from, To: to}, func(s *Stored) error {
		e, err := s.Entry()
		if err != nil {
			return err
		}
		a := AccessOf(&e, s.Seq)
		return fn(&a)
	})
}
