-- A plan's filing number carries its unit's city, as a manifest's number
-- does: HWGL, the year, the city's four digits and a serial of that year and
-- city. One serial a year for every unit ran out at 99,999 plans, which a
-- province or a nation passes. Huaibei's numbers go on from where they were.

-- +goose Up
CREATE TABLE plan_filing_city_serials (
    prefix TEXT PRIMARY KEY,                        -- YYYY3406
    last   INTEGER NOT NULL
);
INSERT INTO plan_filing_city_serials (prefix, last)
SELECT CAST(year AS TEXT) || '3406', last FROM plan_filing_serials;
DROP TABLE plan_filing_serials;
ALTER TABLE plan_filing_city_serials RENAME TO plan_filing_serials;

-- +goose Down
CREATE TABLE plan_filing_year_serials (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);
INSERT INTO plan_filing_year_serials (year, last)
SELECT CAST(substr(prefix, 1, 4) AS INTEGER), MAX(last) FROM plan_filing_serials GROUP BY substr(prefix, 1, 4);
DROP TABLE plan_filing_serials;
ALTER TABLE plan_filing_year_serials RENAME TO plan_filing_serials;
