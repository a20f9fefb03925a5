package indicator

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
	"wufei/internal/calendar"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/store"
)

// Item is an indicator with its value for one region and period, its status
// and projection.
type Item struct {
	Indicator
	Region      string     `json:"region"`
	Period      string     `json:"period"`
	Value       *float64   `json:"value" doc:"该地区该统计期的有效值；无记录或未审核通过时为 null"`
	Numerator   *float64   `json:"numerator"`
	Denominator *float64   `json:"denominator"`
	ValueSource string     `json:"value_source,omitempty" enum:"computed,reported"`
	ComputedAt  *time.Time `json:"computed_at,omitempty"`
	Status      string     `json:"status" enum:"achieved,on_track,at_risk,off_track,no_data"`
	Projected   *float64   `json:"projected" doc:"按年度值线性趋势（最小二乘）外推到目标年的值"`
}

// ListFilter selects the region and period of a list. An empty Region is
// the city; an empty Period is the year Year (this year when 0).
type ListFilter struct {
	Region string
	Year   int
	Period string
}

// planStart is the plan's first year: the yearly values a status is judged
// on are kept current from then.
const planStart = 2024

// storedValue is an indicator_values row.
type storedValue struct {
	IndicatorID string    `db:"indicator_id"`
	Period      string    `db:"period"`
	PeriodKind  string    `db:"period_kind"`
	Year        int       `db:"year"`
	Value       *int64    `db:"value_e6"`
	Numerator   *int64    `db:"numerator_e6"`
	Denominator *int64    `db:"denominator_e6"`
	Source      string    `db:"source"`
	ComputedAt  time.Time `db:"computed_at"`
}

// ValuesQuery is the one read behind a list: the region's yearly values up
// to a year and its values for one period (arguments: region, year,
// period). Benchmarks compare List against it.
const ValuesQuery = `SELECT indicator_id, period, period_kind, year, value_e6, numerator_e6, denominator_e6, source,
	computed_at FROM indicator_values WHERE region_code = ? AND ((period_kind = 'year' AND year <= ?) OR period = ?)`

// List returns every indicator with its value for a region and period, its
// status and projection. Any signed-in user may read it.
func (s *Service) List(ctx context.Context, p auth.Principal, f ListFilter) ([]Item, error) {
	q := s.db.Reader()
	a, per, err := s.scope(ctx, p, f)
	if err != nil {
		return nil, err
	}
	if err := s.fresh(ctx, a, per); err != nil {
		return nil, err
	}
	ins, err := s.indicators(ctx, q)
	if err != nil {
		return nil, err
	}
	var vs []storedValue
	if err := store.Select(ctx, q, &vs, ValuesQuery, a.Code, per.Year, per.Code); err != nil {
		return nil, err
	}
	cur := map[string]storedValue{}
	yearly := map[string]map[int]float64{}
	for _, v := range vs {
		if v.Period == per.Code {
			cur[v.IndicatorID] = v
		}
		if v.PeriodKind == periodKindYear && v.Value != nil {
			if yearly[v.IndicatorID] == nil {
				yearly[v.IndicatorID] = map[int]float64{}
			}
			yearly[v.IndicatorID][v.Year] = *fromE6(v.Value)
		}
	}
	out := make([]Item, 0, len(ins))
	for _, in := range ins {
		out = append(out, item(in, a, per, cur[in.ID], yearly[in.ID]))
	}
	return out, nil
}

func item(in Indicator, a Area, per Period, v storedValue, yearly map[int]float64) Item {
	it := Item{Indicator: in, Region: a.Code, Period: per.Code}
	it.Target = targetFor(in, a)
	if v.IndicatorID != "" {
		it.Value, it.Numerator, it.Denominator = fromE6(v.Value), fromE6(v.Numerator), fromE6(v.Denominator)
		it.ValueSource = v.Source
		t := v.ComputedAt.UTC()
		it.ComputedAt = &t
	}
	it.Status, it.Projected = assess(in, it.Target, series(in, yearly, per.Year))
	return it
}

// scope checks the caller and resolves the filter's region and period.
func (s *Service) scope(ctx context.Context, p auth.Principal, f ListFilter) (Area, Period, error) {
	if !p.Role.Valid() {
		return Area{}, Period{}, errs.E(errs.Unauthorized, "unauthenticated", "请先登录")
	}
	region := f.Region
	if region == "" {
		region = cityCode
	}
	a, err := LoadArea(ctx, s.db.Reader(), "region", region)
	if err != nil {
		return Area{}, Period{}, err
	}
	var per Period
	switch {
	case f.Period != "":
		per, err = ParsePeriod("period", f.Period)
	case f.Year == 0:
		per = YearPeriod(time.Now().In(calendar.Zone).Year())
	default:
		per, err = ParsePeriod("year", fmt.Sprint(f.Year))
	}
	return a, per, err
}

