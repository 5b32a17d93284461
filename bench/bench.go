// Package bench measures vakt against the targets of the issues and against baselines measured
// in the same run on the same machine: ingest through HTTP versus the bare storage engine and
// raw SQLite, and query latency through the API versus the store itself. `vakt bench` runs it;
// docs/BENCHMARKS.md records its output with the exact commands.
//
// Benchmarks are not tests: nothing here asserts a speed.
package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/merkle"
	"github.com/vakt/vakt/sqlite"
	"github.com/vakt/vakt/synth"
)

// Server is a vakt service started for a benchmark.
type Server struct {
	URL          string
	WriterToken  string
	ReaderToken  string
	CareProvider ident.HSAID
	// Reviewer and ReviewerPassword log in to the web tool as a granskare of the tenant.
	Reviewer         string
	ReviewerPassword string
	Stop             func() error
}

// StartServer starts a vakt service on dataDir with one tenant owning careProvider and returns
// its URL and tokens; extra arguments go to `vakt serve`. cmd/vakt supplies it (a child process
// of the same binary), so the benchmark runs the real wiring with production defaults.
type StartServer func(ctx context.Context, dataDir string, careProvider ident.HSAID, serveArgs ...string) (*Server, error)

// Report collects result lines and prints them as a table.
type Report struct {
	Title string
	Lines [][2]string
}

// Add appends a result line.
func (r *Report) Add(name, format string, args ...any) {
	r.Lines = append(r.Lines, [2]string{name, fmt.Sprintf(format, args...)})
}

// Print writes the report.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "\n## %s\n\n", r.Title)
	width := 0
	for _, l := range r.Lines {
		width = max(width, len(l[0]))
	}
	for _, l := range r.Lines {
		fmt.Fprintf(w, "%-*s  %s\n", width, l[0], l[1])
	}
}

// Machine describes where a benchmark ran.
func Machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "model name") {
				model = strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		fmt.Sscanf(strings.SplitN(string(b), "\n", 2)[0], "MemTotal: %d kB", &kb)
		mem = fmt.Sprintf(", %.0f GiB RAM", float64(kb)/(1<<20))
	}
	return fmt.Sprintf("%d × %s%s, %s, %s/%s", runtime.NumCPU(), model, mem, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// generateBodies makes n synthetic entries over days days as NDJSON request bodies of batch
// entries each. Only the bodies are kept: they are one allocation per batch, so a large
// dataset does not load the garbage collector of the server under test in the same process.
func generateBodies(n, days, batch int, seed uint64, cp ident.HSAID) (bodies [][]byte, avgSize int, err error) {
	g, err := synth.New(synth.Config{Seed: seed, CareProvider: cp, Entries: n, Days: days})
	if err != nil {
		return nil, 0, err
	}
	var b bytes.Buffer
	var total, k int
	for {
		e, ok := g.Next()
		if !ok {
			break
		}
		p := accesslog.Prepare(e)
		total += len(p.Content)
		b.Write(p.Content)
		b.WriteByte('\n')
		if k++; k == batch {
			bodies = append(bodies, bytes.Clone(b.Bytes()))
			b.Reset()
			k = 0
		}
	}
	if k > 0 {
		bodies = append(bodies, bytes.Clone(b.Bytes()))
	}
	return bodies, total / max(n, 1), nil
}

// pendingsFrom decodes, validates and prepares the entries of bodies exactly as the service
// would, for the runs that bypass HTTP.
func pendingsFrom(bodies [][]byte) ([][]accesslog.Pending, error) {
	out := make([][]accesslog.Pending, len(bodies))
	for i, body := range bodies {
		drafts, err := accesslog.DecodeDrafts(bytes.NewReader(body), accesslog.FramingNDJSON, 1<<20)
		if err != nil {
			return nil, err
		}
		out[i] = make([]accesslog.Pending, len(drafts))
		for j := range drafts {
			e, probs := drafts[j].Validate(j, accesslog.ValidateOptions{})
			if len(probs) > 0 {
				return nil, fmt.Errorf("synthetic entry invalid: %v", probs[0])
			}
			out[i][j] = accesslog.Prepare(e)
		}
	}
	return out, nil
}

// latencies summarises durations.
type latencies []time.Duration

func (l latencies) quantile(q float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	i := int(q * float64(len(s)-1))
	return s[i]
}

func (l latencies) String() string {
	return fmt.Sprintf("p50 %s  p99 %s  max %s  (n=%d)", round(l.quantile(.5)), round(l.quantile(.99)), round(l.quantile(1)), len(l))
}

func round(d time.Duration) time.Duration {
	switch {
	case d > time.Second:
		return d.Round(10 * time.Millisecond)
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// dirSize sums the sizes of files under dir whose names start with prefix.
func dirSize(dir string) int64 {
	var n int64
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && !fi.IsDir() {
			n += fi.Size()
		}
	}
	return n
}

// storeOptions are the options of stores the benchmark opens itself: tamper evidence on, as
// `vakt serve` runs them, with the given signing configuration or a random one.
func storeOptions(tenant string, signing *sqlite.Signing) sqlite.Options {
	if signing == nil {
		secret := make([]byte, 32)
		rand.Read(secret)
		signing = &sqlite.Signing{Instance: "bench.vakt", Secret: secret}
	}
	origin := merkle.Origin(signing.Instance, tenant)
	kp, err := merkle.DeriveKey(signing.Secret, origin)
	if err != nil {
		panic(err)
	}
	return sqlite.Options{Origin: origin, Keys: &kp}
}
