package dashboard

import (
	"context"
	"strings"
	"time"

	"wufei/internal/auth"
	"wufei/internal/calendar"
	"wufei/internal/store"
)

// Place is a unit with its coordinates, roles and facilities.
type Place struct {
	ID         string   `db:"id" json:"id"`
	Name       string   `db:"name" json:"name"`
	Region     string   `db:"region_code" json:"region"`
	Longitude  float64  `db:"longitude" json:"longitude"`
	Latitude   float64  `db:"latitude" json:"latitude"`
	RoleList   string   `db:"roles" json:"-"`
	Roles      []string `db:"-" json:"roles"`
	Facilities int      `db:"facilities" json:"facilities"`
	URL        string   `db:"-" json:"url"`
}

// Places are the units and facilities the viewer sees, placed by their
// coordinates.
type Places struct {
	Filter Filter  `json:"filter"`
	Places []Place `json:"places"`
}

// Places answers the map: active units with coordinates in the viewer's
// scope and the filter's region.
func (s *Service) Places(ctx context.Context, p auth.Principal, f Filter) (Places, error) {
	q, err := s.resolve(ctx, p, f)
	if err != nil {
		return Places{}, err
	}
	scope, args := unitScope(p)
	region, rargs := q.unitRegion()
	out := Places{Filter: q.Filter, Places: []Place{}}
	if err := store.Select(ctx, s.db.Reader(), &out.Places, `SELECT u.id, u.name, u.region_code, u.longitude, u.latitude,
		COALESCE((SELECT `+store.StringAgg(s.db.Reader(), "ur.role")+` FROM unit_roles ur WHERE ur.unit_id = u.id), '') AS roles,
		(SELECT COUNT(*) FROM facilities f WHERE f.unit_id = u.id AND f.status = 'active') AS facilities
		FROM units u WHERE u.status = 'active' AND u.longitude IS NOT NULL AND u.latitude IS NOT NULL AND `+scope+` AND `+region+`
		ORDER BY u.id`, append(args, rargs...)...); err != nil {
		return Places{}, err
	}
	for i := range out.Places {
		pl := &out.Places[i]
		pl.Roles = []string{}
		if pl.RoleList != "" {
			pl.Roles = strings.Split(pl.RoleList, ",")
		}
		pl.URL = "/units/" + pl.ID
	}
	return out, nil
}

// Table lists the places.
func (pl Places) Table() Table {
	t := Table{Columns: []string{"dash.col.unit", "dash.col.roles", "dash.col.longitude", "dash.col.latitude",
		"dash.col.facilities"}, Rows: []Row{}}
	for _, x := range pl.Places {
		roles := make([]Label, len(x.Roles))
		for i, r := range x.Roles {
			roles[i] = Label("unit_role." + r)
		}
		t.Rows = append(t.Rows, Row{Cells: []any{x.Name, roles, x.Longitude, x.Latitude, x.Facilities}, URL: x.URL})
	}
	return t
}

// unitRegion limits units (alias u) to the filter's region.
func (q query) unitRegion() (string, []any) {
	switch {
	case q.city():
		return "1 = 1", nil
	case q.area.Level == "park":
		return "u.park_code = ?", []any{q.area.Code}
	}
	return inList("u.region_code", q.area.Codes)
}

// Capacity is one receiver's licensed yearly capacity and what its
// licences have taken this year.
type Capacity struct {
	UnitID    string  `db:"id" json:"unit_id"`
	Name      string  `db:"name" json:"name"`
	CapacityG int64   `db:"capacity_g" json:"-"`
	UsedG     int64   `db:"used_g" json:"-"`
	CapacityT float64 `db:"-" json:"capacity_t"`
	UsedT     float64 `db:"-" json:"used_t"`
	Share     float64 `db:"-" json:"share" doc:"已用比例（0–1）"`
	URL       string  `db:"-" json:"url"`
}

// Capacities are the receivers' licensed capacity against use.
type Capacities struct {
	Filter    Filter     `json:"filter"`
	Year      int        `json:"year"`
	Receivers []Capacity `json:"receivers"`
}

// Capacity answers licensed capacity against use for the period's year:
// every receiver with a valid licence in the viewer's scope, its licences'
// yearly capacity summed, and what manifests have taken of it
// (receiver_usage: declared while on the way, accepted once received).
func (s *Service) Capacity(ctx context.Context, p auth.Principal, f Filter, now time.Time) (Capacities, error) {
	q, err := s.resolve(ctx, p, f)
	if err != nil {
		return Capacities{}, err
	}
	scope, args := unitScope(p)
	region, rargs := q.unitRegion()
	year := q.period.Year
	day := now.UTC()
	if y := now.In(calendar.Zone).Year(); y != year { // a past year: the licences of its last day
		day = q.period.To.Add(-time.Microsecond)
	}
	out := Capacities{Filter: q.Filter, Year: year, Receivers: []Capacity{}}
	if err := store.Select(ctx, s.db.Reader(), &out.Receivers, `SELECT u.id, u.name, SUM(l.capacity_g) AS capacity_g,
		COALESCE((SELECT ru.used_g FROM receiver_usage ru WHERE ru.receiver_unit_id = u.id AND ru.year = ?), 0) AS used_g
		FROM units u JOIN licences l ON l.unit_id = u.id
		WHERE l.status = 'valid' AND l.valid_from <= ? AND l.valid_to > ? AND l.capacity_g > 0 AND `+scope+` AND `+region+`
		GROUP BY u.id, u.name ORDER BY u.name, u.id`, append(append([]any{year, day, day}, args...), rargs...)...); err != nil {
		return Capacities{}, err
	}
	for i := range out.Receivers {
		c := &out.Receivers[i]
		c.CapacityT, c.UsedT, c.URL = tonnes(c.CapacityG), tonnes(c.UsedG), "/units/"+c.UnitID
		if c.CapacityG > 0 {
			c.Share = round6(float64(c.UsedG) / float64(c.CapacityG))
		}
	}
	return out, nil
}

// Table lists the receivers.
func (c Capacities) Table() Table {
	t := Table{Columns: []string{"dash.col.receiver", "dash.col.capacity_t", "dash.col.used_t", "dash.col.share"}, Rows: []Row{}}
	for _, x := range c.Receivers {
		t.Rows = append(t.Rows, Row{Cells: []any{x.Name, x.CapacityT, x.UsedT, x.Share}, URL: x.URL})
	}
	return t
}
