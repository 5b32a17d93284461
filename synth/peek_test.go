package synth

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/vakt/vakt/accesslog"
)

func TestPeek(t *testing.T) {
	g, err := New(Config{Seed: 1, CareProvider: "SE2321000016-0001", Entries: 100000, Persons: 50000, Staff: 1000})
	if err != nil {
		t.Fatal(err)
	}
	sizes := map[string][]int{}
	var all []int
	t0 := time.Now()
	for {
		e, ok := g.Next()
		if !ok {
			break
		}
		n := len(accesslog.Prepare(e).Content)
		k := fmt.Sprint(e.System.Name, len(e.Resources))
		sizes[k] = append(sizes[k], n)
		all = append(all, n)
	}
	fmt.Println(time.Since(t0))
	keys := []string{}
	for k := range sizes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s := sizes[k]
		sort.Ints(s)
		fmt.Println(k, len(s), s[len(s)/2], s[len(s)/10], s[len(s)*9/10])
	}
	sort.Ints(all)
	fmt.Println("all", all[len(all)/2], all[len(all)/10], all[len(all)*9/10])
}
