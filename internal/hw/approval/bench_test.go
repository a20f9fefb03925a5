package approval_test

import (
	"fmt"
	"testing"
	"time"

	"wufei/internal/hw/approval"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// benchEnv is an env holding n approvals spread over consignors, so the
// look-ups run against an index, not a handful of rows.
func benchEnv(b testing.TB, db *store.DB, n int) (*env, approval.TransferApproval) {
	e := newEnv(b, db)
	gens := []registry.Unit{e.gen, e.gen2}
	for i := range 8 {
		gens = append(gens, e.unit(fmt.Sprintf("产废%d", i), "340603", "", registry.Generator))
	}
	var last approval.TransferApproval
	for i := range n {
		in := e.draft("2026-01-01", "2026-12-31", approval.NewApprovalItem{WasteCode: "900-249-08", QuantityT: 1e6},
			approval.NewApprovalItem{WasteCode: "261-151-50", QuantityT: 10})
		in.Number = fmt.Sprintf("bench-%d", i)
		in.ConsignorID = gens[i%len(gens)].ID
		last = e.create(admin, in)
	}
	return e, last
}

const coveringSQL = `SELECT t.id, t.number FROM approvals t JOIN approval_items i ON i.approval_id = t.id
	WHERE t.consignor_unit_id = ? AND t.receiver_unit_id = ? AND t.status = 'valid' AND t.valid_from <= ?
	AND t.valid_to >= ? AND i.waste_code = ? AND i.quantity_g - i.used_g >= ?
	ORDER BY t.valid_to, t.id LIMIT 1`

// BenchmarkCovering compares Covering with the same query run raw.
func BenchmarkCovering(b *testing.B) {
	for _, eng := range storetest.Engines() {
		b.Run(eng.Name, func(b *testing.B) {
			db, _ := eng.Open(b)
			e, a := benchEnv(b, db, 500)
			q, at := db.Reader(), time.Date(2026, 6, 1, 4, 0, 0, 0, time.UTC)
			b.Run("service", func(b *testing.B) {
				for b.Loop() {
					c, err := approval.Covering(e.ctx, q, a.ConsignorID, a.ReceiverID, "900-249-08", at, 1_000_000)
					if err != nil || c.ApprovalID == "" {
						b.Fatal(c, err)
					}
				}
			})
			b.Run("raw", func(b *testing.B) {
				for b.Loop() {
					var id, number string
					if err := q.QueryRowxContext(e.ctx, q.Rebind(coveringSQL), a.ConsignorID, a.ReceiverID, "2026-06-01",
						"2026-06-01", "900-249-08", 1_000_000).Scan(&id, &number); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkUse compares Use, each in its own write transaction, with the
// same UPDATE run raw.
func BenchmarkUse(b *testing.B) {
	for _, eng := range storetest.Engines() {
		b.Run(eng.Name, func(b *testing.B) {
			db, _ := eng.Open(b)
			e, a := benchEnv(b, db, 50)
			b.Run("service", func(b *testing.B) {
				for b.Loop() {
					if err := db.Tx(e.ctx, func(tx *store.Tx) error {
						return approval.Use(e.ctx, tx, a.ID, "900-249-08", 1)
					}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("raw", func(b *testing.B) {
				w := db.Writer()
				for b.Loop() {
					tx, err := w.BeginTxx(e.ctx, nil)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := tx.ExecContext(e.ctx, tx.Rebind(`UPDATE approval_items SET used_g = used_g + ?
						WHERE approval_id = ? AND waste_code = ? AND used_g + ? <= quantity_g`), 1, a.ID, "900-249-08", 1); err != nil {
						b.Fatal(err)
					}
					if err := tx.Commit(); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkCreate compares recording an approval — every check, the audit
// entry — with the bare inserts of its rows.
func BenchmarkCreate(b *testing.B) {
	for _, eng := range storetest.Engines() {
		b.Run(eng.Name, func(b *testing.B) {
			db, _ := eng.Open(b)
			e, a := benchEnv(b, db, 50)
			n := 0
			b.Run("service", func(b *testing.B) {
				for b.Loop() {
					n++
					in := e.draft("2026-01-01", "2026-12-31", approval.NewApprovalItem{WasteCode: "900-249-08", QuantityT: 5},
						approval.NewApprovalItem{WasteCode: "261-151-50", QuantityT: 1})
					in.Number = fmt.Sprintf("svc-%d", n)
					if _, err := e.svc.Create(e.ctx, cityReg, in); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("raw", func(b *testing.B) {
				w := db.Writer()
				for b.Loop() {
					n++
					id, now := fmt.Sprintf("raw-%d", n), store.Now()
					tx, err := w.BeginTxx(e.ctx, nil)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := tx.ExecContext(e.ctx, tx.Rebind(`INSERT INTO approvals (id, number, from_province, to_province,
						consignor_unit_id, receiver_unit_id, method, issuer, valid_from, valid_to, status, raised_cap, region_code,
						note, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`),
						id, id, "34", "43", a.ConsignorID, a.ReceiverID, "R9", "", "2026-01-01", "2026-12-31", "valid", false,
						"340621", "", now, now); err != nil {
						b.Fatal(err)
					}
					for _, it := range []struct {
						code, cat string
						g         int64
					}{{"900-249-08", "HW08", 5_000_000}, {"261-151-50", "HW50", 1_000_000}} {
						if _, err := tx.ExecContext(e.ctx, tx.Rebind(`INSERT INTO approval_items (approval_id, waste_code, category,
							quantity_g, used_g) VALUES (?, ?, ?, ?, 0)`), id, it.code, it.cat, it.g); err != nil {
							b.Fatal(err)
						}
					}
					if err := tx.Commit(); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
