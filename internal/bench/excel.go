package bench

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"

	"wufei/internal/auth"
	"wufei/internal/calendar"
	"wufei/internal/exchange"
	"wufei/internal/hw/ledger"
	"wufei/internal/server"
	"wufei/internal/store"
)

// Transfer is an Excel export or import of hazardous-waste ledger rows:
// rows per second beside the raw engine's rate for the same rows, and the
// peak of the Go heap's live objects above where each started.
type Transfer struct {
	Kind string `json:"kind"`
	Rate
	FileMiB        float64 `json:"file_mib"`
	PeakHeapMiB    float64 `json:"peak_heap_mib"`
	RawPeakHeapMiB float64 `json:"raw_peak_heap_mib"`
	Database       string  `json:"database"` // "given", or "scratch": a new database on the same engine
}

// ledgerExport is the ledger export's query (hw_ledger), for the raw scan.
const ledgerExport = `SELECT r.batch_code, COALESCE(x.ref, '') AS ref, u.uscc, r.kind, r.occurred_at, r.prev_batch,
	r.corrects_batch, r.waste_code, r.name, r.quantity_g, r.packaging, r.facility_code, r.method, r.handler, r.destination,
	r.note, r.receiver_name, r.manifest_number
	FROM ledger_records r JOIN units u ON u.id = r.unit_id
	LEFT JOIN exchange_refs x ON x.kind = 'hw_ledger' AND x.entity_id = r.id`

