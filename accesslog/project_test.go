package accesslog_test

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/synth"
)

// sealedEntries returns synthetic entries as a store serves them, with their Entries.
func sealedEntries(tb testing.TB, n int) ([][]byte, []accesslog.Entry) {
	tb.Helper()
	g, err := synth.New(synth.Config{Seed: 3, CareProvider: ident.HSAID("SE2321000016-0001"), Entries: n})
	if err != nil {
		tb.Fatal(err)
	}
	var docs [][]byte
	var entries []accesslog.Entry
	for i := 0; ; i++ {
		e, ok := g.Next()
		if !ok {
			break
		}
		p := accesslog.Prepare(e)
		docs = append(docs, p.Seal(nil, int64(i+1), time.Date(2026, 11, 1, 0, 0, 0, 123000, time.UTC)))
		entries = append(entries, e)
	}
	return docs, entries
}

// TestProjectMatchesEntry: the projection of a stored entry's JSON, whole or as head and actor,
// is AccessOf of the entry.
func TestProjectMatchesEntry(t *testing.T) {
	docs, entries := sealedEntries(t, 2000)
	p := accesslog.NewProjector()
	var a, split accesslog.Access
	for i, doc := range docs {
		want := accesslog.AccessOf(&entries[i], int64(i+1))
		if err := p.Project(doc, &a); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if !sameAccess(&a, &want) {
			t.Fatalf("entry %d:\n got %+v\nwant %+v", i, a, want)
		}
		pe := accesslog.Prepare(entries[i])
		split = accesslog.Access{Seq: int64(i + 1)}
		if err := p.ProjectActor(pe.Actor(), &split); err != nil {
			t.Fatal(err)
		}
		if err := p.ProjectHead(pe.Head(), &split); err != nil {
			t.Fatal(err)
		}
		if !sameAccess(&split, &want) {
			t.Fatalf("entry %d from head and actor:\n got %+v\nwant %+v", i, split, want)
		}
	}
}

func sameAccess(a, b *accesslog.Access) bool {
	x, y := *a, *b
	if len(x.Resources) == 0 {
		x.Resources = nil
	}
	if len(y.Resources) == 0 {
		y.Resources = nil
	}
	return x.StartDate.Equal(y.StartDate) && reflect.DeepEqual(withoutTime(x), withoutTime(y))
}

func withoutTime(a accesslog.Access) accesslog.Access {
	a.StartDate = time.Time{}
	return a
}

// FuzzProject: the projector never panics, and whenever the input is a stored entry in its
// canonical form (it decodes, and sealing the decoded entry gives back the same bytes), the
// projection is exactly AccessOf of that entry.
func FuzzProject(f *testing.F) {
	docs, _ := sealedEntries(f, 50)
	for _, d := range docs {
		f.Add(d)
	}
	for _, s := range []string{fullJSON, minimalJSON, `{"activity":{"startDate":"x"}}`, `{"resources":[{"patient":{"patientId":{"extension":"\u0031","root":"1.2.752.129.2.1.3.1"}}}]}`,
		`{"logId":"a\"b\\c\u00e5\ud83e\ude7a"}`, `{"seq":`, `{`, ``, `,"user":{}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		p := accesslog.NewProjector()
		var a accesslog.Access
		err := p.Project(doc, &a)
		_ = p.ProjectHead(doc, &a)
		_ = p.ProjectActor(doc, &a)
		st := accesslog.Stored{JSON: doc}
		e, derr := st.Entry()
		if derr != nil {
			return
		}
		d, seq, received, _ := accesslog.DecodeStored(doc)
		_ = d
		rt, perr := time.Parse(accesslog.ReceivedAtLayout, received)
		if perr != nil {
			return
		}
		pe := accesslog.Prepare(e)
		if !bytes.Equal(pe.Seal(nil, seq, rt), doc) {
			return // not the canonical form a store keeps
		}
		if err != nil {
			t.Fatalf("a canonical stored entry does not project: %v", err)
		}
		a = accesslog.Access{}
		if err := p.Project(doc, &a); err != nil {
			t.Fatal(err)
		}
		want := accesslog.AccessOf(&e, seq)
		if !sameAccess(&a, &want) {
			t.Fatalf("projection differs:\n got %+v\nwant %+v", a, want)
		}
	})
}

// BenchmarkProject is BenchmarkStoredEntry's reading of stored entries for the fields log
// controls use. Reported per entry.
func BenchmarkProject(b *testing.B) {
	docs, _ := sealedEntries(b, 1000)
	p := accesslog.NewProjector()
	var a accesslog.Access
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := p.Project(docs[i%len(docs)], &a); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
