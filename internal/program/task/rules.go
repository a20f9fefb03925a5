package task

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/calendar"
	"wufei/internal/errs"
	"wufei/internal/settings"
	"wufei/internal/store"
)

// Rules are the configurable values of progress reporting. The plan asks
// for regular reports (定期通报) without fixing the rhythm, so the rhythm,
// the grace after each period and the evidence limits are local practice,
// kept in the settings table under their JSON names.
type Rules struct {
	// ReportEvery: each lead department reports on each of its tasks once
	// a quarter (or a month).
	ReportEvery string `json:"task_report_every" enum:"quarter,month" doc:"责任单位报送进展的周期：quarter 每季度、month 每月（默认 quarter）"`
	// ReportDueDays: a period's report is due this many days after the
	// period ends.
	ReportDueDays int `json:"task_report_due_days" doc:"周期结束后几日内报送（0–60，默认 10）"`
	// EvidenceMaxKB bounds each evidence file.
	EvidenceMaxKB int `json:"task_evidence_max_kb" doc:"单个佐证材料大小上限（KB，1–10240，默认 512）"`
	// EvidenceMaxFiles bounds the files of one report.
	EvidenceMaxFiles int `json:"task_evidence_max_files" doc:"每份报告的佐证材料个数上限（1–20，默认 5）"`
}

// Defaults are the documented default values.
var Defaults = Rules{ReportEvery: "quarter", ReportDueDays: 10, EvidenceMaxKB: 512, EvidenceMaxFiles: 5}

// Validate checks each rule against its range and names the field at fault.
func (r Rules) Validate() error {
	var v errs.Validation
	if r.ReportEvery != "quarter" && r.ReportEvery != "month" {
		v.Add("task_report_every", "report_every_unknown", "报送周期只能是 quarter（季度）或 month（月）")
	}
	if r.ReportDueDays < 0 || r.ReportDueDays > 60 {
		v.Add("task_report_due_days", "days_range", "天数须在 0 至 60 之间")
	}
	if r.EvidenceMaxKB < 1 || r.EvidenceMaxKB > 10240 {
		v.Add("task_evidence_max_kb", "size_range", "大小上限须在 1 至 10240 KB 之间")
	}
	if r.EvidenceMaxFiles < 1 || r.EvidenceMaxFiles > 20 {
		v.Add("task_evidence_max_files", "count_range", "个数上限须在 1 至 20 之间")
	}
	return v.Err()
}

// LoadRules returns the defaults overlaid with the values stored in the
// settings table.
func LoadRules(ctx context.Context, q store.Querier) (Rules, error) {
	r := Defaults
	stored, err := settings.Stored(ctx, q)
	if err != nil {
		return r, err
	}
	if err := settings.Decode(stored, &r); err != nil {
		return Defaults, fmt.Errorf("task: settings: %w", err)
	}
	if err := r.Validate(); err != nil {
		return Defaults, fmt.Errorf("task: settings: %w", err)
	}
	return r, nil
}

// SaveRules replaces the reporting rules with r. Admins and the work team
// may. As settings.Save does, the table keeps only values that differ from
// Defaults and other packages' rows are left alone; the change is audited.
func SaveRules(ctx context.Context, db *store.DB, p auth.Principal, r Rules) (Rules, error) {
	dept, err := DepartmentOf(ctx, db.Reader(), p)
	if err != nil {
		return Rules{}, err
	}
	if !IsWorkTeam(p, dept) {
		return Rules{}, errs.E(errs.Forbidden, "forbidden", "只有平台管理员或工作专班可以修改进展报送规则")
	}
	if err := r.Validate(); err != nil {
		return Rules{}, err
	}
	var saved Rules
	err = db.Tx(ctx, func(tx *store.Tx) error {
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
			EntityID: "task_rules", RegionCode: auth.CityCode, Change: map[string]any{"before": before, "after": saved}})
		return err
	})
	return saved, err
}

// Today is the calendar day of t in China, YYYY-MM-DD.
func Today(t time.Time) string { return t.In(calendar.Zone).Format(time.DateOnly) }

// Period is a reporting period: a quarter, or a month when departments
// report monthly.
type Period struct {
	Year    int
	Quarter int // 1–4, or 0 for a month
	Month   int // 1–12 for a month
}

var (
	quarterRe = regexp.MustCompile(`^(20[0-9]{2})Q([1-4])$`)
	monthRe   = regexp.MustCompile(`^(20[0-9]{2})-(0[1-9]|1[0-2])$`)
)

// ParsePeriod reads "2026Q3" or "2026-09".
func ParsePeriod(s string) (Period, bool) {
	if m := quarterRe.FindStringSubmatch(s); m != nil {
		y, _ := strconv.Atoi(m[1])
		q, _ := strconv.Atoi(m[2])
		return Period{Year: y, Quarter: q}, true
	}
	if m := monthRe.FindStringSubmatch(s); m != nil {
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		return Period{Year: y, Month: mo}, true
	}
	return Period{}, false
}

func (p Period) String() string {
	if p.Quarter > 0 {
		return fmt.Sprintf("%dQ%d", p.Year, p.Quarter)
	}
	return fmt.Sprintf("%d-%02d", p.Year, p.Month)
}

// Monthly reports whether p is a month.
func (p Period) Monthly() bool { return p.Quarter == 0 }

// first is the first day of the period (midnight UTC of that date).
func (p Period) first() time.Time {
	m := p.Month
	if p.Quarter > 0 {
		m = 3*(p.Quarter-1) + 1
	}
	return time.Date(p.Year, time.Month(m), 1, 0, 0, 0, 0, time.UTC)
}

// Start and End are the period's first and last day, YYYY-MM-DD.
func (p Period) Start() string { return p.first().Format(time.DateOnly) }
func (p Period) End() string   { return p.last().Format(time.DateOnly) }

func (p Period) last() time.Time {
	n := 1
	if p.Quarter > 0 {
		n = 3
	}
	return p.first().AddDate(0, n, -1)
}

// Due is the last day on which the period's report is on time.
func (p Period) Due(r Rules) string {
	return p.last().AddDate(0, 0, r.ReportDueDays).Format(time.DateOnly)
}

// Next and Prev are the adjacent periods of the same length.
func (p Period) Next() Period { return p.shift(1) }
func (p Period) Prev() Period { return p.shift(-1) }

func (p Period) shift(n int) Period {
	if p.Quarter > 0 {
		q := p.Year*4 + p.Quarter - 1 + n
		return Period{Year: q / 4, Quarter: q%4 + 1}
	}
	m := p.Year*12 + p.Month - 1 + n
	return Period{Year: m / 12, Month: m%12 + 1}
}

// PeriodOf is the period of rhythm r that contains the day (YYYY-MM-DD).
func (r Rules) PeriodOf(day string) Period {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return Period{}
	}
	if r.ReportEvery == "month" {
		return Period{Year: t.Year(), Month: int(t.Month())}
	}
	return Period{Year: t.Year(), Quarter: (int(t.Month())-1)/3 + 1}
}

// ReportPeriod is the period a report dated day is taken for when none is
// named: the period just ended while its report is still due, else the
// period the day falls in.
func (r Rules) ReportPeriod(day string) Period {
	cur := r.PeriodOf(day)
	if prev := cur.Prev(); day <= prev.Due(r) {
		return prev
	}
	return cur
}

// LastDue is the latest period whose report was due before today: the one
// the overdue rule checks.
func (r Rules) LastDue(today string) Period {
	p := r.PeriodOf(today).Prev()
	for p.Due(r) >= today {
		p = p.Prev()
	}
	return p
}
