package indicator

import (
	"context"
	"slices"
	"strings"

	"wufei/internal/calendar"
	"wufei/internal/store"
)

// The agricultural and household indicators, computed from the stream
// records of internal/streams/agri and internal/streams/household. Every
// stream record carries a year and a month (0 for a yearly record; a straw
// season stands for its harvest month), so a period is a range of
// year×100+month.

// streamPeriod limits stream records to a period; a yearly record counts
// in its year only.
func streamPeriod(p Period) (string, []any) {
	from, last := p.From.In(calendar.Zone), p.To.In(calendar.Zone).AddDate(0, 0, -1)
	lo, hi := from.Year()*100+int(from.Month()), last.Year()*100+int(last.Month())
	if p.Kind == periodKindYear {
		lo = p.Year * 100
	}
	return "(year * 100 + month) BETWEEN ? AND ?", []any{lo, hi}
}

// streamRate is an indicator that is one sum over another × 100, from one
// table of stream records.
type streamRate struct {
	table, entity      string
	num, den           string // SQL sums, in grams
	filter             string // a further condition, with one argument
	arg                string
	ref                string // SQL naming a record in the drill-down
	numLabel, denLabel string
}

// streamMonth is the SQL text naming a record's year and month.
const streamMonth = `CAST(year AS TEXT) || '-' || CAST(month AS TEXT)`

var (
	strawRate = streamRate{table: "straw_townships", entity: "stream_straw_township",
		num: "fertiliser_g + feed_g + fuel_g + base_g + material_g", den: "generated_g",
		ref: "township || ' ' || CAST(year AS TEXT) || season", numLabel: "秸秆综合利用量（“五化”，吨）", denLabel: "秸秆可收集资源量（吨）"}
	filmRate = streamRate{table: "farm_recovery", entity: "stream_farm_recovery", num: "recovered_g", den: "used_g",
		filter: "kind = ?", arg: "农膜", ref: "recycler || ' ' || " + streamMonth, numLabel: "农膜回收量（吨）", denLabel: "农膜使用量（吨）"}
	pesticideRate = streamRate{table: "farm_recovery", entity: "stream_farm_recovery", num: "recovered_g", den: "used_g",
		filter: "kind = ?", arg: "农药包装废弃物", ref: "recycler || ' ' || " + streamMonth,
		numLabel: "农药包装废弃物回收量（吨）", denLabel: "农药包装废弃物产生量（吨）"}
	mswRate = streamRate{table: "msw_monthly", entity: "stream_msw_monthly", num: "recycled_g", den: "collected_g",
		ref: "stream || ' ' || " + streamMonth, numLabel: "生活垃圾回收利用量（吨）", denLabel: "生活垃圾产生（收集清运）量（吨）"}
)

func (r streamRate) where(a Area, p Period) (string, []any) {
	cond, args := a.cond("region_code", "unit_id")
	pc, pargs := streamPeriod(p)
	w, wargs := ` FROM `+r.table+` WHERE `+pc+` AND `+cond, append(pargs, args...)
	if r.filter != "" {
		w, wargs = w+` AND `+r.filter, append(wargs, r.arg)
	}
	return w, wargs
}

func (r streamRate) compute(ctx context.Context, k *calc, a Area, p Period, drill bool) (Computation, error) {
	c := Computation{NumeratorLabel: r.numLabel, DenominatorLabel: r.denLabel}
	where, args := r.where(a, p)
	var t struct {
		Num int64 `db:"num"`
		Den int64 `db:"den"`
	}
	if err := store.Get(ctx, k.q, &t, `SELECT COALESCE(SUM(`+r.num+`), 0) AS num, COALESCE(SUM(`+r.den+`), 0) AS den`+where,
		args...); err != nil {
		return c, err
	}
	c.setRate(t.Num, t.Den, 100)
	if !drill || t.Den <= 0 {
		return c, nil
	}
	list := func(part, sum string) drillQuery {
		return drillQuery{part: part, entity: r.entity, sql: `SELECT id, ` + r.ref + ` AS ref, unit_id, region_code, ` + sum +
			` AS g` + where + ` AND ` + sum + ` > 0 ORDER BY year, month, id`, args: args}
	}
	return c, c.drill(ctx, k.q, list("denominator", r.den), list("numerator", r.num))
}

// strawUtilisation is 农作物秸秆综合利用率: straw used by the "五化" ways ÷
// collectable straw × 100, from the township records.
func strawUtilisation(ctx context.Context, k *calc, a Area, p Period, drill bool) (Computation, error) {
	return strawRate.compute(ctx, k, a, p, drill)
}

// filmRecovery is 农膜回收率: film recovered ÷ film used × 100, from the
// recyclers' ledger.
func filmRecovery(ctx context.Context, k *calc, a Area, p Period, drill bool) (Computation, error) {
	return filmRate.compute(ctx, k, a, p, drill)
}