// indicators reads the tree in its order.
func (s *Service) indicators(ctx context.Context, q store.Querier) ([]Indicator, error) {
	var rows []row
	if err := store.Select(ctx, q, &rows, `SELECT `+indicatorColumns+` FROM indicators ORDER BY position, id`); err != nil {
		return nil, err
	}
	out := make([]Indicator, len(rows))
	for i, r := range rows {
		out[i] = r.indicator()
	}
	return out, nil
}

func getIndicator(ctx context.Context, q store.Querier, id string) (Indicator, error) {
	var r row
	err := store.Get(ctx, q, &r, `SELECT `+indicatorColumns+` FROM indicators WHERE id = ?`, id)
	if errors.Is(err, store.ErrNotFound) {
		return Indicator{}, errs.E(errs.NotFound, "indicator_not_found", "指标不存在")
	}
	return r.indicator(), err
}

// fresh refreshes the computed values a list of per needs — per itself and
// the years from the plan's start (at most six) to per's year — where
// records changed since their last refresh: cells at once, ledgers and
// manifests when never computed or last refreshed more than RecordsLag ago.
func (s *Service) fresh(ctx context.Context, a Area, per Period) error {
	periods := []string{per.Code}
	for y := max(min(planStart, per.Year), per.Year-5); y <= per.Year; y++ {
		if c := fmt.Sprint(y); c != per.Code {
			periods = append(periods, c)
		}
	}
	_, err := refreshStale(ctx, s.db, a, periods, staleness{seen: s.seen, lag: s.RecordsLag})
	return err
}

// SeriesPoint is an indicator's effective value for one year.
type SeriesPoint struct {
	Year   int      `json:"year"`
	Value  *float64 `json:"value"`
	Source string   `json:"source" enum:"computed,reported,baseline"`
}

// Detail is one indicator for a region and period: the list's item, its
// yearly series and, for a computed indicator, what the value was computed
// from.
type Detail struct {
	Item
	Series []SeriesPoint `json:"series"`
	Drill  *Computation  `json:"drill,omitempty" doc:"计算类指标：分子、分母及其依据的记录"`
	// HiddenRows counts the records behind the value the caller may not see.
	HiddenRows int `json:"hidden_rows"`
}

// Get returns one indicator for a region and period, with the drill-down of
// a computed one computed now and listed as far as the caller may see.
func (s *Service) Get(ctx context.Context, p auth.Principal, id string, f ListFilter) (Detail, error) {
	q := s.db.Reader()
	a, per, err := s.scope(ctx, p, f)
	if err != nil {
		return Detail{}, err
	}
	in, err := getIndicator(ctx, q, id)
	if err != nil {
		return Detail{}, err
	}
	if err := s.fresh(ctx, a, per); err != nil {
		return Detail{}, err
	}
	var vs []storedValue
	if err := store.Select(ctx, q, &vs, ValuesQuery+` AND indicator_id = ? ORDER BY year, period`, a.Code, per.Year,
		per.Code, id); err != nil {
		return Detail{}, err
	}
	var cur storedValue
	yearly := map[int]float64{}
	d := Detail{Series: []SeriesPoint{}}
	for _, v := range vs {
		if v.Period == per.Code {
			cur = v
		}
		if v.PeriodKind == periodKindYear {
			d.Series = append(d.Series, SeriesPoint{Year: v.Year, Value: fromE6(v.Value), Source: v.Source})
			if v.Value != nil {
				yearly[v.Year] = *fromE6(v.Value)
			}
		}
	}
	if in.Baseline != nil && in.BaselineYear != nil {
		if _, ok := yearly[*in.BaselineYear]; !ok {
			d.Series = append([]SeriesPoint{{Year: *in.BaselineYear, Value: in.Baseline, Source: "baseline"}}, d.Series...)
		}
	}
	d.Item = item(in, a, per, cur, yearly)
	if in.Kind == Computed {
		c, err := engine[id].fn(ctx, newCalc(q), a, per, true)
		if err != nil {
			return Detail{}, err
		}
		keep, err := rowFilter(ctx, q, p)
		if err != nil {
			return Detail{}, err
		}
		shown := c.Rows[:0]
		for _, r := range c.Rows {
			if keep(r) {
				shown = append(shown, r)
			} else {
				d.HiddenRows++
			}
		}
		c.Rows = shown
		if c.Rows == nil {
			c.Rows = []DrillRow{}
		}
		d.Drill = &c
	}
	return d, nil
}

