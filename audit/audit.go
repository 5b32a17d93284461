// Package audit checks a tenant's log the way an outside auditor does: from the entries as
// served, the signed checkpoints and the published verifier key alone. It recomputes every leaf
// hash with an independent RFC 8785 implementation, rebuilds the Merkle tree, checks every
// checkpoint's signature and root, and names the first entry that does not match.
//
// It does no I/O: `vakt verify` feeds it from an export bundle, a database file or a live
// service.
package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/gowebpki/jcs"

	"github.com/vakt/vakt/merkle"
)

// Finding is one thing wrong with a log.
type Finding struct {
	Seq     int64  // the entry concerned, 0 when the finding is about checkpoints
	LogID   string // the entry's logId as found, if any
	Problem string
}

func (f Finding) String() string {
	if f.Seq == 0 {
		return f.Problem
	}
	if f.LogID != "" {
		return fmt.Sprintf("entry %d (logId %q): %s", f.Seq, f.LogID, f.Problem)
	}
	return fmt.Sprintf("entry %d: %s", f.Seq, f.Problem)
}

// Report is the outcome of a verification.
type Report struct {
	Entries     int64     // entries read
	Checkpoints int       // checkpoints whose signature verified
	Verified    uint64    // the largest checkpoint whose root the entries reproduce
	Uncovered   int64     // entries newer than every checkpoint
	Findings    []Finding // problems, the first (and decisive) one first
}

// OK reports whether the log is intact as far as its checkpoints reach.
func (r *Report) OK() bool { return len(r.Findings) == 0 }

// Verifier checks one log. Feed it every entry in sequence order with Add, then call Finish.
type Verifier struct {
	cps      []merkle.Checkpoint // verified, by increasing size
	next     int                 // index into cps of the next checkpoint to reach
	computed *merkle.Tree        // from the entries' JSON
	stored   *merkle.Tree        // from the stored leaf hashes, when given
	useStore bool
	n        int64
	report   Report
	broken   bool // a finding has made later roots meaningless

	// Entries whose JSON hashes differently from their stored leaf hash, since the last
	// checkpoint: the suspects when that checkpoint's root does not match.
	suspects []Finding
	lastSize uint64
}

// NewVerifier checks the signatures of the checkpoints against the verifier key and prepares to
// check entries against them. withStoredLeaves says whether Add will get the leaf hashes the
// log stored, which lets the verifier name a changed entry exactly.
func NewVerifier(verifierKey string, signed [][]byte, withStoredLeaves bool) *Verifier {
	v := &Verifier{computed: merkle.NewTree(), useStore: withStoredLeaves}
	if withStoredLeaves {
		v.stored = merkle.NewTree()
	}
	for i, s := range signed {
		c, err := merkle.Open(s, verifierKey)
		if err != nil {
			v.report.Findings = append(v.report.Findings, Finding{Problem: fmt.Sprintf("checkpoint %d of %d does not verify with the key: %v", i+1, len(signed), err)})
			continue
		}
		v.cps = append(v.cps, c)
	}
	slices.SortFunc(v.cps, func(a, b merkle.Checkpoint) int {
		switch {
		case a.Size < b.Size:
			return -1
		case a.Size > b.Size:
			return 1
		}
		return 0
	})
	for i := 1; i < len(v.cps); i++ {
		if v.cps[i].Size == v.cps[i-1].Size && v.cps[i].Root != v.cps[i-1].Root {
			v.report.Findings = append(v.report.Findings, Finding{Problem: fmt.Sprintf("two signed checkpoints of size %d have different roots: the log was forked", v.cps[i].Size)})
		}
	}
	v.cps = slices.CompactFunc(v.cps, func(a, b merkle.Checkpoint) bool { return a.Size == b.Size })
	v.report.Checkpoints = len(v.cps)
	// A checkpoint of size 0 says nothing.
	for v.next < len(v.cps) && v.cps[v.next].Size == 0 {
		v.next++
	}
	return v
}

