package plan_test

import (
	"fmt"
	"testing"

	"wufei/internal/hw/plan"
	"wufei/internal/registry"
	"wufei/internal/store/storetest"
)

// BenchmarkNames measures the plan check a manifest makes on submission
// against the same SQL run raw on the same engine, on a city's worth of
// filed plans (300 units, three codes each).
func BenchmarkNames(b *testing.B) {
	for _, eng := range storetest.Engines() {
		b.Run(eng.Name, func(b *testing.B) {
			db, _ := eng.Open(b)
			e := newEnv(b, db)
			y := thisYear()
			var units []registry.Unit
			for i := range 300 {
				u := e.unit(fmt.Sprintf("产废单位%d", i), "340621", "", registry.Generator)
				p, err := e.svc.Create(e.ctx, unitAdmin(u), plan.NewPlan{Year: y, ReductionMeasures: "措施",
					Generation: []plan.GenerationLine{{WasteCode: "900-249-08", Form: "L", PlannedT: 5},
						{WasteCode: "900-041-49", Form: "S", PlannedT: 1}},
					Transfers: []plan.TransferLine{{WasteCode: "900-039-49", Method: "D10", PlannedT: 1}}})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := e.svc.Submit(e.ctx, unitAdmin(u), p.ID, 0); err != nil {
					b.Fatal(err)
				}
				units = append(units, u)
			}
			codes := []string{"900-249-08", "900-039-49", "900-000-08"}
			b.Run("Names", func(b *testing.B) {
				i := 0
				for b.Loop() {
					if _, err := plan.Names(e.ctx, db.Reader(), units[i%len(units)].ID, y, codes[i%3]); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
			// The baseline prepares its statement once, as the store's
			// statement cache does.
			b.Run("raw", func(b *testing.B) {
				w := db.Writer()
				stmt, err := w.PreparexContext(e.ctx, w.Rebind(`SELECT count(*) FROM plan_lines l JOIN plans pl ON pl.id = l.plan_id
					WHERE l.unit_id = ? AND l.year = ? AND l.waste_code = ? AND l.section IN (?, ?) AND pl.status = ?`))
				if err != nil {
					b.Fatal(err)
				}
				defer stmt.Close()
				i := 0
				for b.Loop() {
					var n int
					if err := stmt.QueryRowContext(e.ctx, units[i%len(units)].ID, y, codes[i%3], "generation",
						"transfer", "filed").Scan(&n); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		})
	}
}
