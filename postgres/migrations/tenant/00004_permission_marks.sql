-- Marks for removal on the care units' permission lists (behörighetslista): one per care unit
-- and HSA-id, kept as the JSON document permlist.Mark.

-- +goose Up
CREATE TABLE permission_marks (
    care_unit text  NOT NULL,
    hsa_id    text  NOT NULL,
    doc       bytea NOT NULL,
    PRIMARY KEY (care_unit, hsa_id)
);

-- +goose Down
DROP TABLE permission_marks;
