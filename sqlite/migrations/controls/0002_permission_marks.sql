-- Marks for removal on the care units' permission lists (behörighetslista): one per care unit
-- and HSA-id, kept as the JSON document permlist.Mark. They live beside the control register,
-- as part of the tenant's log controls.
CREATE TABLE permission_marks (
    care_unit TEXT NOT NULL,
    hsa_id    TEXT NOT NULL,
    doc       BLOB NOT NULL,
    PRIMARY KEY (care_unit, hsa_id)
) WITHOUT ROWID;
