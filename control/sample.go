package control

import (
	"math/rand/v2"
	"slices"
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
	g := rand.NewPCG(seed, 0)
	below := func(b uint64) uint64 {
		limit := -(-b % b) // 2⁶⁴ − (2⁶⁴ mod b), computed in uint64: 0 when b divides 2⁶⁴
		for {
			x := g.Uint64()
			if limit == 0 || x < limit {
				return x % b
			}
		}
	}
	pos := make([]int, n)
	for i := range pos {
		pos[i] = i
	}
	for i := 0; i < k; i++ {
		j := i + int(below(uint64(n-i)))
		pos[i], pos[j] = pos[j], pos[i]
	}
	out := pos[:k:k]
	slices.Sort(out)
	return out
}
