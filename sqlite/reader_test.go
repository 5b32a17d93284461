package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/merkle"
)

// A Reader scans every entry with its leaf hash, also the entries a crash kept out of the stored
// tree (here: appended by a store without the tree), whose leaves it computes.
func TestReaderScansPastTheStoredTree(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	st, err := OpenStore(ctx, path, testKeys(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	var batch []accesslog.Pending
	for i := range 300 {
		batch = append(batch, accesslog.Prepare(testEntry(fmt.Sprintf("in%03d", i))))
	}
	if _, err := st.Append(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = OpenStore(ctx, path, Options{NoMerkle: true})
	if err != nil {
		t.Fatal(err)
	}
	batch = batch[:0]
	for i := range 20 {
		batch = append(batch, accesslog.Prepare(testEntry(fmt.Sprintf("out%02d", i))))
	}
	if _, err := st.Append(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	r, err := OpenReader(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	want := int64(1)
	err = r.Scan(ctx, func(s *accesslog.Stored, leaf merkle.Hash) error {
		if s.Seq != want {
			return fmt.Errorf("seq %d, want %d", s.Seq, want)
		}
		if leaf != merkle.LeafHash(s.JSON) {
			return fmt.Errorf("entry %d: leaf hash is not the hash of the entry", s.Seq)
		}
		want++
		return nil
	})
	if err != nil || want != 321 {
		t.Fatalf("scanned up to %d: %v", want-1, err)
	}
}
