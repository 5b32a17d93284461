-- The Merkle tree over the entries (leaf index = seq - 1), in strips of 256 node hashes:
-- id = level << 40 | strip, and hashes holds the 32-byte hashes of nodes
-- [strip·256, strip·256 + 256) of that level that exist so far. Level 0 holds the leaf hashes;
-- a node of level L covers leaves [i·2^L, (i+1)·2^L). Only complete subtrees are stored, which
-- are exactly the nodes inclusion and consistency proofs need.
CREATE TABLE tree (
    id     INTEGER PRIMARY KEY,
    hashes BLOB    NOT NULL
);

-- Signed checkpoints: a sparse history (about one an hour) ...
CREATE TABLE checkpoints (
    size    INTEGER PRIMARY KEY,
    note    BLOB    NOT NULL,
    created INTEGER NOT NULL -- Unix microseconds
);

-- ... and the latest, rewritten whenever the tree has grown (at most once per interval).
CREATE TABLE checkpoint_latest (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    size    INTEGER NOT NULL,
    note    BLOB    NOT NULL,
    created INTEGER NOT NULL
);
