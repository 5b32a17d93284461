package logcontrol

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/register"
)

// judge holds the registers of one computation, resolved to the collector's tables so that
// judging an access is slice indexing rather than map lookups, and the per-hour calendar of
// the period. It is read-only while accesses are judged, so several goroutines share it.
type judge struct {
	c    *collector
	want uint16 // bit i: Kinds()[i] is wanted

	staffOfUser   []*register.Staff   // by hsa index
	staffAddrKey  []string            // by hsa index: the Address.Key of staffOfUser
	staffOfPerson [][]*register.Staff // by person index, in the register's order
	person        []*register.Person  // by person index, for the persons looked up
	personAddrKey []string            // by person index
	watch         []*register.WatchEntry
	cases         [][]*register.Case
	hours         []*register.WorkingHours // by hsa index (units); nil: DefaultHours
	highVolume    map[uint64]volumeStat    // by unit << 32 | user
	defaultHours  register.WorkingHours

	hourBase int64 // the first hour of the calendar, Unix hours
	cal      []hourInfo
}

// hourInfo is what the rules need of an hour of the period in Swedish time. Swedish time is
// always a whole number of hours from UTC, so it holds for every minute of the UTC hour.
type hourInfo struct {
	date      register.Date
	weekday   time.Weekday
	hour      int
	holiday   string
	isHoliday bool
	month     int // index into the computation's months
}

// kindBit returns the bit of k in a kind mask.
func kindBit(k Kind) uint16 {
	return 1 << slices.Index(Kinds(), k)
}

