package catalog_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"testing"

	"wufei/internal/audit"
	"wufei/internal/catalog"
	"wufei/internal/store/storetest"
)

// BenchmarkImport measures Import against the engine itself: the same rows
// inserted raw — one transaction, one prepared INSERT — on the same SQLite
// database in the same run. The difference is what reading and checking the
// file, the upsert and the audit entry cost.
func BenchmarkImport(b *testing.B) {
	const n = 5000
	codes := syntheticCodes(n)
	var file bytes.Buffer
	w := csv.NewWriter(&file)
	w.Write([]string{"code", "category", "industry", "description", "characteristics"})
	for _, c := range codes {
		w.Write([]string{c.Code, c.Category, c.Industry, c.Description, c.Characteristics.String()})
	}
	w.Flush()

	db, _ := storetest.SQLite(b)
	seed(b, db) // the categories the rows refer to
	ctx := context.Background()
	empty := func(b *testing.B) {
		b.StopTimer()
		if _, err := db.Writer().ExecContext(ctx, `DELETE FROM waste_codes`); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	report := func(b *testing.B) {
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	}

	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			empty(b)
			tx, err := db.Writer().BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			stmt, err := tx.PrepareContext(ctx, `INSERT INTO waste_codes (code, category, industry, description, characteristics, edition) VALUES (?, ?, ?, ?, ?, ?)`)
			if err != nil {
				b.Fatal(err)
			}
			for _, c := range codes {
				if _, err := stmt.ExecContext(ctx, c.Code, c.Category, c.Industry, c.Description, c.Characteristics.String(), c.Edition); err != nil {
					b.Fatal(err)
				}
			}
			stmt.Close()
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})

	b.Run("import", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			empty(b)
			rep, err := catalog.Import(ctx, db, bytes.NewReader(file.Bytes()), audit.System)
			if err != nil || rep.Inserted != n {
				b.Fatalf("import: %+v, %v", rep, err)
			}
		}
		report(b)
	})
}

// syntheticCodes builds n valid, distinct catalogue rows spread over the 46
// categories.
func syntheticCodes(n int) []catalog.WasteCode {
	var cats []string
	for i := 1; i <= 50; i++ {
		if i < 41 || i > 44 {
			cats = append(cats, fmt.Sprintf("%02d", i))
		}
	}
	out := make([]catalog.WasteCode, n)
	for i := range out {
		c := cats[i%len(cats)]
		out[i] = catalog.WasteCode{
			Code:            fmt.Sprintf("%03d-%03d-%s", 100+i/1000, i%1000, c),
			Category:        "HW" + c,
			Industry:        "非特定行业",
			Description:     fmt.Sprintf("基准测试用第%d种废物：沾染矿物油的废弃包装物", i),
			Characteristics: catalog.Characteristics{"T", "I"},
			Edition:         catalog.Edition,
		}
	}
	return out
}
