package ledger_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"wufei/internal/hw/ledger"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// BenchmarkRecordGeneration compares recording a generation of five
// containers through the service (validation against the catalogue and the
// registry, the unit lock, container sequence and batch serial, the record,
// the five containers and their links, the audit entry with its Merkle-tree
// hashes, all in one transaction) with the same rows inserted raw on the
// same engine: the record, five containers and five links, one transaction
// per generation in both cases. Each iteration is a day earlier, so the
// daily sequence never runs out.
func BenchmarkRecordGeneration(b *testing.B) {
	const n = 5
	for _, eng := range storetest.Engines() {
		b.Run(eng.Name, func(b *testing.B) {
			db, _ := eng.Open(b)
			e := newEnv(b, db)
			start := time.Now().UTC()
			day := 0
			b.Run("raw", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					day++
					at := start.AddDate(0, 0, -day)
					err := db.Tx(e.ctx, func(tx *store.Tx) error {
						rid := uuid.Must(uuid.NewV7()).String()
						batch := fmt.Sprintf("CS%s%06d", at.Format("20060102"), day)
						if _, err := store.Exec(e.ctx, tx, `INSERT INTO ledger_records (id, origin_id, unit_id, region_code, kind,
							effect_kind, batch_code, occurred_at, waste_code, category, name, official_name, quantity_g, delta_g,
							packaging, facility_code, handler, audit_seq, created_at)
							VALUES (?, ?, ?, '340621', 'generation', 'generation', ?, ?, '900-249-08', 'HW08', '废矿物油', '废矿物油', ?, ?,
							'铁桶', 'SC001', '王建国', 0, ?)`, rid, rid, e.gen.ID, batch, at, n*200_000, n*200_000, tx.Now); err != nil {
							return err
						}
						var rows []string
						var args, links []any
						for i := range n {
							id := fmt.Sprintf("%s90024908%s%03d", e.gen.USCC, at.Format("20060102"), i+1)
							rows = append(rows, "(?, ?, ?, '340621', '900-249-08', 'HW08', '废矿物油', '废矿物油', 'L', 'T,I', '铁桶', 200, 200000, ?, 'SC001', 'generated', ?, 0, ?, 1)")
							args = append(args, uuid.Must(uuid.NewV7()).String(), id, e.gen.ID, at, batch, tx.Now)
							links = append(links, rid, id)
						}
						if _, err := store.Exec(e.ctx, tx, `INSERT INTO containers (id, digital_id, unit_id, region_code, waste_code,
							category, name, official_name, form, characteristics, packaging, volume_l, quantity_g, generated_at,
							facility_code, status, generation_batch, audit_seq, updated_at, version) VALUES `+strings.Join(rows, ", "), args...); err != nil {
							return err
						}
						_, err := store.Exec(e.ctx, tx, `INSERT INTO ledger_containers (record_id, digital_id) VALUES `+
							strings.TrimSuffix(strings.Repeat("(?, ?), ", n), ", "), links...)
						return err
					})
					if err != nil {
						b.Fatal(err)
					}
				}
			})
			day += 1000 // the service's days never meet the raw ones'
			b.Run("service", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					day++
					at := start.AddDate(0, 0, -day)
					if _, err := e.svc.RecordGeneration(e.ctx, e.owner, ledger.NewGeneration{WasteCode: "900-249-08", Name: "废矿物油",
						Form: "L", Packaging: "铁桶", VolumeL: 200, Count: n, QuantityT: 1, FacilityCode: "SC001", Handler: "王建国",
						OccurredAt: &at}); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
