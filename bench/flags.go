package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/logcontrol"
	"github.com/vakt/vakt/register"
	"github.com/vakt/vakt/sqlite"
	"github.com/vakt/vakt/synth"
)

// FlagsConfig describes a benchmark of the automatic flags of log controls (issue 8): a month of
// synthetic accesses in the embedded engine, with registers of staff and persons the size of a
// large region's.
type FlagsConfig struct {
	Seed    uint64
	Dir     string // the dataset is built here once and reused while the sizes match
	Entries int    // accesses in the month
	Persons int    // persons register (the population, staff included)
	Staff   int    // staff register
	Units   int    // care units
	Rounds  int    // measured runs of each kind; the medians count
	Check   bool   // also compute through logcontrol.ExportedEntries and require the same result
	Log     io.Writer
}

// flagsSigning signs the dataset's checkpoints with a fixed key, so that a later run can open
// the dataset it reuses; it is a benchmark's throwaway log, not one anybody verifies.
var flagsSigning = &sqlite.Signing{Instance: "bench.vakt", Secret: []byte("vakt bench flags: a fixed, public key seed")}

type flagsMeta struct {
	Seed                           uint64
	Entries, Persons, Staff, Units int
	Start                          time.Time
	Days                           int
	BuildSeconds, RegistersSeconds float64
}

