package control

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
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

// stockholm is the zone of a control's month: the April sample holds the accesses of April in
// Swedish time, as the unit lived it.
var stockholm = swetime.Stockholm

// Service runs log controls for people allowed account.Controls (granskare,
// loggadministrator). Drawing a sample and viewing its accesses read log data, so each is
// first stored as an entry in the tenant's own log (PDL 4 kap. 3 §), like every follow-up
// search; a read that cannot be logged is not made. Every change to a control is recorded in
// its history. A person limited to care units sees and runs controls of those units only.
type Service struct {
	Logs     accesslog.Stores
	Controls Stores
	Tenants  tenant.Directory
	// Registers give the monthly overview the care units of the tenant; without them it lists
	// only units that have a control or that the person is limited to.
	Registers register.Stores
	Now       func() time.Time // defaults to time.Now
	// Seed gives the seed of a new sample; crypto/rand when nil.
	Seed func() uint64
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

func (s *Service) seed() uint64 {
	if s.Seed != nil {
		return s.Seed()
	}
	var b [8]byte
	rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:])
}

// caller is the person acting and their tenant's stores.
type caller struct {
	p        *vakt.Principal
	t        tenant.Tenant
	logs     accesslog.Store
	controls Store
}

func (c *caller) person() Person {
	return Person{Username: c.p.ID, HSAID: ident.HSAID(c.p.HSAID), Name: c.p.Name}
}

