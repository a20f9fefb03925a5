package agri_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
	"wufei/internal/streams/agri"
	"wufei/internal/streams/sheet"
)

var (
	admin   = auth.Principal{UserID: "a", Username: "admin", Role: auth.Admin}
	suixi   = auth.Principal{UserID: "r", Username: "sx", Role: auth.Regulator, RegionCode: "340621"}
	xiangsh = auth.Principal{UserID: "x", Username: "xs", Role: auth.Regulator, RegionCode: "340603"}
	viewer  = auth.Principal{UserID: "v", Username: "v", Role: auth.Viewer}
)

type env struct {
	ctx   context.Context
	db    *store.DB
	farmA registry.Unit
	farmB registry.Unit
	unitA auth.Principal
	unitB auth.Principal
}

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	ctx := context.Background()
	if err := db.Tx(ctx, func(tx *store.Tx) error { return registry.SeedReference(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
	reg := registry.NewService(db)
	e := &env{ctx: ctx, db: db}
	mk := func(code, name string) registry.Unit {
		u, err := reg.CreateUnit(ctx, admin, registry.NewUnit{USCC: registry.MakeUSCC("91", "340621", code), Name: name,
			Roles: []registry.UnitRole{registry.Generator}, RegionCode: "340621", Address: "濉溪县", ContactName: "张",
			ContactPhone: "13900000000", IndustryCode: "0313", IndustryName: "猪的饲养"})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	e.farmA, e.farmB = mk("MA2AG001", "濉溪县五沟生猪养殖场"), mk("MA2AG002", "濉溪县临涣奶牛场")
	e.unitA = auth.Principal{UserID: "ua", Username: "ua", Role: auth.UnitAdmin, UnitID: e.farmA.ID}
	e.unitB = auth.Principal{UserID: "ub", Username: "ub", Role: auth.UnitMember, UnitID: e.farmB.ID}
	return e
}

// code is an error's first field code, or its own code.
func code(err error) string {
	var e *errs.Error
	if errors.As(err, &e) {
		if len(e.Fields) > 0 {
			return e.Fields[0].Code
		}
		return e.Code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func straw(township string, gen, used float64) sheet.Input {
	return sheet.Input{"region_code": "340621", "township": township, "year": "2025", "season": "夏季", "generated_t": sheet.T(gen),
		"fertiliser_t": sheet.T(used * 0.7), "feed_t": sheet.T(used * 0.2), "fuel_t": sheet.T(used * 0.1)}
}

func with(in sheet.Input, key, v string) sheet.Input {
	out := sheet.Input{key: v}
	for k, x := range in {
		if k != key {
			out[k] = x
		}
	}
	return out
}

func TestStrawRecords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		k := sheet.New(db, agri.StrawTownship)
		r, err := k.Create(e.ctx, suixi, straw("临涣镇", 1000, 960))
		if err != nil {
			t.Fatal(err)
		}
		if r.Version != 1 || r.Tonnes("generated_t") != 1000 || r.Tonnes("fertiliser_t") != 672 || r.Str("township") != "临涣镇" ||
			r.Year != 2025 || r.Month != 6 {
			t.Fatalf("created %+v", r)
		}
		for name, c := range map[string]struct {
			p    auth.Principal
			in   sheet.Input
			want string
		}{
			"same key":          {suixi, straw("临涣镇", 5, 1), "record_exists"},
			"township of other": {suixi, straw("渠沟镇", 5, 1), "township_unknown"},
			"used > generated":  {suixi, straw("韩村镇", 5, 6), "straw_used_exceeds"},
			"other region":      {xiangsh, straw("韩村镇", 5, 1), "stream_forbidden"},
			"unit may not":      {e.unitA, straw("韩村镇", 5, 1), "stream_forbidden"},
			"viewer may not":    {viewer, straw("韩村镇", 5, 1), "stream_forbidden"},
			"bad season":        {suixi, with(straw("韩村镇", 5, 1), "season", "冬季"), "choice"},
			"grams":             {suixi, with(straw("韩村镇", 5, 1), "generated_t", "5.0001"), "quantity_precision"},
			"unknown field":     {suixi, with(straw("韩村镇", 5, 1), "colour", "绿"), "field_unknown"},
		} {
			if _, err := k.Create(e.ctx, c.p, c.in); code(err) != c.want {
				t.Errorf("%s: %v, want %s", name, err, c.want)
			}
		}
		// Scope: 相山区's regulator neither sees nor changes 濉溪县's record.
		if _, err := k.Get(e.ctx, xiangsh, r.ID); errs.KindOf(err) != errs.NotFound {
			t.Errorf("other region's get: %v", err)
		}
		if _, err := k.Update(e.ctx, xiangsh, r.ID, 1, sheet.Input{"generated_t": "1100"}); errs.KindOf(err) != errs.NotFound {
			t.Errorf("other region's update: %v", err)
		}
		// A patch names only what changes; the rest keeps its values.
		u, err := k.Update(e.ctx, suixi, r.ID, 1, sheet.Input{"generated_t": "1100"})
		if err != nil || u.Version != 2 || u.Tonnes("generated_t") != 1100 || u.Tonnes("fertiliser_t") != 672 {
			t.Fatalf("update: %+v %v", u, err)
		}
		if _, err := k.Update(e.ctx, suixi, r.ID, 1, sheet.Input{"generated_t": "1200"}); code(err) != "version_conflict" {
			t.Errorf("stale update: %v", err)
		}
		if u, err := k.Update(e.ctx, suixi, r.ID, 2, sheet.Input{"generated_t": "1100"}); err != nil || u.Version != 2 {
			t.Errorf("a patch that changes nothing: %+v %v", u, err)
		}
		var n int
		_ = store.Get(e.ctx, db.Reader(), &n, `SELECT count(*) FROM audit_entries WHERE entity = 'stream_straw_township'`)
		if n != 2 {
			t.Errorf("%d audit entries", n)
		}
		p, err := k.List(e.ctx, viewer, sheet.Filter{})
		if err != nil || len(p.Items) != 0 {
			t.Errorf("viewer list: %v %v", p, err)
		}
		if p, err = k.List(e.ctx, suixi, sheet.Filter{Year: 2025, Region: "340621"}); err != nil || len(p.Items) != 1 {
			t.Errorf("list: %+v %v", p, err)
		}
		if p, err = k.List(e.ctx, admin, sheet.Filter{Year: 2024}); err != nil || len(p.Items) != 0 {
			t.Errorf("list 2024: %+v %v", p, err)
		}
	})
}

func TestUnitRecords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		k := sheet.New(db, agri.LivestockFarm)
		in := sheet.Input{"region_code": "340621", "township": "五沟镇", "farm": "五沟生猪场", "year": "2025", "species": "生猪",
			"head": "6500", "facility": "配套", "manure_generated_t": "14200", "manure_used_t": "13100", "land_area_mu": "3200.5"}
		a, err := k.Create(e.ctx, e.unitA, in)
		if err != nil || a.UnitID != e.farmA.ID || a.Float("land_area_mu") != 3200.5 || a.Str("unit_uscc") != e.farmA.USCC {
			t.Fatalf("unit's own: %+v %v", a, err)
		}
		if _, err := k.Create(e.ctx, e.unitB, with(in, "unit_uscc", e.farmA.USCC)); code(err) != "stream_forbidden" {
			t.Errorf("for another unit: %v", err)
		}
		if _, err := k.Create(e.ctx, e.unitB, in); err != nil { // same farm name, another unit: another key
			t.Fatal(err)
		}
		if _, err := k.Get(e.ctx, e.unitB, a.ID); errs.KindOf(err) != errs.NotFound {
			t.Errorf("other unit's record: %v", err)
		}
		if p, _ := k.List(e.ctx, e.unitA, sheet.Filter{}); len(p.Items) != 1 || p.Items[0].ID != a.ID {
			t.Errorf("unit list: %+v", p.Items)
		}
		if p, _ := k.List(e.ctx, suixi, sheet.Filter{}); len(p.Items) != 2 {
			t.Errorf("regulator list: %d", len(p.Items))
		}
		if _, err := k.Create(e.ctx, e.unitA, with(with(in, "region_code", "340603"), "township", "渠沟镇")); code(err) != "unit_region" {
			t.Errorf("unit outside its county: %v", err)
		}
		if _, err := k.Create(e.ctx, e.unitA, with(in, "land_area_mu", "-1")); code(err) != "decimal_range" {
			t.Errorf("negative area: %v", err)
		}
	})
}

