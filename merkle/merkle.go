// Package merkle makes a tenant's access log tamper-evident: every entry is a leaf of an
// append-only RFC 6962 Merkle tree in sequence order, and signed checkpoints (C2SP
// tlog-checkpoint in the signed-note format) commit to the tree's size and root. Anyone holding a
// checkpoint can check that an entry is in the log (inclusion proof) and that a later checkpoint
// extends an earlier one (consistency proof), with the public transparency-dev/merkle and
// golang.org/x/mod/sumdb/note libraries alone.
//
// The leaf hash of an entry is SHA-256(0x00 ‖ E), where E is the entry's JSON exactly as search
// and export serve it: RFC 8785 canonical, service fields (seq, receivedAt) included.
//
// The package is pure: it hashes, signs and checks, and leaves storage to drivers.
package merkle

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// HashSize is the size of every hash in the tree.
const HashSize = sha256.Size

// Hash is a node or leaf hash.
type Hash = [HashSize]byte

// LeafHash returns the RFC 6962 leaf hash of an entry's canonical JSON: SHA-256(0x00 ‖ json).
func LeafHash(json []byte) Hash {
	var h Hash
	copy(h[:], rfc6962.DefaultHasher.HashLeaf(json))
	return h
}

// EmptyRoot is the root of the tree of size 0: SHA-256 of nothing.
func EmptyRoot() Hash { return sha256.Sum256(nil) }

// Checkpoint is the body of a signed checkpoint: which log (Origin), how many leaves (Size) and
// their root hash.
type Checkpoint struct {
	Origin string
	Size   uint64
	Root   Hash
}

// Text returns the checkpoint body in the C2SP tlog-checkpoint format: origin, decimal size and
// base64 root hash, one per line.
func (c Checkpoint) Text() string {
	return c.Origin + "\n" + strconv.FormatUint(c.Size, 10) + "\n" + base64.StdEncoding.EncodeToString(c.Root[:]) + "\n"
}

