package accesslog

import (
	"context"
	"time"

	"github.com/vakt/vakt/merkle"
)

// Store is one tenant's access log: an append-only sequence of entries with the indexes that
// Search needs. Drivers (sqlite, postgres) implement it; accesslogtest.Run checks every clause
// of this contract, and a driver is only correct if it passes that suite unchanged.
//
// Stores see no principals: tenant isolation is the Service's job, and a Store holds exactly one
// tenant's data.
type Store interface {
	// Append stores a batch and returns one result per entry, in order.
	//
	// Atomic: when Append returns an error nothing of the batch is stored. Durable: when it
	// returns nil, every entry is on stable storage (fsync'd) and survives a crash or kill -9.
	// A context cancelled before the commit aborts the batch whole; one cancelled after it does
	// not undo it.
	//
	// Idempotent per logId: an entry whose logId is already stored with the same Content is a
	// duplicate; its result carries the stored seq and Duplicate=true and nothing is written.
	// The same logId with different content is a CodeConflict *vakt.Error whose Problems name
	// the entry's index and "logId" and whose Message names the logId. The same rules hold for
	// repeats within one batch (the first occurrence wins).
	//
	// Sequence numbers start at 1, are gap-free and never reused; new entries of a batch get
	// consecutive numbers in batch order. Append is safe for concurrent use; concurrent batches
	// may share one commit (group commit) but each stays atomic on its own.
	Append(ctx context.Context, batch []Pending) ([]AppendResult, error)

	// Search returns at most q.PageSize() entries matching q, newest first by (startDate, seq),
	// strictly after q.After. Page.Next is the cursor of the last entry when more may follow,
	// zero otherwise. Entries become visible to Search as soon as Append returns.
	Search(ctx context.Context, q Query) (Page, error)

	// Export calls fn for every entry matching q (q.Limit is ignored) in Search's order, using
	// memory that does not grow with the number of entries. It stops at fn's first error and
	// returns it.
	Export(ctx context.Context, q Query, fn func(*Stored) error) error

	// ScanAccesses calls fn with the projection (Access) of every entry whose startDate is in
	// [from, to), exactly what AccessOf makes of the stored Entry: for set-oriented rules such
	// as log controls, which read a month at a time and need only these fields. Entries come in
	// no particular order, but fn is called from one goroutine at a time; the Access and its
	// Resources are only valid during the call. Memory does not grow with the number of entries.
	// It stops at fn's first error and returns it. Entries that Append acknowledged before the
	// call are included.
	ScanAccesses(ctx context.Context, from, to time.Time, fn func(*Access) error) error

	// Get returns the entry stored under logID, or a CodeNotFound error.
	Get(ctx context.Context, logID string) (Stored, error)

	// Stats reports the size of the log.
	Stats(ctx context.Context) (Stats, error)

	// Tamper evidence. Entries are the leaves of an RFC 6962 Merkle tree in sequence order (leaf
	// index = seq - 1, leaf hash = merkle.LeafHash of the entry's canonical JSON as served). The
	// tree grows in the same durable transaction as the entries, so a crash never leaves an entry
	// outside it.

	// Checkpoint returns the latest signed checkpoint. Entries acknowledged by Append are covered
	// by a checkpoint within the store's checkpoint interval (or after SignCheckpoint).
	Checkpoint(ctx context.Context) (SignedCheckpoint, error)
	// SignCheckpoint signs a checkpoint covering every entry committed when it is called, unless
	// the latest one already does, and returns it.
	SignCheckpoint(ctx context.Context) (SignedCheckpoint, error)
	// Checkpoints returns the checkpoints the store keeps, by increasing size: a sparse history
	// (about one an hour) and the latest.
	Checkpoints(ctx context.Context) ([]SignedCheckpoint, error)
	// VerifierKey returns the note verifier key that checks the tenant's checkpoints.
	VerifierKey() string
	// Prove returns the inclusion proof of the entry with logID against the latest checkpoint:
	// CodeNotFound for an unknown logId, CodeUnavailable for an entry newer than the checkpoint.
	Prove(ctx context.Context, logID string) (InclusionProof, error)
	// Consistency returns the proof that the tree of size from is a prefix of the tree of size
	// to, for 1 ≤ from ≤ to ≤ the latest checkpoint's size (CodeInvalid otherwise).
	Consistency(ctx context.Context, from, to uint64) ([]merkle.Hash, error)
	// Scan calls fn for every entry from sequence number from on, in sequence order, with the
	// leaf hash the tree holds for it, using memory that does not grow with the log.
	Scan(ctx context.Context, from int64, fn func(s *Stored, leaf merkle.Hash) error) error

	// Close releases the store. Everything Append acknowledged is already durable.
	Close() error
}

// SignedCheckpoint is a signed note (C2SP tlog-checkpoint) committing to the first Size entries.
type SignedCheckpoint struct {
	Size uint64
	Note []byte
}

// InclusionProof proves that one entry is in the log as of a checkpoint.
type InclusionProof struct {
	LeafIndex  uint64        // seq - 1
	TreeSize   uint64        // the checkpoint's size
	LeafHash   merkle.Hash   // merkle.LeafHash of the entry's canonical JSON
	Hashes     []merkle.Hash // the audit path, RFC 6962 order
	Checkpoint SignedCheckpoint
}

// AppendResult is the outcome for one entry of a batch.
type AppendResult struct {
	Seq       int64 // the entry's sequence number (the earlier one for a duplicate)
	Duplicate bool  // the entry was already stored with identical content
}

// Stats describes a store's size.
type Stats struct {
	Entries   int64 // number of entries (equals the last sequence number)
	DiskBytes int64 // bytes on disk, indexes included, when the driver can tell
}

// Stores gives access to the store of each tenant.
type Stores interface {
	// Store returns the open store of tenantID, opening (and creating) it on first use. The
	// returned Store stays owned by Stores: callers do not Close it.
	Store(ctx context.Context, tenantID string) (Store, error)
}
