package indicator

import (
	"math"
	"sort"
)

// point is one yearly value of an indicator.
type point struct {
	Year  int
	Value float64
}

// series builds the points a status is judged on: the yearly values up to
// year, with the baseline first unless a value exists for its year.
func series(in Indicator, values map[int]float64, year int) []point {
	var ps []point
	for y, v := range values {
		if y <= year {
			ps = append(ps, point{y, v})
		}
	}
	if in.Baseline != nil && in.BaselineYear != nil && *in.BaselineYear <= year {
		if _, ok := values[*in.BaselineYear]; !ok {
			ps = append(ps, point{*in.BaselineYear, *in.Baseline})
		}
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Year < ps[j].Year })
	return ps
}

// assess returns the status and the value projected to the target year
// (see the package documentation for the rule). target is the target that
// applies to the region, nil when none does.
func assess(in Indicator, target *float64, ps []point) (string, *float64) {
	if len(ps) == 0 {
		return statusNoData, nil
	}
	var projected *float64
	if in.TargetYear != nil {
		p := clampTo(in.Unit, project(ps, *in.TargetYear))
		p = math.Round(p*1e6) / 1e6
		projected = &p
	}
	if target == nil {
		return statusNoData, projected
	}
	t := *target
	meets := func(v float64) bool {
		const eps = 1e-9
		if in.Direction == Lower {
			return v <= t+eps
		}
		return v >= t-eps
	}
	switch {
	case meets(ps[len(ps)-1].Value):
		return statusAchieved, projected
	case projected == nil:
		return statusOffTrack, projected
	case meets(*projected):
		return statusOnTrack, projected
	}
	scale := math.Abs(t)
	if t == 0 {
		scale = math.Abs(ps[0].Value)
	}
	if math.Abs(*projected-t) <= AtRiskMargin*scale {
		return statusAtRisk, projected
	}
	return statusOffTrack, projected
}

// project fits a straight line to the points by least squares and reads it
// at year; a single point, or points all in one year, stay flat.
func project(ps []point, year int) float64 {
	n := float64(len(ps))
	var sx, sy float64
	for _, p := range ps {
		sx += float64(p.Year)
		sy += p.Value
	}
	mx, my := sx/n, sy/n
	var sxy, sxx float64
	for _, p := range ps {
		dx := float64(p.Year) - mx
		sxy += dx * (p.Value - my)
		sxx += dx * dx
	}
	if sxx == 0 {
		return ps[len(ps)-1].Value
	}
	b := sxy / sxx
	return my + b*(float64(year)-mx)
}

// clampTo keeps a projection inside the unit's range.
func clampTo(unit string, v float64) float64 {
	switch unit {
	case "%":
		return min(max(v, 0), 100)
	case "是/否":
		return min(max(v, 0), 1)
	}
	return max(v, 0)
}

// ratioUnits are the units of indicators that compare across regions of any
// size; a count or amount target (50 cells, 6 factories) is the city's.
var ratioUnits = map[string]bool{"%": true, "t/万元": true, "kg/人·d": true, "是/否": true}

// targetFor is the target that applies to an area: the city's for every
// indicator, and for a county or park the target of a ratio, or a target of
// zero ("零填埋").
func targetFor(in Indicator, a Area) *float64 {
	if in.Target == nil || a.city() || ratioUnits[in.Unit] || *in.Target == 0 {
		return in.Target
	}
	return nil
}
