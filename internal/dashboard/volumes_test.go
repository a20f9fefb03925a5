package dashboard_test

import (
	"context"
	"math"
	"reflect"
	"testing"
	"time"

	"wufei/internal/calendar"
	"wufei/internal/dashboard"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// TestTotalsAnswerAsRecords checks that the figures read from the monthly
// totals (hw_volumes) are the ones the records give, for the city's
// regulator, a county's and the admin, whole and filtered by county,
// month and category.
func TestTotalsAnswerAsRecords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, ps := seeded(t, db)
		raw := dashboard.FromRecords(svc)
		month := time.Now().In(calendar.Zone).AddDate(0, -2, 0).Format("2006-01")
		filters := []dashboard.Filter{{}, {Region: "340621"}, {Region: "340603"}, {Period: month}, {Category: "HW08"},
			{Region: "340621", Category: "HW49"}}
		nonzero := 0
		for _, u := range []string{"sthjj", "xsq", "admin"} {
			for _, f := range filters {
				p := ps[u]
				fl, err := svc.Flows(ctx, p, f)
				if err != nil {
					t.Fatal(err)
				}
				want, err := raw.Flows(ctx, p, f)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(fl, want) {
					t.Errorf("%s %+v flows:\n totals  %+v\n records %+v", u, f, fl, want)
				}
				if generated(fl) > 0 {
					nonzero++
				}
				rg, err := svc.Regions(ctx, p, f)
				if err != nil {
					t.Fatal(err)
				}
				wantRg, err := raw.Regions(ctx, p, f)
				if err != nil {
					t.Fatal(err)
				}
				if !sameRegions(rg, wantRg) {
					t.Errorf("%s %+v regions:\n totals  %+v\n records %+v", u, f, rg, wantRg)
				}
				sk, err := svc.Sankey(ctx, p, f)
				if err != nil {
					t.Fatal(err)
				}
				wantSk, err := raw.Sankey(ctx, p, f)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(sk, wantSk) {
					t.Errorf("%s %+v sankey:\n totals  %+v\n records %+v", u, f, sk, wantSk)
				}
			}
		}
		if nonzero < len(filters) {
			t.Errorf("only %d of the compared flows have anything generated", nonzero)
		}
	})
}

// sameRegions compares two comparisons of counties; tonnes summed in
// another order may differ in the last place before rounding.
func sameRegions(a, b dashboard.Regions) bool {
	if a.Filter != b.Filter || len(a.Regions) != len(b.Regions) {
		return false
	}
	near := func(x, y float64) bool { return math.Abs(x-y) < 1e-6 }
	for i, x := range a.Regions {
		y := b.Regions[i]
		if x.Code != y.Code || x.Name != y.Name || x.OpenAlerts != y.OpenAlerts || x.URL != y.URL ||
			!near(x.GeneratedT, y.GeneratedT) || !near(x.TransferredT, y.TransferredT) ||
			!near(x.UtilisedT, y.UtilisedT) || !near(x.DisposedT, y.DisposedT) {
			return false
		}
	}
	return true
}
