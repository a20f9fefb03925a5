package indicator_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"wufei/internal/auth"
	"wufei/internal/program/indicator"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
	"wufei/internal/streams/agri"
	"wufei/internal/streams/household"
	"wufei/internal/streams/sheet"
)

func TestLivingIndicators(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.svc.RecordsLag = 0
		put := func(spec *sheet.Spec, in sheet.Input) {
			t.Helper()
			if _, err := sheet.New(db, spec).Create(e.ctx, e.admin, in); err != nil {
				t.Fatalf("%s: %v", spec.Name, err)
			}
		}
		get := func(id, region, period string) indicator.Detail {
			t.Helper()
			d, err := e.svc.Get(e.ctx, e.admin, id, indicator.ListFilter{Region: region, Period: period})
			if err != nil {
				t.Fatalf("%s %s %s: %v", id, region, period, err)
			}
			return d
		}
		for _, id := range []string{"straw_utilization_rate", "ag_film_recovery_rate", "msw_landfill_raw", "two_networks_coverage"} {
			if d := get(id, "340600", "2025"); d.Value != nil || d.Drill == nil || d.Drill.Value != nil {
				t.Errorf("%s without records: %+v", id, d.Item)
			}
		}

		// Straw: 濉溪县 summer 1000 t, 950 used; autumn 2000 t, 1981 used; 烈山区 summer 500 t, 450 used.
		put(agri.StrawTownship, sheet.Input{"region_code": "340621", "township": "临涣镇", "year": "2025", "season": "夏季",
			"generated_t": "1000", "fertiliser_t": "700", "feed_t": "150", "fuel_t": "50", "base_t": "30", "material_t": "20"})
		put(agri.StrawTownship, sheet.Input{"region_code": "340621", "township": "韩村镇", "year": "2025", "season": "秋季",
			"generated_t": "2000", "fertiliser_t": "1981"})
		put(agri.StrawTownship, sheet.Input{"region_code": "340604", "township": "宋疃镇", "year": "2025", "season": "夏季",
			"generated_t": "500", "fertiliser_t": "450"})
		d := get("straw_utilization_rate", "340600", "2025")
		if d.Value == nil || *d.Value != 96.6 || *d.Numerator != 3381 || *d.Denominator != 3500 || len(d.Drill.Rows) != 6 ||
			d.Drill.Rows[0].Entity != "stream_straw_township" {
			t.Errorf("straw city 2025: %v %+v", d.Value, d.Drill)
		}
		if d := get("straw_utilization_rate", "340621", "2025Q2"); d.Value == nil || *d.Value != 95 {
			t.Errorf("straw 濉溪县 Q2 (summer): %v", d.Value)
		}
		if d := get("straw_utilization_rate", "340603", "2025"); d.Value != nil {
			t.Errorf("straw 相山区: %v", *d.Value)
		}

		// Film and pesticide packaging from the same ledger, by kind.
		for m, rec := range map[int][2]float64{5: {40, 32}, 6: {60, 51}} {
			put(agri.FarmRecovery, sheet.Input{"region_code": "340621", "recycler": "濉溪县供销社回收站", "year": "2025",
				"month": fmt.Sprint(m), "kind": agri.Film, "used_t": fmt.Sprint(rec[0]), "recovered_t": fmt.Sprint(rec[1])})
		}
		put(agri.FarmRecovery, sheet.Input{"region_code": "340621", "recycler": "濉溪县供销社回收站", "year": "2025", "month": "5",
			"kind": agri.Pesticide, "used_t": "4", "recovered_t": "3"})
		if d := get("ag_film_recovery_rate", "340600", "2025"); d.Value == nil || *d.Value != 83 || len(d.Drill.Rows) != 4 {
			t.Errorf("film: %v %+v", d.Value, d.Drill)
		}
		if d := get("ag_film_recovery_rate", "340600", "2025-06"); d.Value == nil || *d.Value != 85 {
			t.Errorf("film June: %v", d.Value)
		}
		if d := get("pesticide_pack_recovery_rate", "340621", "2025"); d.Value == nil || *d.Value != 75 {
			t.Errorf("pesticide: %v", d.Value)
		}

		// Household waste: 相山区 in May, 零填埋; 杜集区 buried 12 t raw.
		for _, w := range []sheet.Input{
			{"stream": "可回收物", "collected_t": "300", "recycled_t": "290"},
			{"stream": "厨余垃圾", "collected_t": "500", "recycled_t": "410", "incinerated_t": "60"},
			{"stream": "其他垃圾", "collected_t": "1200", "incinerated_t": "1200"},
		} {
			w["region_code"], w["year"], w["month"] = "340603", "2025", "5"
			put(household.Waste, w)
		}
		if d := get("msw_recycling_rate", "340603", "2025"); d.Value == nil || *d.Value != 35 {
			t.Errorf("msw recycling: %v", d.Value)
		}
		d = get("msw_landfill_raw", "340603", "2025")
		if d.Value == nil || *d.Value != 0 || len(d.Drill.Rows) != 3 || d.Status != "achieved" {
			t.Errorf("零填埋: %v %s %+v", d.Value, d.Status, d.Drill)
		}
		put(household.Waste, sheet.Input{"region_code": "340602", "year": "2025", "month": "7", "stream": "其他垃圾",
			"collected_t": "800", "incinerated_t": "788", "landfilled_t": "12"})
		if d := get("msw_landfill_raw", "340600", "2025"); d.Value == nil || *d.Value != 12 || d.Status == "achieved" {
			t.Errorf("landfill: %v %s", d.Value, d.Status)
		}

		// 两网融合: 相山区 has all three tiers by 2025; 杜集区 has a drop-off point and is served by the
		// same sorting centre, but its transfer station opens only in 2026.
		pt := func(region, kind, name string, year int, counties ...string) {
			put(household.Point, sheet.Input{"region_code": region, "kind": kind, "name": name, "address": "地址",
				"operator": "供销再生资源", "counties": strings.Join(counties, ","), "year": fmt.Sprint(year), "status": "运行"})
		}
		pt("340603", "交投点", "相山交投点", 2024, "340603")
		pt("340603", "中转站", "相山中转站", 2024, "340603")
		pt("340603", "分拣中心", "市分拣中心", 2024, "340603", "340602")
		pt("340602", "交投点", "杜集交投点", 2025, "340602")
		pt("340602", "中转站", "杜集中转站", 2026, "340602")
		d = get("two_networks_coverage", "340600", "2025")
		if d.Value == nil || *d.Value != 25 || *d.Numerator != 1 || *d.Denominator != 4 {
			t.Errorf("two networks 2025: %v %v/%v", d.Value, d.Numerator, d.Denominator)
		}
		if d := get("two_networks_coverage", "340600", "2026"); d.Value == nil || *d.Value != 50 || len(d.Drill.Rows) != 4+6 {
			t.Errorf("two networks 2026: %v %+v", d.Value, d.Drill)
		}
		if d := get("two_networks_coverage", "340602", "2025"); d.Value == nil || *d.Value != 0 {
			t.Errorf("杜集区 2025: %v", d.Value)
		}
		if d := get("two_networks_coverage", "340621P01", "2025"); d.Value != nil {
			t.Errorf("a park: %v", *d.Value)
		}
		// The regional view lists only its own records.
		d, err := e.svc.Get(e.ctx, e.xsBranch, "msw_landfill_raw", indicator.ListFilter{Region: "340603", Period: "2025"})
		if err != nil || len(d.Drill.Rows) != 3 {
			t.Errorf("相山 drill: %v %+v", err, d.Drill)
		}
	})
}

