package audit_test

import (
	"fmt"
	"testing"

	"wufei/internal/audit"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// BenchmarkAppend measures what auditing adds to a write: "raw" inserts one
// row per transaction, "audited" inserts the same row and appends its audit
// entry in the same transaction. The ratio of the two is the cost of the log.
//
//	go test -run '^$' -bench BenchmarkAppend -benchmem ./internal/audit/
func BenchmarkAppend(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			db, _ := e.Open(b)
			if _, err := db.Writer().ExecContext(ctx, `CREATE TABLE bench_raw (id TEXT PRIMARY KEY, name TEXT, at TIMESTAMP)`); err != nil {
				b.Fatal(err)
			}
			type change struct {
				Name string `json:"name"`
			}
			var n int
			insert := func(tx *store.Tx) (string, error) {
				n++
				id := fmt.Sprintf("r%09d", n)
				_, err := store.Exec(ctx, tx, `INSERT INTO bench_raw (id, name, at) VALUES (?, ?, ?)`, id, "淮北市某某环保科技有限公司", tx.Now)
				return id, err
			}
			b.Run("raw", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := db.Tx(ctx, func(tx *store.Tx) error {
						_, err := insert(tx)
						return err
					}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("audited", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := db.Tx(ctx, func(tx *store.Tx) error {
						id, err := insert(tx)
						if err != nil {
							return err
						}
						_, err = audit.Append(ctx, tx, actor, audit.Record{
							Action: "bench.create", Entity: "bench", EntityID: id,
							UnitID: "u0", RegionCode: "340602",
							Change: change{Name: "淮北市某某环保科技有限公司"},
						})
						return err
					}); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkVerify measures Verify per entry on a log of 10,000 entries.
//
//	go test -run '^$' -bench BenchmarkVerify -benchmem ./internal/audit/
func BenchmarkVerify(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			db, _ := e.Open(b)
			const n = 10000
			for range n / 1000 {
				if err := db.Tx(ctx, func(tx *store.Tx) error {
					for i := range 1000 {
						if _, err := audit.Append(ctx, tx, actor, rec(i)); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				rep, err := audit.Verify(ctx, db, "")
				if err != nil || !rep.OK || rep.Entries != n {
					b.Fatalf("%+v, %v", rep, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entry")
		})
	}
}
