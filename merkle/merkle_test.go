package merkle

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/transparency-dev/merkle/compact"
	"golang.org/x/mod/sumdb/note"
)

// referenceRoot is RFC 6962 section 2.1 written out recursively, independent of the library.
func referenceRoot(leaves []Hash) Hash {
	switch len(leaves) {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return leaves[0]
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	l, r := referenceRoot(leaves[:k]), referenceRoot(leaves[k:])
	return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
}

func TestLeafHashVector(t *testing.T) {
	// SHA-256(0x00): the RFC 6962 hash of an empty leaf.
	want := "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
	if got := LeafHash(nil); hex.EncodeToString(got[:]) != want {
		t.Fatalf("LeafHash(empty) = %x", got)
	}
	if got, want := LeafHash([]byte(`{"a":1}`)), sha256.Sum256(append([]byte{0}, `{"a":1}`...)); got != want {
		t.Fatal("LeafHash is not SHA-256(0x00 ‖ data)")
	}
}

func TestTreeMatchesReference(t *testing.T) {
	tree := NewTree()
	var leaves []Hash
	nodes := map[compact.NodeID]Hash{}
	for i := range 300 {
		leaf := LeafHash([]byte(fmt.Sprintf("entry %d", i)))
		leaves = append(leaves, leaf)
		if err := tree.Append(leaf, func(level uint, index uint64, h Hash) { nodes[compact.NewNodeID(level, index)] = h }); err != nil {
			t.Fatal(err)
		}
		if tree.Root() != referenceRoot(leaves) {
			t.Fatalf("root at size %d differs from the RFC 6962 reference", i+1)
		}
	}
	if got := NewTree().Root(); got != EmptyRoot() {
		t.Fatal("empty tree root")
	}

	read := func(ids []compact.NodeID) ([]Hash, error) {
		out := make([]Hash, len(ids))
		for i, id := range ids {
			h, ok := nodes[id]
			if !ok {
				return nil, fmt.Errorf("node %+v was never visited", id)
			}
			out[i] = h
		}
		return out, nil
	}
	// Every inclusion and consistency proof at every size, built from visited nodes only and
	// checked by the library's verifier against the reference roots.
	for size := uint64(1); size <= uint64(len(leaves)); size += 7 {
		root := referenceRoot(leaves[:size])
		for index := uint64(0); index < size; index += 5 {
			p, err := InclusionProof(index, size, read)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyInclusion(index, size, leaves[index], p, root); err != nil {
				t.Fatalf("inclusion %d in %d: %v", index, size, err)
			}
		}
		for size1 := uint64(1); size1 <= size; size1 += 11 {
			p, err := ConsistencyProof(size1, size, read)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyConsistency(size1, size, p, referenceRoot(leaves[:size1]), root); err != nil {
				t.Fatalf("consistency %d→%d: %v", size1, size, err)
			}
		}
	}

	// Restoring from the edge nodes gives the same tree, which then grows the same way.
	size := tree.Size()
	edge := EdgeNodes(size)
	hs, err := read(edge)
	if err != nil {
		t.Fatal(err)
	}
	restored, err := RestoreTree(size, hs)
	if err != nil {
		t.Fatal(err)
	}
	next := LeafHash([]byte("next"))
	leaves = append(leaves, next)
	if err := restored.Append(next, func(uint, uint64, Hash) {}); err != nil {
		t.Fatal(err)
	}
	if restored.Root() != referenceRoot(leaves) {
		t.Fatal("restored tree grows differently")
	}
}

func TestCheckpointSignAndOpen(t *testing.T) {
	secret := []byte(strings.Repeat("s", 32))
	origin := Origin("vakt.example.se", "region-exempel")
	kp, err := DeriveKey(secret, origin)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := DeriveKey(secret, origin)
	if kp.VerifierKey != again.VerifierKey {
		t.Fatal("key derivation is not deterministic")
	}
	other, _ := DeriveKey(secret, Origin("vakt.example.se", "other"))
	if other.VerifierKey == kp.VerifierKey {
		t.Fatal("two tenants share a key")
	}
	c := Checkpoint{Origin: origin, Size: 12345, Root: LeafHash([]byte("root"))}
	signed, err := Sign(c, kp.Signer)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Open(signed, kp.VerifierKey)
	if err != nil || got != c {
		t.Fatalf("Open = %+v, %v", got, err)
	}
	// The signature is checked with nothing but the note library and the published key.
	v, _ := note.NewVerifier(kp.VerifierKey)
	if _, err := note.Open(signed, note.VerifierList(v)); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(signed, other.VerifierKey); err == nil {
		t.Fatal("opened with another tenant's key")
	}
	tampered := []byte(strings.Replace(string(signed), "12345", "12346", 1))
	if _, err := Open(tampered, kp.VerifierKey); err == nil {
		t.Fatal("a changed size kept a valid signature")
	}
	if _, err := DeriveKey([]byte("short"), origin); err == nil {
		t.Fatal("a short secret was accepted")
	}
}

func TestParseCheckpoint(t *testing.T) {
	root := strings.Repeat("A", 43) + "="
	for _, c := range []struct {
		text string
		ok   bool
	}{
		{"o\n1\n" + root + "\n", true},
		{"o\n1\n" + root + "\nextension line\n", true},
		{"o\n01\n" + root + "\n", false},
		{"o\n-1\n" + root + "\n", false},
		{"\n1\n" + root + "\n", false},
		{"o\n1\nnot base64\n", false},
		{"o\n1\n", false},
	} {
		_, err := ParseCheckpoint(c.text)
		if (err == nil) != c.ok {
			t.Errorf("ParseCheckpoint(%q) err = %v, want ok=%v", c.text, err, c.ok)
		}
	}
}

func ExampleLeafHash() {
	entry := []byte(`{"activity":{"activityType":"Läsa"},"logId":"1","seq":1}`)
	h := LeafHash(entry)
	fmt.Printf("%x\n", h[:8])
	// Output: d9cedfe179f27ccc
}
