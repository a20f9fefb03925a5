-- A trace reads which records name each of its containers. Indexed by the
-- digital id alone, each of a container's records cost a visit to the table
-- for its record id; with the record id in the index the read is the index's.

-- +goose Up
DROP INDEX ledger_containers_digital;
CREATE INDEX ledger_containers_digital ON ledger_containers (digital_id, record_id);

-- +goose Down
DROP INDEX ledger_containers_digital;
CREATE INDEX ledger_containers_digital ON ledger_containers (digital_id);
