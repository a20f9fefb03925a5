package registry

import (
	"context"
	"errors"
	"regexp"
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

// Service runs the registry's use cases.
type Service struct{ db *store.DB }

// NewService returns a registry Service on db.
func NewService(db *store.DB) *Service { return &Service{db: db} }

// Page is one page of a keyset-paged list.
type Page[T any] = paging.Page[T]

// NewUnit is what registering a unit takes.
type NewUnit struct {
	USCC         string     `json:"uscc" doc:"统一社会信用代码 (GB 32100-2015)"`
	Name         string     `json:"name" maxLength:"200"`
	Roles        []UnitRole `json:"roles" minItems:"1" enum:"generator,collector,carrier,utiliser,disposer"`
	RegionCode   string     `json:"region_code" doc:"县区行政区划代码"`
	ParkCode     string     `json:"park_code,omitempty" doc:"园区或乡镇街道代码"`
	Address      string     `json:"address,omitempty" maxLength:"300"`
	Longitude    *float64   `json:"longitude,omitempty"`
	Latitude     *float64   `json:"latitude,omitempty"`
	ContactName  string     `json:"contact_name,omitempty" maxLength:"100"`
	ContactPhone string     `json:"contact_phone,omitempty" maxLength:"30"`
	IndustryCode string     `json:"industry_code,omitempty" maxLength:"10"`
	IndustryName string     `json:"industry_name,omitempty" maxLength:"100"`
}

// UnitPatch changes some fields of a unit. Version must be the version read.
type UnitPatch struct {
	Version      int64      `json:"version" minimum:"1"`
	Name         *string    `json:"name,omitempty" maxLength:"200"`
	Roles        []UnitRole `json:"roles,omitempty" enum:"generator,collector,carrier,utiliser,disposer"`
	RegionCode   *string    `json:"region_code,omitempty"`
	ParkCode     *string    `json:"park_code,omitempty"`
	Address      *string    `json:"address,omitempty" maxLength:"300"`
	Longitude    *float64   `json:"longitude,omitempty"`
	Latitude     *float64   `json:"latitude,omitempty"`
	ContactName  *string    `json:"contact_name,omitempty" maxLength:"100"`
	ContactPhone *string    `json:"contact_phone,omitempty" maxLength:"30"`
	IndustryCode *string    `json:"industry_code,omitempty" maxLength:"10"`
	IndustryName *string    `json:"industry_name,omitempty" maxLength:"100"`
	Status       *string    `json:"status,omitempty" enum:"active,suspended,closed"`
}

// regulated reports whether the patch touches fields only a regulator may
// change.
func (p UnitPatch) regulated() bool {
	return p.Name != nil || p.Roles != nil || p.RegionCode != nil || p.ParkCode != nil ||
		p.IndustryCode != nil || p.IndustryName != nil || p.Status != nil
}

// UnitFilter narrows a unit list.
type UnitFilter struct {
	USCC   string
	Role   UnitRole
	Region string // a county or park code
	Query  string // part of the name or USCC
	Limit  int
	After  string // cursor from the previous page
}

var phoneRe = regexp.MustCompile(`^[0-9+\-() ]{5,30}$`)

const unitColumns = `u.id, u.uscc, u.name, u.region_code, COALESCE(u.park_code, '') AS park_code, u.address,
	u.longitude, u.latitude, u.contact_name, u.contact_phone, u.industry_code, u.industry_name, u.status,
	u.created_at, u.updated_at, u.version`

// validate checks a unit's fields, including against the regions table.
func (s *Service) validateUnit(ctx context.Context, q store.Querier, u *Unit) error {
	var v errs.Validation
	if err := ValidateUSCC("uscc", u.USCC); err != nil {
		var e *errs.Error
		errors.As(err, &e)
		v.Add(e.Fields[0].Field, e.Fields[0].Code, e.Fields[0].Message)
	}
	u.Name = strings.TrimSpace(u.Name)
	if u.Name == "" {
		v.Add("name", "required", "单位名称必填")
	}
	if len(u.Roles) == 0 {
		v.Add("roles", "required", "至少选择一种单位类型")
	}
	for i, r := range u.Roles {
		if !slices.Contains(UnitRoles, r) {
			v.Add("roles["+itoa(i)+"]", "role_unknown", "未知单位类型: "+string(r))
		}
	}
	slices.Sort(u.Roles)
	u.Roles = slices.Compact(u.Roles)
	// A Huaibei unit names its county; a unit elsewhere names its county,
	// city or province, as far as the regions table knows them.
	levels := []string{"county"}
	if !strings.HasPrefix(u.RegionCode, "3406") {
		levels = append(levels, "city", "province")
	}
	if err := s.checkRegion(ctx, q, u.RegionCode, levels...); err != nil {
		v.Add("region_code", "region_unknown", "县区代码不存在: "+u.RegionCode)
	}
	if u.ParkCode != "" {
		// A park or township lies in the unit's county, or (市高新区) under the city itself.
		var parent string
		err := store.Get(ctx, q, &parent, `SELECT COALESCE(parent_code, '') FROM regions WHERE code = ? AND level IN ('park', 'township')`, u.ParkCode)
		switch {
		case errors.Is(err, store.ErrNotFound):
			v.Add("park_code", "region_unknown", "园区或乡镇代码不存在: "+u.ParkCode)
		case err != nil:
			return err
		case parent != u.RegionCode && parent != auth.CityCode:
			v.Add("park_code", "park_outside_region", "园区或乡镇不在所填县区内")
		}
	}
	if (u.Longitude == nil) != (u.Latitude == nil) {
		v.Add("longitude", "coordinates_pair", "经纬度须同时填写")
	} else if u.Longitude != nil && (*u.Longitude < 73 || *u.Longitude > 136 || *u.Latitude < 3 || *u.Latitude > 54) {
		v.Add("longitude", "coordinates_range", "经纬度不在中国境内")
	}
	if u.ContactPhone != "" && !phoneRe.MatchString(u.ContactPhone) {
		v.Add("contact_phone", "phone_format", "联系电话格式不正确")
	}
	if !slices.Contains([]string{"active", "suspended", "closed"}, u.Status) {
		v.Add("status", "status_unknown", "未知状态")
	}
	return v.Err()
}

func (s *Service) checkRegion(ctx context.Context, q store.Querier, code string, levels ...string) error {
	var n int
	query, args := `SELECT count(*) FROM regions WHERE code = ?`, []any{code}
	if len(levels) > 0 {
		query += ` AND level IN (?` + strings.Repeat(", ?", len(levels)-1) + `)`
		for _, l := range levels {
			args = append(args, l)
		}
	}
	if err := store.Get(ctx, q, &n, query, args...); err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// CreateUnit registers a unit.
func (s *Service) CreateUnit(ctx context.Context, p auth.Principal, in NewUnit) (Unit, error) {
	u := Unit{ID: uuid.Must(uuid.NewV7()).String(), USCC: strings.ToUpper(strings.TrimSpace(in.USCC)), Name: in.Name,
		Roles: slices.Clone(in.Roles), RegionCode: in.RegionCode, ParkCode: in.ParkCode, Address: in.Address,
		Longitude: in.Longitude, Latitude: in.Latitude, ContactName: in.ContactName, ContactPhone: in.ContactPhone,
		IndustryCode: in.IndustryCode, IndustryName: in.IndustryName, Status: "active", Version: 1}
	if !canManage(p, u) {
		return Unit{}, errs.E(errs.Forbidden, "forbidden", "无权登记该县区的单位")
	}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := s.validateUnit(ctx, tx, &u); err != nil {
			return err
		}
		u.CreatedAt, u.UpdatedAt = tx.Now, tx.Now
		_, err := store.Exec(ctx, tx, `INSERT INTO units (id, uscc, name, region_code, park_code, address, longitude, latitude,
			contact_name, contact_phone, industry_code, industry_name, status, created_at, updated_at, version)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
			u.ID, u.USCC, u.Name, u.RegionCode, nullIfEmpty(u.ParkCode), u.Address, u.Longitude, u.Latitude,
			u.ContactName, u.ContactPhone, u.IndustryCode, u.IndustryName, u.Status, u.CreatedAt, u.UpdatedAt)
		if errors.Is(err, store.ErrExists) {
			return errs.Field("uscc", "uscc_taken", "该统一社会信用代码已登记")
		}
		if err != nil {
			return err
		}
		if err := writeRoles(ctx, tx, u.ID, u.Roles); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, p.Actor(), audit.Record{Action: "unit.create", Entity: "unit", EntityID: u.ID,
			UnitID: u.ID, RegionCode: u.RegionCode, Change: u})
		return err
	})
	return u, err
}

func writeRoles(ctx context.Context, tx *store.Tx, unitID string, roles []UnitRole) error {
	if _, err := store.Exec(ctx, tx, `DELETE FROM unit_roles WHERE unit_id = ?`, unitID); err != nil {
		return err
	}
	for _, r := range roles {
		if _, err := store.Exec(ctx, tx, `INSERT INTO unit_roles (unit_id, role) VALUES (?, ?)`, unitID, string(r)); err != nil {
			return err
		}
	}
	return nil
}

// GetUnit returns a unit the principal may see.
func (s *Service) GetUnit(ctx context.Context, p auth.Principal, id string) (Unit, error) {
	return s.getUnit(ctx, s.db.Reader(), p, id)
}

func (s *Service) getUnit(ctx context.Context, q store.Querier, p auth.Principal, id string) (Unit, error) {
	cond, args := unitScope(p)
	var u Unit
	err := store.Get(ctx, q, &u, `SELECT `+unitColumns+` FROM units u WHERE u.id = ? AND `+cond, append([]any{id}, args...)...)
	if errors.Is(err, store.ErrNotFound) {
		return u, errs.E(errs.NotFound, "unit_not_found", "单位不存在或无权查看")
	}
	if err != nil {
		return u, err
	}
	units := []Unit{u}
	if err := loadRoles(ctx, q, units); err != nil {
		return u, err
	}
	return units[0], nil
}

func loadRoles(ctx context.Context, q store.Querier, units []Unit) error {
	if len(units) == 0 {
		return nil
	}
	ids := make([]string, len(units))
	at := make(map[string]int, len(units))
	for i, u := range units {
		ids[i] = u.ID
		at[u.ID] = i
		units[i].Roles = []UnitRole{}
	}
	query, args, err := store.In(`SELECT unit_id, role FROM unit_roles WHERE unit_id IN (?) ORDER BY unit_id, role`, ids)
	if err != nil {
		return err
	}
	var rows []struct {
		UnitID string `db:"unit_id"`
		Role   string `db:"role"`
	}
	if err := store.Select(ctx, q, &rows, query, args...); err != nil {
		return err
	}
	for _, r := range rows {
		i := at[r.UnitID]
		units[i].Roles = append(units[i].Roles, UnitRole(r.Role))
	}
	return nil
}

// ListUnits lists the units the principal may see, filtered and paged by id.
func (s *Service) ListUnits(ctx context.Context, p auth.Principal, f UnitFilter) (Page[Unit], error) {
	cond, args := unitScope(p)
	where := []string{cond}
	if f.USCC != "" {
		where = append(where, "u.uscc = ?")
		args = append(args, strings.ToUpper(f.USCC))
	}
	if f.Role != "" {
		where = append(where, "EXISTS (SELECT 1 FROM unit_roles fr WHERE fr.unit_id = u.id AND fr.role = ?)")
		args = append(args, string(f.Role))
	}
	if f.Region != "" {
		where = append(where, "(u.region_code = ? OR u.park_code = ?)")
		args = append(args, f.Region, f.Region)
	}
	if f.Query != "" {
		where = append(where, "(LOWER(u.name) LIKE ? ESCAPE '\\' OR u.uscc LIKE ? ESCAPE '\\')")
		like := store.Contains(strings.ToLower(f.Query))
		args = append(args, like, strings.ToUpper(like))
	}
	limit, after, err := paging.Args(f.Limit, f.After)
	if err != nil {
		return Page[Unit]{}, err
	}
	if after != "" {
		where = append(where, "u.id > ?")
		args = append(args, after)
	}
	var items []Unit
	if err := store.Select(ctx, s.db.Reader(), &items, `SELECT `+unitColumns+` FROM units u WHERE `+
		strings.Join(where, " AND ")+` ORDER BY u.id LIMIT `+itoa(limit+1), args...); err != nil {
		return Page[Unit]{}, err
	}
	page := paging.Of(items, limit, func(u Unit) string { return u.ID })
	return page, loadRoles(ctx, s.db.Reader(), page.Items)
}

// UpdateUnit changes a unit. Regulated fields need a regulator over the unit;
// the unit's own admin may change its address, coordinates and contact.
func (s *Service) UpdateUnit(ctx context.Context, p auth.Principal, id string, in UnitPatch) (Unit, error) {
	var u Unit
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		before, err := s.getUnit(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if (in.regulated() && !canManage(p, before)) || !canMaintain(p, before) {
			return errs.E(errs.Forbidden, "forbidden", "无权修改该单位的这些信息")
		}
		if before.Version != in.Version {
			return conflict("该单位")
		}
		u = before
		set(&u.Name, in.Name)
		set(&u.RegionCode, in.RegionCode)
		set(&u.ParkCode, in.ParkCode)
		set(&u.Address, in.Address)
		set(&u.ContactName, in.ContactName)
		set(&u.ContactPhone, in.ContactPhone)
		set(&u.IndustryCode, in.IndustryCode)
		set(&u.IndustryName, in.IndustryName)
		set(&u.Status, in.Status)
		if in.Longitude != nil || in.Latitude != nil {
			u.Longitude, u.Latitude = in.Longitude, in.Latitude
		}
		if in.Roles != nil {
			u.Roles = slices.Clone(in.Roles)
		}
		if err := s.validateUnit(ctx, tx, &u); err != nil {
			return err
		}
		if !canManage(p, u) && in.regulated() {
			return errs.Field("region_code", "forbidden_region", "不能把单位移出本人监管的县区")
		}
		u.UpdatedAt, u.Version = tx.Now, before.Version+1
		n, err := store.Exec(ctx, tx, `UPDATE units SET name = ?, region_code = ?, park_code = ?, address = ?, longitude = ?,
			latitude = ?, contact_name = ?, contact_phone = ?, industry_code = ?, industry_name = ?, status = ?,
			updated_at = ?, version = ? WHERE id = ? AND version = ?`,
			u.Name, u.RegionCode, nullIfEmpty(u.ParkCode), u.Address, u.Longitude, u.Latitude, u.ContactName,
			u.ContactPhone, u.IndustryCode, u.IndustryName, u.Status, u.UpdatedAt, u.Version, id, before.Version)
		if err != nil {
			return err
		}
		if in.Roles != nil && n == 1 {
			if err := writeRoles(ctx, tx, id, u.Roles); err != nil {
				return err
			}
		}
		return updated(ctx, tx, p, n, "unit", "单位", id, u, before, u)
	})
	return u, err
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func itoa(i int) string { return strconv.Itoa(i) }

// UnitNames returns the names of the given units that the principal may see,
// in one query, for lists that show a unit beside each row.
func (s *Service) UnitNames(ctx context.Context, p auth.Principal, ids []string) (map[string]string, error) {
	names := map[string]string{}
	if len(ids) == 0 {
		return names, nil
	}
	cond, args := unitScope(p)
	query, inArgs, err := store.In(`SELECT u.id, u.name FROM units u WHERE u.id IN (?) AND `+cond, append([]any{ids}, args...)...)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ID   string `db:"id"`
		Name string `db:"name"`
	}
	if err := store.Select(ctx, s.db.Reader(), &rows, query, inArgs...); err != nil {
		return nil, err
	}
	for _, r := range rows {
		names[r.ID] = r.Name
	}
	return names, nil
}
