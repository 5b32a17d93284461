-- The tenant's control register (loggkontroller). Each control is kept as the JSON document
-- control.Control validated before it was stored; created orders the register. Events are the
-- control's history, only ever appended.

-- +goose Up
CREATE TABLE controls (
    id      text        NOT NULL PRIMARY KEY,
    created timestamptz NOT NULL,
    doc     bytea       NOT NULL
);
CREATE INDEX controls_created ON controls (created DESC, id);
CREATE TABLE control_events (
    control_id text    NOT NULL REFERENCES controls (id),
    n          integer NOT NULL,
    doc        bytea   NOT NULL,
    PRIMARY KEY (control_id, n)
);

-- +goose Down
DROP TABLE control_events;
DROP TABLE controls;