// Add checks the next entry: its JSON as served, and the leaf hash the log stored for it (nil
// when not available).
func (v *Verifier) Add(entryJSON []byte, storedLeaf *merkle.Hash) {
	v.n++
	pos := v.n
	canon, err := jcs.Transform(entryJSON)
	if err != nil {
		v.fail(Finding{Seq: pos, Problem: "is not valid JSON"})
		canon = entryJSON
	}
	var head struct {
		Seq   int64  `json:"seq"`
		LogID string `json:"logId"`
	}
	json.Unmarshal(canon, &head)
	switch {
	case err == nil && !bytes.Equal(canon, entryJSON):
		v.fail(Finding{Seq: pos, LogID: head.LogID, Problem: "is not in canonical form (RFC 8785), so it is not the entry as stored"})
	case head.Seq != pos && !v.broken:
		if head.Seq > pos {
			v.fail(Finding{Seq: pos, Problem: fmt.Sprintf("is missing or out of place: the entry found in its place has seq %d", head.Seq)})
		} else {
			v.fail(Finding{Seq: pos, LogID: head.LogID, Problem: fmt.Sprintf("is out of order: position %d holds seq %d", pos, head.Seq)})
		}
	}
	leaf := merkle.LeafHash(canon)
	v.computed.Append(leaf, func(uint, uint64, merkle.Hash) {})
	if v.useStore {
		if storedLeaf == nil {
			v.fail(Finding{Seq: pos, LogID: head.LogID, Problem: "has no stored leaf hash"})
		} else {
			v.stored.Append(*storedLeaf, func(uint, uint64, merkle.Hash) {})
			if *storedLeaf != leaf {
				v.suspects = append(v.suspects, Finding{Seq: pos, LogID: head.LogID, Problem: "its content does not match the leaf hash the log stored for it"})
			}
		}
	}
	v.report.Entries = v.n
	v.check()
}

// check compares the rebuilt tree with a checkpoint of the current size, if there is one.
func (v *Verifier) check() {
	if v.next >= len(v.cps) || v.cps[v.next].Size != uint64(v.n) {
		return
	}
	cp := v.cps[v.next]
	v.next++
	if v.broken {
		return
	}
	if v.computed.Root() == cp.Root {
		v.report.Verified = cp.Size
		if len(v.suspects) > 0 {
			// The entries are the signed ones; what was changed is the tree stored with them,
			// which would make the log's own proofs fail.
			f := v.suspects[0]
			f.Problem = "is intact, but the leaf hash stored for it is not its hash: the stored tree was changed"
			v.report.Findings = append(v.report.Findings, f)
		}
		v.lastSize, v.suspects = cp.Size, v.suspects[:0]
		return
	}
	// The entries do not reproduce the signed root: something in (lastSize, cp.Size] changed.
	switch {
	case v.useStore && v.stored.Root() == cp.Root && len(v.suspects) > 0:
		// The stored leaf hashes are the signed ones, so the entries whose JSON hashes
		// differently are exactly the changed ones.
		f := v.suspects[0]
		f.Problem = fmt.Sprintf("was changed: its content does not match the leaf hash signed in the checkpoint of size %d", cp.Size)
		v.fail(f)
	default:
		v.fail(Finding{Seq: int64(v.lastSize) + 1, Problem: fmt.Sprintf("entries %d to %d do not reproduce the root signed in the checkpoint of size %d: at least one of them (and the tree stored with them) was changed, removed, added or reordered",
			v.lastSize+1, cp.Size, cp.Size)})
	}
}

func (v *Verifier) fail(f Finding) {
	if !v.broken {
		v.report.Findings = append(v.report.Findings, f)
	}
	v.broken = true
}

// Finish returns the report once every entry has been added.
func (v *Verifier) Finish() Report {
	r := v.report
	if v.next < len(v.cps) && !v.broken {
		last := v.cps[len(v.cps)-1]
		r.Findings = append(r.Findings, Finding{Seq: v.n + 1, Problem: fmt.Sprintf("is missing: the log ends at %d entries but a signed checkpoint covers %d, so entries were removed from its end", v.n, last.Size)})
	}
	var covered uint64
	if len(v.cps) > 0 {
		covered = v.cps[len(v.cps)-1].Size
	}
	if uint64(v.n) > covered {
		r.Uncovered = v.n - int64(covered)
	}
	return r
}
