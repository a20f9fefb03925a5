package ledger_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"

	"wufei/internal/calendar"
	"wufei/internal/exchange"
	"wufei/internal/hw/ledger"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// benchRows is a row count from the environment, or def.
func benchRows(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// measure runs fn once and returns its time and the peak, above where it
// started, of the Go heap's live objects as each collection found them,
// sampled every millisecond. (Heap objects including garbage not yet
// collected would measure the collector's pacing as much as the code.)
func measure(fn func() error) (time.Duration, float64, error) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := read()
	var peak uint64
	var mu sync.Mutex
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if v := read(); v > base {
					mu.Lock()
					peak = max(peak, v-base)
					mu.Unlock()
				}
			}
		}
	}()
	start := time.Now()
	err := fn()
	d := time.Since(start)
	close(done)
	wg.Wait()
	runtime.GC() // what is live at the end counts too
	if v := read(); v > base {
		peak = max(peak, v-base)
	}
	return d, float64(peak) / (1 << 20), err
}

// ledgerBook is a workbook of n generation rows of the unit, as a unit
// would fill the template.
func ledgerBook(b *testing.B, n int, prefix string) []byte {
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		b.Fatal(err)
	}
	head := []any{"自编号", "记录类型", "发生时间", "废物代码", "物理性状", "数量（吨）", "容器/包装类型", "设施编码", "经办人"}
	if err := sw.SetRow("A1", head); err != nil {
		b.Fatal(err)
	}
	start := time.Date(time.Now().Year()-1, 1, 1, 8, 0, 0, 0, calendar.Zone)
	for i := range n {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		at := start.Add(time.Duration(i) * 5 * time.Minute).Format("2006-01-02 15:04")
		if err := sw.SetRow(cell, []any{fmt.Sprintf("%s-%06d", prefix, i), "产生", at, "900-249-08", "L", 0.25 + float64(i%40)/100,
			"铁桶", "SC001", "王建国"}); err != nil {
			b.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		b.Fatal(err)
	}
	var out bytes.Buffer
	if err := f.Write(&out); err != nil {
		b.Fatal(err)
	}
	return out.Bytes()
}

// BenchmarkLedgerImport imports a workbook of generation records through
// the hw_ledger kind (streamed read, each row through the ledger service's
// checks, batch code, audit entry and reference, all in one transaction)
// against the engine inserting the same rows raw in one transaction.
// Rows: WUFEI_BENCH_IMPORT_ROWS, default 100,000. Run with -benchtime=1x.
func BenchmarkLedgerImport(b *testing.B) {
	n := benchRows("WUFEI_BENCH_IMPORT_ROWS", 100_000)
	for _, eng := range storetest.Engines() {
		b.Run(fmt.Sprintf("%s/rows=%d", eng.Name, n), func(b *testing.B) {
			db, _ := eng.Open(b)
			e := newEnv(b, db)
			kind := ledger.NewExchange(db)
			iter := 0
			b.Run("raw", func(b *testing.B) {
				for b.Loop() {
					iter++
					d, peak, err := measure(func() error { return rawInsert(e.ctx, db, e.gen.ID, n, iter) })
					if err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(d.Seconds(), "s")
					b.ReportMetric(peak, "peak-live-MiB")
				}
			})
			b.Run("import", func(b *testing.B) {
				for b.Loop() {
					iter++
					book := ledgerBook(b, n, fmt.Sprintf("B%d", iter))
					var res exchange.Result
					d, peak, err := measure(func() error {
						var err error
						res, err = exchange.Import(e.ctx, kind, e.owner, bytes.NewReader(book))
						return err
					})
					if err != nil || res.Inserted != n {
						b.Fatalf("import: %+v %v", res, err)
					}
					b.ReportMetric(d.Seconds(), "s")
					b.ReportMetric(peak, "peak-live-MiB")
					b.ReportMetric(float64(len(book))/(1<<20), "file-MiB")
				}
			})
		})
	}
}

// rawInsert writes n generation records of a unit with plain INSERTs in one
// transaction: what the import stores, without its checks and audit.
func rawInsert(ctx context.Context, db *store.DB, unitID string, n, iter int) error {
	start := time.Date(time.Now().Year()-1, 1, 1, 0, 0, 0, 0, time.UTC)
	return db.Tx(ctx, func(tx *store.Tx) error {
		for i := range n {
			id := uuid.Must(uuid.NewV7()).String()
			g := int64(250_000 + (i%40)*10_000)
			if _, err := store.Exec(ctx, tx, `INSERT INTO ledger_records (id, origin_id, unit_id, region_code, kind, effect_kind,
				batch_code, occurred_at, waste_code, category, name, official_name, quantity_g, delta_g, packaging, facility_code,
				handler, audit_seq, created_at) VALUES (?, ?, ?, '340621', 'generation', 'generation', ?, ?, '900-249-08', 'HW08',
				'废矿物油', '废矿物油', ?, ?, '铁桶', 'SC001', '王建国', 0, ?)`, id, id, unitID, fmt.Sprintf("RAW%d-%07d", iter, i),
				start.Add(time.Duration(i)*5*time.Minute), g, g, tx.Now); err != nil {
				return err
			}
		}
		return nil
	})
}

