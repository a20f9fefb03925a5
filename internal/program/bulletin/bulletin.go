// Package bulletin compiles the work team's quarterly progress bulletin
// (定期通报, plan 三(一)): the indicator table with each indicator's status
// and projection, the task list's progress, the regions ranked, and the
// overdue reports and milestones. The same bulletin is rendered as an Excel
// workbook here and as a printable page by the web UI.
package bulletin

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
	"wufei/internal/calendar"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/program/cell"
	"wufei/internal/program/indicator"
	"wufei/internal/program/task"
	"wufei/internal/store"
)

// Bulletin is one quarter's bulletin.
type Bulletin struct {
	Period      string         `json:"period"`
	Title       string         `json:"title"`
	From, To    string         `json:"-"` // the quarter's first and last day
	AsOf        string         `json:"as_of" doc:"统计截至日期"`
	GeneratedAt time.Time      `json:"generated_at"`
	Summary     Summary        `json:"summary"`
	Indicators  []IndicatorRow `json:"indicators"`
	Tasks       []TaskRow      `json:"tasks"`
	Regions     []RegionRow    `json:"regions"`
	Overdue     []OverdueRow   `json:"overdue"`
}

// Summary is the bulletin's headline figures.
type Summary struct {
	Tasks            int     `json:"tasks"`
	MeanProgress     float64 `json:"mean_progress" doc:"任务平均进度（%）"`
	ReportsFiled     int     `json:"reports_filed" doc:"本季度已报送的进展报告"`
	ReportsOwed      int     `json:"reports_owed" doc:"本季度应报未报"`
	Overdue          int     `json:"overdue" doc:"逾期事项"`
	CellsCertified   int     `json:"cells_certified" doc:"截至季度末命名的无废细胞"`
	IndicatorsGood   int     `json:"indicators_good" doc:"已达标或进度正常的指标"`
	IndicatorsJudged int     `json:"indicators_judged" doc:"可评价的指标"`
}

// IndicatorRow is one indicator of the city for the quarter.
type IndicatorRow struct {
	ID         string   `json:"id"`
	Level1     string   `json:"level1"`
	Name       string   `json:"name"`
	Unit       string   `json:"unit"`
	Lead       string   `json:"lead"`
	Target     *float64 `json:"target"`
	TargetYear *int     `json:"target_year"`
	Value      *float64 `json:"value"`
	Status     string   `json:"status"`
	StatusName string   `json:"status_name"`
	Projected  *float64 `json:"projected"`
}

// TaskRow is one task's progress for the quarter.
type TaskRow struct {
	Code         string `json:"code"`
	Group        string `json:"group"`
	Title        string `json:"title"`
	Lead         string `json:"lead"`
	Target       string `json:"target"`
	Deadline     string `json:"deadline"`
	Progress     int    `json:"progress" doc:"截至本季度报送期末已通过审核的进度（%）"`
	ProgressDate string `json:"progress_date,omitempty"`
	Reports      string `json:"reports" doc:"各责任单位本季度报送情况"`
	Filed        int    `json:"filed"`
	Owed         int    `json:"owed"`
	Milestones   string `json:"milestones" doc:"到期节点完成情况，如 2/3"`
}

// RegionRow is one county, district or park, ranked.
type RegionRow struct {
	Rank   int     `json:"rank"`
	Code   string  `json:"code"`
	Name   string  `json:"name"`
	Good   int     `json:"good" doc:"已达标或进度正常的指标"`
	AtRisk int     `json:"at_risk"`
	Judged int     `json:"judged" doc:"可评价的指标"`
	Score  float64 `json:"score" doc:"指标得分：已达标或进度正常计 1、有风险计 0.5，占可评价指标的百分比"`
	Cells  int     `json:"cells" doc:"截至季度末命名的无废细胞"`
}

// OverdueRow is one report or milestone past its date.
type OverdueRow struct {
	Kind       string `json:"kind" enum:"report,milestone"`
	KindName   string `json:"kind_name"`
	TaskCode   string `json:"task_code"`
	TaskTitle  string `json:"task_title"`
	Department string `json:"department"`
	Item       string `json:"item"`
	DueDate    string `json:"due_date"`
	Days       int    `json:"days" doc:"逾期天数（至统计截至日）"`
}

// StatusNames are the indicator statuses in Chinese.
var StatusNames = map[string]string{"achieved": "已达标", "on_track": "进度正常", "at_risk": "有风险", "off_track": "滞后",
	"no_data": "无数据"}

