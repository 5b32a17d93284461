package accesslog_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/synth"
)

// benchBody is 1,000 synthetic entries as NDJSON, the shape of an ingest request.
func benchBody(b *testing.B) []byte {
	b.Helper()
	g, err := synth.New(synth.Config{Seed: 1, CareProvider: ident.HSAID("SE2321000016-0001"), Entries: 1000})
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := synth.WriteNDJSON(&buf, g); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkRequestPath measures what a request costs per entry before storage: decoding,
// validation and canonical encoding. Reported per entry.
func BenchmarkRequestPath(b *testing.B) {
	body := benchBody(b)
	opts := accesslog.ValidateOptions{Now: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)}
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := accesslog.DecodeDrafts(bytes.NewReader(body), accesslog.FramingNDJSON, 10000); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/entry")
	})
	drafts, _ := accesslog.DecodeDrafts(bytes.NewReader(body), accesslog.FramingNDJSON, 10000)
	b.Run("validate+prepare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for i := range drafts {
				e, probs := drafts[i].Validate(i, opts)
				if len(probs) > 0 {
					b.Fatal(probs)
				}
				_ = accesslog.Prepare(e)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/entry")
	})
}

// BenchmarkStoredEntry measures reading a stored entry back (Stored.Entry: decode and
// validate), what a log control pays per entry and pass.
func BenchmarkStoredEntry(b *testing.B) {
	lines := bytes.Split(bytes.TrimSpace(benchBody(b)), []byte("\n"))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		sd := accesslog.Stored{JSON: lines[i%len(lines)]}
		if _, err := sd.Entry(); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
