package rest

import (
	"encoding/base64"
	"net/http"
	"strconv"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/merkle"
)

// Tamper evidence: the latest signed checkpoint and its key as plain text, exactly as the
// signed-note tools read them, and proofs as JSON with base64 hashes.

func (a *API) handleCheckpoint(w http.ResponseWriter, r *http.Request) {
	if !a.requireRole(w, r, vakt.RoleReader) {
		return
	}
	cp, err := a.Service.Checkpoint(r.Context())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write(cp.Note)
}

func (a *API) handleCheckpointKey(w http.ResponseWriter, r *http.Request) {
	if !a.requireRole(w, r, vakt.RoleReader) {
		return
	}
	key, err := a.Service.VerifierKey(r.Context())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if key == "" {
		a.writeError(w, r, vakt.Errorf(vakt.CodeUnavailable, "tamper evidence is turned off on this instance"))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte(key + "\n"))
}

// proofResponse answers GET /api/v1/logs/{logId}/proof.
type proofResponse struct {
	LogID      string   `json:"logId"`
	Seq        uint64   `json:"seq"`
	LeafIndex  uint64   `json:"leafIndex"`
	TreeSize   uint64   `json:"treeSize"`
	LeafHash   string   `json:"leafHash"`
	Hashes     []string `json:"hashes"`
	Checkpoint string   `json:"checkpoint"`
}

func b64(hs []merkle.Hash) []string {
	out := make([]string, len(hs))
	for i := range hs {
		out[i] = base64.StdEncoding.EncodeToString(hs[i][:])
	}
	return out
}

func (a *API) handleProof(w http.ResponseWriter, r *http.Request) {
	if !a.requireRole(w, r, vakt.RoleReader) {
		return
	}
	id := r.PathValue("logId")
	p, err := a.Service.Prove(r.Context(), id)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, proofResponse{
		LogID: id, Seq: p.LeafIndex + 1, LeafIndex: p.LeafIndex, TreeSize: p.TreeSize,
		LeafHash: base64.StdEncoding.EncodeToString(p.LeafHash[:]), Hashes: b64(p.Hashes), Checkpoint: string(p.Checkpoint.Note),
	})
}

// consistencyResponse answers GET /api/v1/consistency.
type consistencyResponse struct {
	From   uint64   `json:"from"`
	To     uint64   `json:"to"`
	Hashes []string `json:"hashes"`
}

func (a *API) handleConsistency(w http.ResponseWriter, r *http.Request) {
	if !a.requireRole(w, r, vakt.RoleReader) {
		return
	}
	var probs []vakt.Problem
	size := func(name string) uint64 {
		v, err := strconv.ParseUint(r.URL.Query().Get(name), 10, 64)
		if err != nil || v == 0 {
			probs = append(probs, vakt.Problem{Index: -1, Field: name, Reason: "must be a tree size: a whole number of at least 1"})
		}
		return v
	}
	from, to := size("from"), size("to")
	if len(probs) > 0 {
		a.writeError(w, r, vakt.Invalid("consistency query is invalid", probs...))
		return
	}
	hs, err := a.Service.Consistency(r.Context(), from, to)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, consistencyResponse{From: from, To: to, Hashes: b64(hs)})
}
