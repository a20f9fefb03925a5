package dashboard

import (
	"context"
	"time"

	"wufei/internal/auth"
	"wufei/internal/store"
)

// OverdueManifest is a manifest in transit past its receipt deadline.
type OverdueManifest struct {
	ID           string    `db:"id" json:"id"`
	Number       string    `db:"number" json:"number"`
	Consignor    string    `db:"consignor_name" json:"consignor"`
	Receiver     string    `db:"receiver_name" json:"receiver"`
	ReceiptDueAt time.Time `db:"receipt_due_at" json:"receipt_due_at"`
	URL          string    `db:"-" json:"url"`
}

// Transit is what is on the road now.
type Transit struct {
	Filter    Filter            `json:"filter"`
	Submitted int               `json:"submitted" doc:"已提交、待起运"`
	InTransit int               `json:"in_transit" doc:"运输中"`
	Overdue   int               `json:"overdue" doc:"运输中且已过接收期限"`
	URLs      map[string]string `json:"urls"`
	Late      []OverdueManifest `json:"late" doc:"逾期联单（最早到期的 20 张）"`
}

// Transit answers the manifests waiting for pickup, in transit and overdue
// now; the period does not apply.
func (s *Service) Transit(ctx context.Context, p auth.Principal, f Filter, now time.Time) (Transit, error) {
	q, err := s.resolve(ctx, p, f)
	if err != nil {
		return Transit{}, err
	}
	scope, sargs := manifestScope(p)
	region, rargs := q.regionCond("m.region_code", "m.consignor_unit_id")
	cat, cargs := "", []any(nil)
	if q.Category != "" {
		cat, cargs = " AND EXISTS (SELECT 1 FROM manifest_lines l WHERE l.manifest_id = m.id AND l.category = ?)", []any{q.Category}
	}
	where := scope + " AND " + region + cat
	args := append(append(sargs, rargs...), cargs...)
	var c struct {
		Submitted int `db:"submitted"`
		InTransit int `db:"in_transit"`
		Overdue   int `db:"overdue"`
	}
	if err := store.Get(ctx, s.db.Reader(), &c, `SELECT
		COALESCE(SUM(CASE WHEN m.status = 'submitted' THEN 1 ELSE 0 END), 0) AS submitted,
		COALESCE(SUM(CASE WHEN m.status = 'in_transit' THEN 1 ELSE 0 END), 0) AS in_transit,
		COALESCE(SUM(CASE WHEN m.status = 'in_transit' AND m.receipt_due_at < ? THEN 1 ELSE 0 END), 0) AS overdue
		FROM manifests m WHERE m.status IN ('submitted', 'in_transit') AND `+where, append([]any{now.UTC()}, args...)...); err != nil {
		return Transit{}, err
	}
	out := Transit{Filter: q.Filter, Submitted: c.Submitted, InTransit: c.InTransit, Overdue: c.Overdue, Late: []OverdueManifest{},
		URLs: map[string]string{"submitted": link("/manifests", "status", "submitted"),
			"in_transit": link("/manifests", "status", "in_transit"),
			"overdue":    link("/alerts", "kind", "receipt_overdue", "status", "open")}}
	if err := store.Select(ctx, s.db.Reader(), &out.Late, `SELECT m.id, m.number, cu.name AS consignor_name,
		ru.name AS receiver_name, m.receipt_due_at FROM manifests m JOIN units cu ON cu.id = m.consignor_unit_id
		JOIN units ru ON ru.id = m.receiver_unit_id
		WHERE m.status = 'in_transit' AND m.receipt_due_at < ? AND `+where+` ORDER BY m.receipt_due_at, m.id LIMIT 20`,
		append([]any{now.UTC()}, args...)...); err != nil {
		return Transit{}, err
	}
	for i := range out.Late {
		out.Late[i].URL = "/manifests/" + out.Late[i].ID
	}
	return out, nil
}

// Table lists the counts and the overdue manifests.
func (t Transit) Table() Table {
	out := Table{Columns: []string{"dash.col.item", "dash.col.count"}, Rows: []Row{
		{Cells: []any{Label("dash.transit.submitted"), t.Submitted}, URL: t.URLs["submitted"]},
		{Cells: []any{Label("dash.transit.in_transit"), t.InTransit}, URL: t.URLs["in_transit"]},
		{Cells: []any{Label("dash.transit.overdue"), t.Overdue}, URL: t.URLs["overdue"]},
	}}
	return out
}
