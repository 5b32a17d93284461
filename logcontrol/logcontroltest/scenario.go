// Package logcontroltest is a scenario with known ground truth for log controls: a month of a
// care provider's accesses with staff who are also patients, a protected-identity patient, a
// deceased patient, a VIP on the watch list, night, weekend and holiday accesses, a closed
// case, shared surnames and addresses, one high-volume user among normal peers, ordinary care
// traffic, and account administration: an administrator who grants themselves a role, a normal
// grant to someone else, and a forged account-change entry from a producing system. Run asserts exactly which accesses get which flags and which are explained; every
// engine runs it on its own stores.
package logcontroltest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/logcontrol"
	"github.com/vakt/vakt/register"
	"github.com/vakt/vakt/register/registertest"
	"github.com/vakt/vakt/tenant"
)

// Env is what an engine gives the scenario: empty stores and registry for one test.
type Env struct {
	Logs      accesslog.Stores
	Registers register.Stores
	Tenants   tenant.Directory
}

const (
	tenantID = "region"
	cp       = ident.HSAID("SE2321000016-0001")
	u1       = ident.HSAID("SE2321000016-U1") // default working hours
	u2       = ident.HSAID("SE2321000016-U2") // open around the clock
	u3       = ident.HSAID("SE2321000016-U3") // another unit's data, read from U1
)

// The working days of April 2026 (långfredagen 3, annandag påsk 6, weekends excluded).
var workdays = []int{1, 2, 7, 8, 9, 10, 13, 14, 15, 16, 17, 20, 21, 22, 23, 24, 27, 28, 29, 30}

type access struct {
	logID     string
	user      ident.HSAID
	unit      ident.HSAID
	patient   string
	resUnit   ident.HSAID
	at        time.Time
	activity  accesslog.ActivityType
	flags     []logcontrol.Kind
	explained []logcontrol.ExplanationKind
}

type scenario struct {
	accesses []*access
	byName   map[string]*access
}

func at(day, hour, minute int) time.Time {
	return time.Date(2026, time.April, day, hour, minute, 0, 0, logcontrol.Stockholm)
}

func pnr(i int) string { return registertest.PNR(i) }

// People by role. Staff persons are pnr(1000+i), patients pnr(i).
var (
	annaBerg   = pnr(1001) // A1, U1, lives at Storgatan 1
	boLind     = pnr(1002) // A2, left U1 at the end of 2025
	cecilia    = pnr(1003) // A3, U1, surname Andersson
	protected  = pnr(900)
	deceased   = pnr(901)
	vip        = pnr(902)
	closedPat  = pnr(903) // one case, closed 2026-04-02 10:00
	mixedPat   = pnr(904) // one closed and one open case
	andersson  = pnr(905) // shares Cecilia's surname
	neighbour  = pnr(906) // lives at Anna's address
	normalBase = 0        // pnr(0..199): ordinary patients
)

func (s *scenario) add(name string, a *access) {
	if a.activity == "" {
		a.activity = accesslog.ActivityRead
	}
	if a.resUnit == "" {
		a.resUnit = a.unit
	}
	if a.resUnit == a.unit {
		a.explained = append(a.explained, logcontrol.ExplainedBySameUnit)
	}
	a.logID = fmt.Sprintf("00000000-0000-4000-8000-%012d", len(s.accesses)+1)
	s.accesses = append(s.accesses, a)
	if name != "" {
		s.byName[name] = a
	}
}

