-- The Zero-Waste City indicator system (附件1): the indicator tree, the
-- reported values with every version and their evidence, and the effective
-- value of each indicator per region and period, which the indicator list
-- reads. Values are integers in millionths of the indicator's unit
-- (value_e6 = value × 10⁶), so no float is stored or compared.

-- +goose Up
CREATE TABLE indicators (
    id              TEXT PRIMARY KEY,            -- stable id, e.g. ihw_utilization_rate
    position        INTEGER NOT NULL,            -- order in the tree
    level1          TEXT NOT NULL,               -- 一级
    level2          TEXT NOT NULL,               -- 二级
    name            TEXT NOT NULL,               -- 三级
    unit            TEXT NOT NULL,               -- % | t/万元 | t | 个 | 家 | 项 | 万元 | 亿元 | kg/人·d | 是/否
    direction       TEXT NOT NULL,               -- higher | lower (is better)
    kind            TEXT NOT NULL,               -- computed | reported
    formula         TEXT NOT NULL,               -- formula or reporting rule, zh-CN
    lead_department TEXT NOT NULL,               -- department code
    co_departments  TEXT NOT NULL DEFAULT '',    -- comma list of department codes
    mandatory       INTEGER NOT NULL DEFAULT 0,  -- ★ in the national framework
    source          TEXT NOT NULL,               -- plan | national-reconstruction | auxiliary
    baseline_year   INTEGER,
    baseline_e6     INTEGER,
    target_e6       INTEGER,
    target_year     INTEGER,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    version         INTEGER NOT NULL DEFAULT 1
);

-- Every submitted version of a reported value; only an approved one counts.
CREATE TABLE indicator_reports (
    id            TEXT PRIMARY KEY,
    indicator_id  TEXT NOT NULL REFERENCES indicators(id),
    region_code   TEXT NOT NULL REFERENCES regions(code),
    period        TEXT NOT NULL,                 -- 2026 | 2026Q3 | 2026-09
    seq           INTEGER NOT NULL,              -- 1, 2, … per indicator, region and period
    value_e6      INTEGER NOT NULL,
    comment       TEXT NOT NULL,
    status        TEXT NOT NULL,                 -- pending | approved | returned | superseded
    department    TEXT NOT NULL,                 -- code of the reporting department
    submitted_by  TEXT NOT NULL,                 -- user id
    submitter     TEXT NOT NULL,                 -- username
    submitted_at  TIMESTAMP NOT NULL,
    decided_by    TEXT NOT NULL DEFAULT '',
    decided_at    TIMESTAMP,
    decision_note TEXT NOT NULL DEFAULT '',
    version       INTEGER NOT NULL DEFAULT 1,
    UNIQUE (indicator_id, region_code, period, seq)
);
CREATE INDEX indicator_reports_status ON indicator_reports (status, submitted_at);
CREATE INDEX indicator_reports_region ON indicator_reports (region_code, submitted_at);

-- Evidence files of a report, kept in the database with their checksum.
CREATE TABLE indicator_evidence (
    id           TEXT PRIMARY KEY,
    report_id    TEXT NOT NULL REFERENCES indicator_reports(id),
    region_code  TEXT NOT NULL,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,                  -- hex
    content      BLOB NOT NULL,
    uploaded_by  TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX indicator_evidence_report ON indicator_evidence (report_id);

-- The effective value per indicator, region and period: computed from the
-- platform's records by Refresh, or the approved report. value_e6 is NULL
-- when a computed indicator has no records behind it.
CREATE TABLE indicator_values (
    indicator_id   TEXT NOT NULL REFERENCES indicators(id),
    region_code    TEXT NOT NULL,
    period         TEXT NOT NULL,
    period_kind    TEXT NOT NULL,                -- year | quarter | month
    year           INTEGER NOT NULL,
    value_e6       INTEGER,
    numerator_e6   INTEGER,
    denominator_e6 INTEGER,
    source         TEXT NOT NULL,                -- computed | reported
    report_id      TEXT NOT NULL DEFAULT '',
    computed_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (indicator_id, region_code, period)
);
CREATE INDEX indicator_values_region ON indicator_values (region_code, period_kind, year, indicator_id);

-- How far each region, period and group of computed indicators has been
-- refreshed: the audit sequence number the last refresh saw, so a read
-- knows whether records changed since.
CREATE TABLE indicator_marks (
    region_code  TEXT NOT NULL,
    period       TEXT NOT NULL,
    grp          TEXT NOT NULL,                  -- records | cells
    audit_seq    INTEGER NOT NULL,
    refreshed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (region_code, period, grp)
);

-- +goose Down
DROP TABLE indicator_marks;
DROP TABLE indicator_values;
DROP TABLE indicator_evidence;
DROP TABLE indicator_reports;
DROP TABLE indicators;
