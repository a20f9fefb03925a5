package dashboard

import (
	"context"
	"sort"
	"time"

	"wufei/internal/auth"
	"wufei/internal/calendar"
)

// Flow kinds, in the order of the hazardous-waste chain.
const (
	Generated   = "generated"   // 产生: ledger generation records
	Transferred = "transferred" // 转移: manifest lines picked up
	Utilised    = "utilised"    // 利用: R methods, in house or at the receiver
	Disposed    = "disposed"    // 处置: D methods, in house or at the receiver
)

// FlowKinds lists the flow kinds in order.
var FlowKinds = []string{Generated, Transferred, Utilised, Disposed}

// volume is one group of the two reads behind Flows and Regions.
type volume struct {
	Bucket   int    `db:"b"`
	Category string `db:"category"`
	Region   string `db:"region_code"`
	Kind     string `db:"kind"`
	G        int64  `db:"g"`
}

// Series is one flow kind's tonnes by month.
type Series struct {
	Kind   string    `json:"kind" enum:"generated,transferred,utilised,disposed"`
	Values []float64 `json:"values" doc:"每月吨数，与 months 对应"`
	URL    string    `json:"url" doc:"背后的记录"`
}

// CategoryFlow is one category's tonnes of each flow kind in the period.
type CategoryFlow struct {
	Category     string  `json:"category"`
	GeneratedT   float64 `json:"generated_t"`
	TransferredT float64 `json:"transferred_t"`
	UtilisedT    float64 `json:"utilised_t"`
	DisposedT    float64 `json:"disposed_t"`
	URL          string  `json:"url"`
}

// Flows is hazardous waste generated, transferred, utilised and disposed by
// month and category.
type Flows struct {
	Filter     Filter         `json:"filter"`
	Months     []string       `json:"months"`
	Series     []Series       `json:"series"`
	Categories []CategoryFlow `json:"categories"`
}

// flowURL is where the records behind a flow kind are listed.
func flowURL(kind string, q query) string {
	switch kind {
	case Transferred:
		return "/manifests"
	case Utilised, Disposed:
		return link("/manifests", "status", "completed")
	}
	return q.ledgerURL("generation")
}

// ledgerURL lists the period's ledger records of a kind.
func (q query) ledgerURL(kind string) string {
	from, to := q.period.From.In(calendar.Zone), q.period.To.In(calendar.Zone).AddDate(0, 0, -1)
	return link("/api/v1/ledger", "kind", kind, "from", from.Format(time.DateOnly), "to", to.Format(time.DateOnly))
}

// Flows answers the monthly chart.
func (s *Service) Flows(ctx context.Context, p auth.Principal, f Filter) (Flows, error) {
	q, err := s.resolve(ctx, p, f)
	if err != nil {
		return Flows{}, err
	}
	vs, err := s.volumes(ctx, p, q)
	if err != nil {
		return Flows{}, err
	}
	out := Flows{Filter: q.Filter, Months: q.monthLabels(), Categories: []CategoryFlow{}}
	grams := map[string][]int64{}
	for _, k := range FlowKinds {
		grams[k] = make([]int64, len(out.Months))
	}
	cats := map[string]*[4]int64{}
	for _, v := range vs {
		if v.Bucket < 0 || v.Bucket >= len(out.Months) {
			continue
		}
		grams[v.Kind][v.Bucket] += v.G
		c := cats[v.Category]
		if c == nil {
			c = new([4]int64)
			cats[v.Category] = c
		}
		for i, k := range FlowKinds {
			if k == v.Kind {
				c[i] += v.G
			}
		}
	}
	for _, k := range FlowKinds {
		s := Series{Kind: k, Values: make([]float64, len(out.Months)), URL: flowURL(k, q)}
		for i, g := range grams[k] {
			s.Values[i] = tonnes(g)
		}
		out.Series = append(out.Series, s)
	}
	for code, c := range cats {
		out.Categories = append(out.Categories, CategoryFlow{Category: code, GeneratedT: tonnes(c[0]),
			TransferredT: tonnes(c[1]), UtilisedT: tonnes(c[2]), DisposedT: tonnes(c[3]),
			URL: q.ledgerURL("generation")})
	}
	sort.Slice(out.Categories, func(i, j int) bool { return out.Categories[i].Category < out.Categories[j].Category })
	return out, nil
}

// Table lists the months with each flow kind's tonnes.
func (f Flows) Table() Table {
	t := Table{Columns: []string{"dash.col.month", "dash.flow.generated", "dash.flow.transferred", "dash.flow.utilised",
		"dash.flow.disposed"}, Rows: []Row{}}
	for i, m := range f.Months {
		r := Row{Cells: []any{m}}
		for _, s := range f.Series {
			r.Cells = append(r.Cells, s.Values[i])
		}
		t.Rows = append(t.Rows, r)
	}
	return t
}

// CategoryTable lists the categories with each flow kind's tonnes.
func (f Flows) CategoryTable() Table {
	t := Table{Columns: []string{"dash.col.category", "dash.flow.generated", "dash.flow.transferred", "dash.flow.utilised",
		"dash.flow.disposed"}, Rows: []Row{}}
	for _, c := range f.Categories {
		t.Rows = append(t.Rows, Row{Cells: []any{c.Category, c.GeneratedT, c.TransferredT, c.UtilisedT, c.DisposedT}, URL: c.URL})
	}
	return t
}
