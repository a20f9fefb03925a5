package dashboard

import (
	"context"

	"wufei/internal/auth"
	"wufei/internal/program/indicator"
)

// Tile is one of the plan's targets with where the region stands.
type Tile struct {
	ID         string   `json:"id"`
	Position   int      `json:"position"`
	Name       string   `json:"name"`
	Unit       string   `json:"unit"`
	Direction  string   `json:"direction" enum:"higher,lower"`
	Value      *float64 `json:"value"`
	Target     *float64 `json:"target"`
	TargetYear *int     `json:"target_year"`
	Status     string   `json:"status" enum:"achieved,on_track,at_risk,off_track,no_data"`
	Projected  *float64 `json:"projected"`
	URL        string   `json:"url"`
}

// Targets are the tiles of the plan's targets for a region and year.
type Targets struct {
	Filter Filter `json:"filter"`
	Year   int    `json:"year"`
	Tiles  []Tile `json:"tiles"`
}

// Targets answers the tiles: every indicator the plan gives a target (the
// 2027 targets of 附件1), with its value for the region and period, its
// status and its projection to the target year.
func (s *Service) Targets(ctx context.Context, p auth.Principal, f Filter) (Targets, error) {
	q, err := s.resolve(ctx, p, f)
	if err != nil {
		return Targets{}, err
	}
	items, err := s.indicators.List(ctx, p, indicator.ListFilter{Region: q.area.Code, Period: q.period.Code})
	if err != nil {
		return Targets{}, err
	}
	out := Targets{Filter: q.Filter, Year: q.period.Year, Tiles: []Tile{}}
	for _, it := range items {
		if it.Source != indicator.SourcePlan || it.Target == nil {
			continue
		}
		out.Tiles = append(out.Tiles, Tile{ID: it.ID, Position: it.Position, Name: it.Name, Unit: it.Unit,
			Direction: string(it.Direction), Value: it.Value, Target: it.Target, TargetYear: it.TargetYear, Status: it.Status,
			Projected: it.Projected, URL: link("/indicators/"+it.ID, "region", q.area.Code, "year", itoa(q.period.Year))})
	}
	return out, nil
}

// Table lists the tiles.
func (t Targets) Table() Table {
	out := Table{Columns: []string{"dash.col.indicator", "dash.col.unit", "dash.col.value", "dash.col.target",
		"dash.col.status", "dash.col.projected"}, Rows: []Row{}}
	for _, x := range t.Tiles {
		out.Rows = append(out.Rows, Row{Cells: []any{x.Name, x.Unit, num(x.Value), num(x.Target),
			Label("indicator_status." + x.Status), num(x.Projected)}, URL: x.URL})
	}
	return out
}

// num is a value for a table: the number, or an empty cell.
func num(v *float64) any {
	if v == nil {
		return ""
	}
	return *v
}
