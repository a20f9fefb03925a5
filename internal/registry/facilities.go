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
		var v errs.Validation
		if f.Code == "" {
			v.Add("code", "required", "设施编码必填")
		}
		if f.Name == "" {
			v.Add("name", "required", "设施名称必填")
		}
		if !slices.Contains(FacilityKinds, FacilityKind(f.Kind)) {
			v.Add("kind", "kind_unknown", "未知设施类型")
		}
		methods, _, err := s.catalogueSets(ctx, tx)
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
		if err := v.Err(); err != nil {
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

// ListFacilities lists the facilities of a unit the principal may see.
func (s *Service) ListFacilities(ctx context.Context, p auth.Principal, unitID string) ([]Facility, error) {
	cond, args := unitScope(p)
	var items []Facility
	err := store.Select(ctx, s.db.Reader(), &items, `SELECT f.id, f.unit_id, f.code, f.kind, f.name, f.method, f.capacity_g,
		f.status, f.created_at, f.updated_at, f.version FROM facilities f JOIN units u ON u.id = f.unit_id
		WHERE f.unit_id = ? AND `+cond+` ORDER BY f.code`, append([]any{unitID}, args...)...)
	for i := range items {
		items[i].CapacityT = qty.Tonnes(items[i].CapacityG)
	}
	if items == nil {
		items = []Facility{}
	}
	return items, err
}
