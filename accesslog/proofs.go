package accesslog

import (
	"fmt"

	"github.com/transparency-dev/merkle/compact"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/merkle"
)

// ProveAt builds the inclusion proof of the entry with sequence number seq against checkpoint
// cp, reading node hashes with read. The leaf's own hash is asked for in the same call as the
// proof's nodes, so a driver fetches both at once. Every driver's Prove ends here, so that the
// rule for entries newer than the checkpoint (CodeUnavailable) is the same on every engine.
func ProveAt(seq int64, cp SignedCheckpoint, read merkle.NodeReader) (InclusionProof, error) {
	index := uint64(seq - 1)
	if seq < 1 || index >= cp.Size {
		return InclusionProof{}, vakt.Errorf(vakt.CodeUnavailable, "the entry is not yet covered by a signed checkpoint; retry in a moment")
	}
	var leaf merkle.Hash
	hashes, err := merkle.InclusionProof(index, cp.Size, func(ids []compact.NodeID) ([]merkle.Hash, error) {
		hs, err := read(append([]compact.NodeID{compact.NewNodeID(0, index)}, ids...))
		if err != nil {
			return nil, err
		}
		leaf = hs[0]
		return hs[1:], nil
	})
	if err != nil {
		return InclusionProof{}, err
	}
	return InclusionProof{LeafIndex: index, TreeSize: cp.Size, LeafHash: leaf, Hashes: hashes, Checkpoint: cp}, nil
}

// ConsistencyAt builds the consistency proof from size from to size to, which must satisfy
// 1 ≤ from ≤ to ≤ cp.Size (CodeInvalid otherwise), reading node hashes with read.
func ConsistencyAt(from, to uint64, cp SignedCheckpoint, read merkle.NodeReader) ([]merkle.Hash, error) {
	if from < 1 || from > to || to > cp.Size {
		return nil, vakt.Invalid("sizes must satisfy 1 ≤ from ≤ to ≤ the latest checkpoint's size",
			vakt.Problem{Index: -1, Field: "from", Reason: fmt.Sprintf("must be between 1 and to; the latest checkpoint covers %d entries", cp.Size)})
	}
	return merkle.ConsistencyProof(from, to, read)
}
