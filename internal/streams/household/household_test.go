package household_test

import (
	"context"
	"slices"
	"testing"

	"wufei/internal/auth"
	"wufei/internal/catalog"
	"wufei/internal/exchange"
	"wufei/internal/program/indicator"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
	"wufei/internal/streams/agri"
	"wufei/internal/streams/household"
)

var admin = auth.Principal{UserID: "a", Username: "admin", Role: auth.Admin}

func seed(t *testing.T, db *store.DB) context.Context {
	t.Helper()
	ctx := context.Background()
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		if err := registry.SeedReference(ctx, tx); err != nil {
			return err
		}
		if err := catalog.Seed(ctx, tx); err != nil {
			return err
		}
		return indicator.Seed(ctx, tx)
	}); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// The demo's records give the stream indicators values near the
// programme's demo figures, each backed by its records; every kind's
// export re-imports unchanged.
func TestDemo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := seed(t, db)
		for _, demo := range []func(context.Context, *store.DB) error{agri.Demo, household.Demo, agri.Demo, household.Demo} {
			if err := demo(ctx, db); err != nil {
				t.Fatal(err)
			}
		}
		prev, cur, _ := agri.DemoPeriod()
		svc := indicator.NewService(db)
		for _, c := range []struct {
			id     string
			year   int
			lo, hi float64
		}{
			{"straw_utilization_rate", prev, 95, 96.5}, {"straw_utilization_rate", cur, 95.4, 97},
			{"ag_film_recovery_rate", prev, 81, 83}, {"pesticide_pack_recovery_rate", prev, 71, 73},
			{"msw_recycling_rate", prev, 36, 37}, {"msw_recycling_rate", cur, 37.5, 38.5},
			{"msw_landfill_raw", prev, 0, 0}, {"two_networks_coverage", prev, 50, 50}, {"two_networks_coverage", cur, 75, 75},
		} {
			d, err := svc.Get(ctx, admin, c.id, indicator.ListFilter{Region: "340600", Year: c.year})
			switch {
			case err != nil:
				t.Fatal(err)
			case d.Value == nil || *d.Value < c.lo || *d.Value > c.hi:
				t.Errorf("%s %d: %v, want %v–%v", c.id, c.year, fmtValue(d.Value), c.lo, c.hi)
			case len(d.Drill.Rows) == 0:
				t.Errorf("%s %d: no records behind it", c.id, c.year)
			}
		}
		sheets := slices.Concat(agri.Sheets(db), household.Sheets(db))
		for _, k := range sheets {
			var rows [][]string
			if err := k.Export(ctx, admin, prev, func(c []string) error { rows = append(rows, slices.Clone(c)); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(rows) == 0 {
				t.Errorf("%s: no demo records in %d", k.Name(), prev)
				continue
			}
			res, bad, err := k.Import(ctx, admin, func(yield func(exchange.Row, error) bool) {
				for i, c := range rows {
					if !yield(exchange.Row{Num: i + 2, Cells: c}, nil) {
						return
					}
				}
			})
			if err != nil || bad != nil || res.Unchanged != len(rows) {
				t.Errorf("%s re-import: %+v %+v %v", k.Name(), res, bad, err)
			}
		}
	})
}

func fmtValue(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}
