package plan

import (
	"context"
	"errors"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/store"
)

// unitScope is the condition (over units u) limiting plans, classes and
// declarations to the units whose filings the principal may read: every unit
// for admins and city-wide regulators, a region's or park's units for its
// regulators and viewers, and a unit's own for its accounts. Unlike the
// registry's directory, a unit never sees another unit's filings.
func unitScope(p auth.Principal) (string, []any) {
	switch {
	case p.SeesAllRegions():
		return "1 = 1", nil
	case p.Role == auth.Regulator || (p.Role == auth.Viewer && p.RegionCode != ""):
		return "(u.region_code = ? OR u.park_code = ?)", []any{p.RegionCode, p.RegionCode}
	case p.Role.BoundToUnit():
		return "u.id = ?", []any{p.UnitID}
	}
	return "1 = 0", nil
}

// canFile reports whether p may write the unit's plans and declarations: the
// unit's own administrators and members, and platform admins.
func canFile(p auth.Principal, unitID string) bool {
	return p.Role == auth.Admin || ((p.Role == auth.UnitAdmin || p.Role == auth.UnitMember) && p.UnitID == unitID)
}

// canRegulate reports whether p may return a filed plan: admins and the
// regulators of the unit's region or park (a regulator who can see the unit).
func canRegulate(p auth.Principal) bool {
	return p.Role == auth.Admin || p.Role == auth.Regulator
}

// unitRow is the part of a unit the plan package reads.
type unitRow struct {
	ID           string `db:"id"`
	USCC         string `db:"uscc"`
	Name         string `db:"name"`
	RegionCode   string `db:"region_code"`
	ParkCode     string `db:"park_code"`
	Address      string `db:"address"`
	ContactName  string `db:"contact_name"`
	ContactPhone string `db:"contact_phone"`
	IndustryCode string `db:"industry_code"`
	IndustryName string `db:"industry_name"`
}

const unitColumns = `u.id, u.uscc, u.name, u.region_code, COALESCE(u.park_code, '') AS park_code, u.address,
	u.contact_name, u.contact_phone, u.industry_code, u.industry_name`

func (u unitRow) info() UnitInfo {
	return UnitInfo{Name: u.Name, USCC: u.USCC, RegionCode: u.RegionCode, ParkCode: u.ParkCode, Address: u.Address,
		ContactName: u.ContactName, ContactPhone: u.ContactPhone, IndustryCode: u.IndustryCode, IndustryName: u.IndustryName}
}

var errUnitNotFound = errs.E(errs.NotFound, "unit_not_found", "单位不存在或无权查看")

// visibleUnit loads a unit whose filings p may read; any other is not found.
func visibleUnit(ctx context.Context, q store.Querier, p auth.Principal, id string) (unitRow, error) {
	cond, args := unitScope(p)
	var u unitRow
	err := store.Get(ctx, q, &u, `SELECT `+unitColumns+` FROM units u WHERE u.id = ? AND `+cond, append([]any{id}, args...)...)
	if errors.Is(err, store.ErrNotFound) {
		return u, errUnitNotFound
	}
	return u, err
}
