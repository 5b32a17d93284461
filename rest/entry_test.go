package rest_test

import (
	"fmt"
	"strconv"
	"strings"
)

// Entries are built by hand as JSON objects, so that a test can break any element the way a
// producer might.

const (
	userA1 = "SE2321000016-1234"
	userA2 = "SE2321000016-5678"
	unitA1 = "SE2321000016-7P5P"
	unitA2 = "SE2321000016-K9R2"
	userB  = "SE2321000131-4321"
	unitB  = "SE2321000131-A1B2"
	system = "SE2321000016-S001"
)

// logID returns a UUID-shaped logId unique within a test.
func logID(name string, n int) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", hash(name), n)
}

func hash(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// entry returns a valid entry of tenant A's care provider; mods change it.
func entry(id string, mods ...mod) map[string]any {
	e := map[string]any{
		"logId": id,
		"system": map[string]any{
			"systemId":   system,
			"systemName": "Journalsystemet",
		},
		"activity": map[string]any{
			"activityType": "Läsa",
			"startDate":    "2026-11-22T14:05:00+01:00",
			"purpose":      "Vård och behandling",
		},
		"user": map[string]any{
			"userId":       userA1,
			"name":         "Anna Andersson",
			"careProvider": map[string]any{"careProviderId": cpA, "careProviderName": "Region A"},
			"careUnit":     map[string]any{"careUnitId": unitA1, "careUnitName": "Kardiologmottagningen"},
		},
		"resources": []any{
			map[string]any{
				"resourceType": "Journalanteckning",
				"patient":      map[string]any{"patientId": pnrTolvan, "patientName": "Tolvan Tolvansson"},
				"careProvider": map[string]any{"careProviderId": cpA},
				"careUnit":     map[string]any{"careUnitId": unitA1},
			},
		},
	}
	for _, m := range mods {
		m(e)
	}
	return e
}

// entryB returns a valid entry of tenant B's care provider.
func entryB(id string, mods ...mod) map[string]any {
	base := []mod{
		set("user.userId", userB),
		set("user.name", "Bertil Berg"),
		set("user.careProvider", map[string]any{"careProviderId": cpB}),
		set("user.careUnit", map[string]any{"careUnitId": unitB}),
		set("resources[0].careProvider.careProviderId", cpB),
		set("resources[0].careUnit.careUnitId", unitB),
		set("resources[0].patient", map[string]any{"patientId": pnrOther, "patientName": "Berit Bertilsson"}),
	}
	return entry(id, append(base, mods...)...)
}

// mod changes an entry.
type mod func(map[string]any)

// remove, as the value of set, deletes the member.
var remove = &struct{ remove bool }{true}

// set sets the member at path ("user.careUnit.careUnitId", "resources[1].patient").
func set(path string, v any) mod {
	return func(e map[string]any) {
		parts := strings.Split(path, ".")
		var cur any = e
		for i, p := range parts {
			name, idx := p, -1
			if j := strings.IndexByte(p, '['); j >= 0 {
				name = p[:j]
				n, err := strconv.Atoi(strings.TrimSuffix(p[j+1:], "]"))
				if err != nil {
					panic(path)
				}
				idx = n
			}
			m := cur.(map[string]any)
			last := i == len(parts)-1
			if idx < 0 {
				if last {
					if v == remove {
						delete(m, name)
					} else {
						m[name] = v
					}
					return
				}
				next, ok := m[name].(map[string]any)
				if !ok {
					next = map[string]any{}
					m[name] = next
				}
				cur = next
				continue
			}
			arr, _ := m[name].([]any)
			for len(arr) <= idx {
				arr = append(arr, map[string]any{})
			}
			m[name] = arr
			if last {
				arr[idx] = v
				return
			}
			cur = arr[idx]
		}
	}
}

// at sets activity.startDate.
func at(startDate string) mod { return set("activity.startDate", startDate) }

// patient sets the first resource's patientId.
func patient(id any) mod { return set("resources[0].patient.patientId", id) }
