-- One tenant's reference registers (staff, persons, watch list, cases, units' working hours),
-- in a file of their own beside the tenant's log: SQLite has one writer per file, and an import
-- of millions of persons must not hold up the log's group commits.
--
-- Each record is kept as the JSON document vakt validated on import (register/decode.go); key
-- is unique within its register, person (12 digits, '' when none) is what log controls look
-- records up by.
CREATE TABLE register_records (
    kind   TEXT NOT NULL,
    key    TEXT NOT NULL,
    person TEXT NOT NULL,
    doc    BLOB NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE INDEX register_records_person ON register_records (kind, person) WHERE person <> '';
