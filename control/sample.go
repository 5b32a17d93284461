package control

import (
	"math/rand/v2"
	"slices"
	"strings"
)

// SampleAlgorithm names the way Draw picks a sample; it is recorded with every sample so that
// a later version of vakt that draws differently can still reproduce an old one.
const SampleAlgorithm = "pcg-dxsm-fisher-yates-v1"

// Sample sizes. The region's instruction (a monthly sample per unit, drawn with a spreadsheet
// random generator) names no size; ten accesses a month is what a reviewer can judge with care
// in an hour, and a unit may ask for more, up to a size one page still shows.
const (
	DefaultSampleSize = 10
	MaxSampleSize     = 100
)

// Draw picks min(size, n) distinct positions of a population of n accesses, reproducibly from
// seed, and returns them in ascending order. The population is a unit's accesses of the month
// in sequence-number order (Service.CreateSample), so position i is the (i+1)-th such access.
//
// The algorithm, exactly, so that anyone can check a sample without vakt:
//
//  1. A PCG-DXSM generator with 128-bit state, seeded with (seed, 0) as Go's
//     math/rand/v2.NewPCG(seed, 0) does, gives 64-bit numbers x₁, x₂, ….
//  2. A number below b is drawn by rejection: take the next x; if x ≥ 2⁶⁴ − (2⁶⁴ mod b) take
//     another; the number is x mod b. (No modulo bias; not Go's IntN, whose method is not
//     part of its compatibility promise.)
//  3. Partial Fisher–Yates: start from the positions 0 … n−1; for i = 0 … k−1 draw j = i + a
//     number below n − i and swap positions i and j. The first k positions are the sample.
func Draw(seed uint64, n, size int) []int {
	k := min(size, n)
	if k <= 0 {
		return []int{}
	}
	out := newDrawer(seed).shuffle(n, k)
	slices.Sort(out)
	return out
}

// drawer is steps 1 and 2 of Draw's algorithm: the seeded generator and numbers below a bound.
type drawer struct{ g *rand.PCG }

func newDrawer(seed uint64) drawer { return drawer{rand.NewPCG(seed, 0)} }

func (d drawer) below(b uint64) uint64 {
	limit := -(-b % b) // 2⁶⁴ − (2⁶⁴ mod b), computed in uint64: 0 when b divides 2⁶⁴
	for {
		x := d.g.Uint64()
		if limit == 0 || x < limit {
			return x % b
		}
	}
}

// shuffle is step 3: the first k positions of a partial Fisher–Yates shuffle of 0 … n−1, in the
// order drawn.
func (d drawer) shuffle(n, k int) []int {
	pos := make([]int, n)
	for i := range pos {
		pos[i] = i
	}
	for i := 0; i < k; i++ {
		j := i + int(d.below(uint64(n-i)))
		pos[i], pos[j] = pos[j], pos[i]
	}
	return pos[:k:k]
}

// StratifiedAlgorithm names the way DrawStrata picks a stratified sample.
const StratifiedAlgorithm = "pcg-dxsm-fisher-yates-stratified-v1"

// Strata is what a stratified sample groups a unit's accesses by, so that each kind of access
// is represented and not only the most common (most accesses are reads). The values are the
// Swedish terms, as they leave the process.
type Strata string

// Ways to stratify a sample.
const (
	StrataNone     Strata = ""          // one population: Draw
	StrataActivity Strata = "aktivitet" // by activity type (Läsa, Skriva, Utskrift, …)
	StrataUser     Strata = "anvandare" // by the user who made the access (HSA-id)
)

// AllStrata returns every way to stratify, in the order the form offers them.
func AllStrata() []Strata { return []Strata{StrataNone, StrataActivity, StrataUser} }

// Valid reports whether s is one of AllStrata.
func (s Strata) Valid() bool { return s == StrataNone || s == StrataActivity || s == StrataUser }

// Stratum is one stratum of a stratified sample as recorded with it: its key (an activity type
// or an HSA-id), how many accesses of the population it held and how many were drawn from it.
type Stratum struct {
	Key        string `json:"key"`
	Population int    `json:"population"`
	Drawn      int    `json:"drawn"`
}

// DrawStrata picks min(size, n) distinct positions of a population of n = len(keys) accesses
// whose stratum keys are keys (position i has key keys[i]), reproducibly from seed, and returns
// them in ascending order with the strata as drawn.
//
// The algorithm, exactly, so that anyone can check a sample without vakt:
//
//  1. The strata are the distinct keys, in ascending byte order of the key; stratum j holds
//     n_j positions, in ascending order.
//  2. Allocation of k = min(size, n) among S strata. When k ≥ S every stratum first gets one,
//     and the remaining r = k − S are shared by the strata's remaining sizes m_j = n_j − 1 (of
//     M = n − S in all); when k < S, r = k are shared by the sizes m_j = n_j (M = n). Sharing
//     is by largest remainder: stratum j gets ⌊r·m_j / M⌋, then the strata with the largest
//     remainders (r·m_j mod M) get one more each, ties to the earlier stratum, until r are
//     given. No stratum gets more than it holds.
//  3. One generator as in Draw's steps 1 and 2, seeded with (seed, 0), draws in every stratum
//     in stratum order: the first k_j positions of a partial Fisher–Yates shuffle (Draw's
//     step 3) of the stratum's positions 0 … n_j − 1 name the stratum's drawn accesses.
func DrawStrata(seed uint64, keys []string, size int) ([]int, []Stratum) {
	byKey := map[string][]int{}
	for i, k := range keys {
		byKey[k] = append(byKey[k], i)
	}
	strata := make([]Stratum, 0, len(byKey))
	for k, pos := range byKey {
		strata = append(strata, Stratum{Key: k, Population: len(pos)})
	}
	slices.SortFunc(strata, func(a, b Stratum) int { return strings.Compare(a.Key, b.Key) })
	n, k := len(keys), min(size, len(keys))
	if k <= 0 {
		return []int{}, strata
	}
	allocate(strata, n, k)
	d := newDrawer(seed)
	var out []int
	for _, st := range strata {
		pos := byKey[st.Key]
		for _, i := range d.shuffle(len(pos), st.Drawn) {
			out = append(out, pos[i])
		}
	}
	slices.Sort(out)
	return out, strata
}

// allocate sets each stratum's Drawn by step 2 of DrawStrata; 0 < k ≤ n.
func allocate(strata []Stratum, n, k int) {
	s := len(strata)
	r, total, base := k, n, 0
	if k >= s {
		r, total, base = k-s, n-s, 1
	}
	type rem struct{ j, r int }
	var rems []rem
	given := 0
	for j := range strata {
		m := strata[j].Population - base
		strata[j].Drawn = base
		if total > 0 {
			strata[j].Drawn += r * m / total
			given += r * m / total
			rems = append(rems, rem{j, r * m % total})
		}
	}
	slices.SortStableFunc(rems, func(a, b rem) int { return b.r - a.r })
	for _, x := range rems[:r-given] {
		strata[x.j].Drawn++
	}
}