func (s *Service) caller(ctx context.Context) (*caller, error) {
	p, t, err := accesslog.Person(ctx, s.Tenants, account.Controls, "log controls")
	if err != nil {
		return nil, err
	}
	logs, err := s.Logs.Store(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	cs, err := s.Controls.Controls(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	return &caller{p: p, t: t, logs: logs, controls: cs}, nil
}

// List returns the controls of the caller's tenant the caller may see, newest first. The
// register names units, months and reviewers but no patient, so listing it reads no log data.
func (s *Service) List(ctx context.Context) ([]Control, error) {
	c, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	all, err := c.controls.List(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(ct Control) bool { return !c.p.InUnits(string(ct.Scope.CareUnit)) }), nil
}

// SampleRequest asks for the monthly sample of a unit.
type SampleRequest struct {
	CareUnit ident.HSAID
	Month    string  // YYYY-MM
	Size     int     // 0 means DefaultSampleSize
	Seed     *uint64 // nil: a new random seed; set: draw again from a recorded seed
	Strata   Strata  // StrataNone: one population (Draw); else DrawStrata by this
}

// Validate checks r's own fields.
func (r *SampleRequest) Validate() error {
	var probs []vakt.Problem
	add := func(field, reason string) {
		probs = append(probs, vakt.Problem{Index: -1, Field: field, Reason: reason})
	}
	if _, err := ident.ParseHSAID(string(r.CareUnit)); err != nil {
		add("careUnitId", "is not an HSA-id")
	}
	if _, err := time.Parse("2006-01", r.Month); err != nil {
		add("month", "is not a month (YYYY-MM)")
	}
	if r.Size < 0 || r.Size > MaxSampleSize {
		add("size", "must be between 1 and 100")
	}
	if !r.Strata.Valid() {
		add("strata", "must be empty, aktivitet or anvandare")
	}
	if len(probs) > 0 {
		return vakt.Invalid("sample request is invalid", probs...)
	}
	return nil
}

// CreateSample draws the monthly sample of r.CareUnit and stores it as a new control with the
// caller as reviewer. The population is every access made from the unit (user.careUnit) whose
// activity.startDate falls in the month in Swedish time and that names a patient, in
// sequence-number order; Draw picks from it with the recorded seed.
func (s *Service) CreateSample(ctx context.Context, r SampleRequest) (Control, error) {
	c, err := s.caller(ctx)
	if err != nil {
		return Control{}, err
	}
	if err := r.Validate(); err != nil {
		return Control{}, err
	}
	if r.Size == 0 {
		r.Size = DefaultSampleSize
	}
	if !c.p.InUnits(string(r.CareUnit)) {
		return Control{}, vakt.Errorf(vakt.CodeForbidden, "the unit is not one of yours")
	}
	m, _ := time.ParseInLocation("2006-01", r.Month, stockholm)
	from, to := m.UTC(), m.AddDate(0, 1, 0).UTC()
	seed := s.seed()
	if r.Seed != nil {
		seed = *r.Seed
	}
	now := s.now()
	id := newID()
	args := "Loggkontroll, stickprov " + id + ", vårdenhet " + string(r.CareUnit) + ", " + r.Month + ", urval"
	if err := s.logRead(ctx, c, args, nil, now); err != nil {
		return Control{}, err
	}
	type access struct {
		seq     int64
		logID   string
		stratum string
	}
	var pop []access
	err = c.logs.Export(ctx, accesslog.Query{CareUnitID: r.CareUnit, From: from, To: to}, func(sd *accesslog.Stored) error {
		e, err := sd.Entry()
		if err != nil {
			return err
		}
		if e.User.CareUnit.ID != r.CareUnit || len(e.Patients()) == 0 {
			return nil
		}
		a := access{seq: sd.Seq, logID: e.LogID}
		switch r.Strata {
		case StrataActivity:
			a.stratum = string(e.Activity.Type)
		case StrataUser:
			a.stratum = string(e.User.ID)
		}
		pop = append(pop, a)
		return nil
	})
	if err != nil {
		return Control{}, err
	}
	slices.SortFunc(pop, func(a, b access) int { return int(a.seq - b.seq) })
	ct := Control{
		ID: id, TenantID: c.t.ID, Type: TypeSample,
		Scope:    Scope{CareUnit: r.CareUnit, From: from, To: to, Month: r.Month},
		Reviewer: c.person(), Created: now,
		Sample: &SampleParams{Algorithm: SampleAlgorithm, Seed: seed, Size: r.Size, Population: len(pop)},
		Items:  []Item{},
	}
	drawn := Draw(seed, len(pop), r.Size)
	if r.Strata != StrataNone {
		keys := make([]string, len(pop))
		for i := range pop {
			keys[i] = pop[i].stratum
		}
		ct.Sample.Algorithm, ct.Sample.StrataBy = StratifiedAlgorithm, r.Strata
		drawn, ct.Sample.Strata = DrawStrata(seed, keys, r.Size)
	}
	for _, i := range drawn {
		ct.Items = append(ct.Items, Item{LogID: pop[i].logID, Seq: pop[i].seq})
	}
	if err := ct.Validate(); err != nil {
		return Control{}, err
	}
	if err := c.controls.Create(ctx, &ct, Event{At: now, Actor: c.person(), Action: ActionCreated}); err != nil {
		return Control{}, err
	}
	return ct, nil
}

// Sampled is a sampled access with its log entry.
type Sampled struct {
	Item
	Entry *accesslog.Found // nil when the entry cannot be read (never expected: the log only grows)
}

// View is a control as its page shows it.
type View struct {
	Control      Control
	CareProvider accesslog.CareProvider // the tenant's, for the report's header
	Items        []Sampled
	History      []Event
}

func (s *Service) get(ctx context.Context, c *caller, id string) (Control, error) {
	if !validID(id) {
		return Control{}, vakt.Errorf(vakt.CodeNotFound, "no control with that id")
	}
	ct, err := c.controls.Get(ctx, id)
	if err != nil {
		return Control{}, err
	}
	if !c.p.InUnits(string(ct.Scope.CareUnit)) {
		// as if it did not exist: a limited person learns nothing of other units' controls
		return Control{}, vakt.Errorf(vakt.CodeNotFound, "no control with that id")
	}
	return ct, nil
}

// Get returns a control with its sampled accesses and history. The accesses name patients, so
// the read is logged first, naming each patient whose access is shown.
func (s *Service) Get(ctx context.Context, id string) (View, error) {
	return s.view(ctx, id, accesslog.ActivityRead, "")
}

// Report returns what Get does, for the manager's report: the report prints the accesses, so
// it is logged like an export of a follow-up search (activity Utskrift), naming each patient.
func (s *Service) Report(ctx context.Context, id string) (View, error) {
	return s.view(ctx, id, accesslog.ActivityPrint, ", rapport till chef")
}

func (s *Service) view(ctx context.Context, id string, activity accesslog.ActivityType, what string) (View, error) {
	c, err := s.caller(ctx)
	if err != nil {
		return View{}, err
	}
	ct, err := s.get(ctx, c, id)
	if err != nil {
		return View{}, err
	}
	v := View{Control: ct, CareProvider: accesslog.CareProvider{ID: c.t.CareProviders[0], Name: c.t.Name}}
	var patients []ident.PersonID
	if ct.Scope.Patient != "" {
		// the page names the patient a targeted control is about, so the read names them too
		if p, err := ident.ParsePersonID(ct.Scope.Patient, ct.Created); err == nil {
			patients = append(patients, p)
		}
	}
	for _, it := range ct.Items {
		sd, err := c.logs.Get(ctx, it.LogID)
		if err != nil {
			return View{}, err
		}
		e, err := sd.Entry()
		if err != nil {
			return View{}, err
		}
		for _, p := range e.Patients() {
			if !slices.Contains(patients, p) {
				patients = append(patients, p)
			}
		}
		v.Items = append(v.Items, Sampled{Item: it, Entry: &accesslog.Found{Stored: sd, Entry: e}})
	}
	args := "Loggkontroll, " + string(ct.Type) + " " + ct.ID + ", vårdenhet " + string(ct.Scope.CareUnit)
	if ct.Scope.Month != "" {
		args += ", " + ct.Scope.Month
	}
	if err := s.logActivity(ctx, c, activity, args+what, patients, s.now()); err != nil {
		return View{}, err
	}
	if v.History, err = c.controls.History(ctx, ct.ID); err != nil {
		return View{}, err
	}
	return v, nil
}

// Assess records the caller's assessment of the sampled access seq of control id. An open
// control's assessments may be changed; each change is a new event, so the history keeps the
// earlier ones.
func (s *Service) Assess(ctx context.Context, id string, seq int64, a Assessment, comment string) (Control, error) {
	c, err := s.caller(ctx)
	if err != nil {
		return Control{}, err
	}
	comment, err = CheckAssessment(a, comment)
	if err != nil {
		return Control{}, err
	}
	if _, err := s.get(ctx, c, id); err != nil {
		return Control{}, err
	}
	who := c.person()
	return c.controls.Update(ctx, id, func(ct *Control) (Event, error) {
		if ct.Closed != nil {
			return Event{}, vakt.Errorf(vakt.CodeConflict, "the control is closed")
		}
		it := ct.Item(seq)
		if it == nil {
			return Event{}, vakt.Errorf(vakt.CodeNotFound, "the control has no such access")
		}
		now := s.now()
		it.Assessment, it.Comment, it.AssessedBy, it.AssessedAt = a, comment, &who, &now
		return Event{At: now, Actor: who, Action: ActionAssessed, Seq: seq, Detail: string(a)}, nil
	})
}

// CheckAssessment checks a reviewer's assessment and comment as a form gives them and returns
// the comment as stored (trimmed): the assessment must be one of Assessments, the comment
// free text of at most MaxCommentLen characters, required unless the access is in order (the
// manager's report must say why an access needs follow-up or was unauthorised).
func CheckAssessment(a Assessment, comment string) (string, error) {
	var probs []vakt.Problem
	if !a.Valid() {
		probs = append(probs, vakt.Problem{Index: -1, Field: "assessment", Reason: "must be i_ordning, behover_uppfoljning or obehorig"})
	}
	comment = strings.TrimSpace(comment)
	if r := checkText(comment, MaxCommentLen); r != "" {
		probs = append(probs, vakt.Problem{Index: -1, Field: "comment", Reason: r})
	}
	if a != InOrder && a.Valid() && comment == "" {
		probs = append(probs, vakt.Problem{Index: -1, Field: "comment", Reason: "is required unless the access is in order"})
	}
	if len(probs) > 0 {
		return "", vakt.Invalid("assessment is invalid", probs...)
	}
	return comment, nil
}

// CheckClosing checks the findings and conclusion that close a control and returns them as
// stored (trimmed): both required, each free text of at most MaxSummaryLen characters.
func CheckClosing(findings, conclusion string) (string, string, error) {
	findings, conclusion = strings.TrimSpace(findings), strings.TrimSpace(conclusion)
	var probs []vakt.Problem
	for _, f := range []struct{ name, v string }{{"findings", findings}, {"conclusion", conclusion}} {
		if f.v == "" {
			probs = append(probs, vakt.Problem{Index: -1, Field: f.name, Reason: "is required"})
		} else if r := checkText(f.v, MaxSummaryLen); r != "" {
			probs = append(probs, vakt.Problem{Index: -1, Field: f.name, Reason: r})
		}
	}
	if len(probs) > 0 {
		return "", "", vakt.Invalid("closing is invalid", probs...)
	}
	return findings, conclusion, nil
}

// Close closes control id with the reviewer's findings and conclusion, once every sampled
// access is assessed. A closed control does not change any more.
func (s *Service) Close(ctx context.Context, id, findings, conclusion string) (Control, error) {
	c, err := s.caller(ctx)
	if err != nil {
		return Control{}, err
	}
	findings, conclusion, err = CheckClosing(findings, conclusion)
	if err != nil {
		return Control{}, err
	}
	if _, err := s.get(ctx, c, id); err != nil {
		return Control{}, err
	}
	who := c.person()
	return c.controls.Update(ctx, id, func(ct *Control) (Event, error) {
		if ct.Closed != nil {
			return Event{}, vakt.Errorf(vakt.CodeConflict, "the control is already closed")
		}
		if ct.Assessed() < len(ct.Items) {
			return Event{}, vakt.Invalid("closing is invalid", vakt.Problem{Index: -1, Field: "items", Reason: "every sampled access must be assessed first"})
		}
		now := s.now()
		ct.Closed, ct.ClosedBy, ct.Findings, ct.Conclusion = &now, &who, findings, conclusion
		return Event{At: now, Actor: who, Action: ActionClosed}, nil
	})
}

// logRead appends the entry that records a person's read in the control tool to the tenant's
// log, in the shape of the follow-up tool's own entries (accesslog.Service.FollowUp): one
// resource per patient whose data the page shows, so that a patient's own view of who read
// about them includes the reviewer.
func (s *Service) logRead(ctx context.Context, c *caller, args string, patients []ident.PersonID, at time.Time) error {
	return s.logActivity(ctx, c, accesslog.ActivityRead, args, patients, at)
}

// logActivity is logRead with another activity type (Utskrift for a printed report).
func (s *Service) logActivity(ctx context.Context, c *caller, activity accesslog.ActivityType, args string, patients []ident.PersonID, at time.Time) error {
	res := []accesslog.Resource{{Type: "Åtkomstlogg"}}
	if len(patients) > 0 {
		res = res[:0]
		for _, p := range patients {
			res = append(res, accesslog.Resource{Type: "Åtkomstlogg", Patient: accesslog.Patient{ID: p}})
		}
	}
	e := accesslog.PersonEntry(&c.t, c.p, "vakt loggkontroll",
		accesslog.Activity{Type: activity, Level: "Loggkontroll", Args: args, StartDate: at, Purpose: accesslog.PurposeFollowUp}, res)
	_, err := c.logs.Append(ctx, []accesslog.Pending{accesslog.Prepare(e)})
	return err
}

// newID returns a control's id: random, so ids reveal nothing of how many controls exist.
func newID() string {
	var b [10]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
