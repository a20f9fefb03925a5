package dashboard_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"wufei/internal/calendar"
	"wufei/internal/dashboard"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// BenchmarkFlows measures the dashboard's heaviest figure, the monthly
// flows (a year of the ledger and of the manifests by month, category,
// county and kind), for a city-wide regulator on the demo with a year of
// activity. The service reads the monthly totals (hw_volumes); "raw" runs
// the three SQL statements over the records that it used to run: the ratio
// is what the totals save.
func BenchmarkFlows(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			ctx := context.Background()
			db, _ := e.Open(b)
			svc, ps := seeded(b, db)
			p := ps["sthjj"]
			year := time.Now().In(calendar.Zone).Year()
			from := time.Date(year, 1, 1, 0, 0, 0, 0, calendar.Zone)
			var bounds []any
			cases := "CASE"
			for m := 1; m <= 12; m++ {
				cases += " WHEN %s < ? THEN " + string(rune('0'+m/10)) + string(rune('0'+m%10))
				bounds = append(bounds, from.AddDate(0, m, 0).UTC())
			}
			cases += " ELSE -1 END"
			bucket := func(col string) string { return strings.ReplaceAll(cases, "%s", col) }
			args := func() []any { return append(append([]any{}, bounds...), from.UTC(), from.AddDate(1, 0, 0).UTC()) }
			queries := []string{
				`SELECT ` + bucket("lr.occurred_at") + ` AS b, lr.category, lr.region_code,
				CASE WHEN lr.effect_kind = 'generation' THEN 'generated' WHEN lr.method LIKE 'R%' THEN 'utilised' ELSE 'disposed' END AS kind,
				SUM(lr.delta_g) AS g FROM ledger_records lr WHERE lr.occurred_at >= ? AND lr.occurred_at < ?
				AND lr.effect_kind IN ('generation', 'in_house') GROUP BY 1, 2, 3, 4`,
				`SELECT ` + bucket("m.picked_up_at") + ` AS b, l.category, m.region_code, 'transferred' AS kind, SUM(l.quantity_g) AS g
				FROM manifests m JOIN manifest_lines l ON l.manifest_id = m.id WHERE m.status IN ('in_transit', 'received', 'completed')
				AND m.picked_up_at >= ? AND m.picked_up_at < ? AND m.status <> 'draft' GROUP BY 1, 2, 3, 4`,
				`SELECT ` + bucket("m.completed_at") + ` AS b, l.category, m.receiver_region_code AS region_code,
				CASE WHEN l.method LIKE 'R%' THEN 'utilised' ELSE 'disposed' END AS kind, SUM(COALESCE(l.accepted_g, 0)) AS g
				FROM manifests m JOIN manifest_lines l ON l.manifest_id = m.id WHERE m.status = 'completed'
				AND m.completed_at >= ? AND m.completed_at < ? AND m.status <> 'draft' GROUP BY 1, 2, 3, 4`,
			}
			type row struct {
				B        int    `db:"b"`
				Category string `db:"category"`
				Region   string `db:"region_code"`
				Kind     string `db:"kind"`
				G        int64  `db:"g"`
			}
			b.Run("service", func(b *testing.B) {
				for b.Loop() {
					if _, err := svc.Flows(ctx, p, dashboard.Filter{}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("raw", func(b *testing.B) {
				for b.Loop() {
					for _, q := range queries {
						var rows []row
						if err := store.Select(ctx, db.Reader(), &rows, q, args()...); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		})
	}
}
