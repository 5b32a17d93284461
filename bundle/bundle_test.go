package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"testing"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/merkle"
)

// written returns a bundle of 1000 entries and the entries.
func written(t *testing.T) ([]byte, Source, [][]byte) {
	t.Helper()
	var entries [][]byte
	for i := 1; i <= 1000; i++ {
		entries = append(entries, []byte(fmt.Sprintf(`{"logId":"%d","seq":%d}`, i, i)))
	}
	src := Source{
		Tenant: "t1", Origin: "test.vakt/t1", VerifierKey: "test.vakt/t1+00000000+AAAA",
		Checkpoints: []accesslog.SignedCheckpoint{{Size: 10, Note: []byte("note 10\n")}, {Size: 1000, Note: []byte("note 1000\n")}},
		Scan: func(ctx context.Context, fn func(*accesslog.Stored, merkle.Hash) error) error {
			for i, e := range entries {
				if err := fn(&accesslog.Stored{Seq: int64(i + 1), JSON: e}, merkle.LeafHash(e)); err != nil {
					return err
				}
			}
			return nil
		},
	}
	var buf bytes.Buffer
	m, err := Write(context.Background(), &buf, src)
	if err != nil {
		t.Fatal(err)
	}
	if m.Entries != 1000 || m.Checkpoints != 2 || m.Format != Format {
		t.Fatalf("manifest %+v", m)
	}
	return buf.Bytes(), src, entries
}

func TestRoundTrip(t *testing.T) {
	data, src, entries := written(t)
	readBack(t, data, src, entries)
}

// A bundle unpacked and packed again, in another order, with directory members and "./"
// names, still verifies.
func TestOpenRepacked(t *testing.T) {
	data, src, entries := written(t)
	gr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gr)
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name], _ = io.ReadAll(tr)
	}
	var out bytes.Buffer
	gz := gzip.NewWriter(&out)
	tw := tar.NewWriter(gz)
	tw.WriteHeader(&tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "./checkpoints/", Typeflag: tar.TypeDir, Mode: 0o755})
	for _, name := range slices.Sorted(maps.Keys(files)) { // entries.ndjson before key and manifest
		tw.WriteHeader(&tar.Header{Name: "./" + name, Mode: 0o644, Size: int64(len(files[name]))})
		tw.Write(files[name])
	}
	tw.Close()
	gz.Close()
	readBack(t, out.Bytes(), src, entries)
}

func readBack(t *testing.T, data []byte, src Source, entries [][]byte) {
	t.Helper()
	b, err := Open(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.VerifierKey != src.VerifierKey || len(b.Checkpoints) != 2 || string(b.Checkpoints[1]) != "note 1000\n" || !b.HasLeaves() || b.Manifest.Tenant != "t1" {
		t.Fatalf("read back %+v", b)
	}
	n := 0
	err = b.Entries(func(js []byte, leaf *merkle.Hash) error {
		if !bytes.Equal(js, entries[n]) || leaf == nil || *leaf != merkle.LeafHash(entries[n]) {
			return fmt.Errorf("entry %d differs", n+1)
		}
		n++
		return nil
	})
	if err != nil || n != 1000 {
		t.Fatalf("entries: %d, %v", n, err)
	}
}

func TestOpenRejects(t *testing.T) {
	if _, err := Open(bytes.NewReader([]byte("not a bundle"))); err == nil {
		t.Fatal("opened garbage")
	}
	var empty bytes.Buffer
	gz := gzip.NewWriter(&empty)
	gz.Close()
	if _, err := Open(bytes.NewReader(empty.Bytes())); err == nil {
		t.Fatal("opened an empty archive")
	}
}
