-- A list filtered by a status other than completed wants few manifests: those
-- under way and the rare cancelled or refused. Without an index it walked a
-- region's (or, for the administrator, the platform's) every manifest to
-- fill a page or to find there were no more. A completed manifest leaves
-- the index, so it holds only the manifests still moving or ended short.

-- +goose Up
CREATE INDEX manifests_open ON manifests (status, id) WHERE status <> 'completed';

-- +goose Down
DROP INDEX manifests_open;
