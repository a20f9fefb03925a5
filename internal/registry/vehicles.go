package registry

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"
	"wufei/internal/paging"

	"github.com/google/uuid"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/qty"
	"wufei/internal/store"
)

// plateRe matches a mainland Chinese plate (GA 36), including new-energy
// plates with one more character and trailer plates ending in 挂.
var plateRe = regexp.MustCompile(`^[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z][A-HJ-NP-Z0-9]{4,5}[A-HJ-NP-Z0-9挂]$`)

// NewVehicle is what registering a vehicle takes.
type NewVehicle struct {
	UnitID        string     `json:"unit_id"`
	Plate         string     `json:"plate" doc:"车牌号，如 皖F12345"`
	PermitNo      string     `json:"permit_no" minLength:"1" maxLength:"60" doc:"道路运输证号"`
	Kind          string     `json:"kind,omitempty" maxLength:"60" doc:"车辆类型，如 厢式货车、罐式货车"`
	CapacityT     float64    `json:"capacity_t" doc:"核定载质量（吨）"`
	PermitValidTo *time.Time `json:"permit_valid_to,omitempty"`
}

// VehiclePatch changes a vehicle.
type VehiclePatch struct {
	Version       int64      `json:"version" minimum:"1"`
	PermitNo      *string    `json:"permit_no,omitempty" maxLength:"60"`
	Kind          *string    `json:"kind,omitempty" maxLength:"60"`
	CapacityT     *float64   `json:"capacity_t,omitempty"`
	PermitValidTo *time.Time `json:"permit_valid_to,omitempty"`
	Status        *string    `json:"status,omitempty" enum:"active,suspended,retired"`
}

func validateVehicle(v *Vehicle) error {
	var val errs.Validation
	v.Plate = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(v.Plate), " ", ""))
	if !plateRe.MatchString(v.Plate) {
		val.Add("plate", "plate_format", "车牌号格式不正确")
	}
	if strings.TrimSpace(v.PermitNo) == "" {
		val.Add("permit_no", "required", "道路运输证号必填")
	}
	if v.CapacityG <= 0 {
		val.Add("capacity_t", "capacity_positive", "核定载质量须大于 0")
	}
	if !slices.Contains([]string{"active", "suspended", "retired"}, v.Status) {
		val.Add("status", "status_unknown", "未知状态")
	}
	return val.Err()
}

