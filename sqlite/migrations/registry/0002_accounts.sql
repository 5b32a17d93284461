-- People's local accounts (embedded mode): login name, the tenant they act in, their HSA-id
-- (user.userId of the log entries about their own reads), roles and care-unit limits. Only an
-- argon2id hash of a password is stored.
CREATE TABLE users (
    username      TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name          TEXT NOT NULL DEFAULT '',
    hsa_id        TEXT NOT NULL,
    title         TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    must_change   INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL              -- Unix microseconds
) STRICT;
CREATE INDEX users_tenant ON users(tenant_id, username);

CREATE TABLE user_roles (
    username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    role     TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (username, role)
) STRICT;

-- The care units (vårdenheter) a person is limited to; none means the whole tenant.
CREATE TABLE user_care_units (
    username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    hsa_id   TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (username, hsa_id)
) STRICT;
