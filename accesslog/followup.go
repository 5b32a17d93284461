package accesslog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/merkle"
	"github.com/vakt/vakt/tenant"
)

// MaxFollowUpResults bounds what one follow-up search collects. A reviewer reads a patient's or
// a staff member's accesses over a period; a search that finds more is too wide to review and
// the tool asks for a narrower one instead of silently cutting it.
const MaxFollowUpResults = 10000

// FollowUpQuery is a person's search in the log follow-up tool (logguppföljning): every access to
// one patient's data (tab Invånare), or everything one staff member accessed (tab Vårdpersonal),
// in a period, optionally narrowed by the unit the access was made from, activity and purpose.
type FollowUpQuery struct {
	Patient      ident.PersonID // exactly one of Patient and Staff
	Staff        ident.HSAID
	From, To     time.Time    // required: startDate >= From and < To
	CareUnit     ident.HSAID  // optional: user.careUnit of the access
	ActivityType ActivityType // optional, ignoring case
	Purpose      Purpose      // optional, ignoring case
}

// Validate checks q's own fields.
func (q *FollowUpQuery) Validate() error {
	var probs []vakt.Problem
	add := func(field, reason string) {
		probs = append(probs, vakt.Problem{Index: -1, Field: field, Reason: reason})
	}
	if q.Patient.IsZero() == (q.Staff == "") {
		add("subject", "must name either a patient or a staff member")
	}
	if q.From.IsZero() {
		add("from", "is required")
	}
	if q.To.IsZero() {
		add("to", "is required")
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		add("to", "must be after from")
	}
	if len(probs) > 0 {
		return vakt.Invalid("search is invalid", probs...)
	}
	return nil
}

// Found is one entry a follow-up search found, decoded for display.
type Found struct {
	Stored
	Entry Entry
}

// FollowUpResult is the outcome of a follow-up search: the matching entries newest first.
type FollowUpResult struct {
	Entries []Found
	// Truncated means more than MaxFollowUpResults entries matched; Entries holds the newest.
	Truncated bool
}

var errEnough = errors.New("enough entries")

// followUpTenant returns the caller's tenant if the caller is a person allowed to follow up.
func (s *Service) followUpTenant(ctx context.Context, perm account.Permission) (*vakt.Principal, tenant.Tenant, error) {
	return Person(ctx, s.Tenants, perm, "this")
}

