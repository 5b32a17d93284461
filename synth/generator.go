package synth

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"time"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
)

// Generator produces the entries of one Config. It is not safe for concurrent use.
type Generator struct {
	cfg      Config
	startUTC time.Time
	end      time.Time

	persons []Person
	meta    []personMeta
	staff   []staffMember
	units   []unit
	systems []system
	journal []int // indexes of the journal systems (not the patient e-services)
	portal  int   // index of the patient e-services system, -1 if none

	labUnits, radiologyUnits []int32
	providers                [2]accesslog.CareProvider // the care provider without and with its name

	// Time: the period cut into hour buckets weighted by the units' working-time profiles.
	buckets []bucket
	total   float64
	unitCum [2 * 24][]float64 // per hour type: cumulative weights of the units

	// Entry generation state.
	rng      *rand.Rand
	produced int
	rem      float64 // 1 − the last order statistic of the uniform sample
	bi       int     // current bucket
	prevOff  int64   // offset of the last entry from Start, nanoseconds
	pool     [poolSize]session
}

// bucket is an hour (or less, at the end) of the period.
type bucket struct {
	off, dur int64   // from Start, nanoseconds
	w, cum   float64 // weight and cumulative weight up to the end of the bucket
	ht       uint8   // hour type: dayType*24 + local hour
}

// session is one user's work on one patient: consecutive accesses within minutes.
type session struct {
	unit, staff, patient int32
	system               int32
	left                 int32 // entries still to come
	last                 int64 // offset of its last entry
}

const (
	poolSize      = 32                      // sessions open at once
	maxSessionGap = int64(20 * time.Minute) // a session ends after this long without an access
	msec          = int64(time.Millisecond) // startDate precision
	hourNs        = int64(time.Hour)        // bucket length
	sessionCont   = 60                      // percent of entries that try to continue a session
	outsideShare  = 800                     // per 10 000 new sessions: patient from anywhere (own and relative included)
	ownShare      = 3                       // per 10 000 new sessions: the user's own record
	relativeShare = 8                       // per 10 000 new sessions: a household member's
	twoPatients   = 5                       // per 1 000 entries: a second patient
	zipfS         = 1.05                    // exponent of the patients' access ranks
	portalShare   = 8                       // percent of sessions through the e-services
	otherSystem   = 4                       // percent of sessions through another journal system
	readLevel     = 35                      // per 1 000 reads with activityLevel and activityArgs
)

// New validates cfg, fills in defaults and builds the population, the organisation and the
// time profile. Building the default population of 200 000 persons takes a few hundred
// milliseconds.
func New(cfg Config) (*Generator, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	setup := rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15))
	g := &Generator{
		cfg:      cfg,
		startUTC: cfg.Start.UTC(),
		end:      cfg.Start.AddDate(0, 0, cfg.Days),
		rng:      rand.New(rand.NewPCG(cfg.Seed, 0xd1b54a32d192ed03)),
		rem:      1,
		portal:   -1,
	}
	g.providers = [2]accesslog.CareProvider{{ID: cfg.CareProvider}, {ID: cfg.CareProvider, Name: cfg.CareProviderName}}

	plans, areas := planUnits(setup, cfg.Units)
	g.persons, g.meta = makePopulation(setup, &cfg, areas)
	ids := newIDMaker(setup, cfg.CareProvider)
	g.makeSystems(ids)
	g.makeUnits(setup, ids, plans)
	g.makeStaff(setup, ids)
	g.makeCatchments(setup)
	g.makeTimeline()
	return g, nil
}

func (g *Generator) makeSystems(ids *idMaker) {
	for i := range g.cfg.Systems {
		t := systemTemplates[i]
		id := ids.fixed(t.local)
		if id == "" { // the care provider's own id has this local part
			id = ids.make("S", 4)
		}
		g.systems = append(g.systems, system{systemTemplate: t, sys: accesslog.System{ID: id, Name: t.name}})
		if t.portal {
			g.portal = i
		} else {
			g.journal = append(g.journal, i)
		}
	}
}