func loadRegisters(ctx context.Context, src register.Source, c *collector) (*judge, error) {
	j := &judge{
		c:            c,
		staffOfUser:  make([]*register.Staff, len(c.hsa)),
		staffAddrKey: make([]string, len(c.hsa)),
		hours:        make([]*register.WorkingHours, len(c.hsa)),
		defaultHours: register.DefaultHours(),
	}
	var staff []*register.Staff
	err := src.Staff(ctx, func(s *register.Staff) error {
		if i, ok := c.hsaIdx[s.HSAID]; ok {
			j.staffOfUser[i] = s
			j.staffAddrKey[i] = s.Address.Key()
		}
		staff = append(staff, s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The persons looked up: the patients, and the users as persons (for an address the staff
	// register lacks). A user's personnummer that no entry names joins the person table here.
	want := make([]bool, len(c.persons))
	for u, pid := range c.userPID {
		var id ident.PersonID
		if pid > 0 {
			id = c.persons[pid-1]
		}
		if s := j.staffOfUser[u]; s != nil {
			id = s.PersonID
		}
		if id.IsZero() {
			continue
		}
		i, _ := c.person(id, true)
		for int(i) >= len(want) {
			want = append(want, false)
		}
		want[i] = true
	}
	n := len(c.persons)
	j.staffOfPerson = make([][]*register.Staff, n)
	j.person = make([]*register.Person, n)
	j.personAddrKey = make([]string, n)
	j.watch = make([]*register.WatchEntry, n)
	j.cases = make([][]*register.Case, n)
	for _, s := range staff {
		if i, ok := c.person(s.PersonID, false); ok {
			j.staffOfPerson[i] = append(j.staffOfPerson[i], s)
		}
	}
	ids := make([]ident.PersonID, 0, n)
	for i, p := range c.persons {
		if c.patient[i] || want[i] {
			ids = append(ids, p)
			want[i] = true
		}
	}
	err = src.Persons(ctx, ids, func(p *register.Person) error {
		if i, ok := c.person(p.PersonID, false); ok && want[i] {
			j.person[i] = p
			j.personAddrKey[i] = p.Address.Key()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = src.Watchlist(ctx, func(w *register.WatchEntry) error {
		if i, ok := c.person(w.PersonID, false); ok {
			j.watch[i] = w
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pats := ids[:0:0]
	for i, p := range c.persons {
		if c.patient[i] {
			pats = append(pats, p)
		}
	}
	err = src.Cases(ctx, pats, func(cs *register.Case) error {
		if i, ok := c.person(cs.Patient, false); ok && c.patient[i] {
			j.cases[i] = append(j.cases[i], cs)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, cs := range j.cases {
		sort.Slice(cs, func(a, b int) bool { return cs[a].ID < cs[b].ID })
	}
	err = src.Units(ctx, func(u *register.Unit) error {
		if i, ok := c.hsaIdx[u.CareUnit]; ok {
			h := u.Hours
			j.hours[i] = &h
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return j, nil
}

// calendar fills the per-hour calendar of the period and returns the months (YYYY-MM, Swedish
// time) it touches.
func (j *judge) calendar(from, to time.Time) []string {
	j.hourBase = floorDiv(from.Unix(), 3600)
	last := floorDiv(to.Unix(), 3600)
	var months []string
	for h := j.hourBase; h <= last; h++ {
		local := time.Unix(h*3600, 0).In(Stockholm)
		date := register.DateOf(local, Stockholm)
		name, ok := Holiday(date)
		m := local.Format("2006-01")
		if len(months) == 0 || months[len(months)-1] != m {
			months = append(months, m)
		}
		j.cal = append(j.cal, hourInfo{date: date, weekday: local.Weekday(), hour: local.Hour(), holiday: name, isHoliday: ok, month: len(months) - 1})
	}
	return months
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

var weekdays = [7]string{"söndag", "måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag"}

// judging is one goroutine's scratch while judging: the flags of the access being judged (when
// reasons are wanted) and caches of surname parts, which every access compares.
type judging struct {
	flags     []Flag
	reasons   bool
	has       uint16
	lowered   map[string][]string // family name → its parts in lower case (surnameParts)
	written   map[string][]string // family name → its parts as written
	explained []Explanation
}

func newJudging(reasons bool) *judging {
	return &judging{reasons: reasons, lowered: map[string][]string{}, written: map[string][]string{}}
}

// add records kind k for the access; reason is only read when reasons are wanted.
func (w *judging) add(j *judge, r *access, k Kind, reason string) {
	b := kindBit(k)
	if j.want&b == 0 || w.has&b != 0 {
		return
	}
	w.has |= b
	if w.reasons {
		w.flags = append(w.flags, Flag{LogID: j.c.logIDOf(r), Kind: k, Reason: reason, StartDate: time.UnixMicro(r.ts).UTC(),
			UserID: j.c.hsa[r.user], CareUnitID: j.c.hsa[r.unit]})
	}
}

// wants reports whether kind k may still be added to the access (wanted and not yet there), so
// that a rule builds its reason only then.
func (w *judging) wants(j *judge, k Kind) bool {
	b := kindBit(k)
	return j.want&b != 0 && w.has&b == 0
}

// access judges r: the mask of its flags and whether every patient has an explanation. With
// reasons, w.flags holds its flags afterwards, in the order the rules add them, each with the
// access's explanations.
func (j *judge) access(r *access, w *judging) (uint16, bool) {
	c := j.c
	w.has = 0
	w.flags = w.flags[:0]
	w.explained = nil
	info := &j.cal[floorDiv(r.ts, 3600e6)-j.hourBase]
	date := info.date
	user := j.staffOfUser[r.user]
	userPID := r.userPID // index + 1
	if userPID == 0 && user != nil {
		if i, ok := c.person(user.PersonID, false); ok {
			userPID = i + 1
		} else if !user.PersonID.IsZero() {
			userPID = ^uint32(0) // a personnummer no entry names: never equal to a patient, no person loaded
		}
	}
	var userPerson *register.Person
	if userPID != 0 && userPID != ^uint32(0) {
		userPerson = j.person[userPID-1]
	}
	userFamily, userAddrKey := "", ""
	if user != nil {
		userFamily, userAddrKey = user.FamilyName, j.staffAddrKey[r.user]
	}
	if userPerson != nil {
		if userFamily == "" {
			userFamily = userPerson.FamilyName
		}
		if userAddrKey == "" {
			userAddrKey = j.personAddrKey[userPID-1]
		}
	}

	allExplained := true
	var at time.Time
	atSet := false
	atTime := func() time.Time {
		if !atSet {
			at, atSet = time.UnixMicro(r.ts).UTC(), true
		}
		return at
	}
	for _, pr := range c.pats[r.patOff : r.patOff+uint32(r.npat)] {
		p := pr.person
		self := userPID != 0 && userPID != ^uint32(0) && p == userPID-1
		if self {
			w.add(j, r, KindSelf, "Användaren tog del av uppgifter om sig själv")
		} else if w.wants(j, KindColleague) {
			j.colleague(r, p, date, w)
		}
		person := j.person[p]
		if person != nil && person.ProtectedIdentity {
			w.add(j, r, KindProtectedIdentity, "Patienten har skyddade personuppgifter")
		}
		if wl := j.watch[p]; wl != nil && (wl.Until.IsZero() || !date.After(wl.Until)) && w.wants(j, KindWatchlist) {
			w.add(j, r, KindWatchlist, "Patienten finns på bevakningslistan: "+wl.Reason)
		}
		if person != nil && !person.DeceasedDate.IsZero() && date.After(person.DeceasedDate) && w.wants(j, KindDeceased) {
			w.add(j, r, KindDeceased, "Åtkomsten skedde efter patientens dödsdatum ("+person.DeceasedDate.String()+")")
		}
		if cs := j.cases[p]; len(cs) > 0 && w.wants(j, KindClosedCase) {
			var last *register.Case
			open := false
			for _, cc := range cs {
				if cc.Status == register.CaseOpen || cc.ClosedAt.After(atTime()) {
					open = true
					break
				}
				if last == nil || cc.ClosedAt.After(last.ClosedAt) {
					last = cc
				}
			}
			if !open {
				reason := ""
				if w.reasons {
					reason = fmt.Sprintf("Patientens ärenden var avslutade vid åtkomsten (senast ärende %s, avslutat %s)",
						last.ID, last.ClosedAt.In(Stockholm).Format("2006-01-02 15:04"))
				}
				w.add(j, r, KindClosedCase, reason)
			}
		}
		if !self && person != nil {
			if w.wants(j, KindSameSurname) {
				if part, ok := w.commonPart(person.FamilyName, userFamily); ok {
					w.add(j, r, KindSameSurname, "Användaren och patienten har samma efternamn ("+part+")")
				}
			}
			if k := j.personAddrKey[p]; k != "" && k == userAddrKey && w.wants(j, KindSameAddress) {
				w.add(j, r, KindSameAddress, "Användaren och patienten är folkbokförda på samma adress ("+person.Address.Street+")")
			}
		}

		documented := j.documented(r, p)
		if !documented && !pr.sameUnit {
			allExplained = false
		}
		if w.reasons {
			if documented {
				w.explain(Explanation{Kind: ExplainedByDocumentation,
					Reason: "Användaren skrev eller signerade i patientens journal inom 24 timmar från åtkomsten"})
			}
			if pr.sameUnit {
				w.explain(Explanation{Kind: ExplainedBySameUnit, Reason: "Åtkomsten gjordes från den vårdenhet som registrerade uppgifterna"})
			}
		}
	}

	hours := j.hours[r.unit]
	if hours == nil {
		hours = &j.defaultHours
	}
	span := hours.Days[info.weekday]
	if info.isHoliday {
		span = hours.Holiday
	}
	minute := int(floorDiv(r.ts, 60e6) - floorDiv(r.ts, 3600e6)*60)
	if !span.Contains(info.hour*60+minute) && w.wants(j, KindOutOfHours) {
		reason := ""
		if w.reasons {
			day := weekdays[info.weekday]
			if info.isHoliday {
				day = info.holiday
			}
			hoursText := "stängt"
			if span.Open() {
				hoursText = span.String()
			}
			reason = fmt.Sprintf("Åtkomsten skedde %s %s kl. %02d:%02d, utanför enhetens arbetstid (%s)",
				day, date, info.hour, minute, hoursText)
		}
		w.add(j, r, KindOutOfHours, reason)
	}
	if v, ok := j.highVolume[uint64(r.unit)<<32|uint64(r.user)]; ok && w.wants(j, KindHighVolume) {
		reason := ""
		if w.reasons {
			reason = fmt.Sprintf("Användaren tog del av %d olika patienters uppgifter på enheten under perioden; medianen bland enhetens %d användare är %s",
				v.count, v.peers, formatNumber(v.median))
		}
		w.add(j, r, KindHighVolume, reason)
	}
	if w.reasons {
		ex := w.explained
		if ex == nil {
			ex = []Explanation{}
		}
		for i := range w.flags {
			w.flags[i].Explanations = ex
		}
	}
	return w.has, allExplained
}

// explain adds x to the access's explanations unless one of its kind is there.
func (w *judging) explain(x Explanation) {
	for _, y := range w.explained {
		if y.Kind == x.Kind {
			return
		}
	}
	w.explained = append(w.explained, x)
}

// colleague flags patient p if they are or were staff of the access's care provider on the day
// of the access (an assignment that started on or before it; a record without assignments
// counts as employed throughout).
func (j *judge) colleague(r *access, p uint32, date register.Date, w *judging) {
	c := j.c
	provider, userID, unit := c.hsa[r.provider], c.hsa[r.user], c.hsa[r.unit]
	for _, s := range j.staffOfPerson[p] {
		if s.CareProvider != provider || s.HSAID == userID {
			continue
		}
		name := s.GivenName + " " + s.FamilyName
		if s.GivenName == "" {
			name = s.FamilyName
		}
		if len(s.Units) == 0 {
			w.add(j, r, KindColleague, fmt.Sprintf("Patienten är anställd hos samma vårdgivare (%s, %s)", name, s.HSAID))
			return
		}
		current, sameUnit, started := false, false, false
		var lastEnd register.Date
		for _, a := range s.Units {
			if a.From.After(date) {
				continue
			}
			started = true
			if a.To.IsZero() || !a.To.Before(date) {
				current = true
				sameUnit = sameUnit || a.CareUnit == unit
			} else if a.To.After(lastEnd) {
				lastEnd = a.To
			}
		}
		switch {
		case !started:
			continue
		case current && sameUnit:
			w.add(j, r, KindColleague, fmt.Sprintf("Patienten arbetar på samma vårdenhet som användaren (%s, %s)", name, s.HSAID))
		case current:
			w.add(j, r, KindColleague, fmt.Sprintf("Patienten är anställd hos samma vårdgivare (%s, %s)", name, s.HSAID))
		default:
			w.add(j, r, KindColleague, fmt.Sprintf("Patienten har varit anställd hos samma vårdgivare till %s (%s, %s)", lastEnd, name, s.HSAID))
		}
		return
	}
}

// documented reports whether the user of r wrote or signed for patient p within ExplainWindow
// of the access (in whole seconds, as the rule has always compared).
func (j *judge) documented(r *access, p uint32) bool {
	ts := j.c.docs[uint64(r.user)<<32|uint64(p)]
	if len(ts) == 0 {
		return false
	}
	lo, hi := unixSeconds(r.ts-int64(ExplainWindow/time.Microsecond)), unixSeconds(r.ts+int64(ExplainWindow/time.Microsecond))
	i := sort.Search(len(ts), func(i int) bool { return ts[i] >= lo })
	return i < len(ts) && ts[i] <= hi
}

// commonPart is commonPart(a, b) with both names' parts cached.
func (w *judging) commonPart(a, b string) (string, bool) {
	if a == "" || b == "" {
		return "", false
	}
	bp, ok := w.lowered[b]
	if !ok {
		bp = surnameParts(b)
		w.lowered[b] = bp
	}
	if len(bp) == 0 {
		return "", false
	}
	ap, ok := w.written[a]
	if !ok {
		ap = strings.FieldsFunc(a, func(r rune) bool { return r == ' ' || r == '-' })
		w.written[a] = ap
	}
	for _, p := range ap {
		if len([]rune(p)) > 1 && slices.Contains(bp, strings.ToLower(p)) {
			return p, true
		}
	}
	return "", false
}

func formatNumber(x float64) string {
	if x == float64(int64(x)) {
		return fmt.Sprintf("%d", int64(x))
	}
	return fmt.Sprintf("%.1f", x)
}
