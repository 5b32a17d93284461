package logcontrol

// The computation as it was before it read projections in one pass: two reads of whole,
// validated entries and map lookups per access. It stays here, unchanged in its rules, as the
// straightforward reference that TestComputeMatchesReference holds Compute to on a generated
// month.

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/register"
)

// refEntrySource streams the log: Each calls fn for every entry with startDate in [from, to),
// made from unit when unit is not empty, in any order, and stops at fn's first error.
type refEntrySource interface {
	Each(ctx context.Context, from, to time.Time, unit ident.HSAID, fn func(*accesslog.Entry) error) error
}

type refUserPatient struct {
	user    ident.HSAID
	patient ident.PersonID
}

type refUnitUser struct {
	unit, user ident.HSAID
}

// Compute judges every access of q's period (see Kinds and docs/CONTROLS.md for the rules).
// The log is read twice: first the period widened by ExplainWindow for documentation and the
// period itself for the patients and volumes involved, then the period again to judge each
// access with the registers loaded into maps in between.
func refCompute(ctx context.Context, log refEntrySource, regs register.Source, q Query, visible Visible) (Result, error) {
	if err := q.Validate(); err != nil {
		return Result{}, err
	}
	want := map[Kind]bool{}
	for _, k := range Kinds() {
		want[k] = len(q.Kinds) == 0 || slices.Contains(q.Kinds, k)
	}
	seen := func(e *accesslog.Entry) bool {
		return (q.CareUnit == "" || e.User.CareUnit.ID == q.CareUnit) && (visible == nil || visible(e.User.CareUnit.ID)) &&
			!e.Activity.StartDate.Before(q.From) && e.Activity.StartDate.Before(q.To)
	}

	// Pass 1.
	docs := map[refUserPatient][]int64{}
	volume := map[refUnitUser]map[ident.PersonID]struct{}{}
	patients := map[ident.PersonID]struct{}{}
	users := map[ident.HSAID]ident.PersonID{}
	err := log.Each(ctx, q.From.Add(-ExplainWindow), q.To.Add(ExplainWindow), "", func(e *accesslog.Entry) error {
		if isDocumentation(e.Activity.Type) {
			for _, p := range e.Patients() {
				k := refUserPatient{e.User.ID, p}
				docs[k] = append(docs[k], e.Activity.StartDate.Unix())
			}
		}
		// Entries naming no patient (vakt's own records of searches and account changes) are
		// no accesses: their users are no peers in the volume statistic.
		if !seen(e) || len(e.Patients()) == 0 {
			return nil
		}
		if pid, ok := users[e.User.ID]; !ok || pid.IsZero() {
			users[e.User.ID] = e.User.PersonID // an entry without user.personId does not hide another's
		}
		k := refUnitUser{e.User.CareUnit.ID, e.User.ID}
		set := volume[k]
		if set == nil {
			set = map[ident.PersonID]struct{}{}
			volume[k] = set
		}
		for _, p := range e.Patients() {
			patients[p] = struct{}{}
			set[p] = struct{}{}
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	for _, ts := range docs {
		slices.Sort(ts)
	}

	// Registers.
	j, err := refLoadRegisters(ctx, regs, patients, users)
	if err != nil {
		return Result{}, err
	}
	j.docs = docs
	j.want = want
	j.highVolume = refHighVolume(volume)

	// Pass 2.
	var res Result
	months := map[string]*UnitMonth{}
	err = log.Each(ctx, q.From, q.To, q.CareUnit, func(e *accesslog.Entry) error {
		if !seen(e) {
			return nil
		}
		pats := e.Patients()
		if len(pats) == 0 {
			if f, ok := selfGrant(e, q.AccountSystem); ok && want[KindSelfGrantedRole] {
				if len(res.Flags) == MaxFlags {
					res.Truncated = true
				} else {
					res.Flags = append(res.Flags, f)
				}
			}
			return nil
		}
		flags, explained := j.judge(e, pats)
		month := e.Activity.StartDate.In(Stockholm).Format("2006-01")
		um := months[string(e.User.CareUnit.ID)+" "+month]
		if um == nil {
			um = &UnitMonth{CareUnitID: e.User.CareUnit.ID, Month: month}
			months[string(e.User.CareUnit.ID)+" "+month] = um
		}
		um.Accesses++
		if explained {
			um.Explained++
		}
		if len(flags) > 0 {
			um.Flagged++
			if explained {
				um.FlaggedExplained++
			}
		}
		for _, f := range flags {
			if len(res.Flags) == MaxFlags {
				res.Truncated = true
				break
			}
			res.Flags = append(res.Flags, f)
		}
		return nil
	})
	if err != nil {
		return Result{}, err
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
	for _, um := range months {
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

type refVolumeStat struct {
	count, peers int
	median       float64
}

// refHighVolume returns the users flagged for volume at each unit (see HighVolumeK).
func refHighVolume(volume map[refUnitUser]map[ident.PersonID]struct{}) map[refUnitUser]refVolumeStat {
	byUnit := map[ident.HSAID][]refUnitUser{}
	for k := range volume {
		byUnit[k.unit] = append(byUnit[k.unit], k)
	}
	out := map[refUnitUser]refVolumeStat{}
	for _, us := range byUnit {
		if len(us) < HighVolumeMinPeers {
			continue
		}
		counts := make([]float64, len(us))
		for i, u := range us {
			counts[i] = float64(len(volume[u]))
		}
		med := median(counts)
		dev := make([]float64, len(counts))
		for i, c := range counts {
			dev[i] = abs(c - med)
		}
		scale := max(1.4826*median(dev), 1)
		limit := max(med+HighVolumeK*scale, 2*med)
		for i, u := range us {
			if counts[i] > limit {
				out[u] = refVolumeStat{count: int(counts[i]), peers: len(us), median: med}
			}
		}
	}
	return out
}

// judge holds the registers of one computation in maps.
type refJudge struct {
	staffByHSA    map[ident.HSAID]*register.Staff
	staffByPerson map[ident.PersonID][]*register.Staff
	persons       map[ident.PersonID]*register.Person
	watch         map[ident.PersonID]*register.WatchEntry
	cases         map[ident.PersonID][]*register.Case
	hours         map[ident.HSAID]register.WorkingHours
	docs          map[refUserPatient][]int64
	highVolume    map[refUnitUser]refVolumeStat
	want          map[Kind]bool
}

func refLoadRegisters(ctx context.Context, src register.Source, patients map[ident.PersonID]struct{}, users map[ident.HSAID]ident.PersonID) (*refJudge, error) {
	j := &refJudge{
		staffByHSA:    map[ident.HSAID]*register.Staff{},
		staffByPerson: map[ident.PersonID][]*register.Staff{},
		persons:       map[ident.PersonID]*register.Person{},
		watch:         map[ident.PersonID]*register.WatchEntry{},
		cases:         map[ident.PersonID][]*register.Case{},
		hours:         map[ident.HSAID]register.WorkingHours{},
	}
	err := src.Staff(ctx, func(s *register.Staff) error {
		j.staffByHSA[s.HSAID] = s
		j.staffByPerson[s.PersonID] = append(j.staffByPerson[s.PersonID], s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The persons looked up: the patients, and the users as persons (for an address the staff
	// register lacks).
	ids := make([]ident.PersonID, 0, len(patients)+len(users))
	for p := range patients {
		ids = append(ids, p)
	}
	for u, pid := range users {
		if s := j.staffByHSA[u]; s != nil {
			pid = s.PersonID
		}
		if !pid.IsZero() {
			if _, dup := patients[pid]; !dup {
				ids = append(ids, pid)
			}
		}
	}
	if err := src.Persons(ctx, ids, func(p *register.Person) error { j.persons[p.PersonID] = p; return nil }); err != nil {
		return nil, err
	}
	if err := src.Watchlist(ctx, func(w *register.WatchEntry) error { j.watch[w.PersonID] = w; return nil }); err != nil {
		return nil, err
	}
	pats := make([]ident.PersonID, 0, len(patients))
	for p := range patients {
		pats = append(pats, p)
	}
	if err := src.Cases(ctx, pats, func(c *register.Case) error { j.cases[c.Patient] = append(j.cases[c.Patient], c); return nil }); err != nil {
		return nil, err
	}
	for _, cs := range j.cases {
		sort.Slice(cs, func(a, b int) bool { return cs[a].ID < cs[b].ID })
	}
	if err := src.Units(ctx, func(u *register.Unit) error { j.hours[u.CareUnit] = u.Hours; return nil }); err != nil {
		return nil, err
	}
	return j, nil
}

// judge returns the flags of entry e about pats and whether every patient has an explanation.
func (j *refJudge) judge(e *accesslog.Entry, pats []ident.PersonID) ([]Flag, bool) {
	at := e.Activity.StartDate
	local := at.In(Stockholm)
	date := register.DateOf(at, Stockholm)
	user := j.staffByHSA[e.User.ID]
	userPID := e.User.PersonID
	if userPID.IsZero() && user != nil {
		userPID = user.PersonID
	}
	var userPerson *register.Person
	if !userPID.IsZero() {
		userPerson = j.persons[userPID]
	}
	userFamily, userAddr := "", (*register.Address)(nil)
	if user != nil {
		userFamily, userAddr = user.FamilyName, user.Address
	}
	if userPerson != nil {
		if userFamily == "" {
			userFamily = userPerson.FamilyName
		}
		if userAddr.Key() == "" {
			userAddr = userPerson.Address
		}
	}

	var flags []Flag
	has := map[Kind]bool{}
	var explanations []Explanation
	allExplained := true
	add := func(k Kind, reason string) {
		if !j.want[k] || has[k] {
			return
		}
		has[k] = true
		flags = append(flags, Flag{LogID: e.LogID, Kind: k, Reason: reason, StartDate: at, UserID: e.User.ID, CareUnitID: e.User.CareUnit.ID})
	}

	for _, p := range pats {
		self := !userPID.IsZero() && p == userPID
		if self {
			add(KindSelf, "Användaren tog del av uppgifter om sig själv")
		}
		if !self {
			j.colleague(e, p, date, add)
		}
		person := j.persons[p]
		if person != nil && person.ProtectedIdentity {
			add(KindProtectedIdentity, "Patienten har skyddade personuppgifter")
		}
		if w := j.watch[p]; w != nil && (w.Until.IsZero() || !date.After(w.Until)) {
			add(KindWatchlist, "Patienten finns på bevakningslistan: "+w.Reason)
		}
		if person != nil && !person.DeceasedDate.IsZero() && date.After(person.DeceasedDate) {
			add(KindDeceased, "Åtkomsten skedde efter patientens dödsdatum ("+person.DeceasedDate.String()+")")
		}
		if cs := j.cases[p]; len(cs) > 0 {
			var last *register.Case
			open := false
			for _, c := range cs {
				if c.Status == register.CaseOpen || c.ClosedAt.After(at) {
					open = true
					break
				}
				if last == nil || c.ClosedAt.After(last.ClosedAt) {
					last = c
				}
			}
			if !open {
				add(KindClosedCase, fmt.Sprintf("Patientens ärenden var avslutade vid åtkomsten (senast ärende %s, avslutat %s)",
					last.ID, last.ClosedAt.In(Stockholm).Format("2006-01-02 15:04")))
			}
		}
		if !self && person != nil {
			if part, ok := commonPart(person.FamilyName, userFamily); ok {
				add(KindSameSurname, "Användaren och patienten har samma efternamn ("+part+")")
			}
			if k := person.Address.Key(); k != "" && k == userAddr.Key() {
				add(KindSameAddress, "Användaren och patienten är folkbokförda på samma adress ("+person.Address.Street+")")
			}
		}

		var ex []Explanation
		if j.documented(e.User.ID, p, at) {
			ex = append(ex, Explanation{Kind: ExplainedByDocumentation,
				Reason: "Användaren skrev eller signerade i patientens journal inom 24 timmar från åtkomsten"})
		}
		for _, r := range e.Resources {
			if r.Patient.ID == p && r.CareUnit.ID != "" && r.CareUnit.ID == e.User.CareUnit.ID {
				ex = append(ex, Explanation{Kind: ExplainedBySameUnit, Reason: "Åtkomsten gjordes från den vårdenhet som registrerade uppgifterna"})
				break
			}
		}
		if len(ex) == 0 {
			allExplained = false
		}
		for _, x := range ex {
			dup := false
			for _, y := range explanations {
				dup = dup || y.Kind == x.Kind
			}
			if !dup {
				explanations = append(explanations, x)
			}
		}
	}

	hours, own := j.hours[e.User.CareUnit.ID]
	if !own {
		hours = register.DefaultHours()
	}
	span := hours.Days[local.Weekday()]
	holiday, isHoliday := Holiday(date)
	if isHoliday {
		span = hours.Holiday
	}
	if !span.Contains(local.Hour()*60 + local.Minute()) {
		day := weekdays[local.Weekday()]
		if isHoliday {
			day = holiday
		}
		hoursText := "stängt"
		if span.Open() {
			hoursText = span.String()
		}
		add(KindOutOfHours, fmt.Sprintf("Åtkomsten skedde %s %s kl. %s, utanför enhetens arbetstid (%s)",
			day, date, local.Format("15:04"), hoursText))
	}
	if v, ok := j.highVolume[refUnitUser{e.User.CareUnit.ID, e.User.ID}]; ok {
		add(KindHighVolume, fmt.Sprintf("Användaren tog del av %d olika patienters uppgifter på enheten under perioden; medianen bland enhetens %d användare är %s",
			v.count, v.peers, formatNumber(v.median)))
	}
	for i := range flags {
		flags[i].Explanations = explanations
		if flags[i].Explanations == nil {
			flags[i].Explanations = []Explanation{}
		}
	}
	return flags, allExplained
}

// colleague flags patient p if they are or were staff of the entry's care provider on the day
// of the access (an assignment that started on or before it; a record without assignments
// counts as employed throughout).
func (j *refJudge) colleague(e *accesslog.Entry, p ident.PersonID, date register.Date, add func(Kind, string)) {
	for _, s := range j.staffByPerson[p] {
		if s.CareProvider != e.User.CareProvider.ID || s.HSAID == e.User.ID {
			continue
		}
		name := s.GivenName + " " + s.FamilyName
		if s.GivenName == "" {
			name = s.FamilyName
		}
		if len(s.Units) == 0 {
			add(KindColleague, fmt.Sprintf("Patienten är anställd hos samma vårdgivare (%s, %s)", name, s.HSAID))
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
				sameUnit = sameUnit || a.CareUnit == e.User.CareUnit.ID
			} else if a.To.After(lastEnd) {
				lastEnd = a.To
			}
		}
		switch {
		case !started:
			continue
		case current && sameUnit:
			add(KindColleague, fmt.Sprintf("Patienten arbetar på samma vårdenhet som användaren (%s, %s)", name, s.HSAID))
		case current:
			add(KindColleague, fmt.Sprintf("Patienten är anställd hos samma vårdgivare (%s, %s)", name, s.HSAID))
		default:
			add(KindColleague, fmt.Sprintf("Patienten har varit anställd hos samma vårdgivare till %s (%s, %s)", lastEnd, name, s.HSAID))
		}
		return
	}
}

// documented reports whether user wrote or signed for patient within ExplainWindow of at.
func (j *refJudge) documented(user ident.HSAID, p ident.PersonID, at time.Time) bool {
	ts := j.docs[refUserPatient{user, p}]
	lo := at.Add(-ExplainWindow).Unix()
	i := sort.Search(len(ts), func(i int) bool { return ts[i] >= lo })
	return i < len(ts) && ts[i] <= at.Add(ExplainWindow).Unix()
}
