package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vakt/vakt/client"
)

func runIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ingest", "ingest --addr URL --token TOKEN [flags] FILE... (NDJSON; - for standard input)", stderr)
	addr := fs.String("addr", "http://localhost:8080", "base URL of the service")
	token := fs.String("token", "", "writer token (or VAKT_TOKEN, VAKT_TOKEN_FILE)")
	batch := fs.Int("batch", 1000, "entries per request")
	conc := fs.Int("concurrency", 2, "requests in flight")
	progress := fs.Bool("progress", true, "show progress on a terminal")
	if err := parse(fs, args, "token"); err != nil {
		return err
	}
	if *token == "" {
		return errors.New("--token (or VAKT_TOKEN) is required")
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errors.New("no input file")
	}
	if *batch < 1 || *conc < 1 {
		return errors.New("--batch and --concurrency must be positive")
	}
	c := &client.Client{BaseURL: *addr, Token: *token}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	type job struct {
		body  []byte
		first int64 // line number of the batch's first entry
	}
	jobs := make(chan job, *conc)
	var sent, accepted, dups atomic.Int64
	var firstErr error
	var errOnce sync.Once
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	var wg sync.WaitGroup
	for range *conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				res, err := c.AppendNDJSON(ctx, j.body)
				if err != nil {
					var e *client.Error
					if errors.As(err, &e) && len(e.Problems) > 0 {
						// Point at input lines rather than indexes within a batch.
						for i := range e.Problems {
							if e.Problems[i].Index >= 0 {
								e.Problems[i].Index += int(j.first)
							}
						}
						err = fmt.Errorf("batch starting at line %d rejected (entry numbers below are line numbers): %w", j.first, e)
					}
					fail(err)
					continue
				}
				accepted.Add(int64(res.Accepted))
				dups.Add(int64(res.Duplicates))
				sent.Add(int64(len(res.Seqs)))
			}
		}()
	}

	start := time.Now()
	show := *progress && isTerminal(stderr)
	stopProgress := make(chan struct{})
	var progressDone sync.WaitGroup
	if show {
		progressDone.Add(1)
		go func() {
			defer progressDone.Done()
			t := time.NewTicker(250 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stopProgress:
					fmt.Fprint(stderr, "\r\033[K")
					return
				case <-t.C:
					n := sent.Load()
					fmt.Fprintf(stderr, "\r\033[K%d entries sent, %.0f entries/s", n, float64(n)/time.Since(start).Seconds())
				}
			}
		}()
	}

	readErr := func() error {
		line := int64(0)
		for _, name := range fs.Args() {
			var r io.Reader = os.Stdin
			if name != "-" {
				f, err := os.Open(name)
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			}
			sc := bufio.NewScanner(r)
			sc.Buffer(make([]byte, 0, 1<<16), 16<<20)
			var buf bytes.Buffer
			n, first := 0, line+1
			for sc.Scan() {
				line++
				b := bytes.TrimSpace(sc.Bytes())
				if len(b) == 0 {
					continue
				}
				if n == 0 {
					first = line
				}
				buf.Write(b)
				buf.WriteByte('\n')
				if n++; n == *batch {
					select {
					case jobs <- job{body: bytes.Clone(buf.Bytes()), first: first}:
					case <-ctx.Done():
						return nil
					}
					buf.Reset()
					n = 0
				}
			}
			if err := sc.Err(); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if n > 0 {
				select {
				case jobs <- job{body: bytes.Clone(buf.Bytes()), first: first}:
				case <-ctx.Done():
					return nil
				}
			}
		}
		return nil
	}()
	close(jobs)
	wg.Wait()
	if show {
		close(stopProgress)
		progressDone.Wait()
	}
	if readErr != nil {
		return readErr
	}
	if firstErr != nil {
		return firstErr
	}
	d := time.Since(start)
	fmt.Fprintf(stdout, "%d entries: %d stored, %d already stored, in %.1fs (%.0f entries/s)\n",
		sent.Load(), accepted.Load(), dups.Load(), d.Seconds(), float64(sent.Load())/d.Seconds())
	return nil
}
