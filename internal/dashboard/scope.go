package dashboard

import (
	"wufei/internal/alerts"
	"wufei/internal/auth"
	"wufei/internal/hw/ledger"
	"wufei/internal/hw/manifest"
)

// The dashboard's figures are limited by the visibility rules of the
// packages that own each kind of row. A unit-bound viewer's dashboard shows
// its own unit's figures.

// The ledger's, manifests' and alerts' rules are their packages' own.
var (
	ledgerScope   = ledger.Scope
	manifestScope = manifest.Scope
	alertScope    = alerts.Scope
)

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
