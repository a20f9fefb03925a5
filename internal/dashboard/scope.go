package dashboard

import "wufei/internal/auth"

// The conditions below restate, for aggregates, the visibility rules of the
// packages that own each kind of row (hw/ledger, hw/manifest, alerts,
// registry); the scoping tests of this package hold them to the same
// answers. A unit-bound viewer's dashboard shows its own unit's figures.

// ledgerScope limits ledger rows (alias with unit_id and region_code).
func ledgerScope(p auth.Principal, alias string) (string, []any) {
	switch {
	case p.SeesAllRegions():
		return "1 = 1", nil
	case p.Role == auth.Regulator || (p.Role == auth.Viewer && p.RegionCode != ""):
		return "(" + alias + ".region_code = ? OR " + alias + ".unit_id IN (SELECT id FROM units WHERE park_code = ?))",
			[]any{p.RegionCode, p.RegionCode}
	case p.Role.BoundToUnit() && p.UnitID != "":
		return alias + ".unit_id = ?", []any{p.UnitID}
	}
	return "1 = 0", nil
}

// manifestScope limits manifests (alias m): drafts stay their consignor's;
// regulators see what leaves or enters their region or park; a unit sees the
// manifests it is a party to.
func manifestScope(p auth.Principal) (string, []any) {
	switch {
	case p.Role == auth.Admin:
		return "1 = 1", nil
	case p.Role == auth.Regulator && p.SeesAllRegions():
		return "m.status <> 'draft'", nil
	case p.Role == auth.Regulator:
		return `m.status <> 'draft' AND (m.region_code = ? OR m.receiver_region_code = ? OR EXISTS (SELECT 1 FROM units pu
			WHERE pu.park_code = ? AND (pu.id = m.consignor_unit_id OR pu.id = m.receiver_unit_id)))`,
			[]any{p.RegionCode, p.RegionCode, p.RegionCode}
	case p.Role.BoundToUnit() && p.UnitID != "":
		return `(m.consignor_unit_id = ? OR (m.status <> 'draft' AND (m.receiver_unit_id = ? OR EXISTS (SELECT 1
			FROM manifest_carriers mc WHERE mc.manifest_id = m.id AND mc.carrier_unit_id = ?))))`,
			[]any{p.UnitID, p.UnitID, p.UnitID}
	}
	return "1 = 0", nil
}

// alertScope limits alerts (alias a) to those of the viewer's region or
// unit.
func alertScope(p auth.Principal) (string, []any) {
	switch {
	case p.SeesAllRegions():
		return "1 = 1", nil
	case p.Role == auth.Regulator || (p.Role == auth.Viewer && p.RegionCode != ""):
		return `(a.region_code = ? OR EXISTS (SELECT 1 FROM alert_parties ap JOIN units u ON u.id = ap.unit_id
			WHERE ap.alert_id = a.id AND (u.region_code = ? OR u.park_code = ?)))`, []any{p.RegionCode, p.RegionCode, p.RegionCode}
	case p.Role.BoundToUnit() && p.UnitID != "":
		return "EXISTS (SELECT 1 FROM alert_parties ap WHERE ap.alert_id = a.id AND ap.unit_id = ?)", []any{p.UnitID}
	}
	return "1 = 0", nil
}

// unitScope limits units (alias u) on the map and the capacity chart: every
// unit for the city, a region's for its regulators, the viewer's own unit
// otherwise.
func unitScope(p auth.Principal) (string, []any) {
	switch {
	case p.SeesAllRegions():
		return "1 = 1", nil
	case p.Role == auth.Regulator || (p.Role == auth.Viewer && p.RegionCode != ""):
		return "(u.region_code = ? OR u.park_code = ?)", []any{p.RegionCode, p.RegionCode}
	case p.Role.BoundToUnit() && p.UnitID != "":
		return "u.id = ?", []any{p.UnitID}
	}
	return "1 = 0", nil
}
