-- +goose Up
-- An account can be disabled: it cannot log in, and its open sessions end at their next request.
-- Disabling rather than removing keeps the account (and its name beside its HSA-id in the
-- account list) while a person is on leave or under investigation.
ALTER TABLE users ADD COLUMN disabled boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE users DROP COLUMN disabled;
