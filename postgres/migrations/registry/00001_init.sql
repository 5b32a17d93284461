-- +goose Up
-- Tenants, their care providers and system credentials, shared by every vakt node.
CREATE TABLE tenants (
    id            text PRIMARY KEY,
    name          text NOT NULL,
    allow_reserve boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL
);

-- A care provider (vårdgivare) belongs to at most one tenant: entries are routed by it.
CREATE TABLE tenant_care_providers (
    hsa_id    text PRIMARY KEY,
    tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    position  integer NOT NULL
);
CREATE INDEX tenant_care_providers_tenant ON tenant_care_providers(tenant_id, position);

-- Bearer tokens of producing systems; only the SHA-256 of a token is stored.
CREATE TABLE credentials (
    id         text PRIMARY KEY,
    tenant_id  text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    role       text NOT NULL,
    label      text NOT NULL DEFAULT '',
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX credentials_tenant ON credentials(tenant_id);

-- +goose Down
DROP TABLE credentials;
DROP TABLE tenant_care_providers;
DROP TABLE tenants;
