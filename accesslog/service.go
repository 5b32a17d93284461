package accesslog

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/merkle"
	"github.com/vakt/vakt/tenant"
)

// DefaultMaxBatch is the most entries one Append may carry unless configured otherwise.
// (RIV-TA StoreLog consumers send at most 500; REST clients batch more.)
const DefaultMaxBatch = 10000

// Service is the access-log service every surface calls. It enforces what must hold whichever
// engine stores the data: the caller's role, tenant isolation (a principal reads and writes its
// own tenant only, and an entry belongs to the tenant that owns its user.careProvider), and
// validation. Stores below it see one tenant each and no principals.
type Service struct {
	Stores   Stores
	Tenants  tenant.Directory
	Now      func() time.Time // defaults to time.Now
	MaxBatch int              // defaults to DefaultMaxBatch
}

// AppendReport is the outcome of a successful Append.
type AppendReport struct {
	Accepted   int            // entries newly stored
	Duplicates int            // entries already stored with identical content
	Results    []AppendResult // per entry, in request order
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// authorize returns the caller's tenant if the principal in ctx holds role.
func (s *Service) authorize(ctx context.Context, role vakt.Role) (tenant.Tenant, error) {
	p := vakt.PrincipalFrom(ctx)
	if p == nil {
		return tenant.Tenant{}, vakt.Errorf(vakt.CodeUnauthorized, "authentication required")
	}
	if !p.Has(role) {
		return tenant.Tenant{}, vakt.Errorf(vakt.CodeForbidden, "this credential lacks the %s role", role)
	}
	t, err := s.Tenants.Tenant(ctx, p.TenantID)
	if vakt.ErrorCode(err) == vakt.CodeNotFound {
		// The credential outlived its tenant; treat it like an unknown credential.
		return tenant.Tenant{}, vakt.Errorf(vakt.CodeUnauthorized, "the credential's tenant does not exist")
	}
	return t, err
}

// validateOptions returns the options for validating the entries of tenant t now.
func (s *Service) validateOptions(t *tenant.Tenant) ValidateOptions {
	return ValidateOptions{Now: s.now(), AllowReserveIDs: t.AllowReserveIDs}
}

// Append validates drafts and stores them in the caller's tenant, all or nothing. It needs the
// writer role. Every invalid entry is reported (CodeInvalid with one Problem per broken rule),
// together with the structural problems a surface found while decoding (decoded), so that one
// answer lists everything; an entry of a care provider the tenant does not own is
// CodeForbidden; a known logId with other content is CodeConflict. See Store.Append for
// durability and idempotency.
func (s *Service) Append(ctx context.Context, drafts []Draft, decoded ...vakt.Problem) (AppendReport, error) {
	t, err := s.authorize(ctx, vakt.RoleWriter)
	if err != nil {
		return AppendReport{}, err
	}
	max := s.MaxBatch
	if max == 0 {
		max = DefaultMaxBatch
	}
	if len(drafts) == 0 {
		return AppendReport{}, vakt.Invalid("request holds no log entries",
			vakt.Problem{Index: -1, Field: "", Reason: "must hold at least one entry"})
	}
	if len(drafts) > max {
		return AppendReport{}, vakt.Errorf(vakt.CodeTooLarge, "a request may hold at most %d entries", max)
	}
	opts := s.validateOptions(&t)
	pending := make([]Pending, 0, len(drafts))
	var invalid, foreign []vakt.Problem
	for i := range drafts {
		e, probs := drafts[i].Validate(i, opts)
		if len(probs) > 0 {
			invalid = append(invalid, probs...)
			continue
		}
		if !t.Owns(e.User.CareProvider.ID) {
			foreign = append(foreign, vakt.Problem{Index: i, Field: "user.careProvider.careProviderId",
				Reason: "is not a care provider of this credential's tenant"})
			continue
		}
		if len(invalid) == 0 && len(foreign) == 0 {
			pending = append(pending, Prepare(e))
		}
	}
	if len(decoded) > 0 {
		invalid = mergeProblems(decoded, invalid)
	}
	if len(invalid) > 0 {
		return AppendReport{}, vakt.Invalid("request has invalid entries; nothing was stored", append(invalid, foreign...)...)
	}
	if len(foreign) > 0 {
		return AppendReport{}, &vakt.Error{Code: vakt.CodeForbidden,
			Message: "entries belong to a care provider outside this credential's tenant; nothing was stored", Problems: foreign}
	}
	st, err := s.Stores.Store(ctx, t.ID)
	if err != nil {
		return AppendReport{}, err
	}
	res, err := st.Append(ctx, pending)
	if err != nil {
		return AppendReport{}, err
	}
	rep := AppendReport{Results: res}
	for _, r := range res {
		if r.Duplicate {
			rep.Duplicates++
		} else {
			rep.Accepted++
		}
	}
	return rep, nil
}

// Search returns one page of the caller's tenant's entries matching q. It needs the reader role.
func (s *Service) Search(ctx context.Context, q Query) (Page, error) {
	t, err := s.authorize(ctx, vakt.RoleReader)
	if err != nil {
		return Page{}, err
	}
	if err := q.Validate(); err != nil {
		return Page{}, err
	}
	st, err := s.Stores.Store(ctx, t.ID)
	if err != nil {
		return Page{}, err
	}
	return st.Search(ctx, q)
}

// Export streams every entry of the caller's tenant matching q to fn. It needs the reader role.
func (s *Service) Export(ctx context.Context, q Query, fn func(*Stored) error) error {
	t, err := s.authorize(ctx, vakt.RoleReader)
	if err != nil {
		return err
	}
	q.Limit = 0
	if err := q.Validate(); err != nil {
		return err
	}
	st, err := s.Stores.Store(ctx, t.ID)
	if err != nil {
		return err
	}
	return st.Export(ctx, q, fn)
}

// Get returns one entry of the caller's tenant by logId. It needs the reader role. An entry of
// another tenant is CodeNotFound, exactly like an entry that does not exist.
func (s *Service) Get(ctx context.Context, logID string) (Stored, error) {
	t, err := s.authorize(ctx, vakt.RoleReader)
	if err != nil {
		return Stored{}, err
	}
	if logID == "" || len(logID) > 4*MaxLogIDLen {
		return Stored{}, vakt.Errorf(vakt.CodeNotFound, "no entry with that logId")
	}
	st, err := s.Stores.Store(ctx, t.ID)
	if err != nil {
		return Stored{}, err
	}
	return st.Get(ctx, logID)
}

// ParsePatientID turns a query's patient identifier into a PersonID, applying the caller
// tenant's rule for reserve numbers. Field names the query field in problems.
func (s *Service) ParsePatientID(ctx context.Context, field string, ii DraftII) (ident.PersonID, error) {
	allow := false
	if p := vakt.PrincipalFrom(ctx); p != nil {
		if t, err := s.Tenants.Tenant(ctx, p.TenantID); err == nil {
			allow = t.AllowReserveIDs
		}
	}
	v := validator{index: -1}
	id := v.person("", field, ii, s.now(), allow)
	if len(v.problems) > 0 {
		return ident.PersonID{}, vakt.Invalid("query is invalid", v.problems...)
	}
	return id, nil
}

// mergeProblems combines the structural problems found while decoding with those validation
// found, in entry order. A validation problem that only echoes a structural one (a field of the
// wrong JSON type is empty, so validation calls it required) is dropped.
func mergeProblems(decoded, validated []vakt.Problem) []vakt.Problem {
	covers := func(d, v vakt.Problem) bool {
		return d.Index == v.Index && (d.Field == "" || v.Field == d.Field || strings.HasPrefix(v.Field, d.Field+".") || strings.HasPrefix(v.Field, d.Field+"["))
	}
	out := append([]vakt.Problem(nil), decoded...)
	for _, v := range validated {
		echo := false
		for _, d := range decoded {
			if covers(d, v) {
				echo = true
				break
			}
		}
		if !echo {
			out = append(out, v)
		}
	}
	slices.SortStableFunc(out, func(a, b vakt.Problem) int { return a.Index - b.Index })
	return out
}

// Checkpoint returns the caller tenant's latest signed checkpoint. It needs the reader role.
func (s *Service) Checkpoint(ctx context.Context) (SignedCheckpoint, error) {
	st, err := s.readerStore(ctx)
	if err != nil {
		return SignedCheckpoint{}, err
	}
	return st.Checkpoint(ctx)
}

// VerifierKey returns the note verifier key of the caller tenant's checkpoints.
func (s *Service) VerifierKey(ctx context.Context) (string, error) {
	st, err := s.readerStore(ctx)
	if err != nil {
		return "", err
	}
	return st.VerifierKey(), nil
}

// Prove returns the inclusion proof of one of the caller tenant's entries.
func (s *Service) Prove(ctx context.Context, logID string) (InclusionProof, error) {
	st, err := s.readerStore(ctx)
	if err != nil {
		return InclusionProof{}, err
	}
	if logID == "" || len(logID) > 4*MaxLogIDLen {
		return InclusionProof{}, vakt.Errorf(vakt.CodeNotFound, "no entry with that logId")
	}
	return st.Prove(ctx, logID)
}

// Consistency returns a consistency proof between two sizes of the caller tenant's tree.
func (s *Service) Consistency(ctx context.Context, from, to uint64) ([]merkle.Hash, error) {
	st, err := s.readerStore(ctx)
	if err != nil {
		return nil, err
	}
	return st.Consistency(ctx, from, to)
}

// ExportBySeq streams every entry of the caller tenant in sequence order with its leaf hash:
// what a verifier needs to rebuild the tree.
func (s *Service) ExportBySeq(ctx context.Context, from int64, fn func(*Stored, merkle.Hash) error) error {
	st, err := s.readerStore(ctx)
	if err != nil {
		return err
	}
	return st.Scan(ctx, from, fn)
}

func (s *Service) readerStore(ctx context.Context) (Store, error) {
	t, err := s.authorize(ctx, vakt.RoleReader)
	if err != nil {
		return nil, err
	}
	return s.Stores.Store(ctx, t.ID)
}