// FollowUp runs a person's follow-up search in their tenant. It needs a person allowed
// account.FollowUp. Before anything is read, the search itself is stored as an access-log entry
// in the tenant's own log (who searched for which patient or staff member, when: PDL 4 kap. 3 §
// makes a reviewer's read an access like any other), so a search that cannot be logged is not
// run. A person limited to care units finds only accesses made from those units.
func (s *Service) FollowUp(ctx context.Context, q FollowUpQuery) (FollowUpResult, error) {
	p, t, err := s.followUpTenant(ctx, account.FollowUp)
	if err != nil {
		return FollowUpResult{}, err
	}
	if err := q.Validate(); err != nil {
		return FollowUpResult{}, err
	}
	st, err := s.Stores.Store(ctx, t.ID)
	if err != nil {
		return FollowUpResult{}, err
	}
	if err := s.logFollowUp(ctx, st, p, &t, &q, ActivityRead, ""); err != nil {
		return FollowUpResult{}, err
	}
	var res FollowUpResult
	if q.CareUnit != "" && !p.InUnits(string(q.CareUnit)) {
		return res, nil // a unit outside the person's units: nothing of it is visible
	}
	sq := Query{PatientID: q.Patient, UserID: q.Staff, CareUnitID: q.CareUnit, ActivityType: q.ActivityType, From: q.From, To: q.To}
	err = st.Export(ctx, sq, func(sd *Stored) error {
		e, err := sd.Entry()
		if err != nil {
			return err
		}
		if !p.InUnits(string(e.User.CareUnit.ID)) {
			return nil
		}
		if q.Purpose != "" && !strings.EqualFold(string(q.Purpose), string(e.Activity.Purpose)) {
			return nil
		}
		if len(res.Entries) == MaxFollowUpResults {
			res.Truncated = true
			return errEnough
		}
		res.Entries = append(res.Entries, Found{Stored: Stored{Seq: sd.Seq, ReceivedAt: sd.ReceivedAt, JSON: append([]byte(nil), sd.JSON...)}, Entry: e})
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return FollowUpResult{}, err
	}
	return res, nil
}

// RecordExport stores, in the tenant's own log, that the caller exported the result of q in a
// file (activity Utskrift), before the file is made. It needs account.Export.
func (s *Service) RecordExport(ctx context.Context, q FollowUpQuery, format string) error {
	p, t, err := s.followUpTenant(ctx, account.Export)
	if err != nil {
		return err
	}
	if err := q.Validate(); err != nil {
		return err
	}
	st, err := s.Stores.Store(ctx, t.ID)
	if err != nil {
		return err
	}
	return s.logFollowUp(ctx, st, p, &t, &q, ActivityPrint, format)
}

// FollowUpSystemID returns the systemId under which vakt logs people's reads in tenant t: the
// issuer and organisation number of the tenant's first care provider with the local part VAKT.
func FollowUpSystemID(t *tenant.Tenant) ident.HSAID {
	cp := string(t.CareProviders[0])
	if i := strings.IndexByte(cp, '-'); i > 0 {
		if id, err := ident.ParseHSAID(cp[:i+1] + "VAKT"); err == nil {
			return id
		}
	}
	return t.CareProviders[0]
}

// logFollowUp appends the entry that records p's search (or export, then format names the file
// type). The person acts for the tenant's first care provider and, when limited to care units,
// for the first of them, else for the care provider as a whole (its HSA-id as the unit).
func (s *Service) logFollowUp(ctx context.Context, st Store, p *vakt.Principal, t *tenant.Tenant, q *FollowUpQuery, activity ActivityType, format string) error {
	cp := CareProvider{ID: t.CareProviders[0], Name: t.Name}
	unit := CareUnit{ID: cp.ID}
	if p.Limited() {
		unit = CareUnit{ID: ident.HSAID(p.CareUnits[0])}
	}
	var args strings.Builder
	if q.Patient.IsZero() {
		args.WriteString("Logguppföljning, vårdpersonal ")
		args.WriteString(string(q.Staff))
	} else {
		args.WriteString("Logguppföljning, invånare")
	}
	loc := stockholm
	args.WriteString(", " + q.From.In(loc).Format(time.DateOnly) + "–" + q.To.In(loc).Add(-time.Nanosecond).Format(time.DateOnly))
	if q.CareUnit != "" {
		args.WriteString(", vårdenhet " + string(q.CareUnit))
	}
	if q.ActivityType != "" {
		args.WriteString(", aktivitet " + string(q.ActivityType))
	}
	if q.Purpose != "" {
		args.WriteString(", syfte " + string(q.Purpose))
	}
	if format != "" {
		args.WriteString(", export " + format)
	}
	e := Entry{
		LogID:  newUUID(),
		System: System{ID: FollowUpSystemID(t), Name: "vakt logguppföljning"},
		Activity: Activity{Type: activity, Level: "Logguppföljning", Args: truncateRunes(args.String(), MaxArgsLen),
			StartDate: s.now().UTC().Truncate(time.Microsecond), Purpose: PurposeFollowUp},
		User: User{ID: ident.HSAID(p.HSAID), Name: truncateRunes(p.Name, MaxTextLen), Title: truncateRunes(p.Title, MaxTextLen),
			CareProvider: cp, CareUnit: unit},
		Resources: []Resource{{Type: "Åtkomstlogg", Patient: Patient{ID: q.Patient}, CareProvider: CareProvider{ID: cp.ID}}},
	}
	_, err := st.Append(ctx, []Pending{Prepare(e)})
	return err
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// newUUID returns a random (version 4) UUID for the logId of an entry vakt writes itself.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// IntegrityStatus says whether an entry is proven to be in the tenant's signed log.
type IntegrityStatus string

// Integrity statuses.
const (
	IntegrityVerified IntegrityStatus = "verified" // inclusion proof checks against the signed checkpoint
	IntegrityPending  IntegrityStatus = "pending"  // newer than the latest checkpoint; proven within seconds
	IntegrityFailed   IntegrityStatus = "failed"   // the proof or the signature does not check: tampering or a bug
	IntegrityOff      IntegrityStatus = "off"      // tamper evidence is turned off for this store
)

// Integrity is the outcome of checking one entry against its tenant's signed checkpoint.
type Integrity struct {
	Status    IntegrityStatus
	LeafIndex uint64 // seq - 1
	TreeSize  uint64 // size of the checkpoint it was proven against
}

// FollowUpEntry returns one entry of the caller's tenant with its integrity: its inclusion proof
// checked against the tenant's latest signed checkpoint, whose signature is checked with the
// tenant's verifier key. An entry made from a unit outside a limited person's units is
// CodeNotFound, exactly like an entry that does not exist. It needs account.FollowUp.
func (s *Service) FollowUpEntry(ctx context.Context, logID string) (Found, Integrity, error) {
	p, t, err := s.followUpTenant(ctx, account.FollowUp)
	if err != nil {
		return Found{}, Integrity{}, err
	}
	notFound := vakt.Errorf(vakt.CodeNotFound, "no entry with that logId")
	if logID == "" || len(logID) > 4*MaxLogIDLen {
		return Found{}, Integrity{}, notFound
	}
	st, err := s.Stores.Store(ctx, t.ID)
	if err != nil {
		return Found{}, Integrity{}, err
	}
	sd, err := st.Get(ctx, logID)
	if err != nil {
		return Found{}, Integrity{}, err
	}
	e, err := sd.Entry()
	if err != nil {
		return Found{}, Integrity{}, err
	}
	if !p.InUnits(string(e.User.CareUnit.ID)) {
		return Found{}, Integrity{}, notFound
	}
	f := Found{Stored: sd, Entry: e}
	in := Integrity{LeafIndex: uint64(sd.Seq - 1)}
	if st.VerifierKey() == "" {
		in.Status = IntegrityOff
		return f, in, nil
	}
	pr, err := st.Prove(ctx, logID)
	switch vakt.ErrorCode(err) {
	case "":
	case vakt.CodeUnavailable:
		in.Status = IntegrityPending
		return f, in, nil
	default:
		return Found{}, Integrity{}, err
	}
	in.TreeSize = pr.TreeSize
	in.Status = IntegrityFailed
	cp, err := merkle.Open(pr.Checkpoint.Note, st.VerifierKey())
	if err != nil || cp.Size != pr.TreeSize || pr.LeafIndex != in.LeafIndex {
		return f, in, nil
	}
	leaf := merkle.LeafHash(sd.JSON)
	if leaf != pr.LeafHash {
		return f, in, nil
	}
	if merkle.VerifyInclusion(pr.LeafIndex, pr.TreeSize, leaf, pr.Hashes, cp.Root) == nil {
		in.Status = IntegrityVerified
	}
	return f, in, nil
}
