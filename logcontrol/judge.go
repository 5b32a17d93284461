package logcontrol

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/register"
)

// judge holds the registers of one computation in maps.
type judge struct {
	staffByHSA    map[ident.HSAID]*register.Staff
	staffByPerson map[ident.PersonID][]*register.Staff
	persons       map[ident.PersonID]*register.Person
	watch         map[ident.PersonID]*register.WatchEntry
	cases         map[ident.PersonID][]*register.Case
	hours         map[ident.HSAID]register.WorkingHours
	docs          map[userPatient][]int64
	highVolume    map[unitUser]volumeStat
	want          map[Kind]bool
}

func loadRegisters(ctx context.Context, src register.Source, patients map[ident.PersonID]struct{}, users map[ident.HSAID]ident.PersonID) (*judge, error) {
	j := &judge{
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

var weekdays = [7]string{"söndag", "måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag"}

// judge returns the flags of entry e about pats and whether every patient has an explanation.
func (j *judge) judge(e *accesslog.Entry, pats []ident.PersonID) ([]Flag, bool) {
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
	if v, ok := j.highVolume[unitUser{e.User.CareUnit.ID, e.User.ID}]; ok {
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
func (j *judge) colleague(e *accesslog.Entry, p ident.PersonID, date register.Date, add func(Kind, string)) {
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
func (j *judge) documented(user ident.HSAID, p ident.PersonID, at time.Time) bool {
	ts := j.docs[userPatient{user, p}]
	lo := at.Add(-ExplainWindow).Unix()
	i := sort.Search(len(ts), func(i int) bool { return ts[i] >= lo })
	return i < len(ts) && ts[i] <= at.Add(ExplainWindow).Unix()
}

func formatNumber(x float64) string {
	if x == float64(int64(x)) {
		return fmt.Sprintf("%d", int64(x))
	}
	return fmt.Sprintf("%.1f", x)
}