// Service compiles bulletins.
type Service struct {
	db         *store.DB
	indicators *indicator.Service
}

// NewService returns a Service on db reading indicators from ind.
func NewService(db *store.DB, ind *indicator.Service) *Service {
	return &Service{db: db, indicators: ind}
}

// quarterNames are the quarters as a title writes them.
var quarterNames = []string{"", "第一季度", "第二季度", "第三季度", "第四季度"}

// Build compiles the bulletin of a quarter ("2026Q3") as it stands at now.
// The work team, admins and city-wide regulators may; a quarter not yet
// begun, or before the plan, is refused.
func (s *Service) Build(ctx context.Context, p auth.Principal, period string, now time.Time) (Bulletin, error) {
	var b Bulletin
	q := s.db.Reader()
	dept, err := task.DepartmentOf(ctx, q, p)
	if err != nil {
		return b, err
	}
	if !task.IsWorkTeam(p, dept) && !(p.Role == auth.Regulator && p.SeesAllRegions()) {
		return b, errs.E(errs.Forbidden, "forbidden", "通报仅供工作专班和市级部门查看")
	}
	per, ok := task.ParsePeriod(period)
	today := task.Today(now)
	switch {
	case !ok || per.Monthly():
		return b, errs.Field("period", "period_format", "通报期格式应为 2026Q3")
	case per.Year < 2024 || per.Start() > today:
		return b, errs.Field("period", "period_range", "通报期须在 2024 年第一季度至本季度之间")
	}
	rules, err := task.LoadRules(ctx, q)
	if err != nil {
		return b, err
	}
	b = Bulletin{Period: per.String(), From: per.Start(), To: per.End(), AsOf: min(per.End(), today), GeneratedAt: now.UTC(),
		Title: fmt.Sprintf("淮北市“无废城市”建设工作进展通报（%d年%s）", per.Year, quarterNames[per.Quarter])}
	if err := s.tasks(ctx, q, &b, per, rules, today); err != nil {
		return b, err
	}
	if err := s.overdueMilestones(ctx, q, &b); err != nil {
		return b, err
	}
	if err := s.indicatorRows(ctx, p, &b); err != nil {
		return b, err
	}
	if err := s.regions(ctx, q, p, &b, per); err != nil {
		return b, err
	}
	b.Summary.Overdue = len(b.Overdue)
	return b, nil
}

// reportPeriods are the reporting periods that make up the quarter under
// the rules' rhythm.
func reportPeriods(per task.Period, r task.Rules) []task.Period {
	if r.ReportEvery != "month" {
		return []task.Period{per}
	}
	m := r.PeriodOf(per.Start())
	return []task.Period{m, m.Next(), m.Next().Next()}
}

