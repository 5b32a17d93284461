// Package logcontrol holds the rules of log controls (loggkontroller, HSLF-FS 2016:40 4 kap.
// 9 §): automatic flags on accesses that deserve a reviewer's look, each with a plain-language
// Swedish reason naming its evidence, and explanations that count against suspicion, with the
// share of accesses they explain per unit and month.
//
// It does no I/O: it reads the log through an AccessSource (projections of the entries, not
// whole entries) and reference data through a register.Source, in a set-oriented pass (the log
// streamed once, registers loaded once into tables), never a query per entry.
package logcontrol

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/internal/swetime"
	"github.com/vakt/vakt/register"
)

// Kind is a flag's stable identifier; it leaves the process (API, stored control records) with
// this spelling.
type Kind string

// Flag kinds. docs/CONTROLS.md states each rule exactly.
const (
	KindSelf              Kind = "self"               // the user's own record
	KindColleague         Kind = "colleague"          // the patient is or was staff of the same care provider
	KindProtectedIdentity Kind = "protected_identity" // skyddade personuppgifter
	KindWatchlist         Kind = "watchlist"          // patient of media interest or other VIP
	KindDeceased          Kind = "deceased"           // access after the date of death
	KindClosedCase        Kind = "closed_case"        // every case of the patient was closed
	KindSameSurname       Kind = "same_surname"       // user and patient share a surname
	KindSameAddress       Kind = "same_address"       // user and patient live at the same address
	KindOutOfHours        Kind = "out_of_hours"       // outside the unit's working hours
	KindHighVolume        Kind = "high_volume"        // far more distinct patients than peers at the unit
	KindSelfGrantedRole   Kind = "self_granted_role"  // an administrator gave their own account a role
)

// Kinds returns the kinds Compute evaluates, in the order results list them.
func Kinds() []Kind {
	return []Kind{KindSelf, KindColleague, KindProtectedIdentity, KindWatchlist, KindDeceased, KindClosedCase,
		KindSameSurname, KindSameAddress, KindOutOfHours, KindHighVolume, KindSelfGrantedRole}
}

// ExplanationKind identifies an explanation.
type ExplanationKind string

// Explanations.
const (
	// ExplainedByDocumentation: the user wrote, signed or countersigned in the same patient's
	// record within ExplainWindow of the access (the access itself counts when it is one).
	ExplainedByDocumentation ExplanationKind = "documentation"
	// ExplainedBySameUnit: the access was made from the care unit that produced the data.
	ExplainedBySameUnit ExplanationKind = "same_unit"
)

// ExplainWindow is how near documentation must be to explain an access: a care episode's
// notes are usually written the same day, and night shifts cross midnight.
const ExplainWindow = 24 * time.Hour

// High-volume rule: a user is flagged at a unit when the distinct patients they accessed there
// in the period exceed median + HighVolumeK · max(1.4826·MAD, 1) and twice the median, among at
// least HighVolumeMinPeers users of the unit. Median and MAD ignore the few extreme users that
// a mean and standard deviation would follow; 1.4826·MAD estimates the standard deviation of
// normal traffic; the floor of 1 and the factor two keep units where everyone sees about as
// many patients from flagging someone for a handful more.
const (
	HighVolumeK        = 3.0
	HighVolumeMinPeers = 5
)

// MaxPeriod is the longest period one computation covers.
const MaxPeriod = 92 * 24 * time.Hour

// MaxFlags bounds one result; a result that large needs narrower kinds, units or periods.
const MaxFlags = 100000

// Stockholm is the time zone of working hours, dates of death and months.
var Stockholm = swetime.Stockholm

// Query selects the accesses to judge: startDate in [From, To), optionally made from one care
// unit, and the kinds of flags wanted (all when empty).
type Query struct {
	From, To time.Time
	CareUnit ident.HSAID
	Kinds    []Kind
	// AccountSystem, when set, is the only systemId whose account-change entries are judged for
	// KindSelfGrantedRole: vakt's own (accesslog.FollowUpSystemID), so that an entry a producing
	// system writes with level Kontoadministration is not taken for vakt's record. Service sets
	// it; it is not part of the API.
	AccountSystem ident.HSAID `json:"-"`
}

// Validate checks q's own fields.
func (q *Query) Validate() error {
	var probs []vakt.Problem
	add := func(field, reason string) {
		probs = append(probs, vakt.Problem{Index: -1, Field: field, Reason: reason})
	}
	if q.From.IsZero() {
		add("from", "is required")
	}
	if q.To.IsZero() {
		add("to", "is required")
	}
	if !q.From.IsZero() && !q.To.IsZero() {
		if !q.From.Before(q.To) {
			add("to", "must be after from")
		} else if q.To.Sub(q.From) > MaxPeriod {
			add("to", "must be at most 92 days after from")
		}
	}
	for i, k := range q.Kinds {
		if !slices.Contains(Kinds(), k) {
			add(fmt.Sprintf("kinds[%d]", i), "is not a flag kind")
		}
	}
	if len(probs) > 0 {
		return vakt.Invalid("flag search is invalid", probs...)
	}
	return nil
}

