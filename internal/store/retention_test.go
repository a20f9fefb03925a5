package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// retentionCase is one raw statement and whether the database must refuse it.
type retentionCase struct {
	name    string
	query   string
	args    []any
	refused bool
}

// TestRetention proves that the database itself, not the services, refuses
// changing regulated rows in place and deleting them within their retention
// period, and lets through what the application legitimately does. Every
// statement is raw SQL through the store, each in a transaction of its own.
func TestRetention(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := store.Now()
		old := now.AddDate(-11, 0, 0) // past every retention period
		recentDay, oldDay := now.Format(time.DateOnly), old.Format(time.DateOnly)
		// exec runs one statement; changing no row is an error too, so that
		// an allowed case proves something.
		exec := func(q string, args ...any) error {
			return db.Tx(ctx, func(tx *store.Tx) error {
				n, err := store.Exec(ctx, tx, q, args...)
				if err == nil && n == 0 {
					err = errors.New("no row changed")
				}
				return err
			})
		}
		setup := func(q string, args ...any) {
			t.Helper()
			if err := exec(q, args...); err != nil {
				t.Fatalf("setup %s: %v", strings.Fields(q)[:3], err)
			}
		}

		setup(`INSERT INTO regions (code, name, level) VALUES ('340600', '淮北市', 'city')`)
		setup(`INSERT INTO units (id, uscc, name, region_code, created_at, updated_at) VALUES (?, ?, ?, '340600', ?, ?)`,
			"u1", "91340600MA2X00001X", "产废单位", now, now)
		setup(`INSERT INTO units (id, uscc, name, region_code, created_at, updated_at) VALUES (?, ?, ?, '340600', ?, ?)`,
			"u2", "91340600MA2X00002X", "接受单位", now, now)

		record := func(id string, at time.Time) {
			setup(`INSERT INTO ledger_records (id, origin_id, unit_id, region_code, kind, effect_kind, batch_code, occurred_at,
				waste_code, category, name, official_name, quantity_g, delta_g, audit_seq, created_at)
				VALUES (?, ?, 'u1', '340600', 'generation', 'generation', ?, ?, '900-249-08', 'HW08', '废油', '废油', 1000, 1000, 1, ?)`,
				id, id, "CS"+id, at, at)
			setup(`INSERT INTO ledger_containers (record_id, digital_id) VALUES (?, ?)`, id, "D"+id)
		}
		record("new", now)
		record("old", now.AddDate(-5, 0, -1)) // a day over five years ago
		container := func(id, status string, at time.Time) {
			setup(`INSERT INTO containers (id, digital_id, unit_id, region_code, waste_code, category, name, official_name, form,
				characteristics, quantity_g, generated_at, status, generation_batch, audit_seq, updated_at)
				VALUES (?, ?, 'u1', '340600', '900-249-08', 'HW08', '废油', '废油', 'L', 'T,I', 1000, ?, ?, 'CS1', 1, ?)`,
				id, "D"+id, at, status, at)
		}
		container("c-stored", "stored", now)
		container("c-received", "received", now)
		container("c-old", "received", old)

		manifest := func(id, status string, at time.Time) {
			setup(`INSERT INTO manifests (id, number, year, status, consignor_unit_id, receiver_unit_id, region_code,
				receiver_region_code, created_at, updated_at) VALUES (?, ?, 2026, ?, 'u1', 'u2', '340600', '340600', ?, ?)`,
				id, "N"+id, status, at, at)
			setup(`INSERT INTO manifest_lines (manifest_id, line_no, waste_code, category, name, official_name, quantity_g, form,
				characteristics, packaging, package_count) VALUES (?, 1, '900-249-08', 'HW08', '废油', '废油', 1000, 'L', 'T,I', '桶', 1)`, id)
			setup(`INSERT INTO manifest_carriers (manifest_id, leg, carrier_unit_id, vehicle_plate) VALUES (?, 1, 'u2', '皖F00001')`, id)
			setup(`INSERT INTO manifest_steps (manifest_id, step, action, status, at, actor_user_id, actor_username, actor_unit_id,
				audit_seq) VALUES (?, 1, 'create', 'draft', ?, 'x', 'x', 'u1', 1)`, id, at)
		}
		manifest("draft", "draft", now)
		manifest("transit", "in_transit", now)
		manifest("done", "completed", now)
		manifest("void", "cancelled", now)
		manifest("refused", "refused", now)
		manifest("old", "completed", old)
		revision := func(id, manifestID, status string) {
			setup(`INSERT INTO manifest_revisions (id, manifest_id, author_unit_id, author_user_id, reason, changes, status,
				created_at) VALUES (?, ?, 'u2', 'x', '更正', '{}', ?, ?)`, id, manifestID, status, now)
			setup(`INSERT INTO manifest_revision_approvals (revision_id, unit_id, status) VALUES (?, 'u1', ?)`, id, status)
		}
		revision("r-pending", "transit", "pending")
		revision("r-refused", "done", "refused")

		approval := func(id, status, validTo string) {
			setup(`INSERT INTO approvals (id, number, from_province, to_province, consignor_unit_id, receiver_unit_id, method,
				valid_from, valid_to, status, region_code, created_at, updated_at)
				VALUES (?, ?, '34', '32', 'u1', 'u2', 'R8', '2016-01-01', ?, ?, '340600', ?, ?)`, id, "A"+id, validTo, status, now, now)
			setup(`INSERT INTO approval_items (approval_id, waste_code, category, quantity_g, used_g)
				VALUES (?, '261-151-50', 'HW50', 5000, 2000)`, id)
			setup(`INSERT INTO whitelist_routes (id, from_province, to_province, consignor_unit_id, receiver_unit_id, valid_from,
				valid_to, status, region_code, created_at, updated_at) VALUES (?, '34', '32', 'u1', 'u2', '2016-01-01', ?, ?,
				'340600', ?, ?)`, id, validTo, status, now, now)
			setup(`INSERT INTO whitelist_route_codes (route_id, waste_code, category) VALUES (?, '900-402-06', 'HW06')`, id)
		}
		approval("valid", "valid", recentDay)
		approval("revoked", "revoked", recentDay)
		approval("lapsed", "expired", oldDay)

		later := now.Add(time.Hour)
		run := func(t *testing.T, cases []retentionCase) {
			for _, c := range cases {
				err := exec(c.query, c.args...)
				switch {
				case c.refused && !errors.Is(err, store.ErrRetained):
					t.Errorf("%s: want refused by retention, got %v", c.name, err)
				case c.refused && !strings.Contains(err.Error(), "wufei: retention:"):
					t.Errorf("%s: refused without the retention message: %v", c.name, err)
				case !c.refused && err != nil:
					t.Errorf("%s: want allowed, got %v", c.name, err)
				}
			}
		}

		t.Run("ledger", func(t *testing.T) {
			run(t, []retentionCase{
				{"update a record", `UPDATE ledger_records SET quantity_g = 2 WHERE id = 'new'`, nil, true},
				{"update a record past retention", `UPDATE ledger_records SET note = 'x' WHERE id = 'old'`, nil, true},
				{"delete a recent record", `DELETE FROM ledger_records WHERE id = 'new'`, nil, true},
				{"update a record's containers", `UPDATE ledger_containers SET digital_id = 'x' WHERE record_id = 'old'`, nil, true},
				{"delete a recent record's containers", `DELETE FROM ledger_containers WHERE record_id = 'new'`, nil, true},
				{"delete an old record's containers", `DELETE FROM ledger_containers WHERE record_id = 'old'`, nil, false},
				{"delete a record over five years old", `DELETE FROM ledger_records WHERE id = 'old'`, nil, false},
			})
			var n int
			if err := store.Get(ctx, db.Reader(), &n, `SELECT count(*) FROM ledger_records WHERE quantity_g = 1000`); err != nil || n != 1 {
				t.Fatalf("ledger records left: %d, %v", n, err)
			}
		})

		t.Run("containers", func(t *testing.T) {
			run(t, []retentionCase{
				{"a stored container moves on", `UPDATE containers SET status = 'withdrawn', updated_at = ? WHERE id = 'c-stored'`,
					[]any{later}, false},
				{"a received container moves", `UPDATE containers SET status = 'stored' WHERE id = 'c-received'`, nil, true},
				{"delete a recent container", `DELETE FROM containers WHERE id = 'c-stored'`, nil, true},
				{"delete a container over five years old", `DELETE FROM containers WHERE id = 'c-old'`, nil, false},
			})
		})

		t.Run("manifests", func(t *testing.T) {
			run(t, []retentionCase{
				{"a draft's lines replaced", `DELETE FROM manifest_lines WHERE manifest_id = 'draft'`, nil, false},
				{"a draft's legs replaced", `DELETE FROM manifest_carriers WHERE manifest_id = 'draft'`, nil, false},
				{"a manifest in transit received", `UPDATE manifests SET status = 'received', received_at = ?, updated_at = ?,
					version = version + 1 WHERE id = 'transit'`, []any{later, later}, false},
				{"its lines weighed", `UPDATE manifest_lines SET received_g = 990, accepted_g = 990, refused_g = 0
					WHERE manifest_id = 'transit'`, nil, false},
				{"a leg picked up", `UPDATE manifest_carriers SET picked_up_at = ? WHERE manifest_id = 'transit'`, []any{later}, false},
				{"a submitted manifest's lines deleted", `DELETE FROM manifest_lines WHERE manifest_id = 'transit'`, nil, true},
				{"a submitted manifest's legs deleted", `DELETE FROM manifest_carriers WHERE manifest_id = 'transit'`, nil, true},
				{"a completed manifest edited", `UPDATE manifests SET note = 'x' WHERE id = 'done'`, nil, true},
				{"a completed manifest reopened", `UPDATE manifests SET status = 'received' WHERE id = 'done'`, nil, true},
				{"a cancelled manifest revived", `UPDATE manifests SET status = 'submitted', closed_at = NULL WHERE id = 'void'`, nil, true},
				{"a refused manifest edited", `UPDATE manifests SET note = 'x' WHERE id = 'refused'`, nil, true},
				{"a completed manifest's version moved without a revision", `UPDATE manifests SET updated_at = ?,
					version = version + 1 WHERE id = 'done'`, []any{later}, true},
				{"a completed manifest's line edited", `UPDATE manifest_lines SET accepted_g = 1 WHERE manifest_id = 'done'`, nil, true},
				{"a cancelled manifest's line edited", `UPDATE manifest_lines SET quantity_g = 1 WHERE manifest_id = 'void'`, nil, true},
				{"a completed manifest's leg edited", `UPDATE manifest_carriers SET vehicle_plate = 'x' WHERE manifest_id = 'done'`, nil, true},
				{"a step edited", `UPDATE manifest_steps SET at = ? WHERE manifest_id = 'transit'`, []any{later}, true},
				{"a recent step deleted", `DELETE FROM manifest_steps WHERE manifest_id = 'draft'`, nil, true},
				{"a recent manifest deleted", `DELETE FROM manifests WHERE id = 'draft'`, nil, true},
				{"a pending revision decided", `UPDATE manifest_revisions SET status = 'approved', decided_at = ? WHERE id = 'r-pending'`,
					[]any{later}, false},
				{"a decided revision changed", `UPDATE manifest_revisions SET status = 'approved' WHERE id = 'r-refused'`, nil, true},
				{"a decided approval changed", `UPDATE manifest_revision_approvals SET status = 'approved'
					WHERE revision_id = 'r-refused'`, nil, true},
				{"a revision's approvals deleted", `DELETE FROM manifest_revision_approvals WHERE revision_id = 'r-pending'`, nil, true},
				{"a revision deleted", `DELETE FROM manifest_revisions WHERE id = 'r-refused'`, nil, true},
			})
		})

		t.Run("a revision applied to a completed manifest", func(t *testing.T) {
			// As manifest.DecideRevision does it: the revision approved, the
			// line corrected, the version moved, the revise step written.
			revision("r-done", "done", "pending")
			run(t, []retentionCase{
				{"revision approved", `UPDATE manifest_revisions SET status = 'approved', decided_at = ? WHERE id = 'r-done'`,
					[]any{later}, false},
				{"line corrected", `UPDATE manifest_lines SET received_g = 1002, accepted_g = 1002 WHERE manifest_id = 'done'`, nil, false},
				{"more than the version moved", `UPDATE manifests SET note = 'x', updated_at = ?, version = version + 1
					WHERE id = 'done'`, []any{later}, true},
				{"version moved", `UPDATE manifests SET updated_at = ?, version = version + 1 WHERE id = 'done'`, []any{later}, false},
				{"revise step written", `INSERT INTO manifest_steps (manifest_id, step, action, status, at, actor_user_id,
					actor_username, actor_unit_id, audit_seq) VALUES ('done', 2, 'revise', 'completed', ?, 'x', 'x', 'u1', 2)`,
					[]any{later}, false},
				{"line edited after the revision", `UPDATE manifest_lines SET accepted_g = 1 WHERE manifest_id = 'done'`, nil, true},
				{"version moved after the revision", `UPDATE manifests SET updated_at = ?, version = version + 1 WHERE id = 'done'`,
					[]any{later.Add(time.Hour)}, true},
			})
			var got int64
			if err := store.Get(ctx, db.Reader(), &got, `SELECT accepted_g FROM manifest_lines WHERE manifest_id = 'done'`); err != nil ||
				got != 1002 {
				t.Fatalf("corrected line: %d, %v", got, err)
			}
		})

		t.Run("a manifest past ten years", func(t *testing.T) {
			run(t, []retentionCase{
				{"still never edited", `UPDATE manifest_steps SET actor_username = 'y' WHERE manifest_id = 'old'`, nil, true},
				{"steps deleted", `DELETE FROM manifest_steps WHERE manifest_id = 'old'`, nil, false},
				{"lines deleted", `DELETE FROM manifest_lines WHERE manifest_id = 'old'`, nil, false},
				{"legs deleted", `DELETE FROM manifest_carriers WHERE manifest_id = 'old'`, nil, false},
				{"manifest deleted", `DELETE FROM manifests WHERE id = 'old'`, nil, false},
			})
		})

		t.Run("approvals and whitelist routes", func(t *testing.T) {
			run(t, []retentionCase{
				{"a valid approval suspended", `UPDATE approvals SET status = 'suspended', updated_at = ? WHERE id = 'valid'`,
					[]any{later}, false},
				{"a valid approval's unused code dropped", `DELETE FROM approval_items WHERE approval_id = 'valid'`, nil, false},
				{"a revoked approval restored", `UPDATE approvals SET status = 'valid' WHERE id = 'revoked'`, nil, true},
				{"a revoked approval's cap raised", `UPDATE approval_items SET quantity_g = 9000 WHERE approval_id = 'revoked'`, nil, true},
				{"refused waste released from a revoked approval", `UPDATE approval_items SET used_g = used_g - 1000
					WHERE approval_id = 'revoked'`, nil, false},
				{"a revoked approval's code dropped", `DELETE FROM approval_items WHERE approval_id = 'revoked'`, nil, true},
				{"an approval deleted", `DELETE FROM approvals WHERE id = 'valid'`, nil, true},
				{"a valid route's codes replaced", `DELETE FROM whitelist_route_codes WHERE route_id = 'valid'`, nil, false},
				{"a revoked route restored", `UPDATE whitelist_routes SET status = 'valid' WHERE id = 'revoked'`, nil, true},
				{"a revoked route's codes dropped", `DELETE FROM whitelist_route_codes WHERE route_id = 'revoked'`, nil, true},
				{"a route deleted", `DELETE FROM whitelist_routes WHERE id = 'valid'`, nil, true},
				{"an approval lapsed ten years ago deleted", `DELETE FROM approval_items WHERE approval_id = 'lapsed'`, nil, false},
				{"then the approval", `DELETE FROM approvals WHERE id = 'lapsed'`, nil, false},
				{"a route lapsed ten years ago deleted", `DELETE FROM whitelist_route_codes WHERE route_id = 'lapsed'`, nil, false},
				{"then the route", `DELETE FROM whitelist_routes WHERE id = 'lapsed'`, nil, false},
			})
		})
	})
}
