-- Alerts: what a rule found, for the parties concerned and their regulators.

-- +goose Up
CREATE TABLE alerts (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,              -- stable rule name, e.g. weight_discrepancy
    severity     TEXT NOT NULL,              -- info | warning | critical
    title        TEXT NOT NULL,
    detail       TEXT NOT NULL DEFAULT '',
    subject      TEXT NOT NULL,              -- entity kind, e.g. manifest
    subject_id   TEXT NOT NULL,
    subject_ref  TEXT NOT NULL DEFAULT '',   -- human reference, e.g. the manifest number
    region_code  TEXT NOT NULL,              -- whose regulators see it
    dedup_key    TEXT NOT NULL,              -- one open alert per rule and subject
    due_at       TIMESTAMP,
    status       TEXT NOT NULL DEFAULT 'open', -- open | acknowledged | closed
    note         TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    version      INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX alerts_dedup ON alerts (dedup_key) WHERE status <> 'closed';
CREATE INDEX alerts_region ON alerts (region_code, created_at);
CREATE INDEX alerts_subject ON alerts (subject, subject_id);

CREATE TABLE alert_parties (
    alert_id TEXT NOT NULL REFERENCES alerts(id),
    unit_id  TEXT NOT NULL REFERENCES units(id),
    PRIMARY KEY (alert_id, unit_id)
);
CREATE INDEX alert_parties_unit ON alert_parties (unit_id, alert_id);

-- Settings for rules whose values are not fixed by a verified text ([R]).
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Working-day calendar overrides: a day that is, or is not, a working day
-- against the built-in holiday data.
CREATE TABLE calendar_days (
    day      TEXT PRIMARY KEY,               -- YYYY-MM-DD, Asia/Shanghai
    working  INTEGER NOT NULL,
    note     TEXT NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE calendar_days;
DROP TABLE settings;
DROP TABLE alert_parties;
DROP TABLE alerts;
