package accesslog_test

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/sqlite"
	"github.com/vakt/vakt/tenant"
)

// Tenants of the service tests: region-a owns provider and refuses reserve numbers, region-b
// owns provider2 and accepts them.
const (
	tenantA = "region-a"
	tenantB = "region-b"
)

// newService returns a Service on real SQLite storage in a temporary directory.
func newService(t *testing.T) *accesslog.Service {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	stores, err := sqlite.NewStores(filepath.Join(dir, "tenants"), sqlite.Options{}, sqlite.Signing{Instance: "test.vakt", Secret: []byte("a test secret of at least 32 bytes")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stores.Close(); err != nil {
			t.Error(err)
		}
	})
	reg, err := sqlite.OpenRegistry(ctx, filepath.Join(dir, "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	for _, tn := range []tenant.Tenant{
		{ID: tenantA, Name: "Region A", CareProviders: []ident.HSAID{provider}},
		{ID: tenantB, Name: "Region B", CareProviders: []ident.HSAID{provider2}, AllowReserveIDs: true},
	} {
		if err := reg.CreateTenant(ctx, tn); err != nil {
			t.Fatal(err)
		}
	}
	return &accesslog.Service{Stores: stores, Tenants: reg, Now: func() time.Time { return now }}
}

func as(tenantID string, roles ...vakt.Role) context.Context {
	return vakt.WithPrincipal(context.Background(), &vakt.Principal{
		Kind: vakt.PrincipalSystem, ID: "test-" + tenantID, TenantID: tenantID, Roles: roles,
	})
}

// draftFor returns a valid draft of care provider cp with a patient and logId id.
func draftFor(cp, id string) accesslog.Draft {
	d := minimalDraft()
	d.LogID = id
	d.User.CareProvider.CareProviderID = cp
	d.Resources[0].Patient = &accesslog.DraftPatient{PatientID: accesslog.DraftII{Extension: patientA, Plain: true}}
	return d
}

// logIDs returns the logIds of everything the caller's tenant holds, via Search and Export, and
// checks that both agree.
func logIDs(t *testing.T, svc *accesslog.Service, tenantID string) []string {
	t.Helper()
	ctx := as(tenantID, vakt.RoleReader)
	page, err := svc.Search(ctx, accesslog.Query{Limit: accesslog.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	var fromSearch, fromExport []string
	for _, st := range page.Entries {
		e, err := st.Entry()
		if err != nil {
			t.Fatal(err)
		}
		fromSearch = append(fromSearch, e.LogID)
	}
	err = svc.Export(ctx, accesslog.Query{Limit: 5}, func(st *accesslog.Stored) error {
		e, err := st.Entry()
		if err != nil {
			return err
		}
		fromExport = append(fromExport, e.LogID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fromSearch, fromExport) {
		t.Fatalf("search %v, export %v", fromSearch, fromExport)
	}
	return fromSearch
}

func TestServiceAuthorization(t *testing.T) {
	svc := newService(t)
	drafts := []accesslog.Draft{draftFor(provider, "a-1")}
	for _, c := range []struct {
		name string
		ctx  context.Context
		// codes for Append and for the reading calls
		appendCode, readCode vakt.Code
	}{
		{"no principal", context.Background(), vakt.CodeUnauthorized, vakt.CodeUnauthorized},
		{"nil principal", vakt.WithPrincipal(context.Background(), nil), vakt.CodeUnauthorized, vakt.CodeUnauthorized},
		{"no roles", as(tenantA), vakt.CodeForbidden, vakt.CodeForbidden},
		{"reader only", as(tenantA, vakt.RoleReader), vakt.CodeForbidden, ""},
		{"writer only", as(tenantA, vakt.RoleWriter), "", vakt.CodeForbidden},
		{"unknown role", as(tenantA, vakt.Role("admin")), vakt.CodeForbidden, vakt.CodeForbidden},
		{"tenant does not exist", as("region-gone", vakt.RoleWriter, vakt.RoleReader), vakt.CodeUnauthorized, vakt.CodeUnauthorized},
		{"tenant id not even valid", as("../region-a", vakt.RoleWriter, vakt.RoleReader), vakt.CodeUnauthorized, vakt.CodeUnauthorized},
		{"empty tenant id", as("", vakt.RoleWriter, vakt.RoleReader), vakt.CodeUnauthorized, vakt.CodeUnauthorized},
	} {
		t.Run(c.name, func(t *testing.T) {
			check := func(what string, err error, want vakt.Code) {
				t.Helper()
				if want == "" {
					if err != nil && vakt.ErrorCode(err) != vakt.CodeNotFound {
						t.Errorf("%s: %v", what, err)
					}
					return
				}
				if got := vakt.ErrorCode(err); got != want {
					t.Errorf("%s: code %s, want %s (%v)", what, got, want, err)
				}
			}
			_, err := svc.Append(c.ctx, drafts)
			check("Append", err, c.appendCode)
			_, err = svc.Search(c.ctx, accesslog.Query{})
			check("Search", err, c.readCode)
			err = svc.Export(c.ctx, accesslog.Query{}, func(*accesslog.Stored) error { return nil })
			check("Export", err, c.readCode)
			_, err = svc.Get(c.ctx, "a-1")
			check("Get", err, c.readCode)
		})
	}
	// Nothing was stored by any refused call (only "writer only" could append).
	if got := logIDs(t, svc, tenantA); !slices.Equal(got, []string{"a-1"}) {
		t.Fatalf("tenant holds %v", got)
	}
}

func TestServiceAppend(t *testing.T) {
	svc := newService(t)
	w := as(tenantA, vakt.RoleWriter)
	drafts := []accesslog.Draft{draftFor(provider, "a-1"), draftFor(provider, "a-2")}
	rep, err := svc.Append(w, drafts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Accepted != 2 || rep.Duplicates != 0 || len(rep.Results) != 2 || rep.Results[0].Seq != 1 || rep.Results[1].Seq != 2 {
		t.Fatalf("report %+v", rep)
	}
	// Re-sent: duplicates with the original sequence numbers.
	rep, err = svc.Append(w, append(drafts, draftFor(provider, "a-3")))
	if err != nil {
		t.Fatal(err)
	}
	want := []accesslog.AppendResult{{Seq: 1, Duplicate: true}, {Seq: 2, Duplicate: true}, {Seq: 3}}
	if rep.Accepted != 1 || rep.Duplicates != 2 || len(rep.Results) != 3 || rep.Results[0] != want[0] || rep.Results[1] != want[1] || rep.Results[2] != want[2] {
		t.Fatalf("report %+v", rep)
	}
	// Same logId, other content.
	other := draftFor(provider, "a-2")
	other.Activity.Purpose = "Administration"
	_, err = svc.Append(w, []accesslog.Draft{draftFor(provider, "a-4"), other})
	wantError(t, err, vakt.CodeConflict, vakt.Problem{Index: 1, Field: "logId", Reason: "is already stored with different content"})

	// What is stored is exactly the prepared content.
	st, err := svc.Get(as(tenantA, vakt.RoleReader), "a-1")
	if err != nil {
		t.Fatal(err)
	}
	content, err := accesslog.Content(st.JSON)
	if err != nil {
		t.Fatal(err)
	}
	if p := accesslog.Prepare(mustValidate(t, drafts[0], opts)); !bytes.Equal(content, p.Content) || st.Seq != 1 {
		t.Fatalf("stored %s (seq %d), want %s", st.JSON, st.Seq, p.Content)
	}
	// All three share a startDate: the newest seq comes first.
	if got := logIDs(t, svc, tenantA); !slices.Equal(got, []string{"a-3", "a-2", "a-1"}) {
		t.Fatalf("tenant holds %v", got)
	}
}

func TestServiceForeignCareProvider(t *testing.T) {
	svc := newService(t)
	w := as(tenantA, vakt.RoleWriter)
	drafts := []accesslog.Draft{
		draftFor(provider, "a-1"),
		draftFor(provider2, "b-1"), // tenant B's care provider
		draftFor(provider, "a-2"),
		draftFor("SE2321000016-9999", "x-1"), // nobody's
	}
	// The resource's care provider does not decide the tenant: the user's does.
	drafts[2].Resources[0].CareProvider.CareProviderID = provider2
	_, err := svc.Append(w, drafts)
	wantError(t, err, vakt.CodeForbidden,
		vakt.Problem{Index: 1, Field: "user.careProvider.careProviderId", Reason: "is not a care provider of this credential's tenant"},
		vakt.Problem{Index: 3, Field: "user.careProvider.careProviderId", Reason: "is not a care provider of this credential's tenant"},
	)
	for _, tn := range []string{tenantA, tenantB} {
		if got := logIDs(t, svc, tn); len(got) != 0 {
			t.Fatalf("%s holds %v after a refused batch", tn, got)
		}
	}

	// Invalid and foreign entries together: CodeInvalid lists both kinds.
	bad := draftFor(provider, "a-3")
	bad.Activity.StartDate = ""
	_, err = svc.Append(w, []accesslog.Draft{draftFor(provider2, "b-2"), bad})
	wantError(t, err, vakt.CodeInvalid,
		vakt.Problem{Index: 1, Field: "activity.startDate", Reason: "is required"},
		vakt.Problem{Index: 0, Field: "user.careProvider.careProviderId", Reason: "is not a care provider of this credential's tenant"},
	)
	// Tenant B may store its own entries.
	if _, err := svc.Append(as(tenantB, vakt.RoleWriter), drafts[1:2]); err != nil {
		t.Fatal(err)
	}
}

func TestServiceInvalid(t *testing.T) {
	svc := newService(t)
	w := as(tenantA, vakt.RoleWriter)
	bad1 := draftFor(provider, "a-2")
	bad1.System.SystemID = "nonsense"
	bad1.Resources[0].Patient.PatientID.Extension = wrongCheck(patientA)
	bad3 := draftFor(provider, "")
	_, err := svc.Append(w, []accesslog.Draft{draftFor(provider, "a-1"), bad1, draftFor(provider, "a-3"), bad3})
	wantError(t, err, vakt.CodeInvalid,
		vakt.Problem{Index: 1, Field: "system.systemId", Reason: ident.ErrHSAPrefix.Error()},
		vakt.Problem{Index: 1, Field: "resources[0].patient.patientId", Reason: ident.ErrChecksum.Error()},
		vakt.Problem{Index: 3, Field: "logId", Reason: "is required"},
	)
	if got := logIDs(t, svc, tenantA); len(got) != 0 {
		t.Fatalf("tenant holds %v after a refused batch", got)
	}
	// The time of receipt comes from Service.Now.
	future := draftFor(provider, "a-4")
	future.Activity.StartDate = now.Add(25 * time.Hour).Format(time.RFC3339)
	_, err = svc.Append(w, []accesslog.Draft{future})
	wantError(t, err, vakt.CodeInvalid, vakt.Problem{Index: 0, Field: "activity.startDate", Reason: "is more than 24 hours in the future"})

	_, err = svc.Append(w, nil)
	wantError(t, err, vakt.CodeInvalid, vakt.Problem{Index: -1, Field: "", Reason: "must hold at least one entry"})
}

func TestServiceMaxBatch(t *testing.T) {
	svc := newService(t)
	w := as(tenantA, vakt.RoleWriter)
	svc.MaxBatch = 2
	three := []accesslog.Draft{draftFor(provider, "a-1"), draftFor(provider, "a-2"), draftFor(provider, "a-3")}
	_, err := svc.Append(w, three)
	wantError(t, err, vakt.CodeTooLarge)
	if _, err := svc.Append(w, three[:2]); err != nil {
		t.Fatal(err)
	}
	// The size check comes before validation, and the default applies when MaxBatch is 0.
	svc.MaxBatch = 0
	_, err = svc.Append(w, make([]accesslog.Draft, accesslog.DefaultMaxBatch+1))
	wantError(t, err, vakt.CodeTooLarge)
	if got := logIDs(t, svc, tenantA); len(got) != 2 {
		t.Fatalf("tenant holds %v", got)
	}
}

func TestServiceReserveIDs(t *testing.T) {
	svc := newService(t)
	reserve := func(cp, id string) accesslog.Draft {
		d := draftFor(cp, id)
		d.Resources[0].Patient.PatientID = accesslog.DraftII{Root: reserveOI, Extension: "R-0001"}
		return d
	}
	_, err := svc.Append(as(tenantA, vakt.RoleWriter), []accesslog.Draft{reserve(provider, "a-1")})
	wantError(t, err, vakt.CodeInvalid,
		vakt.Problem{Index: 0, Field: "resources[0].patient.patientId.root", Reason: ident.ErrReserveNotAllowed.Error()})
	if _, err := svc.Append(as(tenantB, vakt.RoleWriter), []accesslog.Draft{reserve(provider2, "b-1")}); err != nil {
		t.Fatal(err)
	}
	// The stored reserve number can be searched for in the tenant that allows it.
	r := as(tenantB, vakt.RoleReader)
	p, err := svc.ParsePatientID(r, "patientId", accesslog.DraftII{Root: reserveOI, Extension: "R-0001"})
	if err != nil {
		t.Fatal(err)
	}
	page, err := svc.Search(r, accesslog.Query{PatientID: p})
	if err != nil || len(page.Entries) != 1 {
		t.Fatalf("got %d entries, %v", len(page.Entries), err)
	}
}

func TestServiceTenantIsolation(t *testing.T) {
	svc := newService(t)
	// Both tenants use the same logIds: each tenant's log is its own.
	if _, err := svc.Append(as(tenantA, vakt.RoleWriter), []accesslog.Draft{draftFor(provider, "x-1"), draftFor(provider, "a-1")}); err != nil {
		t.Fatal(err)
	}
	other := draftFor(provider2, "x-1")
	other.Resources[0].Patient.PatientID.Extension = patientB
	if _, err := svc.Append(as(tenantB, vakt.RoleWriter), []accesslog.Draft{other}); err != nil {
		t.Fatal(err)
	}
	if got := logIDs(t, svc, tenantA); !slices.Equal(got, []string{"a-1", "x-1"}) {
		t.Fatalf("tenant A sees %v", got)
	}
	if got := logIDs(t, svc, tenantB); !slices.Equal(got, []string{"x-1"}) {
		t.Fatalf("tenant B sees %v", got)
	}

	ra, rb := as(tenantA, vakt.RoleReader), as(tenantB, vakt.RoleReader)
	// Get sees the caller's own entry only.
	if _, err := svc.Get(rb, "a-1"); vakt.ErrorCode(err) != vakt.CodeNotFound {
		t.Fatalf("tenant B got tenant A's entry: %v", err)
	}
	for _, c := range []struct {
		ctx     context.Context
		cp      ident.HSAID
		patient string
	}{{ra, provider, patientA}, {rb, provider2, patientB}} {
		st, err := svc.Get(c.ctx, "x-1")
		if err != nil {
			t.Fatal(err)
		}
		e, err := st.Entry()
		if err != nil {
			t.Fatal(err)
		}
		if e.User.CareProvider.ID != c.cp || e.Resources[0].Patient.ID.Extension() != c.patient {
			t.Fatalf("Get returned another tenant's entry: %s", e.User.CareProvider.ID)
		}
	}
	// A search for tenant B's patient in tenant A finds nothing, and the reverse.
	pb := mustPerson(t, patientB)
	if page, err := svc.Search(ra, accesslog.Query{PatientID: pb}); err != nil || len(page.Entries) != 0 {
		t.Fatalf("tenant A found %d entries of B's patient, %v", len(page.Entries), err)
	}
	if page, err := svc.Search(rb, accesslog.Query{PatientID: pb}); err != nil || len(page.Entries) != 1 {
		t.Fatalf("tenant B found %d entries of its patient, %v", len(page.Entries), err)
	}
	n := 0
	err := svc.Export(rb, accesslog.Query{CareProviderID: provider}, func(*accesslog.Stored) error { n++; return nil })
	if err != nil || n != 0 {
		t.Fatalf("tenant B exported %d entries of A's care provider, %v", n, err)
	}

	// Queries and logIds are checked.
	_, err = svc.Search(ra, accesslog.Query{Limit: accesslog.MaxLimit + 1})
	wantError(t, err, vakt.CodeInvalid, vakt.Problem{Index: -1, Field: "limit", Reason: "must be between 1 and 1000"})
	err = svc.Export(ra, accesslog.Query{From: now, To: now}, func(*accesslog.Stored) error { return nil })
	wantError(t, err, vakt.CodeInvalid, vakt.Problem{Index: -1, Field: "to", Reason: "must be after from"})
	for _, id := range []string{"", string(bytes.Repeat([]byte("x"), 4*accesslog.MaxLogIDLen+1))} {
		if _, err := svc.Get(ra, id); vakt.ErrorCode(err) != vakt.CodeNotFound {
			t.Errorf("Get(%d bytes): %v", len(id), err)
		}
	}
}

func TestServiceParsePatientID(t *testing.T) {
	svc := newService(t)
	resv := accesslog.DraftII{Root: reserveOI, Extension: "R-0001"}
	for _, c := range []struct {
		name string
		ctx  context.Context
		ii   accesslog.DraftII
		want string // extension, or "" for an error
		prob vakt.Problem
	}{
		// 10 digits take their century from Service.Now.
		{"plain 10 digits", as(tenantA, vakt.RoleReader), accesslog.DraftII{Extension: "121212-1212", Plain: true}, "201212121212", vakt.Problem{}},
		{"plain 12 digits", as(tenantA, vakt.RoleReader), accesslog.DraftII{Extension: patientA, Plain: true}, patientA, vakt.Problem{}},
		{"object", as(tenantA), accesslog.DraftII{Root: coordOID, Extension: coordC}, coordC, vakt.Problem{}},
		{"reserve, tenant allows", as(tenantB, vakt.RoleReader), resv, "R-0001", vakt.Problem{}},
		{"reserve, tenant refuses", as(tenantA, vakt.RoleReader), resv, "",
			vakt.Problem{Index: -1, Field: "patient.root", Reason: ident.ErrReserveNotAllowed.Error()}},
		{"reserve, no principal", context.Background(), resv, "",
			vakt.Problem{Index: -1, Field: "patient.root", Reason: ident.ErrReserveNotAllowed.Error()}},
		{"reserve, unknown tenant", as("region-gone", vakt.RoleReader), resv, "",
			vakt.Problem{Index: -1, Field: "patient.root", Reason: ident.ErrReserveNotAllowed.Error()}},
		{"wrong check digit", as(tenantA, vakt.RoleReader), accesslog.DraftII{Extension: wrongCheck(patientA), Plain: true}, "",
			vakt.Problem{Index: -1, Field: "patient", Reason: ident.ErrChecksum.Error()}},
		{"empty", as(tenantA, vakt.RoleReader), accesslog.DraftII{Plain: true}, "",
			vakt.Problem{Index: -1, Field: "patient", Reason: "is required"}},
		{"root mismatch", as(tenantB, vakt.RoleReader), accesslog.DraftII{Root: pnrOID, Extension: coordC}, "",
			vakt.Problem{Index: -1, Field: "patient.root", Reason: "root OID does not match the kind of number: a samordningsnummer under the personnummer root"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := svc.ParsePatientID(c.ctx, "patient", c.ii)
			if c.want == "" {
				wantError(t, err, vakt.CodeInvalid, c.prob)
				if !p.IsZero() {
					t.Error("non-zero PersonID with an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Extension() != c.want {
				t.Fatalf("got %s", p.Extension())
			}
		})
	}
}
