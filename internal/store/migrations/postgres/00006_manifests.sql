-- Electronic transfer manifests (电子转移联单).

-- +goose Up
CREATE TABLE manifests (
    id                   TEXT PRIMARY KEY,
    number               TEXT NOT NULL UNIQUE,      -- YYYY + 3406 + 6-digit serial
    year                 BIGINT NOT NULL,
    status               TEXT NOT NULL,             -- draft submitted in_transit received completed cancelled refused
    consignor_unit_id    TEXT NOT NULL REFERENCES units(id),
    receiver_unit_id     TEXT NOT NULL REFERENCES units(id),
    region_code          TEXT NOT NULL,             -- the consignor's county
    receiver_region_code TEXT NOT NULL,
    cross_province       BOOLEAN NOT NULL DEFAULT false,
    approval_id          TEXT NOT NULL DEFAULT '',
    route_id             TEXT NOT NULL DEFAULT '',
    previous_id          TEXT REFERENCES manifests(id), -- refused waste moving on or back
    emergency_measures   TEXT NOT NULL DEFAULT '',
    note                 TEXT NOT NULL DEFAULT '',
    warnings             TEXT NOT NULL DEFAULT '',  -- JSON list of warnings at submission
    submitted_at         TIMESTAMPTZ,
    picked_up_at         TIMESTAMPTZ,
    arrived_at           TIMESTAMPTZ,
    receipt_due_at       TIMESTAMPTZ,
    received_at          TIMESTAMPTZ,
    completed_at         TIMESTAMPTZ,
    closed_at            TIMESTAMPTZ,                 -- cancelled or refused
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL,
    version              BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX manifests_consignor ON manifests (consignor_unit_id, id);
CREATE INDEX manifests_receiver ON manifests (receiver_unit_id, id);
CREATE INDEX manifests_region ON manifests (region_code, id);
CREATE INDEX manifests_receiver_region ON manifests (receiver_region_code, id);
CREATE INDEX manifests_status_due ON manifests (status, receipt_due_at);

CREATE TABLE manifest_lines (
    manifest_id     TEXT NOT NULL REFERENCES manifests(id),
    line_no         BIGINT NOT NULL,
    waste_code      TEXT NOT NULL,
    category        TEXT NOT NULL,
    name            TEXT NOT NULL,                  -- the unit's own name for it
    official_name   TEXT NOT NULL,                  -- the 名录 description
    quantity_g      BIGINT NOT NULL,               -- declared
    form            TEXT NOT NULL,                  -- S SS L G
    characteristics TEXT NOT NULL,
    packaging       TEXT NOT NULL,
    package_count   BIGINT NOT NULL,
    container_ids   TEXT NOT NULL DEFAULT '',       -- comma list of digital ids
    received_g      BIGINT,
    accepted_g      BIGINT,
    refused_g       BIGINT,
    refusal_reason  TEXT NOT NULL DEFAULT '',
    method          TEXT NOT NULL DEFAULT '',
    approval_id     TEXT NOT NULL DEFAULT '',       -- the cross-province approval the line draws on
    PRIMARY KEY (manifest_id, line_no)
);
CREATE INDEX manifest_lines_code ON manifest_lines (waste_code);

CREATE TABLE manifest_carriers (
    manifest_id     TEXT NOT NULL REFERENCES manifests(id),
    leg             BIGINT NOT NULL,
    carrier_unit_id TEXT NOT NULL REFERENCES units(id),
    vehicle_plate   TEXT NOT NULL,
    picked_up_at    TIMESTAMPTZ,
    PRIMARY KEY (manifest_id, leg)
);
CREATE INDEX manifest_carriers_unit ON manifest_carriers (carrier_unit_id, manifest_id);

-- Each signed step, with the audit entry that records it.
CREATE TABLE manifest_steps (
    manifest_id    TEXT NOT NULL REFERENCES manifests(id),
    step           BIGINT NOT NULL,
    action         TEXT NOT NULL,
    status         TEXT NOT NULL,                   -- status after the step
    at             TIMESTAMPTZ NOT NULL,
    actor_user_id  TEXT NOT NULL,
    actor_username TEXT NOT NULL,
    actor_unit_id  TEXT NOT NULL,
    audit_seq      BIGINT NOT NULL,
    PRIMARY KEY (manifest_id, step)
);

CREATE TABLE manifest_serials (
    prefix TEXT PRIMARY KEY,                        -- YYYY3406
    last   BIGINT NOT NULL
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
    created_at      TIMESTAMPTZ NOT NULL,
    decided_at      TIMESTAMPTZ
);
CREATE INDEX manifest_revisions_manifest ON manifest_revisions (manifest_id);
CREATE TABLE manifest_revision_approvals (
    revision_id TEXT NOT NULL REFERENCES manifest_revisions(id),
    unit_id     TEXT NOT NULL,
    status      TEXT NOT NULL,                      -- pending approved refused
    comment     TEXT NOT NULL DEFAULT '',
    decided_at  TIMESTAMPTZ,
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
