-- One tenant's control register (loggkontroller), in a file of its own beside the tenant's log
-- and registers: SQLite has one writer per file, and a reviewer's assessment must not wait for a
-- long register import or the log's group commits.
--
-- Each control is kept as the JSON document control.Control validated before it was stored;
-- created orders the register. Events are the control's history, only ever appended.
CREATE TABLE controls (
    id      TEXT    NOT NULL PRIMARY KEY,
    created INTEGER NOT NULL, -- unix microseconds
    doc     BLOB    NOT NULL
) WITHOUT ROWID;
CREATE INDEX controls_created ON controls (created DESC, id);
CREATE TABLE control_events (
    control_id TEXT    NOT NULL REFERENCES controls (id),
    n          INTEGER NOT NULL, -- 1, 2, … within the control
    doc        BLOB    NOT NULL,
    PRIMARY KEY (control_id, n)
) WITHOUT ROWID;