// pesticideRecovery is 农药包装废弃物回收率: packaging recovered ÷
// packaging generated × 100, from the recyclers' ledger.
func pesticideRecovery(ctx context.Context, k *calc, a Area, p Period, drill bool) (Computation, error) {
	return pesticideRate.compute(ctx, k, a, p, drill)
}

// mswRecycling is 城市生活垃圾回收利用率: recycled (all four streams) ÷
// collected (all four streams) × 100, from the monthly household waste
// records.
func mswRecycling(ctx context.Context, k *calc, a Area, p Period, drill bool) (Computation, error) {
	return mswRate.compute(ctx, k, a, p, drill)
}

// mswLandfillRaw is 原生生活垃圾填埋量: tonnes of raw household waste
// landfilled, from the monthly records; no records, no value, and records
// that all say 0 are the plan's 零填埋. The drill-down lists every record.
func mswLandfillRaw(ctx context.Context, k *calc, a Area, p Period, drill bool) (Computation, error) {
	c := Computation{NumeratorLabel: "原生生活垃圾填埋量（吨）"}
	where, args := mswRate.where(a, p)
	var t struct {
		G int64 `db:"g"`
		N int64 `db:"n"`
	}
	if err := store.Get(ctx, k.q, &t, `SELECT COALESCE(SUM(landfilled_g), 0) AS g, count(*) AS n`+where, args...); err != nil {
		return c, err
	}
	if t.N == 0 {
		return c, nil
	}
	c.value, c.num = &t.G, &t.G // grams are millionths of tonnes
	c.fill()
	if !drill {
		return c, nil
	}
	return c, c.drill(ctx, k.q, drillQuery{part: "numerator", entity: mswRate.entity, sql: `SELECT id, ` + mswRate.ref +
		` AS ref, unit_id, region_code, landfilled_g AS g` + where + ` ORDER BY year, month, id`, args: args})
}

type livingCounty struct {
	Code string `db:"code"`
	Name string `db:"name"`
}

// twoNetworksKinds are the tiers a county needs for "两网融合".
var twoNetworksKinds = []string{"交投点", "中转站", "分拣中心"}

// twoNetworksCoverage is “两网融合”县区建成区覆盖率: counties where the two
// networks are joined ÷ the city's counties × 100. A county counts when,
// by the end of the period, it has a drop-off point of its own in
// operation and a transfer station and a sorting centre in operation that
// serve it (their 服务县区 name it). A park is no county: no value.
func twoNetworksCoverage(ctx context.Context, k *calc, a Area, p Period, drill bool) (Computation, error) {
	c := Computation{NumeratorLabel: "基本实现“两网融合”的县区（个）", DenominatorLabel: "县区总数（个）"}
	if a.Level == "park" {
		return c, nil
	}
	var counties []livingCounty
	if err := store.Select(ctx, k.q, &counties, `SELECT code, name FROM regions WHERE parent_code = ? AND level = 'county'
		ORDER BY code`, cityCode); err != nil {
		return c, err
	}
	counties = slices.DeleteFunc(counties, func(x livingCounty) bool { return !a.covers(x.Code) })
	var points []struct {
		ID       string `db:"id"`
		Kind     string `db:"kind"`
		Name     string `db:"name"`
		Region   string `db:"region_code"`
		UnitID   string `db:"unit_id"`
		Counties string `db:"counties"`
	}
	if err := store.Select(ctx, k.q, &points, `SELECT id, kind, name, region_code, unit_id, counties FROM recycling_points
		WHERE year <= ? AND status = '运行' ORDER BY id`, p.To.In(calendar.Zone).AddDate(0, 0, -1).Year()); err != nil {
		return c, err
	}
	if len(counties) == 0 || len(points) == 0 {
		return c, nil
	}
	var covered int64
	var num, den []drillQuery
	for _, county := range counties {
		var backing []string
		for _, kind := range twoNetworksKinds {
			for _, pt := range points {
				serves := pt.Region == county.Code
				if kind != "交投点" {
					serves = serves || slices.Contains(strings.Split(pt.Counties, ","), county.Code)
				}
				if pt.Kind == kind && serves {
					backing = append(backing, pt.ID)
					break
				}
			}
		}
		den = append(den, drillQuery{part: "denominator", entity: "region", sql: `SELECT code AS id, name AS ref,
			'' AS unit_id, code AS region_code, 1000000 AS g FROM regions WHERE code = ?`, args: []any{county.Code}})
		if len(backing) == len(twoNetworksKinds) {
			covered++
			q, args, err := store.In(`SELECT id, kind || ' ' || name AS ref, unit_id, region_code, 1000000 AS g
				FROM recycling_points WHERE id IN (?) ORDER BY id`, backing)
			if err != nil {
				return c, err
			}
			num = append(num, drillQuery{part: "numerator", entity: "stream_recycling_point", sql: q, args: args})
		}
	}
	c.setRate(covered*1_000_000, int64(len(counties))*1_000_000, 100)
	if drill {
		return c, c.drill(ctx, k.q, append(den, num...)...)
	}
	return c, nil
}