func (g *Generator) makeUnits(rng *rand.Rand, ids *idMaker, plans []unitPlan) {
	g.units = make([]unit, len(plans))
	for i, p := range plans {
		k := &kinds[p.kind]
		u := &g.units[i]
		u.HSAID = ids.make("E", 4)
		u.Name = p.name
		u.AllHours = k.profile != profDaytime
		u.kind = p.kind
		u.area = p.area
		u.weight = k.weight * (0.6 + 0.8*rng.Float64())
		u.staffW = k.staffing * (0.7 + 0.6*rng.Float64())
		// Primary care favours the second journal system, hospitals the first and third.
		x := rng.IntN(100)
		j := g.journal
		switch {
		case len(j) == 1:
			u.system = j[0]
		case k.area && x < 60:
			u.system = j[1]
		case k.area:
			u.system = j[0]
		case x < 60:
			u.system = j[0]
		default:
			u.system = j[len(j)-1]
		}
		u.System = g.systems[u.system].sys.ID
		switch p.kind {
		case kindLab:
			g.labUnits = append(g.labUnits, int32(i))
		case kindRadiology:
			g.radiologyUnits = append(g.radiologyUnits, int32(i))
		}
	}
}

// makeStaff picks staff members among the working-age living persons and places them at units:
// one at each unit first, so that no unit is without staff, then by the units' staff sizes.
func (g *Generator) makeStaff(rng *rand.Rand, ids *idMaker) {
	n := g.cfg.Staff
	taken := make([]bool, len(g.persons))
	cum := make([]float64, len(g.units))
	total := 0.0
	for i := range g.units {
		total += g.units[i].staffW
		cum[i] = total
	}
	pickUnit := func() int { return searchCum(cum, rng.Float64()*total) }
	g.staff = make([]staffMember, n)
	for i := range n {
		var p int
		for tries := 0; ; tries++ {
			p = rng.IntN(len(g.persons))
			m := &g.meta[p]
			if taken[p] {
				continue
			}
			ok := m.age >= 20 && m.age <= 66 && m.deceasedSec == alive && !m.protected
			// A population without enough working-age persons (only tiny ones) still gets staff.
			if ok || tries > 50*len(g.persons) && m.age >= 18 || tries > 100*len(g.persons) {
				break
			}
		}
		taken[p] = true
		u := i
		if i >= len(g.units) {
			u = pickUnit()
		}
		units := []int{u}
		if len(g.units) > 1 && rng.IntN(100) < 20 {
			u2 := pickUnit()
			for u2 == u {
				u2 = rng.IntN(len(g.units))
			}
			units = append(units, u2)
		}
		title := pickInt(rng, kinds[g.units[u].kind].titles[:])
		assignment := assignmentCare
		switch x := rng.IntN(100); {
		case x < 2:
			assignment = assignmentQuality
		case title == titleSecretary && x < 32:
			assignment = assignmentAdmin
		}
		s := &g.staff[i]
		s.HSAID = ids.make("", 4)
		s.PersonID = g.persons[p].PersonID
		s.GivenName = g.persons[p].GivenName
		s.FamilyName = g.persons[p].FamilyName
		s.Title = titleNames[title]
		s.Assignment = assignment
		for _, x := range units {
			s.Units = append(s.Units, g.units[x].HSAID)
		}
		s.person = int32(p)
		s.title = title
		s.weight = titleActivity[title] * (0.3 + 1.4*rng.Float64())
		s.name = g.meta[p].name
		for k, x := range units {
			w := s.weight
			if k > 0 {
				w *= 0.4 // the second unit sees less of the staff member
			}
			uu := &g.units[x]
			prev := 0.0
			if len(uu.staffCum) > 0 {
				prev = uu.staffCum[len(uu.staffCum)-1]
			}
			uu.staff = append(uu.staff, int32(i))
			uu.staffCum = append(uu.staffCum, prev+w)
		}
	}
}

