package logcontrol

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
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

	staffOfUser   []*register.Staff // by hsa index
	user          []userInfo        // by hsa index
	staffOfPerson [][]*register.Staff
	person        []*register.Person // by person index, for the persons looked up
	info          []personInfo       // by person index
	watch         []*register.WatchEntry
	cases         [][]*register.Case
	fams          []surname                // index 0: no surname
	hours         []*register.WorkingHours // by hsa index (units); nil: DefaultHours
	highVolume    map[uint64]volumeStat    // by unit << 32 | user
	defaultHours  register.WorkingHours

	hourBase int64 // the first hour of the calendar, Unix hours
	cal      []hourInfo
}

// personInfo is what most accesses need of a person, packed so that judging reads 16 bytes
// instead of following pointers into the register records.
type personInfo struct {
	fam      uint32 // index into judge.fams
	addr     uint32 // the address key (register.Address.Key) as an index; 0: none
	deceased int32  // date of death in days since 1970
	flags    uint8
}

const (
	personLoaded = 1 << iota
	personProtected
	personDeceased
	personWatched
	personHasCases
	personIsStaff
)

// userInfo is the staff register's view of a user: their personnummer (person index + 1,
// notInTable when no entry names it, 0 when they have no record), surname and address key.
type userInfo struct {
	pid, fam, addr uint32
}

const notInTable = ^uint32(0)

// surname is a family name split for commonPart, once per name rather than per access: its
// parts of two or more letters as written and in lower case, and surnameParts.
type surname struct {
	written, lowerWritten, parts []string
}

func splitSurname(name string) surname {
	s := surname{parts: surnameParts(name)}
	for _, p := range strings.FieldsFunc(name, func(r rune) bool { return r == ' ' || r == '-' }) {
		if len([]rune(p)) > 1 {
			s.written = append(s.written, p)
			s.lowerWritten = append(s.lowerWritten, strings.ToLower(p))
		}
	}
	return s
}

// common is commonPart of the surnames a and b (indexes into j.fams).
func (j *judge) common(a, b uint32) (string, bool) {
	if a == 0 || b == 0 {
		return "", false
	}
	fa, fb := &j.fams[a], &j.fams[b]
	for i, p := range fa.lowerWritten {
		if slices.Contains(fb.parts, p) {
			return fa.written[i], true
		}
	}
	return "", false
}

