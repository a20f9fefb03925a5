-- The receipt deadline rule reads only manifests in transit. Indexing every
-- manifest by status moved its index entry at each step; a partial index
-- is touched only when a manifest enters or leaves transit.

-- +goose Up
DROP INDEX manifests_status_due;
CREATE INDEX manifests_in_transit_due ON manifests (receipt_due_at) WHERE status = 'in_transit';

-- +goose Down
DROP INDEX manifests_in_transit_due;
CREATE INDEX manifests_status_due ON manifests (status, receipt_due_at);
