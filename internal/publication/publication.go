// Package publication is what the platform discloses to the public (信息公开)
// without a log-in: the licensed facilities with their scope and capacity,
// the certified zero-waste cells, and the city's annual solid-waste
// publication (固体废物污染环境防治信息公开), which Anhui requires by 30 June
// for the year before. Everything here is read from the records; nothing
// names a unit's ledger batches, manifests or containers, and nothing is
// scoped to a viewer because all of it is public by definition.
package publication

import (
	"context"
	"strings"
	"time"

	"wufei/internal/calendar"
	"wufei/internal/qty"
	"wufei/internal/store"
)

// CityPrefix begins the region codes of the city the publication is made
// for (淮北市, 340600) and of its parks; units registered elsewhere (a
// receiver in another province) are not the city's facilities.
const CityPrefix = "3406"

// Scope is one line of what a licence covers.
type Scope struct {
	LicenceID string `db:"licence_id"`
	Category  string `db:"category"`
	WasteCode string `db:"waste_code"`
	Method    string `db:"method"`
}

// Licence is a licence in force, as disclosed: number, issuer, kinds,
// validity, yearly capacity and scope.
type Licence struct {
	ID        string    `db:"id"`
	UnitID    string    `db:"unit_id"`
	Number    string    `db:"number"`
	Issuer    string    `db:"issuer"`
	KindsText string    `db:"kinds"`
	CapacityG int64     `db:"capacity_g"`
	ValidFrom time.Time `db:"valid_from"`
	ValidTo   time.Time `db:"valid_to"`
	Kinds     []string  `db:"-"`
	CapacityT float64   `db:"-"`
	Scopes    []Scope   `db:"-"`
}

// Facility is a licensed collection, utilisation or disposal unit with its
// licences in force. Contact names and telephone numbers are left out.
type Facility struct {
	UnitID     string    `db:"id"`
	Name       string    `db:"name"`
	RegionCode string    `db:"region_code"`
	ParkCode   string    `db:"park_code"`
	Address    string    `db:"address"`
	Licences   []Licence `db:"-"`
	CapacityT  float64   `db:"-"` // the licences' yearly capacity together
}

// FacilityFilter narrows the facilities; empty fields do not.
type FacilityFilter struct {
	Region   string    // a county or park code
	Category string    // HWxx: a licence covering it
	On       time.Time // the day the licences must be in force; zero is today
}

// licenceInForce is the condition on licences l (and units u) for a day.
const licenceInForce = `l.status = 'valid' AND l.valid_from <= ? AND l.valid_to >= ? AND u.status = 'active' AND
	u.region_code LIKE '` + CityPrefix + `%'`

// Facilities lists the units holding a licence in force, by name, with
// those licences and their scope.
func Facilities(ctx context.Context, q store.Querier, f FacilityFilter) ([]Facility, error) {
	on := f.On
	if on.IsZero() {
		on = store.Now()
	}
	where, args := licenceInForce, []any{on, on}
	if f.Region != "" {
		where += ` AND (u.region_code = ? OR u.park_code = ?)`
		args = append(args, f.Region, f.Region)
	}
	if f.Category != "" {
		where += ` AND EXISTS (SELECT 1 FROM licence_scopes ls WHERE ls.licence_id = l.id AND ls.category = ?)`
		args = append(args, f.Category)
	}
	var ls []Licence
	if err := store.Select(ctx, q, &ls, `SELECT l.id, l.unit_id, l.number, l.issuer, l.kinds, l.capacity_g, l.valid_from,
		l.valid_to FROM licences l JOIN units u ON u.id = l.unit_id WHERE `+where+` ORDER BY l.unit_id, l.number`,
		args...); err != nil {
		return nil, err
	}
	if len(ls) == 0 {
		return []Facility{}, nil
	}
	if err := loadScopes(ctx, q, ls); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(ls))
	for _, l := range ls {
		if len(ids) == 0 || ids[len(ids)-1] != l.UnitID {
			ids = append(ids, l.UnitID)
		}
	}
	query, uargs, err := store.In(`SELECT id, name, region_code, COALESCE(park_code, '') AS park_code, address FROM units
		WHERE id IN (?) ORDER BY name, id`, ids)
	if err != nil {
		return nil, err
	}
	var out []Facility
	if err := store.Select(ctx, q, &out, query, uargs...); err != nil {
		return nil, err
	}
	at := make(map[string]int, len(out))
	for i := range out {
		at[out[i].UnitID] = i
	}
	for _, l := range ls {
		fa := &out[at[l.UnitID]]
		fa.Licences = append(fa.Licences, l)
		fa.CapacityT += l.CapacityT
	}
	return out, nil
}