// CreateVehicle registers a vehicle of a carrier.
func (s *Service) CreateVehicle(ctx context.Context, p auth.Principal, in NewVehicle) (Vehicle, error) {
	g, err := qty.Grams("capacity_t", in.CapacityT)
	if err != nil {
		return Vehicle{}, err
	}
	v := Vehicle{ID: uuid.Must(uuid.NewV7()).String(), UnitID: in.UnitID, Plate: in.Plate, PermitNo: in.PermitNo,
		Kind: in.Kind, CapacityG: g, PermitValidTo: in.PermitValidTo, Status: "active", Version: 1}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		u, err := s.getUnit(ctx, tx, p, in.UnitID)
		if err != nil {
			return err
		}
		if !canMaintain(p, u) {
			return errs.E(errs.Forbidden, "forbidden", "无权为该单位登记车辆")
		}
		if !u.HasRole(Carrier) {
			return errs.Field("unit_id", "unit_not_carrier", "只有承运单位可以登记车辆")
		}
		if err := validateVehicle(&v); err != nil {
			return err
		}
		v.CreatedAt, v.UpdatedAt = tx.Now, tx.Now
		_, err = store.Exec(ctx, tx, `INSERT INTO vehicles (id, unit_id, plate, permit_no, kind, capacity_g, permit_valid_to,
			status, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
			v.ID, v.UnitID, v.Plate, v.PermitNo, v.Kind, v.CapacityG, v.PermitValidTo, v.Status, v.CreatedAt, v.UpdatedAt)
		if errors.Is(err, store.ErrExists) {
			return errs.Field("plate", "plate_taken", "该车牌已登记")
		}
		if err != nil {
			return err
		}
		v.CapacityT = qty.Tonnes(v.CapacityG)
		_, err = audit.Append(ctx, tx, p.Actor(), audit.Record{Action: "vehicle.create", Entity: "vehicle", EntityID: v.ID,
			UnitID: u.ID, RegionCode: u.RegionCode, Change: v})
		return err
	})
	return v, err
}

const vehicleColumns = `v.id, v.unit_id, v.plate, v.permit_no, v.kind, v.capacity_g, v.permit_valid_to, v.status,
	v.created_at, v.updated_at, v.version`

// VehicleFilter narrows a vehicle list.
type VehicleFilter struct {
	UnitID string
	Plate  string
	Limit  int
	After  string
}

// ListVehicles lists vehicles of units the principal may see.
func (s *Service) ListVehicles(ctx context.Context, p auth.Principal, f VehicleFilter) (Page[Vehicle], error) {
	cond, args := unitScope(p)
	where := []string{cond}
	if f.UnitID != "" {
		where = append(where, "v.unit_id = ?")
		args = append(args, f.UnitID)
	}
	if f.Plate != "" {
		where = append(where, "v.plate = ?")
		args = append(args, strings.ToUpper(f.Plate))
	}
	limit, after, err := paging.Args(f.Limit, f.After)
	if err != nil {
		return Page[Vehicle]{}, err
	}
	if after != "" {
		where = append(where, "v.id > ?")
		args = append(args, after)
	}
	var items []Vehicle
	if err := store.Select(ctx, s.db.Reader(), &items, `SELECT `+vehicleColumns+` FROM vehicles v JOIN units u ON u.id = v.unit_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY v.id LIMIT `+itoa(limit+1), args...); err != nil {
		return Page[Vehicle]{}, err
	}
	for i := range items {
		items[i].CapacityT = qty.Tonnes(items[i].CapacityG)
	}
	return paging.Of(items, limit, func(v Vehicle) string { return v.ID }), nil
}

// GetVehicle returns a vehicle of a unit the principal may see.
func (s *Service) GetVehicle(ctx context.Context, p auth.Principal, id string) (Vehicle, error) {
	return s.getVehicle(ctx, s.db.Reader(), p, id)
}

func (s *Service) getVehicle(ctx context.Context, q store.Querier, p auth.Principal, id string) (Vehicle, error) {
	cond, args := unitScope(p)
	var v Vehicle
	err := store.Get(ctx, q, &v, `SELECT `+vehicleColumns+` FROM vehicles v JOIN units u ON u.id = v.unit_id
		WHERE v.id = ? AND `+cond, append([]any{id}, args...)...)
	if errors.Is(err, store.ErrNotFound) {
		return v, errs.E(errs.NotFound, "vehicle_not_found", "车辆不存在或无权查看")
	}
	v.CapacityT = qty.Tonnes(v.CapacityG)
	return v, err
}

// UpdateVehicle changes a vehicle's permit, capacity or status.
func (s *Service) UpdateVehicle(ctx context.Context, p auth.Principal, id string, in VehiclePatch) (Vehicle, error) {
	var v Vehicle
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		before, err := s.getVehicle(ctx, tx, p, id)
		if err != nil {
			return err
		}
		u, err := s.owner(ctx, tx, p, before.UnitID, canMaintain, in.Version, before.Version, "车辆")
		if err != nil {
			return err
		}
		v = before
		set(&v.PermitNo, in.PermitNo)
		set(&v.Kind, in.Kind)
		set(&v.Status, in.Status)
		if in.PermitValidTo != nil {
			v.PermitValidTo = in.PermitValidTo
		}
		if in.CapacityT != nil {
			if v.CapacityG, err = qty.Grams("capacity_t", *in.CapacityT); err != nil {
				return err
			}
		}
		if err := validateVehicle(&v); err != nil {
			return err
		}
		v.CapacityT = qty.Tonnes(v.CapacityG)
		v.UpdatedAt, v.Version = tx.Now, before.Version+1
		n, err := store.Exec(ctx, tx, `UPDATE vehicles SET permit_no = ?, kind = ?, capacity_g = ?, permit_valid_to = ?,
			status = ?, updated_at = ?, version = ? WHERE id = ? AND version = ?`,
			v.PermitNo, v.Kind, v.CapacityG, v.PermitValidTo, v.Status, v.UpdatedAt, v.Version, id, before.Version)
		if err != nil {
			return err
		}
		return updated(ctx, tx, p, n, "vehicle", "车辆", id, u, before, v)
	})
	return v, err
}
