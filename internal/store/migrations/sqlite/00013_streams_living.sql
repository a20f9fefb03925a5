-- The agricultural and household waste streams' records (二(二), 二(三)).
-- Every table carries the region code (a county or park of 340600), the
-- unit the record belongs to ('' when a department keeps it), year and
-- month (0 for a yearly record), so indicators filter by area and period
-- alone. Quantities are integer grams (_g); dates are TEXT YYYY-MM-DD.
-- The key a workbook row is matched by is the UNIQUE constraint.

-- +goose Up
-- 秸秆: collectable straw and its "五化" utilisation by township, year and season (month 6 summer, 10 autumn)
CREATE TABLE straw_townships (
    id          TEXT PRIMARY KEY,
    region_code TEXT NOT NULL REFERENCES regions(code),
    unit_id     TEXT NOT NULL DEFAULT '',
    year        INTEGER NOT NULL,
    month       INTEGER NOT NULL DEFAULT 0,
    township    TEXT NOT NULL DEFAULT '',
    season      TEXT NOT NULL DEFAULT '',
    generated_g INTEGER NOT NULL DEFAULT 0,
    fertiliser_g INTEGER NOT NULL DEFAULT 0,
    feed_g      INTEGER NOT NULL DEFAULT 0,
    fuel_g      INTEGER NOT NULL DEFAULT 0,
    base_g      INTEGER NOT NULL DEFAULT 0,
    material_g  INTEGER NOT NULL DEFAULT 0,
    note        TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    UNIQUE (unit_id, region_code, township, year, season)
);
CREATE INDEX straw_townships_period ON straw_townships (region_code, year, month);

-- the "1+X" straw collection network: township centres and village points; year is the year built
CREATE TABLE straw_sites (
    id          TEXT PRIMARY KEY,
    region_code TEXT NOT NULL REFERENCES regions(code),
    unit_id     TEXT NOT NULL DEFAULT '',
    year        INTEGER NOT NULL,
    month       INTEGER NOT NULL DEFAULT 0,
    township    TEXT NOT NULL DEFAULT '',
    name        TEXT NOT NULL DEFAULT '',
    kind        TEXT NOT NULL DEFAULT '',
    capacity_g  INTEGER NOT NULL DEFAULT 0,
    operator    TEXT NOT NULL DEFAULT '',
    longitude   REAL NOT NULL DEFAULT 0,
    latitude    REAL NOT NULL DEFAULT 0,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    UNIQUE (unit_id, region_code, township, name)
);
CREATE INDEX straw_sites_period ON straw_sites (region_code, year, month);

-- 农膜 and 农药包装废弃物 recovery ledger by recycler, month and kind: used (film) or generated (packaging), recovered, stored, destination
CREATE TABLE farm_recovery (
    id          TEXT PRIMARY KEY,
    region_code TEXT NOT NULL REFERENCES regions(code),
    unit_id     TEXT NOT NULL DEFAULT '',
    year        INTEGER NOT NULL,
    month       INTEGER NOT NULL DEFAULT 0,
    recycler    TEXT NOT NULL DEFAULT '',
    kind        TEXT NOT NULL DEFAULT '',
    used_g      INTEGER NOT NULL DEFAULT 0,
    recovered_g INTEGER NOT NULL DEFAULT 0,
    stored_g    INTEGER NOT NULL DEFAULT 0,
    destination TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    UNIQUE (unit_id, recycler, year, month, kind)
);
CREATE INDEX farm_recovery_period ON farm_recovery (region_code, year, month);

-- 规模养殖场 by year: species, scale, manure facility, manure generated and used, land application
CREATE TABLE livestock_farms (
    id          TEXT PRIMARY KEY,
    region_code TEXT NOT NULL REFERENCES regions(code),
    unit_id     TEXT NOT NULL DEFAULT '',
    year        INTEGER NOT NULL,
    month       INTEGER NOT NULL DEFAULT 0,
    township    TEXT NOT NULL DEFAULT '',
    farm        TEXT NOT NULL DEFAULT '',
    species     TEXT NOT NULL DEFAULT '',
    head        INTEGER NOT NULL DEFAULT 0,
    facility    TEXT NOT NULL DEFAULT '',
    manure_generated_g INTEGER NOT NULL DEFAULT 0,
    manure_used_g INTEGER NOT NULL DEFAULT 0,
    land_area_mu REAL NOT NULL DEFAULT 0,
    note        TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    UNIQUE (unit_id, region_code, farm, year)
);
CREATE INDEX livestock_farms_period ON livestock_farms (region_code, year, month);

-- 生活垃圾 by region, month and stream: collected, incinerated, raw waste landfilled, recycled
CREATE TABLE msw_monthly (
    id          TEXT PRIMARY KEY,
    region_code TEXT NOT NULL REFERENCES regions(code),
    unit_id     TEXT NOT NULL DEFAULT '',
    year        INTEGER NOT NULL,
    month       INTEGER NOT NULL DEFAULT 0,
    stream      TEXT NOT NULL DEFAULT '',
    collected_g INTEGER NOT NULL DEFAULT 0,
    incinerated_g INTEGER NOT NULL DEFAULT 0,
    landfilled_g INTEGER NOT NULL DEFAULT 0,
    recycled_g  INTEGER NOT NULL DEFAULT 0,
    note        TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    UNIQUE (unit_id, region_code, year, month, stream)
);
CREATE INDEX msw_monthly_period ON msw_monthly (region_code, year, month);