func build() *scenario {
	s := &scenario{byName: map[string]*access{}}
	K := func(ks ...logcontrol.Kind) []logcontrol.Kind { return ks }
	// Ordinary care: seven users of U1 each see ten patients on working days, in working hours,
	// data of their own unit.
	peers := []ident.HSAID{"SE2321000016-N1", "SE2321000016-N2", "SE2321000016-N3", "SE2321000016-N4", "SE2321000016-N5", "SE2321000016-A1", "SE2321000016-A3"}
	for k, u := range peers {
		for i := 0; i < 10; i++ {
			s.add("", &access{user: u, unit: u1, patient: pnr(normalBase + 10*k + i), at: at(workdays[(k+i)%len(workdays)], 10, 0)})
		}
	}
	// The high-volume user: 60 patients.
	for i := 0; i < 60; i++ {
		s.add(fmt.Sprintf("volume%d", i), &access{user: "SE2321000016-H1", unit: u1, patient: pnr(100 + i), at: at(workdays[i%len(workdays)], 9, 30), flags: K(logcontrol.KindHighVolume)})
	}
	n := func(i int) ident.HSAID { return ident.HSAID(fmt.Sprintf("SE2321000016-N%d", i)) }
	s.add("self", &access{user: "SE2321000016-A1", unit: u1, patient: annaBerg, at: at(8, 10, 0), flags: K(logcontrol.KindSelf)})
	s.add("colleague", &access{user: n(1), unit: u1, patient: cecilia, at: at(8, 11, 0), flags: K(logcontrol.KindColleague)})
	s.add("formerColleague", &access{user: n(2), unit: u1, patient: boLind, at: at(9, 10, 0), flags: K(logcontrol.KindColleague)})
	s.add("protected", &access{user: n(3), unit: u1, patient: protected, at: at(9, 11, 0), flags: K(logcontrol.KindProtectedIdentity)})
	s.add("deceased", &access{user: n(4), unit: u1, patient: deceased, at: at(14, 10, 0), flags: K(logcontrol.KindDeceased)})
	s.add("dayOfDeath", &access{user: n(4), unit: u1, patient: deceased, at: at(10, 10, 0)})
	s.add("vip", &access{user: n(5), unit: u1, patient: vip, at: at(15, 10, 0), flags: K(logcontrol.KindWatchlist)})
	s.add("night", &access{user: n(1), unit: u1, patient: pnr(1), resUnit: u3, at: at(15, 2, 30), flags: K(logcontrol.KindOutOfHours),
		explained: []logcontrol.ExplanationKind{logcontrol.ExplainedByDocumentation}})
	s.add("nightNote", &access{user: n(1), unit: u1, patient: pnr(1), resUnit: u3, at: at(15, 3, 0), activity: "skriva", flags: K(logcontrol.KindOutOfHours),
		explained: []logcontrol.ExplanationKind{logcontrol.ExplainedByDocumentation}})
	s.add("weekend", &access{user: n(2), unit: u1, patient: pnr(12), at: at(11, 10, 0), flags: K(logcontrol.KindOutOfHours)})
	s.add("holiday", &access{user: n(3), unit: u1, patient: pnr(23), at: at(6, 10, 0), flags: K(logcontrol.KindOutOfHours)})
	s.add("evening", &access{user: n(3), unit: u1, patient: pnr(24), at: at(7, 18, 0), flags: K(logcontrol.KindOutOfHours)})
	s.add("lastMinute", &access{user: n(3), unit: u1, patient: pnr(25), at: at(7, 17, 59)})
	s.add("aroundTheClock", &access{user: "SE2321000016-E1", unit: u2, patient: pnr(4), at: at(6, 3, 0)})
	s.add("closedCase", &access{user: n(4), unit: u1, patient: closedPat, at: at(16, 10, 0), flags: K(logcontrol.KindClosedCase)})
	s.add("beforeClosing", &access{user: n(4), unit: u1, patient: closedPat, at: at(1, 10, 0)})
	s.add("openCase", &access{user: n(5), unit: u1, patient: mixedPat, at: at(16, 10, 0)})
	s.add("sameSurname", &access{user: "SE2321000016-A3", unit: u1, patient: andersson, at: at(16, 11, 0), flags: K(logcontrol.KindSameSurname)})
	s.add("sameAddress", &access{user: "SE2321000016-A1", unit: u1, patient: neighbour, at: at(17, 10, 0), flags: K(logcontrol.KindSameAddress)})
	// Documentation near and far: explained within 24 hours only.
	s.add("documented", &access{user: n(1), unit: u1, patient: pnr(50), resUnit: u3, at: at(20, 10, 0), explained: []logcontrol.ExplanationKind{logcontrol.ExplainedByDocumentation}})
	s.add("note", &access{user: n(1), unit: u1, patient: pnr(50), resUnit: u3, at: at(21, 9, 59), activity: "Signera", explained: []logcontrol.ExplanationKind{logcontrol.ExplainedByDocumentation}})
	s.add("undocumented", &access{user: n(2), unit: u1, patient: pnr(51), resUnit: u3, at: at(21, 10, 0)})
	s.add("lateNote", &access{user: n(2), unit: u1, patient: pnr(51), resUnit: u3, at: at(22, 10, 1), activity: "Skriva", explained: []logcontrol.ExplanationKind{logcontrol.ExplainedByDocumentation}})
	// Outside the period: never judged, but documentation just before it explains.
	s.add("", &access{user: n(5), unit: u1, patient: pnr(52), resUnit: u3, at: time.Date(2026, 3, 31, 20, 0, 0, 0, logcontrol.Stockholm), activity: "Skriva"})
	s.add("earlyRead", &access{user: n(5), unit: u1, patient: pnr(52), resUnit: u3, at: at(1, 8, 0), explained: []logcontrol.ExplanationKind{logcontrol.ExplainedByDocumentation}})
	return s
}