// BenchmarkLiving measures, over a city's two years of agricultural and
// household demo records, the list of a kind (500 monthly waste records, a
// page) and the detail of 城市生活垃圾回收利用率 with its drill-down, each
// against the same reads done raw on the same engine in the same run.
func BenchmarkLiving(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			db, _ := e.Open(b)
			ctx := context.Background()
			if err := db.Tx(ctx, func(tx *store.Tx) error {
				if err := registry.SeedReference(ctx, tx); err != nil {
					return err
				}
				return indicator.Seed(ctx, tx)
			}); err != nil {
				b.Fatal(err)
			}
			if err := agri.Demo(ctx, db); err != nil {
				b.Fatal(err)
			}
			if err := household.Demo(ctx, db); err != nil {
				b.Fatal(err)
			}
			prev, _, _ := agri.DemoPeriod()
			admin := auth.Principal{UserID: "a", Username: "admin", Role: auth.Admin}
			waste := sheet.New(db, household.Waste)
			svc := indicator.NewService(db)
			q := db.Reader()
			b.Run("list", func(b *testing.B) {
				for b.Loop() {
					p, err := waste.List(ctx, admin, sheet.Filter{Year: prev, Limit: 500})
					if err != nil || len(p.Items) != 192 {
						b.Fatal(len(p.Items), err)
					}
				}
			})
			b.Run("list_raw", func(b *testing.B) {
				for b.Loop() {
					rows, err := q.QueryxContext(ctx, q.Rebind(`SELECT id, version, created_at, updated_at, unit_id, year, month,
						region_code, stream, collected_g, incinerated_g, landfilled_g, recycled_g, note FROM msw_monthly
						WHERE year = ? ORDER BY id DESC LIMIT 501`), prev)
					if err != nil {
						b.Fatal(err)
					}
					n := 0
					for rows.Next() {
						if _, err := rows.SliceScan(); err != nil {
							b.Fatal(err)
						}
						n++
					}
					rows.Close()
					if n != 192 {
						b.Fatal(n)
					}
				}
			})
			f := indicator.ListFilter{Region: "340600", Year: prev}
			if _, err := svc.Get(ctx, admin, "msw_recycling_rate", f); err != nil { // computes and stores the values once
				b.Fatal(err)
			}
			b.Run("indicator", func(b *testing.B) {
				for b.Loop() {
					d, err := svc.Get(ctx, admin, "msw_recycling_rate", f)
					if err != nil || d.Value == nil || len(d.Drill.Rows) == 0 {
						b.Fatal(err)
					}
				}
			})
			b.Run("indicator_raw", func(b *testing.B) {
				for b.Loop() {
					var num, den int64
					if err := q.QueryRowxContext(ctx, q.Rebind(`SELECT COALESCE(SUM(recycled_g), 0), COALESCE(SUM(collected_g), 0)
						FROM msw_monthly WHERE year * 100 + month BETWEEN ? AND ?`), prev*100, prev*100+12).Scan(&num, &den); err != nil {
						b.Fatal(err)
					}
					for _, col := range []string{"collected_g", "recycled_g"} {
						rows, err := q.QueryxContext(ctx, q.Rebind(`SELECT id, stream, unit_id, region_code, `+col+` FROM msw_monthly
							WHERE year * 100 + month BETWEEN ? AND ? AND `+col+` > 0 ORDER BY year, month, id LIMIT 501`),
							prev*100, prev*100+12)
						if err != nil {
							b.Fatal(err)
						}
						for rows.Next() {
							if _, err := rows.SliceScan(); err != nil {
								b.Fatal(err)
							}
						}
						rows.Close()
					}
				}
			})
		})
	}
}
