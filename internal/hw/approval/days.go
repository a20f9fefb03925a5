package approval

import (
	"time"
	"wufei/internal/calendar"

	"wufei/internal/errs"
	"wufei/internal/qty"
)

const dayLayout = "2006-01-02"

// Day is the Beijing calendar day of t, as approvals store it.
func Day(t time.Time) string { return t.In(calendar.Zone).Format(dayLayout) }

// parseDay checks a YYYY-MM-DD day and records a field error if it is not one.
func parseDay(v *errs.Validation, field, s string) (time.Time, bool) {
	t, err := time.Parse(dayLayout, s)
	if err != nil {
		v.Add(field, "date_format", "日期格式应为 YYYY-MM-DD")
		return t, false
	}
	return t, true
}

// lastDay is the last day of a validity of months starting on from.
func lastDay(from time.Time, months int) string {
	return from.AddDate(0, months, -1).Format(dayLayout)
}

func tonnes(g int64) float64 { return qty.Tonnes(g) }