func (s *Service) tasks(ctx context.Context, q store.Querier, b *Bulletin, per task.Period, r task.Rules, today string) error {
	ts, err := task.NewService(s.db).List(ctx, auth.Principal{Role: auth.Admin}, task.Filter{})
	if err != nil {
		return err
	}
	periods := reportPeriods(per, r)
	last := periods[len(periods)-1]
	names := make([]string, len(periods))
	for i, p := range periods {
		names[i] = p.String()
	}
	// Progress as the work team had accepted it by the quarter's report due date.
	var accepted []struct {
		TaskID  string `db:"task_id"`
		Percent int    `db:"percent"`
		Date    string `db:"report_date"`
	}
	if err := store.Select(ctx, q, &accepted, `SELECT task_id, percent, report_date FROM task_reports
		WHERE status = 'accepted' AND report_date <= ? ORDER BY task_id, report_date DESC, created_at DESC`,
		last.Due(r)); err != nil {
		return err
	}
	progress := map[string]int{} // task → index of its latest accepted report
	for i := len(accepted) - 1; i >= 0; i-- {
		progress[accepted[i].TaskID] = i
	}
	query, args, err := store.In(`SELECT task_id, department_code, status, percent FROM task_reports WHERE period IN (?)
		ORDER BY task_id, created_at`, names)
	if err != nil {
		return err
	}
	var filed []struct {
		TaskID  string `db:"task_id"`
		Dept    string `db:"department_code"`
		Status  string `db:"status"`
		Percent int    `db:"percent"`
	}
	if err := store.Select(ctx, q, &filed, query, args...); err != nil {
		return err
	}
	latest := map[string]map[string]string{} // task → department → its latest report, described
	for _, f := range filed {
		if latest[f.TaskID] == nil {
			latest[f.TaskID] = map[string]string{}
		}
		latest[f.TaskID][f.Dept] = map[string]string{task.Submitted: "待审核", task.Accepted: "已通过",
			task.Returned: "已退回"}[f.Status] + fmt.Sprintf(" %d%%", f.Percent)
	}
	owedBy := map[string]map[string]bool{}
	for _, p := range periods {
		owed, err := task.OwedReports(ctx, q, r, p)
		if err != nil {
			return err
		}
		overdue := p.Due(r) < today
		for _, o := range owed {
			if owedBy[o.TaskID] == nil {
				owedBy[o.TaskID] = map[string]bool{}
			}
			owedBy[o.TaskID][o.DepartmentCode] = true
			b.Summary.ReportsOwed++
			if overdue {
				b.Overdue = append(b.Overdue, OverdueRow{Kind: "report", KindName: "进展报告", TaskCode: o.TaskCode,
					TaskTitle: o.TaskTitle, Department: o.DepartmentName, Item: o.Period + " 进展报告", DueDate: o.DueDate,
					Days: days(o.DueDate, today)})
			}
		}
	}
	var ms []struct {
		TaskID string     `db:"task_id"`
		Status string     `db:"status"`
		DoneAt *time.Time `db:"done_at"`
		Due    string     `db:"due_date"`
	}
	if err := store.Select(ctx, q, &ms, `SELECT task_id, status, done_at, due_date FROM task_milestones WHERE due_date <= ?`,
		b.AsOf); err != nil {
		return err
	}
	end := endOfDay(b.AsOf)
	msDue, msDone := map[string]int{}, map[string]int{}
	for _, m := range ms {
		msDue[m.TaskID]++
		if m.DoneAt != nil && m.DoneAt.Before(end) {
			msDone[m.TaskID]++
		}
	}
	sum := 0
	for _, t := range ts {
		row := TaskRow{Code: t.Code, Group: t.Group, Title: t.Title, Lead: t.LeadText, Target: t.Target, Deadline: t.Deadline}
		if i, ok := progress[t.ID]; ok {
			row.Progress, row.ProgressDate = accepted[i].Percent, accepted[i].Date
		}
		var parts []string
		seen := map[string]bool{}
		for _, d := range t.Lead {
			if d.Code == "" || seen[d.Code] {
				continue
			}
			seen[d.Code] = true
			switch desc, ok := latest[t.ID][d.Code]; {
			case owedBy[t.ID][d.Code]:
				row.Owed++
				if ok {
					desc = "未报送（" + desc + "）"
				} else {
					desc = "未报送"
				}
				parts = append(parts, d.Name+" "+desc)
			case ok:
				row.Filed++
				parts = append(parts, d.Name+" "+desc)
			}
		}
		var others []string // supporting departments that reported too
		for code := range latest[t.ID] {
			if !seen[code] {
				others = append(others, code)
			}
		}
		slices.Sort(others)
		for _, code := range others {
			row.Filed++
			parts = append(parts, departmentLabel(t, code)+" "+latest[t.ID][code])
		}
		row.Reports = strings.Join(parts, "；")
		if msDue[t.ID] > 0 {
			row.Milestones = fmt.Sprintf("%d/%d", msDone[t.ID], msDue[t.ID])
		}
		b.Summary.ReportsFiled += row.Filed
		sum += row.Progress
		b.Tasks = append(b.Tasks, row)
	}
	b.Summary.Tasks = len(b.Tasks)
	if len(b.Tasks) > 0 {
		b.Summary.MeanProgress = math.Round(float64(sum)/float64(len(b.Tasks))*10) / 10
	}
	return nil
}

func departmentLabel(t task.Task, code string) string {
	for _, d := range slices.Concat(t.Lead, t.Supporting, t.Local) {
		if d.Code == code {
			return d.Name
		}
	}
	return code
}