// seedRecords inserts n records of a unit in the year, many rows per
// statement, for the export benchmark.
func seedRecords(b *testing.B, ctx context.Context, db *store.DB, unitID string, year, n int) {
	start := time.Date(year, 1, 1, 0, 0, 0, 0, calendar.Zone).UTC()
	step := time.Duration(int64(365*24*time.Hour) / int64(n))
	const chunk = 500
	for lo := 0; lo < n; lo += 50_000 {
		err := db.Tx(ctx, func(tx *store.Tx) error {
			for c := lo; c < min(lo+50_000, n); c += chunk {
				m := min(chunk, n-c)
				args := make([]any, 0, 6*m)
				for i := c; i < c+m; i++ {
					id := uuid.Must(uuid.NewV7()).String()
					g := int64(250_000 + (i%40)*10_000)
					args = append(args, id, id, unitID, fmt.Sprintf("CS%08d", i), start.Add(time.Duration(i)*step), g)
				}
				row := `(?, ?, ?, '340621', 'generation', 'generation', ?, ?, '900-249-08', 'HW08', '废矿物油', '废矿物油', ?, 0, '铁桶', 'SC001', '王建国', 0, '2026-01-01')`
				rows := strings.TrimSuffix(strings.Repeat(row+", ", m), ", ")
				if _, err := store.Exec(ctx, tx, `INSERT INTO ledger_records (id, origin_id, unit_id, region_code, kind, effect_kind,
					batch_code, occurred_at, waste_code, category, name, official_name, quantity_g, delta_g, packaging, facility_code,
					handler, audit_seq, created_at) VALUES `+rows, args...); err != nil {
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

// countingWriter counts what the export writes.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// BenchmarkLedgerExport exports a year of ledger records through the
// hw_ledger kind and excelize's stream writer, against the engine scanning
// the same query's rows. The sizes are 100,000 rows, and 1,000,000 more
// when WUFEI_BENCH_1M=1; the export's peak heap should stay about the same.
// Run with -benchtime=1x.
func BenchmarkLedgerExport(b *testing.B) {
	sizes := []int{100_000}
	if os.Getenv("WUFEI_BENCH_1M") == "1" {
		sizes = append(sizes, 1_000_000)
	}
	year := time.Now().Year() - 1
	for _, eng := range storetest.Engines() {
		for _, n := range sizes {
			b.Run(fmt.Sprintf("%s/rows=%d", eng.Name, n), func(b *testing.B) {
				db, _ := eng.Open(b)
				e := newEnv(b, db)
				seedRecords(b, e.ctx, db, e.gen.ID, year, n)
				kind := ledger.NewExchange(db)
				b.Run("raw-scan", func(b *testing.B) {
					for b.Loop() {
						rows := 0
						d, peak, err := measure(func() error {
							from, to := exchange.Year(year)
							r := db.Reader()
							rs, err := r.QueryxContext(e.ctx, r.Rebind(`SELECT r.batch_code, u.uscc, r.kind, r.occurred_at, r.prev_batch,
								r.corrects_batch, r.waste_code, r.name, r.quantity_g, r.packaging, r.facility_code, r.method, r.handler,
								r.destination, r.note, r.receiver_name, r.manifest_number FROM ledger_records r JOIN units u ON u.id = r.unit_id
								WHERE r.unit_id = ? AND r.occurred_at >= ? AND r.occurred_at < ? ORDER BY r.unit_id, r.occurred_at, r.id`),
								e.gen.ID, from, to)
							if err != nil {
								return err
							}
							defer rs.Close()
							for rs.Next() {
								vals, err := rs.SliceScan()
								if err != nil {
									return err
								}
								_ = vals
								rows++
							}
							return rs.Err()
						})
						if err != nil || rows != n {
							b.Fatalf("scan: %d rows, %v", rows, err)
						}
						b.ReportMetric(d.Seconds(), "s")
						b.ReportMetric(peak, "peak-live-MiB")
					}
				})
				b.Run("export", func(b *testing.B) {
					for b.Loop() {
						var w countingWriter
						d, peak, err := measure(func() error { return exchange.WriteExport(e.ctx, kind, e.owner, year, &w) })
						if err != nil {
							b.Fatal(err)
						}
						b.ReportMetric(d.Seconds(), "s")
						b.ReportMetric(peak, "peak-live-MiB")
						b.ReportMetric(float64(w.n)/(1<<20), "file-MiB")
					}
				})
			})
		}
	}
}

var _ io.Writer = (*countingWriter)(nil)
