-- One tenant's access log. Every tenant has a schema of its own with these tables, and its own
-- goose version table, so a tenant's data never shares a table with another's and each schema
-- migrates on its own.

-- +goose Up

-- The head of the log, one row. Writers on every node take it FOR UPDATE before they number
-- entries: that lock is what keeps sequence numbers and the Merkle tree gap-free and in one
-- order when several nodes write to the same tenant.
CREATE TABLE head (
    id          boolean     PRIMARY KEY DEFAULT true CHECK (id),
    size        bigint      NOT NULL,      -- entries stored, which is the last sequence number
    received_at timestamptz NOT NULL,      -- the last receivedAt handed out; it never goes back
    edge        bytea       NOT NULL       -- the tree's right edge: merkle.EdgeNodes(size) hashes, 32 bytes each
);
INSERT INTO head (size, received_at, edge) VALUES (0, '1970-01-01T00:00:00Z', '');

-- The entries, partitioned by month of receivedAt. receivedAt only grows, so new entries always
-- land in the newest partitions and an old month can be detached and archived whole. The
-- partitions themselves are created by the driver (postgres/partitions.go), months ahead.
CREATE TABLE entries (
    seq              bigint      NOT NULL,
    received_at      timestamptz NOT NULL,
    start_date       bigint      NOT NULL, -- activity.startDate, Unix microseconds
    user_id          text        NOT NULL,
    care_unit_id     text        NOT NULL,
    care_provider_id text        NOT NULL,
    activity         text        NOT NULL, -- activity.activityType in lower case
    doc              bytea       NOT NULL, -- the canonical JSON, exactly as served and hashed
    PRIMARY KEY (seq, received_at)
) PARTITION BY RANGE (received_at);
CREATE INDEX entries_time ON entries (start_date, seq);
CREATE INDEX entries_user ON entries (user_id, start_date, seq);
CREATE INDEX entries_unit ON entries (care_unit_id, start_date, seq);

-- One row per patient an entry names (an entry may name several).
CREATE TABLE entry_patients (
    patient     text        NOT NULL,      -- see patientKey in postgres/logstore.go
    start_date  bigint      NOT NULL,
    seq         bigint      NOT NULL,
    received_at timestamptz NOT NULL
) PARTITION BY RANGE (received_at);
CREATE INDEX entry_patients_patient ON entry_patients (patient, start_date, seq);

-- logId → entry, across all partitions: the key of idempotent ingest and of Get. Archiving a
-- partition deletes its rows here (docs/OPERATIONS.md).
CREATE TABLE log_ids (
    log_id      text        PRIMARY KEY,
    seq         bigint      NOT NULL,
    received_at timestamptz NOT NULL
);

-- The Merkle tree over the entries (leaf index = seq - 1) in tiles: tile idx of level t holds
-- the hashes of nodes [idx·256, idx·256 + 256) of tree level 8·t that exist so far. Level 0
-- holds the leaf hashes. A node of a level between two tile levels is hashed from at most 128
-- nodes of the tile level below it, so four tile levels serve every proof up to 2^32 entries.
CREATE TABLE tiles (
    level  smallint NOT NULL,
    idx    bigint   NOT NULL,
    hashes bytea    NOT NULL,
    PRIMARY KEY (level, idx)
);
-- Hashes do not compress.
ALTER TABLE tiles ALTER COLUMN hashes SET STORAGE EXTERNAL;

-- Signed checkpoints: a sparse history (about one an hour) ...
CREATE TABLE checkpoints (
    size    bigint      PRIMARY KEY,
    note    bytea       NOT NULL,
    created timestamptz NOT NULL
);

-- ... and the latest, which only ever grows.
CREATE TABLE checkpoint_latest (
    id      boolean     PRIMARY KEY DEFAULT true CHECK (id),
    size    bigint      NOT NULL,
    note    bytea       NOT NULL,
    created timestamptz NOT NULL
);

-- +goose Down
DROP TABLE checkpoint_latest;
DROP TABLE checkpoints;
DROP TABLE tiles;
DROP TABLE log_ids;
DROP TABLE entry_patients;
DROP TABLE entries;
DROP TABLE head;