-- 厨余垃圾 treatment by facility and month, with its by-products
CREATE TABLE kitchen_waste (
    id          TEXT PRIMARY KEY,
    region_code TEXT NOT NULL REFERENCES regions(code),
    unit_id     TEXT NOT NULL DEFAULT '',
    year        INTEGER NOT NULL,
    month       INTEGER NOT NULL DEFAULT 0,
    facility    TEXT NOT NULL DEFAULT '',
    received_g  INTEGER NOT NULL DEFAULT 0,
    treated_g   INTEGER NOT NULL DEFAULT 0,
    oil_g       INTEGER NOT NULL DEFAULT 0,
    biogas_m3   INTEGER NOT NULL DEFAULT 0,
    digestate_g INTEGER NOT NULL DEFAULT 0,
    residue_g   INTEGER NOT NULL DEFAULT 0,
    note        TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    UNIQUE (unit_id, region_code, facility, year, month)
);
CREATE INDEX kitchen_waste_period ON kitchen_waste (region_code, year, month);

-- "两网融合" points: drop-off points, transfer stations, sorting centres; year is the year opened
CREATE TABLE recycling_points (
    id          TEXT PRIMARY KEY,
    region_code TEXT NOT NULL REFERENCES regions(code),
    unit_id     TEXT NOT NULL DEFAULT '',
    year        INTEGER NOT NULL,
    month       INTEGER NOT NULL DEFAULT 0,
    kind        TEXT NOT NULL DEFAULT '',
    name        TEXT NOT NULL DEFAULT '',
    address     TEXT NOT NULL DEFAULT '',
    longitude   REAL NOT NULL DEFAULT 0,
    latitude    REAL NOT NULL DEFAULT 0,
    operator    TEXT NOT NULL DEFAULT '',
    capacity_g  INTEGER NOT NULL DEFAULT 0,
    counties    TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    UNIQUE (unit_id, region_code, kind, name)
);
CREATE INDEX recycling_points_period ON recycling_points (region_code, year, month);

-- 快递绿色包装 by region and year: parcels and those in green packaging
CREATE TABLE express_packaging (
    id          TEXT PRIMARY KEY,
    region_code TEXT NOT NULL REFERENCES regions(code),
    unit_id     TEXT NOT NULL DEFAULT '',
    year        INTEGER NOT NULL,
    month       INTEGER NOT NULL DEFAULT 0,
    parcels     INTEGER NOT NULL DEFAULT 0,
    green_parcels INTEGER NOT NULL DEFAULT 0,
    recyclable_boxes INTEGER NOT NULL DEFAULT 0,
    note        TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    UNIQUE (unit_id, region_code, year)
);
CREATE INDEX express_packaging_period ON express_packaging (region_code, year, month);

-- 塑料污染治理 (禁限塑) inspections: date, place, findings
CREATE TABLE plastic_inspections (
    id          TEXT PRIMARY KEY,
    region_code TEXT NOT NULL REFERENCES regions(code),
    unit_id     TEXT NOT NULL DEFAULT '',
    year        INTEGER NOT NULL,
    month       INTEGER NOT NULL DEFAULT 0,
    inspected_on TEXT NOT NULL DEFAULT '',
    place       TEXT NOT NULL DEFAULT '',
    inspector   TEXT NOT NULL DEFAULT '',
    findings    TEXT NOT NULL DEFAULT '',
    violations  INTEGER NOT NULL DEFAULT 0,
    action      TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    UNIQUE (unit_id, region_code, inspected_on, place)
);
CREATE INDEX plastic_inspections_period ON plastic_inspections (region_code, year, month);

-- 医疗机构可回收物 (输液瓶/袋) recovered by institution and month
CREATE TABLE medical_recyclables (
    id          TEXT PRIMARY KEY,
    region_code TEXT NOT NULL REFERENCES regions(code),
    unit_id     TEXT NOT NULL DEFAULT '',
    year        INTEGER NOT NULL,
    month       INTEGER NOT NULL DEFAULT 0,
    institution TEXT NOT NULL DEFAULT '',
    bottles_g   INTEGER NOT NULL DEFAULT 0,
    bags_g      INTEGER NOT NULL DEFAULT 0,
    recycler    TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    UNIQUE (unit_id, region_code, institution, year, month)
);
CREATE INDEX medical_recyclables_period ON medical_recyclables (region_code, year, month);

-- +goose Down
DROP TABLE medical_recyclables;
DROP TABLE plastic_inspections;
DROP TABLE express_packaging;
DROP TABLE recycling_points;
DROP TABLE kitchen_waste;
DROP TABLE msw_monthly;
DROP TABLE livestock_farms;
DROP TABLE farm_recovery;
DROP TABLE straw_sites;
DROP TABLE straw_townships;
