-- Hazardous-waste quantities by month, kept current in the transactions
-- that write the ledger and move manifests (internal/hw/volumes), so that
-- the dashboard, the indicators and the annual publication sum a few rows
-- a month instead of a year of records. Derived, like receiver_usage: it
-- can always be rebuilt from the records, and the retention triggers do
-- not guard it.
--
-- kind is a ledger effect kind (generation storage_in storage_out in_house
-- outsourced; region_code is the record's, method its method's) or a
-- manifest figure, each naming only what its readers ask for:
--   transferred  picked up and not refused or cancelled: declared grams by pickup month;
--                region_code the consignor's county, other_region the receiver's (dashboard)
--   shipped      picked up, not cancelled, not a refused load sent on: declared grams by
--                pickup month and consignor's county (publication)
--   delivered    completed: accepted grams by pickup month, consignor's county and method
--                (indicators, publication)
--   completed    completed: accepted grams by completion month, receiver's county
--                (other_region the consignor's) and method (dashboard)
--   received     completed: accepted grams by receipt month, receiver's county, receiver
--                (unit_id) and method (publication)
--   submitted    submitted and not closed: declared grams, accepted once received, by
--                submission month, consignor's county, receiver's county and receiver (Sankey)
-- month is YYYY-MM in China time (UTC+8); method is the method's first
-- letter (R utilisation, D disposal, C …) or ''. Parks are not a column: a
-- unit's park may change, and figures for a park are read from the records.

-- +goose Up
CREATE TABLE hw_volumes (
    kind         TEXT NOT NULL,
    month        TEXT NOT NULL,
    region_code  TEXT NOT NULL,
    other_region TEXT NOT NULL DEFAULT '',
    unit_id      TEXT NOT NULL DEFAULT '',
    category     TEXT NOT NULL,
    method       TEXT NOT NULL DEFAULT '',
    g            INTEGER NOT NULL DEFAULT 0,
    n            INTEGER NOT NULL DEFAULT 0,   -- ledger records or manifest lines counted
    PRIMARY KEY (kind, region_code, month, other_region, unit_id, category, method)
) WITHOUT ROWID;

-- An area's figures (the indicators, a county's dashboard) are read by the
-- key, however many regions and years the table holds; the whole city's
-- (the dashboard, the publication) by the months.
CREATE INDEX hw_volumes_month ON hw_volumes (kind, month);

-- Stored times are text such as 2026-03-01 04:00:00.123456+00:00; the
-- fraction is dropped before SQLite's date functions, which round to the
-- millisecond and would carry 23:59:59.9995 into the next month.
INSERT INTO hw_volumes (kind, month, region_code, other_region, unit_id, category, method, g, n)
SELECT effect_kind, strftime('%Y-%m', substr(occurred_at, 1, 19) || substr(occurred_at, -6), '+8 hours'), region_code, '', '',
       category, substr(method, 1, 1), SUM(delta_g), COUNT(*)
FROM ledger_records
GROUP BY 1, 2, 3, 6, 7;

INSERT INTO hw_volumes (kind, month, region_code, other_region, unit_id, category, method, g, n)
SELECT 'transferred', strftime('%Y-%m', substr(m.picked_up_at, 1, 19) || substr(m.picked_up_at, -6), '+8 hours'),
       m.region_code, m.receiver_region_code, '', l.category, '', SUM(l.quantity_g), COUNT(*)
FROM manifests m JOIN manifest_lines l ON l.manifest_id = m.id
WHERE m.status IN ('in_transit', 'received', 'completed') AND m.picked_up_at IS NOT NULL
GROUP BY 2, 3, 4, 6;

INSERT INTO hw_volumes (kind, month, region_code, other_region, unit_id, category, method, g, n)
SELECT 'shipped', strftime('%Y-%m', substr(m.picked_up_at, 1, 19) || substr(m.picked_up_at, -6), '+8 hours'),
       m.region_code, '', '', l.category, '', SUM(l.quantity_g), COUNT(*)
FROM manifests m JOIN manifest_lines l ON l.manifest_id = m.id
WHERE m.status IN ('in_transit', 'received', 'completed', 'refused') AND m.previous_id IS NULL AND m.picked_up_at IS NOT NULL
GROUP BY 2, 3, 6;

INSERT INTO hw_volumes (kind, month, region_code, other_region, unit_id, category, method, g, n)
SELECT 'delivered', strftime('%Y-%m', substr(m.picked_up_at, 1, 19) || substr(m.picked_up_at, -6), '+8 hours'),
       m.region_code, '', '', l.category, substr(l.method, 1, 1), SUM(COALESCE(l.accepted_g, 0)), COUNT(*)
FROM manifests m JOIN manifest_lines l ON l.manifest_id = m.id
WHERE m.status = 'completed' AND m.picked_up_at IS NOT NULL
GROUP BY 2, 3, 6, 7;

INSERT INTO hw_volumes (kind, month, region_code, other_region, unit_id, category, method, g, n)
SELECT 'completed', strftime('%Y-%m', substr(m.completed_at, 1, 19) || substr(m.completed_at, -6), '+8 hours'),
       m.receiver_region_code, m.region_code, '', l.category, substr(l.method, 1, 1),
       SUM(COALESCE(l.accepted_g, 0)), COUNT(*)
FROM manifests m JOIN manifest_lines l ON l.manifest_id = m.id
WHERE m.status = 'completed' AND m.completed_at IS NOT NULL
GROUP BY 2, 3, 4, 6, 7;

INSERT INTO hw_volumes (kind, month, region_code, other_region, unit_id, category, method, g, n)
SELECT 'received', strftime('%Y-%m', substr(m.received_at, 1, 19) || substr(m.received_at, -6), '+8 hours'),
       m.receiver_region_code, '', m.receiver_unit_id, l.category, substr(l.method, 1, 1),
       SUM(COALESCE(l.accepted_g, 0)), COUNT(*)
FROM manifests m JOIN manifest_lines l ON l.manifest_id = m.id
WHERE m.status = 'completed' AND m.received_at IS NOT NULL
GROUP BY 2, 3, 5, 6, 7;

INSERT INTO hw_volumes (kind, month, region_code, other_region, unit_id, category, method, g, n)
SELECT 'submitted', strftime('%Y-%m', substr(m.submitted_at, 1, 19) || substr(m.submitted_at, -6), '+8 hours'),
       m.region_code, m.receiver_region_code, m.receiver_unit_id, l.category, '',
       SUM(CASE WHEN m.status IN ('received', 'completed') THEN COALESCE(l.accepted_g, 0) ELSE l.quantity_g END), COUNT(*)
FROM manifests m JOIN manifest_lines l ON l.manifest_id = m.id
WHERE m.status IN ('submitted', 'in_transit', 'received', 'completed') AND m.submitted_at IS NOT NULL
GROUP BY 2, 3, 4, 5, 6;

-- An indicator's drill-down lists the first records of a period in time
-- order: through this index it stops after a page instead of sorting the
-- period's whole ledger.
CREATE INDEX ledger_records_effect_time ON ledger_records (effect_kind, occurred_at);

-- +goose Down
DROP INDEX ledger_records_effect_time;
DROP TABLE hw_volumes;
