package plan

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
	"wufei/internal/calendar"

	"wufei/internal/errs"
)

// Declaration kinds (申报周期).
const (
	Monthly   = "monthly"
	Quarterly = "quarterly"
	Yearly    = "yearly"
)

// Period is one declaration period: a month ("2026-10"), a quarter
// ("2026-Q3") or a year ("2026"), from its first instant to the first
// instant after it, in China's calendar.
type Period struct {
	Key  string    `json:"period" doc:"申报期：2026-10、2026-Q3 或 2026"`
	Kind string    `json:"kind" enum:"monthly,quarterly,yearly"`
	Year int       `json:"year"`
	From time.Time `json:"from" doc:"起（含）"`
	To   time.Time `json:"to" doc:"止（不含）"`
}

var periodRe = regexp.MustCompile(`^([0-9]{4})(?:-([0-9]{2})|-Q([1-4]))?$`)

// ParsePeriod reads a period key.
func ParsePeriod(s string) (Period, error) {
	m := periodRe.FindStringSubmatch(s)
	bad := errs.Field("period", "period_format", "申报期格式应为 2026-10（月）、2026-Q3（季）或 2026（年）")
	if m == nil {
		return Period{}, bad
	}
	year, _ := strconv.Atoi(m[1])
	if year < 2000 || year > 2100 {
		return Period{}, bad
	}
	switch {
	case m[2] != "":
		month, _ := strconv.Atoi(m[2])
		if month < 1 || month > 12 {
			return Period{}, bad
		}
		return month1(year, time.Month(month)), nil
	case m[3] != "":
		q, _ := strconv.Atoi(m[3])
		return quarter(year, q), nil
	}
	return whole(year), nil
}

func month1(year int, m time.Month) Period {
	return Period{Key: fmt.Sprintf("%04d-%02d", year, int(m)), Kind: Monthly, Year: year,
		From: time.Date(year, m, 1, 0, 0, 0, 0, calendar.Zone).UTC(), To: time.Date(year, m+1, 1, 0, 0, 0, 0, calendar.Zone).UTC()}
}

func quarter(year, q int) Period {
	m := time.Month(3*(q-1) + 1)
	return Period{Key: fmt.Sprintf("%04d-Q%d", year, q), Kind: Quarterly, Year: year,
		From: time.Date(year, m, 1, 0, 0, 0, 0, calendar.Zone).UTC(), To: time.Date(year, m+3, 1, 0, 0, 0, 0, calendar.Zone).UTC()}
}

func whole(year int) Period {
	return Period{Key: fmt.Sprintf("%04d", year), Kind: Yearly, Year: year,
		From: time.Date(year, 1, 1, 0, 0, 0, 0, calendar.Zone).UTC(), To: time.Date(year+1, 1, 1, 0, 0, 0, 0, calendar.Zone).UTC()}
}

// Periods lists the declarations a unit of class owes for year (HJ 1259):
// 重点监管 monthly and yearly, 简化管理 quarterly and yearly, 登记管理 yearly.
func Periods(class string, year int) []Period {
	var ps []Period
	switch class {
	case Key:
		for m := time.January; m <= time.December; m++ {
			ps = append(ps, month1(year, m))
		}
	case Simplified:
		for q := 1; q <= 4; q++ {
			ps = append(ps, quarter(year, q))
		}
	}
	return append(ps, whole(year))
}

// Due is the instant after which a declaration for the period is late: the
// end of its due day — for a month, the monthly due day of the next month;
// for a quarter, the quarterly due day of the next quarter's first month; for
// a year, the yearly due day of the next year.
func (r Rules) Due(p Period) time.Time {
	next := p.To.In(calendar.Zone) // the first day after the period
	switch p.Kind {
	case Monthly:
		return endOfDay(next.Year(), next.Month(), r.MonthlyDueDay)
	case Quarterly:
		return endOfDay(next.Year(), next.Month(), r.QuarterlyDueDay)
	}
	m, d := r.YearlyDue.date()
	return endOfDay(p.Year+1, m, d)
}

// DueDate is the due day as a calendar date, YYYY-MM-DD.
func (r Rules) DueDate(p Period) string {
	return r.Due(p).Add(-time.Nanosecond).In(calendar.Zone).Format(time.DateOnly)
}
