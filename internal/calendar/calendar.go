// Package calendar is the Chinese working-day calendar that deadlines such as
// "confirm receipt within 5 working days" (五个工作日) are counted on. Its
// built-in data are the State Council's public holidays (法定节假日) and the
// weekend days worked in exchange (调休上班), as shipped by
// github.com/6tail/lunar-go; an administrator overrides single days in the
// calendar_days table (a local arrangement, or a year the library does not
// know yet).
package calendar

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/6tail/lunar-go/HolidayUtil"

	"wufei/internal/store"
)

// Zone is China Standard Time. China has kept UTC+8 without daylight saving
// since 1991, so a fixed zone is exact for every date the platform handles
// and needs no time-zone database on the host.
var Zone = time.FixedZone("Asia/Shanghai", 8*60*60)

// Sources of a Day.
const (
	Builtin  = "builtin"  // the public-holiday data
	Override = "override" // a row in calendar_days
)

// Day is one day that departs from the Monday-to-Friday week, or that an
// administrator has set.
type Day struct {
	Day     string `json:"day" doc:"日期 YYYY-MM-DD（北京时间）"`
	Working bool   `json:"working" doc:"是否工作日"`
	Name    string `json:"name,omitempty" doc:"节假日名称（内置数据）"`
	Source  string `json:"source" enum:"builtin,override" doc:"builtin 为国务院放假安排，override 为管理员调整"`
	Note    string `json:"note" doc:"调整说明"`
}

// date is a civil date in Zone as yyyymmdd, a cheap map key.
type date int32

func dateOf(t time.Time) date {
	y, m, d := t.In(Zone).Date()
	return date(y*10000 + int(m)*100 + d)
}

func (d date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d/10000, d/100%100, d%100) }

func (d date) weekday() time.Weekday {
	return time.Date(int(d/10000), time.Month(d/100%100), int(d%100), 12, 0, 0, 0, Zone).Weekday()
}

// weekend reports whether d falls on Saturday or Sunday, the default days off.
func (d date) weekend() bool {
	w := d.weekday()
	return w == time.Saturday || w == time.Sunday
}

type holiday struct {
	working bool
	name    string
}

// builtin indexes the library's data once: it looks days up by scanning a
// string, too slow for a loop over every day of a deadline.
var builtin = sync.OnceValue(func() map[date]holiday {
	m := map[date]holiday{}
	for y := 2001; y <= 2099; y++ {
		for e := HolidayUtil.GetHolidaysByYear(y).Front(); e != nil; e = e.Next() {
			h := e.Value.(*HolidayUtil.Holiday)
			t, err := time.ParseInLocation("2006-01-02", h.GetDay(), Zone)
			if err != nil {
				continue
			}
			m[dateOf(t)] = holiday{working: h.IsWork(), name: h.GetName()}
		}
	}
	return m
})

type override struct {
	working bool
	note    string
}

// Calendar answers working-day questions. It is immutable once loaded, so
// one value may be shared by any number of goroutines.
type Calendar struct {
	overrides map[date]override
}

// Load returns the calendar with the overrides as stored. It is memoised:
// every manifest step asks it, and administrators rarely change it.
func Load(ctx context.Context, q store.Querier) (*Calendar, error) { return memo.Get(ctx, q) }

var memo = &store.Memo[*Calendar]{Table: "calendar_days", Load: load}

// load reads the overrides and builds the calendar.
func load(ctx context.Context, q store.Querier) (*Calendar, error) {
	var rows []struct {
		Day     string `db:"day"`
		Working bool   `db:"working"`
		Note    string `db:"note"`
	}
	if err := store.Select(ctx, q, &rows, `SELECT day, working, note FROM calendar_days`); err != nil {
		return nil, fmt.Errorf("calendar: %w", err)
	}
	c := &Calendar{overrides: make(map[date]override, len(rows))}
	for _, r := range rows {
		d, err := parseDay(r.Day)
		if err != nil {
			continue // a malformed row cannot name a day; SetDay never writes one
		}
		c.overrides[d] = override{working: r.Working, note: r.Note}
	}
	return c, nil
}

func parseDay(s string) (date, error) {
	t, err := time.ParseInLocation("2006-01-02", s, Zone)
	if err != nil {
		return 0, err
	}
	return dateOf(t), nil
}

func (c *Calendar) working(d date) bool {
	if o, ok := c.overrides[d]; ok {
		return o.working
	}
	if h, ok := builtin()[d]; ok {
		return h.working
	}
	return !d.weekend()
}

// IsWorkingDay reports whether the day of t, in Asia/Shanghai, is a working
// day: an override if there is one, else the public-holiday data, else
// Monday to Friday.
func (c *Calendar) IsWorkingDay(t time.Time) bool { return c.working(dateOf(t)) }

// AddWorkingDays returns the deadline for something due "within n working
// days of from": the end (23:59:59.999999 Asia/Shanghai, returned in UTC) of
// the n-th working day after the day of from. The day of from itself never
// counts, whether or not it is a working day and whatever the hour, so an
// arrival on a Friday evening or a holiday gives the same deadline as one on
// that Friday morning. For n <= 0 it is the end of the day of from.
func (c *Calendar) AddWorkingDays(from time.Time, n int) time.Time {
	y, m, d := from.In(Zone).Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, Zone)
	for counted := 0; counted < n; {
		day = day.AddDate(0, 0, 1)
		if c.working(dateOf(day)) {
			counted++
		}
	}
	return day.AddDate(0, 0, 1).Add(-time.Microsecond).UTC()
}

// Year lists the days of year that depart from the Monday-to-Friday week
// (holidays on weekdays, weekend days worked) and every override, by date.
func (c *Calendar) Year(year int) []Day {
	byDate := map[date]Day{}
	for d, h := range builtin() {
		if int(d/10000) == year && h.working == d.weekend() {
			byDate[d] = Day{Day: d.String(), Working: h.working, Name: h.name, Source: Builtin}
		}
	}
	for d, o := range c.overrides {
		if int(d/10000) == year {
			byDate[d] = Day{Day: d.String(), Working: o.working, Name: builtin()[d].name, Source: Override, Note: o.note}
		}
	}
	out := make([]Day, 0, len(byDate))
	for _, day := range byDate {
		out = append(out, day)
	}
	slices.SortFunc(out, func(a, b Day) int { return strings.Compare(a.Day, b.Day) })
	return out
}
