package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"golang.org/x/term"
)

// newFlags returns a flag set for a subcommand whose usage text goes to stderr.
func newFlags(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: vakt %s\n\nFlags (each also read from the VAKT_ variable named after it, e.g. --data from VAKT_DATA):\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args and then fills every flag that was not given from its VAKT_ twin
// (--max-batch ↔ VAKT_MAX_BATCH). A flag named in secretFlags may also come from a file named by
// VAKT_<NAME>_FILE, so that secrets need not sit in the environment. Flags win over variables.
func parse(fs *flag.FlagSet, args []string, secretFlags ...string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		env := "VAKT_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s: %w", env, e)
			}
			return
		}
		for _, s := range secretFlags {
			if s != f.Name {
				continue
			}
			if path, ok := os.LookupEnv(env + "_FILE"); ok {
				b, e := os.ReadFile(path)
				if e != nil {
					err = fmt.Errorf("%s_FILE: %w", env, e)
					return
				}
				if e := fs.Set(f.Name, strings.TrimSpace(string(b))); e != nil {
					err = fmt.Errorf("%s_FILE: %w", env, e)
				}
			}
		}
	})
	return err
}

// stringList is a flag that may be repeated.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// newLogger returns the process logger: JSON for machines, text when a person watches a
// terminal, unless format says otherwise.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	if format == "auto" {
		format = "json"
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			format = "text"
		}
	}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be auto, json or text")
}

// isTerminal reports whether w is a terminal (for progress bars).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