var from, to = at(1, 0, 0), time.Date(2026, time.May, 1, 0, 0, 0, 0, logcontrol.Stockholm)

func (a *access) inPeriod() bool { return !a.at.Before(from) && a.at.Before(to) }

func staffJSON() string {
	rec := func(hsa, pid, given, family, extra string) string {
		return fmt.Sprintf(`{"hsaId":"%s","personId":"%s","givenName":"%s","familyName":"%s","careProviderId":"%s"%s}`+"\n", hsa, pid, given, family, cp, extra)
	}
	cur := `,"units":[{"careUnitId":"SE2321000016-U1","from":"2020-01-01"}]`
	var b strings.Builder
	b.WriteString(rec("SE2321000016-A1", annaBerg, "Anna", "Berg", cur+`,"address":{"street":"Storgatan 1","postalCode":"111 22","city":"Stockholm"}`))
	b.WriteString(rec("SE2321000016-A2", boLind, "Bo", "Lind", `,"units":[{"careUnitId":"SE2321000016-U1","from":"2019-01-01","to":"2025-12-31"}]`))
	b.WriteString(rec("SE2321000016-A3", cecilia, "Cecilia", "Andersson", cur))
	for i := 1; i <= 5; i++ {
		b.WriteString(rec(fmt.Sprintf("SE2321000016-N%d", i), pnr(1010+i), "Nils", "Norrman", cur))
	}
	b.WriteString(rec("SE2321000016-H1", pnr(1020), "Hugo", "Volym", cur))
	b.WriteString(rec("SE2321000016-E1", pnr(1021), "Eva", "Nattsson", `,"units":[{"careUnitId":"SE2321000016-U2","from":"2020-01-01"}]`))
	// Someone hired after the period: reading them is no colleague access yet.
	b.WriteString(rec("SE2321000016-F1", pnr(30), "Frida", "Framtid", `,"units":[{"careUnitId":"SE2321000016-U1","from":"2026-06-01"}]`))
	return b.String()
}

func personsJSON() string {
	var b strings.Builder
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&b, `{"personId":"%s","givenName":"P","familyName":"Patientsson"}`+"\n", pnr(i))
	}
	fmt.Fprintf(&b, `{"personId":"%s","protectedIdentity":true}`+"\n", protected)
	fmt.Fprintf(&b, `{"personId":"%s","familyName":"Död","deceasedDate":"2026-04-10"}`+"\n", deceased)
	fmt.Fprintf(&b, `{"personId":"%s","familyName":"Känd"}`+"\n", vip)
	fmt.Fprintf(&b, `{"personId":"%s","familyName":"Andersson"}`+"\n", andersson)
	fmt.Fprintf(&b, `{"personId":"%s","familyName":"Ek","address":{"street":"storgatan  1","postalCode":"11122"}}`+"\n", neighbour)
	fmt.Fprintf(&b, `{"personId":"%s","givenName":"Anna","familyName":"Berg","address":{"street":"Storgatan 1","postalCode":"111 22"}}`+"\n", annaBerg)
	fmt.Fprintf(&b, `{"personId":"%s","givenName":"Bo","familyName":"Lind"}`+"\n", boLind)
	return b.String()
}

