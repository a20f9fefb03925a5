package approval

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"wufei/internal/paging"

	"github.com/google/uuid"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/store"
)

const routeColumns = `t.id, t.reference, t.from_province, t.to_province, t.consignor_unit_id, t.receiver_unit_id,
	t.valid_from, t.valid_to, t.status, t.region_code, t.note, t.created_at, t.updated_at, t.version`

// CreateRoute records a whitelist route.
func (s *Service) CreateRoute(ctx context.Context, p auth.Principal, in NewWhitelistRoute) (WhitelistRoute, error) {
	if !mayRecord(p) {
		return WhitelistRoute{}, forbidden()
	}
	rt := WhitelistRoute{ID: uuid.Must(uuid.NewV7()).String(), Reference: strings.TrimSpace(in.Reference), ConsignorID: in.ConsignorID,
		ReceiverID: in.ReceiverID, WasteCodes: trimAll(in.WasteCodes), ValidFrom: in.ValidFrom, ValidTo: in.ValidTo,
		Status: Valid, Note: strings.TrimSpace(in.Note), Version: 1}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		c, r, err := parties(ctx, tx, rt.ConsignorID, rt.ReceiverID)
		if err != nil {
			return err
		}
		if !canManage(p, c, r) {
			return forbidden()
		}
		rules, err := LoadRules(ctx, tx)
		if err != nil {
			return err
		}
		if err := validateRoute(ctx, tx, rules, &rt, c, r); err != nil {
			return err
		}
		rt.RegionCode = local(c, r).RegionCode
		rt.CreatedAt, rt.UpdatedAt = tx.Now, tx.Now
		if _, err := store.Exec(ctx, tx, `INSERT INTO whitelist_routes (id, reference, from_province, to_province,
			consignor_unit_id, receiver_unit_id, valid_from, valid_to, status, region_code, note, created_at, updated_at, version)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
			rt.ID, rt.Reference, rt.FromProvince, rt.ToProvince, rt.ConsignorID, rt.ReceiverID, rt.ValidFrom, rt.ValidTo,
			rt.Status, rt.RegionCode, rt.Note, rt.CreatedAt, rt.UpdatedAt); err != nil {
			return err
		}
		if err := writeRouteCodes(ctx, tx, rt.ID, rt.WasteCodes); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, p.Actor(), audit.Record{Action: "whitelist_route.create", Entity: "whitelist_route",
			EntityID: rt.ID, UnitID: local(c, r).ID, RegionCode: rt.RegionCode, Change: rt})
		return err
	})
	return rt, err
}

func trimAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.TrimSpace(s)
	}
	return out
}

// validateRoute checks a route's codes, validity and provinces.
func validateRoute(ctx context.Context, q store.Querier, rules Rules, rt *WhitelistRoute, c, r party) error {
	var v errs.Validation
	rt.FromProvince, rt.ToProvince = c.province(), r.province()
	if len(rt.WasteCodes) == 0 {
		v.Add("waste_codes", "required", "至少填写一个废物代码")
	}
	if err := checkCodes(ctx, q, &v, "waste_codes", rt.WasteCodes); err != nil {
		return err
	}
	_, okFrom := parseDay(&v, "valid_from", rt.ValidFrom)
	_, okTo := parseDay(&v, "valid_to", rt.ValidTo)
	if okFrom && okTo && rt.ValidTo < rt.ValidFrom {
		v.Add("valid_to", "validity_order", "有效期止不能早于有效期起")
	}
	if w := rules.WhitelistProvinces; len(w) > 0 {
		if !slices.Contains(w, rt.FromProvince) {
			v.Add("consignor_unit_id", "whitelist_province", "移出人不在白名单适用的省份")
		}
		if !slices.Contains(w, rt.ToProvince) {
			v.Add("receiver_unit_id", "whitelist_province", "接受人不在白名单适用的省份")
		}
	}
	slices.Sort(rt.WasteCodes)
	return v.Err()
}

func writeRouteCodes(ctx context.Context, tx *store.Tx, id string, codes []string) error {
	if _, err := store.Exec(ctx, tx, `DELETE FROM whitelist_route_codes WHERE route_id = ?`, id); err != nil {
		return err
	}
	for _, c := range codes {
		if _, err := store.Exec(ctx, tx, `INSERT INTO whitelist_route_codes (route_id, waste_code, category) VALUES (?, ?, ?)`,
			id, c, "HW"+c[8:]); err != nil {
			return err
		}
	}
	return nil
}

// GetRoute returns a whitelist route the principal may see.
func (s *Service) GetRoute(ctx context.Context, p auth.Principal, id string) (WhitelistRoute, error) {
	return getRoute(ctx, s.db.Reader(), p, id)
}

func getRoute(ctx context.Context, q store.Querier, p auth.Principal, id string) (WhitelistRoute, error) {
	cond, args := scope(p)
	var rt WhitelistRoute
	err := store.Get(ctx, q, &rt, `SELECT `+routeColumns+` FROM whitelist_routes t WHERE t.id = ? AND `+cond,
		append([]any{id}, args...)...)
	if errors.Is(err, store.ErrNotFound) {
		return rt, errs.E(errs.NotFound, "route_not_found", "白名单路线不存在或无权查看")
	}
	if err != nil {
		return rt, err
	}
	rts := []WhitelistRoute{rt}
	err = loadRouteCodes(ctx, q, rts)
	return rts[0], err
}

func loadRouteCodes(ctx context.Context, q store.Querier, rts []WhitelistRoute) error {
	if len(rts) == 0 {
		return nil
	}
	ids := make([]string, len(rts))
	at := map[string]int{}
	for i := range rts {
		ids[i], at[rts[i].ID] = rts[i].ID, i
		rts[i].WasteCodes = []string{}
	}
	query, args, err := store.In(`SELECT route_id, waste_code FROM whitelist_route_codes WHERE route_id IN (?)
		ORDER BY route_id, waste_code`, ids)
	if err != nil {
		return err
	}
	var rows []struct {
		RouteID   string `db:"route_id"`
		WasteCode string `db:"waste_code"`
	}
	if err := store.Select(ctx, q, &rows, query, args...); err != nil {
		return err
	}
	for _, r := range rows {
		i := at[r.RouteID]
		rts[i].WasteCodes = append(rts[i].WasteCodes, r.WasteCode)
	}
	return nil
}

// ListRoutes returns the whitelist routes the principal may see.
func (s *Service) ListRoutes(ctx context.Context, p auth.Principal, f Filter) (paging.Page[WhitelistRoute], error) {
	where, args, limit, err := filterWhere(p, f, "whitelist_route_codes", "route_id")
	if err != nil {
		return paging.Page[WhitelistRoute]{}, err
	}
	var rts []WhitelistRoute
	if err := store.Select(ctx, s.db.Reader(), &rts, `SELECT `+routeColumns+` FROM whitelist_routes t WHERE `+
		strings.Join(where, " AND ")+` ORDER BY t.id LIMIT `+strconv.Itoa(limit+1), args...); err != nil {
		return paging.Page[WhitelistRoute]{}, err
	}
	page := paging.Of(rts, limit, func(r WhitelistRoute) string { return r.ID })
	return page, loadRouteCodes(ctx, s.db.Reader(), page.Items)
}

// UpdateRoute changes a whitelist route at the version read.
func (s *Service) UpdateRoute(ctx context.Context, p auth.Principal, id string, in WhitelistRoutePatch) (WhitelistRoute, error) {
	var rt WhitelistRoute
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		before, err := getRoute(ctx, tx, p, id)
		if err != nil {
			return err
		}
		c, r, partyErr := parties(ctx, tx, before.ConsignorID, before.ReceiverID)
		if partyErr != nil && errs.KindOf(partyErr) != errs.Invalid {
			return partyErr
		}
		if !canManage(p, c, r) {
			return errs.E(errs.Forbidden, "forbidden", "无权变更该白名单路线")
		}
		if before.Version != in.Version {
			return conflict("该白名单路线")
		}
		if before.Status == Revoked || before.Status == Expired {
			return errs.E(errs.Conflict, "route_closed", "白名单路线已撤销或已过期，不能再变更")
		}
		rt = before
		set(&rt.Reference, trimmed(in.Reference))
		set(&rt.Note, trimmed(in.Note))
		set(&rt.Status, in.Status)
		set(&rt.ValidFrom, in.ValidFrom)
		set(&rt.ValidTo, in.ValidTo)
		if in.WasteCodes != nil {
			rt.WasteCodes = trimAll(in.WasteCodes)
		} else {
			rt.WasteCodes = slices.Clone(before.WasteCodes)
		}
		if err := checkStatus(before.Status, rt.Status); err != nil {
			return err
		}
		full := in.WasteCodes != nil || rt.ValidFrom != before.ValidFrom || rt.ValidTo != before.ValidTo ||
			(rt.Status == Valid && before.Status != Valid)
		if full {
			if partyErr != nil {
				return partyErr
			}
			rules, err := LoadRules(ctx, tx)
			if err != nil {
				return err
			}
			if err := validateRoute(ctx, tx, rules, &rt, c, r); err != nil {
				return err
			}
			rt.FromProvince, rt.ToProvince = before.FromProvince, before.ToProvince
		}
		rt.UpdatedAt, rt.Version = tx.Now, before.Version+1
		n, err := store.Exec(ctx, tx, `UPDATE whitelist_routes SET reference = ?, valid_from = ?, valid_to = ?, status = ?,
			note = ?, updated_at = ?, version = ? WHERE id = ? AND version = ?`,
			rt.Reference, rt.ValidFrom, rt.ValidTo, rt.Status, rt.Note, rt.UpdatedAt, rt.Version, id, before.Version)
		if err != nil {
			return err
		}
		if n != 1 {
			return conflict("该白名单路线")
		}
		if in.WasteCodes != nil {
			if err := writeRouteCodes(ctx, tx, id, rt.WasteCodes); err != nil {
				return err
			}
		}
		_, err = audit.Append(ctx, tx, p.Actor(), audit.Record{Action: "whitelist_route.update", Entity: "whitelist_route",
			EntityID: id, UnitID: local(c, r).ID, RegionCode: rt.RegionCode, Change: map[string]any{"before": before, "after": rt}})
		return err
	})
	return rt, err
}
