package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/synth"
)

func runGen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("gen", "gen --entries N --seed S --care-provider HSAID [--out FILE] [flags]", stderr)
	entries := fs.Int("entries", 100000, "number of entries")
	seed := fs.Uint64("seed", 1, "seed; the same flags always give the same output")
	cp := fs.String("care-provider", "SE2321000016-0001", "HSA-id of the care provider (vårdgivare) of all staff")
	cpName := fs.String("care-provider-name", "", "name of the care provider (default Region Exempel)")
	out := fs.String("out", "-", "output file, - for standard output")
	start := fs.String("start", "", "first day, YYYY-MM-DD (default "+synth.DefaultStart().Format(time.DateOnly)+")")
	days := fs.Int("days", 0, "days the entries span (default 30)")
	persons := fs.Int("persons", 0, "population size (default 200000)")
	staff := fs.Int("staff", 0, "staff members (default 2000)")
	units := fs.Int("units", 0, "care units (default 100)")
	compact := fs.Bool("compact", false, "leave out optional names and keep one resource: entries of about 520 bytes")
	if err := parse(fs, args); err != nil {
		return err
	}
	h, err := ident.ParseHSAID(*cp)
	if err != nil {
		return fmt.Errorf("--care-provider: %w", err)
	}
	cfg := synth.Config{Seed: *seed, CareProvider: h, CareProviderName: *cpName, Entries: *entries, Days: *days, Persons: *persons, Staff: *staff, Units: *units, Compact: *compact}
	if *start != "" {
		t, err := time.Parse(time.DateOnly, *start)
		if err != nil {
			return fmt.Errorf("--start: want YYYY-MM-DD")
		}
		cfg.Start = t
	}
	g, err := synth.New(cfg)
	if err != nil {
		return err
	}
	w := stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	n, err := synth.WriteNDJSON(bw, g)
	if err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if f, ok := w.(*os.File); ok && f != os.Stdout {
		if err := f.Sync(); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "wrote %d entries\n", n)
	return nil
}
