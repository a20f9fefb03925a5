-- A manifest list reads each way its caller sees manifests through an index
-- in id order (newest first) and stops at a page. A waste code walks the
-- code's lines by manifest; a year walks the year's manifests. A year never
-- changes, so its index is written once per manifest, not at every step. A
-- park's regulator reaches manifests through the park's units.

-- +goose Up
DROP INDEX manifest_lines_code;
CREATE INDEX manifest_lines_code ON manifest_lines (waste_code, manifest_id);
CREATE INDEX manifests_year ON manifests (year, id);
CREATE INDEX units_park ON units (park_code);

-- +goose Down
DROP INDEX units_park;
DROP INDEX manifests_year;
DROP INDEX manifest_lines_code;
CREATE INDEX manifest_lines_code ON manifest_lines (waste_code);
