-- The stream records of general industrial solid waste, sewage sludge, construction waste and
-- medical waste (internal/streams/sheet; the agricultural and household kinds are in 00013).
-- One table per record kind, each with the record's unit ('' when none), region, year and month
-- (1–12; 0 for a record of a whole year); quantities in grams; the natural key unique.

-- +goose Up
-- 一般工业固体废物台账（月） (gisw_ledger)
CREATE TABLE gisw_ledgers (
    id                  TEXT PRIMARY KEY,
    unit_id             TEXT NOT NULL DEFAULT '', -- the registered unit, if any
    region_code         TEXT NOT NULL,
    year                BIGINT NOT NULL,
    month               INTEGER NOT NULL DEFAULT 0, -- 1–12; 0 for a yearly record
    category            TEXT NOT NULL DEFAULT '', -- 废物类别
    opening_stock_g     BIGINT NOT NULL DEFAULT 0, -- 期初贮存量（吨）
    generated_g         BIGINT NOT NULL DEFAULT 0, -- 产生量（吨）
    util_materials_g    BIGINT NOT NULL DEFAULT 0, -- 综合利用量：建材（吨）
    util_backfill_g     BIGINT NOT NULL DEFAULT 0, -- 综合利用量：回填（吨）
    util_restoration_g  BIGINT NOT NULL DEFAULT 0, -- 综合利用量：生态修复（吨）
    util_kiln_g         BIGINT NOT NULL DEFAULT 0, -- 综合利用量：水泥窑协同（吨）
    util_other_g        BIGINT NOT NULL DEFAULT 0, -- 综合利用量：其他（吨）
    util_prior_g        BIGINT NOT NULL DEFAULT 0, -- 其中：综合利用往年贮存量（吨）
    disposed_g          BIGINT NOT NULL DEFAULT 0, -- 处置量（吨）
    closing_stock_g     BIGINT NOT NULL DEFAULT 0, -- 期末贮存量（吨）
    note                TEXT NOT NULL DEFAULT '', -- 备注
    version             BIGINT NOT NULL DEFAULT 1,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX gisw_ledgers_key ON gisw_ledgers (unit_id, year, month, category);
CREATE INDEX gisw_ledgers_region ON gisw_ledgers (region_code, year);
CREATE INDEX gisw_ledgers_unit ON gisw_ledgers (unit_id, year);
CREATE INDEX gisw_ledgers_year ON gisw_ledgers (year, id);

-- 一般工业固体废物综合利用基地 (gisw_base)
CREATE TABLE gisw_bases (
    id                  TEXT PRIMARY KEY,
    unit_id             TEXT NOT NULL DEFAULT '', -- the registered unit, if any
    region_code         TEXT NOT NULL,
    year                BIGINT NOT NULL,
    month               INTEGER NOT NULL DEFAULT 0, -- 1–12; 0 for a yearly record
    name                TEXT NOT NULL DEFAULT '', -- 基地名称
    operator            TEXT NOT NULL DEFAULT '', -- 运营单位
    ways                TEXT NOT NULL DEFAULT '', -- 利用方式
    categories          TEXT NOT NULL DEFAULT '', -- 利用废物类别
    capacity_g          BIGINT NOT NULL DEFAULT 0, -- 设计利用能力（吨/年）
    status              TEXT NOT NULL DEFAULT '', -- 状态
    version             BIGINT NOT NULL DEFAULT 1,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX gisw_bases_key ON gisw_bases (name, year);
CREATE INDEX gisw_bases_region ON gisw_bases (region_code, year);
CREATE INDEX gisw_bases_unit ON gisw_bases (unit_id, year);
CREATE INDEX gisw_bases_year ON gisw_bases (year, id);

-- 历史遗留固体废物排查 (gisw_stockpile)
CREATE TABLE gisw_stockpiles (
    id                  TEXT PRIMARY KEY,
    unit_id             TEXT NOT NULL DEFAULT '', -- the registered unit, if any
    region_code         TEXT NOT NULL,
    year                BIGINT NOT NULL,
    month               INTEGER NOT NULL DEFAULT 0, -- 1–12; 0 for a yearly record
    site                TEXT NOT NULL DEFAULT '', -- 点位名称
    location            TEXT NOT NULL DEFAULT '', -- 位置
    category            TEXT NOT NULL DEFAULT '', -- 废物类别
    estimated_g         BIGINT NOT NULL DEFAULT 0, -- 估算量（吨）
    status              TEXT NOT NULL DEFAULT '', -- 整治状态
    found_on            TEXT NOT NULL DEFAULT '', -- 发现日期
    remediated_on       TEXT NOT NULL DEFAULT '', -- 整治完成日期
    closed_on           TEXT NOT NULL DEFAULT '', -- 销号日期
    responsible         TEXT NOT NULL DEFAULT '', -- 责任单位
    note                TEXT NOT NULL DEFAULT '', -- 备注
    version             BIGINT NOT NULL DEFAULT 1,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX gisw_stockpiles_key ON gisw_stockpiles (region_code, site, year);
CREATE INDEX gisw_stockpiles_region ON gisw_stockpiles (region_code, year);
CREATE INDEX gisw_stockpiles_unit ON gisw_stockpiles (unit_id, year);
CREATE INDEX gisw_stockpiles_year ON gisw_stockpiles (year, id);

-- 城镇污水处理厂污泥台账（月） (sludge_ledger)
CREATE TABLE sludge_ledgers (
    id                  TEXT PRIMARY KEY,
    unit_id             TEXT NOT NULL DEFAULT '', -- the registered unit, if any
    region_code         TEXT NOT NULL,
    year                BIGINT NOT NULL,
    month               INTEGER NOT NULL DEFAULT 0, -- 1–12; 0 for a yearly record
    generated_g         BIGINT NOT NULL DEFAULT 0, -- 污泥产生量（吨，含水率 80% 折算）
    incinerated_g       BIGINT NOT NULL DEFAULT 0, -- 焚烧（吨）
    materials_g         BIGINT NOT NULL DEFAULT 0, -- 建材利用（吨）
    land_g              BIGINT NOT NULL DEFAULT 0, -- 土地利用（吨）
    landfill_g          BIGINT NOT NULL DEFAULT 0, -- 卫生填埋（吨）
    other_g             BIGINT NOT NULL DEFAULT 0, -- 其他（吨）
    receiver            TEXT NOT NULL DEFAULT '', -- 接收处置单位
    note                TEXT NOT NULL DEFAULT '', -- 备注
    version             BIGINT NOT NULL DEFAULT 1,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX sludge_ledgers_key ON sludge_ledgers (unit_id, year, month);
CREATE INDEX sludge_ledgers_region ON sludge_ledgers (region_code, year);
CREATE INDEX sludge_ledgers_unit ON sludge_ledgers (unit_id, year);
CREATE INDEX sludge_ledgers_year ON sludge_ledgers (year, id);

-- 建筑垃圾处置申报 (cdw_declaration)
CREATE TABLE cdw_declarations (
    id                  TEXT PRIMARY KEY,
    unit_id             TEXT NOT NULL DEFAULT '', -- the registered unit, if any
    region_code         TEXT NOT NULL,
    year                BIGINT NOT NULL,
    month               INTEGER NOT NULL DEFAULT 0, -- 1–12; 0 for a yearly record
    declaration_no      TEXT NOT NULL DEFAULT '', -- 申报编号
    project             TEXT NOT NULL DEFAULT '', -- 项目名称
    site                TEXT NOT NULL DEFAULT '', -- 工地地址
    builder             TEXT NOT NULL DEFAULT '', -- 建设单位
    builder_uscc        TEXT NOT NULL DEFAULT '', -- 建设单位统一社会信用代码
    declared_on         TEXT NOT NULL DEFAULT '', -- 申报日期
    muck_g              BIGINT NOT NULL DEFAULT 0, -- 预计工程渣土（吨）
    slurry_g            BIGINT NOT NULL DEFAULT 0, -- 预计工程泥浆（吨）
    engineering_g       BIGINT NOT NULL DEFAULT 0, -- 预计工程垃圾（吨）
    demolition_g        BIGINT NOT NULL DEFAULT 0, -- 预计拆除垃圾（吨）
    decoration_g        BIGINT NOT NULL DEFAULT 0, -- 预计装修垃圾（吨）
    destination         TEXT NOT NULL DEFAULT '', -- 拟消纳场所
    version             BIGINT NOT NULL DEFAULT 1,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX cdw_declarations_key ON cdw_declarations (declaration_no);
CREATE INDEX cdw_declarations_region ON cdw_declarations (region_code, year);
CREATE INDEX cdw_declarations_unit ON cdw_declarations (unit_id, year);
CREATE INDEX cdw_declarations_year ON cdw_declarations (year, id);

-- 建筑垃圾运输车辆 (cdw_vehicle)
CREATE TABLE cdw_vehicles (
    id                  TEXT PRIMARY KEY,
    unit_id             TEXT NOT NULL DEFAULT '', -- the registered unit, if any
    region_code         TEXT NOT NULL,
    year                BIGINT NOT NULL,
    month               INTEGER NOT NULL DEFAULT 0, -- 1–12; 0 for a yearly record
    plate               TEXT NOT NULL DEFAULT '', -- 车牌号
    hauler              TEXT NOT NULL DEFAULT '', -- 运输单位
    hauler_uscc         TEXT NOT NULL DEFAULT '', -- 运输单位统一社会信用代码
    vehicle_type        TEXT NOT NULL DEFAULT '', -- 车辆类型
    capacity_g          BIGINT NOT NULL DEFAULT 0, -- 核定载质量（吨）
    sealed              TEXT NOT NULL DEFAULT '', -- 全密闭
    tracked             TEXT NOT NULL DEFAULT '', -- 卫星定位
    valid_to            TEXT NOT NULL DEFAULT '', -- 核准有效期至
    version             BIGINT NOT NULL DEFAULT 1,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX cdw_vehicles_key ON cdw_vehicles (plate, year);
CREATE INDEX cdw_vehicles_region ON cdw_vehicles (region_code, year);
CREATE INDEX cdw_vehicles_unit ON cdw_vehicles (unit_id, year);
CREATE INDEX cdw_vehicles_year ON cdw_vehicles (year, id);

-- 建筑垃圾准运证 (cdw_permit)
CREATE TABLE cdw_permits (
    id                  TEXT PRIMARY KEY,
    unit_id             TEXT NOT NULL DEFAULT '', -- the registered unit, if any
    region_code         TEXT NOT NULL,
    year                BIGINT NOT NULL,
    month               INTEGER NOT NULL DEFAULT 0, -- 1–12; 0 for a yearly record
    permit_no           TEXT NOT NULL DEFAULT '', -- 准运证号
    declaration_no      TEXT NOT NULL DEFAULT '', -- 申报编号
    project             TEXT NOT NULL DEFAULT '', -- 项目名称
    hauler              TEXT NOT NULL DEFAULT '', -- 运输单位
    hauler_uscc         TEXT NOT NULL DEFAULT '', -- 运输单位统一社会信用代码
    plates              TEXT NOT NULL DEFAULT '', -- 车辆号牌
    destination         TEXT NOT NULL DEFAULT '', -- 消纳场所
    valid_from          TEXT NOT NULL DEFAULT '', -- 有效期起
    valid_to            TEXT NOT NULL DEFAULT '', -- 有效期止
    version             BIGINT NOT NULL DEFAULT 1,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX cdw_permits_key ON cdw_permits (permit_no);
CREATE INDEX cdw_permits_region ON cdw_permits (region_code, year);
CREATE INDEX cdw_permits_unit ON cdw_permits (unit_id, year);
CREATE INDEX cdw_permits_year ON cdw_permits (year, id);

-- 建筑垃圾消纳和资源化利用场所 (cdw_site)
CREATE TABLE cdw_sites (
    id                  TEXT PRIMARY KEY,
    unit_id             TEXT NOT NULL DEFAULT '', -- the registered unit, if any
    region_code         TEXT NOT NULL,
    year                BIGINT NOT NULL,
    month               INTEGER NOT NULL DEFAULT 0, -- 1–12; 0 for a yearly record
    name                TEXT NOT NULL DEFAULT '', -- 场所名称
    kind                TEXT NOT NULL DEFAULT '', -- 场所类型
    operator            TEXT NOT NULL DEFAULT '', -- 运营单位
    operator_uscc       TEXT NOT NULL DEFAULT '', -- 运营单位统一社会信用代码
    address             TEXT NOT NULL DEFAULT '', -- 地址
    capacity_g          BIGINT NOT NULL DEFAULT 0, -- 设计能力（吨/年）
    status              TEXT NOT NULL DEFAULT '', -- 状态
    version             BIGINT NOT NULL DEFAULT 1,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX cdw_sites_key ON cdw_sites (name, year);
CREATE INDEX cdw_sites_region ON cdw_sites (region_code, year);
CREATE INDEX cdw_sites_unit ON cdw_sites (unit_id, year);
CREATE INDEX cdw_sites_year ON cdw_sites (year, id);

-- 建筑垃圾消纳和资源化利用量（月） (cdw_site_month)
CREATE TABLE cdw_site_months (
    id                  TEXT PRIMARY KEY,
    unit_id             TEXT NOT NULL DEFAULT '', -- the registered unit, if any
    region_code         TEXT NOT NULL,
    year                BIGINT NOT NULL,
    month               INTEGER NOT NULL DEFAULT 0, -- 1–12; 0 for a yearly record
    site                TEXT NOT NULL DEFAULT '', -- 场所名称
    received_g          BIGINT NOT NULL DEFAULT 0, -- 进场量（吨）
    recycled_g          BIGINT NOT NULL DEFAULT 0, -- 资源化利用量（吨）
    landfilled_g        BIGINT NOT NULL DEFAULT 0, -- 填埋或堆存量（吨）
    note                TEXT NOT NULL DEFAULT '', -- 备注
    version             BIGINT NOT NULL DEFAULT 1,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX cdw_site_months_key ON cdw_site_months (site, year, month);
CREATE INDEX cdw_site_months_region ON cdw_site_months (region_code, year);
CREATE INDEX cdw_site_months_unit ON cdw_site_months (unit_id, year);
CREATE INDEX cdw_site_months_year ON cdw_site_months (year, id);

-- 新建建筑面积（绿色建筑、装配式建筑） (building_area)
CREATE TABLE building_areas (
    id                  TEXT PRIMARY KEY,
    unit_id             TEXT NOT NULL DEFAULT '', -- the registered unit, if any
    region_code         TEXT NOT NULL,
    year                BIGINT NOT NULL,
    month               INTEGER NOT NULL DEFAULT 0, -- 1–12; 0 for a yearly record
    new_area_m2         BIGINT NOT NULL DEFAULT 0, -- 城镇新建建筑面积（m²）
    green_area_m2       BIGINT NOT NULL DEFAULT 0, -- 其中绿色建筑面积（m²）
    started_area_m2     BIGINT NOT NULL DEFAULT 0, -- 新开工建筑面积（m²）
    prefab_area_m2      BIGINT NOT NULL DEFAULT 0, -- 其中装配式建筑面积（m²）
    source              TEXT NOT NULL DEFAULT '', -- 数据来源
    version             BIGINT NOT NULL DEFAULT 1,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX building_areas_key ON building_areas (region_code, year);
CREATE INDEX building_areas_region ON building_areas (region_code, year);
CREATE INDEX building_areas_unit ON building_areas (unit_id, year);
CREATE INDEX building_areas_year ON building_areas (year, id);

-- 医疗机构 (med_institution)
CREATE TABLE med_institutions (
    id                  TEXT PRIMARY KEY,
    unit_id             TEXT NOT NULL DEFAULT '', -- the registered unit, if any
    region_code         TEXT NOT NULL,
    year                BIGINT NOT NULL,
    month               INTEGER NOT NULL DEFAULT 0, -- 1–12; 0 for a yearly record
    uscc                TEXT NOT NULL DEFAULT '', -- 机构统一社会信用代码
    name                TEXT NOT NULL DEFAULT '', -- 机构名称
    level               TEXT NOT NULL DEFAULT '', -- 机构级别
    beds                BIGINT NOT NULL DEFAULT 0, -- 床位数
    collection          TEXT NOT NULL DEFAULT '', -- 收集方式
    collector           TEXT NOT NULL DEFAULT '', -- 收集处置单位
    version             BIGINT NOT NULL DEFAULT 1,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX med_institutions_key ON med_institutions (uscc, year);
CREATE INDEX med_institutions_region ON med_institutions (region_code, year);
CREATE INDEX med_institutions_unit ON med_institutions (unit_id, year);
CREATE INDEX med_institutions_year ON med_institutions (year, id);

-- 医疗废物产生与交接（月） (med_waste)
CREATE TABLE med_wastes (
    id                  TEXT PRIMARY KEY,
    unit_id             TEXT NOT NULL DEFAULT '', -- the registered unit, if any
    region_code         TEXT NOT NULL,
    year                BIGINT NOT NULL,
    month               INTEGER NOT NULL DEFAULT 0, -- 1–12; 0 for a yearly record
    uscc                TEXT NOT NULL DEFAULT '', -- 机构统一社会信用代码
    code                TEXT NOT NULL DEFAULT '', -- 废物代码
    generated_g         BIGINT NOT NULL DEFAULT 0, -- 产生量（吨）
    handed_over_g       BIGINT NOT NULL DEFAULT 0, -- 合同收集交接量（吨）
    note                TEXT NOT NULL DEFAULT '', -- 备注
    version             BIGINT NOT NULL DEFAULT 1,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX med_wastes_key ON med_wastes (uscc, year, month, code);
CREATE INDEX med_wastes_region ON med_wastes (region_code, year);
CREATE INDEX med_wastes_unit ON med_wastes (unit_id, year);
CREATE INDEX med_wastes_year ON med_wastes (year, id);

-- 医疗废物处置设施能力 (med_facility)
CREATE TABLE med_facilities (
    id                  TEXT PRIMARY KEY,
    unit_id             TEXT NOT NULL DEFAULT '', -- the registered unit, if any
    region_code         TEXT NOT NULL,
    year                BIGINT NOT NULL,
    month               INTEGER NOT NULL DEFAULT 0, -- 1–12; 0 for a yearly record
    facility            TEXT NOT NULL DEFAULT '', -- 设施名称
    method              TEXT NOT NULL DEFAULT '', -- 处置工艺
    capacity_g          BIGINT NOT NULL DEFAULT 0, -- 处置能力（吨/日）
    reserve_g           BIGINT NOT NULL DEFAULT 0, -- 应急储备能力（吨/日）
    reserve_plan        TEXT NOT NULL DEFAULT '', -- 应急储备方式
    treated_g           BIGINT NOT NULL DEFAULT 0, -- 本年处置量（吨）
    version             BIGINT NOT NULL DEFAULT 1,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX med_facilities_key ON med_facilities (unit_id, year, facility);
CREATE INDEX med_facilities_region ON med_facilities (region_code, year);
CREATE INDEX med_facilities_unit ON med_facilities (unit_id, year);
CREATE INDEX med_facilities_year ON med_facilities (year, id);

-- +goose Down
DROP TABLE med_facilities;
DROP TABLE med_wastes;
DROP TABLE med_institutions;
DROP TABLE building_areas;
DROP TABLE cdw_site_months;
DROP TABLE cdw_sites;
DROP TABLE cdw_permits;
DROP TABLE cdw_vehicles;
DROP TABLE cdw_declarations;
DROP TABLE sludge_ledgers;
DROP TABLE gisw_stockpiles;
DROP TABLE gisw_bases;
DROP TABLE gisw_ledgers;
