package dashboard

import (
	"context"

	"wufei/internal/auth"
	"wufei/internal/program/indicator"
	"wufei/internal/store"
)

// RegionFigures are one county's figures in the period.
type RegionFigures struct {
	Code         string  `json:"code"`
	Name         string  `json:"name"`
	GeneratedT   float64 `json:"generated_t"`
	TransferredT float64 `json:"transferred_t"`
	UtilisedT    float64 `json:"utilised_t"`
	DisposedT    float64 `json:"disposed_t"`
	OpenAlerts   int     `json:"open_alerts"`
	URL          string  `json:"url" doc:"该地区的指标进展"`
}

// Regions compares the counties the viewer sees.
type Regions struct {
	Filter  Filter          `json:"filter"`
	Regions []RegionFigures `json:"regions"`
}

// Regions answers the comparison of counties: each county with figures in
// the viewer's scope, in the order of the region codes.
func (s *Service) Regions(ctx context.Context, p auth.Principal, f Filter) (Regions, error) {
	q, err := s.resolve(ctx, p, f)
	if err != nil {
		return Regions{}, err
	}
	vs, err := s.volumes(ctx, p, q)
	if err != nil {
		return Regions{}, err
	}
	areas, err := indicator.Areas(ctx, s.db.Reader())
	if err != nil {
		return Regions{}, err
	}
	// Open alerts by the county they are raised for.
	scope, sargs := alertScope(p)
	region, rargs := q.alertRegion()
	var counts []struct {
		Region string `db:"region_code"`
		N      int    `db:"n"`
	}
	if err := store.Select(ctx, s.db.Reader(), &counts, `SELECT a.region_code, COUNT(*) AS n FROM alerts a
		WHERE a.status <> 'closed' AND `+scope+` AND `+region+` GROUP BY a.region_code`, append(sargs, rargs...)...); err != nil {
		return Regions{}, err
	}
	by := map[string]*RegionFigures{}
	out := Regions{Filter: q.Filter, Regions: []RegionFigures{}}
	county := map[string]string{} // any code in a county → the county
	for _, a := range areas {
		if a.Level != "county" {
			continue
		}
		for _, c := range a.Codes {
			county[c] = a.Code
		}
		by[a.Code] = &RegionFigures{Code: a.Code, Name: a.Name,
			URL: link("/indicators", "region", a.Code, "year", itoa(q.period.Year))}
	}
	seen := map[string]bool{}
	for _, v := range vs {
		r := by[county[v.Region]]
		if r == nil {
			continue // outside the city: a receiver in another province
		}
		seen[r.Code] = true
		switch v.Kind {
		case Generated:
			r.GeneratedT += tonnes(v.G)
		case Transferred:
			r.TransferredT += tonnes(v.G)
		case Utilised:
			r.UtilisedT += tonnes(v.G)
		case Disposed:
			r.DisposedT += tonnes(v.G)
		}
	}
	for _, c := range counts {
		if r := by[county[c.Region]]; r != nil {
			seen[r.Code] = true
			r.OpenAlerts += c.N
		}
	}
	if p.Role == auth.Regulator && by[p.RegionCode] != nil {
		seen[p.RegionCode] = true
	}
	for _, a := range areas {
		if r := by[a.Code]; r != nil && seen[a.Code] {
			r.GeneratedT, r.TransferredT = round6(r.GeneratedT), round6(r.TransferredT)
			r.UtilisedT, r.DisposedT = round6(r.UtilisedT), round6(r.DisposedT)
			out.Regions = append(out.Regions, *r)
		}
	}
	return out, nil
}

// Table lists the counties.
func (r Regions) Table() Table {
	t := Table{Columns: []string{"dash.col.region", "dash.flow.generated", "dash.flow.transferred", "dash.flow.utilised",
		"dash.flow.disposed", "dash.col.open_alerts"}, Rows: []Row{}}
	for _, x := range r.Regions {
		t.Rows = append(t.Rows, Row{Cells: []any{x.Name, x.GeneratedT, x.TransferredT, x.UtilisedT, x.DisposedT, x.OpenAlerts},
			URL: x.URL})
	}
	return t
}

// alertRegion limits alerts (alias a) to the filter's region.
func (q query) alertRegion() (string, []any) {
	if q.city() {
		return "1 = 1", nil
	}
	if q.area.Level == "park" {
		return `EXISTS (SELECT 1 FROM alert_parties fp JOIN units fu ON fu.id = fp.unit_id
			WHERE fp.alert_id = a.id AND fu.park_code = ?)`, []any{q.area.Code}
	}
	return inList("a.region_code", q.area.Codes)
}