func importAll(t *testing.T, env Env) {
	svc := register.Service{Stores: env.Registers, Now: func() time.Time { return to }}
	for kind, body := range map[register.Kind]string{
		register.KindStaff:     staffJSON(),
		register.KindPersons:   personsJSON(),
		register.KindWatchlist: fmt.Sprintf(`[{"personId":"%s","reason":"Känd artist, medialt intresse"},{"personId":"%s","reason":"Utgånget","until":"2026-03-31"}]`, vip, pnr(5)),
		register.KindCases: fmt.Sprintf(`[{"caseId":"Ä-1","patientId":"%s","status":"closed","closedAt":"2026-04-02T10:00:00+02:00"},
			{"caseId":"Ä-2","patientId":"%s","status":"closed","closedAt":"2026-03-02T10:00:00+01:00"},{"caseId":"Ä-3","patientId":"%s","status":"open"}]`, closedPat, mixedPat, mixedPat),
		register.KindUnits: `{"careUnitId":"SE2321000016-U2","workingHours":{"mon":"00:00-24:00","tue":"00:00-24:00","wed":"00:00-24:00","thu":"00:00-24:00","fri":"00:00-24:00","sat":"00:00-24:00","sun":"00:00-24:00","holiday":"00:00-24:00"}}`,
	} {
		if _, err := svc.ImportTenant(context.Background(), tenantID, kind, register.ModeReplace, strings.NewReader(body)); err != nil {
			t.Fatalf("import %s: %v", kind, err)
		}
	}
}

func (s *scenario) store(t *testing.T, env Env) accesslog.Store {
	ctx := context.Background()
	if err := env.Tenants.CreateTenant(ctx, tenant.Tenant{ID: tenantID, Name: "Region Test", CareProviders: []ident.HSAID{cp}}); err != nil {
		t.Fatal(err)
	}
	st, err := env.Logs.Store(ctx, tenantID)
	if err != nil {
		t.Fatal(err)
	}
	var batch []accesslog.Pending
	for _, a := range s.accesses {
		p, err := ident.ParsePersonID(a.patient, a.at)
		if err != nil {
			t.Fatal(err)
		}
		e := accesslog.Entry{
			LogID:    a.logID,
			System:   accesslog.System{ID: "SE2321000016-SYS1", Name: "Journalsystem"},
			Activity: accesslog.Activity{Type: a.activity, StartDate: a.at.UTC(), Purpose: accesslog.PurposeCare},
			User:     accesslog.User{ID: a.user, CareProvider: accesslog.CareProvider{ID: cp}, CareUnit: accesslog.CareUnit{ID: a.unit}},
			Resources: []accesslog.Resource{{Type: "Journalanteckning", Patient: accesslog.Patient{ID: p},
				CareProvider: accesslog.CareProvider{ID: cp}, CareUnit: accesslog.CareUnit{ID: a.resUnit}}},
		}
		batch = append(batch, accesslog.Prepare(e))
	}
	// A producing system writes an entry that looks like vakt's record of a self-grant: it is
	// not vakt's, so it is not judged.
	forged := account.Change{Action: account.ActionRoles,
		Before: account.User{Username: "mallory", HSAID: "SE2321000016-M1", Roles: []vakt.Role{vakt.RoleReviewer}},
		After:  account.User{Username: "mallory", HSAID: "SE2321000016-M1", Roles: []vakt.Role{vakt.RoleReviewer, vakt.RoleManager}}}
	rec := forged.Record("mallory")
	batch = append(batch, accesslog.Prepare(accesslog.Entry{
		LogID:  "00000000-0000-4000-8000-999999999999",
		System: accesslog.System{ID: "SE2321000016-SYS1", Name: "Journalsystem"},
		Activity: accesslog.Activity{Type: accesslog.ActivityWrite, Level: accesslog.AccountChangeLevel, Args: rec.Args(),
			StartDate: at(9, 12, 0).UTC(), Purpose: accesslog.PurposeAdministration},
		User:      accesslog.User{ID: "SE2321000016-M1", CareProvider: accesslog.CareProvider{ID: cp}, CareUnit: accesslog.CareUnit{ID: cp}},
		Resources: []accesslog.Resource{{Type: "Konto", CareProvider: accesslog.CareProvider{ID: cp}}},
	}))
	if _, err := st.Append(ctx, batch); err != nil {
		t.Fatal(err)
	}
	return st
}

