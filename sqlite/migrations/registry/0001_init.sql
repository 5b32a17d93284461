-- Tenants, their care providers and system credentials. One registry per data directory.
CREATE TABLE tenants (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    allow_reserve INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL              -- Unix microseconds
) STRICT;

-- A care provider (vårdgivare) belongs to at most one tenant: entries are routed by it.
CREATE TABLE tenant_care_providers (
    hsa_id    TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    position  INTEGER NOT NULL
) STRICT;
CREATE INDEX tenant_care_providers_tenant ON tenant_care_providers(tenant_id, position);

-- Bearer tokens of producing systems; only the SHA-256 of a token is stored.
CREATE TABLE credentials (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    label      TEXT NOT NULL DEFAULT '',
    token_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;
CREATE INDEX credentials_tenant ON credentials(tenant_id);
