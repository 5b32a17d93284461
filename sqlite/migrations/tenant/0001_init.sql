-- One tenant's access log. Entries are append-only; seq is the gap-free sequence number.
-- An entry's canonical JSON (what search and export serve, byte for byte) is stored in two
-- parts: head holds activity, logId and resources (without receivedAt and seq, which are
-- columns); actor points to the shared tail `,"system":{...},"user":{...}}`, which is the same
-- for every entry one user makes at one unit through one system. ts is activity.startDate and
-- received is receivedAt, both in Unix microseconds.
CREATE TABLE entries (
    seq         INTEGER PRIMARY KEY,
    ts          INTEGER NOT NULL,
    received    INTEGER NOT NULL,
    actor       INTEGER NOT NULL,
    activity_id INTEGER NOT NULL,
    head        BLOB    NOT NULL
);

-- The shared tails of entries, with the ids (in dict) of their user, care unit and care
-- provider so that filters need not parse JSON.
CREATE TABLE actors (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    unit_id     INTEGER NOT NULL,
    provider_id INTEGER NOT NULL,
    json        BLOB    NOT NULL UNIQUE
);

-- Interned values: HSA-ids (kind 1), lower-cased activity types (kind 2), reserve numbers
-- (kind 3, "root|extension"). Ids are stable for the life of the file.
CREATE TABLE dict (
    id    INTEGER PRIMARY KEY,
    kind  INTEGER NOT NULL,
    value TEXT    NOT NULL,
    UNIQUE (kind, value)
);

-- Sealed runs of the secondary indexes (see sqlite/internal/runindex). A run covers the
-- entries with seq in [lo, hi]. state: 0 building (a merge in progress), 1 live, 2 obsolete
-- (replaced by a merge, deleted once no reader uses it). bloom filters the run's logIds.
CREATE TABLE runs (
    id     INTEGER PRIMARY KEY,
    level  INTEGER NOT NULL,
    lo     INTEGER NOT NULL,
    hi     INTEGER NOT NULL,
    min_ts INTEGER NOT NULL,
    max_ts INTEGER NOT NULL,
    state  INTEGER NOT NULL,
    bloom  BLOB
);

-- Blocks of postings; (k, t, s) is the first posting of the block. kind: 1 patient, 2 user,
-- 3 care unit, 4 time, 5 logId.
CREATE TABLE blocks (
    id   INTEGER PRIMARY KEY,
    run  INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    k    INTEGER NOT NULL,
    t    INTEGER NOT NULL,
    s    INTEGER NOT NULL,
    data BLOB    NOT NULL
);
CREATE INDEX blocks_first ON blocks(run, kind, k, t, s);