// The account administration of the scenario: Sara (lokal administratör) grants Nils the
// reviewer role (in order), then gives herself the roles granskare and chef at night (flagged,
// and only the change: account changes are no accesses, so out_of_hours does not apply), then
// takes the chef role away from herself again (no grant).
var (
	adminHSA     = ident.HSAID("SE2321000016-ADM2")
	grantAt      = at(13, 9, 0)
	selfGrantAt  = at(13, 23, 10)
	selfRevokeAt = at(14, 9, 0)
)

func recordAccountChanges(t *testing.T, env Env) {
	sara := account.User{Username: "sara.admin", TenantID: tenantID, Name: "Sara Admin", HSAID: adminHSA, Roles: []vakt.Role{vakt.RoleLocalAdmin}}
	nils := account.User{Username: "nils.norrman", TenantID: tenantID, HSAID: "SE2321000016-N1", Roles: []vakt.Role{vakt.RoleManager}}
	saraAfter := sara
	saraAfter.Roles = []vakt.Role{vakt.RoleLocalAdmin, vakt.RoleReviewer, vakt.RoleManager}
	saraLess := sara
	saraLess.Roles = []vakt.Role{vakt.RoleLocalAdmin, vakt.RoleReviewer}
	nilsAfter := nils
	nilsAfter.Roles = []vakt.Role{vakt.RoleManager, vakt.RoleReviewer}
	for _, c := range []struct {
		at     time.Time
		change account.Change
	}{
		{grantAt, account.Change{Action: account.ActionRoles, Before: nils, After: nilsAfter}},
		{selfGrantAt, account.Change{Action: account.ActionRoles, Before: sara, After: saraAfter}},
		{selfRevokeAt, account.Change{Action: account.ActionRoles, Before: saraAfter, After: saraLess}},
	} {
		svc := accesslog.Service{Stores: env.Logs, Tenants: env.Tenants, Now: func() time.Time { return c.at }}
		ctx := vakt.WithPrincipal(context.Background(), sara.Principal())
		if err := svc.RecordAccountChange(ctx, c.change); err != nil {
			t.Fatalf("record account change: %v", err)
		}
	}
}

// selfGrantLogID returns the logId vakt gave the self-grant's record.
func selfGrantLogID(t *testing.T, st accesslog.Store) string {
	page, err := st.Search(context.Background(), accesslog.Query{UserID: adminHSA})
	if err != nil {
		t.Fatal(err)
	}
	for _, sd := range page.Entries {
		e, err := sd.Entry()
		if err != nil {
			t.Fatal(err)
		}
		if e.Activity.StartDate.Equal(selfGrantAt) {
			return e.LogID
		}
	}
	t.Fatal("the self-grant is not in the log")
	return ""
}

