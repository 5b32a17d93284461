// Command tessera-bench appends entries to a transparency-dev/tessera log with its POSIX driver,
// to compare vakt's durable ingest with a peer on the same machine and the same entries. It is
// its own module so that vakt does not depend on Tessera.
//
// Every returned index is durable: Tessera's AddFn does not report an index before the entry
// is stored, which is the same promise vakt's acknowledgement makes.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/storage/posix"
	"golang.org/x/mod/sumdb/note"
)

func main() {
	in := flag.String("in", "", "NDJSON file: each line is one entry (default: random entries of -size bytes)")
	n := flag.Int("n", 1_000_000, "entries, when not read from -in")
	size := flag.Int("size", 400, "entry size in bytes, when not read from -in")
	dir := flag.String("dir", "", "directory for the log (default: a new temporary one)")
	adders := flag.Int("adders", 2048, "concurrent Add calls")
	batch := flag.Uint("batch", tessera.DefaultBatchMaxSize, "batch size (WithBatching)")
	maxAge := flag.Duration("max-age", tessera.DefaultBatchMaxAge, "batch max age (WithBatching)")
	flag.Parse()

	var entries [][]byte
	if *in != "" {
		data, err := os.ReadFile(*in)
		if err != nil {
			fail(err)
		}
		entries = bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	} else {
		entries = make([][]byte, *n)
		for i := range entries {
			entries[i] = make([]byte, *size)
			rand.Read(entries[i])
		}
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "tessera-bench-")
		if err != nil {
			fail(err)
		}
		defer os.RemoveAll(d)
		*dir = filepath.Join(d, "log")
	}
	ctx := context.Background()
	skey, _, err := note.GenerateKey(rand.Reader, "tessera-bench")
	if err != nil {
		fail(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		fail(err)
	}
	driver, err := posix.New(ctx, posix.Config{Path: *dir})
	if err != nil {
		fail(err)
	}
	opts := tessera.NewAppendOptions().WithCheckpointSigner(signer).WithBatching(*batch, *maxAge).WithCheckpointInterval(time.Second)
	appender, shutdown, _, err := tessera.NewAppender(ctx, driver, opts)
	if err != nil {
		fail(err)
	}
	var next atomic.Int64
	var errs atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range *adders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(len(entries)) {
					return
				}
				if _, err := appender.Add(ctx, tessera.NewEntry(entries[i]))(); err != nil {
					errs.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := shutdown(ctx); err != nil {
		fail(err)
	}
	total := 0
	for _, e := range entries {
		total += len(e)
	}
	fmt.Printf("tessera %s posix: %d entries of %d bytes on average, %d adders, batch %d, max age %s: %.0f entries/s (%d errors)\n",
		"v1.0.4", len(entries), total/len(entries), *adders, *batch, *maxAge, float64(len(entries))/elapsed.Seconds(), errs.Load())
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "tessera-bench:", err)
	os.Exit(1)
}