// Explanation is a reason an access may be in order.
type Explanation struct {
	Kind   ExplanationKind `json:"kind"`
	Reason string          `json:"reason"`
}

// Flag is one reason for a reviewer to look at one access. An entry naming several patients is
// flagged once per kind, for the first patient that meets the rule.
type Flag struct {
	LogID        string        `json:"logId"`
	Kind         Kind          `json:"kind"`
	Reason       string        `json:"reason"`
	StartDate    time.Time     `json:"startDate"`
	UserID       ident.HSAID   `json:"userId"`
	CareUnitID   ident.HSAID   `json:"careUnitId"`
	Explanations []Explanation `json:"explanations"`
}

// UnitMonth is how many of a unit's accesses in a month are explained and flagged. An access
// is an entry naming at least one patient, counted at the unit it was made from; it is
// explained when every patient it names has an explanation.
type UnitMonth struct {
	CareUnitID       ident.HSAID `json:"careUnitId"`
	Month            string      `json:"month"` // YYYY-MM, Swedish time
	Accesses         int         `json:"accesses"`
	Explained        int         `json:"explained"`
	Flagged          int         `json:"flagged"`
	FlaggedExplained int         `json:"flaggedExplained"`
}

// Share returns the explained share of the accesses, 0 when there are none.
func (u *UnitMonth) Share() float64 {
	if u.Accesses == 0 {
		return 0
	}
	return float64(u.Explained) / float64(u.Accesses)
}

// Result is the outcome of Compute: flags ordered by startDate, logId and kind, and the
// explained share per unit and month.
type Result struct {
	Flags     []Flag      `json:"flags"`
	Truncated bool        `json:"truncated"`
	Units     []UnitMonth `json:"units"`
}

// Visible, when set, limits which accesses Compute judges, by the unit they were made from (a
// person limited to some care units).
type Visible func(unit ident.HSAID) bool