// Flags builds (or reuses) the dataset and measures, on the same entries and in the same run:
//
//   - the export scan, the baseline: the period widened by the explanation window read once
//     through the Store's streaming export, every entry decoded and validated (what reading
//     the log cost a flag computation before projections, per pass);
//   - the projection scan: the same period through Store.ScanAccesses, with no rule;
//   - the whole computation of every flag kind and explanation (logcontrol.Compute as the API
//     runs it, registers loaded included).
//
// With Check it also computes the flags through logcontrol.ExportedEntries, the straightforward
// path, and fails unless both results are identical.
func Flags(ctx context.Context, cfg FlagsConfig) (*Report, error) {
	dataDir := filepath.Join(cfg.Dir, "tenants")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	cp := ident.HSAID("SE2321000016-0001")
	meta, err := buildFlagsDataset(ctx, cfg, dataDir, cp)
	if err != nil {
		return nil, err
	}
	st, err := sqlite.OpenStore(ctx, filepath.Join(dataDir, "bench.db"), storeOptions("bench", flagsSigning))
	if err != nil {
		return nil, err
	}
	defer st.Close()
	regs := sqlite.NewRegisters(dataDir)
	defer regs.Close()
	rs, err := regs.Registers(ctx, "bench")
	if err != nil {
		return nil, err
	}
	if err := warmFile(filepath.Join(dataDir, "bench.db")); err != nil {
		return nil, err
	}
	if err := warmFile(sqlite.RegistersPath(dataDir, "bench")); err != nil {
		return nil, err
	}
	src := logcontrol.StoreEntries{Store: st}
	// A month in Swedish days: a reused dataset's Start comes back from JSON with a fixed
	// offset, which would end the month an hour early across the change to winter time.
	start := meta.Start.In(logcontrol.Stockholm)
	q := logcontrol.Query{From: start, To: start.AddDate(0, 0, meta.Days)}
	from, to := q.From.Add(-logcontrol.ExplainWindow), q.To.Add(logcontrol.ExplainWindow)

	rounds := max(cfg.Rounds, 1)
	var exports, projections, computes, loads []time.Duration
	var exportCPU, projectionCPU, computeCPU []time.Duration
	var exported, projected int
	var res logcontrol.Result
	var peak uint64
	for i := range rounds {
		runtime.GC()
		t0, c0 := time.Now(), processCPU()
		exported = 0
		err := accesslog.ExportAccesses(ctx, st, from, to, func(a *accesslog.Access) error {
			exported++
			return nil
		})
		if err != nil {
			return nil, err
		}
		exports = append(exports, time.Since(t0))
		exportCPU = append(exportCPU, processCPU()-c0)

		runtime.GC()
		t0, c0 = time.Now(), processCPU()
		projected = 0
		err = st.ScanAccesses(ctx, from, to, func(a *accesslog.Access) error {
			projected++
			return nil
		})
		if err != nil {
			return nil, err
		}
		projections = append(projections, time.Since(t0))
		projectionCPU = append(projectionCPU, processCPU()-c0)

		runtime.GC()
		t0 = time.Now()
		if err := loadAllRegisters(ctx, rs); err != nil {
			return nil, err
		}
		loads = append(loads, time.Since(t0))

		runtime.GC()
		t0, c0 = time.Now(), processCPU()
		stop := sampleHeap(&peak)
		res, err = logcontrol.Compute(ctx, src, register.Registers{Store: rs}, q, nil)
		stop()
		if err != nil {
			return nil, err
		}
		computes = append(computes, time.Since(t0))
		computeCPU = append(computeCPU, processCPU()-c0)
		fmt.Fprintf(cfg.Log, "  round %d: export scan %s (CPU %s), projection scan %s (CPU %s), registers read %s, flags %s (CPU %s)\n",
			i+1, round(exports[i]), round(exportCPU[i]), round(projections[i]), round(projectionCPU[i]), round(loads[i]), round(computes[i]), round(computeCPU[i]))
	}
	if exported != projected {
		return nil, fmt.Errorf("the export scan read %d entries, the projection scan %d", exported, projected)
	}
	check := "not run (--check)"
	if cfg.Check {
		runtime.GC()
		t0 := time.Now()
		ref, err := logcontrol.Compute(ctx, logcontrol.ExportedEntries{Store: st}, register.Registers{Store: rs}, q, nil)
		if err != nil {
			return nil, err
		}
		if !reflect.DeepEqual(ref, res) {
			return nil, fmt.Errorf("the flags computed from exported entries differ from those computed from projections")
		}
		check = fmt.Sprintf("identical to the straightforward path (entries exported and decoded whole, %s)", round(time.Since(t0)))
	}
	// Flags of new entries: a computation is a read of the log, so an entry is judged by the
	// first search after its Append returns; what remains is how long a search over the
	// latest hour and day takes.
	var recent []string
	for _, d := range []time.Duration{time.Hour, 24 * time.Hour} {
		rq := logcontrol.Query{From: q.To.Add(-d), To: q.To}
		t0 := time.Now()
		r, err := logcontrol.Compute(ctx, src, register.Registers{Store: rs}, rq, nil)
		if err != nil {
			return nil, err
		}
		n := 0
		for _, u := range r.Units {
			n += u.Accesses
		}
		recent = append(recent, fmt.Sprintf("last %s: %s (%d accesses, %d flags)", d, round(time.Since(t0)), n, len(r.Flags)))
	}
	accesses, explained := 0, 0
	for _, u := range res.Units {
		accesses += u.Accesses
		explained += u.Explained
	}
	byKind := map[logcontrol.Kind]int{}
	for _, f := range res.Flags {
		byKind[f.Kind]++
	}
	var kinds []string
	for _, k := range logcontrol.Kinds() {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, byKind[k]))
	}
	base := medianDuration(exports)
	rep := &Report{}
	rep.Add("machine", "%s", Machine())
	rep.Add("load average at the end", "%s", loadAverage())
	rep.Add("dataset", "%d entries over %d days from %s, %d persons, %d staff, %d units (built in %.0f s, registers imported in %.0f s)",
		meta.Entries, meta.Days, meta.Start.Format(time.DateOnly), meta.Persons, meta.Staff, meta.Units, meta.BuildSeconds, meta.RegistersSeconds)
	rep.Add("export scan (baseline)", "%s (runs %s; CPU %s): %d entries of the widened period exported, decoded and validated",
		round(base), durations(exports), durations(exportCPU), exported)
	rep.Add("projection scan", "%s (runs %s; CPU %s); %.2f× the export scan", round(medianDuration(projections)), durations(projections),
		durations(projectionCPU), medianDuration(projections).Seconds()/base.Seconds())
	rep.Add("registers read whole", "%s (runs %s): staff, then persons by every personnummer of the register (more than a month needs), watch list, units", round(medianDuration(loads)), durations(loads))
	rep.Add("flags and explanations", "%s (runs %s; CPU %s); %.2f× the export scan", round(medianDuration(computes)), durations(computes),
		durations(computeCPU), medianDuration(computes).Seconds()/base.Seconds())
	rep.Add("accesses judged", "%d (%.0f/s), %.1f %% explained, %d units·months", accesses, float64(accesses)/medianDuration(computes).Seconds(),
		100*float64(explained)/float64(max(accesses, 1)), len(res.Units))
	rep.Add("flags", "%d (truncated %v): %s", len(res.Flags), res.Truncated, strings.Join(kinds, ", "))
	rep.Add("flags of the latest entries", "%s", strings.Join(recent, "; "))
	rep.Add("check", "%s", check)
	rep.Add("peak heap during flags", "%d MiB", peak>>20)
	return rep, nil
}

