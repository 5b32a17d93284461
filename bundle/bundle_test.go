package bundle

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"testing"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/merkle"
)

func TestRoundTrip(t *testing.T) {
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
	b, err := Open(bytes.NewReader(buf.Bytes()))
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
