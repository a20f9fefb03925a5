package manifest

import (
	"context"
	"time"

	"wufei/internal/alerts"
	"wufei/internal/store"
)

// CheckOverdue is the time-based rule for receipt deadlines: every manifest
// still in transit past its receipt deadline raises receipt_overdue for the
// consignor, the carriers and the receiver, in the receiving region. It
// returns how many alerts it raised (an alert already open is not raised
// again).
func CheckOverdue(ctx context.Context, db *store.DB, now time.Time) (int, error) {
	var due []struct {
		ID        string    `db:"id"`
		Number    string    `db:"number"`
		Consignor string    `db:"consignor_unit_id"`
		Receiver  string    `db:"receiver_unit_id"`
		Region    string    `db:"receiver_region_code"`
		DueAt     time.Time `db:"receipt_due_at"`
	}
	if err := store.Select(ctx, db.Reader(), &due, `SELECT id, number, consignor_unit_id, receiver_unit_id,
		receiver_region_code, receipt_due_at FROM manifests WHERE status = 'in_transit' AND receipt_due_at < ?
		ORDER BY receipt_due_at LIMIT 1000`, now); err != nil {
		return 0, err
	}
	raised := 0
	for _, m := range due {
		err := db.Tx(ctx, func(tx *store.Tx) error {
			var carriers []string
			if err := store.Select(ctx, tx, &carriers, `SELECT carrier_unit_id FROM manifest_carriers WHERE manifest_id = ?`, m.ID); err != nil {
				return err
			}
			a, err := alerts.Raise(ctx, tx, alerts.Alert{Kind: "receipt_overdue", Severity: alerts.Critical,
				Title: "联单 " + m.Number + " 超期未确认接收", Detail: "接受单位应在运抵后规定的工作日内确认接收",
				Subject: "manifest", SubjectID: m.ID, SubjectRef: m.Number, RegionCode: m.Region, DueAt: &m.DueAt,
				UnitIDs: append([]string{m.Consignor, m.Receiver}, carriers...)})
			if err == nil && a.CreatedAt.Equal(tx.Now) {
				raised++
			}
			return err
		})
		if err != nil {
			return raised, err
		}
	}
	return raised, nil
}
