package audit

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vakt/vakt/merkle"
)

// testLog is a small log: canonical entries, their leaf hashes, and checkpoints signed at given
// sizes.
type testLog struct {
	entries [][]byte
	leaves  []merkle.Hash
	signed  [][]byte
	key     string
}

func newTestLog(t *testing.T, n int, checkpointsAt ...int) *testLog {
	t.Helper()
	kp, err := merkle.DeriveKey([]byte("a test secret of at least 32 bytes"), "test.vakt/t")
	if err != nil {
		t.Fatal(err)
	}
	l := &testLog{key: kp.VerifierKey}
	tree := merkle.NewTree()
	at := map[int]bool{}
	for _, c := range checkpointsAt {
		at[c] = true
	}
	for i := 1; i <= n; i++ {
		e := []byte(fmt.Sprintf(`{"logId":"id-%d","resources":[{"note":"x"}],"seq":%d}`, i, i))
		l.entries = append(l.entries, e)
		leaf := merkle.LeafHash(e)
		l.leaves = append(l.leaves, leaf)
		tree.Append(leaf, func(uint, uint64, merkle.Hash) {})
		if at[i] {
			s, err := merkle.Sign(merkle.Checkpoint{Origin: "test.vakt/t", Size: uint64(i), Root: tree.Root()}, kp.Signer)
			if err != nil {
				t.Fatal(err)
			}
			l.signed = append(l.signed, s)
		}
	}
	return l
}

func (l *testLog) verify(entries [][]byte, leaves []merkle.Hash) Report {
	v := NewVerifier(l.key, l.signed, leaves != nil)
	for i, e := range entries {
		var leaf *merkle.Hash
		if leaves != nil {
			leaf = &leaves[i]
		}
		v.Add(e, leaf)
	}
	return v.Finish()
}

func clone(b [][]byte) [][]byte {
	out := make([][]byte, len(b))
	for i := range b {
		out[i] = append([]byte(nil), b[i]...)
	}
	return out
}

func TestVerifier(t *testing.T) {
	l := newTestLog(t, 100, 10, 40, 100)
	changed := func(e [][]byte, i int) [][]byte {
		e = clone(e)
		e[i] = []byte(strings.Replace(string(e[i]), `"note":"x"`, `"note":"y"`, 1))
		return e
	}
	cases := []struct {
		name     string
		entries  [][]byte
		leaves   func() []merkle.Hash // nil: no stored leaves
		want     string               // substring of the first finding; "" for intact
		verified uint64
	}{
		{name: "intact", entries: l.entries, leaves: func() []merkle.Hash { return l.leaves }, verified: 100},
		{name: "intact without stored leaves", entries: l.entries, verified: 100},
		{name: "one entry changed", entries: changed(l.entries, 24), leaves: func() []merkle.Hash { return l.leaves },
			want: `entry 25 (logId "id-25"): was changed`, verified: 10},
		{name: "entry and its stored leaf changed", entries: changed(l.entries, 24), leaves: func() []merkle.Hash {
			ls := append([]merkle.Hash(nil), l.leaves...)
			ls[24] = merkle.LeafHash(changed(l.entries, 24)[24])
			return ls
		}, want: "entries 11 to 40 do not reproduce the root signed in the checkpoint of size 40", verified: 10},
		{name: "changed without stored leaves", entries: changed(l.entries, 24),
			want: "entries 11 to 40 do not reproduce", verified: 10},
		{name: "entry removed", entries: append(clone(l.entries[:6]), l.entries[7:]...), leaves: func() []merkle.Hash {
			return append(append([]merkle.Hash(nil), l.leaves[:6]...), l.leaves[7:]...)
		}, want: "entry 7: is missing or out of place: the entry found in its place has seq 8"},
		{name: "entries swapped", entries: func() [][]byte {
			e := clone(l.entries)
			e[50], e[51] = e[51], e[50]
			return e
		}(), leaves: func() []merkle.Hash { return l.leaves }, want: "entry 51: is missing or out of place: the entry found in its place has seq 52", verified: 40},
		{name: "end cut off", entries: l.entries[:95], leaves: func() []merkle.Hash { return l.leaves[:95] },
			want: "entry 96: is missing: the log ends at 95 entries but a signed checkpoint covers 100", verified: 40},
		{name: "stored leaf changed, entry intact", entries: l.entries, leaves: func() []merkle.Hash {
			ls := append([]merkle.Hash(nil), l.leaves...)
			ls[3][0] ^= 1
			return ls
		}, want: `entry 4 (logId "id-4"): is intact, but the leaf hash stored for it is not its hash`, verified: 100},
		{name: "not canonical", entries: func() [][]byte {
			e := clone(l.entries)
			e[2] = []byte(strings.Replace(string(e[2]), `{"logId"`, `{ "logId"`, 1))
			return e
		}(), want: "entry 3 (logId \"id-3\"): is not in canonical form"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var leaves []merkle.Hash
			if c.leaves != nil {
				leaves = c.leaves()
			}
			r := l.verify(c.entries, leaves)
			if r.Checkpoints != 3 {
				t.Fatalf("%d checkpoints verified, want 3", r.Checkpoints)
			}
			if c.want == "" {
				if !r.OK() {
					t.Fatalf("intact log reported: %v", r.Findings)
				}
			} else if len(r.Findings) == 0 || !strings.Contains(r.Findings[0].String(), c.want) {
				t.Fatalf("findings %v, want first to contain %q", r.Findings, c.want)
			}
			if r.Verified != c.verified {
				t.Fatalf("verified up to %d, want %d", r.Verified, c.verified)
			}
		})
	}
}

func TestVerifierCheckpoints(t *testing.T) {
	l := newTestLog(t, 20, 5, 20)
	other, _ := merkle.DeriveKey([]byte("another secret of at least 32 bytes"), "test.vakt/t")
	forged, _ := merkle.Sign(merkle.Checkpoint{Origin: "test.vakt/t", Size: 20, Root: merkle.LeafHash([]byte("x"))}, other.Signer)
	v := NewVerifier(l.key, append(l.signed, forged), true)
	for i := range l.entries {
		v.Add(l.entries[i], &l.leaves[i])
	}
	r := v.Finish()
	if r.Checkpoints != 2 || len(r.Findings) != 1 || !strings.Contains(r.Findings[0].Problem, "does not verify with the key") {
		t.Fatalf("a checkpoint signed with another key: %+v", r)
	}

	// Two genuine checkpoints of one size with different roots: a fork.
	kp, _ := merkle.DeriveKey([]byte("a test secret of at least 32 bytes"), "test.vakt/t")
	fork, _ := merkle.Sign(merkle.Checkpoint{Origin: "test.vakt/t", Size: 5, Root: merkle.LeafHash([]byte("fork"))}, kp.Signer)
	r = l.verify(l.entries, l.leaves)
	if !r.OK() {
		t.Fatal(r.Findings)
	}
	v = NewVerifier(l.key, append(l.signed, fork), true)
	for i := range l.entries {
		v.Add(l.entries[i], &l.leaves[i])
	}
	if r := v.Finish(); r.OK() || !strings.Contains(r.Findings[0].Problem, "forked") {
		t.Fatalf("fork not reported: %+v", r.Findings)
	}

	// Entries beyond the last checkpoint are counted as not yet covered, not as damage.
	l2 := newTestLog(t, 30, 25)
	if r := l2.verify(l2.entries, l2.leaves); !r.OK() || r.Uncovered != 5 || r.Verified != 25 {
		t.Fatalf("uncovered tail: %+v", r)
	}
}
