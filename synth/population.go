package synth

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/vakt/vakt/ident"
)

// Person is one person of the population: a patient, and for some a staff member too.
type Person struct {
	PersonID          ident.PersonID // personnummer, or (about 1%) samordningsnummer
	GivenName         string
	FamilyName        string
	Female            bool      // as the number's second-to-last digit encodes it (even: female)
	Address           string    // street address, postal code and town, e.g. "Björkvägen 12, 234 56 Ekdalen"
	BirthDate         time.Time // midnight UTC, as ident.PersonID.BirthDate returns it
	Deceased          time.Time // date of death at midnight UTC; zero for the living
	ProtectedIdentity bool      // skyddad folkbokföring: systems must not show name or address
	Household         int       // persons with the same Household live together at Address
}

// Name returns the person's full name, "GivenName FamilyName".
func (p *Person) Name() string { return p.GivenName + " " + p.FamilyName }

// personMeta is what entry generation needs about a person, in one cache line.
type personMeta struct {
	id          ident.PersonID
	name        string // full name
	hhStart     int32  // index of the household's first member
	deceasedSec int32  // seconds from Start to the date of death; alive for the living
	hhSize      uint8
	age         uint8 // whole years at Start
	female      bool
	protected   bool
}

// alive is the deceasedSec of the living.
const alive = math.MaxInt32

// ageBand is a range of ages with a relative weight.
type ageBand struct{ lo, hi, w int }

// adultBands is the age distribution of adults living alone or as a couple without children at
// home: skewed older than the population, whose children live in the larger households.
var adultBands = []ageBand{
	{20, 29, 20}, {30, 39, 10}, {40, 49, 6}, {50, 59, 16}, {60, 69, 18}, {70, 79, 17}, {80, 89, 9}, {90, 100, 2},
}

// householdSizes: share in percent of households with 1, 2, … 5 members.
var householdSizes = []int{41, 34, 11, 10, 4}

// popBuilder holds the state of population generation.
type popBuilder struct {
	rng       *rand.Rand
	start     time.Time // Config.Start, Europe/Stockholm
	startDate time.Time // Start's calendar date, midnight UTC
	days      int
	seen      map[int64]struct{}
	persons   []Person
	meta      []personMeta
}

// makePopulation generates n persons in households; the households are laid out area by area,
// so that area a holds the persons [a*n/len(areas), (a+1)*n/len(areas)).
func makePopulation(rng *rand.Rand, cfg *Config, areas []string) ([]Person, []personMeta) {
	y, m, d := cfg.Start.Date()
	b := &popBuilder{
		rng:       rng,
		start:     cfg.Start,
		startDate: time.Date(y, m, d, 0, 0, 0, 0, time.UTC),
		days:      cfg.Days,
		seen:      make(map[int64]struct{}, cfg.Persons),
		persons:   make([]Person, 0, cfg.Persons),
		meta:      make([]personMeta, 0, cfg.Persons),
	}
	n := cfg.Persons
	hh := 0
	for len(b.persons) < n {
		first := len(b.persons)
		size := 1 + pickInt(rng, householdSizes)
		size = min(size, n-first)
		area := int(int64(first) * int64(len(areas)) / int64(n))
		b.household(hh, size, areas[area], area)
		hh++
	}
	b.pack()
	return b.persons, b.meta
}

// pack moves the full names and the addresses into one string each, so that the garbage
// collector, which scans the population on every cycle while entries are generated, finds two
// objects where there were hundreds of thousands.
func (b *popBuilder) pack() {
	size := 0
	for i := range b.persons {
		p := &b.persons[i]
		size += len(p.GivenName) + 1 + len(p.FamilyName)
		if int32(i) == b.meta[i].hhStart {
			size += len(p.Address)
		}
	}
	var sb strings.Builder
	sb.Grow(size)
	type span struct{ name, addr [2]int }
	spans := make([]span, len(b.persons))
	for i := range b.persons {
		p, sp := &b.persons[i], &spans[i]
		sp.name[0] = sb.Len()
		sb.WriteString(p.GivenName)
		sb.WriteByte(' ')
		sb.WriteString(p.FamilyName)
		sp.name[1] = sb.Len()
		if h := b.meta[i].hhStart; int32(i) == h {
			sp.addr[0] = sb.Len()
			sb.WriteString(p.Address)
			sp.addr[1] = sb.Len()
		} else {
			sp.addr = spans[h].addr
		}
	}
	all := sb.String()
	for i := range b.persons {
		sp := &spans[i]
		b.meta[i].name = all[sp.name[0]:sp.name[1]]
		b.persons[i].Address = all[sp.addr[0]:sp.addr[1]]
	}
}

// household adds size persons who live together.
func (b *popBuilder) household(hh, size int, town string, area int) {
	rng := b.rng
	family := familyNames[skewedIndex(rng, len(familyNames))]
	address := b.address(town, area)
	protected := rng.IntN(1000) < 2

	var ages [5]int
	var female [5]bool
	switch {
	case size == 1:
		ages[0] = sampleBand(rng, adultBands)
		female[0] = ages[0] >= 75 && rng.IntN(3) < 2 || ages[0] < 75 && rng.IntN(2) == 0
	case size == 2 && rng.IntN(100) < 88: // a couple
		ages[0] = sampleBand(rng, adultBands)
		ages[1] = max(18, min(100, ages[0]+rng.IntN(11)-5))
		female[0] = rng.IntN(2) == 0
		female[1] = !female[0] || rng.IntN(20) == 0
	default: // parents (one or two) with children at home
		parents := 2
		if size == 2 || rng.IntN(100) < 15 {
			parents = 1
		}
		oldest := 0
		for j := parents; j < size; j++ {
			ages[j] = rng.IntN(20)
			female[j] = rng.IntN(2) == 0
			oldest = max(oldest, ages[j])
		}
		a := oldest + 21 + rng.IntN(18)
		ages[0] = a
		female[0] = parents == 2 && rng.IntN(2) == 0 || parents == 1 && rng.IntN(4) < 3
		if parents == 2 {
			ages[1] = max(20, a+rng.IntN(9)-4)
			female[1] = !female[0] || rng.IntN(20) == 0
		}
	}
	first := int32(len(b.persons))
	for j := 0; j < size; j++ {
		name := family
		if j == 1 && rng.IntN(100) < 25 { // a partner (or a child of a single parent) with another name
			name = familyNames[skewedIndex(rng, len(familyNames))]
		}
		b.person(hh, first, size, ages[j], female[j], name, address, protected)
	}
}

