package synth_test

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/synth"
)

const provider ident.HSAID = "SE2321000016-0001"

var stockholm = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		panic(err)
	}
	return loc
}()

// small is a configuration that builds quickly.
func small(entries int) synth.Config {
	return synth.Config{Seed: 42, CareProvider: provider, Entries: entries, Persons: 20_000, Staff: 400, Units: 40}
}

func mustNew(t testing.TB, cfg synth.Config) *synth.Generator {
	t.Helper()
	g, err := synth.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return g
}

func all(g *synth.Generator) []accesslog.Entry {
	var out []accesslog.Entry
	for {
		e, ok := g.Next()
		if !ok {
			return out
		}
		out = append(out, e)
	}
}

func TestNewConfigErrors(t *testing.T) {
	ok := small(10)
	tests := []struct {
		name string
		edit func(*synth.Config)
	}{
		{"no care provider", func(c *synth.Config) { c.CareProvider = "" }},
		{"care provider not an HSA-id", func(c *synth.Config) { c.CareProvider = "Region Exempel" }},
		{"care provider with whitespace", func(c *synth.Config) { c.CareProvider = " SE2321000016-0001" }},
		{"care provider too long", func(c *synth.Config) { c.CareProvider = "SE2321000016-0123456789012345678901" }},
		{"no entries", func(c *synth.Config) { c.Entries = 0 }},
		{"negative entries", func(c *synth.Config) { c.Entries = -1 }},
		{"negative days", func(c *synth.Config) { c.Days = -1 }},
		{"too many days", func(c *synth.Config) { c.Days = synth.MaxDays + 1 }},
		{"negative persons", func(c *synth.Config) { c.Persons = -1 }},
		{"too many persons", func(c *synth.Config) { c.Persons = synth.MaxPersons + 1 }},
		{"negative staff", func(c *synth.Config) { c.Staff = -1 }},
		{"staff too many for persons", func(c *synth.Config) { c.Persons, c.Staff = 1000, 251 }},
		{"more units than staff", func(c *synth.Config) { c.Staff, c.Units = 10, 11 }},
		{"too many units", func(c *synth.Config) { c.Persons, c.Staff, c.Units = 100_000, 10_000, synth.MaxUnits+1 }},
		{"negative units", func(c *synth.Config) { c.Units = -3 }},
		{"too many systems", func(c *synth.Config) { c.Systems = synth.MaxSystems + 1 }},
		{"negative systems", func(c *synth.Config) { c.Systems = -1 }},
		{"provider name with control character", func(c *synth.Config) { c.CareProviderName = "Region\nExempel" }},
		{"provider name too long", func(c *synth.Config) { c.CareProviderName = strings.Repeat("å", accesslog.MaxTextLen+1) }},
		{"provider name not UTF-8", func(c *synth.Config) { c.CareProviderName = "Region \xff" }},
		{"start before 1901", func(c *synth.Config) { c.Start = time.Date(1850, 1, 1, 0, 0, 0, 0, time.UTC) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.edit(&cfg)
			g, err := synth.New(cfg)
			if err == nil {
				t.Fatalf("New succeeded, want an error")
			}
			if g != nil {
				t.Errorf("New returned a generator with an error")
			}
			if !errors.Is(err, synth.ErrConfig) {
				t.Errorf("error %v does not wrap ErrConfig", err)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	g := mustNew(t, synth.Config{CareProvider: provider, Entries: 1, Persons: 8000, Staff: 200})
	c := g.Config()
	if !c.Start.Equal(time.Date(2026, 10, 1, 0, 0, 0, 0, stockholm)) || c.Start.Location().String() != "Europe/Stockholm" {
		t.Errorf("Start = %v, want 2026-10-01 00:00 Europe/Stockholm", c.Start)
	}
	if c.Days != 30 || c.Units != 100 || c.Systems != 4 || c.CareProviderName != "Region Exempel" {
		t.Errorf("defaults not applied: %+v", c)
	}
	if len(g.Persons()) != 8000 || len(g.Staff()) != 200 || len(g.Units()) != 100 || len(g.Systems()) != 4 {
		t.Errorf("sizes: %d persons, %d staff, %d units, %d systems",
			len(g.Persons()), len(g.Staff()), len(g.Units()), len(g.Systems()))
	}
}

func TestDeterministic(t *testing.T) {
	gen := func(seed uint64) ([]byte, *synth.Generator) {
		cfg := small(3000)
		cfg.Seed = seed
		g := mustNew(t, cfg)
		var buf bytes.Buffer
		if _, err := synth.WriteNDJSON(&buf, g); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes(), g
	}
	a, ga := gen(1)
	b, gb := gen(1)
	if !bytes.Equal(a, b) {
		t.Fatal("same Config gave different NDJSON")
	}
	pa, pb := ga.Persons(), gb.Persons()
	for i := range pa {
		if pa[i].PersonID != pb[i].PersonID || pa[i].Name() != pb[i].Name() || pa[i].Address != pb[i].Address {
			t.Fatalf("person %d differs between runs", i)
		}
	}
	if !slices.EqualFunc(ga.Staff(), gb.Staff(), func(x, y synth.StaffMember) bool {
		return x.HSAID == y.HSAID && x.PersonID == y.PersonID && slices.Equal(x.Units, y.Units)
	}) {
		t.Error("staff differ between runs")
	}
	if !slices.Equal(ga.Units(), gb.Units()) {
		t.Error("units differ between runs")
	}
	if c, _ := gen(2); bytes.Equal(a, c) {
		t.Error("different seeds gave the same NDJSON")
	}
}

// TestValidationRoundTrip decodes and validates every entry the way the service does and
// checks that the canonical bytes survive.
func TestValidationRoundTrip(t *testing.T) {
	for _, systems := range []int{1, 4} {
		cfg := small(3000)
		cfg.Systems = systems
		g := mustNew(t, cfg)
		for i, e := range all(g) {
			content := accesslog.Prepare(e).Content
			drafts, err := accesslog.DecodeDrafts(bytes.NewReader(content), accesslog.FramingNDJSON, 10)
			if err != nil {
				t.Fatalf("entry %d: decode: %v\n%s", i, err, content)
			}
			if len(drafts) != 1 {
				t.Fatalf("entry %d: decoded %d drafts", i, len(drafts))
			}
			v, probs := drafts[0].Validate(0, accesslog.ValidateOptions{})
			if len(probs) > 0 {
				t.Fatalf("entry %d: problems %v\n%s", i, probs, content)
			}
			if again := accesslog.Prepare(v).Content; !bytes.Equal(again, content) {
				t.Fatalf("entry %d: round trip changed the bytes\n got %s\nwant %s", i, again, content)
			}
		}
	}
}

func TestCountOrderAndPeriod(t *testing.T) {
	tests := []struct {
		name    string
		entries int
		days    int
		start   time.Time
	}{
		{"one entry", 1, 1, time.Time{}},
		{"two entries", 2, 30, time.Time{}},
		{"one day", 2000, 1, time.Date(2026, 11, 3, 0, 0, 0, 0, stockholm)},
		{"across the end of summer time", 20_000, 7, time.Date(2026, 10, 22, 0, 0, 0, 0, stockholm)},
		{"across the start of summer time", 5000, 3, time.Date(2027, 3, 27, 0, 0, 0, 0, stockholm)},
		{"start not on the hour, in UTC", 5000, 2, time.Date(2026, 12, 23, 9, 17, 33, 123456789, time.UTC)},
		{"default period", 50_000, 0, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := small(tt.entries)
			cfg.Days, cfg.Start = tt.days, tt.start
			g := mustNew(t, cfg)
			c := g.Config()
			start, end := c.Start, c.Start.AddDate(0, 0, c.Days)
			entries := all(g)
			if len(entries) != tt.entries {
				t.Fatalf("got %d entries, want %d", len(entries), tt.entries)
			}
			for range 2 {
				if _, ok := g.Next(); ok {
					t.Fatal("Next returned an entry after the last")
				}
			}
			prev := start
			for i, e := range entries {
				ts := e.Activity.StartDate
				if ts.Location() != time.UTC {
					t.Fatalf("entry %d: startDate not in UTC", i)
				}
				if ts.Before(prev) {
					t.Fatalf("entry %d: %v before the previous entry's %v", i, ts, prev)
				}
				if !ts.Before(end) {
					t.Fatalf("entry %d: %v not before the end %v", i, ts, end)
				}
				prev = ts
			}
			if len(entries) > 1000 {
				// Spread over the period, not bunched at one end.
				span := end.Sub(start)
				if first := entries[len(entries)/100].Activity.StartDate.Sub(start); first > span/10 {
					t.Errorf("1st percentile at %v of %v", first, span)
				}
				if last := end.Sub(entries[len(entries)*99/100].Activity.StartDate); last > span/10 {
					t.Errorf("99th percentile %v before the end of %v", last, span)
				}
			}
		})
	}
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestLogIDsUnique(t *testing.T) {
	g := mustNew(t, small(100_000))
	seen := make(map[string]bool, 100_000)
	for i, e := range all(g) {
		if !uuidV4.MatchString(e.LogID) {
			t.Fatalf("entry %d: logId %q is not a version 4 UUID", i, e.LogID)
		}
		if seen[e.LogID] {
			t.Fatalf("entry %d: duplicate logId %s", i, e.LogID)
		}
		seen[e.LogID] = true
	}
}

func TestPopulation(t *testing.T) {
	cfg := small(1)
	cfg.Persons = 50_000
	g := mustNew(t, cfg)
	persons := g.Persons()
	y, m, d := g.Config().Start.Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, time.UTC) // BirthDate is a date at midnight UTC
	seen := make(map[int64]bool, len(persons))
	given, family := map[string]bool{}, map[string]bool{}
	var coord, deceased, protected, adults int
	var ages [11]int
	households := map[int]string{}
	for i, p := range persons {
		k := p.PersonID.Key()
		if k == 0 {
			t.Fatalf("person %d: no personnummer", i)
		}
		if seen[k] {
			t.Fatalf("person %d: duplicate number", i)
		}
		seen[k] = true
		if _, err := ident.ParsePersonID(p.PersonID.Extension(), time.Time{}); err != nil {
			t.Fatalf("person %d: number does not parse: %v", i, err)
		}
		if bd, _ := p.PersonID.BirthDate(); !bd.Equal(p.BirthDate) {
			t.Fatalf("person %d: BirthDate %v, number says %v", i, p.BirthDate, bd)
		}
		ext := p.PersonID.Extension()
		if female := (ext[10]-'0')%2 == 0; female != p.Female {
			t.Fatalf("person %d: Female %v does not match the number", i, p.Female)
		}
		age := start.Year() - p.BirthDate.Year()
		if p.BirthDate.After(start) || age > 101 {
			t.Fatalf("person %d: born %v", i, p.BirthDate)
		}
		ages[min(age/10, 10)]++
		if age >= 18 {
			adults++
		}
		if p.PersonID.Kind() == ident.CoordinationNumber {
			coord++
		}
		if !p.Deceased.IsZero() {
			deceased++
			if p.Deceased.Before(p.BirthDate) {
				t.Fatalf("person %d: died before birth", i)
			}
		}
		if p.ProtectedIdentity {
			protected++
		}
		if p.GivenName == "" || p.FamilyName == "" || p.Address == "" {
			t.Fatalf("person %d: missing name or address", i)
		}
		if a, ok := households[p.Household]; ok && a != p.Address {
			t.Fatalf("person %d: household members at different addresses", i)
		}
		households[p.Household] = p.Address
		given[p.GivenName], family[p.FamilyName] = true, true
	}
	n := float64(len(persons))
	between(t, "adults", float64(adults)/n, 0.70, 0.85)
	between(t, "aged 0-9", float64(ages[0])/n, 0.08, 0.16)
	between(t, "aged 80-89", float64(ages[8])/n, 0.02, 0.08)
	between(t, "samordningsnummer", float64(coord)/n, 0.004, 0.02)
	between(t, "deceased", float64(deceased)/n, 0.002, 0.02)
	between(t, "protected identity", float64(protected)/n, 0.0002, 0.01)
	between(t, "persons per household", n/float64(len(households)), 1.8, 2.5)
	if len(given) < 60 || len(family) < 60 {
		t.Errorf("%d given and %d family names in use, want at least 60 of each", len(given), len(family))
	}
}

func between(t *testing.T, what string, got, lo, hi float64) {
	t.Helper()
	if got < lo || got > hi {
		t.Errorf("%s: %.4f, want between %.4f and %.4f", what, got, lo, hi)
	}
}

func TestOrganisation(t *testing.T) {
	tests := []struct {
		name     string
		provider ident.HSAID
	}{
		{"production id", provider},
		{"long issuer prefix and 12-digit organisation number", "TSTNMT162321000016-B1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := small(1)
			cfg.CareProvider = tt.provider
			g := mustNew(t, cfg)
			base := strings.TrimSuffix(string(tt.provider), "B1")
			base = strings.TrimSuffix(base, "0001")
			ids := map[ident.HSAID]bool{tt.provider: true}
			check := func(what string, id ident.HSAID) {
				t.Helper()
				if p, err := ident.ParseHSAID(string(id)); err != nil || p != id {
					t.Fatalf("%s %q: %v", what, id, err)
				}
				if !strings.HasPrefix(string(id), base) {
					t.Fatalf("%s %q not under %q", what, id, base)
				}
				if ids[id] {
					t.Fatalf("%s %q used twice", what, id)
				}
				ids[id] = true
			}
			systems := g.Systems()
			if len(systems) != 4 {
				t.Errorf("%d systems, want 4", len(systems))
			}
			for _, s := range systems {
				check("system", s.HSAID)
			}
			units := map[ident.HSAID]bool{}
			names := map[string]bool{}
			allHours := 0
			for _, u := range g.Units() {
				check("unit", u.HSAID)
				units[u.HSAID] = true
				if names[u.Name] || u.Name == "" {
					t.Errorf("unit name %q empty or used twice", u.Name)
				}
				names[u.Name] = true
				if u.AllHours {
					allHours++
				}
				if !slices.ContainsFunc(systems, func(s synth.System) bool { return s.HSAID == u.System }) {
					t.Errorf("unit %s uses unknown system %s", u.Name, u.System)
				}
			}
			if allHours == 0 || allHours > len(units)/2 {
				t.Errorf("%d of %d units open around the clock", allHours, len(units))
			}
			persons := map[ident.PersonID]synth.Person{}
			for _, p := range g.Persons() {
				persons[p.PersonID] = p
			}
			titles := map[string]int{}
			staff := g.Staff()
			for _, s := range staff {
				check("staff member", s.HSAID)
				p, ok := persons[s.PersonID]
				if !ok {
					t.Fatalf("staff member %s is not a person of the population", s.HSAID)
				}
				if p.GivenName != s.GivenName || p.FamilyName != s.FamilyName {
					t.Errorf("staff member %s: name differs from the person's", s.HSAID)
				}
				if age := g.Config().Start.Year() - p.BirthDate.Year(); age < 19 || age > 68 || !p.Deceased.IsZero() {
					t.Errorf("staff member %s: aged %d, deceased %v", s.HSAID, age, p.Deceased)
				}
				if len(s.Units) < 1 || len(s.Units) > 2 {
					t.Errorf("staff member %s: %d units", s.HSAID, len(s.Units))
				}
				for _, u := range s.Units {
					if !units[u] {
						t.Errorf("staff member %s: unknown unit %s", s.HSAID, u)
					}
				}
				if s.Assignment == "" {
					t.Errorf("staff member %s: no assignment", s.HSAID)
				}
				titles[s.Title]++
			}
			n := float64(len(staff))
			between(t, "Läkare", float64(titles["Läkare"])/n, 0.15, 0.35)
			between(t, "Sjuksköterska", float64(titles["Sjuksköterska"])/n, 0.2, 0.45)
			between(t, "Undersköterska", float64(titles["Undersköterska"])/n, 0.1, 0.3)
			for _, title := range []string{"Medicinsk sekreterare", "Fysioterapeut", "Psykolog", "Kurator", "Barnmorska"} {
				if titles[title] == 0 {
					t.Errorf("no %s", title)
				}
			}
		})
	}
}

// TestDistributions checks the shape of the data with loose bounds.
func TestDistributions(t *testing.T) {
	cfg := small(200_000)
	cfg.Persons = 50_000
	cfg.Staff = 1000
	cfg.Units = 60
	g := mustNew(t, cfg)
	units := map[ident.HSAID]synth.Unit{}
	catchment := map[ident.HSAID]map[ident.PersonID]bool{}
	for _, u := range g.Units() {
		units[u.HSAID] = u
		set := map[ident.PersonID]bool{}
		for _, p := range g.Catchment(u.HSAID) {
			set[p] = true
		}
		catchment[u.HSAID] = set
	}
	staffPerson := map[ident.HSAID]ident.PersonID{}
	staffUnits := map[ident.HSAID][]ident.HSAID{}
	for _, s := range g.Staff() {
		staffPerson[s.HSAID] = s.PersonID
		staffUnits[s.HSAID] = s.Units
	}
	var (
		n                                    float64
		acts                                 = map[accesslog.ActivityType]float64{}
		purposes                             = map[accesslog.Purpose]float64{}
		resources                            [accesslog.MaxResources + 1]float64
		twoPatients, level, patientName, own float64
		inCatchment, sameResourceUnit, nres  float64
		dayUnit, dayUnitOfficeHours, dayOdd  float64
		allHoursUnit, allHoursNight          float64
		allHoursByHour                       [24]float64
		sizes                                []int
		perPatient                           = map[ident.PersonID]int{}
		unitSystems                          = map[ident.HSAID]map[ident.HSAID]int{}
		resourceTypes                        = map[string]float64{}
	)
	for {
		e, ok := g.Next()
		if !ok {
			break
		}
		n++
		acts[e.Activity.Type]++
		purposes[e.Activity.Purpose]++
		resources[len(e.Resources)]++
		if e.Activity.Level != "" || e.Activity.Args != "" {
			level++
			if e.Activity.Level == "" || e.Activity.Args == "" {
				t.Fatal("activityLevel without activityArgs or the reverse")
			}
		}
		if e.Activity.Type == accesslog.ActivityEmergencyOpen && e.Activity.Args == "" {
			t.Fatal("nödöppning without a reason")
		}
		patients := e.Patients()
		if len(patients) > 1 {
			twoPatients++
		}
		if e.Resources[0].Patient.Name != "" {
			patientName++
		}
		for _, p := range patients {
			perPatient[p]++
		}
		if !slices.Contains(staffUnits[e.User.ID], e.User.CareUnit.ID) {
			t.Fatal("user acts for a unit they do not work at")
		}
		if patients[0] == staffPerson[e.User.ID] {
			own++
		}
		if catchment[e.User.CareUnit.ID][patients[0]] {
			inCatchment++
		}
		seenType := map[string]bool{}
		for _, r := range e.Resources {
			if r.CareProvider.ID != provider {
				t.Fatal("resource of another care provider")
			}
			if _, ok := units[r.CareUnit.ID]; !ok {
				t.Fatal("resource of an unknown unit")
			}
			if seenType[r.Type] {
				t.Fatalf("resource type %s twice in one entry", r.Type)
			}
			seenType[r.Type] = true
			resourceTypes[r.Type]++
			nres++
			if r.CareUnit.ID == e.User.CareUnit.ID {
				sameResourceUnit++
			}
		}
		u, ok := units[e.User.CareUnit.ID]
		if !ok || e.User.CareProvider.ID != provider {
			t.Fatal("user acts for an unknown unit or another provider")
		}
		if unitSystems[u.HSAID] == nil {
			unitSystems[u.HSAID] = map[ident.HSAID]int{}
		}
		unitSystems[u.HSAID][e.System.ID]++
		lt := e.Activity.StartDate.In(stockholm)
		workday := lt.Weekday() != time.Saturday && lt.Weekday() != time.Sunday
		if u.AllHours {
			allHoursUnit++
			allHoursByHour[lt.Hour()]++
			if lt.Hour() < 6 {
				allHoursNight++
			}
		} else {
			dayUnit++
			if workday && lt.Hour() >= 7 && lt.Hour() < 18 {
				dayUnitOfficeHours++
			}
			if lt.Hour() < 6 || lt.Hour() >= 21 {
				dayOdd++
			}
		}
		sizes = append(sizes, len(accesslog.Prepare(e).Content))
	}

	between(t, "Läsa", acts[accesslog.ActivityRead]/n, 0.74, 0.82)
	between(t, "Skriva", acts[accesslog.ActivityWrite]/n, 0.10, 0.14)
	between(t, "Signera", acts[accesslog.ActivitySign]/n, 0.045, 0.075)
	between(t, "Utskrift", acts[accesslog.ActivityPrint]/n, 0.012, 0.03)
	between(t, "Vidimera and Radera", (acts[accesslog.ActivityCountersign]+acts[accesslog.ActivityDelete])/n, 0.01, 0.03)
	between(t, "Nödöppning", acts[accesslog.ActivityEmergencyOpen]/n, 0.00002, 0.002)
	between(t, "Vård och behandling", purposes[accesslog.PurposeCare]/n, 0.88, 0.98)
	between(t, "Kvalitetssäkring", purposes[accesslog.PurposeQualityAssurance]/n, 0.005, 0.08)
	between(t, "Administration", purposes[accesslog.PurposeAdministration]/n, 0.005, 0.08)
	between(t, "one resource", resources[1]/n, 0.8, 0.92)
	between(t, "four resources", resources[4]/n, 0.002, 0.05)
	between(t, "two patients", twoPatients/n, 0.002, 0.01)
	between(t, "activityLevel", level/n, 0.01, 0.08)
	between(t, "patientName", patientName/n, 0.3, 0.7)
	between(t, "own record", own/n, 0.00001, 0.002)
	between(t, "patient in the unit's catchment", inCatchment/n, 0.8, 0.97)
	between(t, "resource from the user's unit", sameResourceUnit/nres, 0.6, 0.9)
	between(t, "Journalanteckning", resourceTypes["Journalanteckning"]/nres, 0.25, 0.45)
	for _, typ := range []string{"Diagnos", "Läkemedel", "Labbsvar", "Remiss", "Vaccination", "Röntgensvar", "Vårdplan", "Anteckning"} {
		between(t, typ, resourceTypes[typ]/nres, 0.005, 0.25)
	}
	between(t, "daytime units in office hours", dayUnitOfficeHours/dayUnit, 0.85, 0.99)
	between(t, "daytime units at odd hours", dayOdd/dayUnit, 0.0005, 0.05)
	between(t, "24/7 units at night", allHoursNight/allHoursUnit, 0.05, 0.2)
	for h, c := range allHoursByHour {
		if c == 0 {
			t.Errorf("24/7 units: no access at %02d", h)
		}
	}
	if allHoursByHour[3] > allHoursByHour[10]/2 {
		t.Errorf("24/7 units: no night dip (%v at 03, %v at 10)", allHoursByHour[3], allHoursByHour[10])
	}

	slices.Sort(sizes)
	if median := sizes[len(sizes)/2]; median < 450 || median > 700 {
		t.Errorf("median entry size %d bytes, want 450–700", median)
	}

	counts := make([]int, 0, len(perPatient))
	total := 0
	for _, c := range perPatient {
		counts = append(counts, c)
		total += c
	}
	slices.Sort(counts)
	slices.Reverse(counts)
	top := 0
	for _, c := range counts[:len(counts)/10] {
		top += c
	}
	between(t, "accesses to the top 10% of patients", float64(top)/float64(total), 0.35, 0.8)
	if median := counts[len(counts)/2]; median > 3 {
		t.Errorf("median accesses per patient %d, want few", median)
	}

	for id, bySystem := range unitSystems {
		sum, most := 0, 0
		for _, c := range bySystem {
			sum += c
			most = max(most, c)
		}
		if sum >= 500 && float64(most)/float64(sum) < 0.8 {
			t.Errorf("unit %s: main system has %d of %d entries", units[id].Name, most, sum)
		}
	}
}

func TestWriteNDJSON(t *testing.T) {
	g := mustNew(t, small(500))
	for range 100 {
		g.Next()
	}
	var buf bytes.Buffer
	n, err := synth.WriteNDJSON(&buf, g)
	if err != nil || n != 400 {
		t.Fatalf("WriteNDJSON = %d, %v; want 400 remaining entries", n, err)
	}
	lines := bytes.SplitAfter(buf.Bytes(), []byte("\n"))
	if len(lines) != 401 || len(lines[400]) != 0 {
		t.Fatalf("%d lines, want 400 each ending in a newline", len(lines)-1)
	}
	drafts, err := accesslog.DecodeDrafts(bytes.NewReader(buf.Bytes()), accesslog.FramingNDJSON, 1000)
	if err != nil || len(drafts) != 400 {
		t.Fatalf("decoding the output: %d drafts, %v", len(drafts), err)
	}
	if n, err := synth.WriteNDJSON(&buf, g); n != 0 || err != nil {
		t.Errorf("second WriteNDJSON = %d, %v; want 0, nil", n, err)
	}
	g = mustNew(t, small(500))
	if _, err := synth.WriteNDJSON(failingWriter{}, g); err == nil {
		t.Error("write error not returned")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

// BenchmarkNext measures generating one entry (without encoding) with the default population.
func BenchmarkNext(b *testing.B) {
	g := mustNew(b, synth.Config{Seed: 1, CareProvider: provider, Entries: max(b.N, 1)})
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, ok := g.Next(); !ok {
			b.Fatal("ran out of entries")
		}
	}
}

// BenchmarkWriteNDJSON measures generating and encoding one entry.
func BenchmarkWriteNDJSON(b *testing.B) {
	g := mustNew(b, synth.Config{Seed: 1, CareProvider: provider, Entries: max(b.N, 1)})
	b.ReportAllocs()
	b.ResetTimer()
	if _, err := synth.WriteNDJSON(io.Discard, g); err != nil {
		b.Fatal(err)
	}
}

func TestExtremeConfigs(t *testing.T) {
	tests := []struct {
		name string
		cfg  synth.Config
	}{
		{"tiniest", synth.Config{CareProvider: provider, Entries: 300, Persons: 4, Staff: 1, Units: 1, Systems: 1}},
		{"a few", synth.Config{CareProvider: provider, Entries: 300, Persons: 40, Staff: 10, Units: 7, Systems: 2}},
		{"many units", synth.Config{CareProvider: provider, Entries: 3000, Persons: 20_000, Staff: synth.MaxUnits, Units: synth.MaxUnits}},
		{"ten years", synth.Config{CareProvider: provider, Entries: 3000, Persons: 1000, Staff: 20, Units: 5, Days: synth.MaxDays}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := mustNew(t, tt.cfg)
			for _, e := range all(g) {
				c := accesslog.Prepare(e).Content
				d, err := accesslog.DecodeDrafts(bytes.NewReader(c), accesslog.FramingNDJSON, 1)
				if err != nil {
					t.Fatal(err)
				}
				if _, probs := d[0].Validate(0, accesslog.ValidateOptions{}); len(probs) > 0 {
					t.Fatalf("%v\n%s", probs, c)
				}
			}
		})
	}
}
