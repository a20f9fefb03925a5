package trace_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/demo"
	"wufei/internal/hw/manifest"
	"wufei/internal/hw/trace"
	"wufei/internal/server"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// BenchmarkTraceAtScale fills the manifest tables with N completed
// manifests written raw (WUFEI_BENCH_MANIFESTS, default 20,000; a province's
// year is about 500,000), then traces random ones by number as a city-wide
// regulator and reports the 50th and 99th percentile latency. "raw" is the
// same four indexed reads (manifest, lines, legs, steps) without the
// service. "proofs" adds each step's inclusion proof; its steps point into an
// audit log of WUFEI_BENCH_AUDIT entries (default 20,000) appended first.
func BenchmarkTraceAtScale(b *testing.B) {
	n := 20000
	if s := os.Getenv("WUFEI_BENCH_MANIFESTS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	for _, e := range storetest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			ctx := context.Background()
			db, _ := e.Open(b)
			if err := server.Prepare(ctx, db); err != nil {
				b.Fatal(err)
			}
			if err := demo.Seed(ctx, db, 0); err != nil {
				b.Fatal(err)
			}
			var units []string
			if err := store.Select(ctx, db.Reader(), &units, `SELECT id FROM units ORDER BY id`); err != nil {
				b.Fatal(err)
			}
			entries := 20000
			if s := os.Getenv("WUFEI_BENCH_AUDIT"); s != "" {
				entries, _ = strconv.Atoi(s)
			}
			grow(b, db, entries)
			numbers := fill(b, db, n, units, entries)
			lg, err := audit.LoadOrCreateSigner(ctx, db, filepath.Join(b.TempDir(), "k"), "bench")
			if err != nil {
				b.Fatal(err)
			}
			svc := trace.NewService(db, manifest.NewService(db), lg)
			p := auth.Principal{UserID: "bench", Role: auth.Regulator, RegionCode: auth.CityCode}
			measure := func(b *testing.B, fn func(number string) error) {
				lat := make([]time.Duration, 0, b.N)
				i := 0
				for b.Loop() {
					t0 := time.Now()
					if err := fn(numbers[(i*7919)%len(numbers)]); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(t0))
					i++
				}
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50_µs")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99_µs")
			}
			b.Run(fmt.Sprintf("raw/%d", n), func(b *testing.B) {
				measure(b, func(number string) error {
					var id string
					if err := store.Get(ctx, db.Reader(), &id, `SELECT id FROM manifests WHERE number = ?`, number); err != nil {
						return err
					}
					var x []struct {
						A string `db:"a"`
					}
					for _, q := range []string{`SELECT line_no AS a FROM manifest_lines WHERE manifest_id = ?`,
						`SELECT vehicle_plate AS a FROM manifest_carriers WHERE manifest_id = ?`,
						`SELECT action AS a FROM manifest_steps WHERE manifest_id = ?`} {
						if err := store.Select(ctx, db.Reader(), &x, q, id); err != nil {
							return err
						}
					}
					return nil
				})
			})
			b.Run(fmt.Sprintf("proofs/%d", n), func(b *testing.B) {
				measure(b, func(number string) error {
					t, err := svc.Trace(ctx, p, number, true)
					if err == nil && (len(t.Steps) != 5 || t.Steps[0].Proof == nil) {
						err = fmt.Errorf("%d steps", len(t.Steps))
					}
					return err
				})
			})
			b.Run(fmt.Sprintf("trace/%d", n), func(b *testing.B) {
				measure(b, func(number string) error {
					t, err := svc.Trace(ctx, p, number, false)
					if err == nil && len(t.Steps) != 5 {
						err = fmt.Errorf("%d steps", len(t.Steps))
					}
					return err
				})
			})
		})
	}
}

// grow appends n audit entries, a thousand per transaction.
func grow(b *testing.B, db *store.DB, n int) {
	ctx := context.Background()
	for done := 0; done < n; done += 1000 {
		err := db.Tx(ctx, func(tx *store.Tx) error {
			for i := done; i < min(done+1000, n); i++ {
				if _, err := audit.Append(ctx, tx, audit.System, audit.Record{Action: "bench.fill", Entity: "bench",
					EntityID: strconv.Itoa(i), Change: i}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// fill writes n completed manifests with their line, leg and five steps,
// whose audit sequence numbers spread over the first entries of the log.
func fill(b *testing.B, db *store.DB, n int, units []string, entries int) []string {
	ctx := context.Background()
	numbers := make([]string, 0, n)
	const batch = 2000
	for start := 0; start < n; start += batch {
		err := db.Tx(ctx, func(tx *store.Tx) error {
			for i := start; i < min(start+batch, n); i++ {
				id := uuid.Must(uuid.NewV7()).String()
				number := fmt.Sprintf("2026%s%06d", "3406", i+500000)
				numbers = append(numbers, number)
				c, r, k := units[i%len(units)], units[(i+1)%len(units)], units[(i+2)%len(units)]
				if _, err := store.Exec(ctx, tx, `INSERT INTO manifests (id, number, year, status, consignor_unit_id,
					receiver_unit_id, region_code, receiver_region_code, created_at, updated_at, version)
					VALUES (?, ?, 2026, 'completed', ?, ?, '340621', '340604', ?, ?, 6)`, id, number, c, r, tx.Now, tx.Now); err != nil {
					return err
				}
				if _, err := store.Exec(ctx, tx, `INSERT INTO manifest_lines (manifest_id, line_no, waste_code, category, name,
					official_name, quantity_g, form, characteristics, packaging, package_count, received_g, accepted_g, refused_g, method)
					VALUES (?, 1, '900-249-08', 'HW08', '废矿物油', '废矿物油', 1200000, 'L', 'T,I', '桶', 6, 1200000, 1200000, 0, 'R9')`,
					id); err != nil {
					return err
				}
				if _, err := store.Exec(ctx, tx, `INSERT INTO manifest_carriers (manifest_id, leg, carrier_unit_id, vehicle_plate, picked_up_at)
					VALUES (?, 1, ?, '皖F3A721', ?)`, id, k, tx.Now); err != nil {
					return err
				}
				for s, action := range []string{"create", "submit", "pickup", "receive", "complete"} {
					if _, err := store.Exec(ctx, tx, `INSERT INTO manifest_steps (manifest_id, step, action, status, at, actor_user_id,
						actor_username, actor_unit_id, audit_seq) VALUES (?, ?, ?, 'completed', ?, 'u', 'u', ?, ?)`,
						id, s+1, action, tx.Now.Add(time.Duration(s)*time.Minute), c, 1+(i*5+s)%max(entries, 1)); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return numbers
}
