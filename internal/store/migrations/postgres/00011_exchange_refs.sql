-- The references people give records in their own workbooks (自编号), so
-- that importing the same rows again finds the records they made.

-- +goose Up
CREATE TABLE exchange_refs (
    kind       TEXT NOT NULL,   -- the exchange kind, e.g. hw_ledger
    owner_id   TEXT NOT NULL,   -- the unit whose reference it is
    ref        TEXT NOT NULL,
    entity_id  TEXT NOT NULL,   -- the record it names
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (kind, owner_id, ref)
);
CREATE INDEX exchange_refs_entity ON exchange_refs (kind, entity_id);

-- +goose Down
DROP TABLE exchange_refs;
