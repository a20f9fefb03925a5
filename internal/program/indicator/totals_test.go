package indicator_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"wufei/internal/calendar"
	"wufei/internal/demo"
	"wufei/internal/program/indicator"
	"wufei/internal/server"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// TestTotalsAnswerAsRecords checks that the hazardous-waste indicators
// computed from the monthly totals (hw_volumes) for the city and each
// county equal those summed from the records, on the demo's year of
// activity, for years, a quarter and a month.
func TestTotalsAnswerAsRecords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := server.Prepare(ctx, db); err != nil {
			t.Fatal(err)
		}
		if err := demo.Seed(ctx, db, demo.ActivityMinUnits); err != nil {
			t.Fatal(err)
		}
		q := db.Reader()
		areas, err := indicator.Areas(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().In(calendar.Zone)
		periods := []string{fmt.Sprint(now.Year()), fmt.Sprint(now.Year() - 1), indicator.QuarterOf(now),
			indicator.MonthOf(now.AddDate(0, -1, 0))}
		show := func(v *float64) string {
			if v == nil {
				return "none"
			}
			return fmt.Sprint(*v)
		}
		valued := 0
		for _, a := range areas {
			if a.Level == "park" {
				continue // read from the records either way
			}
			for _, per := range periods {
				for _, id := range []string{"ihw_utilization_rate", "ihw_generation_intensity", "medical_waste_treatment_rate"} {
					got, err := indicator.ComputeNow(ctx, q, id, a.Code, per, false)
					if err != nil {
						t.Fatal(err)
					}
					want, err := indicator.ComputeNow(ctx, q, id, a.Code, per, true)
					if err != nil {
						t.Fatal(err)
					}
					for _, v := range [][2]*float64{{got.Value, want.Value}, {got.Numerator, want.Numerator},
						{got.Denominator, want.Denominator}} {
						if show(v[0]) != show(v[1]) {
							t.Errorf("%s %s %s: totals give %s / %s = %s, records %s / %s = %s", id, a.Code, per,
								show(got.Numerator), show(got.Denominator), show(got.Value),
								show(want.Numerator), show(want.Denominator), show(want.Value))
							break
						}
					}
					if got.Value != nil && *got.Value != 0 {
						valued++
					}
				}
			}
		}
		if valued < 10 {
			t.Errorf("only %d values to compare", valued)
		}
	})
}