// makeCatchments gives every unit its patients: primary care the persons of its area, hospital
// units a slice of a shuffled population, both restricted to the ages and sex the unit treats.
// The catchment is shuffled and ranked: low ranks are the unit's frequent patients.
func (g *Generator) makeCatchments(rng *rand.Rand) {
	n := len(g.persons)
	areas := 0
	for i := range g.units {
		areas = max(areas, g.units[i].area+1)
	}
	areas = max(areas, 1)
	perm := make([]int32, n)
	for i := range perm {
		perm[i] = int32(i)
	}
	rng.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
	for i := range g.units {
		u := &g.units[i]
		k := &kinds[u.kind]
		var cand []int32
		if u.area >= 0 {
			lo, hi := u.area*n/areas, (u.area+1)*n/areas
			cand = make([]int32, 0, hi-lo)
			for p := lo; p < hi; p++ {
				cand = append(cand, int32(p))
			}
		} else {
			size := min(n, k.capN, max(50, int(k.frac*float64(n))))
			start := rng.IntN(n)
			cand = make([]int32, 0, size)
			for j := range size {
				cand = append(cand, perm[(start+j)%n])
			}
		}
		c := make([]int32, 0, len(cand))
		for _, p := range cand {
			m := &g.meta[p]
			if int(m.age) >= k.minAge && int(m.age) <= k.maxAge && (!k.women || m.female) {
				c = append(c, p)
			}
		}
		if len(c) == 0 {
			c = cand
		}
		rng.Shuffle(len(c), func(i, j int) { c[i], c[j] = c[j], c[i] })
		u.catchment = c
		if len(c) > 1 {
			u.zipf = rand.NewZipf(g.rng, zipfS, 1+float64(len(c))/200, uint64(len(c)-1))
		}
	}
}

// makeTimeline cuts the period into hours and weights each by the units working then.
func (g *Generator) makeTimeline() {
	var hourTotal [2 * 24]float64
	for ht := range g.unitCum {
		cum := make([]float64, len(g.units))
		t := 0.0
		for i := range g.units {
			t += g.units[i].weight * profiles[kinds[g.units[i].kind].profile][ht/24][ht%24]
			cum[i] = t
		}
		g.unitCum[ht] = cum
		hourTotal[ht] = t
	}
	start := g.cfg.Start
	total := g.end.Sub(start).Nanoseconds()
	for off := int64(0); off < total; off += hourNs {
		dur := min(hourNs, total-off)
		lt := start.Add(time.Duration(off))
		ht := uint8(dayType(lt)*24 + lt.Hour())
		w := hourTotal[ht] * float64(dur) / float64(hourNs)
		g.total += w
		g.buckets = append(g.buckets, bucket{off: off, dur: dur, w: w, cum: g.total, ht: ht})
	}
}

// dayType is 1 on weekends and Swedish public holidays, 0 on working days.
func dayType(t time.Time) int {
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return 1
	}
	y, m, d := t.Date()
	if holiday(y, m, d) {
		return 1
	}
	return 0
}

// holiday reports whether the date is a Swedish public holiday on a weekday, counting the
// de facto holidays midsommarafton, julafton and nyårsafton.
func holiday(y int, m time.Month, d int) bool {
	switch {
	case m == time.January && (d == 1 || d == 6),
		m == time.May && d == 1,
		m == time.June && d == 6,
		m == time.December && (d == 24 || d == 25 || d == 26 || d == 31):
		return true
	case m == time.June && d >= 19 && d <= 25:
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Weekday() == time.Friday // midsommarafton
	}
	em, ed := easter(y)
	diff := int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Sub(time.Date(y, em, ed, 0, 0, 0, 0, time.UTC)).Hours() / 24)
	// Långfredagen, annandag påsk, Kristi himmelsfärdsdag.
	return diff == -2 || diff == 1 || diff == 39
}

