package synth

import (
	"math/rand/v2"
	"strconv"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
)

// Unit is a care unit (vårdenhet) of the care provider.
type Unit struct {
	HSAID    ident.HSAID
	Name     string      // e.g. "Vårdcentral Björkby", "Akutmottagningen", "Ortopedavdelning 12"
	AllHours bool        // staffed around the clock (emergency, intensive care, wards)
	System   ident.HSAID // the journal system the unit mostly uses
}

// System is a producing system: the journal system (or e-service) that writes the entries.
type System struct {
	HSAID ident.HSAID
	Name  string // e.g. "Cosmic", "TakeCare"
}

// StaffMember is an employee of the care provider who accesses patient data. Every staff member
// is also a person of the population.
type StaffMember struct {
	HSAID      ident.HSAID
	PersonID   ident.PersonID // the staff member's own personnummer, found in Persons
	GivenName  string
	FamilyName string
	Title      string        // yrkestitel, e.g. "Sjuksköterska"
	Assignment string        // medarbetaruppdrag, e.g. "Vård och behandling"
	Units      []ident.HSAID // the care units the staff member works at (1 or 2), the main one first
}

// unit is the generator's view of a care unit.
type unit struct {
	Unit
	kind   unitKind
	area   int     // the area of a primary-care unit; -1 for hospital units
	weight float64 // relative access volume
	staffW float64 // relative staff size
	system int     // index of the journal system

	catchment []int32    // patients, most accessed first
	zipf      *rand.Zipf // rank in catchment; nil for a catchment of one
	staff     []int32    // staff working here
	staffCum  []float64  // cumulative access weights of staff
}

// staffMember is the generator's view of a staff member.
type staffMember struct {
	StaffMember
	person int32 // index into the population
	title  int
	name   string // full name
	weight float64
}

// system is the generator's view of a producing system.
type system struct {
	systemTemplate
	sys accesslog.System
}

// idMaker makes HSA-ids under the care provider's issuer prefix and organisation number.
type idMaker struct {
	rng  *rand.Rand
	base string // e.g. "SE2321000016-"
	used map[ident.HSAID]bool
}

func newIDMaker(rng *rand.Rand, provider ident.HSAID) *idMaker {
	s := string(provider)
	i := 0
	for i < len(s) && 'A' <= s[i] && s[i] <= 'Z' {
		i++
	}
	base := s[:i] + provider.OrganisationNumber() + "-"
	return &idMaker{rng: rng, base: base, used: map[ident.HSAID]bool{provider: true}}
}

const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// make returns a new HSA-id whose local part is lead followed by n random letters or digits
// (lead "" means a random digit 1–9 first).
func (m *idMaker) make(lead string, n int) ident.HSAID {
	for {
		b := []byte(m.base)
		if lead == "" {
			b = append(b, byte('1'+m.rng.IntN(9)))
		} else {
			b = append(b, lead...)
		}
		for range n {
			b = append(b, alnum[m.rng.IntN(len(alnum))])
		}
		if id := m.fixed(string(b[len(m.base):])); id != "" {
			return id
		}
	}
}

// fixed returns the HSA-id with the given local part, or "" if it is taken.
func (m *idMaker) fixed(local string) ident.HSAID {
	id, err := ident.ParseHSAID(m.base + local)
	if err != nil {
		panic("synth: generated an invalid HSA-id: " + err.Error())
	}
	if m.used[id] {
		return ""
	}
	m.used[id] = true
	return id
}

// unitPlan is a unit before ids and catchments.
type unitPlan struct {
	name string
	kind unitKind
	area int
}

// planUnits decides the units' names and kinds and names the areas of primary care. About 40%
// of the units are primary care (vårdcentraler, with a barnavårdscentral and a
// barnmorskemottagning in some areas); the rest are departments of hospitals.
func planUnits(rng *rand.Rand, n int) ([]unitPlan, []string) {
	var primary, hospital int
	for i := range n {
		if i%5 == 1 || i%5 == 3 {
			primary++
		} else {
			hospital++
		}
	}
	areas := 0
	for j := range primary {
		if j%6 != 3 && j%6 != 5 {
			areas++
		}
	}
	areas = max(areas, 1)
	hospitals := (hospital + len(hospitalDepts) - 1) / len(hospitalDepts)
	places := placeNames(rng, areas+max(0, hospitals-len(hospitalNames)))
	hospitalName := func(h int) string {
		if h < len(hospitalNames) {
			return hospitalNames[h]
		}
		return places[areas+h-len(hospitalNames)] + " lasarett"
	}

	plans := make([]unitPlan, 0, n)
	used := make(map[string]bool, n)
	add := func(p unitPlan) {
		base := p.name
		for k := 2; used[p.name]; k++ {
			p.name = base + " " + strconv.Itoa(k)
		}
		used[p.name] = true
		plans = append(plans, p)
	}
	ward := 9
	var pj, hj, area int
	area = -1
	for i := range n {
		if i%5 == 1 || i%5 == 3 {
			switch pj % 6 {
			case 3:
				add(unitPlan{"Barnavårdscentralen " + places[area], kindChildHealth, area})
			case 5:
				add(unitPlan{"Barnmorskemottagningen " + places[area], kindMidwife, area})
			default:
				area++
				add(unitPlan{"Vårdcentral " + places[area], kindPrimary, area})
			}
			pj++
			continue
		}
		h, d := hj/len(hospitalDepts), hospitalDepts[hj%len(hospitalDepts)]
		hj++
		name := d.name
		if d.numbered {
			ward += 1 + rng.IntN(3)
			name += " " + strconv.Itoa(ward)
		}
		if h > 0 {
			name += ", " + hospitalName(h)
		}
		add(unitPlan{name, d.kind, -1})
	}
	return plans, places[:areas]
}

// placeNames returns n distinct Swedish-sounding place names.
func placeNames(rng *rand.Rand, n int) []string {
	var all []string
	for _, q := range placeQualifiers {
		var round []string
		for _, p := range placePrefixes {
			for _, s := range placeSuffixes {
				round = append(round, q+p+s)
			}
		}
		rng.Shuffle(len(round), func(i, j int) { round[i], round[j] = round[j], round[i] })
		all = append(all, round...)
		if len(all) >= n {
			return all[:n]
		}
	}
	// More areas than names (not reachable within MaxUnits): number the names.
	m := len(all)
	for k := 0; len(all) < n; k++ {
		all = append(all, all[k%m]+" "+strconv.Itoa(2+k/m))
	}
	return all
}
