-- What each receiver's licences have taken in a year, kept current by the
-- manifest steps so the capacity check does not sum a year of manifests.

-- +goose Up
CREATE TABLE receiver_usage (
    receiver_unit_id TEXT NOT NULL,
    year             BIGINT NOT NULL,
    used_g           BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (receiver_unit_id, year)
);
INSERT INTO receiver_usage (receiver_unit_id, year, used_g)
SELECT m.receiver_unit_id, m.year,
       SUM(CASE WHEN m.status IN ('submitted', 'in_transit') THEN l.quantity_g ELSE COALESCE(l.accepted_g, 0) END)
FROM manifests m JOIN manifest_lines l ON l.manifest_id = m.id
WHERE m.status IN ('submitted', 'in_transit', 'received', 'completed')
GROUP BY m.receiver_unit_id, m.year;

-- +goose Down
DROP TABLE receiver_usage;
