// Package matching ranks the licensed receivers for a waste (供需匹配): those
// whose licence covers the code by some method, with capacity left this year,
// nearest first and in-province before out-of-province (就近原则).
package matching

import (
	"context"
	"math"
	"slices"
	"strings"
	"time"
	"wufei/internal/calendar"

	"wufei/internal/auth"
	"wufei/internal/catalog"
	"wufei/internal/errs"
	"wufei/internal/hw/manifest"
	"wufei/internal/qty"
	"wufei/internal/store"
)

// Candidate is one receiver, ranked.
type Candidate struct {
	Rank          int      `json:"rank"`
	UnitID        string   `json:"unit_id"`
	Name          string   `json:"name"`
	RegionCode    string   `json:"region_code"`
	LicenceID     string   `json:"licence_id"`
	LicenceNumber string   `json:"licence_number"`
	Methods       []string `json:"methods" doc:"许可证允许的利用/处置方式"`
	CapacityLeftT float64  `json:"capacity_left_t" doc:"本年度剩余经营能力（吨）"`
	Sufficient    bool     `json:"sufficient" doc:"剩余能力是否足够"`
	DistanceKM    *float64 `json:"distance_km,omitempty" doc:"与移出单位的直线距离"`
	InProvince    bool     `json:"in_province"`
}

// Query is what to match.
type Query struct {
	WasteCode string
	QuantityT float64
	UnitID    string // the consignor; the caller's own unit when empty
}

// Service ranks receivers.
type Service struct{ db *store.DB }

// NewService returns a Service on db.
func NewService(db *store.DB) *Service { return &Service{db: db} }

// Match returns the receivers for q, best first.
func (s *Service) Match(ctx context.Context, p auth.Principal, q Query) ([]Candidate, error) {
	if err := catalog.ValidCode(q.WasteCode); err != nil {
		return nil, err
	}
	need, err := qty.Grams("quantity_t", q.QuantityT)
	if err != nil {
		return nil, err
	}
	from := q.UnitID
	switch {
	case from == "" && p.Role.BoundToUnit():
		from = p.UnitID
	case from == "":
		return nil, errs.Field("unit_id", "required", "请指定移出单位")
	case p.Role.BoundToUnit() && from != p.UnitID:
		return nil, errs.E(errs.Forbidden, "forbidden", "只能为本单位匹配接受单位")
	case !p.Role.BoundToUnit() && p.Role != auth.Admin && p.Role != auth.Regulator:
		return nil, errs.E(errs.Forbidden, "forbidden", "无权查询")
	}
	r := s.db.Reader()
	var origin struct {
		Longitude *float64 `db:"longitude"`
		Latitude  *float64 `db:"latitude"`
	}
	if err := store.Get(ctx, r, &origin, `SELECT longitude, latitude FROM units WHERE id = ?`, from); err != nil {
		if err == store.ErrNotFound {
			return nil, errs.Field("unit_id", "unit_unknown", "移出单位不存在")
		}
		return nil, err
	}
	now := time.Now().UTC()
	var rows []struct {
		LicenceID string   `db:"id"`
		Number    string   `db:"number"`
		UnitID    string   `db:"unit_id"`
		CapacityG int64    `db:"capacity_g"`
		Method    string   `db:"method"`
		Name      string   `db:"name"`
		Region    string   `db:"region_code"`
		Longitude *float64 `db:"longitude"`
		Latitude  *float64 `db:"latitude"`
	}
	if err := store.Select(ctx, r, &rows, `SELECT l.id, l.number, l.unit_id, l.capacity_g, ls.method, u.name, u.region_code,
		u.longitude, u.latitude FROM licences l JOIN licence_scopes ls ON ls.licence_id = l.id JOIN units u ON u.id = l.unit_id
		WHERE l.status = 'valid' AND l.valid_from <= ? AND l.valid_to >= ? AND u.status = 'active' AND u.id <> ?
		AND ls.category = ? AND (ls.waste_code = '' OR ls.waste_code = ?) ORDER BY l.unit_id, l.valid_to DESC, ls.method`,
		now, now, from, catalog.CategoryOf(q.WasteCode), q.WasteCode); err != nil {
		return nil, err
	}
	// One candidate per receiver: its longest-valid covering licence, with
	// every method its licences allow for the code.
	byUnit := map[string]*Candidate{}
	var out []*Candidate
	year := now.In(calendar.Zone).Year()
	for _, row := range rows {
		c, ok := byUnit[row.UnitID]
		if !ok {
			used, err := manifest.UsedG(ctx, r, row.UnitID, year)
			if err != nil {
				return nil, err
			}
			left := max(row.CapacityG-used, 0)
			c = &Candidate{UnitID: row.UnitID, Name: row.Name, RegionCode: row.Region, LicenceID: row.LicenceID,
				LicenceNumber: row.Number, Methods: []string{}, CapacityLeftT: qty.Tonnes(left), Sufficient: left >= need,
				InProvince: strings.HasPrefix(row.Region, "34")}
			if origin.Longitude != nil && row.Longitude != nil {
				d := math.Round(haversine(*origin.Latitude, *origin.Longitude, *row.Latitude, *row.Longitude)*10) / 10
				c.DistanceKM = &d
			}
			byUnit[row.UnitID] = c
			out = append(out, c)
		}
		if row.Method != "" && !slices.Contains(c.Methods, row.Method) {
			c.Methods = append(c.Methods, row.Method)
		}
	}
	slices.SortStableFunc(out, func(a, b *Candidate) int {
		switch {
		case a.InProvince != b.InProvince:
			return boolOrder(a.InProvince)
		case a.Sufficient != b.Sufficient:
			return boolOrder(a.Sufficient)
		case dist(a) != dist(b):
			return cmpFloat(dist(a), dist(b))
		}
		return cmpFloat(b.CapacityLeftT, a.CapacityLeftT)
	})
	res := make([]Candidate, len(out))
	for i, c := range out {
		c.Rank = i + 1
		res[i] = *c
	}
	return res, nil
}

func boolOrder(first bool) int {
	if first {
		return -1
	}
	return 1
}

func dist(c *Candidate) float64 {
	if c.DistanceKM == nil {
		return math.Inf(1)
	}
	return *c.DistanceKM
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// haversine is the great-circle distance in kilometres.
func haversine(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371.0
	rad := math.Pi / 180
	dlat, dlon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * r * math.Asin(math.Sqrt(a))
}
