// Package dashboard answers the command dashboard (驾驶舱) and the per-role
// workbenches: aggregates over the ledger, manifests, alerts, licences and
// indicators, each limited to what the viewer may see and each carrying a
// link to the records behind its figures. It only reads.
package dashboard

import (
	"context"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"wufei/internal/auth"
	"wufei/internal/calendar"
	"wufei/internal/errs"
	"wufei/internal/program/indicator"
	"wufei/internal/store"
)

// Service runs the dashboard's queries.
type Service struct {
	db         *store.DB
	indicators *indicator.Service
	raw        bool // read every figure from the records (tests compare the two ways)
}

// NewService returns the dashboard on db; the target tiles come from ind.
func NewService(db *store.DB, ind *indicator.Service) *Service {
	return &Service{db: db, indicators: ind}
}

// Filter narrows every figure: a region (the city, a county or a park), a
// period (2026, 2026Q3 or 2026-09; this year when empty) and a category
// (HW08).
type Filter struct {
	Region   string `json:"region"`
	Period   string `json:"period"`
	Category string `json:"category"`
}

// query is a filter resolved against the database.
type query struct {
	Filter
	area   indicator.Area
	period indicator.Period
	months []time.Time // the first instant of each month in the period, and the period's end
}

var categoryRe = regexp.MustCompile(`^HW[0-9]{2}$`)

// resolve checks a filter and resolves its region and period.
func (s *Service) resolve(ctx context.Context, p auth.Principal, f Filter) (query, error) {
	if !p.Role.Valid() {
		return query{}, errs.E(errs.Unauthorized, "unauthenticated", "请先登录")
	}
	f.Region, f.Period, f.Category = strings.TrimSpace(f.Region), strings.TrimSpace(f.Period), strings.TrimSpace(f.Category)
	var v errs.Validation
	q := query{Filter: f}
	region := f.Region
	if region == "" {
		region = auth.CityCode
	}
	a, err := indicator.LoadArea(ctx, s.db.Reader(), "region", region)
	if e, ok := err.(*errs.Error); ok && e.Kind == errs.Invalid {
		v.Add("region", "region_unknown", "地区应为全市、县区或园区代码")
	} else if err != nil {
		return q, err
	}
	q.area = a
	if f.Period == "" {
		q.period = indicator.YearPeriod(time.Now().In(calendar.Zone).Year())
	} else if q.period, err = indicator.ParsePeriod("period", f.Period); err != nil {
		v.Add("period", "period_format", "统计期格式应为 2026、2026Q3 或 2026-09")
	}
	if f.Category != "" && !categoryRe.MatchString(f.Category) {
		v.Add("category", "category_format", "危险废物类别应为 HW01 至 HW50")
	}
	if err := v.Err(); err != nil {
		return q, err
	}
	q.Period = q.period.Code
	for t := q.period.From.In(calendar.Zone); t.Before(q.period.To); t = t.AddDate(0, 1, 0) {
		q.months = append(q.months, t.UTC())
	}
	q.months = append(q.months, q.period.To)
	return q, nil
}

// city reports whether the filter covers the whole city.
func (q query) city() bool { return q.area.Code == auth.CityCode || q.area.Code == "" }

// regionCond limits rows to the filter's region, over a row's county column
// and, for a park (whose units are registered under their county), its unit
// column.
func (q query) regionCond(regionCol, unitCol string) (string, []any) {
	if q.city() {
		return "1 = 1", nil
	}
	if q.area.Level == "park" {
		return unitCol + " IN (SELECT id FROM units WHERE park_code = ?)", []any{q.area.Code}
	}
	return inList(regionCol, q.area.Codes)
}

func inList(col string, vals []string) (string, []any) {
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	return col + " IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ") + ")", args
}

// monthLabels are the period's months as 2026-01 … in China.
func (q query) monthLabels() []string {
	out := make([]string, 0, len(q.months)-1)
	for _, m := range q.months[:len(q.months)-1] {
		out = append(out, m.In(calendar.Zone).Format("2006-01"))
	}
	return out
}

// bucket is a portable SQL expression giving the month index (0, 1, …) of a
// time column within the period, with its arguments: one scan groups a year
// by month on both engines without date functions.
func (q query) bucket(col string) (string, []any) {
	var b strings.Builder
	var args []any
	b.WriteString("CASE")
	for i, m := range q.months[1:] {
		b.WriteString(" WHEN " + col + " < ? THEN " + itoa(i))
		args = append(args, m)
	}
	b.WriteString(" ELSE -1 END")
	return b.String(), args
}

// link builds a site URL with a query, leaving out empty values.
func link(path string, kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			v.Set(kv[i], kv[i+1])
		}
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// tonnes rounds grams to tonnes with six decimals (a gram).
func tonnes(g int64) float64 { return float64(g) / 1e6 }

func itoa(i int) string { return strconv.Itoa(i) }

// round6 rounds a sum of tonnes to the gram.
func round6(t float64) float64 { return math.Round(t*1e6) / 1e6 }