// overdueMilestones adds the milestones due before the bulletin's date and
// not done by then.
func (s *Service) overdueMilestones(ctx context.Context, q store.Querier, b *Bulletin) error {
	late, err := task.LateMilestones(ctx, q, b.AsOf)
	if err != nil {
		return err
	}
	for _, m := range late {
		b.Overdue = append(b.Overdue, OverdueRow{Kind: "milestone", KindName: "任务节点", TaskCode: m.TaskCode,
			TaskTitle: m.TaskTitle, Department: m.DepartmentName, Item: m.Title, DueDate: m.DueDate, Days: days(m.DueDate, b.AsOf)})
	}
	sort.SliceStable(b.Overdue, func(i, j int) bool { return b.Overdue[i].Days > b.Overdue[j].Days })
	return nil
}

// indicatorRows reads the city's indicators for the quarter.
func (s *Service) indicatorRows(ctx context.Context, p auth.Principal, b *Bulletin) error {
	items, err := s.indicators.List(ctx, p, indicator.ListFilter{Region: auth.CityCode, Period: b.Period})
	if err != nil {
		return err
	}
	for _, it := range items {
		b.Indicators = append(b.Indicators, IndicatorRow{ID: it.ID, Level1: it.Level1, Name: it.Name, Unit: it.Unit,
			Lead: it.LeadDepartment, Target: it.Target, TargetYear: it.TargetYear, Value: it.Value, Status: it.Status,
			StatusName: StatusNames[it.Status], Projected: it.Projected})
		switch it.Status {
		case "achieved", "on_track":
			b.Summary.IndicatorsGood++
			b.Summary.IndicatorsJudged++
		case "at_risk", "off_track":
			b.Summary.IndicatorsJudged++
		}
	}
	return nil
}

// regions ranks the counties, districts and parks by their indicators'
// statuses for the quarter, then by their certified zero-waste cells.
func (s *Service) regions(ctx context.Context, q store.Querier, p auth.Principal, b *Bulletin, per task.Period) error {
	areas, err := indicator.Areas(ctx, q)
	if err != nil {
		return err
	}
	cells, err := cell.CertifiedAt(ctx, q, endOfDay(b.AsOf))
	if err != nil {
		return err
	}
	for _, a := range areas {
		if a.Code == auth.CityCode {
			b.Summary.CellsCertified = cellsIn(cells, a)
			continue
		}
		if a.Level != "county" && !isPlanPark(a.Code) {
			continue
		}
		items, err := s.indicators.List(ctx, p, indicator.ListFilter{Region: a.Code, Period: per.String()})
		if err != nil {
			return err
		}
		row := RegionRow{Code: a.Code, Name: a.Name, Cells: cellsIn(cells, a)}
		for _, it := range items {
			switch it.Status {
			case "achieved", "on_track":
				row.Good++
				row.Judged++
			case "at_risk":
				row.AtRisk++
				row.Judged++
			case "off_track":
				row.Judged++
			}
		}
		if row.Judged > 0 {
			row.Score = math.Round((float64(row.Good)+0.5*float64(row.AtRisk))/float64(row.Judged)*1000) / 10
		}
		b.Regions = append(b.Regions, row)
	}
	sort.SliceStable(b.Regions, func(i, j int) bool {
		x, y := b.Regions[i], b.Regions[j]
		if x.Score != y.Score {
			return x.Score > y.Score
		}
		if x.Cells != y.Cells {
			return x.Cells > y.Cells
		}
		return x.Code < y.Code
	})
	for i := range b.Regions {
		b.Regions[i].Rank = i + 1
	}
	return nil
}

// isPlanPark reports whether code is one of the two parks the plan binds
// beside the counties: 市高新区 and 煤化工基地.
func isPlanPark(code string) bool { return code == "340600P01" || code == "340621P01" }

// cellsIn counts the certified cells of an area: a county's own (its parks
// included), or a park's.
func cellsIn(counts map[string]int, a indicator.Area) int {
	if a.Code == auth.CityCode {
		n := 0
		for code, c := range counts {
			if len(code) == 6 { // counties; parks are counted within them
				n += c
			}
		}
		return n
	}
	return counts[a.Code]
}

// days is how many days late a due date is on day.
func days(due, day string) int {
	d, err1 := time.Parse(time.DateOnly, due)
	t, err2 := time.Parse(time.DateOnly, day)
	if err1 != nil || err2 != nil || !t.After(d) {
		return 0
	}
	return int(t.Sub(d).Hours() / 24)
}

// endOfDay is the instant day (YYYY-MM-DD) ends in China.
func endOfDay(day string) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, day, calendar.Zone)
	if err != nil {
		return time.Time{}
	}
	return t.AddDate(0, 0, 1).UTC()
}
