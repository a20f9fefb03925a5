-- Management plans (管理计划, HJ 1259) with their filing numbers, and the
-- declarations (申报) compiled from the ledger. Quantities are integer grams.

-- +goose Up
CREATE TABLE plans (
    id                 TEXT PRIMARY KEY,
    unit_id            TEXT NOT NULL REFERENCES units(id),
    year               BIGINT NOT NULL,
    region_code        TEXT NOT NULL,            -- the unit's county when the plan was made
    status             TEXT NOT NULL,            -- draft | filed | returned
    filing_number      TEXT UNIQUE,              -- HWGL + year + 3406 + 5-digit serial, kept across returns
    class              TEXT NOT NULL DEFAULT '', -- key | simplified | registered, fixed at filing
    unit_info          TEXT NOT NULL,            -- JSON snapshot of the unit's basic information
    facilities         TEXT NOT NULL,            -- JSON snapshot of the unit's facilities
    reduction_measures TEXT NOT NULL DEFAULT '',
    return_reason      TEXT NOT NULL DEFAULT '',
    late               BOOLEAN NOT NULL DEFAULT false,
    submitted_at       TIMESTAMPTZ,
    filed_at           TIMESTAMPTZ,
    returned_at        TIMESTAMPTZ,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    version            BIGINT NOT NULL DEFAULT 1,
    UNIQUE (unit_id, year)
);
CREATE INDEX plans_year ON plans (year, status, id);
CREATE INDEX plans_region ON plans (region_code, created_at);

-- One row per line of a plan section.
CREATE TABLE plan_lines (
    plan_id          TEXT NOT NULL REFERENCES plans(id),
    section          TEXT NOT NULL,              -- generation | storage | inhouse | transfer
    line_no          BIGINT NOT NULL,
    unit_id          TEXT NOT NULL,
    year             BIGINT NOT NULL,
    region_code      TEXT NOT NULL,
    waste_code       TEXT NOT NULL DEFAULT '',
    name             TEXT NOT NULL DEFAULT '',   -- internal name (单位内部名称)
    form             TEXT NOT NULL DEFAULT '',   -- S | SS | L | G
    characteristics  TEXT NOT NULL DEFAULT '',   -- comma list of T, C, I, R, In
    source           TEXT NOT NULL DEFAULT '',   -- 来源及产生工序
    facility_code    TEXT NOT NULL DEFAULT '',
    method           TEXT NOT NULL DEFAULT '',
    receiver_unit_id TEXT REFERENCES units(id),
    planned_g        BIGINT NOT NULL DEFAULT 0,
    last_year_g      BIGINT NOT NULL DEFAULT 0,
    capacity_g       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (plan_id, section, line_no)
);
CREATE INDEX plan_lines_code ON plan_lines (unit_id, year, waste_code);

-- The last filing serial issued per year; serials are never reused.
CREATE TABLE plan_filing_serials (
    year BIGINT PRIMARY KEY,
    last BIGINT NOT NULL
);

CREATE TABLE declarations (
    id           TEXT PRIMARY KEY,
    unit_id      TEXT NOT NULL REFERENCES units(id),
    region_code  TEXT NOT NULL,
    period       TEXT NOT NULL,                  -- 2026-10 | 2026-Q3 | 2026
    kind         TEXT NOT NULL,                  -- monthly | quarterly | yearly
    year         BIGINT NOT NULL,
    period_from  TIMESTAMPTZ NOT NULL,           -- inclusive
    period_to    TIMESTAMPTZ NOT NULL,           -- exclusive
    due_at       TIMESTAMPTZ NOT NULL,
    status       TEXT NOT NULL,                  -- draft | submitted
    late         BOOLEAN NOT NULL DEFAULT false,
    compiled_at  TIMESTAMPTZ NOT NULL,
    submitted_at TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    version      BIGINT NOT NULL DEFAULT 1,
    UNIQUE (unit_id, period)
);
CREATE INDEX declarations_region ON declarations (region_code, created_at);
CREATE INDEX declarations_unit_year ON declarations (unit_id, year);

CREATE TABLE declaration_lines (
    declaration_id TEXT NOT NULL REFERENCES declarations(id),
    waste_code     TEXT NOT NULL,
    opening_g      BIGINT NOT NULL,
    generated_g    BIGINT NOT NULL,
    stored_in_g    BIGINT NOT NULL,
    stored_out_g   BIGINT NOT NULL,
    in_house_g     BIGINT NOT NULL,
    outsourced_g   BIGINT NOT NULL,
    closing_g      BIGINT NOT NULL,
    PRIMARY KEY (declaration_id, waste_code)
);

-- +goose Down
DROP TABLE declaration_lines;
DROP TABLE declarations;
DROP TABLE plan_filing_serials;
DROP TABLE plan_lines;
DROP TABLE plans;
