package accesslogtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gowebpki/jcs"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/merkle"
)

// The tamper-evidence tests check everything the way an outside auditor would: signatures with
// the note library and the published key, leaf hashes recomputed from the JSON the store serves
// with an independent RFC 8785 implementation, proofs with transparency-dev/merkle's verifiers.
// Nothing of vakt's own tree code is trusted.

// auditorLeaf recomputes an entry's leaf hash from its served JSON.
func auditorLeaf(t *testing.T, entryJSON []byte) []byte {
	t.Helper()
	canon, err := jcs.Transform(entryJSON)
	if err != nil {
		t.Fatalf("served JSON does not canonicalize: %v", err)
	}
	if !bytes.Equal(canon, entryJSON) {
		t.Fatalf("served JSON is not canonical:\n got %s\nwant %s", entryJSON, canon)
	}
	h := sha256.Sum256(append([]byte{0}, canon...))
	return h[:]
}

// openCheckpoint checks a signed checkpoint with the note library and parses its body.
func openCheckpoint(t *testing.T, st accesslog.Store, cp accesslog.SignedCheckpoint) (origin string, size uint64, root []byte) {
	t.Helper()
	v, err := note.NewVerifier(st.VerifierKey())
	if err != nil {
		t.Fatalf("verifier key %q: %v", st.VerifierKey(), err)
	}
	n, err := note.Open(cp.Note, note.VerifierList(v))
	if err != nil {
		t.Fatalf("checkpoint signature: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 {
		t.Fatalf("checkpoint body %q", n.Text)
	}
	size, err = strconv.ParseUint(lines[1], 10, 64)
	if err != nil || size != cp.Size {
		t.Fatalf("checkpoint size line %q, Size %d", lines[1], cp.Size)
	}
	c, err := merkle.ParseCheckpoint(n.Text)
	if err != nil {
		t.Fatal(err)
	}
	if lines[0] != v.Name() {
		t.Fatalf("origin %q is not the key's name %q", lines[0], v.Name())
	}
	return lines[0], size, c.Root[:]
}

func testCheckpointAndProofs(t *testing.T, h Harness) {
	st, opener := open(t, h)
	ctx := context.Background()
	var specs []spec
	for i := range 300 {
		specs = append(specs, spec{id: fmt.Sprintf("mk%03d", i), at: time.Duration(i) * time.Minute, patients: []int{i % 3}})
	}
	mustAppend(t, st, specs[:137]...)
	cp1, err := st.SignCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cp1.Size != 137 {
		t.Fatalf("checkpoint covers %d entries, want 137", cp1.Size)
	}
	_, _, root1 := openCheckpoint(t, st, cp1)
	// Signing again without new entries returns the same checkpoint.
	if again, err := st.SignCheckpoint(ctx); err != nil || again.Size != cp1.Size || !bytes.Equal(again.Note, cp1.Note) {
		t.Fatalf("re-signing without growth gave another checkpoint: %v", err)
	}

	mustAppend(t, st, specs[137:]...)
	// Entries newer than the latest checkpoint cannot be proven yet.
	if _, err := st.Prove(ctx, "mk200"); vakt.ErrorCode(err) != vakt.CodeUnavailable {
		t.Fatalf("proof of an entry beyond the checkpoint: err = %v, want unavailable", err)
	}
	cp2, err := st.SignCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if latest, err := st.Checkpoint(ctx); err != nil || latest.Size != 300 {
		t.Fatalf("Checkpoint() = %d, %v; want the one just signed", latest.Size, err)
	}
	origin, size2, root2 := openCheckpoint(t, st, cp2)
	if size2 != 300 || origin == "" {
		t.Fatalf("checkpoint %q size %d", origin, size2)
	}

	// Every entry: its served JSON hashes to the proven leaf, and the proof leads to the root.
	for _, s := range specs {
		got, err := st.Get(ctx, s.id)
		if err != nil {
			t.Fatal(err)
		}
		p, err := st.Prove(ctx, s.id)
		if err != nil {
			t.Fatalf("Prove(%s): %v", s.id, err)
		}
		leaf := auditorLeaf(t, got.JSON)
		if !bytes.Equal(leaf, p.LeafHash[:]) || p.LeafIndex != uint64(got.Seq-1) || p.TreeSize != 300 || !bytes.Equal(p.Checkpoint.Note, cp2.Note) {
			t.Fatalf("proof of %s: index %d size %d, leaf matches %v", s.id, p.LeafIndex, p.TreeSize, bytes.Equal(leaf, p.LeafHash[:]))
		}
		hashes := make([][]byte, len(p.Hashes))
		for i := range p.Hashes {
			hashes[i] = p.Hashes[i][:]
		}
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, p.LeafIndex, p.TreeSize, leaf, hashes, root2); err != nil {
			t.Fatalf("inclusion proof of %s does not verify: %v", s.id, err)
		}
	}
	if _, err := st.Prove(ctx, "unknown"); vakt.ErrorCode(err) != vakt.CodeNotFound {
		t.Fatalf("proof of an unknown logId: err = %v", err)
	}

	// The later checkpoint extends the earlier one.
	cons, err := st.Consistency(ctx, 137, 300)
	if err != nil {
		t.Fatal(err)
	}
	raw := make([][]byte, len(cons))
	for i := range cons {
		raw[i] = cons[i][:]
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, 137, 300, raw, root1, root2); err != nil {
		t.Fatalf("consistency 137→300: %v", err)
	}
	for _, bad := range [][2]uint64{{0, 10}, {20, 10}, {1, 301}} {
		if _, err := st.Consistency(ctx, bad[0], bad[1]); vakt.ErrorCode(err) != vakt.CodeInvalid {
			t.Fatalf("Consistency(%d, %d): err = %v, want invalid", bad[0], bad[1], err)
		}
	}

	// Scan yields every entry in order with the leaf hash the tree holds, which is the hash of
	// the entry as served.
	next := int64(1)
	err = st.Scan(ctx, 1, func(s *accesslog.Stored, leaf merkle.Hash) error {
		if s.Seq != next {
			return fmt.Errorf("scan gave seq %d, want %d", s.Seq, next)
		}
		next++
		if !bytes.Equal(auditorLeaf(t, s.JSON), leaf[:]) {
			return fmt.Errorf("entry %d: stored leaf hash differs from the hash of its JSON", s.Seq)
		}
		return nil
	})
	if err != nil || next != 301 {
		t.Fatalf("Scan: %v (stopped before %d)", err, next)
	}

	// The history ends with the latest checkpoint, sizes increasing.
	cps, err := st.Checkpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cps) == 0 || cps[len(cps)-1].Size != 300 {
		t.Fatalf("Checkpoints() = %d entries ending at %v", len(cps), cps)
	}
	for i := 1; i < len(cps); i++ {
		if cps[i].Size <= cps[i-1].Size {
			t.Fatal("checkpoint history is not in increasing size")
		}
	}

	// After a reopen the tree, the checkpoint and the proofs are all still there, and the tree
	// keeps growing from where it was.
	key := st.VerifierKey()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = opener()
	defer st.Close()
	if st.VerifierKey() != key {
		t.Fatal("verifier key changed across reopen")
	}
	if cp, err := st.Checkpoint(ctx); err != nil || cp.Size != 300 {
		t.Fatalf("checkpoint after reopen: %d %v", cp.Size, err)
	}
	mustAppend(t, st, spec{id: "after-reopen"})
	cp3, err := st.SignCheckpoint(ctx)
	if err != nil || cp3.Size != 301 {
		t.Fatalf("checkpoint after reopen and append: %d %v", cp3.Size, err)
	}
	_, _, root3 := openCheckpoint(t, st, cp3)
	cons, err = st.Consistency(ctx, 300, 301)
	if err != nil {
		t.Fatal(err)
	}
	raw = raw[:0]
	for i := range cons {
		raw = append(raw, cons[i][:])
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, 300, 301, raw, root2, root3); err != nil {
		t.Fatalf("consistency across reopen: %v", err)
	}
	p, err := st.Prove(ctx, "after-reopen")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := st.Get(ctx, "after-reopen")
	hashes := make([][]byte, len(p.Hashes))
	for i := range p.Hashes {
		hashes[i] = p.Hashes[i][:]
	}
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, p.LeafIndex, p.TreeSize, auditorLeaf(t, got.JSON), hashes, root3); err != nil {
		t.Fatalf("proof after reopen: %v", err)
	}
}

// testRejectedBatchLeavesTreeAlone: a batch refused whole (conflict) adds nothing to the tree.
func testRejectedBatchLeavesTreeAlone(t *testing.T, h Harness) {
	st, _ := open(t, h)
	ctx := context.Background()
	mustAppend(t, st, spec{id: "r1"}, spec{id: "r2"})
	before, err := st.SignCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Append(ctx, pending(spec{id: "r3"}, spec{id: "r1", note: "changed"})); vakt.ErrorCode(err) != vakt.CodeConflict {
		t.Fatalf("err = %v, want conflict", err)
	}
	after, err := st.SignCheckpoint(ctx)
	if err != nil || after.Size != before.Size || !bytes.Equal(after.Note, before.Note) {
		t.Fatalf("a refused batch changed the tree: %d → %d", before.Size, after.Size)
	}
}
