package industrial_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"wufei/internal/auth"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
	"wufei/internal/streams/industrial"
	"wufei/internal/streams/sheet"
)

// benchDB holds a city's two years of monthly ledgers: 200 generators in
// the four counties, two categories each, 24 months (9,600 records), written
// raw (the benchmark measures reads).
func benchDB(b *testing.B, e storetest.Engine) *store.DB {
	ctx := context.Background()
	db, _ := e.Open(b)
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		if err := registry.SeedReference(ctx, tx); err != nil {
			return err
		}
		regions := []string{"340602", "340603", "340604", "340621"}
		for u := range 200 {
			id, region := uuid.Must(uuid.NewV7()).String(), regions[u%4]
			if _, err := store.Exec(ctx, tx, `INSERT INTO units (id, uscc, name, region_code, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?)`, id, registry.MakeUSCC("91", region, fmt.Sprintf("MB%06d", u)),
				fmt.Sprintf("基准测试单位%d", u), region, tx.Now, tx.Now); err != nil {
				return err
			}
			for _, y := range []int{2025, 2026} {
				for m := 1; m <= 12; m++ {
					for _, cat := range []string{"SW04", "SW02"} {
						if _, err := store.Exec(ctx, tx, `INSERT INTO gisw_ledgers (id, unit_id, region_code, year, month, category,
							generated_g, util_materials_g, closing_stock_g, version, created_at, updated_at)
							VALUES (?, ?, ?, ?, ?, ?, 1000000000, 850000000, 150000000, 1, ?, ?)`, uuid.Must(uuid.NewV7()).String(),
							id, region, y, m, cat, tx.Now, tx.Now); err != nil {
							return err
						}
					}
				}
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	return db
}

// BenchmarkLedgerList compares a county regulator's first page of a year's
// ledgers through the service (scope, filters, the unit's name, keyset
// page, typed fields) with the same query run raw into rows.
func BenchmarkLedgerList(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			ctx := context.Background()
			db := benchDB(b, e)
			svc := sheet.New(db, industrial.Ledger)
			p := auth.Principal{UserID: "r", Username: "r", Role: auth.Regulator, RegionCode: "340621"}
			b.Run("raw", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					rows, err := db.Reader().QueryxContext(ctx, db.Reader().Rebind(`SELECT t.*, COALESCE(u.name, '') AS unit_name
						FROM gisw_ledgers t LEFT JOIN units u ON u.id = t.unit_id WHERE t.region_code = ? AND t.year = ?
						ORDER BY t.id DESC LIMIT 51`), "340621", 2026)
					if err != nil {
						b.Fatal(err)
					}
					n := 0
					for rows.Next() {
						m := map[string]any{}
						if err := rows.MapScan(m); err != nil {
							b.Fatal(err)
						}
						n++
					}
					rows.Close()
					if n != 51 {
						b.Fatalf("%d rows", n)
					}
				}
			})
			b.Run("service", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					pg, err := svc.List(ctx, p, sheet.Filter{Year: 2026})
					if err != nil || len(pg.Items) != 50 {
						b.Fatal(len(pg.Items), err)
					}
				}
			})
		})
	}
}

// BenchmarkLedgerExport compares exporting a year of the city's ledgers
// (4,800 rows, formatted as workbook cells) with scanning the same rows raw.
func BenchmarkLedgerExport(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			ctx := context.Background()
			db := benchDB(b, e)
			svc := sheet.New(db, industrial.Ledger)
			admin := auth.Principal{UserID: "a", Username: "a", Role: auth.Admin}
			b.Run("raw", func(b *testing.B) {
				for b.Loop() {
					rows, err := db.Reader().QueryxContext(ctx, db.Reader().Rebind(`SELECT t.*, COALESCE(u.uscc, '') AS uscc
						FROM gisw_ledgers t LEFT JOIN units u ON u.id = t.unit_id WHERE t.year = ? ORDER BY t.id`), 2026)
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
					if n != 4800 {
						b.Fatalf("%d rows", n)
					}
				}
			})
			b.Run("service", func(b *testing.B) {
				for b.Loop() {
					n := 0
					if err := svc.Export(ctx, admin, 2026, func([]string) error { n++; return nil }); err != nil || n != 4800 {
						b.Fatal(n, err)
					}
				}
			})
		})
	}
}
