package dashboard

import (
	"context"
	"sort"

	"wufei/internal/auth"
	"wufei/internal/store"
)

// Node is a place in the Sankey: a generating county or a receiving unit.
type Node struct {
	Name string `json:"name"`
	Kind string `json:"kind" enum:"region,receiver"`
	URL  string `json:"url"`
}

// Link is the tonnes that moved from a county to a receiver.
type Link struct {
	Source string  `json:"source" doc:"节点名称"`
	Target string  `json:"target" doc:"节点名称"`
	T      float64 `json:"value" doc:"吨"`
	URL    string  `json:"url"`
}

// Sankey is the flows from generating regions to receiving units.
type Sankey struct {
	Filter Filter `json:"filter"`
	Nodes  []Node `json:"nodes"`
	Links  []Link `json:"links"`
}

// Sankey answers the flows of the period's manifests (submitted in it, not
// cancelled or refused as a whole) from the consignor's county to the
// receiver: the accepted quantity once received, else the declared.
func (s *Service) Sankey(ctx context.Context, p auth.Principal, f Filter) (Sankey, error) {
	q, err := s.resolve(ctx, p, f)
	if err != nil {
		return Sankey{}, err
	}
	rows, err := s.sankeyRows(ctx, p, q)
	if err != nil {
		return Sankey{}, err
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Region != rows[j].Region {
			return rows[i].Region < rows[j].Region
		}
		return rows[i].Receiver < rows[j].Receiver
	})
	out := Sankey{Filter: q.Filter, Nodes: []Node{}, Links: []Link{}}
	seen := map[string]bool{}
	year := itoa(q.period.Year)
	for _, r := range rows {
		if r.G <= 0 {
			continue
		}
		// A county and a unit never share a name; the prefix keeps it so.
		from, to := r.RegionName, r.Name
		if !seen["r"+from] {
			seen["r"+from] = true
			out.Nodes = append(out.Nodes, Node{Name: from, Kind: "region",
				URL: link("/indicators", "region", r.Region, "year", year)})
		}
		if !seen["u"+to] {
			seen["u"+to] = true
			out.Nodes = append(out.Nodes, Node{Name: to, Kind: "receiver", URL: "/units/" + r.Receiver})
		}
		out.Links = append(out.Links, Link{Source: from, Target: to, T: tonnes(r.G),
			URL: "/manifests"})
	}
	return out, nil
}

// Table lists the links.
func (s Sankey) Table() Table {
	t := Table{Columns: []string{"dash.col.from_region", "dash.col.receiver", "dash.col.tonnes"}, Rows: []Row{}}
	for _, l := range s.Links {
		t.Rows = append(t.Rows, Row{Cells: []any{l.Source, l.Target, l.T}, URL: l.URL})
	}
	return t
}

// sankeyRow is the tonnes from one county to one receiver.
type sankeyRow struct {
	Region     string `db:"region_code"`
	RegionName string `db:"region_name"`
	Receiver   string `db:"receiver_unit_id"`
	Name       string `db:"receiver_name"`
	G          int64  `db:"g"`
}

// sankeyRows reads the links from the monthly totals (kind submitted) where
// they can answer for the viewer, else from the manifests.
func (s *Service) sankeyRows(ctx context.Context, p auth.Principal, q query) ([]sankeyRow, error) {
	sc, err := s.summedScope(ctx, p, q)
	if err != nil {
		return nil, err
	}
	var rows []sankeyRow
	if sc != nil {
		months := q.monthLabels()
		region, rargs := q.totalsRegion()
		args := append(append([]any{months[0], months[len(months)-1]}, sc.manifestsArgs...), rargs...)
		cat := ""
		if q.Category != "" {
			cat, args = " AND v.category = ?", append(args, q.Category)
		}
		err := store.Select(ctx, s.db.Reader(), &rows, `SELECT v.region_code, COALESCE(r.name, v.region_code) AS region_name,
			v.unit_id AS receiver_unit_id, ru.name AS receiver_name, SUM(v.g) AS g
			FROM hw_volumes v JOIN units ru ON ru.id = v.unit_id LEFT JOIN regions r ON r.code = v.region_code
			WHERE v.kind = 'submitted' AND v.month >= ? AND v.month <= ? AND `+sc.manifests+` AND `+region+cat+`
			GROUP BY v.region_code, r.name, v.unit_id, ru.name`, args...)
		return rows, err
	}
	scope, args := countedManifestScope(p)
	region, rargs := q.regionCond("m.region_code", "m.consignor_unit_id")
	args = append(append([]any{q.period.From, q.period.To}, args...), rargs...)
	cat := ""
	if q.Category != "" {
		cat, args = " AND l.category = ?", append(args, q.Category)
	}
	err = store.Select(ctx, s.db.Reader(), &rows, `SELECT m.region_code, COALESCE(r.name, m.region_code) AS region_name,
		m.receiver_unit_id, ru.name AS receiver_name,
		SUM(CASE WHEN m.status IN ('received', 'completed') THEN COALESCE(l.accepted_g, 0) ELSE l.quantity_g END) AS g
		FROM manifests m JOIN manifest_lines l ON l.manifest_id = m.id JOIN units ru ON ru.id = m.receiver_unit_id
		LEFT JOIN regions r ON r.code = m.region_code
		WHERE m.status IN ('submitted', 'in_transit', 'received', 'completed') AND m.submitted_at >= ? AND m.submitted_at < ?
		AND `+scope+` AND `+region+cat+`
		GROUP BY m.region_code, r.name, m.receiver_unit_id, ru.name`, args...)
	return rows, err
}
