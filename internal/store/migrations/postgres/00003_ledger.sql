-- Containers with their HJ 1276 digital ids, and the HJ 1259 ledger (管理台账):
-- the five record kinds in one table, corrections as further records that
-- point at the one they correct. Quantities are grams, times UTC.

-- +goose Up
CREATE TABLE containers (
    id                   TEXT PRIMARY KEY,          -- UUIDv7: paging in creation order
    digital_id           TEXT NOT NULL UNIQUE,      -- 数字识别码: USCC 18 + code 8 + YYYYMMDD + sequence 3
    unit_id              TEXT NOT NULL REFERENCES units(id),
    region_code          TEXT NOT NULL,
    waste_code           TEXT NOT NULL,
    category             TEXT NOT NULL,
    name                 TEXT NOT NULL,             -- the unit's own name for the waste
    official_name        TEXT NOT NULL,             -- the 名录 description
    form                 TEXT NOT NULL,             -- S SS L G
    characteristics      TEXT NOT NULL,             -- comma list of T C I R In
    components           TEXT NOT NULL DEFAULT '',  -- 主要成分
    hazardous_components TEXT NOT NULL DEFAULT '',  -- 有害成分
    precautions          TEXT NOT NULL DEFAULT '',  -- 注意事项
    packaging            TEXT NOT NULL DEFAULT '',  -- 容器/包装类型
    volume_l             DOUBLE PRECISION NOT NULL DEFAULT 0,   -- decides the label size
    quantity_g           BIGINT  NOT NULL,
    generated_at         TIMESTAMPTZ NOT NULL,
    facility_code        TEXT NOT NULL DEFAULT '',  -- the generation facility
    status               TEXT NOT NULL,             -- generated stored withdrawn shipped received treated cancelled
    generation_batch     TEXT NOT NULL,             -- 产生批次编码
    storage_batch        TEXT NOT NULL DEFAULT '',  -- 入库批次编码
    storage_facility     TEXT NOT NULL DEFAULT '',
    stored_at            TIMESTAMPTZ,
    out_batch            TEXT NOT NULL DEFAULT '',  -- 出库批次编码
    manifest_id          TEXT NOT NULL DEFAULT '',
    remark               TEXT NOT NULL DEFAULT '',
    audit_seq            BIGINT  NOT NULL,          -- the entry that recorded its generation
    updated_at           TIMESTAMPTZ NOT NULL,
    version              BIGINT  NOT NULL DEFAULT 1
);
CREATE INDEX containers_unit ON containers (unit_id, id);
CREATE INDEX containers_region ON containers (region_code, id);
CREATE INDEX containers_generation ON containers (unit_id, generation_batch);

CREATE TABLE ledger_records (
    id               TEXT PRIMARY KEY,
    origin_id        TEXT NOT NULL,              -- its own id; for a correction, the record corrected
    unit_id          TEXT NOT NULL REFERENCES units(id),
    region_code      TEXT NOT NULL,
    kind             TEXT NOT NULL,              -- generation storage_in storage_out in_house outsourced adjustment cancellation
    effect_kind      TEXT NOT NULL,              -- whose totals it changes: its own kind, or the corrected record's
    batch_code       TEXT NOT NULL,              -- CS RK CK ZX WW TZ CX + yyyyMMdd + 6 digits
    prev_batch       TEXT NOT NULL DEFAULT '',   -- the stage before (a correction: the corrected record's)
    corrects_batch   TEXT NOT NULL DEFAULT '',   -- a correction: the batch code it corrects
    occurred_at      TIMESTAMPTZ NOT NULL,
    waste_code       TEXT NOT NULL,
    category         TEXT NOT NULL,
    name             TEXT NOT NULL,
    official_name    TEXT NOT NULL,
    quantity_g       BIGINT  NOT NULL,           -- as recorded; an adjustment: the corrected quantity
    delta_g          BIGINT  NOT NULL,           -- what it adds to its effect kind's totals
    packaging        TEXT NOT NULL DEFAULT '',
    facility_code    TEXT NOT NULL DEFAULT '',
    handler          TEXT NOT NULL DEFAULT '',   -- 经办人
    method           TEXT NOT NULL DEFAULT '',
    receiver_unit_id TEXT NOT NULL DEFAULT '',
    receiver_name    TEXT NOT NULL DEFAULT '',
    licence_number   TEXT NOT NULL DEFAULT '',
    manifest_id      TEXT NOT NULL DEFAULT '',
    manifest_number  TEXT NOT NULL DEFAULT '',
    line_no          BIGINT  NOT NULL DEFAULT 0,
    destination      TEXT NOT NULL DEFAULT '',   -- 去向
    note             TEXT NOT NULL DEFAULT '',
    audit_seq        BIGINT  NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (unit_id, batch_code)
);
CREATE INDEX ledger_records_unit ON ledger_records (unit_id, id);
CREATE INDEX ledger_records_region ON ledger_records (region_code, id);
CREATE INDEX ledger_records_prev ON ledger_records (unit_id, prev_batch);
CREATE INDEX ledger_records_origin ON ledger_records (origin_id);
CREATE INDEX ledger_records_period ON ledger_records (unit_id, occurred_at);
CREATE INDEX ledger_records_batch ON ledger_records (batch_code);
CREATE INDEX ledger_records_manifest ON ledger_records (manifest_id, line_no);

-- Which containers a record names (容器/包装编码).
CREATE TABLE ledger_containers (
    record_id  TEXT NOT NULL REFERENCES ledger_records(id),
    digital_id TEXT NOT NULL,
    PRIMARY KEY (record_id, digital_id)
);
CREATE INDEX ledger_containers_digital ON ledger_containers (digital_id);

-- What is left in storage of each into-storage record: a projection of the
-- ledger, kept in the same transactions, so stock and storage age are read
-- without summing a unit's whole history.
CREATE TABLE ledger_stock (
    record_id     TEXT PRIMARY KEY REFERENCES ledger_records(id),
    unit_id       TEXT NOT NULL,
    region_code   TEXT NOT NULL,
    facility_code TEXT NOT NULL,
    waste_code    TEXT NOT NULL,
    batch_code    TEXT NOT NULL,
    stored_at     TIMESTAMPTZ NOT NULL,
    remaining_g   BIGINT  NOT NULL
);
CREATE INDEX ledger_stock_facility ON ledger_stock (unit_id, facility_code, stored_at) WHERE remaining_g > 0;
CREATE INDEX ledger_stock_region ON ledger_stock (region_code) WHERE remaining_g > 0;

-- Counters for container sequences and batch serials; the upsert that
-- advances one also serialises the writers that need it.
CREATE TABLE ledger_serials (
    scope TEXT PRIMARY KEY,
    last  BIGINT  NOT NULL
);

-- +goose Down
DROP TABLE ledger_serials;
DROP TABLE ledger_stock;
DROP TABLE ledger_containers;
DROP TABLE ledger_records;
DROP TABLE containers;