func TestExchange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		k := sheet.New(db, agri.FarmRecovery)
		cols, err := k.Columns(e.ctx)
		if err != nil || len(cols) != len(agri.FarmRecovery.Fields) || cols[1].Key != "unit_uscc" ||
			!slices.Contains(cols[0].Choices, "340621 濉溪县") {
			t.Fatalf("columns: %+v %v", cols, err)
		}
		good := [][]string{
			{"340621", "", "濉溪县供销社回收站", "2025", "6", "农膜", "42.5", "36.2", "4.1", "再生造粒", ""},
			{"340621 濉溪县", e.farmA.USCC, "五沟回收点", "2025", "6", "农药包装废弃物", "3", "2.4", "", "", ""},
		}
		res, bad, err := k.Import(e.ctx, suixi, sheet.Rows(good...))
		if err != nil || bad != nil || res.Inserted != 2 {
			t.Fatalf("import: %+v %+v %v", res, bad, err)
		}
		// One bad row among good ones: nothing stored, the row and its columns named.
		res, bad, err = k.Import(e.ctx, suixi, sheet.Rows(
			[]string{"340621", "", "新回收站", "2025", "7", "农膜", "10", "8", "", "", ""},
			[]string{"340621", "", "新回收站", "2025", "13", "农膜", "x", "8", "", "", ""}))
		if err != nil || len(bad) != 2 || bad[0].Row != 3 || bad[0].Column != "month" || bad[1].Column != "used_t" ||
			bad[1].Header != "使用量/产生量（吨）" {
			t.Fatalf("bad rows: %+v %v", bad, err)
		}
		var n int
		_ = store.Get(e.ctx, db.Reader(), &n, `SELECT count(*) FROM farm_recovery`)
		if n != 2 || res.Inserted != 0 {
			t.Fatalf("%d rows after a refused import, %+v", n, res)
		}
		// Export, then re-import: nothing changes.
		var out [][]string
		if err := k.Export(e.ctx, suixi, 2025, func(c []string) error { out = append(out, slices.Clone(c)); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(out) != 2 || out[1][1] != e.farmA.USCC || out[0][0] != "340621 濉溪县" || out[0][6] != "42.5" {
			t.Fatalf("export: %q", out)
		}
		res, bad, err = k.Import(e.ctx, suixi, sheet.Rows(out...))
		if err != nil || bad != nil || res.Unchanged != 2 || res.Inserted+res.Updated != 0 {
			t.Fatalf("re-import: %+v %+v %v", res, bad, err)
		}
		var audits int
		_ = store.Get(e.ctx, db.Reader(), &audits, `SELECT count(*) FROM audit_entries WHERE entity = 'stream_farm_recovery'`)
		out[0][7] = "37"
		res, _, _ = k.Import(e.ctx, suixi, sheet.Rows(out...))
		var after int
		_ = store.Get(e.ctx, db.Reader(), &after, `SELECT count(*) FROM audit_entries WHERE entity = 'stream_farm_recovery'`)
		if res.Updated != 1 || res.Unchanged != 1 || after != audits+1 {
			t.Errorf("changed row: %+v, audit %d → %d", res, audits, after)
		}
		// The unit sees only its own row; 相山区 may not write 濉溪县's; a duplicate row is named.
		var mine int
		_ = k.Export(e.ctx, e.unitA, 2025, func([]string) error { mine++; return nil })
		if mine != 1 {
			t.Errorf("unit export: %d", mine)
		}
		_, bad, _ = k.Import(e.ctx, suixi, sheet.Rows(out[0], out[0]))
		if len(bad) != 1 || bad[0].Code != "duplicate_key" {
			t.Errorf("duplicate: %+v", bad)
		}
		_, bad, _ = k.Import(e.ctx, xiangsh, sheet.Rows(out[0]))
		if len(bad) != 1 || bad[0].Code != "stream_forbidden" {
			t.Errorf("other region: %+v", bad)
		}
		// A standing kind: a site built in 2024 is in the lists of later years.
		sites := sheet.New(db, agri.StrawSite)
		if _, err := sites.Create(e.ctx, suixi, sheet.Input{"region_code": "340621", "township": "临涣镇", "name": "临涣镇收储中心",
			"kind": "乡镇收储中心", "capacity_t": "20000", "operator": "丰润农业", "year": "2024", "longitude": "116.57",
			"latitude": ""}); err != nil {
			t.Fatalf("enter: %v", err)
		}
		recs, cells, _, err := sites.Rows(e.ctx, suixi, sheet.Filter{Year: 2026})
		if err != nil || len(recs) != 1 || cells[0][2] != "临涣镇收储中心" || cells[0][0] != "濉溪县" {
			t.Errorf("standing site in a later year: %q %v", cells, err)
		}
		if recs, _, _, _ := sites.Rows(e.ctx, suixi, sheet.Filter{Year: 2023}); len(recs) != 0 {
			t.Errorf("site before it was built: %d", len(recs))
		}
	})
}
