package accesslog_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
)

func person(tenantID string, units []string, roles ...vakt.Role) context.Context {
	return vakt.WithPrincipal(context.Background(), &vakt.Principal{
		Kind: vakt.PrincipalPerson, ID: "granskaren", TenantID: tenantID, Roles: roles,
		Name: "Greta Granskare", HSAID: "SE2321000016-G001", CareUnits: units,
	})
}

// TestFollowUp: a person's search finds the patient's accesses within their units only, is
// itself logged before it runs (and then found like any other access), and exports are logged.
func TestFollowUp(t *testing.T) {
	svc := newService(t)
	const unit2 = "SE2321000016-E002"
	var drafts []accesslog.Draft
	for i := range 6 {
		d := draftFor(provider, fmt.Sprintf("0b7c1c52-6d0e-4d8a-9b7e-00000000000%d", i))
		d.Activity.StartDate = fmt.Sprintf("2026-11-%02dT10:00:00Z", 10+i)
		if i%2 == 1 {
			d.User.CareUnit.CareUnitID = unit2
			d.Activity.Purpose = "Administration"
		}
		drafts = append(drafts, d)
	}
	other := draftFor(provider, "0b7c1c52-6d0e-4d8a-9b7e-0000000000ff")
	other.Resources[0].Patient.PatientID.Extension = patientB
	drafts = append(drafts, other)
	if _, err := svc.Append(as(tenantA, vakt.RoleWriter), drafts); err != nil {
		t.Fatal(err)
	}
	q := accesslog.FollowUpQuery{Patient: mustPerson(t, patientA),
		From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}

	all, err := svc.FollowUp(person(tenantA, nil, vakt.RoleReviewer), q)
	if err != nil {
		t.Fatal(err)
	}
	// six accesses and the search itself, which names the patient and is logged first
	if len(all.Entries) != 7 || all.Truncated {
		t.Fatalf("%d entries, want 7", len(all.Entries))
	}
	self := all.Entries[0].Entry
	if self.User.ID != "SE2321000016-G001" || self.User.Name != "Greta Granskare" || self.Activity.Type != accesslog.ActivityRead ||
		self.Activity.Purpose != accesslog.PurposeFollowUp || self.System.ID != "SE2321000016-VAKT" || self.Resources[0].Patient.ID != mustPerson(t, patientA) {
		t.Fatalf("the logged search is %+v", self)
	}
	if strings.Contains(self.Activity.Args, patientA) || strings.Contains(string(all.Entries[0].JSON), "Args\":\""+patientA) {
		t.Fatal("the patient's number is in the free-text args")
	}
	for i := 1; i < len(all.Entries); i++ {
		if !all.Entries[i].Entry.Activity.StartDate.Before(all.Entries[i-1].Entry.Activity.StartDate) {
			t.Fatal("not newest first")
		}
	}

	limited, err := svc.FollowUp(person(tenantA, []string{unit2}, vakt.RoleManager), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(limited.Entries) != 4 {
		t.Fatalf("limited to %s: %d entries, want its 3 and the person's own search, logged from that unit", unit2, len(limited.Entries))
	}
	for _, f := range limited.Entries {
		if f.Entry.User.CareUnit.ID != unit2 {
			t.Fatalf("a limited person sees unit %s", f.Entry.User.CareUnit.ID)
		}
	}
	filtered := q
	filtered.CareUnit = unit
	if res, err := svc.FollowUp(person(tenantA, []string{unit2}, vakt.RoleManager), filtered); err != nil || len(res.Entries) != 0 {
		t.Fatalf("a unit outside the person's: %d entries, %v", len(res.Entries), err)
	}
	purpose := q
	purpose.Purpose = "administration"
	if res, err := svc.FollowUp(person(tenantA, nil, vakt.RoleLogAdmin), purpose); err != nil || len(res.Entries) != 3 {
		t.Fatalf("purpose filter: %d entries, %v", len(res.Entries), err)
	}

	// Every search so far was logged: 4 of them, plus the 6 accesses.
	if res, _ := svc.FollowUp(person(tenantA, nil, vakt.RoleReviewer), q); len(res.Entries) != 6+5 {
		t.Fatalf("%d entries after five searches, want 11", len(res.Entries))
	}
	staff := accesslog.FollowUpQuery{Staff: "SE2321000016-G001", From: q.From, To: q.To}
	if res, err := svc.FollowUp(person(tenantA, nil, vakt.RoleReviewer), staff); err != nil || len(res.Entries) != 6 {
		t.Fatalf("the reviewer's own searches: %d, %v; want 5 searches of the patient and this one", len(res.Entries), err)
	}
	if err := svc.RecordExport(person(tenantA, nil, vakt.RoleReviewer), q, "csv"); err != nil {
		t.Fatal(err)
	}
	res, _ := svc.FollowUp(person(tenantA, nil, vakt.RoleReviewer), staff)
	if e := res.Entries[1].Entry; e.Activity.Type != accesslog.ActivityPrint || !strings.Contains(e.Activity.Args, "export csv") {
		t.Fatalf("the export was logged as %+v", e.Activity)
	}

	// Tenant isolation: the same search in the other tenant finds only itself, logged in that
	// tenant under its own care provider.
	if res, err := svc.FollowUp(person(tenantB, nil, vakt.RoleReviewer), q); err != nil || len(res.Entries) != 1 ||
		res.Entries[0].Entry.User.CareProvider.ID != provider2 || res.Entries[0].Entry.Activity.Level != "Logguppföljning" {
		t.Fatalf("another tenant: %d entries, %v; want only its own search", len(res.Entries), err)
	}

	for name, ctx := range map[string]context.Context{
		"account administrator": person(tenantA, nil, vakt.RoleLocalAdmin),
		"system reader":         as(tenantA, vakt.RoleReader),
	} {
		if _, err := svc.FollowUp(ctx, q); vakt.ErrorCode(err) != vakt.CodeForbidden {
			t.Errorf("%s: %v, want forbidden", name, err)
		}
	}
	if _, err := svc.FollowUp(context.Background(), q); vakt.ErrorCode(err) != vakt.CodeUnauthorized {
		t.Errorf("nobody: %v", err)
	}
	if _, err := svc.FollowUp(person(tenantA, nil, vakt.RoleReviewer), accesslog.FollowUpQuery{Patient: q.Patient, Staff: "SE2321000016-G001", From: q.From, To: q.To}); vakt.ErrorCode(err) != vakt.CodeInvalid {
		t.Errorf("both subjects: %v", err)
	}
	if _, err := svc.FollowUp(person(tenantA, nil, vakt.RoleReviewer), accesslog.FollowUpQuery{Patient: q.Patient, From: q.To, To: q.From}); vakt.ErrorCode(err) != vakt.CodeInvalid {
		t.Errorf("reversed period: %v", err)
	}
}

// TestFollowUpEntry: an entry's detail carries an inclusion proof checked against the signed
// checkpoint, and a limited person cannot open another unit's entry.
func TestFollowUpEntry(t *testing.T) {
	svc := newService(t)
	if _, err := svc.Append(as(tenantA, vakt.RoleWriter), []accesslog.Draft{draftFor(provider, logID)}); err != nil {
		t.Fatal(err)
	}
	ctx := person(tenantA, nil, vakt.RoleReviewer)
	f, in, err := svc.FollowUpEntry(ctx, logID)
	if err != nil {
		t.Fatal(err)
	}
	if f.Entry.LogID != logID || f.Seq != 1 {
		t.Fatalf("entry %+v", f)
	}
	deadline := time.Now().Add(10 * time.Second)
	for in.Status == accesslog.IntegrityPending && time.Now().Before(deadline) {
		st, err := svc.Stores.Store(context.Background(), tenantA)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.SignCheckpoint(context.Background()); err != nil {
			t.Fatal(err)
		}
		_, in, err = svc.FollowUpEntry(ctx, logID)
		if err != nil {
			t.Fatal(err)
		}
	}
	if in.Status != accesslog.IntegrityVerified || in.TreeSize < 1 || in.LeafIndex != 0 {
		t.Fatalf("integrity %+v, want verified", in)
	}
	if _, _, err := svc.FollowUpEntry(person(tenantA, []string{"SE2321000016-E999"}, vakt.RoleManager), logID); vakt.ErrorCode(err) != vakt.CodeNotFound {
		t.Fatalf("another unit's entry: %v, want not found", err)
	}
	if _, _, err := svc.FollowUpEntry(person(tenantB, nil, vakt.RoleReviewer), logID); vakt.ErrorCode(err) != vakt.CodeNotFound {
		t.Fatalf("another tenant's entry: %v, want not found", err)
	}
}