// ParseCheckpoint parses a checkpoint body (the text of a note, without signatures). Extension
// lines after the root are allowed and ignored, as the format requires.
func ParseCheckpoint(text string) (Checkpoint, error) {
	lines := strings.SplitN(text, "\n", 4)
	if len(lines) < 4 || lines[0] == "" {
		return Checkpoint{}, errors.New("merkle: checkpoint must have an origin, a size and a root hash line")
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil || (len(lines[1]) > 1 && lines[1][0] == '0') {
		return Checkpoint{}, errors.New("merkle: checkpoint size is not a decimal number")
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != HashSize {
		return Checkpoint{}, errors.New("merkle: checkpoint root is not a base64 SHA-256 hash")
	}
	c := Checkpoint{Origin: lines[0], Size: size}
	copy(c.Root[:], root)
	return c, nil
}

// Origin names a tenant's log: the instance's name and the tenant id. It is the first line of
// every checkpoint and the name of the tenant's signing key.
func Origin(instance, tenantID string) string { return instance + "/" + tenantID }

// ValidInstanceName reports whether name can start an origin: letters, digits, '.', '-', '_',
// ':' and '/', at most 200 characters, as in a host name or URL path without a scheme.
func ValidInstanceName(name string) bool {
	if name == "" || len(name) > 200 {
		return false
	}
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-_:/", c)
		if !ok {
			return false
		}
	}
	return true
}

// KeyPair is a log's signer and its published verifier key.
type KeyPair struct {
	Signer      note.Signer
	VerifierKey string // note verifier key: "<origin>+<hash>+<base64 key>"
}

// DeriveKey derives a log's Ed25519 key from the instance secret and the log's origin
// (HKDF-SHA256), so one secret kept by the operator yields a distinct key per tenant whose name
// is the tenant's origin, as C2SP checkpoints recommend.
func DeriveKey(secret []byte, origin string) (KeyPair, error) {
	if len(secret) < 32 {
		return KeyPair{}, errors.New("merkle: the signing secret must have at least 32 bytes")
	}
	seed, err := hkdf.Key(sha256.New, secret, nil, "vakt checkpoint key v1 "+origin, 32)
	if err != nil {
		return KeyPair{}, err
	}
	skey, vkey, err := note.GenerateKey(bytes.NewReader(seed), origin)
	if err != nil {
		return KeyPair{}, fmt.Errorf("merkle: key for %q: %w", origin, err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return KeyPair{}, err
	}
	return KeyPair{Signer: signer, VerifierKey: vkey}, nil
}

// Sign returns the signed note of c.
func Sign(c Checkpoint, s note.Signer) ([]byte, error) {
	return note.Sign(&note.Note{Text: c.Text()}, s)
}

// Open checks a signed checkpoint against a verifier key and returns its body. The origin must
// be the key's name.
func Open(signed []byte, verifierKey string) (Checkpoint, error) {
	v, err := note.NewVerifier(verifierKey)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("merkle: verifier key: %w", err)
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("merkle: checkpoint signature: %w", err)
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != v.Name() {
		return Checkpoint{}, fmt.Errorf("merkle: checkpoint origin %q is not the key's name %q", c.Origin, v.Name())
	}
	return c, nil
}

// Tree is the right edge of an append-only Merkle tree (a compact range from leaf 0): the roots
// of its perfect subtrees, largest first. Enough to append leaves and compute the root in
// O(log n) memory. Appending allocates nothing, since it runs for every stored entry.
type Tree struct {
	size  uint64
	edge  []Hash // roots of the perfect subtrees, largest (leftmost) first
	level []uint // their levels
}

// NewTree returns an empty tree.
func NewTree() *Tree { return &Tree{} }

// RestoreTree returns the tree of size leaves from the hashes of its perfect subtrees, in the
// order of EdgeNodes(size) (largest first).
func RestoreTree(size uint64, hashes []Hash) (*Tree, error) {
	nodes := EdgeNodes(size)
	if len(hashes) != len(nodes) {
		return nil, fmt.Errorf("merkle: a tree of size %d has %d edge nodes, got %d hashes", size, len(nodes), len(hashes))
	}
	t := &Tree{size: size, edge: append([]Hash(nil), hashes...), level: make([]uint, len(nodes))}
	for i, n := range nodes {
		t.level[i] = n.Level
	}
	return t, nil
}

// EdgeNodes lists the nodes whose hashes RestoreTree needs for a tree of size leaves.
func EdgeNodes(size uint64) []compact.NodeID { return compact.RangeNodes(0, size, nil) }

// Size returns the number of leaves.
func (t *Tree) Size() uint64 { return t.size }

// HashChildren is RFC 6962's interior node hash, SHA-256(0x01 ‖ left ‖ right).
func HashChildren(left, right Hash) Hash { return hashChildren(&left, &right) }

func hashChildren(left, right *Hash) Hash {
	var buf [1 + 2*HashSize]byte
	buf[0] = 1
	copy(buf[1:], left[:])
	copy(buf[1+HashSize:], right[:])
	return sha256.Sum256(buf[:])
}

// Append adds a leaf. Visit is told of every node that becomes final: the leaf itself (level 0)
// and each perfect subtree the leaf completes. Those are exactly the nodes proofs need.
func (t *Tree) Append(leaf Hash, visit func(level uint, index uint64, h Hash)) error {
	index := t.size
	visit(0, index, leaf)
	h, level := leaf, uint(0)
	// Merge with the edge while the rightmost subtree has the same height: the new leaf
	// completes it.
	for n := len(t.edge); n > 0 && t.level[n-1] == level; n-- {
		h = hashChildren(&t.edge[n-1], &h)
		t.edge, t.level = t.edge[:n-1], t.level[:n-1]
		level++
		index >>= 1
		visit(level, index, h)
	}
	t.edge = append(t.edge, h)
	t.level = append(t.level, level)
	t.size++
	return nil
}

// Root returns the root hash.
func (t *Tree) Root() Hash {
	if len(t.edge) == 0 {
		return EmptyRoot()
	}
	root := t.edge[len(t.edge)-1]
	for i := len(t.edge) - 2; i >= 0; i-- {
		root = hashChildren(&t.edge[i], &root)
	}
	return root
}

// Clone returns an independent copy of the tree.
func (t *Tree) Clone() *Tree {
	return &Tree{size: t.size, edge: append([]Hash(nil), t.edge...), level: append([]uint(nil), t.level...)}
}

// Edge returns the hashes of the tree's perfect subtrees, in EdgeNodes order.
func (t *Tree) Edge() []Hash { return append([]Hash(nil), t.edge...) }

// NodeReader reads stored node hashes: level 0 holds leaf hashes, level L node i covers leaves
// [i·2^L, (i+1)·2^L). A driver serves them from wherever it keeps them.
type NodeReader func(ids []compact.NodeID) ([]Hash, error)

// InclusionProof returns the proof that leaf index is in the tree of size leaves.
func InclusionProof(index, size uint64, read NodeReader) ([]Hash, error) {
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, err
	}
	return rehash(nodes, read)
}

// ConsistencyProof returns the proof that the tree of size1 is a prefix of the tree of size2.
func ConsistencyProof(size1, size2 uint64, read NodeReader) ([]Hash, error) {
	nodes, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, err
	}
	return rehash(nodes, read)
}

func rehash(nodes proof.Nodes, read NodeReader) ([]Hash, error) {
	hs, err := read(nodes.IDs)
	if err != nil {
		return nil, err
	}
	raw := make([][]byte, len(hs))
	for i := range hs {
		raw[i] = hs[i][:]
	}
	raw, err = nodes.Rehash(raw, rfc6962.DefaultHasher.HashChildren)
	if err != nil {
		return nil, err
	}
	out := make([]Hash, len(raw))
	for i := range raw {
		copy(out[i][:], raw[i])
	}
	return out, nil
}

// VerifyInclusion checks an inclusion proof against a root, as any client would.
func VerifyInclusion(index, size uint64, leaf Hash, proofHashes []Hash, root Hash) error {
	return proof.VerifyInclusion(rfc6962.DefaultHasher, index, size, leaf[:], raw(proofHashes), root[:])
}

// VerifyConsistency checks a consistency proof between two roots.
func VerifyConsistency(size1, size2 uint64, proofHashes []Hash, root1, root2 Hash) error {
	return proof.VerifyConsistency(rfc6962.DefaultHasher, size1, size2, raw(proofHashes), root1[:], root2[:])
}

func raw(hs []Hash) [][]byte {
	out := make([][]byte, len(hs))
	for i := range hs {
		out[i] = hs[i][:]
	}
	return out
}
