package registry

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/google/uuid"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/qty"
	"wufei/internal/store"
)

// NewFacility is what registering a facility takes.
type NewFacility struct {
	UnitID    string  `json:"unit_id"`
	Code      string  `json:"code" minLength:"1" maxLength:"40" doc:"设施编码（单位内唯一）"`
	Kind      string  `json:"kind" enum:"generation,storage,utilisation,disposal"`
	Name      string  `json:"name" minLength:"1" maxLength:"100"`
	Method    string  `json:"method,omitempty" doc:"利用/处置方式代码（利用、处置设施必填）"`
	CapacityT float64 `json:"capacity_t" doc:"贮存设施：最大贮存量；其他：年能力（吨）"`
}

// CreateFacility registers a facility of a unit.
func (s *Service) CreateFacility(ctx context.Context, p auth.Principal, in NewFacility) (Facility, error) {
	g, err := qty.Grams("capacity_t", in.CapacityT)
	if err != nil {
		return Facility{}, err
	}
	f := Facility{ID: uuid.Must(uuid.NewV7()).String(), UnitID: in.UnitID, Code: strings.TrimSpace(in.Code), Kind: in.Kind,
		Name: strings.TrimSpace(in.Name), Method: in.Method, CapacityG: g, Status: "active", Version: 1}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		u, err := s.getUnit(ctx, tx, p, in.UnitID)
		if err != nil {
			return err
		}
		if !canMaintain(p, u) {
			return errs.E(errs.Forbidden, "forbidden", "无权为该单位登记设施")
		}
		if err := s.validateFacility(ctx, tx, &f); err != nil {
			return err
		}
		f.CreatedAt, f.UpdatedAt = tx.Now, tx.Now
		_, err = store.Exec(ctx, tx, `INSERT INTO facilities (id, unit_id, code, kind, name, method, capacity_g, status,
			created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
			f.ID, f.UnitID, f.Code, f.Kind, f.Name, f.Method, f.CapacityG, f.Status, f.CreatedAt, f.UpdatedAt)
		if errors.Is(err, store.ErrExists) {
			return errs.Field("code", "facility_code_taken", "该单位已有此设施编码")
		}
		if err != nil {
			return err
		}
		f.CapacityT = qty.Tonnes(f.CapacityG)
		_, err = audit.Append(ctx, tx, p.Actor(), audit.Record{Action: "facility.create", Entity: "facility", EntityID: f.ID,
			UnitID: u.ID, RegionCode: u.RegionCode, Change: f})
		return err
	})
	return f, err
}

func (s *Service) validateFacility(ctx context.Context, q store.Querier, f *Facility) error {
	var v errs.Validation
	f.Name = strings.TrimSpace(f.Name)
	if f.Code == "" {
		v.Add("code", "required", "设施编码必填")
	}
	if f.Name == "" {
		v.Add("name", "required", "设施名称必填")
	}
	if !slices.Contains(FacilityKinds, FacilityKind(f.Kind)) {
		v.Add("kind", "kind_unknown", "未知设施类型")
	}
	if !slices.Contains([]string{"active", "suspended", "closed"}, f.Status) {
		v.Add("status", "status_unknown", "未知状态")
	}
	methods, _, err := s.catalogueSets(ctx, q)
	if err != nil {
		return err
	}
	needsMethod := f.Kind == "utilisation" || f.Kind == "disposal"
	switch {
	case needsMethod && !methods[f.Method]:
		v.Add("method", "method_unknown", "利用、处置设施须填写有效的方式代码")
	case !needsMethod && f.Method != "":
		v.Add("method", "method_not_allowed", "产生、贮存设施不填方式代码")
	}
	return v.Err()
}

// ListFacilities lists the facilities of a unit the principal may see.
func (s *Service) ListFacilities(ctx context.Context, p auth.Principal, unitID string) ([]Facility, error) {
	// A unit the caller may not see has no facilities to list: 404, as for
	// the unit itself, not an empty list.
	if _, err := s.GetUnit(ctx, p, unitID); err != nil {
		return nil, err
	}
	cond, args := unitScope(p)
	var items []Facility
	err := store.Select(ctx, s.db.Reader(), &items, `SELECT `+facilityColumns+` FROM facilities f JOIN units u ON u.id = f.unit_id
		WHERE f.unit_id = ? AND `+cond+` ORDER BY f.code`, append([]any{unitID}, args...)...)
	for i := range items {
		items[i].CapacityT = qty.Tonnes(items[i].CapacityG)
	}
	if items == nil {
		items = []Facility{}
	}
	return items, err
}

// FacilityPatch changes a facility.
type FacilityPatch struct {
	Version   int64    `json:"version" minimum:"1"`
	Name      *string  `json:"name,omitempty" maxLength:"100"`
	Method    *string  `json:"method,omitempty"`
	CapacityT *float64 `json:"capacity_t,omitempty"`
	Status    *string  `json:"status,omitempty" enum:"active,suspended,closed"`
}

const facilityColumns = `f.id, f.unit_id, f.code, f.kind, f.name, f.method, f.capacity_g, f.status, f.created_at,
	f.updated_at, f.version`

// UpdateFacility changes a facility's name, method, capacity or status.
func (s *Service) UpdateFacility(ctx context.Context, p auth.Principal, id string, in FacilityPatch) (Facility, error) {
	var f Facility
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		cond, args := unitScope(p)
		var before Facility
		err := store.Get(ctx, tx, &before, `SELECT `+facilityColumns+` FROM facilities f JOIN units u ON u.id = f.unit_id
			WHERE f.id = ? AND `+cond, append([]any{id}, args...)...)
		if errors.Is(err, store.ErrNotFound) {
			return errs.E(errs.NotFound, "facility_not_found", "设施不存在或无权查看")
		}
		if err != nil {
			return err
		}
		before.CapacityT = qty.Tonnes(before.CapacityG)
		u, err := s.owner(ctx, tx, p, before.UnitID, canMaintain, in.Version, before.Version, "设施")
		if err != nil {
			return err
		}
		f = before
		set(&f.Name, in.Name)
		set(&f.Method, in.Method)
		set(&f.Status, in.Status)
		if in.CapacityT != nil {
			if f.CapacityG, err = qty.Grams("capacity_t", *in.CapacityT); err != nil {
				return err
			}
		}
		if err := s.validateFacility(ctx, tx, &f); err != nil {
			return err
		}
		f.CapacityT = qty.Tonnes(f.CapacityG)
		f.UpdatedAt, f.Version = tx.Now, before.Version+1
		n, err := store.Exec(ctx, tx, `UPDATE facilities SET name = ?, method = ?, capacity_g = ?, status = ?, updated_at = ?,
			version = ? WHERE id = ? AND version = ?`, f.Name, f.Method, f.CapacityG, f.Status, f.UpdatedAt, f.Version, id, before.Version)
		if err != nil {
			return err
		}
		return updated(ctx, tx, p, n, "facility", "设施", id, u, before, f)
	})
	return f, err
}
