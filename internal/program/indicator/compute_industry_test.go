package indicator_test

import (
	"fmt"
	"testing"
	"time"

	"wufei/internal/calendar"
	"wufei/internal/program/indicator"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
	"wufei/internal/streams/construction"
	"wufei/internal/streams/industrial"
	"wufei/internal/streams/medical"
	"wufei/internal/streams/sheet"
	"wufei/internal/streams/sludge"
)

func TestComputedIndustry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.svc.RecordsLag = 0
		ids := []string{"gisw_utilization_rate", "sludge_safe_rate", "cdw_recycling_rate"}
		for _, id := range ids {
			if it := e.list(e.viewer, "340600", 2026)[id]; it.Value != nil || it.Status != "no_data" {
				t.Errorf("%s without records: %+v", id, it)
			}
		}
		uscc := func(id string) string {
			var s string
			if err := store.Get(e.ctx, db.Reader(), &s, `SELECT uscc FROM units WHERE id = ?`, id); err != nil {
				t.Fatal(err)
			}
			return s
		}
		put := func(spec *sheet.Spec, in sheet.Input) string {
			t.Helper()
			r, err := sheet.New(db, spec).Create(e.ctx, e.admin, in)
			if err != nil {
				t.Fatalf("%s: %v", spec.Name, err)
			}
			return r.ID
		}
		gen, gen2, plant := uscc(e.unit("340621", "340621P01")), uscc(e.unit("340603", "")), uscc(e.unit("340604", ""))
		l1 := put(industrial.Ledger, sheet.Input{"unit_uscc": gen, "month": "2026-03", "category": "SW04", "opening_stock_t": "100",
			"generated_t": "1000", "util_materials_t": "700", "util_backfill_t": "100", "util_prior_t": "50", "closing_stock_t": "300"})
		put(industrial.Ledger, sheet.Input{"unit_uscc": gen2, "month": "2026-04", "category": "SW02", "generated_t": "500",
			"util_kiln_t": "300", "disposed_t": "100", "closing_stock_t": "100"})
		put(industrial.Ledger, sheet.Input{"unit_uscc": gen, "month": "2025-12", "category": "SW04", "generated_t": "10",
			"util_materials_t": "10"})
		put(sludge.Ledger, sheet.Input{"plant_uscc": plant, "month": "2026-01", "generated_t": "1000", "incinerated_t": "600",
			"landfill_t": "300", "other_t": "100"})
		put(construction.Site, sheet.Input{"name": "相山建筑垃圾资源化利用厂", "year": "2026", "kind": construction.Recycler,
			"region": "340603", "capacity_t": "500000", "status": "运行"})
		put(construction.SiteMonth, sheet.Input{"site": "相山建筑垃圾资源化利用厂", "month": "2026-05", "received_t": "1000",
			"recycled_t": "520", "landfilled_t": "480"})

		city := e.list(e.viewer, "340600", 2026)
		// (800 + 300) ÷ (1000 + 50 + 500); 2025's month is not in 2026.
		want := map[string]float64{"gisw_utilization_rate": 70.967742, "sludge_safe_rate": 90, "cdw_recycling_rate": 52}
		for id, v := range want {
			if it := city[id]; it.Value == nil || *it.Value != v {
				t.Errorf("%s: %+v, want %v", id, it.Value, v)
			}
		}
		if it := city["gisw_utilization_rate"]; *it.Numerator != 1100 || *it.Denominator != 1550 {
			t.Errorf("gisw parts: %v ÷ %v", *it.Numerator, *it.Denominator)
		}
		// 濉溪县 and the park its generator is in: 800 ÷ 1050; 相山区: 300 ÷ 500.
		for region, v := range map[string]float64{"340621": 76.190476, "340621P01": 76.190476, "340603": 60} {
			if it := e.list(e.viewer, region, 2026)["gisw_utilization_rate"]; it.Value == nil || *it.Value != v {
				t.Errorf("%s: %v, want %v", region, it.Value, v)
			}
		}
		if it := e.list(e.viewer, "340602", 2026)["cdw_recycling_rate"]; it.Value != nil {
			t.Errorf("杜集区 has no sites: %v", *it.Value)
		}
		// A month is a period of its own.
		items, err := e.svc.List(e.ctx, e.viewer, indicatorFilter("340600", "2025-12"))
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.ID == "gisw_utilization_rate" && (it.Value == nil || *it.Value != 100) {
				t.Errorf("2025-12: %v", it.Value)
			}
		}
		// The drill-down lists the ledger records behind the value.
		d, err := e.svc.Get(e.ctx, e.sthjj, "gisw_utilization_rate", indicatorFilter("340600", "2026"))
		if err != nil || d.Drill == nil {
			t.Fatalf("detail: %+v %v", d, err)
		}
		parts, seen := map[string]float64{}, false
		for _, r := range d.Drill.Rows {
			parts[r.Part] += r.Quantity
			if r.Entity != "stream_gisw_ledger" {
				t.Errorf("row entity %s", r.Entity)
			}
			seen = seen || r.ID == l1
		}
		if parts["numerator"] != 1100 || parts["denominator"] != 1550 || !seen {
			t.Errorf("drill: %v %+v", parts, d.Drill.Rows)
		}
		d, err = e.svc.Get(e.ctx, e.xsq, "gisw_utilization_rate", indicatorFilter("340600", "2026"))
		if err != nil || d.HiddenRows == 0 {
			t.Errorf("相山区 sees every row: %+v %v", d.Drill, err)
		}
		for _, r := range d.Drill.Rows {
			if r.RegionCode != "340603" {
				t.Errorf("相山区 sees %s", r.RegionCode)
			}
		}
	})
}

