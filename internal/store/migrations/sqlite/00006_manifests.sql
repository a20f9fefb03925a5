-- Electronic transfer manifests (电子转移联单).

-- +goose Up
CREATE TABLE manifests (
    id                   TEXT PRIMARY KEY,
    number               TEXT NOT NULL UNIQUE,      -- YYYY + 3406 + 6-digit serial
    year                 INTEGER NOT NULL,
    status               TEXT NOT NULL,             -- draft submitted in_transit received completed cancelled refused
    consignor_unit_id    TEXT NOT NULL REFERENCES units(id),
    receiver_unit_id     TEXT NOT NULL REFERENCES units(id),
    region_code          TEXT NOT NULL,             -- the consignor's county
    receiver_region_code TEXT NOT NULL,
    cross_province       INTEGER NOT NULL DEFAULT 0,
    approval_id          TEXT NOT NULL DEFAULT '',
    route_id             TEXT NOT NULL DEFAULT '',
    previous_id          TEXT REFERENCES manifests(id), -- refused waste moving on or back
    emergency_measures   TEXT NOT NULL DEFAULT '',
    note                 TEXT NOT NULL DEFAULT '',
    warnings             TEXT NOT NULL DEFAULT '',  -- JSON list of warnings at submission
    submitted_at         TIMESTAMP,
    picked_up_at         TIMESTAMP,
    arrived_at           TIMESTAMP,
    receipt_due_at       TIMESTAMP,
    received_at          TIMESTAMP,
    completed_at         TIMESTAMP,
    closed_at            TIMESTAMP,                 -- cancelled or refused
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL,
    version              INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX manifests_consignor ON manifests (consignor_unit_id, id);
CREATE INDEX manifests_receiver ON manifests (receiver_unit_id, id);
CREATE INDEX manifests_region ON manifests (region_code, id);
CREATE INDEX manifests_receiver_region ON manifests (receiver_region_code, id);
CREATE INDEX manifests_status_due ON manifests (status, receipt_due_at);

CREATE TABLE manifest_lines (
    manifest_id     TEXT NOT NULL REFERENCES manifests(id),
    line_no         INTEGER NOT NULL,
    waste_code      TEXT NOT NULL,
    category        TEXT NOT NULL,
    name            TEXT NOT NULL,                  -- the unit's own name for it
    official_name   TEXT NOT NULL,                  -- the 名录 description
    quantity_g      INTEGER NOT NULL,               -- declared
    form            TEXT NOT NULL,                  -- S SS L G
    characteristics TEXT NOT NULL,
    packaging       TEXT NOT NULL,
    package_count   INTEGER NOT NULL,
    container_ids   TEXT NOT NULL DEFAULT '',       -- comma list of digital ids
    received_g      INTEGER,
    accepted_g      INTEGER,
    refused_g       INTEGER,
    refusal_reason  TEXT NOT NULL DEFAULT '',
    method          TEXT NOT NULL DEFAULT '',
    approval_id     TEXT NOT NULL DEFAULT '',       -- the cross-province approval the line draws on
    PRIMARY KEY (manifest_id, line_no)
);
CREATE INDEX manifest_lines_code ON manifest_lines (waste_code);

CREATE TABLE manifest_carriers (
    manifest_id     TEXT NOT NULL REFERENCES manifests(id),
    leg             INTEGER NOT NULL,
    carrier_unit_id TEXT NOT NULL REFERENCES units(id),
    vehicle_plate   TEXT NOT NULL,
    picked_up_at    TIMESTAMP,
    PRIMARY KEY (manifest_id, leg)
);
CREATE INDEX manifest_carriers_unit ON manifest_carriers (carrier_unit_id, manifest_id);

-- Each signed step, with the audit entry that records it.
CREATE TABLE manifest_steps (
    manifest_id    TEXT NOT NULL REFERENCES manifests(id),
    step           INTEGER NOT NULL,
    action         TEXT NOT NULL,
    status         TEXT NOT NULL,                   -- status after the step
    at             TIMESTAMP NOT NULL,
    actor_user_id  TEXT NOT NULL,
    actor_username TEXT NOT NULL,
    actor_unit_id  TEXT NOT NULL,
    audit_seq      INTEGER NOT NULL,
    PRIMARY KEY (manifest_id, step)
);

CREATE TABLE manifest_serials (
    prefix TEXT PRIMARY KEY,                        -- YYYY3406
    last   INTEGER NOT NULL
);

-- Corrections after signature: a request approved by every affected party.
CREATE TABLE manifest_revisions (
    id              TEXT PRIMARY KEY,
    manifest_id     TEXT NOT NULL REFERENCES manifests(id),
    author_unit_id  TEXT NOT NULL,
    author_user_id  TEXT NOT NULL,
    reason          TEXT NOT NULL,
    changes         TEXT NOT NULL,                  -- JSON
    status          TEXT NOT NULL,                  -- pending approved refused
    created_at      TIMESTAMP NOT NULL,
    decided_at      TIMESTAMP
);
CREATE INDEX manifest_revisions_manifest ON manifest_revisions (manifest_id);
CREATE TABLE manifest_revision_approvals (
    revision_id TEXT NOT NULL REFERENCES manifest_revisions(id),
    unit_id     TEXT NOT NULL,
    status      TEXT NOT NULL,                      -- pending approved refused
    comment     TEXT NOT NULL DEFAULT '',
    decided_at  TIMESTAMP,
    PRIMARY KEY (revision_id, unit_id)
);

-- +goose Down
DROP TABLE manifest_revision_approvals;
DROP TABLE manifest_revisions;
DROP TABLE manifest_serials;
DROP TABLE manifest_steps;
DROP TABLE manifest_carriers;
DROP TABLE manifest_lines;
DROP TABLE manifests;
