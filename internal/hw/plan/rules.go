package plan

import (
	"context"
	"fmt"
	"math"
	"time"
	"wufei/internal/calendar"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/settings"
	"wufei/internal/store"
)

// Rules are the configurable values of plans, classes and declarations. The
// HJ 1259 thresholds are verified ([V]); the deadlines are recalled ([R]), so
// every one of them can be changed in the settings table, keyed by its JSON
// name, without a release.
type Rules struct {
	// KeyThresholdT: a unit generating at least this many tonnes a year at
	// one site is 重点监管 (HJ 1259: 100 t).
	KeyThresholdT float64 `json:"class_key_threshold_t" doc:"重点监管单位年产生量门槛（吨，默认 100）"`
	// SimplifiedThresholdT: at least this many tonnes a year is 简化管理,
	// below it 登记管理 (HJ 1259: 10 t).
	SimplifiedThresholdT float64 `json:"class_simplified_threshold_t" doc:"简化管理单位年产生量门槛（吨，默认 10）"`
	// PlanDeadline: the year's plan is filed by this day of the year ([R] 03-31).
	PlanDeadline MonthDay `json:"plan_deadline" pattern:"^[0-9]{2}-[0-9]{2}$" doc:"管理计划备案截止日（MM-DD，默认 03-31）"`
	// MonthlyDueDay: a monthly declaration is due on this day of the
	// following month ([R] 15).
	MonthlyDueDay int `json:"declaration_monthly_due_day" doc:"月度申报截止日，次月第几日（1–28，默认 15）"`
	// QuarterlyDueDay: a quarterly declaration is due on this day of the
	// first month of the next quarter ([R] 15).
	QuarterlyDueDay int `json:"declaration_quarterly_due_day" doc:"季度申报截止日，下季度首月第几日（1–28，默认 15）"`
	// YearlyDue: a yearly declaration is due on this day of the next year
	// ([R] 03-31).
	YearlyDue MonthDay `json:"declaration_yearly_due" pattern:"^[0-9]{2}-[0-9]{2}$" doc:"年度申报截止日，次年（MM-DD，默认 03-31）"`
}

// Defaults are the documented default values.
var Defaults = Rules{
	KeyThresholdT:        100,
	SimplifiedThresholdT: 10,
	PlanDeadline:         "03-31",
	MonthlyDueDay:        15,
	QuarterlyDueDay:      15,
	YearlyDue:            "03-31",
}

// MonthDay is a day of the year, "MM-DD".
type MonthDay string

// date reads the month and day; an invalid value (which Validate refuses)
// reads as 31 March, the documented default of both deadlines.
func (m MonthDay) date() (time.Month, int) {
	t, err := time.Parse("01-02", string(m))
	if err != nil || (t.Month() == time.February && t.Day() == 29) {
		return time.March, 31
	}
	return t.Month(), t.Day()
}

func (m MonthDay) valid() bool {
	t, err := time.Parse("01-02", string(m))
	return err == nil && !(t.Month() == time.February && t.Day() == 29)
}

// LoadRules returns the defaults overlaid with the values stored in the
// settings table (one row per changed rule, its value as JSON), as
// settings.Load does for the lifecycle rules.
func LoadRules(ctx context.Context, q store.Querier) (Rules, error) {
	r := Defaults
	stored, err := settings.Stored(ctx, q)
	if err != nil {
		return r, err
	}
	if err := settings.Decode(stored, &r); err != nil {
		return Defaults, fmt.Errorf("plan: settings: %w", err)
	}
	if err := r.Validate(); err != nil {
		return Defaults, fmt.Errorf("plan: settings: %w", err)
	}
	return r, nil
}

// endOfDay is the instant a deadline on the given day passes: the start of
// the next day in China, in UTC.
func endOfDay(year int, month time.Month, day int) time.Time {
	return time.Date(year, month, day+1, 0, 0, 0, 0, calendar.Zone).UTC()
}

// PlanDue is the instant after which a plan for year is filed late.
func (r Rules) PlanDue(year int) time.Time {
	m, d := r.PlanDeadline.date()
	return endOfDay(year, m, d)
}

// yearOf is the calendar year of t in China.
func yearOf(t time.Time) int { return t.In(calendar.Zone).Year() }

// Validate checks each rule against its range and names the field at fault.
func (r Rules) Validate() error {
	var v errs.Validation
	tonnes := func(field string, t float64) {
		if math.IsNaN(t) || t <= 0 || t > 1e6 {
			v.Add(field, "threshold_range", "门槛须大于 0 吨、不超过 100 万吨")
		}
	}
	tonnes("class_key_threshold_t", r.KeyThresholdT)
	tonnes("class_simplified_threshold_t", r.SimplifiedThresholdT)
	if r.SimplifiedThresholdT >= r.KeyThresholdT {
		v.Add("class_simplified_threshold_t", "threshold_order", "简化管理门槛须低于重点监管门槛")
	}
	for _, d := range []struct {
		field string
		day   int
	}{{"declaration_monthly_due_day", r.MonthlyDueDay}, {"declaration_quarterly_due_day", r.QuarterlyDueDay}} {
		if d.day < 1 || d.day > 28 {
			v.Add(d.field, "day_range", "截止日须在 1 至 28 日之间")
		}
	}
	for _, d := range []struct {
		field string
		day   MonthDay
	}{{"plan_deadline", r.PlanDeadline}, {"declaration_yearly_due", r.YearlyDue}} {
		if !d.day.valid() {
			v.Add(d.field, "month_day", "日期格式应为 MM-DD，且不能是 02-29")
		}
	}
	return v.Err()
}

// SaveRules replaces the plan and declaration rules with r. Only
// administrators may. As settings.Save does for the lifecycle rules, the
// table keeps only values that differ from Defaults and other packages' rows
// are left alone; the change is audited with the rules before and after.
func SaveRules(ctx context.Context, db *store.DB, p auth.Principal, r Rules) (Rules, error) {
	if p.Role != auth.Admin {
		return Rules{}, errs.E(errs.Forbidden, "forbidden", "只有平台管理员可以修改规则设置")
	}
	if err := r.Validate(); err != nil {
		return Rules{}, err
	}
	var saved Rules
	err := db.Tx(ctx, func(tx *store.Tx) error {
		before, err := LoadRules(ctx, tx)
		if err != nil {
			return err
		}
		if err := settings.Write(ctx, tx, r, Defaults); err != nil {
			return err
		}
		if saved, err = LoadRules(ctx, tx); err != nil || saved == before {
			return err
		}
		_, err = audit.Append(ctx, tx, p.Actor(), audit.Record{Action: "settings.update", Entity: "settings",
			EntityID: "plan_rules", Change: map[string]any{"before": before, "after": saved}})
		return err
	})
	return saved, err
}
