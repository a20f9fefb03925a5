package publication_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"wufei/internal/calendar"
	"wufei/internal/publication"
	"wufei/internal/server"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// BenchmarkPublication measures what the public pages read on the demo
// city (300 further units, a year of hazardous-waste activity, two years
// of stream records): the annual publication (every table, about twenty
// statements), its workbook, and the licensed facilities, against the
// publication's two hazardous-waste aggregates done raw on the same engine
// in the same run.
func BenchmarkPublication(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			db, _ := e.Open(b)
			ctx := context.Background()
			if _, err := server.New(ctx, db, server.Config{Demo: true, DemoUnits: 300, Version: "bench",
				KeyFile: filepath.Join(b.TempDir(), "audit.key")}); err != nil {
				b.Fatal(err)
			}
			y := time.Now().In(calendar.Zone).Year()
			from := time.Date(y, 1, 1, 0, 0, 0, 0, calendar.Zone).UTC()
			to := from.AddDate(1, 0, 0)
			q := db.Reader()
			b.Run("raw_hazardous", func(b *testing.B) {
				for b.Loop() {
					for _, r := range []struct {
						sql  string
						args []any
					}{{publication.HazardousLedgerQuery, []any{from, from, from, to}},
						{publication.HazardousManifestQuery, []any{from, to}}} {
						rows, err := q.QueryxContext(ctx, q.Rebind(r.sql), r.args...)
						if err != nil {
							b.Fatal(err)
						}
						for rows.Next() {
						}
						if err := rows.Close(); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
			b.Run("annual", func(b *testing.B) {
				n := store.Statements.Load()
				for b.Loop() {
					if _, err := publication.Annual(ctx, q, y); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(store.Statements.Load()-n)/float64(b.N), "stmts/op")
			})
			b.Run("annual_workbook", func(b *testing.B) {
				for b.Loop() {
					r, err := publication.Annual(ctx, q, y)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := publication.Workbook(r); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("facilities", func(b *testing.B) {
				for b.Loop() {
					if _, err := publication.Facilities(ctx, q, publication.FacilityFilter{}); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
