-- The tenant's reference registers (staff, persons, watch list, cases, units' working hours).
-- Each record is kept as the JSON document vakt validated on import (register/decode.go); key
-- is unique within its register, person (12 digits, '' when none) is what log controls look
-- records up by.

-- +goose Up
CREATE TABLE register_records (
    kind   text  NOT NULL,
    key    text  NOT NULL,
    person text  NOT NULL,
    doc    bytea NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE INDEX register_records_person ON register_records (kind, person) WHERE person <> '';

-- +goose Down
DROP TABLE register_records;