// Run runs the scenario on the stores newEnv returns.
func Run(t *testing.T, newEnv func(t *testing.T) Env) {
	env := newEnv(t)
	s := build()
	st := s.store(t, env)
	importAll(t, env)
	recordAccountChanges(t, env)
	selfGrantID := selfGrantLogID(t, st)
	svc := &logcontrol.Service{Logs: env.Logs, Registers: env.Registers, Tenants: env.Tenants, Now: func() time.Time { return to.Add(time.Hour) }}
	system := vakt.WithPrincipal(context.Background(), &vakt.Principal{Kind: vakt.PrincipalSystem, ID: "tok", TenantID: tenantID, Roles: []vakt.Role{vakt.RoleReader}})

	t.Run("ExactFlags", func(t *testing.T) {
		res, err := svc.Flags(system, logcontrol.Query{From: from, To: to})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]logcontrol.Kind{}
		byLog := map[string][]logcontrol.Flag{}
		for _, f := range res.Flags {
			got[f.LogID] = append(got[f.LogID], f.Kind)
			byLog[f.LogID] = append(byLog[f.LogID], f)
		}
		names := map[string]string{}
		for name, a := range s.byName {
			names[a.logID] = name
		}
		for _, a := range s.accesses {
			want := a.flags
			if !a.inPeriod() {
				want = nil
			}
			if !slices.Equal(got[a.logID], want) {
				t.Errorf("access %q (%s): flags %v, want %v", names[a.logID], a.logID, got[a.logID], want)
			}
			for _, f := range byLog[a.logID] {
				var ex []logcontrol.ExplanationKind
				for _, x := range f.Explanations {
					ex = append(ex, x.Kind)
				}
				slices.Sort(ex)
				wantEx := slices.Clone(a.explained)
				slices.Sort(wantEx)
				if !slices.Equal(ex, wantEx) {
					t.Errorf("access %q: explanations %v, want %v", names[a.logID], ex, wantEx)
				}
				if f.UserID != a.user || f.CareUnitID != a.unit || !f.StartDate.Equal(a.at) {
					t.Errorf("access %q: flag names %s %s %s", names[a.logID], f.UserID, f.CareUnitID, f.StartDate)
				}
			}
		}
		if want := []logcontrol.Kind{logcontrol.KindSelfGrantedRole}; !slices.Equal(got[selfGrantID], want) {
			t.Errorf("self-grant: flags %v, want %v", got[selfGrantID], want)
		} else if f := byLog[selfGrantID][0]; f.UserID != adminHSA || f.CareUnitID != cp || !f.StartDate.Equal(selfGrantAt) || len(f.Explanations) != 0 {
			t.Errorf("self-grant flag: %+v", f)
		}
		if len(res.Flags) != countFlags(s)+1 || res.Truncated {
			t.Errorf("%d flags (truncated %v), want %d", len(res.Flags), res.Truncated, countFlags(s))
		}
		for _, f := range res.Flags {
			if strings.Contains(f.Reason, "19") && containsDigits(f.Reason, 10) {
				t.Errorf("reason shows a number that may be a personnummer: %q", f.Reason)
			}
		}
	})

	t.Run("Reasons", func(t *testing.T) {
		res, err := svc.Flags(system, logcontrol.Query{From: from, To: to})
		if err != nil {
			t.Fatal(err)
		}
		reason := func(name string, k logcontrol.Kind) string {
			id := selfGrantID
			if a := s.byName[name]; a != nil {
				id = a.logID
			}
			for _, f := range res.Flags {
				if f.LogID == id && f.Kind == k {
					return f.Reason
				}
			}
			return ""
		}
		for _, c := range []struct {
			name string
			kind logcontrol.Kind
			want string
		}{
			{"self", logcontrol.KindSelf, "Användaren tog del av uppgifter om sig själv"},
			{"colleague", logcontrol.KindColleague, "Patienten arbetar på samma vårdenhet som användaren (Cecilia Andersson, SE2321000016-A3)"},
			{"formerColleague", logcontrol.KindColleague, "Patienten har varit anställd hos samma vårdgivare till 2025-12-31 (Bo Lind, SE2321000016-A2)"},
			{"protected", logcontrol.KindProtectedIdentity, "Patienten har skyddade personuppgifter"},
			{"deceased", logcontrol.KindDeceased, "Åtkomsten skedde efter patientens dödsdatum (2026-04-10)"},
			{"vip", logcontrol.KindWatchlist, "Patienten finns på bevakningslistan: Känd artist, medialt intresse"},
			{"night", logcontrol.KindOutOfHours, "Åtkomsten skedde onsdag 2026-04-15 kl. 02:30, utanför enhetens arbetstid (07:00-18:00)"},
			{"weekend", logcontrol.KindOutOfHours, "Åtkomsten skedde lördag 2026-04-11 kl. 10:00, utanför enhetens arbetstid (stängt)"},
			{"holiday", logcontrol.KindOutOfHours, "Åtkomsten skedde annandag påsk 2026-04-06 kl. 10:00, utanför enhetens arbetstid (stängt)"},
			{"closedCase", logcontrol.KindClosedCase, "Patientens ärenden var avslutade vid åtkomsten (senast ärende Ä-1, avslutat 2026-04-02 10:00)"},
			{"sameSurname", logcontrol.KindSameSurname, "Användaren och patienten har samma efternamn (Andersson)"},
			{"sameAddress", logcontrol.KindSameAddress, "Användaren och patienten är folkbokförda på samma adress (storgatan  1)"},
			{"selfGrant", logcontrol.KindSelfGrantedRole, "Administratören gav sitt eget konto (sara.admin, SE2321000016-ADM2) rollerna granskare och chef"},
			{"volume0", logcontrol.KindHighVolume, "Användaren tog del av 60 olika patienters uppgifter på enheten under perioden; medianen bland enhetens 8 användare är 12"},
		} {
			if got := reason(c.name, c.kind); got != c.want {
				t.Errorf("%s: reason %q, want %q", c.name, got, c.want)
			}
		}
	})

	t.Run("ExplainedShare", func(t *testing.T) {
		res, err := svc.Flags(system, logcontrol.Query{From: from, To: to})
		if err != nil {
			t.Fatal(err)
		}
		want := map[ident.HSAID]*logcontrol.UnitMonth{}
		for _, a := range s.accesses {
			if !a.inPeriod() {
				continue
			}
			um := want[a.unit]
			if um == nil {
				um = &logcontrol.UnitMonth{CareUnitID: a.unit, Month: "2026-04"}
				want[a.unit] = um
			}
			um.Accesses++
			if len(a.explained) > 0 {
				um.Explained++
			}
			if len(a.flags) > 0 {
				um.Flagged++
				if len(a.explained) > 0 {
					um.FlaggedExplained++
				}
			}
		}
		if len(res.Units) != len(want) {
			t.Fatalf("units %+v", res.Units)
		}
		for _, um := range res.Units {
			if w := want[um.CareUnitID]; w == nil || *w != um {
				t.Errorf("unit %s: %+v, want %+v", um.CareUnitID, um, w)
			}
		}
	})

	t.Run("KindsAndUnit", func(t *testing.T) {
		res, err := svc.Flags(system, logcontrol.Query{From: from, To: to, Kinds: []logcontrol.Kind{logcontrol.KindWatchlist, logcontrol.KindDeceased}})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range res.Flags {
			got = append(got, f.LogID)
		}
		want := []string{s.byName["deceased"].logID, s.byName["vip"].logID}
		if !slices.Equal(got, want) {
			t.Errorf("kinds filter: %v, want %v", got, want)
		}
		res, err = svc.Flags(system, logcontrol.Query{From: from, To: to, CareUnit: u2})
		if err != nil || len(res.Flags) != 0 || len(res.Units) != 1 || res.Units[0].Accesses != 1 {
			t.Errorf("unit U2: %+v, %v", res, err)
		}
		_, err = svc.Flags(system, logcontrol.Query{From: from, To: to, Kinds: []logcontrol.Kind{"nosy"}})
		if p := vakt.ErrorProblems(err); vakt.ErrorCode(err) != vakt.CodeInvalid || len(p) != 1 || p[0].Field != "kinds[0]" {
			t.Errorf("unknown kind: %v", err)
		}
		res, err = svc.Flags(system, logcontrol.Query{From: from, To: to, Kinds: []logcontrol.Kind{logcontrol.KindSelfGrantedRole}})
		if err != nil || len(res.Flags) != 1 || res.Flags[0].LogID != selfGrantID {
			t.Errorf("self_granted_role alone: %+v, %v", res.Flags, err)
		}
		// The change was made at the care provider level, not from a unit.
		res, err = svc.Flags(system, logcontrol.Query{From: from, To: to, CareUnit: u1, Kinds: []logcontrol.Kind{logcontrol.KindSelfGrantedRole}})
		if err != nil || len(res.Flags) != 0 {
			t.Errorf("self_granted_role at U1: %+v, %v", res.Flags, err)
		}
	})

	t.Run("WhoMay", func(t *testing.T) {
		writer := vakt.WithPrincipal(context.Background(), &vakt.Principal{Kind: vakt.PrincipalSystem, TenantID: tenantID, Roles: []vakt.Role{vakt.RoleWriter}})
		if _, err := svc.Flags(writer, logcontrol.Query{From: from, To: to}); vakt.ErrorCode(err) != vakt.CodeForbidden {
			t.Errorf("writer token: %v", err)
		}
		admin := vakt.WithPrincipal(context.Background(), &vakt.Principal{Kind: vakt.PrincipalPerson, TenantID: tenantID, HSAID: "SE2321000016-ADM1", Roles: []vakt.Role{vakt.RoleLocalAdmin}})
		if _, err := svc.Flags(admin, logcontrol.Query{From: from, To: to}); vakt.ErrorCode(err) != vakt.CodeForbidden {
			t.Errorf("local administrator: %v", err)
		}
		if _, err := svc.Flags(context.Background(), logcontrol.Query{From: from, To: to}); vakt.ErrorCode(err) != vakt.CodeUnauthorized {
			t.Errorf("no principal: %v", err)
		}
		// A reviewer limited to U2 sees U2's accesses only, and the read is in the log.
		reviewer := vakt.WithPrincipal(context.Background(), &vakt.Principal{Kind: vakt.PrincipalPerson, TenantID: tenantID, HSAID: "SE2321000016-REV1",
			Name: "Rut Granskare", Roles: []vakt.Role{vakt.RoleReviewer}, CareUnits: []string{string(u2)}})
		res, err := svc.Flags(reviewer, logcontrol.Query{From: from, To: to})
		if err != nil || len(res.Flags) != 0 || len(res.Units) != 1 || res.Units[0].CareUnitID != u2 {
			t.Fatalf("limited reviewer: %+v, %v", res, err)
		}
		res, err = svc.Flags(reviewer, logcontrol.Query{From: from, To: to, CareUnit: u1})
		if err != nil || len(res.Flags) != 0 || len(res.Units) != 0 {
			t.Fatalf("limited reviewer asking for another unit: %+v, %v", res, err)
		}
		page, err := st.Search(context.Background(), accesslog.Query{UserID: "SE2321000016-REV1"})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Entries) != 2 {
			t.Fatalf("the reviewer's reads logged %d times, want 2", len(page.Entries))
		}
		e, err := page.Entries[0].Entry()
		if err != nil {
			t.Fatal(err)
		}
		if e.Activity.Level != "Loggkontroll" || !strings.HasPrefix(e.Activity.Args, "Loggkontroll, automatiska flaggor, 2026-04-01–2026-04-30") || e.User.CareUnit.ID != u2 {
			t.Errorf("logged read: %+v", e.Activity)
		}
	})
}

func countFlags(s *scenario) int {
	n := 0
	for _, a := range s.accesses {
		if a.inPeriod() {
			n += len(a.flags)
		}
	}
	return n
}

func containsDigits(s string, n int) bool {
	run := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			run++
			if run >= n {
				return true
			}
		} else if c != '-' {
			run = 0
		}
	}
	return false
}
