package dashboard

import (
	"context"
	"sort"

	"wufei/internal/auth"
	"wufei/internal/store"
)

// AlertCount is the open alerts of one rule in one county.
type AlertCount struct {
	Kind       string `db:"kind" json:"kind"`
	Region     string `db:"region_code" json:"region"`
	RegionName string `db:"region_name" json:"region_name"`
	N          int    `db:"n" json:"count"`
	URL        string `db:"-" json:"url"`
}

// OpenAlerts are the alerts not yet closed, by rule and county.
type OpenAlerts struct {
	Filter Filter       `json:"filter"`
	Total  int          `json:"total"`
	Counts []AlertCount `json:"counts"`
}

// Alerts answers the open (and acknowledged, not closed) alerts now; the
// period and category do not apply.
func (s *Service) Alerts(ctx context.Context, p auth.Principal, f Filter) (OpenAlerts, error) {
	q, err := s.resolve(ctx, p, f)
	if err != nil {
		return OpenAlerts{}, err
	}
	scope, args := alertScope(p)
	region, rargs := q.alertRegion()
	out := OpenAlerts{Filter: q.Filter, Counts: []AlertCount{}}
	if err := store.Select(ctx, s.db.Reader(), &out.Counts, `SELECT a.kind, a.region_code,
		COALESCE(r.name, a.region_code) AS region_name, COUNT(*) AS n FROM alerts a LEFT JOIN regions r ON r.code = a.region_code
		WHERE a.status <> 'closed' AND `+scope+` AND `+region+` GROUP BY a.kind, a.region_code, r.name`,
		append(args, rargs...)...); err != nil {
		return OpenAlerts{}, err
	}
	sort.Slice(out.Counts, func(i, j int) bool {
		a, b := out.Counts[i], out.Counts[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Region < b.Region
	})
	for i := range out.Counts {
		out.Total += out.Counts[i].N
		out.Counts[i].URL = link("/alerts", "kind", out.Counts[i].Kind, "status", "open")
	}
	return out, nil
}

// Table lists the counts.
func (a OpenAlerts) Table() Table {
	t := Table{Columns: []string{"dash.col.alert_kind", "dash.col.region", "dash.col.count"}, Rows: []Row{}}
	for _, c := range a.Counts {
		t.Rows = append(t.Rows, Row{Cells: []any{Label("alert_kind." + c.Kind), c.RegionName, c.N}, URL: c.URL})
	}
	return t
}
