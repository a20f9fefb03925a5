package indicator

import (
	"context"
	"fmt"
	"math"

	"github.com/google/uuid"

	"wufei/internal/audit"
	"wufei/internal/store"
)

// demoYears are the years the demo reports values for.
var demoYears = []int{2024, 2025, 2026}

// demoCity holds plausible city-wide values for 2024–2026 of the reported
// indicators, chosen so that the demo shows every status: achieved
// (green factories), on track (green mines, express packaging), at risk
// (prefabricated buildings), off track (manure facilities). The stream
// indicators (straw, film, pesticide packaging, household waste, 零填埋,
// 两网融合, general industrial solid waste, sludge, construction waste) are
// computed from the streams' demo records instead.
var demoCity = map[string][3]float64{
	"industrial_output_value":           {18_600_000, 19_500_000, 20_400_000},
	"green_factories":                   {8, 10, 12},
	"green_mine_rate":                   {50, 55, 60},
	"green_building_share":              {90, 95, 98},
	"prefab_building_share":             {30, 33, 35},
	"express_green_pack_rate":           {85, 89, 92.5},
	"manure_facility_rate":              {85, 86, 87},
	"manure_utilization_rate":           {88, 90, 92},
	"medical_waste_system_coverage":     {95, 97, 99},
	"hw_standardisation_pass_rate":      {88, 91, 94},
	"local_regulations":                 {3, 5, 7},
	"coordination_mechanism":            {1, 1, 1},
	"performance_assessment":            {1, 1, 1},
	"public_satisfaction":               {86, 88, 90.5},
	"dead_livestock_treatment_rate":     {100, 100, 100},
	"kitchen_waste_utilization_rate":    {60, 66, 71},
	"informatised_supervision_coverage": {60, 75, 90},
}

// demoShare is each county's share of the city's amounts and counts, and
// its offset from the city's rates (percentage points).
var demoShare = map[string]struct{ share, offset float64 }{
	"340602": {0.15, -2.5}, // 杜集区
	"340603": {0.20, 1.5},  // 相山区
	"340604": {0.22, 0.5},  // 烈山区
	"340621": {0.43, -1.0}, // 濉溪县
}

// SeedDemo writes approved values of the reported indicators for 2024–2026
// for the city and its counties, then computes the computed ones for every
// area and year from the demo's records. It seeds the indicator tree if
// needed and does nothing when reported values already exist.
func SeedDemo(ctx context.Context, db *store.DB) error {
	var seeded bool
	err := db.Tx(ctx, func(tx *store.Tx) error {
		if err := Seed(ctx, tx); err != nil {
			return err
		}
		var n int
		if err := store.Get(ctx, tx, &n, `SELECT count(*) FROM indicator_reports`); err != nil || n > 0 {
			seeded = n > 0
			return err
		}
		var ins []row
		if err := store.Select(ctx, tx, &ins, `SELECT `+indicatorColumns+` FROM indicators WHERE kind = ?`, string(Reported)); err != nil {
			return err
		}
		count := 0
		for _, r := range ins {
			in := r.indicator()
			city, ok := demoCity[in.ID]
			if !ok {
				continue
			}
			for _, region := range []string{cityCode, "340602", "340603", "340604", "340621"} {
				for i, y := range demoYears {
					v := demoValue(in, region, city[i])
					if err := demoReport(ctx, tx, in, region, fmt.Sprint(y), y, v); err != nil {
						return err
					}
					count++
				}
			}
		}
		_, err := audit.Append(ctx, tx, audit.System, audit.Record{Action: "indicator.demo_seed", Entity: "indicator",
			EntityID: "demo", RegionCode: cityCode, Change: map[string]int{"approved_values": count}})
		return err
	})
	if err != nil || seeded {
		return err
	}
	areas, err := Areas(ctx, db.Reader())
	if err != nil {
		return err
	}
	for _, a := range areas {
		for _, y := range demoYears {
			if err := Refresh(ctx, db, a.Code, fmt.Sprint(y)); err != nil {
				return err
			}
		}
	}
	return nil
}

// demoValue derives a county's value from the city's.
func demoValue(in Indicator, region string, city float64) float64 {
	sh, ok := demoShare[region]
	switch {
	case !ok || in.Unit == "是/否":
		return city
	case ratioUnits[in.Unit] && (city >= 100 || city == 0):
		return city // a full or zero rate stays so everywhere
	case ratioUnits[in.Unit]:
		return clampTo(in.Unit, math.Round((city+sh.offset)*10)/10)
	}
	return math.Round(city * sh.share) // amounts and counts: the county's share
}

func demoReport(ctx context.Context, tx *store.Tx, in Indicator, region, period string, year int, v float64) error {
	id := uuid.Must(uuid.NewV7()).String()
	if _, err := store.Exec(ctx, tx, `INSERT INTO indicator_reports (id, indicator_id, region_code, period, seq, value_e6,
		comment, status, department, submitted_by, submitter, submitted_at, decided_by, decided_at, decision_note, version)
		VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, 'system', 'system', ?, 'system', ?, ?, 1)`,
		id, in.ID, region, period, toE6(v), "演示数据：按部门年度统计口径模拟", Approved, in.LeadDepartment, tx.Now, tx.Now,
		"演示数据"); err != nil {
		return err
	}
	_, err := store.Exec(ctx, tx, `INSERT INTO indicator_values (indicator_id, region_code, period, period_kind, year,
		value_e6, source, report_id, computed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (indicator_id, region_code, period) DO NOTHING`,
		in.ID, region, period, periodKindYear, year, toE6(v), valueSourceReported, id, tx.Now)
	return err
}
