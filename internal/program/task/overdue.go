package task

import (
	"context"
	"time"
	"wufei/internal/calendar"

	"wufei/internal/alerts"
	"wufei/internal/auth"
	"wufei/internal/store"
)

// Alert kinds the overdue rule raises.
const (
	KindReportOverdue    = "task_report_overdue"
	KindMilestoneOverdue = "task_milestone_overdue"
)

// dueKey names one report that is owed: a department's report on a task for
// a period. It is the alert's subject id, so a report owed raises one alert.
func dueKey(taskID, dept, period string) string { return taskID + "/" + dept + "/" + period }

// Owed is a progress report not filed by its due date.
type Owed struct {
	TaskID         string `db:"id" json:"task_id"`
	TaskCode       string `db:"code" json:"task_code"`
	TaskTitle      string `db:"title" json:"task_title"`
	DepartmentCode string `db:"department_code" json:"department_code"`
	DepartmentName string `db:"department_name" json:"department_name"`
	Period         string `db:"-" json:"period"`
	DueDate        string `db:"-" json:"due_date"`
}

// OwedReports lists the reports for period that each lead department owes
// and has not filed (submitted or accepted) — whether or not the due date
// has passed; the caller compares it with today.
func OwedReports(ctx context.Context, q store.Querier, r Rules, period Period) ([]Owed, error) {
	var out []Owed
	err := store.Select(ctx, q, &out, `SELECT t.id, t.code, t.title, d.department_code,
		COALESCE(dep.name, d.name) AS department_name
		FROM tasks t JOIN task_departments d ON d.task_id = t.id AND d.role = 'lead' AND d.department_code <> ''
		LEFT JOIN departments dep ON dep.code = d.department_code
		WHERE t.deadline >= ? AND NOT EXISTS (SELECT 1 FROM task_reports r WHERE r.task_id = t.id
			AND r.department_code = d.department_code AND r.period = ? AND r.status IN ('submitted', 'accepted'))
		ORDER BY t.position, d.position`, period.Start(), period.String())
	for i := range out {
		out[i].Period, out[i].DueDate = period.String(), period.Due(r)
	}
	return out, err
}

// LateMilestone is a milestone past its due date that was not done by then.
type LateMilestone struct {
	Milestone
	TaskCode  string `db:"task_code" json:"task_code"`
	TaskTitle string `db:"task_title" json:"task_title"`
}

// LateMilestones lists milestones due on or before day that were still open
// at the end of it: open now, or done only afterwards.
func LateMilestones(ctx context.Context, q store.Querier, day string) ([]LateMilestone, error) {
	end, err := time.ParseInLocation(time.DateOnly, day, calendar.Zone)
	if err != nil {
		return nil, err
	}
	var out []LateMilestone
	err = store.Select(ctx, q, &out, `SELECT `+milestoneColumns+`, t.code AS task_code, t.title AS task_title
		FROM task_milestones m JOIN tasks t ON t.id = m.task_id LEFT JOIN departments d ON d.code = m.department_code
		WHERE m.due_date < ? AND (m.status = 'open' OR m.done_at >= ?) ORDER BY m.due_date, m.id`,
		day, end.AddDate(0, 0, 1).UTC())
	for i := range out {
		out[i].Overdue = true
	}
	return out, err
}

// CheckOverdue is the scheduled rule: it raises one alert for each report
// of the latest period now past its due date that a lead department has not
// filed, and one for each open milestone past its due date. Alerts are
// deduplicated by subject, so running it again raises nothing new; filing
// the report or finishing the milestone closes the alert.
func CheckOverdue(ctx context.Context, db *store.DB, now time.Time) (int, error) {
	r, err := LoadRules(ctx, db.Reader())
	if err != nil {
		return 0, err
	}
	today := Today(now)
	raised := 0
	raise := func(a alerts.Alert) error {
		return db.Tx(ctx, func(tx *store.Tx) error {
			got, err := alerts.Raise(ctx, tx, a)
			if err == nil && got.CreatedAt.Equal(tx.Now) {
				raised++
			}
			return err
		})
	}
	if period := r.LastDue(today); period.End() >= firstDay {
		owed, err := OwedReports(ctx, db.Reader(), r, period)
		if err != nil {
			return raised, err
		}
		for _, o := range owed {
			due := endOfDay(o.DueDate)
			if err := raise(alerts.Alert{Kind: KindReportOverdue, Severity: alerts.Warning,
				Title:   "任务 " + o.TaskCode + " " + o.DepartmentName + " " + o.Period + " 进展逾期未报送",
				Detail:  o.TaskTitle + "：责任单位应于 " + o.DueDate + " 前报送本期进展",
				Subject: "task_report", SubjectID: dueKey(o.TaskID, o.DepartmentCode, o.Period),
				SubjectRef: o.TaskCode + " " + o.Period, RegionCode: auth.CityCode, DueAt: &due}); err != nil {
				return raised, err
			}
		}
	}
	late, err := LateMilestones(ctx, db.Reader(), today)
	if err != nil {
		return raised, err
	}
	for _, m := range late {
		if m.Status != Open {
			continue
		}
		due := endOfDay(m.DueDate)
		if err := raise(alerts.Alert{Kind: KindMilestoneOverdue, Severity: alerts.Warning,
			Title:   "任务 " + m.TaskCode + " 节点逾期：" + m.Title,
			Detail:  m.DepartmentName + " 应于 " + m.DueDate + " 前完成",
			Subject: "task_milestone", SubjectID: m.ID, SubjectRef: m.TaskCode, RegionCode: auth.CityCode, DueAt: &due}); err != nil {
			return raised, err
		}
	}
	return raised, nil
}

// endOfDay is the instant a due date passes: the start of the next day in
// China.
func endOfDay(day string) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, day, calendar.Zone)
	if err != nil {
		return time.Time{}
	}
	return t.AddDate(0, 0, 1).UTC()
}