// exportLedger exports a year of the whole ledger as p sees it to a
// temporary workbook, against the engine scanning the same query's rows.
func exportLedger(ctx context.Context, db *store.DB, p auth.Principal, year int) (Transfer, error) {
	t := Transfer{Kind: ledger.ExchangeName, Database: "given"}
	var rows int64
	raw, rawPeak, err := measureHeap(func() error {
		from, to := exchange.Year(year)
		cond, args := ledger.Scope(p, "r")
		n, err := drain(ctx, db.Reader(), ledgerExport+` WHERE `+cond+` AND r.occurred_at >= ? AND r.occurred_at < ?
			ORDER BY r.unit_id, r.occurred_at, r.id`, append(args, from, to), nil)
		rows = int64(n)
		return err
	})
	if err != nil {
		return t, fmt.Errorf("bench: ledger scan: %w", err)
	}
	f, err := os.CreateTemp("", "wufei-bench-*.xlsx")
	if err != nil {
		return t, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	took, peak, err := measureHeap(func() error {
		w := bufio.NewWriterSize(f, 1<<16)
		if err := exchange.WriteExport(ctx, ledger.NewExchange(db), p, year, w); err != nil {
			return err
		}
		return w.Flush()
	})
	if err != nil {
		return t, fmt.Errorf("bench: export: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		return t, err
	}
	t.Rate, t.FileMiB, t.PeakHeapMiB, t.RawPeakHeapMiB = newRate(rows, took, raw), mib(st.Size()), peak, rawPeak
	return t, nil
}

// importLedger imports a workbook of n generation records into a scratch
// database on the same engine as like — a real database keeps no rows a
// bench made up — against the same rows inserted raw in one transaction.
func importLedger(ctx context.Context, d store.Dialect, like string, n int) (Transfer, error) {
	t := Transfer{Kind: ledger.ExchangeName, Database: "scratch"}
	if n <= 0 {
		return t, nil
	}
	db, drop, err := scratch(ctx, d, like)
	if err != nil {
		return t, err
	}
	defer drop()
	if err := server.Prepare(ctx, db); err != nil {
		return t, err
	}
	p, err := registerParties(ctx, db)
	if err != nil {
		return t, err
	}
	book, err := ledgerBook(n)
	if err != nil {
		return t, err
	}
	owner := auth.Principal{UserID: "bench", Username: "bench-gen", Role: auth.UnitAdmin, UnitID: p.GenUnit}
	took, peak, err := measureHeap(func() error {
		res, err := exchange.Import(ctx, ledger.NewExchange(db), owner, bytes.NewReader(book))
		if err == nil && res.Inserted != n {
			err = fmt.Errorf("%d rows inserted of %d", res.Inserted, n)
		}
		return err
	})
	if err != nil {
		return t, fmt.Errorf("bench: import: %w", err)
	}
	raw, rawPeak, err := measureHeap(func() error { return rawLedgerInsert(ctx, db, p.GenUnit, n) })
	if err != nil {
		return t, fmt.Errorf("bench: raw insert: %w", err)
	}
	t.Rate, t.FileMiB, t.PeakHeapMiB, t.RawPeakHeapMiB = newRate(int64(n), took, raw), mib(int64(len(book))), peak, rawPeak
	return t, nil
}

// ledgerBook is a workbook of n generation rows, as a unit fills the
// template.
func ledgerBook(n int) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		return nil, err
	}
	head := []any{"自编号", "记录类型", "发生时间", "废物代码", "物理性状", "数量（吨）", "容器/包装类型", "设施编码", "经办人"}
	if err := sw.SetRow("A1", head); err != nil {
		return nil, err
	}
	start := time.Date(time.Now().Year()-1, 1, 1, 8, 0, 0, 0, calendar.Zone)
	for i := range n {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		at := start.Add(time.Duration(i) * 5 * time.Minute).Format("2006-01-02 15:04")
		if err := sw.SetRow(cell, []any{fmt.Sprintf("BENCH-%07d", i), "产生", at, "900-249-08", "L",
			0.25 + float64(i%40)/100, "铁桶", "SC001", "基准测试"}); err != nil {
			return nil, err
		}
	}
	if err := sw.Flush(); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := f.Write(&out); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// rawLedgerInsert writes n generation records with plain INSERTs in one
// transaction: what the import stores, without its checks and audit.
func rawLedgerInsert(ctx context.Context, db *store.DB, unitID string, n int) error {
	start := time.Date(time.Now().Year()-1, 1, 1, 0, 0, 0, 0, time.UTC)
	w := db.Writer()
	tx, err := w.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it does nothing
	insert := tx.Rebind(`INSERT INTO ledger_records (id, origin_id, unit_id, region_code, kind, effect_kind, batch_code,
		occurred_at, waste_code, category, name, official_name, quantity_g, delta_g, packaging, facility_code, handler,
		audit_seq, created_at) VALUES (?, ?, ?, '340621', 'generation', 'generation', ?, ?, '900-249-08', 'HW08',
		'废矿物油', '废矿物油', ?, ?, '铁桶', 'SC001', '基准测试', 0, ?)`)
	now := store.Now()
	for i := range n {
		id := uuid.Must(uuid.NewV7()).String()
		g := int64(250_000 + (i%40)*10_000)
		if _, err := tx.ExecContext(ctx, insert, id, id, unitID, fmt.Sprintf("RAW-%07d", i),
			start.Add(time.Duration(i)*5*time.Minute), g, g, now); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// scratch creates an empty database on engine d — a temporary SQLite file,
// or a new database on the PostgreSQL server of like — and returns it with
// the function that drops it.
func scratch(ctx context.Context, d store.Dialect, like string) (*store.DB, func(), error) {
	if d == store.SQLite {
		dir, err := os.MkdirTemp("", "wufei-bench-scratch-")
		if err != nil {
			return nil, nil, err
		}
		db, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "scratch.db"))
		if err != nil {
			os.RemoveAll(dir)
			return nil, nil, err
		}
		return db, func() { db.Close(); os.RemoveAll(dir) }, nil
	}
	u, err := url.Parse(like)
	if err != nil {
		return nil, nil, err
	}
	admin, err := sql.Open("pgx", like)
	if err != nil {
		return nil, nil, err
	}
	name := fmt.Sprintf("wufei_bench_%d_%d", os.Getpid(), time.Now().UnixNano())
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return nil, nil, fmt.Errorf("bench: scratch database: %w", err)
	}
	drop := func() {
		_, _ = admin.ExecContext(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close()
	}
	u.Path = "/" + name
	db, err := store.Open(ctx, u.String())
	if err != nil {
		drop()
		return nil, nil, err
	}
	return db, func() { db.Close(); drop() }, nil
}

// measureHeap runs fn once and returns its time and the peak, above where
// it started, of the Go heap's live objects as each collection found them,
// sampled every millisecond. (The heap with garbage not yet collected would
// measure the collector's pacing as much as the code.)
func measureHeap(fn func() error) (time.Duration, float64, error) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := read()
	var peak uint64
	var mu sync.Mutex
	note := func(v uint64) {
		if v > base {
			mu.Lock()
			peak = max(peak, v-base)
			mu.Unlock()
		}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				note(read())
			}
		}
	})
	start := time.Now()
	err := fn()
	took := time.Since(start)
	close(done)
	wg.Wait()
	runtime.GC() // what is live at the end counts too
	note(read())
	return took, round(float64(peak) / (1 << 20)), err
}