func loadScopes(ctx context.Context, q store.Querier, ls []Licence) error {
	ids := make([]string, len(ls))
	at := make(map[string]int, len(ls))
	for i := range ls {
		ids[i], at[ls[i].ID] = ls[i].ID, i
		ls[i].CapacityT = qty.Tonnes(ls[i].CapacityG)
		ls[i].Kinds = strings.Split(ls[i].KindsText, ",")
	}
	query, args, err := store.In(`SELECT licence_id, category, waste_code, method FROM licence_scopes
		WHERE licence_id IN (?) ORDER BY licence_id, category, waste_code, method`, ids)
	if err != nil {
		return err
	}
	var ss []Scope
	if err := store.Select(ctx, q, &ss, query, args...); err != nil {
		return err
	}
	for _, s := range ss {
		l := &ls[at[s.LicenceID]]
		l.Scopes = append(l.Scopes, s)
	}
	return nil
}

// Cell is a certified zero-waste cell as disclosed.
type Cell struct {
	ID          string    `db:"id"`
	Type        string    `db:"type"`
	TypeName    string    `db:"type_name"`
	Name        string    `db:"name"`
	UnitName    string    `db:"unit_name"`
	RegionCode  string    `db:"region_code"`
	ParkCode    string    `db:"park_code"`
	Address     string    `db:"address"`
	CertifiedAt time.Time `db:"certified_at"`
}

// CellFilter narrows the certified cells; empty fields do not.
type CellFilter struct {
	Type   string
	Region string // a county or park code
}

// Cells lists the cells certified and not withdrawn, by type in the
// checklist's order, then by certificate date. Applications, scores and
// reasons are not public.
func Cells(ctx context.Context, q store.Querier, f CellFilter) ([]Cell, error) {
	where, args := `c.status = 'certified'`, []any{}
	if f.Type != "" {
		where += ` AND c.type = ?`
		args = append(args, f.Type)
	}
	if f.Region != "" {
		where += ` AND (c.region_code = ? OR c.park_code = ?)`
		args = append(args, f.Region, f.Region)
	}
	out := []Cell{}
	err := store.Select(ctx, q, &out, `SELECT c.id, c.type, ct.name AS type_name, c.name, u.name AS unit_name, c.region_code,
		COALESCE(c.park_code, '') AS park_code, c.address, c.certified_at FROM cells c
		JOIN cell_types ct ON ct.code = c.type JOIN units u ON u.id = c.unit_id
		WHERE `+where+` ORDER BY ct.position, c.type, c.certified_at, c.id`, args...)
	return out, err
}

// CellType is a type of zero-waste cell, for the filter.
type CellType struct {
	Code string `db:"code"`
	Name string `db:"name"`
}

// CellTypes lists the types in the checklist's order.
func CellTypes(ctx context.Context, q store.Querier) ([]CellType, error) {
	var out []CellType
	err := store.Select(ctx, q, &out, `SELECT code, name FROM cell_types ORDER BY position, code`)
	return out, err
}

// yearSpan is a calendar year in China time, as UTC instants [from, to).
func yearSpan(year int) (time.Time, time.Time) {
	from := time.Date(year, 1, 1, 0, 0, 0, 0, calendar.Zone)
	return from.UTC(), from.AddDate(1, 0, 0).UTC()
}

// Category is a 名录 category of hazardous waste, for the filter.
type Category struct {
	Code string `db:"code"`
	Name string `db:"name"`
}

// Categories lists the hazardous-waste categories by code.
func Categories(ctx context.Context, q store.Querier) ([]Category, error) {
	var out []Category
	err := store.Select(ctx, q, &out, `SELECT code, name FROM hw_categories ORDER BY code`)
	return out, err
}
