-- +goose Up
-- People's local accounts (embedded mode and small installations): login name, the tenant they
-- act in, their HSA-id (user.userId of the log entries about their own reads), roles and
-- care-unit limits. Only an argon2id hash of a password is stored.
CREATE TABLE users (
    username      text PRIMARY KEY,
    tenant_id     text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name          text NOT NULL DEFAULT '',
    hsa_id        text NOT NULL,
    title         text NOT NULL DEFAULT '',
    password_hash text NOT NULL,
    must_change   boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL
);
CREATE INDEX users_tenant ON users(tenant_id, username);

CREATE TABLE user_roles (
    username text NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    role     text NOT NULL,
    position integer NOT NULL,
    PRIMARY KEY (username, role)
);

-- The care units (vårdenheter) a person is limited to; none means the whole tenant.
CREATE TABLE user_care_units (
    username text NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    hsa_id   text NOT NULL,
    position integer NOT NULL,
    PRIMARY KEY (username, hsa_id)
);

-- +goose Down
DROP TABLE user_care_units;
DROP TABLE user_roles;
DROP TABLE users;
