-- Cross-province transfer approvals (跨省转移审批) and the Yangtze-Delta
-- whitelist of pre-approved utilisation routes (白名单). Validity days are
-- TEXT YYYY-MM-DD in Asia/Shanghai, both ends inclusive, so they compare as
-- text on both engines.

-- +goose Up
CREATE TABLE approvals (
    id                TEXT PRIMARY KEY,
    number            TEXT NOT NULL UNIQUE,       -- the provincial decision number
    from_province     TEXT NOT NULL,              -- 移出地 province, 2 digits (34 Anhui)
    to_province       TEXT NOT NULL,              -- 接受地 province
    consignor_unit_id TEXT NOT NULL REFERENCES units(id),
    receiver_unit_id  TEXT NOT NULL REFERENCES units(id),
    method            TEXT NOT NULL,              -- R/D/C code
    issuer            TEXT NOT NULL DEFAULT '',
    valid_from        TEXT NOT NULL,
    valid_to          TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'valid', -- valid | suspended | revoked | expired
    raised_cap        INTEGER NOT NULL DEFAULT 0, -- 1: the 60 % inbound cap applies
    region_code       TEXT NOT NULL,              -- the Huaibei party's county
    note              TEXT NOT NULL DEFAULT '',
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    version           INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX approvals_parties ON approvals (consignor_unit_id, receiver_unit_id, valid_to);
CREATE INDEX approvals_receiver ON approvals (receiver_unit_id, id);
CREATE INDEX approvals_region ON approvals (region_code, id);

-- One line per waste code: the cap and what manifests have used of it.
CREATE TABLE approval_items (
    approval_id TEXT NOT NULL REFERENCES approvals(id),
    waste_code  TEXT NOT NULL,
    category    TEXT NOT NULL,
    quantity_g  INTEGER NOT NULL,
    used_g      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (approval_id, waste_code),
    CHECK (used_g >= 0 AND used_g <= quantity_g)
);
CREATE INDEX approval_items_code ON approval_items (waste_code, approval_id);

CREATE TABLE whitelist_routes (
    id                TEXT PRIMARY KEY,
    reference         TEXT NOT NULL DEFAULT '',   -- the list or notice that names the route
    from_province     TEXT NOT NULL,
    to_province       TEXT NOT NULL,
    consignor_unit_id TEXT NOT NULL REFERENCES units(id),
    receiver_unit_id  TEXT NOT NULL REFERENCES units(id),
    valid_from        TEXT NOT NULL,
    valid_to          TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'valid',
    region_code       TEXT NOT NULL,
    note              TEXT NOT NULL DEFAULT '',
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    version           INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX whitelist_routes_parties ON whitelist_routes (consignor_unit_id, receiver_unit_id, valid_to);
CREATE INDEX whitelist_routes_receiver ON whitelist_routes (receiver_unit_id, id);
CREATE INDEX whitelist_routes_region ON whitelist_routes (region_code, id);

CREATE TABLE whitelist_route_codes (
    route_id   TEXT NOT NULL REFERENCES whitelist_routes(id),
    waste_code TEXT NOT NULL,
    category   TEXT NOT NULL,
    PRIMARY KEY (route_id, waste_code)
);
CREATE INDEX whitelist_route_codes_code ON whitelist_route_codes (waste_code, route_id);

-- +goose Down
DROP TABLE whitelist_route_codes;
DROP TABLE whitelist_routes;
DROP TABLE approval_items;
DROP TABLE approvals;
