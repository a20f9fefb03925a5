-- Foundation schema: regions, departments, the registry, the catalogue,
-- accounts and the audit log. Times are timestamptz in UTC with
-- microseconds; quantities are integer grams.

-- +goose Up
CREATE TABLE regions (
    code        TEXT PRIMARY KEY,            -- GB/T 2260 (6 digits), township (9), or a local park code
    name        TEXT NOT NULL,
    level       TEXT NOT NULL,               -- province | city | county | township | park
    parent_code TEXT REFERENCES regions(code),
    local       BOOLEAN NOT NULL DEFAULT false -- true: a platform-local code, not from GB/T 2260
);

CREATE TABLE departments (
    id          TEXT PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    region_code TEXT NOT NULL REFERENCES regions(code),
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE units (
    id            TEXT PRIMARY KEY,
    uscc          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    region_code   TEXT NOT NULL REFERENCES regions(code),
    park_code     TEXT REFERENCES regions(code),
    address       TEXT NOT NULL DEFAULT '',
    longitude     DOUBLE PRECISION,
    latitude      DOUBLE PRECISION,
    contact_name  TEXT NOT NULL DEFAULT '',
    contact_phone TEXT NOT NULL DEFAULT '',
    industry_code TEXT NOT NULL DEFAULT '',
    industry_name TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL DEFAULT 'active',
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX units_region ON units (region_code, id);
CREATE INDEX units_name ON units (name);

CREATE TABLE unit_roles (
    unit_id TEXT NOT NULL REFERENCES units(id),
    role    TEXT NOT NULL,
    PRIMARY KEY (unit_id, role)
);
CREATE INDEX unit_roles_role ON unit_roles (role, unit_id);

CREATE TABLE licences (
    id          TEXT PRIMARY KEY,
    unit_id     TEXT NOT NULL REFERENCES units(id),
    number      TEXT NOT NULL UNIQUE,
    kinds       TEXT NOT NULL,               -- comma list of collect, store, utilise, dispose
    issuer      TEXT NOT NULL DEFAULT '',
    capacity_g  BIGINT NOT NULL,            -- yearly capacity
    valid_from  TIMESTAMPTZ NOT NULL,
    valid_to    TIMESTAMPTZ NOT NULL,
    status      TEXT NOT NULL DEFAULT 'valid',
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX licences_unit ON licences (unit_id);

-- What a licence covers: a whole category (waste_code '') or one code, by method.
CREATE TABLE licence_scopes (
    licence_id  TEXT NOT NULL REFERENCES licences(id),
    category    TEXT NOT NULL,
    waste_code  TEXT NOT NULL DEFAULT '',
    method      TEXT NOT NULL,
    PRIMARY KEY (licence_id, category, waste_code, method)
);
CREATE INDEX licence_scopes_code ON licence_scopes (category, waste_code);

CREATE TABLE vehicles (
    id          TEXT PRIMARY KEY,
    unit_id     TEXT NOT NULL REFERENCES units(id),
    plate       TEXT NOT NULL UNIQUE,
    permit_no   TEXT NOT NULL,               -- 道路运输证 / dangerous-goods transport permit
    kind        TEXT NOT NULL DEFAULT '',
    capacity_g  BIGINT NOT NULL,
    permit_valid_to TIMESTAMPTZ,
    status      TEXT NOT NULL DEFAULT 'active',
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX vehicles_unit ON vehicles (unit_id);

CREATE TABLE facilities (
    id          TEXT PRIMARY KEY,
    unit_id     TEXT NOT NULL REFERENCES units(id),
    code        TEXT NOT NULL,               -- the unit's own facility code (HJ 1259)
    kind        TEXT NOT NULL,               -- generation | storage | utilisation | disposal
    name        TEXT NOT NULL,
    method      TEXT NOT NULL DEFAULT '',
    capacity_g  BIGINT NOT NULL DEFAULT 0,  -- storage: what it holds; others: per year
    status      TEXT NOT NULL DEFAULT 'active',
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1,
    UNIQUE (unit_id, code)
);

-- Catalogue (名录).
CREATE TABLE hw_categories (
    code    TEXT PRIMARY KEY,                -- HW01 … HW50
    name    TEXT NOT NULL
);
CREATE TABLE waste_codes (
    code            TEXT PRIMARY KEY,        -- ddd-ddd-dd
    category        TEXT NOT NULL REFERENCES hw_categories(code),
    industry        TEXT NOT NULL,
    description     TEXT NOT NULL,
    characteristics TEXT NOT NULL,           -- comma list of T, C, I, R, In
    edition         TEXT NOT NULL            -- e.g. 2025 or 2025-subset
);
CREATE INDEX waste_codes_category ON waste_codes (category, code);
CREATE TABLE methods (
    code    TEXT PRIMARY KEY,
    kind    TEXT NOT NULL,                   -- utilisation | disposal | other | medical
    name    TEXT NOT NULL,
    local   BOOLEAN NOT NULL DEFAULT false
);
CREATE TABLE exemptions (
    no          BIGINT PRIMARY KEY,
    waste_code  TEXT NOT NULL,               -- may name a category or several codes
    description TEXT NOT NULL,
    stage       TEXT NOT NULL,               -- the exempted stage
    condition   TEXT NOT NULL,
    exemption   TEXT NOT NULL                -- what is exempted
);
CREATE TABLE gisw_categories (
    code    TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    note    TEXT NOT NULL DEFAULT ''
);

-- Accounts.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    unit_id       TEXT REFERENCES units(id),
    department_id TEXT REFERENCES departments(id),
    region_code   TEXT REFERENCES regions(code),
    disabled      BOOLEAN NOT NULL DEFAULT false,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX users_unit ON users (unit_id);

CREATE TABLE tokens (
    hash         TEXT PRIMARY KEY,           -- hex SHA-256 of the secret
    user_id      TEXT NOT NULL REFERENCES users(id),
    kind         TEXT NOT NULL,              -- session | api
    name         TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX tokens_user ON tokens (user_id);

CREATE TABLE login_failures (
    username TEXT NOT NULL,
    at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_failures_user ON login_failures (username, at);

CREATE TABLE idempotency_keys (
    key_hash     TEXT PRIMARY KEY,           -- SHA-256 of principal + key
    request_hash TEXT NOT NULL,
    status       BIGINT NOT NULL,           -- 0 while in progress
    content_type TEXT NOT NULL DEFAULT '',
    body         BYTEA,
    created_at   TIMESTAMPTZ NOT NULL
);

-- Audit log (监督留痕): an append-only hash chain whose entries are the
-- leaves of a Merkle tree.
CREATE TABLE audit_entries (
    seq            BIGINT PRIMARY KEY,      -- gapless, from 1
    at             TIMESTAMPTZ NOT NULL,
    actor_user_id  TEXT NOT NULL,
    actor_username TEXT NOT NULL,
    actor_role     TEXT NOT NULL,
    actor_unit_id  TEXT NOT NULL,
    action         TEXT NOT NULL,
    entity         TEXT NOT NULL,
    entity_id      TEXT NOT NULL,
    unit_id        TEXT NOT NULL,            -- the unit the entry concerns, '' if none
    region_code    TEXT NOT NULL,            -- the region it concerns, '' if none
    change         TEXT NOT NULL,            -- canonical JSON, kept byte for byte
    prev_hash      BYTEA NOT NULL,
    hash           BYTEA NOT NULL
);
CREATE INDEX audit_entries_entity ON audit_entries (entity, entity_id, seq);
CREATE INDEX audit_entries_unit ON audit_entries (unit_id, seq);
CREATE INDEX audit_entries_region ON audit_entries (region_code, seq);

CREATE TABLE audit_tree (
    idx  BIGINT PRIMARY KEY,                -- tlog stored-hash index
    hash BYTEA NOT NULL
);
CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash BYTEA NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '\x'::bytea);
CREATE TABLE audit_checkpoints (
    size BIGINT PRIMARY KEY,
    root BYTEA NOT NULL,
    note TEXT NOT NULL,
    at   TIMESTAMPTZ NOT NULL
);
CREATE TABLE audit_keys (
    name       TEXT PRIMARY KEY,
    verifier   TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- +goose StatementBegin
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
-- +goose StatementEnd
CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_tree_append_only BEFORE UPDATE OR DELETE ON audit_tree
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();

-- +goose Down
SELECT 'the foundation schema is not reversible';
