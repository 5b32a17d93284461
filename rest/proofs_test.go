package rest_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gowebpki/jcs"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/vakt/vakt"
)

type proofReply struct {
	LogID      string   `json:"logId"`
	Seq        uint64   `json:"seq"`
	LeafIndex  uint64   `json:"leafIndex"`
	TreeSize   uint64   `json:"treeSize"`
	LeafHash   string   `json:"leafHash"`
	Hashes     []string `json:"hashes"`
	Checkpoint string   `json:"checkpoint"`
}

// checkpointOf opens a signed checkpoint with the note library and returns its size and root.
func checkpointOf(t *testing.T, signed []byte, vkey string) (string, uint64, []byte) {
	t.Helper()
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		t.Fatalf("verifier key: %v", err)
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		t.Fatalf("checkpoint does not verify: %v\n%s", err, signed)
	}
	lines := strings.Split(n.Text, "\n")
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil {
		t.Fatal(err)
	}
	return lines[0], size, root
}

// waitForCheckpoint polls until the tenant's checkpoint covers size entries.
func waitForCheckpoint(t *testing.T, e *env, token string, size uint64) []byte {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := e.do(t, call{method: "GET", path: "/api/v1/checkpoint", token: token})
		wantStatus(t, r, http.StatusOK)
		if got := strings.SplitN(string(r.body), "\n", 3); len(got) > 1 && got[1] == strconv.FormatUint(size, 10) {
			return r.body
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint of size %d within 10 s; latest:\n%s", size, r.body)
		}
		time.Sleep(5 * time.Millisecond) // polling a deadline-bound condition
	}
}

func b64s(t *testing.T, ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = b
	}
	return out
}

// TestProofs checks checkpoints and proofs the way an auditor would, with public libraries only.
func TestProofs(t *testing.T) {
	e := newEnv(t)
	writer, reader := e.token(t, tenantA, vakt.RoleWriter), e.token(t, tenantA, vakt.RoleReader)
	var batch []map[string]any
	for i := range 50 {
		batch = append(batch, entry(logID(t.Name(), i)))
	}
	wantStatus(t, e.appendJSON(t, writer, batch...), http.StatusCreated)
	cp50 := waitForCheckpoint(t, e, reader, 50)
	key := e.do(t, call{method: "GET", path: "/api/v1/checkpoint/key", token: reader})
	wantStatus(t, key, http.StatusOK)
	origin, _, root50 := checkpointOf(t, cp50, string(key.body))
	if origin != "test.vakt/"+tenantA {
		t.Fatalf("origin %q", origin)
	}

	for _, n := range []int{0, 17, 49} {
		id := logID(t.Name(), n)
		got := e.get(t, reader, id)
		wantStatus(t, got, http.StatusOK)
		served := bytes.TrimSuffix(got.body, []byte("\n"))
		canon, err := jcs.Transform(served)
		if err != nil || !bytes.Equal(canon, served) {
			t.Fatalf("served entry is not canonical JSON: %v", err)
		}
		leaf := sha256.Sum256(append([]byte{0}, canon...))

		r := e.do(t, call{method: "GET", path: "/api/v1/logs/" + id + "/proof", token: reader})
		wantStatus(t, r, http.StatusOK)
		p := decode[proofReply](t, r)
		if p.LogID != id || p.LeafIndex != p.Seq-1 || p.LeafHash != base64.StdEncoding.EncodeToString(leaf[:]) {
			t.Fatalf("proof of %s: %+v", id, p)
		}
		_, size, root := checkpointOf(t, []byte(p.Checkpoint), string(key.body))
		if size != p.TreeSize {
			t.Fatalf("proof tree size %d, checkpoint %d", p.TreeSize, size)
		}
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, p.LeafIndex, p.TreeSize, leaf[:], b64s(t, p.Hashes), root); err != nil {
			t.Fatalf("inclusion proof of %s: %v", id, err)
		}
	}

	// More entries; the new checkpoint extends the old one.
	batch = batch[:0]
	for i := 50; i < 80; i++ {
		batch = append(batch, entry(logID(t.Name(), i)))
	}
	wantStatus(t, e.appendJSON(t, writer, batch...), http.StatusCreated)
	cp80 := waitForCheckpoint(t, e, reader, 80)
	_, _, root80 := checkpointOf(t, cp80, string(key.body))
	r := e.do(t, call{method: "GET", path: "/api/v1/consistency?from=50&to=80", token: reader})
	wantStatus(t, r, http.StatusOK)
	c := decode[struct {
		From, To uint64
		Hashes   []string
	}](t, r)
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, 50, 80, b64s(t, c.Hashes), root50, root80); err != nil {
		t.Fatalf("consistency 50→80: %v", err)
	}
	for _, q := range []string{"from=0&to=80", "from=81&to=80", "from=1&to=81", "from=x&to=2", "to=2"} {
		wantError(t, e.do(t, call{method: "GET", path: "/api/v1/consistency?" + q, token: reader, request: mayViolate}), http.StatusBadRequest, vakt.CodeInvalid)
	}

	// Export in sequence order: the whole log, 1..n.
	ex := e.export(t, reader, map[string]any{"order": "seq"})
	wantStatus(t, ex, http.StatusOK)
	lines := strings.Split(strings.TrimSpace(string(ex.body)), "\n")
	if len(lines) != 80 {
		t.Fatalf("seq export: %d lines", len(lines))
	}
	for i, line := range lines {
		if !strings.Contains(line, fmt.Sprintf(`"seq":%d,`, i+1)) {
			t.Fatalf("line %d of the seq export is not seq %d", i, i+1)
		}
	}
	wantError(t, e.export(t, reader, map[string]any{"order": "seq", "userId": "SE2321000016-1234"}), http.StatusBadRequest, vakt.CodeInvalid)
	wantError(t, e.search(t, reader, map[string]any{"order": "seq"}), http.StatusBadRequest, vakt.CodeInvalid)
}