// hourInfo is what the rules need of an hour of the period in Swedish time. Swedish time is
// always a whole number of hours from UTC, so it holds for every minute of the UTC hour.
type hourInfo struct {
	date      register.Date
	day       int32 // date in days since 1970
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

// static is what Compute reads of the registers before it knows the period's patients: staff,
// watch list and units, read while the log is scanned.
type static struct {
	staff []*register.Staff
	watch []*register.WatchEntry
	units []*register.Unit
	err   error
}

func readStatic(ctx context.Context, src register.Source) *static {
	st := &static{}
	st.err = src.Staff(ctx, func(s *register.Staff) error { st.staff = append(st.staff, s); return nil })
	if st.err == nil {
		st.err = src.Watchlist(ctx, func(w *register.WatchEntry) error { st.watch = append(st.watch, w); return nil })
	}
	if st.err == nil {
		st.err = src.Units(ctx, func(u *register.Unit) error { st.units = append(st.units, u); return nil })
	}
	return st
}

// loadRegisters resolves the registers to the collector's tables: the persons and cases of
// the period's patients and users are read in parts on all cores (the person register is the
// largest read of a computation after the log).
func loadRegisters(ctx context.Context, src register.Source, c *collector, st *static) (*judge, error) {
	j := &judge{
		c:            c,
		staffOfUser:  make([]*register.Staff, len(c.hsa)),
		user:         make([]userInfo, len(c.hsa)),
		hours:        make([]*register.WorkingHours, len(c.hsa)),
		defaultHours: register.DefaultHours(),
		fams:         []surname{{}},
	}
	for _, s := range st.staff {
		if i, ok := c.hsaIdx[s.HSAID]; ok {
			j.staffOfUser[i] = s
		}
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
	j.info = make([]personInfo, n)
	j.watch = make([]*register.WatchEntry, n)
	j.cases = make([][]*register.Case, n)
	for _, s := range st.staff {
		if i, ok := c.person(s.PersonID, false); ok {
			j.staffOfPerson[i] = append(j.staffOfPerson[i], s)
			j.info[i].flags |= personIsStaff
		}
	}
	var ids, pats []ident.PersonID
	for i, p := range c.persons {
		if c.patient[i] {
			pats = append(pats, p)
		}
		if c.patient[i] || want[i] {
			ids = append(ids, p)
			want[i] = true
		}
	}
	// Persons in parts on all cores, cases beside them. Each person has its own index, so the
	// parts write to different elements.
	parts := max(1, min(runtime.GOMAXPROCS(0), len(ids)/20000))
	errs := make([]error, parts+1)
	var wg sync.WaitGroup
	for k := range parts {
		chunk := ids[k*len(ids)/parts : (k+1)*len(ids)/parts]
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[k] = src.Persons(ctx, chunk, func(p *register.Person) error {
				if i, ok := c.person(p.PersonID, false); ok && want[i] {
					j.person[i] = p
				}
				return nil
			})
		}()
	}
	var cases []*register.Case
	wg.Add(1)
	go func() {
		defer wg.Done()
		errs[parts] = src.Cases(ctx, pats, func(cs *register.Case) error { cases = append(cases, cs); return nil })
	}()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	fams := map[string]uint32{"": 0}
	addrs := map[string]uint32{"": 0}
	intern := func(m map[string]uint32, k string, surnames bool) uint32 {
		if i, ok := m[k]; ok {
			return i
		}
		i := uint32(len(m))
		m[k] = i
		if surnames {
			j.fams = append(j.fams, splitSurname(k))
		}
		return i
	}
	for i, p := range j.person {
		if p == nil {
			continue
		}
		in := &j.info[i]
		in.flags |= personLoaded
		in.fam = intern(fams, p.FamilyName, true)
		in.addr = intern(addrs, p.Address.Key(), false)
		if p.ProtectedIdentity {
			in.flags |= personProtected
		}
		if !p.DeceasedDate.IsZero() {
			in.flags |= personDeceased
			in.deceased = dayNumber(p.DeceasedDate)
		}
	}
	for u, s := range j.staffOfUser {
		if s == nil {
			continue
		}
		ui := &j.user[u]
		ui.fam = intern(fams, s.FamilyName, true)
		ui.addr = intern(addrs, s.Address.Key(), false)
		if i, ok := c.person(s.PersonID, false); ok {
			ui.pid = i + 1
		} else if !s.PersonID.IsZero() {
			ui.pid = notInTable
		}
	}
	for _, w := range st.watch {
		if i, ok := c.person(w.PersonID, false); ok {
			j.watch[i] = w
			j.info[i].flags |= personWatched
		}
	}
	for _, cs := range cases {
		if i, ok := c.person(cs.Patient, false); ok && c.patient[i] {
			j.cases[i] = append(j.cases[i], cs)
			j.info[i].flags |= personHasCases
		}
	}
	for _, cs := range j.cases {
		sort.Slice(cs, func(a, b int) bool { return cs[a].ID < cs[b].ID })
	}
	for _, u := range st.units {
		if i, ok := c.hsaIdx[u.CareUnit]; ok {
			h := u.Hours
			j.hours[i] = &h
		}
	}
	return j, nil
}

// dayNumber returns d as days since 1970-01-01.
func dayNumber(d register.Date) int32 {
	y, m, day := d.Parts()
	return int32(floorDiv(time.Date(y, m, day, 0, 0, 0, 0, time.UTC).Unix(), 86400))
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
		j.cal = append(j.cal, hourInfo{date: date, day: dayNumber(date), weekday: local.Weekday(), hour: local.Hour(), holiday: name, isHoliday: ok, month: len(months) - 1})
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

// judging is one goroutine's scratch while judging: the flags and explanations of the access
// being judged, when reasons are wanted.
type judging struct {
	flags     []Flag
	reasons   bool
	has       uint16
	explained []Explanation
}

func newJudging(reasons bool) *judging {
	return &judging{reasons: reasons}
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
	ui := &j.user[r.user]
	userPID := r.userPID // index + 1
	if userPID == 0 && user != nil {
		userPID = ui.pid
	}
	var userPerson *personInfo
	if userPID != 0 && userPID != notInTable && j.info[userPID-1].flags&personLoaded != 0 {
		userPerson = &j.info[userPID-1]
	}
	var userFam, userAddr uint32
	if user != nil {
		userFam, userAddr = ui.fam, ui.addr
	}
	if userPerson != nil {
		if userFam == 0 {
			userFam = userPerson.fam
		}
		if userAddr == 0 {
			userAddr = userPerson.addr
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
		in := &j.info[p]
		self := userPID != 0 && userPID != notInTable && p == userPID-1
		if self {
			w.add(j, r, KindSelf, "Användaren tog del av uppgifter om sig själv")
		} else if in.flags&personIsStaff != 0 && w.wants(j, KindColleague) {
			j.colleague(r, p, date, w)
		}
		if in.flags&personProtected != 0 {
			w.add(j, r, KindProtectedIdentity, "Patienten har skyddade personuppgifter")
		}
		if in.flags&personWatched != 0 {
			if wl := j.watch[p]; (wl.Until.IsZero() || !date.After(wl.Until)) && w.wants(j, KindWatchlist) {
				w.add(j, r, KindWatchlist, "Patienten finns på bevakningslistan: "+wl.Reason)
			}
		}
		if in.flags&personDeceased != 0 && info.day > in.deceased && w.wants(j, KindDeceased) {
			w.add(j, r, KindDeceased, "Åtkomsten skedde efter patientens dödsdatum ("+j.person[p].DeceasedDate.String()+")")
		}
		if in.flags&personHasCases != 0 && w.wants(j, KindClosedCase) {
			cs := j.cases[p]
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
		if !self && in.flags&personLoaded != 0 {
			if w.wants(j, KindSameSurname) {
				if part, ok := j.common(in.fam, userFam); ok {
					w.add(j, r, KindSameSurname, "Användaren och patienten har samma efternamn ("+part+")")
				}
			}
			if in.addr != 0 && in.addr == userAddr && w.wants(j, KindSameAddress) {
				w.add(j, r, KindSameAddress, "Användaren och patienten är folkbokförda på samma adress ("+j.person[p].Address.Street+")")
			}
		}

		// Counting needs the documentation only when the unit does not explain the access.
		documented := false
		if !pr.sameUnit || w.reasons {
			documented = j.documented(r, p)
		}
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

func formatNumber(x float64) string {
	if x == float64(int64(x)) {
		return fmt.Sprintf("%d", int64(x))
	}
	return fmt.Sprintf("%.1f", x)
}