// loadAllRegisters reads every register whole and decodes it: more than a computation reads
// (persons only for the patients and users of the period), to show the registers' share.
func loadAllRegisters(ctx context.Context, st register.Store) error {
	src := register.Registers{Store: st}
	var ids []ident.PersonID
	err := st.All(ctx, register.KindPersons, func(doc []byte) error {
		var p struct {
			PersonID string `json:"personId"`
		}
		if err := json.Unmarshal(doc, &p); err != nil {
			return err
		}
		id, err := ident.ParsePersonID(p.PersonID, time.Now())
		if err != nil {
			return err
		}
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return err
	}
	count := func() error { return nil }
	if err := src.Staff(ctx, func(*register.Staff) error { return count() }); err != nil {
		return err
	}
	if err := src.Persons(ctx, ids, func(*register.Person) error { return count() }); err != nil {
		return err
	}
	if err := src.Watchlist(ctx, func(*register.WatchEntry) error { return count() }); err != nil {
		return err
	}
	return src.Units(ctx, func(*register.Unit) error { return count() })
}

// loadAverage returns the first line of /proc/loadavg, where there is one: the machine is
// shared, and a figure means little without the load it was measured under.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

// sampleHeap records the largest live heap seen until stop is called.
func sampleHeap(peak *uint64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			*peak = max(*peak, m.HeapAlloc)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

func medianDuration(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func durations(ds []time.Duration) string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = round(d).String()
	}
	return strings.Join(out, " / ")
}

// buildFlagsDataset writes a month of synthetic accesses into the tenant file bench.db and the
// generator's staff and population into the tenant's registers, unless dataDir holds them
// already for the same sizes and seed.
func buildFlagsDataset(ctx context.Context, cfg FlagsConfig, dataDir string, cp ident.HSAID) (*flagsMeta, error) {
	metaPath := filepath.Join(dataDir, "flags.json")
	if b, err := os.ReadFile(metaPath); err == nil {
		var m flagsMeta
		if json.Unmarshal(b, &m) == nil && m.Seed == cfg.Seed && m.Entries == cfg.Entries && m.Persons == cfg.Persons && m.Staff == cfg.Staff && m.Units == cfg.Units {
			fmt.Fprintf(cfg.Log, "reusing the dataset of %s\n", cfg.Dir)
			return &m, nil
		}
	}
	for _, f := range []string{"flags.json", "bench.db", "bench.db-wal", "bench.db-shm", "bench.registers.db", "bench.registers.db-wal", "bench.registers.db-shm"} {
		if err := os.Remove(filepath.Join(dataDir, f)); err != nil && !os.IsNotExist(err) {
			return nil, err
		}
	}
	g, err := synth.New(synth.Config{Seed: cfg.Seed, CareProvider: cp, Entries: cfg.Entries, Persons: cfg.Persons, Staff: cfg.Staff, Units: cfg.Units})
	if err != nil {
		return nil, err
	}
	m := &flagsMeta{Seed: cfg.Seed, Entries: cfg.Entries, Persons: cfg.Persons, Staff: cfg.Staff, Units: cfg.Units,
		Start: g.Config().Start, Days: g.Config().Days}

	t0 := time.Now()
	if err := importRegisters(ctx, dataDir, cp, g); err != nil {
		return nil, err
	}
	m.RegistersSeconds = time.Since(t0).Seconds()
	fmt.Fprintf(cfg.Log, "  registers imported in %s\n", round(time.Since(t0)))

	t0 = time.Now()
	st, err := sqlite.OpenStore(ctx, filepath.Join(dataDir, "bench.db"), storeOptions("bench", flagsSigning))
	if err != nil {
		return nil, err
	}
	batch := make([]accesslog.Pending, 0, 1000)
	done := 0
	for {
		e, ok := g.Next()
		if ok {
			batch = append(batch, accesslog.Prepare(e))
		}
		if len(batch) == cap(batch) || (!ok && len(batch) > 0) {
			if _, err := st.Append(ctx, batch); err != nil {
				st.Close()
				return nil, err
			}
			done += len(batch)
			batch = batch[:0]
			if done%1_000_000 == 0 {
				fmt.Fprintf(cfg.Log, "  %d entries stored (%.0f/s)\n", done, float64(done)/time.Since(t0).Seconds())
			}
		}
		if !ok {
			break
		}
	}
	if err := st.Close(); err != nil {
		return nil, err
	}
	m.BuildSeconds = time.Since(t0).Seconds()
	b, _ := json.Marshal(m)
	return m, os.WriteFile(metaPath, b, 0o600)
}

// importRegisters imports the generator's staff (all at their units since 2015), its
// population (names, addresses, protected identity, dates of death) and a watch list of one
// person in 20,000, through the same import path as `vakt registers import`.
func importRegisters(ctx context.Context, dataDir string, cp ident.HSAID, g *synth.Generator) error {
	regs := sqlite.NewRegisters(dataDir)
	defer regs.Close()
	svc := register.Service{Stores: regs}
	imp := func(kind register.Kind, write func(enc *json.Encoder) error) error {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(write(json.NewEncoder(pw))) }()
		_, err := svc.ImportTenant(ctx, "bench", kind, register.ModeReplace, pr)
		pr.CloseWithError(err)
		if err != nil {
			return fmt.Errorf("import %s: %w", kind, err)
		}
		return nil
	}
	type unit struct {
		CareUnitID string `json:"careUnitId"`
		From       string `json:"from"`
	}
	err := imp(register.KindStaff, func(enc *json.Encoder) error {
		for _, s := range g.Staff() {
			units := make([]unit, len(s.Units))
			for i, u := range s.Units {
				units[i] = unit{string(u), "2015-01-01"}
			}
			err := enc.Encode(map[string]any{"hsaId": s.HSAID, "personId": s.PersonID.Extension(), "givenName": s.GivenName,
				"familyName": s.FamilyName, "careProviderId": cp, "units": units})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	persons := g.Persons()
	err = imp(register.KindPersons, func(enc *json.Encoder) error {
		for _, p := range persons {
			rec := map[string]any{"personId": p.PersonID.Extension(), "givenName": p.GivenName, "familyName": p.FamilyName}
			if street, rest, ok := strings.Cut(p.Address, ", "); ok && len(rest) > 7 {
				rec["address"] = map[string]string{"street": street, "postalCode": rest[:6], "city": rest[7:]}
			}
			if p.ProtectedIdentity {
				rec["protectedIdentity"] = true
			}
			if !p.Deceased.IsZero() {
				rec["deceasedDate"] = p.Deceased.Format(time.DateOnly)
			}
			if err := enc.Encode(rec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return imp(register.KindWatchlist, func(enc *json.Encoder) error {
		for i := 0; i < len(persons); i += 20_000 {
			if err := enc.Encode(map[string]string{"personId": persons[i].PersonID.Extension(), "reason": "Medialt intresse"}); err != nil {
				return err
			}
		}
		return nil
	})
}
