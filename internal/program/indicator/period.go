package indicator

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
	"wufei/internal/calendar"

	"wufei/internal/errs"
)

// Period is a statistical period: a year ("2026"), a quarter ("2026Q3") or
// a month ("2026-09").
type Period struct {
	Code string
	Kind string // year | quarter | month
	Year int
	From time.Time // UTC, inclusive
	To   time.Time // UTC, exclusive
}

var periodRe = regexp.MustCompile(`^([0-9]{4})(?:Q([1-4])|-(0[1-9]|1[0-2]))?$`)

// ParsePeriod reads a period code; field names the input for the error.
func ParsePeriod(field, s string) (Period, error) {
	m := periodRe.FindStringSubmatch(s)
	if m == nil {
		return Period{}, errs.Field(field, "period_format", "统计期格式应为 2026、2026Q3 或 2026-09")
	}
	y, _ := strconv.Atoi(m[1])
	if y < 2000 || y > 2100 {
		return Period{}, errs.Field(field, "period_range", "统计年份须在 2000 至 2100 之间")
	}
	p := Period{Code: s, Kind: periodKindYear, Year: y}
	from, months := time.Date(y, 1, 1, 0, 0, 0, 0, calendar.Zone), 12
	switch {
	case m[2] != "":
		q, _ := strconv.Atoi(m[2])
		p.Kind, from, months = periodKindQuarter, from.AddDate(0, 3*(q-1), 0), 3
	case m[3] != "":
		mo, _ := strconv.Atoi(m[3])
		p.Kind, from, months = periodKindMonth, from.AddDate(0, mo-1, 0), 1
	}
	p.From, p.To = from.UTC(), from.AddDate(0, months, 0).UTC()
	return p, nil
}

// YearPeriod is the period of a whole year.
func YearPeriod(y int) Period {
	p, _ := ParsePeriod("year", strconv.Itoa(y))
	return p
}

// QuarterOf is the code of the quarter t falls in, in China.
func QuarterOf(t time.Time) string {
	t = t.In(calendar.Zone)
	return fmt.Sprintf("%dQ%d", t.Year(), (int(t.Month())+2)/3)
}

// MonthOf is the code of the month t falls in, in China.
func MonthOf(t time.Time) string { return t.In(calendar.Zone).Format("2006-01") }
