package plan

import (
	"context"

	"wufei/internal/store"
)

// Names reports whether the unit has a filed plan for year naming wasteCode
// in its generation or transfer lines. Manifests call it on submission
// (转移管理办法: a manifest is filled in from the filed plan). A plan that
// was returned does not count until it is filed again.
func Names(ctx context.Context, q store.Querier, unitID string, year int, wasteCode string) (bool, error) {
	var n int
	err := store.Get(ctx, q, &n, `SELECT count(*) FROM plan_lines l JOIN plans pl ON pl.id = l.plan_id
		WHERE l.unit_id = ? AND l.year = ? AND l.waste_code = ? AND l.section IN (?, ?) AND pl.status = ?`,
		unitID, year, wasteCode, secGeneration, secTransfer, Filed)
	return n > 0, err
}
