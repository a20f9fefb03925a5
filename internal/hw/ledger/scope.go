package ledger

import (
	"context"
	"errors"
	"strconv"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/store"
)

// scope returns the SQL condition (over a table alias with unit_id and
// region_code) limiting rows to those the principal may read:
//   - admins and city-wide regulators read every unit's;
//   - a regional regulator or viewer reads its county's or park's units';
//   - a unit's own accounts read their unit's;
//   - anyone else reads nothing.
//
// Scope is the condition limiting ledger rows (alias with unit_id and
// region_code) to those p may read, for other packages' aggregates.
func Scope(p auth.Principal, alias string) (string, []any) { return scope(p, alias) }

func scope(p auth.Principal, alias string) (string, []any) {
	switch {
	case p.SeesAllRegions():
		return "1 = 1", nil
	case p.Role == auth.Regulator || (p.Role == auth.Viewer && p.RegionCode != ""):
		return "(" + alias + ".region_code = ? OR " + alias + ".unit_id IN (SELECT id FROM units WHERE park_code = ?))",
			[]any{p.RegionCode, p.RegionCode}
	case p.Role.BoundToUnit():
		return alias + ".unit_id = ?", []any{p.UnitID}
	}
	return "1 = 0", nil
}

// mayWrite reports whether p may keep the ledger of unit: only the unit's
// own administrators and members do. Regulators read; drivers carry.
func mayWrite(p auth.Principal, unitID string) bool {
	return (p.Role == auth.UnitAdmin || p.Role == auth.UnitMember) && p.UnitID == unitID && unitID != ""
}

// writer is the unit a principal writes the ledger for, or Forbidden.
func writer(p auth.Principal) (string, error) {
	if !mayWrite(p, p.UnitID) {
		return "", errs.E(errs.Forbidden, "ledger_forbidden", "只有本单位的账号才能填写本单位的台账")
	}
	return p.UnitID, nil
}

// unitInfo is what records copy from their unit.
type unitInfo struct {
	ID         string `db:"id"`
	USCC       string `db:"uscc"`
	Name       string `db:"name"`
	RegionCode string `db:"region_code"`
}

func loadUnit(ctx context.Context, q store.Querier, id string) (unitInfo, error) {
	var u unitInfo
	err := store.Get(ctx, q, &u, `SELECT id, uscc, name, region_code FROM units WHERE id = ?`, id)
	if errors.Is(err, store.ErrNotFound) {
		return u, errs.E(errs.NotFound, "unit_not_found", "单位不存在")
	}
	return u, err
}

// next advances the counter named scope by n and returns its new value
// (store.Next: the row is locked on PostgreSQL for the rest of the
// transaction, so two writers cannot draw the same number).
func next(ctx context.Context, tx *store.Tx, scope string, n int) (int, error) {
	last, err := store.Next(ctx, tx, "ledger_serials", "scope", scope, int64(n))
	return int(last), err
}

// lockUnit serialises the ledger writers of one unit, so that a check of
// what is left of a batch still holds when the record is written. SQLite's
// writers are serialised already.
func lockUnit(ctx context.Context, tx *store.Tx, unitID string) error {
	if tx.Dialect == store.SQLite {
		return nil
	}
	_, err := next(ctx, tx, "unit|"+unitID, 1)
	return err
}

func itoa(i int) string { return strconv.Itoa(i) }