func indicatorFilter(region, period string) indicator.ListFilter {
	return indicator.ListFilter{Region: region, Period: period}
}

// Where the institutions keep records, 医疗废物收集处置率 is what they
// handed over — under contract, or on manifests since completed — over what
// they generated; the drill-down lists both kinds of record.
func TestComputedMedicalRecords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.svc.RecordsLag = 0
		at := time.Date(2026, 2, 2, 10, 0, 0, 0, calendar.Zone)
		hospital, disposer := e.unit("340603", ""), e.unit("340604", "")
		e.manifest(hospital, disposer, "340603", "completed", "HW01", "D10", 3, 3, at)
		e.manifest(hospital, disposer, "340603", "received", "HW01", "D10", 1, 1, at)
		// Manifests alone: 3 completed of 4 shipped.
		if v := e.list(e.viewer, "340600", 2026)["medical_waste_treatment_rate"].Value; v == nil || *v != 75 {
			t.Fatalf("from manifests: %v", v)
		}
		var uscc string
		if err := store.Get(e.ctx, db.Reader(), &uscc, `SELECT uscc FROM units WHERE id = ?`, hospital); err != nil {
			t.Fatal(err)
		}
		clinic := registry.MakeUSCC("52", "340603", "MB0C0001")
		inst, waste := sheet.New(db, medical.Institution), sheet.New(db, medical.Waste)
		for _, in := range []sheet.Input{
			{"uscc": uscc, "year": "2026", "name": "某医院", "region": "340603", "level": "二级医院", "collection": medical.ByManifest,
				"collector": "处置中心"},
			{"uscc": clinic, "year": "2026", "name": "某诊所", "region": "340603", "level": "诊所及村卫生室",
				"collection": medical.ByContract, "collector": "处置中心"},
		} {
			if _, err := inst.Create(e.ctx, e.admin, in); err != nil {
				t.Fatal(err)
			}
		}
		for _, in := range []sheet.Input{
			{"uscc": uscc, "month": "2026-02", "code": "841-001-01", "generated_t": "5"},
			{"uscc": clinic, "month": "2026-02", "code": "841-001-01", "generated_t": "1", "handed_over_t": "1"},
		} {
			if _, err := waste.Create(e.ctx, e.admin, in); err != nil {
				t.Fatal(err)
			}
		}
		// (1 typed + 3 completed) ÷ (5 + 1) generated.
		it := e.list(e.viewer, "340600", 2026)["medical_waste_treatment_rate"]
		if it.Value == nil || *it.Value != 66.666667 || *it.Numerator != 4 || *it.Denominator != 6 {
			t.Fatalf("from records: %+v", it)
		}
		c, err := e.svc.Get(e.ctx, e.admin, "medical_waste_treatment_rate", indicatorFilter("340600", "2026"))
		if err != nil || c.Drill == nil {
			t.Fatalf("detail: %+v %v", c, err)
		}
		kinds := map[string]int{}
		for _, r := range c.Drill.Rows {
			kinds[r.Part+" "+r.Entity]++
		}
		want := map[string]int{"denominator stream_med_waste": 2, "numerator stream_med_waste": 1, "numerator manifest_line": 1}
		if fmt.Sprint(kinds) != fmt.Sprint(want) {
			t.Errorf("drill-down: %v, want %v", kinds, want)
		}
	})
}
