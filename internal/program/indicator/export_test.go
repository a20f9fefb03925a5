package indicator

import (
	"context"

	"wufei/internal/store"
)

// ComputeNow computes one computed indicator for a region and period,
// without its drill-down; with records it sums the records even where the
// monthly totals answer, so that tests can compare the two ways.
func ComputeNow(ctx context.Context, q store.Querier, id, region, period string, records bool) (Computation, error) {
	a, err := LoadArea(ctx, q, "region", region)
	if err != nil {
		return Computation{}, err
	}
	p, err := ParsePeriod("period", period)
	if err != nil {
		return Computation{}, err
	}
	c := newCalc(q)
	c.records = records
	return engine[id].fn(ctx, c, a, p, false)
}
