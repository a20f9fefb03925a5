package alerts_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"wufei/internal/alerts"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// BenchmarkRaise compares raising an alert through Raise (the open-alert
// look-up, the row, two parties and the audit entry, in one transaction)
// with the same three inserts done raw on the same engine, one transaction
// per alert in both cases.
func BenchmarkRaise(b *testing.B) {
	for _, eng := range storetest.Engines() {
		b.Run(eng.Name, func(b *testing.B) {
			db, _ := eng.Open(b)
			e := newEnv(b, db)
			ctx := context.Background()
			n := 0
			b.Run("raw", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					n++
					err := db.Tx(ctx, func(tx *store.Tx) error {
						id := uuid.Must(uuid.NewV7()).String()
						if _, err := store.Exec(ctx, tx, `INSERT INTO alerts (id, kind, severity, title, detail, subject, subject_id,
							subject_ref, region_code, dedup_key, due_at, status, note, created_at, updated_at, version)
							VALUES (?, 'receipt_overdue', 'critical', '超期', '', 'manifest', ?, '', '340604', ?, NULL, 'open', '', ?, ?, 1)`,
							id, fmt.Sprint("raw-", n), fmt.Sprint("receipt_overdue|manifest|raw-", n), tx.Now, tx.Now); err != nil {
							return err
						}
						for _, u := range []string{e.parkGen.ID, e.disposer.ID} {
							if _, err := store.Exec(ctx, tx, `INSERT INTO alert_parties (alert_id, unit_id) VALUES (?, ?)`, id, u); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("service", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					n++
					err := db.Tx(ctx, func(tx *store.Tx) error {
						_, err := alerts.Raise(ctx, tx, alerts.Alert{Kind: "receipt_overdue", Severity: alerts.Critical, Title: "超期",
							Subject: "manifest", SubjectID: fmt.Sprint("svc-", n), RegionCode: "340604",
							UnitIDs: []string{e.parkGen.ID, e.disposer.ID}})
						return err
					})
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkList compares the first page of a regional regulator's alerts
// (scope by region or by party unit, parties loaded) on 20,000 alerts with
// the same two queries run raw.
func BenchmarkList(b *testing.B) {
	for _, eng := range storetest.Engines() {
		b.Run(eng.Name, func(b *testing.B) {
			db, _ := eng.Open(b)
			e := newEnv(b, db)
			ctx := context.Background()
			regions := []string{"340602", "340603", "340604", "340621"}
			units := []string{e.parkGen.ID, e.xsGen.ID, e.disposer.ID}
			for batch := range 20 {
				if err := db.Tx(ctx, func(tx *store.Tx) error {
					for i := range 1000 {
						k := batch*1000 + i
						id := uuid.Must(uuid.NewV7()).String()
						if _, err := store.Exec(ctx, tx, `INSERT INTO alerts (id, kind, severity, title, detail, subject, subject_id,
							subject_ref, region_code, dedup_key, status, note, created_at, updated_at, version)
							VALUES (?, 'storage_age_limit', 'warning', '贮存超期', '', 'facility', ?, '', ?, ?, 'open', '', ?, ?, 1)`,
							id, fmt.Sprint(k), regions[k%4], fmt.Sprint("s|", k), tx.Now, tx.Now); err != nil {
							return err
						}
						if _, err := store.Exec(ctx, tx, `INSERT INTO alert_parties (alert_id, unit_id) VALUES (?, ?)`, id, units[k%3]); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			}
			// The statements List runs for a regulator of 相山区, written out.
			b.Run("raw", func(b *testing.B) {
				for b.Loop() {
					var ids []string
					if err := store.Select(ctx, db.Reader(), &ids, `SELECT a.id FROM alerts a WHERE (a.region_code = ?
						OR EXISTS (SELECT 1 FROM alert_parties ap JOIN units u ON u.id = ap.unit_id
						WHERE ap.alert_id = a.id AND (u.region_code = ? OR u.park_code = ?))) ORDER BY a.id DESC LIMIT ?`,
						"340603", "340603", "340603", 51); err != nil || len(ids) != 51 {
						b.Fatal(err, len(ids))
					}
					q, args, err := store.In(`SELECT alert_id, unit_id FROM alert_parties WHERE alert_id IN (?) ORDER BY unit_id`, ids[:50])
					if err != nil {
						b.Fatal(err)
					}
					var rows []struct {
						AlertID string `db:"alert_id"`
						UnitID  string `db:"unit_id"`
					}
					if err := store.Select(ctx, db.Reader(), &rows, q, args...); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("service", func(b *testing.B) {
				for b.Loop() {
					page, _, err := e.svc.List(ctx, xsReg, alerts.Filter{})
					if err != nil || len(page) != 50 {
						b.Fatal(err, len(page))
					}
				}
			})
		})
	}
}