// Patch configures an indicator: its target, target year and baseline, and
// whether it is mandatory. A null clears nothing: to remove a target, set
// ClearTarget.
type Patch struct {
	Version      int64    `json:"version" minimum:"1"`
	Target       *float64 `json:"target,omitempty"`
	TargetYear   *int     `json:"target_year,omitempty"`
	ClearTarget  bool     `json:"clear_target,omitempty" doc:"取消目标值与目标年"`
	Baseline     *float64 `json:"baseline,omitempty"`
	BaselineYear *int     `json:"baseline_year,omitempty"`
	Mandatory    *bool    `json:"mandatory,omitempty"`
}

// Update configures an indicator; only the work team may. The plan's
// indicators keep the plan's targets: their target and target year are not
// changed here.
func (s *Service) Update(ctx context.Context, p auth.Principal, id string, in Patch) (Indicator, error) {
	var out Indicator
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		ok, err := workTeam(ctx, tx, p)
		if err != nil {
			return err
		}
		before, err := getIndicator(ctx, tx, id)
		if err != nil {
			return err
		}
		if !ok {
			return errs.E(errs.Forbidden, "not_work_team", "指标由“无废城市”建设工作专班配置")
		}
		after := before
		var v errs.Validation
		if before.Source == SourcePlan && (in.Target != nil || in.TargetYear != nil || in.ClearTarget) {
			v.Add("target", "target_from_plan", "实施方案确定的目标值不可修改")
		}
		if in.ClearTarget {
			after.Target, after.TargetYear = nil, nil
		}
		if in.Target != nil {
			checkValue(&v, "target", before.Unit, *in.Target)
			after.Target = in.Target
		}
		if in.Baseline != nil {
			checkValue(&v, "baseline", before.Unit, *in.Baseline)
			after.Baseline = in.Baseline
		}
		for _, y := range []struct {
			field string
			v     *int
			to    **int
		}{{"target_year", in.TargetYear, &after.TargetYear}, {"baseline_year", in.BaselineYear, &after.BaselineYear}} {
			if y.v == nil {
				continue
			}
			if *y.v < 2000 || *y.v > 2100 {
				v.Add(y.field, "year_range", "年份须在 2000 至 2100 之间")
			}
			*y.to = y.v
		}
		if (after.Target == nil) != (after.TargetYear == nil) {
			v.Add("target_year", "target_pair", "目标值与目标年须同时设置")
		}
		if in.Mandatory != nil {
			after.Mandatory = *in.Mandatory
		}
		if err := v.Err(); err != nil {
			return err
		}
		if in.Version != before.Version {
			return errs.E(errs.Conflict, "version_conflict", "指标已被他人修改，请刷新后重试")
		}
		after.Version, after.UpdatedAt = before.Version+1, tx.Now
		n, err := store.Exec(ctx, tx, `UPDATE indicators SET target_e6 = ?, target_year = ?, baseline_e6 = ?,
			baseline_year = ?, mandatory = ?, updated_at = ?, version = version + 1 WHERE id = ? AND version = ?`,
			optE6(after.Target), after.TargetYear, optE6(after.Baseline), after.BaselineYear, after.Mandatory, tx.Now,
			id, before.Version)
		if err != nil {
			return err
		}
		if n == 0 {
			return errs.E(errs.Conflict, "version_conflict", "指标已被他人修改，请刷新后重试")
		}
		out = after
		_, err = audit.Append(ctx, tx, p.Actor(), audit.Record{Action: "indicator.update", Entity: "indicator",
			EntityID: id, RegionCode: cityCode, Change: map[string]any{"before": before, "after": after}})
		return err
	})
	return out, err
}

// countUnits are the units whose values are whole numbers.
var countUnits = map[string]bool{"个": true, "家": true, "项": true}

// checkValue checks a value against its indicator's unit: percent 0–100,
// yes/no 0 or 1, counts whole and non-negative, everything else ≥ 0, and
// at most six decimals.
func checkValue(v *errs.Validation, field, unit string, x float64) {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > 1e12:
		v.Add(field, "value_number", "请填写有效数字")
	case x < 0:
		v.Add(field, "value_negative", "数值不能为负")
	case unit == "%" && x > 100:
		v.Add(field, "value_percent_range", "百分比须在 0 至 100 之间")
	case unit == "是/否" && x != 0 && x != 1:
		v.Add(field, "value_boolean", "是填 1，否填 0")
	case countUnits[unit] && x != math.Trunc(x):
		v.Add(field, "value_integer", "数量须为整数（"+unit+"）")
	case math.Abs(x*1e6-math.Round(x*1e6)) > 1e-3:
		v.Add(field, "value_precision", "最多保留 6 位小数")
	}
}

// RangeHint describes the values a unit accepts, for forms.
func RangeHint(unit string) string {
	switch {
	case unit == "%":
		return "0–100"
	case unit == "是/否":
		return "1 / 0"
	case countUnits[unit]:
		return "≥ 0，整数"
	}
	return "≥ 0"
}