// person adds one person.
func (b *popBuilder) person(hh int, first int32, size, age int, female bool, family, address string, protected bool) {
	rng := b.rng
	// Birth date: age whole years before Start's date, plus up to a year more.
	by := b.startDate.AddDate(-age, 0, 0)
	birth := by.AddDate(0, 0, -rng.IntN(365))
	if birth.After(b.startDate) {
		birth = b.startDate
	}
	coord := age >= 16 && rng.IntN(1000) < 12
	id := b.personID(birth, female, coord)

	cohort := 2
	switch {
	case age >= 66:
		cohort = 0
	case age >= 36:
		cohort = 1
	}
	sex := 0
	if female {
		sex = 1
	}
	names := givenNames[sex][cohort]
	given := names[skewedIndex(rng, len(names))]

	var deceased time.Time
	deceasedSec := int32(alive)
	var pDead int
	switch {
	case age >= 80:
		pDead = 60
	case age >= 70:
		pDead = 20
	case age >= 60:
		pDead = 6
	default:
		pDead = 1
	}
	if rng.IntN(1000) < pDead {
		deceased = b.startDate.AddDate(0, 0, rng.IntN(365+b.days)-365)
		if deceased.Before(birth) {
			deceased = birth
		}
		// The person is dead from local midnight of that date.
		dy, dm, dd := deceased.Date()
		deceasedSec = int32(time.Date(dy, dm, dd, 0, 0, 0, 0, stockholm).Sub(b.start) / time.Second)
	}
	b.persons = append(b.persons, Person{
		PersonID:          id,
		GivenName:         given,
		FamilyName:        family,
		Female:            female,
		Address:           address,
		BirthDate:         birth,
		Deceased:          deceased,
		ProtectedIdentity: protected,
		Household:         hh,
	})
	b.meta = append(b.meta, personMeta{
		id:          id,
		hhStart:     first,
		hhSize:      uint8(size),
		age:         uint8(age),
		female:      female,
		protected:   protected,
		deceasedSec: deceasedSec,
	})
}

// personID computes a personnummer (or samordningsnummer) for the birth date and sex that no
// earlier person has, and parses it so that it is valid by construction.
func (b *popBuilder) personID(birth time.Time, female, coord bool) ident.PersonID {
	y, m, d := birth.Date()
	if coord {
		d += 60
	}
	var digits [12]byte
	put := func(at, v, width int) {
		for i := width - 1; i >= 0; i-- {
			digits[at+i] = byte('0' + v%10)
			v /= 10
		}
	}
	put(0, y, 4)
	put(4, int(m), 2)
	put(6, d, 2)
	for {
		n12 := b.rng.IntN(100)
		n3 := 2 * b.rng.IntN(5)
		if !female {
			n3++
		}
		if n12 == 0 && n3 == 0 {
			continue
		}
		put(8, n12, 2)
		put(10, n3, 1)
		digits[11] = byte('0' + ident.CheckDigit(digits[2:11]))
		key := int64(0)
		for _, c := range digits {
			key = key*10 + int64(c-'0')
		}
		if _, dup := b.seen[key]; dup {
			continue
		}
		b.seen[key] = struct{}{}
		break
	}
	id, err := ident.ParsePersonID(string(digits[:]), time.Time{})
	if err != nil {
		panic("synth: generated an invalid personnummer: " + err.Error())
	}
	return id
}

// address returns a street address in the town of the area.
func (b *popBuilder) address(town string, area int) string {
	rng := b.rng
	street := streetNames[rng.IntN(len(streetNames))]
	s := street + " " + strconv.Itoa(1+skewedIndex(rng, 120))
	if rng.IntN(3) == 0 {
		s += " lgh " + strconv.Itoa(1000+100*(1+rng.IntN(6))+1+rng.IntN(4))
	}
	zip := 10000 + (area*613+rng.IntN(40))%89000
	z := strconv.Itoa(zip)
	return s + ", " + z[:3] + " " + z[3:] + " " + town
}

// sampleBand returns an age drawn from the bands.
func sampleBand(rng *rand.Rand, bands []ageBand) int {
	total := 0
	for _, b := range bands {
		total += b.w
	}
	x := rng.IntN(total)
	for _, b := range bands {
		if x < b.w {
			return b.lo + rng.IntN(b.hi-b.lo+1)
		}
		x -= b.w
	}
	return bands[len(bands)-1].hi
}

// pickInt returns an index drawn with the given integer weights.
func pickInt(rng *rand.Rand, weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	x := rng.IntN(total)
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

// skewedIndex returns an index in [0, n) favouring small indexes, as in a list sorted by
// frequency: P(index < k) = (k/n)^(1/1.3).
func skewedIndex(rng *rand.Rand, n int) int {
	i := int(float64(n) * math.Pow(rng.Float64(), 1.3))
	return min(i, n-1)
}
