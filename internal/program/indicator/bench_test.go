package indicator_test

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"wufei/internal/catalog"
	"wufei/internal/program/indicator"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// BenchmarkRefresh measures indicator.Refresh of the city for a year — the
// four computed indicators over a year of a city's ledger and manifests
// (500 units, 200,000 ledger records, 20,000 manifests over 2025–2026) and
// the write of their values — against the same aggregate reads done raw on
// the same engine in the same run.
func BenchmarkRefresh(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			db, _ := e.Open(b)
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
				b.Fatal(err)
			}
			seedRecords(b, db, 500, 200_000, 20_000)
			p, _ := indicator.ParsePeriod("period", "2026")
			codes := []any{}
			var cs []string
			if err := store.Select(ctx, db.Reader(), &cs, `SELECT code FROM regions WHERE code LIKE '3406%'`); err != nil {
				b.Fatal(err)
			}
			in := strings.TrimSuffix(strings.Repeat("?, ", len(cs)), ", ")
			for _, c := range cs {
				codes = append(codes, c)
			}
			b.Run("raw_aggregates", func(b *testing.B) {
				for b.Loop() {
					var t struct {
						Gen, Opening, InHouse int64
					}
					if err := db.Reader().QueryRowxContext(ctx, db.Reader().Rebind(`SELECT
						COALESCE(SUM(CASE WHEN effect_kind = 'generation' AND occurred_at >= ? THEN delta_g ELSE 0 END), 0),
						COALESCE(SUM(CASE WHEN effect_kind = 'storage_in' AND occurred_at < ? THEN delta_g
							WHEN effect_kind = 'storage_out' AND occurred_at < ? THEN -delta_g ELSE 0 END), 0),
						COALESCE(SUM(CASE WHEN effect_kind = 'in_house' AND occurred_at >= ? AND (method LIKE 'R%' OR method LIKE 'C%')
							THEN delta_g ELSE 0 END), 0)
						FROM ledger_records WHERE category <> 'HW01' AND occurred_at < ? AND region_code IN (`+in+`)`),
						append([]any{p.From, p.From, p.From, p.From, p.To}, codes...)...).Scan(&t.Gen, &t.Opening, &t.InHouse); err != nil {
						b.Fatal(err)
					}
					var shipped, medical int64
					if err := db.Reader().QueryRowxContext(ctx, db.Reader().Rebind(`SELECT COALESCE(SUM(l.accepted_g), 0)
						FROM manifests m JOIN manifest_lines l ON l.manifest_id = m.id WHERE m.status = 'completed'
						AND m.picked_up_at >= ? AND m.picked_up_at < ? AND l.category <> 'HW01'
						AND (l.method LIKE 'R%' OR l.method LIKE 'C%') AND m.region_code IN (`+in+`)`),
						append([]any{p.From, p.To}, codes...)...).Scan(&shipped); err != nil {
						b.Fatal(err)
					}
					var done, cells int64
					var output *int64
					if err := db.Reader().QueryRowxContext(ctx, db.Reader().Rebind(`SELECT COALESCE(SUM(l.quantity_g), 0),
						COALESCE(SUM(CASE WHEN m.status = 'completed' THEN COALESCE(l.accepted_g, 0) ELSE 0 END), 0)
						FROM manifests m JOIN manifest_lines l ON l.manifest_id = m.id WHERE l.category = 'HW01'
						AND m.picked_up_at >= ? AND m.picked_up_at < ? AND m.status NOT IN ('draft', 'cancelled', 'refused')
						AND m.region_code IN (`+in+`)`),
						append([]any{p.From, p.To}, codes...)...).Scan(&medical, &done); err != nil {
						b.Fatal(err)
					}
					if err := db.Reader().QueryRowxContext(ctx, db.Reader().Rebind(`SELECT count(*) FROM cells c
						WHERE c.status = 'certified' AND c.certified_at < ? AND c.region_code IN (`+in+`)`),
						append([]any{p.To}, codes...)...).Scan(&cells); err != nil {
						b.Fatal(err)
					}
					_ = db.Reader().QueryRowxContext(ctx, db.Reader().Rebind(`SELECT value_e6 FROM indicator_values
						WHERE indicator_id = 'industrial_output_value' AND region_code = '340600' AND period = '2026'`)).Scan(&output)
				}
			})
			b.Run("refresh", func(b *testing.B) {
				for b.Loop() {
					if err := indicator.Refresh(ctx, db, "340600", "2026"); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// seedRecords writes units, ledger records and one-line manifests raw,
// spread over the counties and over 2025–2026.
func seedRecords(b *testing.B, db *store.DB, units, records, manifests int) {
	ctx := context.Background()
	counties := []string{"340602", "340603", "340604", "340621"}
	rng := rand.New(rand.NewPCG(5, 6))
	now := store.Now()
	ids := make([]string, units)
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func() time.Time { return start.Add(time.Duration(rng.Int64N(int64(700 * 24 * time.Hour)))) }
	batch := func(table, cols string, n int, row func(i int) []any) {
		ph := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(row(0))), ", ") + ")"
		for lo := 0; lo < n; lo += 500 {
			hi := min(n, lo+500)
			var vals []string
			var args []any
			for i := lo; i < hi; i++ {
				vals = append(vals, ph)
				args = append(args, row(i)...)
			}
			if err := db.Tx(ctx, func(tx *store.Tx) error {
				_, err := store.Exec(ctx, tx, `INSERT INTO `+table+` (`+cols+`) VALUES `+strings.Join(vals, ", "), args...)
				return err
			}); err != nil {
				b.Fatal(err)
			}
		}
	}
	for i := range ids {
		ids[i] = fmt.Sprintf("bench-unit-%05d", i)
	}
	batch("units", "id, uscc, name, region_code, created_at, updated_at", units, func(i int) []any {
		return []any{ids[i], fmt.Sprintf("91340600MB%08d", i), fmt.Sprintf("基准单位%d", i), counties[i%4], now, now}
	})
	kinds := []string{"generation", "storage_in", "storage_out", "in_house"}
	batch("ledger_records", `id, origin_id, unit_id, region_code, kind, effect_kind, batch_code, occurred_at, waste_code,
		category, name, official_name, quantity_g, delta_g, method, audit_seq, created_at`, records, func(i int) []any {
		u := i % units
		k := kinds[rng.IntN(4)]
		id := fmt.Sprintf("bench-rec-%07d", i)
		method := ""
		if k == "in_house" {
			method = []string{"R9", "C1", "D10"}[rng.IntN(3)]
		}
		g := rng.Int64N(5_000_000)
		return []any{id, id, ids[u], counties[u%4], k, k, fmt.Sprintf("B%07d", i), at(), "900-249-08", "HW08", "废矿物油",
			"废矿物油", g, g, method, 0, now}
	})
	statuses := []string{"completed", "completed", "completed", "in_transit", "received"}
	batch("manifests", `id, number, year, status, consignor_unit_id, receiver_unit_id, region_code, receiver_region_code,
		picked_up_at, created_at, updated_at`, manifests, func(i int) []any {
		u := i % units
		return []any{fmt.Sprintf("bench-m-%06d", i), fmt.Sprintf("B%09d", i), 2026, statuses[rng.IntN(5)], ids[u], ids[(u+1)%units],
			counties[u%4], "340604", at(), now, now}
	})
	batch("manifest_lines", `manifest_id, line_no, waste_code, category, name, official_name, quantity_g, form,
		characteristics, packaging, package_count, accepted_g, method`, manifests, func(i int) []any {
		cat, code := "HW08", "900-249-08"
		if i%10 == 0 {
			cat, code = "HW01", "841-001-01"
		}
		g := rng.Int64N(10_000_000)
		return []any{fmt.Sprintf("bench-m-%06d", i), 1, code, cat, "废物", "废物", g, "L", "T", "桶", 1, g,
			[]string{"R9", "C1", "D10"}[rng.IntN(3)]}
	})
	// The monthly totals the steps would have kept: the migration that
	// creates them sums the records already there.
	dir, err := fs.Sub(store.Migrations, "migrations/"+string(db.Dialect))
	if err != nil {
		b.Fatal(err)
	}
	dialect := goose.DialectSQLite3
	if db.Dialect == store.Postgres {
		dialect = goose.DialectPostgres
	}
	mp, err := goose.NewProvider(dialect, db.Writer().DB, dir)
	if err == nil {
		_, err = mp.DownTo(ctx, 15)
	}
	if err == nil {
		_, err = mp.Up(ctx)
	}
	if err != nil {
		b.Fatal(err)
	}
	for _, t := range []string{"ledger_records", "manifests", "manifest_lines", "hw_volumes"} {
		if _, err := store.Exec(ctx, db.Writer(), `ANALYZE `+t); err != nil {
			b.Fatal(err)
		}
	}
}
