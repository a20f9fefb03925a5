package industrial_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
	"wufei/internal/streams/industrial"
	"wufei/internal/streams/sheet"
)

var admin = auth.Principal{UserID: "admin", Username: "admin", Role: auth.Admin}

// env is a migrated database with reference data and two generators.
type env struct {
	ctx        context.Context
	db         *store.DB
	ledger     *sheet.Service
	stockpile  *sheet.Service
	a, b       registry.Unit
	pa, pb, xs auth.Principal
}

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	ctx := context.Background()
	if err := db.Tx(ctx, func(tx *store.Tx) error { return registry.SeedReference(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
	reg := registry.NewService(db)
	unit := func(region, body, name string) registry.Unit {
		u, err := reg.CreateUnit(ctx, admin, registry.NewUnit{USCC: registry.MakeUSCC("91", region, body), Name: name,
			Roles: []registry.UnitRole{registry.Generator}, RegionCode: region})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	e := &env{ctx: ctx, db: db, ledger: sheet.New(db, industrial.Ledger), stockpile: sheet.New(db, industrial.Stockpile)}
	e.a = unit("340621", "MA2T0001", "淮北某矿业有限公司")
	e.b = unit("340603", "MA2T0002", "淮北某热电有限公司")
	e.pa = auth.Principal{UserID: "ua", Username: "ua", Role: auth.UnitAdmin, UnitID: e.a.ID}
	e.pb = auth.Principal{UserID: "ub", Username: "ub", Role: auth.UnitMember, UnitID: e.b.ID}
	e.xs = auth.Principal{UserID: "xs", Username: "xs", Role: auth.Regulator, RegionCode: "340603"}
	return e
}

func ledgerRow(uscc, month, cat string, opening, gen, materials, prior, disposed, closing string) sheet.Input {
	return sheet.Input{"unit_uscc": uscc, "month": month, "category": cat, "opening_stock_t": opening, "generated_t": gen,
		"util_materials_t": materials, "util_prior_t": prior, "disposed_t": disposed, "closing_stock_t": closing}
}

func fields(err error) map[string]string {
	var e *errs.Error
	out := map[string]string{}
	if errors.As(err, &e) {
		for _, f := range e.Fields {
			out[f.Field] = f.Code
		}
	}
	return out
}

func TestLedger(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		// A unit account files its own month; the unit defaults to its own.
		r, err := e.ledger.Create(e.ctx, e.pa, ledgerRow("", "2026-03", "SW04", "100", "1000", "800", "50", "0", "300"))
		if err != nil {
			t.Fatal(err)
		}
		if r.UnitID != e.a.ID || r.RegionCode != "340621" || r.Year != 2026 || r.Num("generated_t") != 1_000_000_000 ||
			r.Str("unit_uscc") != e.a.USCC {
			t.Fatalf("created %+v", r)
		}
		// The stock must balance, prior-year use fit, codes be known.
		_, err = e.ledger.Create(e.ctx, e.pa, ledgerRow("", "2026-04", "SW04", "100", "1000", "800", "200", "0", "299"))
		if f := fields(err); f["closing_stock_t"] != "stock_balance" || f["util_prior_t"] != "prior_exceeds_stock" {
			t.Errorf("unbalanced: %v", err)
		}
		_, err = e.ledger.Create(e.ctx, e.pa, ledgerRow("", "2026-13", "SW99", "", "1.0001", "", "", "", ""))
		if f := fields(err); f["month"] != "month_format" || f["category"] != "choice" || f["generated_t"] != "quantity_precision" {
			t.Errorf("bad input: %v", err)
		}
		// The same key again is a conflict; another unit's USCC is refused.
		if _, err = e.ledger.Create(e.ctx, e.pa, ledgerRow("", "2026-03", "SW04", "0", "1", "1", "0", "0", "0")); errs.KindOf(err) != errs.Conflict {
			t.Errorf("duplicate: %v", err)
		}
		if _, err = e.ledger.Create(e.ctx, e.pa, ledgerRow(e.b.USCC, "2026-03", "SW02", "0", "1", "1", "0", "0", "0")); errs.KindOf(err) != errs.Forbidden {
			t.Errorf("other unit: %v", err)
		}
		// Scope: B's account and 相山区's regulator do not see A's record.
		for _, p := range []auth.Principal{e.pb, e.xs} {
			if _, err := e.ledger.Get(e.ctx, p, r.ID); errs.KindOf(err) != errs.NotFound {
				t.Errorf("%s sees A's record: %v", p.Username, err)
			}
			pg, err := e.ledger.List(e.ctx, p, sheet.Filter{})
			if err != nil || len(pg.Items) != 0 {
				t.Errorf("%s lists %d, %v", p.Username, len(pg.Items), err)
			}
			if _, err := e.ledger.Update(e.ctx, p, r.ID, r.Version, ledgerRow(e.a.USCC, "2026-03", "SW04", "0", "1", "1", "0", "0", "0")); errs.KindOf(err) != errs.NotFound {
				t.Errorf("%s updates A's record: %v", p.Username, err)
			}
		}
		// The regulator of 相山区 keeps B's records.
		rb, err := e.ledger.Create(e.ctx, e.xs, ledgerRow(e.b.USCC, "2026-03", "SW02", "0", "500", "450", "0", "20", "30"))
		if err != nil {
			t.Fatal(err)
		}
		pg, err := e.ledger.List(e.ctx, e.xs, sheet.Filter{Year: 2026})
		if err != nil || len(pg.Items) != 1 || pg.Items[0].ID != rb.ID {
			t.Fatalf("regulator's list: %+v %v", pg, err)
		}
		// Update with the version read; a stale version is a conflict.
		in := ledgerRow("", "2026-03", "SW04", "100", "1200", "1000", "50", "0", "300")
		up, err := e.ledger.Update(e.ctx, e.pa, r.ID, r.Version, in)
		if err != nil || up.Version != 2 || up.Num("generated_t") != 1_200_000_000 {
			t.Fatalf("update: %+v %v", up, err)
		}
		if _, err := e.ledger.Update(e.ctx, e.pa, r.ID, r.Version, in); errs.KindOf(err) != errs.Conflict {
			t.Errorf("stale update: %v", err)
		}
		// Every change is audited under the stream entity.
		var acts []string
		if err := store.Select(e.ctx, db.Reader(), &acts, `SELECT action FROM audit_entries WHERE entity = 'stream_gisw_ledger' ORDER BY seq`); err != nil {
			t.Fatal(err)
		}
		if strings.Join(acts, ",") != "gisw_ledger.create,gisw_ledger.create,gisw_ledger.update" {
			t.Errorf("audit: %v", acts)
		}
	})
}

func TestExchange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		cols, err := e.stockpile.Columns(e.ctx)
		if err != nil || len(cols) != len(industrial.Stockpile.Fields) || cols[2].Key != "region" || len(cols[2].Choices) < 5 {
			t.Fatalf("columns: %+v %v", cols, err)
		}
		good := [][]string{
			{"朔里镇矸石山", "2026", "340602", "朔里镇南山村", "SW04", "250000", "整治中", "2024-05-10", "", "", "杜集区人民政府", ""},
			{"临涣粉煤灰堆场", "2026", "340621", "临涣镇", "SW02", "80000", "已整治", "2024-06-01", "2025-10-01", "", "", ""},
		}
		res, bad, err := e.stockpile.Import(e.ctx, admin, sheet.Rows(good...))
		if err != nil || bad != nil || res.Inserted != 2 {
			t.Fatalf("import: %+v %+v %v", res, bad, err)
		}
		// One bad row among good ones: nothing is stored, the row is named.
		changed := [][]string{good[0], {"临涣粉煤灰堆场", "2026", "340621", "临涣镇", "SW02", "80000", "已销号", "2024-06-01", "2025-10-01", "", "", ""},
			{"新点位", "2026", "340604", "宋疃", "SW04", "10", "整治中", "2026-01-01", "", "", "", ""}}
		changed[2][5] = "ten"
		res, bad, err = e.stockpile.Import(e.ctx, admin, sheet.Rows(changed...))
		if err != nil || len(bad) != 2 || bad[0].Row != 3 || bad[0].Column != "closed_on" || bad[1].Row != 4 ||
			bad[1].Column != "estimated_t" || bad[1].Header != "估算量（吨）" {
			t.Fatalf("bad rows: %+v %+v %v", res, bad, err)
		}
		var n int
		if err := store.Get(e.ctx, db.Reader(), &n, `SELECT count(*) FROM gisw_stockpiles`); err != nil || n != 2 {
			t.Fatalf("stored %d, %v", n, err)
		}
		// Export, then re-import: nothing changes, nothing is audited.
		var out [][]string
		if err := e.stockpile.Export(e.ctx, admin, 2026, func(c []string) error { out = append(out, c); return nil }); err != nil {
			t.Fatal(err)
		}
		// A region is written as "code name", the way the template offers it.
		want := slices.Clone(good[0])
		want[2] = "340602 杜集区"
		if len(out) != 2 || strings.Join(out[0], "|") != strings.Join(want, "|") {
			t.Fatalf("export: %q", out)
		}
		var before int
		if err := store.Get(e.ctx, db.Reader(), &before, `SELECT count(*) FROM audit_entries`); err != nil {
			t.Fatal(err)
		}
		res, bad, err = e.stockpile.Import(e.ctx, admin, sheet.Rows(out...))
		if err != nil || bad != nil || res.Unchanged != 2 || res.Inserted+res.Updated != 0 {
			t.Fatalf("re-import: %+v %+v %v", res, bad, err)
		}
		var after int
		if err := store.Get(e.ctx, db.Reader(), &after, `SELECT count(*) FROM audit_entries`); err != nil || after != before {
			t.Errorf("re-import audited: %d → %d", before, after)
		}
		// A changed row updates; a duplicate key within the file is refused.
		out[0][6] = "已整治"
		out[0][8] = "2026-09-30"
		res, bad, err = e.stockpile.Import(e.ctx, admin, sheet.Rows(out...))
		if err != nil || bad != nil || res.Updated != 1 || res.Unchanged != 1 {
			t.Fatalf("update import: %+v %+v %v", res, bad, err)
		}
		_, bad, _ = e.stockpile.Import(e.ctx, admin, sheet.Rows(out[0], out[0]))
		if len(bad) != 1 || bad[0].Code != "duplicate_key" || bad[0].Row != 3 {
			t.Errorf("duplicate: %+v", bad)
		}
		// A unit account may not keep the survey; a county regulator sees only its county.
		_, bad, _ = e.stockpile.Import(e.ctx, e.pa, sheet.Rows(good[0]))
		if len(bad) != 1 || bad[0].Code != "stream_forbidden" {
			t.Errorf("unit import: %+v", bad)
		}
		out = nil
		if err := e.stockpile.Export(e.ctx, e.xs, 2026, func(c []string) error { out = append(out, c); return nil }); err != nil || len(out) != 0 {
			t.Errorf("相山区 export: %q %v", out, err)
		}
	})
}