// easter returns the date of Easter Sunday in year y (Gregorian; anonymous algorithm).
func easter(y int) (time.Month, int) {
	a, b, c := y%19, y/100, y%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	n := h + l - 7*m + 114
	return time.Month(n / 31), n%31 + 1
}

// searchCum returns the first index whose cumulative weight exceeds x.
func searchCum(cum []float64, x float64) int {
	lo, hi := 0, len(cum)-1
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if cum[mid] > x {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// Next returns the next entry, or false once Config.Entries entries have been produced. Entries
// come in non-decreasing order of Activity.StartDate, all within [Start, Start+Days).
func (g *Generator) Next() (accesslog.Entry, bool) {
	if g.produced >= g.cfg.Entries {
		return accesslog.Entry{}, false
	}
	off, ht := g.nextTime()
	g.produced++
	s := g.session(off, ht)
	e := g.entry(s, off)
	if g.cfg.Compact {
		compact(&e)
	}
	return e, true
}

// compact strips an entry to its required elements and one resource.
func compact(e *accesslog.Entry) {
	e.System.Name = ""
	e.Activity.Level, e.Activity.Args = "", ""
	u := &e.User
	u.Name, u.Title, u.Assignment = "", "", ""
	u.PersonID = ident.PersonID{}
	u.CareProvider.Name, u.CareUnit.Name = "", ""
	e.Resources = e.Resources[:1]
	r := &e.Resources[0]
	r.Patient.Name = ""
	r.CareProvider.Name = ""
	r.CareUnit = accesslog.CareUnit{}
}

// nextTime returns the time of the next entry: the next order statistic of Entries uniform
// draws (so the times are sorted without being stored), mapped through the period's cumulative
// intensity.
func (g *Generator) nextTime() (int64, uint8) {
	k := g.cfg.Entries - g.produced
	v := 1 - g.rng.Float64() // (0, 1]
	if k == 1 {
		g.rem *= v
	} else {
		g.rem *= math.Exp(math.Log(v) / float64(k))
	}
	c := (1 - g.rem) * g.total
	for g.bi < len(g.buckets)-1 && c >= g.buckets[g.bi].cum {
		g.bi++
	}
	b := &g.buckets[g.bi]
	frac := 0.0
	if b.w > 0 {
		frac = min(max((c-(b.cum-b.w))/b.w, 0), 0.999999)
	}
	off := b.off + int64(frac*float64(b.dur))
	off -= off % msec
	if off < g.prevOff {
		off = g.prevOff
	}
	g.prevOff = off
	return off, b.ht
}

// session returns the session the next entry belongs to: an open one continued, or a new one
// started by a unit working at this hour.
func (g *Generator) session(off int64, ht uint8) *session {
	rng := g.rng
	if rng.IntN(100) < sessionCont {
		s := &g.pool[rng.IntN(poolSize)]
		if s.left > 0 && off-s.last <= maxSessionGap {
			s.left--
			s.last = off
			return s
		}
	}
	s := &g.pool[rng.IntN(poolSize)]
	cum := g.unitCum[ht]
	ui := searchCum(cum, rng.Float64()*cum[len(cum)-1])
	u := &g.units[ui]
	si := u.staff[searchCum(u.staffCum, rng.Float64()*u.staffCum[len(u.staffCum)-1])]
	s.unit, s.staff = int32(ui), si
	s.patient = g.pickPatient(u, si, off)
	s.system = int32(u.system)
	switch x := rng.IntN(100); {
	case g.portal >= 0 && kinds[u.kind].patientPortal && x < portalShare:
		s.system = int32(g.portal)
	case x >= 100-otherSystem && len(g.journal) > 1:
		s.system = int32(g.journal[rng.IntN(len(g.journal))])
	}
	n := int32(0)
	for n < 11 && rng.IntN(100) < 55 {
		n++
	}
	s.left = n
	s.last = off
	return s
}

// pickPatient chooses the patient of a new session of staff member si at unit u.
func (g *Generator) pickPatient(u *unit, si int32, off int64) int32 {
	rng := g.rng
	var p int32
	switch x := rng.IntN(10000); {
	case x < ownShare:
		return g.staff[si].person
	case x < ownShare+relativeShare:
		m := &g.meta[g.staff[si].person]
		if m.hhSize > 1 {
			p = m.hhStart + int32(rng.IntN(int(m.hhSize)))
			if p != g.staff[si].person {
				return p
			}
		}
		p = g.fromCatchment(u)
	case x < outsideShare:
		p = int32(rng.IntN(len(g.persons)))
	default:
		p = g.fromCatchment(u)
	}
	// Fewer accesses after death: most are replaced by a living patient's.
	if int64(g.meta[p].deceasedSec)*int64(time.Second) <= off && rng.IntN(100) < 85 {
		p = g.fromCatchment(u)
	}
	return p
}

func (g *Generator) fromCatchment(u *unit) int32 {
	if u.zipf == nil {
		return u.catchment[0]
	}
	return u.catchment[u.zipf.Uint64()]
}

// Resource-type distributions independent of the unit.
var (
	signTypes        = [numResourceTypes]int{resJournal: 70, resReferral: 10, resMedication: 10, resCarePlan: 10}
	countersignTypes = [numResourceTypes]int{resLab: 65, resRadiology: 35}
	deleteTypes      = [numResourceTypes]int{resNote: 60, resJournal: 40}
	portalTypes      = [numResourceTypes]int{resNote: 60, resReferral: 15, resMedication: 25}
)

// entry builds the entry of session s at offset off.
func (g *Generator) entry(s *session, off int64) accesslog.Entry {
	rng := g.rng
	st := &g.staff[s.staff]
	u := &g.units[s.unit]
	sys := &g.systems[s.system]

	act := actRead
	for x := rng.IntN(10000); act < len(activityWeights)-1 && x >= activityWeights[act].weight; act++ {
		x -= activityWeights[act].weight
	}
	e := accesslog.Entry{
		LogID:  g.uuid(),
		System: sys.sys,
	}
	us := &e.User
	us.ID = st.HSAID
	if sys.userName {
		us.Name = st.name
	}
	if sys.title {
		us.Title = st.Title
	}
	if sys.assignment {
		us.Assignment = st.Assignment
	}
	if sys.userPersonID {
		us.PersonID = st.PersonID
	}
	us.CareProvider = g.providers[0]
	if sys.providerName {
		us.CareProvider = g.providers[1]
	}
	us.CareUnit.ID = u.HSAID
	if sys.unitName {
		us.CareUnit.Name = u.Name
	}
	a := &e.Activity
	a.Type = accesslog.ActivityType(activityWeights[act].name)
	a.StartDate = g.startUTC.Add(time.Duration(off))
	a.Purpose = g.purpose(st)
	var la *levelArgs
	switch x := rng.IntN(1000); act {
	case actRead:
		if x < readLevel {
			la = &readLevels[rng.IntN(len(readLevels))]
		}
	case actPrint:
		if x < 300 {
			la = &printLevels[rng.IntN(len(printLevels))]
		}
	case actDelete:
		if x < 600 {
			la = &deleteLevels[rng.IntN(len(deleteLevels))]
		}
	case actEmergency:
		la = &emergencyLevels[rng.IntN(len(emergencyLevels))]
	}
	if la != nil {
		a.Level, a.Args = la.level, la.args
	}

	n := 1
	if act == actRead || act == actPrint {
		switch x := rng.IntN(100); {
		case x >= 98:
			n = 4
		case x >= 93:
			n = 3
		case x >= 84:
			n = 2
		}
	}
	second := int32(-1)
	if rng.IntN(1000) < twoPatients {
		second = g.otherPatient(u, s.patient)
		n = max(n, 2)
	}
	weights := &kinds[u.kind].resources
	switch {
	case s.system == int32(g.portal):
		weights = &portalTypes
	case act == actSign:
		weights = &signTypes
	case act == actCountersign:
		weights = &countersignTypes
	case act == actDelete:
		weights = &deleteTypes
	}
	res := make([]accesslog.Resource, n)
	var usedTypes uint16
	for i := range res {
		t := pickType(rng, weights, usedTypes)
		usedTypes |= 1 << t
		r := &res[i]
		r.Type = resourceTypeNames[t]
		p := s.patient
		if i == n-1 && second >= 0 {
			p = second
		}
		m := &g.meta[p]
		r.Patient.ID = m.id
		if sys.patientName && !m.protected {
			r.Patient.Name = m.name
		}
		r.CareProvider = g.providers[0]
		r.CareUnit.ID = g.resourceUnit(u, t).HSAID
	}
	e.Resources = res
	return e
}

// pickType draws a resource type not in used; when the distribution has no unused type left it
// falls back to any unused type.
func pickType(rng *rand.Rand, w *[numResourceTypes]int, used uint16) int {
	total := 0
	for t, x := range w {
		if used&(1<<t) == 0 {
			total += x
		}
	}
	if total == 0 {
		for t := range numResourceTypes {
			if used&(1<<t) == 0 {
				return t
			}
		}
		return resNote
	}
	x := rng.IntN(total)
	for t, v := range w {
		if used&(1<<t) != 0 {
			continue
		}
		if x < v {
			return t
		}
		x -= v
	}
	return resNote
}

// otherPatient returns a second patient for an entry about patient p: a household member
// (mother and newborn, a couple) when there is one, else another patient of the unit.
func (g *Generator) otherPatient(u *unit, p int32) int32 {
	m := &g.meta[p]
	if m.hhSize > 1 {
		q := m.hhStart + int32(g.rng.IntN(int(m.hhSize)-1))
		if q >= p {
			q++
		}
		return q
	}
	for range 8 {
		if q := g.fromCatchment(u); q != p {
			return q
		}
	}
	return (p + 1) % int32(len(g.persons))
}

// resourceUnit returns the unit that produced a resource of type t read at unit u: labs and
// radiology for their results, otherwise mostly u itself.
func (g *Generator) resourceUnit(u *unit, t int) *unit {
	x := g.rng.IntN(100)
	switch {
	case t == resLab && len(g.labUnits) > 0 && x < 70:
		return &g.units[g.labUnits[g.rng.IntN(len(g.labUnits))]]
	case t == resRadiology && len(g.radiologyUnits) > 0 && x < 70:
		return &g.units[g.radiologyUnits[g.rng.IntN(len(g.radiologyUnits))]]
	case x < 82:
		return u
	}
	return &g.units[g.rng.IntN(len(g.units))]
}

// purpose returns the purpose of an access by staff member st.
func (g *Generator) purpose(st *staffMember) accesslog.Purpose {
	x := g.rng.IntN(1000)
	switch st.Assignment {
	case assignmentAdmin:
		if x < 300 {
			return accesslog.PurposeAdministration
		}
	case assignmentQuality:
		if x < 600 {
			return accesslog.PurposeQualityAssurance
		}
	}
	switch {
	case x < 25:
		return accesslog.PurposeQualityAssurance
	case x < 45:
		return accesslog.PurposeAdministration
	}
	return accesslog.PurposeCare
}

// uuid returns a random (version 4) UUID in its text form.
func (g *Generator) uuid() string {
	var r [16]byte
	binary.LittleEndian.PutUint64(r[:8], g.rng.Uint64())
	binary.LittleEndian.PutUint64(r[8:], g.rng.Uint64())
	r[6] = r[6]&0x0f | 0x40
	r[8] = r[8]&0x3f | 0x80
	const hex = "0123456789abcdef"
	var b [36]byte
	j := 0
	for i, c := range r {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j], b[j+1] = hex[c>>4], hex[c&0xf]
		j += 2
	}
	return string(b[:])
}