// TestProofIsolationAndRoles: each tenant has its own log, key and origin; other tenants'
// entries cannot be proven; writers cannot read tamper evidence.
func TestProofIsolationAndRoles(t *testing.T) {
	e := newEnv(t)
	wA, rA := e.token(t, tenantA, vakt.RoleWriter), e.token(t, tenantA, vakt.RoleReader)
	wB, rB := e.token(t, tenantB, vakt.RoleWriter), e.token(t, tenantB, vakt.RoleReader)
	wantStatus(t, e.appendJSON(t, wA, entry("iso-a")), http.StatusCreated)
	wantStatus(t, e.appendJSON(t, wB, entryB("iso-b")), http.StatusCreated)
	cpA := waitForCheckpoint(t, e, rA, 1)
	cpB := waitForCheckpoint(t, e, rB, 1)
	kA := e.do(t, call{method: "GET", path: "/api/v1/checkpoint/key", token: rA})
	kB := e.do(t, call{method: "GET", path: "/api/v1/checkpoint/key", token: rB})
	if bytes.Equal(kA.body, kB.body) || bytes.Equal(cpA, cpB) {
		t.Fatal("two tenants share a key or a checkpoint")
	}
	if oA, _, _ := checkpointOf(t, cpA, string(kA.body)); oA != "test.vakt/"+tenantA {
		t.Fatalf("origin of A: %q", oA)
	}
	v, _ := note.NewVerifier(strings.TrimSpace(string(kA.body)))
	if _, err := note.Open(cpB, note.VerifierList(v)); err == nil {
		t.Fatal("B's checkpoint verifies with A's key")
	}
	wantError(t, e.do(t, call{method: "GET", path: "/api/v1/logs/iso-b/proof", token: rA}), http.StatusNotFound, vakt.CodeNotFound)
	for _, path := range []string{"/api/v1/checkpoint", "/api/v1/checkpoint/key", "/api/v1/logs/iso-a/proof", "/api/v1/consistency?from=1&to=1"} {
		wantError(t, e.do(t, call{method: "GET", path: path, token: wA}), http.StatusForbidden, vakt.CodeForbidden)
	}
}
