package approval

import (
	"context"
	"errors"
	"slices"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/registry"
	"wufei/internal/store"
)

// scope returns the SQL condition (over alias t, an approval or a route)
// limiting rows to those the principal may see:
//   - admins and city-wide regulators see all;
//   - a regional regulator or viewer sees those whose consignor or receiver
//     lies in its county or park;
//   - a unit's accounts see those their unit is a party to.
func scope(p auth.Principal) (string, []any) {
	switch {
	case p.SeesAllRegions():
		return "1 = 1", nil
	case p.Role == auth.Regulator || (p.Role == auth.Viewer && p.RegionCode != ""):
		return `EXISTS (SELECT 1 FROM units su WHERE su.id IN (t.consignor_unit_id, t.receiver_unit_id)
			AND (su.region_code = ? OR su.park_code = ?))`, []any{p.RegionCode, p.RegionCode}
	case p.Role.BoundToUnit():
		return "(t.consignor_unit_id = ? OR t.receiver_unit_id = ?)", []any{p.UnitID, p.UnitID}
	}
	return "1 = 0", nil
}

// party is what the rules need of a consignor or receiver.
type party struct {
	ID         string `db:"id"`
	RegionCode string `db:"region_code"`
	ParkCode   string `db:"park_code"`
	Roles      []registry.UnitRole
}

func (u party) province() string { return u.RegionCode[:2] }

func (u party) has(roles ...registry.UnitRole) bool {
	for _, r := range roles {
		if slices.Contains(u.Roles, r) {
			return true
		}
	}
	return false
}

// inCity reports whether the unit is one of Huaibei's own.
func (u party) inCity() bool { return auth.InCity(u.RegionCode) }

// parties loads the consignor and receiver, whatever the caller may see in
// the registry: an approval names a unit in another province that no
// regional regulator oversees.
func parties(ctx context.Context, q store.Querier, consignorID, receiverID string) (c, r party, err error) {
	var v errs.Validation
	load := func(field, id string) party {
		var u party
		e := store.Get(ctx, q, &u, `SELECT id, region_code, COALESCE(park_code, '') AS park_code FROM units WHERE id = ?`, id)
		switch {
		case errors.Is(e, store.ErrNotFound):
			v.Add(field, "unit_unknown", "单位不存在")
		case e != nil:
			err = e
		default:
			e = store.Select(ctx, q, &u.Roles, `SELECT role FROM unit_roles WHERE unit_id = ? ORDER BY role`, id)
			if e != nil {
				err = e
			}
		}
		return u
	}
	c = load("consignor_unit_id", consignorID)
	r = load("receiver_unit_id", receiverID)
	if err != nil {
		return c, r, err
	}
	if err := v.Err(); err != nil {
		return c, r, err
	}
	if c.ID == r.ID {
		return c, r, errs.Field("receiver_unit_id", "same_unit", "移出人与接受人不能是同一单位")
	}
	if !c.has(registry.Generator, registry.Collector) {
		v.Add("consignor_unit_id", "consignor_role", "移出人须为产废单位或收集单位")
	}
	if !r.has(registry.Collector, registry.Utiliser, registry.Disposer) {
		v.Add("receiver_unit_id", "receiver_role", "接受人须为收集、利用或处置单位")
	}
	if c.province() == r.province() {
		v.Add("receiver_unit_id", "not_cross_province", "移出人与接受人在同一省份，不属于跨省转移")
	}
	return c, r, v.Err()
}

// local is the party the platform's own regulators oversee: the Huaibei
// one, the consignor if both or neither are.
func local(c, r party) party {
	if !c.inCity() && r.inCity() {
		return r
	}
	return c
}

// mayRecord reports whether p may record approvals and routes at all.
func mayRecord(p auth.Principal) bool { return p.Role == auth.Admin || p.Role == auth.Regulator }

// canManage reports whether p may record or change an approval or route
// between c and r: admins, city-wide regulators, and the regulator of
// either party's county or park.
func canManage(p auth.Principal, c, r party) bool {
	switch {
	case p.Role == auth.Admin || (p.Role == auth.Regulator && p.SeesAllRegions()):
		return true
	case p.Role == auth.Regulator:
		for _, u := range []party{c, r} {
			if u.RegionCode == p.RegionCode || (u.ParkCode != "" && u.ParkCode == p.RegionCode) {
				return true
			}
		}
	}
	return false
}

func forbidden() error {
	return errs.E(errs.Forbidden, "forbidden", "跨省转移审批与白名单由监管部门登记和变更")
}

func conflict(what string) error {
	return errs.E(errs.Conflict, "version_conflict", what+"已被他人修改，请刷新后重试")
}