// Compute judges every access of q's period (see Kinds and docs/CONTROLS.md for the rules).
//
// The log is read once, as projections (accesslog.Access), over the period widened by
// ExplainWindow: the documentation times of the widened period, and a compact record of every
// access of the period. The registers are then loaded for the patients and users seen, and the
// accesses judged on all cores, first only to count (kinds and explanations per unit and
// month), then once more with reasons for the accesses whose flags the result keeps.
//
// Compute calls regs' methods from several goroutines at once (staff, watch list and units
// while the log is read; persons in parts and cases side by side afterwards), so regs must be
// safe for concurrent use, as register.Registers over the SQLite and PostgreSQL stores is.
func Compute(ctx context.Context, log AccessSource, regs register.Source, q Query, visible Visible) (Result, error) {
	if err := q.Validate(); err != nil {
		return Result{}, err
	}
	var want uint16
	for _, k := range Kinds() {
		if len(q.Kinds) == 0 || slices.Contains(q.Kinds, k) {
			want |= kindBit(k)
		}
	}
	c := newCollector(&q, visible, want&kindBit(KindSelfGrantedRole) != 0)
	// The registers that do not depend on the period's patients are read while the log is.
	stc := make(chan *static, 1)
	go func() { stc <- readStatic(ctx, regs) }()
	err := log.Accesses(ctx, q.From.Add(-ExplainWindow), q.To.Add(ExplainWindow), c.add)
	st := <-stc
	if err != nil {
		return Result{}, err
	}
	if st.err != nil {
		return Result{}, st.err
	}
	for _, ts := range c.docs {
		slices.Sort(ts)
	}

	j, err := loadRegisters(ctx, regs, c, st)
	if err != nil {
		return Result{}, err
	}
	j.want = want
	j.highVolume = highVolume(c)
	months := j.calendar(q.From, q.To)

	// Count: every access judged without reasons, the accesses split over the cores.
	verdicts := make([]uint16, c.accs.len())
	explained := make([]bool, c.accs.len())
	parts := max(1, min(runtime.GOMAXPROCS(0), c.accs.len()/4096))
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := p*c.accs.len()/parts, (p+1)*c.accs.len()/parts
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newJudging(false)
			for i := lo; i < hi; i++ {
				verdicts[i], explained[i] = j.access(c.accs.at(i), w)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	counts := make(map[[2]uint32]*UnitMonth)
	for i := range c.accs.len() {
		r := c.accs.at(i)
		m := uint32(j.cal[floorDiv(r.ts, 3600e6)-j.hourBase].month)
		um := counts[[2]uint32{r.unit, m}]
		if um == nil {
			um = &UnitMonth{CareUnitID: c.hsa[r.unit], Month: months[m]}
			counts[[2]uint32{r.unit, m}] = um
		}
		um.Accesses++
		if explained[i] {
			um.Explained++
		}
		if verdicts[i] != 0 {
			um.Flagged++
			if explained[i] {
				um.FlaggedExplained++
			}
		}
	}

	// Keep: the flags of the newest accesses (by startDate, then sequence number), at most
	// MaxFlags, the accesses judged again with reasons. Self-grant records take their place in
	// the same order.
	type item struct {
		ts, seq int64
		acc     int // index into c.accs, or -1 - index into grants
	}
	var grants []Flag
	var items []item
	for _, cd := range c.cands {
		e, err := log.Entry(ctx, cd.logID)
		if err != nil {
			return Result{}, err
		}
		if f, ok := selfGrant(&e, q.AccountSystem); ok {
			items = append(items, item{ts: cd.ts, seq: cd.seq, acc: -1 - len(grants)})
			grants = append(grants, f)
		}
	}
	for i, v := range verdicts {
		if v != 0 {
			items = append(items, item{ts: c.accs.at(i).ts, seq: c.accs.at(i).seq, acc: i})
		}
	}
	slices.SortFunc(items, func(a, b item) int {
		if a.ts != b.ts {
			return cmp.Compare(b.ts, a.ts)
		}
		return cmp.Compare(b.seq, a.seq)
	})
	var res Result
	w := newJudging(true)
	for _, it := range items {
		if len(res.Flags) == MaxFlags {
			res.Truncated = true
			break
		}
		if it.acc < 0 {
			res.Flags = append(res.Flags, grants[-1-it.acc])
			continue
		}
		j.access(c.accs.at(it.acc), w)
		for _, f := range w.flags {
			if len(res.Flags) == MaxFlags {
				res.Truncated = true
				break
			}
			res.Flags = append(res.Flags, f)
		}
	}

	order := map[Kind]int{}
	for i, k := range Kinds() {
		order[k] = i
	}
	sort.Slice(res.Flags, func(a, b int) bool {
		fa, fb := &res.Flags[a], &res.Flags[b]
		if !fa.StartDate.Equal(fb.StartDate) {
			return fa.StartDate.Before(fb.StartDate)
		}
		if fa.LogID != fb.LogID {
			return fa.LogID < fb.LogID
		}
		return order[fa.Kind] < order[fb.Kind]
	})
	for _, um := range counts {
		res.Units = append(res.Units, *um)
	}
	sort.Slice(res.Units, func(a, b int) bool {
		if res.Units[a].CareUnitID != res.Units[b].CareUnitID {
			return res.Units[a].CareUnitID < res.Units[b].CareUnitID
		}
		return res.Units[a].Month < res.Units[b].Month
	})
	if res.Flags == nil {
		res.Flags = []Flag{}
	}
	if res.Units == nil {
		res.Units = []UnitMonth{}
	}
	return res, nil
}

func isDocumentation(t accesslog.ActivityType) bool {
	k, _ := t.Known()
	return k == accesslog.ActivityWrite || k == accesslog.ActivitySign || k == accesslog.ActivityCountersign
}

// volumeStat is a user's standing among the users of a unit.
type volumeStat struct {
	count, peers int
	median       float64
}

// highVolume returns the users flagged for volume at each unit (see HighVolumeK), by
// unit << 32 | user.
func highVolume(c *collector) map[uint64]volumeStat {
	// Distinct patients per unit and user: sort the (unit·user, patient) pairs and count runs.
	slices.Sort(c.volume)
	distinct := make([]int, len(c.uuList))
	for i, v := range c.volume {
		if i == 0 || v != c.volume[i-1] {
			distinct[v>>32]++
		}
	}
	byUnit := map[uint32][]int{} // unit → indexes into uuList
	for i, k := range c.uuList {
		byUnit[uint32(k>>32)] = append(byUnit[uint32(k>>32)], i)
	}
	out := map[uint64]volumeStat{}
	for _, us := range byUnit {
		if len(us) < HighVolumeMinPeers {
			continue
		}
		counts := make([]float64, len(us))
		for i, u := range us {
			counts[i] = float64(distinct[u])
		}
		med := median(counts)
		dev := make([]float64, len(counts))
		for i, n := range counts {
			dev[i] = abs(n - med)
		}
		scale := max(1.4826*median(dev), 1)
		limit := max(med+HighVolumeK*scale, 2*med)
		for i, u := range us {
			if counts[i] > limit {
				out[c.uuList[u]] = volumeStat{count: int(counts[i]), peers: len(us), median: med}
			}
		}
	}
	return out
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// surnameParts splits a family name into its lower-case parts (double names such as
// "Andersson Berg" or "Berg-Ek"), ignoring parts of one letter.
func surnameParts(name string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(strings.ToLower(name), func(r rune) bool { return r == ' ' || r == '-' }) {
		if len([]rune(p)) > 1 {
			out = append(out, p)
		}
	}
	return out
}

// commonPart returns the first part of a (as written in a) that b also has.
func commonPart(a, b string) (string, bool) {
	bp := surnameParts(b)
	for _, p := range strings.FieldsFunc(a, func(r rune) bool { return r == ' ' || r == '-' }) {
		if slices.Contains(bp, strings.ToLower(p)) && len([]rune(p)) > 1 {
			return p, true
		}
	}
	return "", false
}
