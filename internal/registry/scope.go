package registry

import (
	"strings"

	"wufei/internal/auth"
)

// unitScope returns the SQL condition (over alias u) limiting units to those
// the principal may see, with its arguments. Every unit query goes through
// it, so no endpoint can forget the rule:
//   - admins and city-wide regulators see every unit;
//   - a regional regulator or viewer sees the units of its region or park;
//   - a unit's own accounts see their unit and the directory of licensed
//     collectors, carriers, utilisers and disposers they may contract;
//   - a viewer without a region sees only that directory.
func unitScope(p auth.Principal) (string, []any) {
	dir := `EXISTS (SELECT 1 FROM unit_roles sr WHERE sr.unit_id = u.id AND sr.role IN (` +
		strings.TrimSuffix(strings.Repeat("?, ", len(partnerRoles)), ", ") + `))`
	dirArgs := make([]any, len(partnerRoles))
	for i, r := range partnerRoles {
		dirArgs[i] = r
	}
	switch {
	case p.SeesAllRegions():
		return "1 = 1", nil
	case p.Role == auth.Regulator || (p.Role == auth.Viewer && p.RegionCode != ""):
		return "(u.region_code = ? OR u.park_code = ?)", []any{p.RegionCode, p.RegionCode}
	case p.Role.BoundToUnit():
		return "(u.id = ? OR " + dir + ")", append([]any{p.UnitID}, dirArgs...)
	case p.Role == auth.Viewer:
		return dir, dirArgs
	}
	return "1 = 0", nil
}

// canManage reports whether p may change the registration of unit u
// (regulated fields, licences): admins, and regulators over its region.
func canManage(p auth.Principal, u Unit) bool {
	switch {
	case p.Role == auth.Admin:
		return true
	case p.Role == auth.Regulator:
		return p.SeesAllRegions() || u.RegionCode == p.RegionCode || (u.ParkCode != "" && u.ParkCode == p.RegionCode)
	}
	return false
}

// canMaintain reports whether p may keep u's own records (contact details,
// vehicles, facilities): those who can manage it, and the unit's admin.
func canMaintain(p auth.Principal, u Unit) bool {
	return canManage(p, u) || (p.Role == auth.UnitAdmin && p.UnitID == u.ID)
}
