-- +goose Up
-- People's web sessions, shared by every node so that any node serves any request (no sticky
-- sessions). A row is keyed by the SHA-256 of the browser's cookie, never the cookie itself,
-- and its contents (who is logged in, the CSRF token, the language, a login through the IdP)
-- are sealed with AES-GCM under a key derived from the cookie, which no node stores: a dump of
-- this table gives out neither live cookies nor what the sessions hold. Only what the nodes
-- must compare in SQL is in the clear: the times (expiry), whether a person is logged in (who
-- gives way when the table is full) and a version for compare-and-swap.
CREATE TABLE web_sessions (
    id            bytea PRIMARY KEY CHECK (length(id) = 32),
    authenticated boolean NOT NULL,
    created_at    timestamptz NOT NULL,
    last_seen     timestamptz NOT NULL,
    version       bigint NOT NULL,
    data          bytea NOT NULL
);
CREATE INDEX web_sessions_last_seen ON web_sessions (last_seen);

-- A session's items: the person's recent searches, which name personnummer and hold their
-- results; sealed like the session, and kept apart from it so that the one read of every
-- request stays small and a search written on one node never conflicts with the session's
-- other changes on another.
CREATE TABLE web_session_items (
    session bytea NOT NULL REFERENCES web_sessions (id) ON DELETE CASCADE,
    key     text NOT NULL,
    seq     bigint GENERATED ALWAYS AS IDENTITY,
    data    bytea NOT NULL,
    PRIMARY KEY (session, key)
);

-- +goose Down
DROP TABLE web_session_items;
DROP TABLE web_sessions;
