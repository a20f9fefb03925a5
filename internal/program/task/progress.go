package task

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"wufei/internal/alerts"
	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/store"
)

// Milestone is a step a department sets itself on a task, with its due date.
type Milestone struct {
	ID             string     `db:"id" json:"id"`
	TaskID         string     `db:"task_id" json:"task_id"`
	DepartmentCode string     `db:"department_code" json:"department_code"`
	DepartmentName string     `db:"department_name" json:"department_name"`
	Title          string     `db:"title" json:"title"`
	DueDate        string     `db:"due_date" json:"due_date" doc:"YYYY-MM-DD"`
	Status         string     `db:"status" json:"status" enum:"open,done"`
	Note           string     `db:"note" json:"note"`
	DoneAt         *time.Time `db:"done_at" json:"done_at,omitempty"`
	Overdue        bool       `db:"-" json:"overdue" doc:"已过期限仍未完成"`
	CreatedBy      string     `db:"created_by" json:"created_by"`
	CreatedAt      time.Time  `db:"created_at" json:"created_at"`
	UpdatedAt      time.Time  `db:"updated_at" json:"updated_at"`
	Version        int64      `db:"version" json:"version"`
}

// NewMilestone is what adding a milestone takes.
type NewMilestone struct {
	DepartmentCode string `json:"department_code,omitempty" maxLength:"40" doc:"负责部门；部门账号不填即本部门，工作专班须填"`
	Title          string `json:"title" maxLength:"200" doc:"节点内容"`
	DueDate        string `json:"due_date" maxLength:"10" doc:"完成期限 YYYY-MM-DD"`
	Note           string `json:"note,omitempty" maxLength:"2000"`
}

// Report is a department's progress report on a task.
type Report struct {
	ID             string     `db:"id" json:"id"`
	TaskID         string     `db:"task_id" json:"task_id"`
	DepartmentCode string     `db:"department_code" json:"department_code"`
	DepartmentName string     `db:"department_name" json:"department_name"`
	Period         string     `db:"period" json:"period" doc:"报送周期，如 2026Q3"`
	Percent        int        `db:"percent" json:"percent" doc:"完成进度（%）"`
	Text           string     `db:"text" json:"text"`
	ReportDate     string     `db:"report_date" json:"report_date" doc:"进展截至日期 YYYY-MM-DD"`
	Status         string     `db:"status" json:"status" enum:"submitted,accepted,returned"`
	ReviewNote     string     `db:"review_note" json:"review_note" doc:"审核意见或退回原因"`
	SubmittedBy    string     `db:"submitted_by" json:"submitted_by"`
	ReviewedBy     string     `db:"reviewed_by" json:"reviewed_by,omitempty"`
	ReviewedAt     *time.Time `db:"reviewed_at" json:"reviewed_at,omitempty"`
	Evidence       []Evidence `db:"-" json:"evidence"`
	CreatedAt      time.Time  `db:"created_at" json:"created_at"`
	UpdatedAt      time.Time  `db:"updated_at" json:"updated_at"`
	Version        int64      `db:"version" json:"version"`
}

// Evidence describes one evidence file of a report.
type Evidence struct {
	ID          string `db:"id" json:"id"`
	ReportID    string `db:"report_id" json:"-"`
	Name        string `db:"name" json:"name"`
	ContentType string `db:"content_type" json:"content_type"`
	Size        int64  `db:"size" json:"size" doc:"字节"`
	SHA256      string `db:"sha256" json:"sha256" doc:"文件的 SHA-256（十六进制）"`
}

// File is an evidence file as submitted, and as downloaded.
type File struct {
	Name        string `json:"name" maxLength:"200" doc:"文件名"`
	ContentType string `json:"content_type,omitempty" maxLength:"100" doc:"不填则按内容判断"`
	Data        []byte `json:"data" doc:"文件内容（base64）"`
}

// NewReport is what submitting a progress report takes.
type NewReport struct {
	DepartmentCode string `json:"department_code,omitempty" maxLength:"40" doc:"报送部门；部门账号不填即本部门"`
	Period         string `json:"period,omitempty" maxLength:"7" doc:"报送周期 2026Q3（按月报送时 2026-09）；不填按进展日期推定"`
	Percent        int    `json:"percent" doc:"完成进度 0–100（%）"`
	Text           string `json:"text" maxLength:"4000" doc:"进展情况"`
	ReportDate     string `json:"report_date,omitempty" maxLength:"10" doc:"进展截至日期 YYYY-MM-DD，默认今天"`
	Evidence       []File `json:"evidence,omitempty" doc:"佐证材料"`
}

// ownerFor decides which department files a milestone or report on t for
// p, naming the field at fault: a department account files for its own
// department if that department leads or supports the task; an admin (and,
// for milestones, the work team) names the department.
func ownerFor(p auth.Principal, dept string, t Task, named string, workTeamMay bool) (string, error) {
	notOwned := &errs.Error{Kind: errs.Forbidden, Code: "task_not_owned", Message: "本部门不是该任务的责任单位或配合单位",
		Fields: []errs.FieldError{{Field: "department_code", Code: "task_not_owned", Message: "本部门不是该任务的责任单位或配合单位"}}}
	switch {
	case p.Role == auth.Regulator && t.owns(dept) && (named == "" || named == dept):
		return dept, nil
	case p.Role == auth.Admin || (workTeamMay && IsWorkTeam(p, dept)):
		if named == "" {
			return "", errs.Field("department_code", "department_required", "请指定责任单位或配合单位")
		}
		if !t.owns(named) {
			return "", errs.Field("department_code", "task_not_owned", "该部门不是该任务的责任单位或配合单位")
		}
		return named, nil
	case p.Role == auth.Regulator:
		return "", notOwned
	}
	return "", errs.E(errs.Forbidden, "forbidden", "只有任务的责任单位、配合单位可以报送")
}

// validDate reports whether s is a calendar date YYYY-MM-DD.
func validDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// firstDay is the first day of the plan's term (建设时限 2024年1月至2027年12月).
const firstDay = "2024-01-01"

// AddMilestone adds a milestone to a task for a department that leads or
// supports it.
func (s *Service) AddMilestone(ctx context.Context, p auth.Principal, taskID string, in NewMilestone) (Milestone, error) {
	var m Milestone
	in.Title, in.Note, in.DueDate = strings.TrimSpace(in.Title), strings.TrimSpace(in.Note), strings.TrimSpace(in.DueDate)
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		t, err := getTask(ctx, tx, taskID)
		if err != nil {
			return err
		}
		dept, err := DepartmentOf(ctx, tx, p)
		if err != nil {
			return err
		}
		owner, err := ownerFor(p, dept, t, strings.TrimSpace(in.DepartmentCode), true)
		if err != nil {
			return err
		}
		var v errs.Validation
		if in.Title == "" || utf8.RuneCountInString(in.Title) > 200 {
			v.Add("title", "title_length", "请填写节点内容（不超过 200 字）")
		}
		switch {
		case !validDate(in.DueDate):
			v.Add("due_date", "date_format", "日期格式应为 YYYY-MM-DD")
		case in.DueDate < firstDay || in.DueDate > "2035-12-31":
			v.Add("due_date", "date_range", "期限须在 2024 年至 2035 年之间")
		}
		if utf8.RuneCountInString(in.Note) > 2000 {
			v.Add("note", "note_length", "备注不超过 2000 字")
		}
		if err := v.Err(); err != nil {
			return err
		}
		m = Milestone{ID: uuid.Must(uuid.NewV7()).String(), TaskID: t.ID, DepartmentCode: owner, Title: in.Title,
			DueDate: in.DueDate, Status: Open, Note: in.Note, CreatedBy: p.Username, CreatedAt: tx.Now, UpdatedAt: tx.Now,
			Version: 1}
		if _, err := store.Exec(ctx, tx, `INSERT INTO task_milestones (id, task_id, department_code, title, due_date, status,
			note, created_by, region_code, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
			m.ID, m.TaskID, m.DepartmentCode, m.Title, m.DueDate, m.Status, m.Note, m.CreatedBy, t.RegionCode, tx.Now, tx.Now); err != nil {
			return err
		}
		if m.DepartmentName, err = departmentName(ctx, tx, owner); err != nil {
			return err
		}
		m.Overdue = m.DueDate < Today(tx.Now)
		_, err = audit.Append(ctx, tx, p.Actor(), audit.Record{Action: "task_milestone.create", Entity: "task_milestone",
			EntityID: m.ID, RegionCode: t.RegionCode, Change: m})
		return err
	})
	return m, err
}

// CompleteMilestone marks a milestone done, by its department (or the work
// team), and closes its overdue alert.
func (s *Service) CompleteMilestone(ctx context.Context, p auth.Principal, taskID, id, note string, version int64) (Milestone, error) {
	var m Milestone
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		t, err := getTask(ctx, tx, taskID)
		if err != nil {
			return err
		}
		if m, err = getMilestone(ctx, tx, taskID, id); err != nil {
			return err
		}
		dept, err := DepartmentOf(ctx, tx, p)
		if err != nil {
			return err
		}
		if !IsWorkTeam(p, dept) && !(p.Role == auth.Regulator && dept == m.DepartmentCode) {
			return errs.E(errs.Forbidden, "forbidden", "只有负责部门或工作专班可以办结该节点")
		}
		if m.Status != Open {
			return errs.E(errs.Conflict, "milestone_done", "该节点已办结")
		}
		if version > 0 && version != m.Version {
			return errs.E(errs.Conflict, "version_conflict", "数据已被他人修改，请刷新后重试")
		}
		note = strings.TrimSpace(note)
		if utf8.RuneCountInString(note) > 2000 {
			return errs.Field("note", "note_length", "备注不超过 2000 字")
		}
		if note == "" {
			note = m.Note
		}
		n, err := store.Exec(ctx, tx, `UPDATE task_milestones SET status = ?, note = ?, done_at = ?, updated_at = ?,
			version = version + 1 WHERE id = ? AND version = ?`, Done, note, tx.Now, tx.Now, m.ID, m.Version)
		if err != nil {
			return err
		}
		if n == 0 {
			return errs.E(errs.Conflict, "version_conflict", "数据已被他人修改，请刷新后重试")
		}
		now := tx.Now
		m.Status, m.Note, m.DoneAt, m.UpdatedAt, m.Version, m.Overdue = Done, note, &now, tx.Now, m.Version+1, false
		if _, err := alerts.Resolve(ctx, tx, KindMilestoneOverdue, "task_milestone", m.ID, "节点已办结"); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, p.Actor(), audit.Record{Action: "task_milestone.done", Entity: "task_milestone",
			EntityID: m.ID, RegionCode: t.RegionCode, Change: map[string]any{"status": Done, "note": note}})
		return err
	})
	return m, err
}

const milestoneColumns = `m.id, m.task_id, m.department_code, COALESCE(d.name, m.department_code) AS department_name,
	m.title, m.due_date, m.status, m.note, m.done_at, m.created_by, m.created_at, m.updated_at, m.version`

func getMilestone(ctx context.Context, q store.Querier, taskID, id string) (Milestone, error) {
	var m Milestone
	err := store.Get(ctx, q, &m, `SELECT `+milestoneColumns+` FROM task_milestones m
		LEFT JOIN departments d ON d.code = m.department_code WHERE m.id = ? AND m.task_id = ?`, id, taskID)
	if errors.Is(err, store.ErrNotFound) {
		return m, errs.E(errs.NotFound, "milestone_not_found", "节点不存在")
	}
	return m, err
}

// listMilestones lists the milestones of tasks by due date.
func listMilestones(ctx context.Context, q store.Querier, taskIDs []string, now time.Time) ([]Milestone, error) {
	out := []Milestone{}
	if len(taskIDs) == 0 {
		return out, nil
	}
	query, args, err := store.In(`SELECT `+milestoneColumns+` FROM task_milestones m
		LEFT JOIN departments d ON d.code = m.department_code WHERE m.task_id IN (?) ORDER BY m.due_date, m.id`, taskIDs)
	if err != nil {
		return nil, err
	}
	if err := store.Select(ctx, q, &out, query, args...); err != nil {
		return nil, err
	}
	today := Today(now)
	for i := range out {
		out[i].Overdue = out[i].Status == Open && out[i].DueDate < today
	}
	return out, nil
}

func departmentName(ctx context.Context, q store.Querier, code string) (string, error) {
	var name string
	err := store.Get(ctx, q, &name, `SELECT name FROM departments WHERE code = ?`, code)
	if errors.Is(err, store.ErrNotFound) {
		return code, nil
	}
	return name, err
}

// SubmitReport files a department's progress report on a task, with its
// evidence stored beside it under its SHA-256, and closes the overdue alert
// of that department, task and period.
func (s *Service) SubmitReport(ctx context.Context, p auth.Principal, taskID string, in NewReport) (Report, error) {
	var r Report
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		t, err := getTask(ctx, tx, taskID)
		if err != nil {
			return err
		}
		dept, err := DepartmentOf(ctx, tx, p)
		if err != nil {
			return err
		}
		owner, err := ownerFor(p, dept, t, strings.TrimSpace(in.DepartmentCode), false)
		if err != nil {
			return err
		}
		rules, err := LoadRules(ctx, tx)
		if err != nil {
			return err
		}
		today := Today(tx.Now)
		in.Text, in.ReportDate, in.Period = strings.TrimSpace(in.Text), strings.TrimSpace(in.ReportDate), strings.TrimSpace(in.Period)
		if in.ReportDate == "" {
			in.ReportDate = today
		}
		var v errs.Validation
		if in.Percent < 0 || in.Percent > 100 {
			v.Add("percent", "percent_range", "完成进度须在 0 至 100 之间")
		}
		if in.Text == "" || utf8.RuneCountInString(in.Text) > 4000 {
			v.Add("text", "text_length", "请填写进展情况（不超过 4000 字）")
		}
		dateOK := false
		switch {
		case !validDate(in.ReportDate):
			v.Add("report_date", "date_format", "日期格式应为 YYYY-MM-DD")
		case in.ReportDate > today:
			v.Add("report_date", "date_future", "进展日期不能晚于今天")
		case in.ReportDate < firstDay:
			v.Add("report_date", "date_range", "进展日期不能早于方案实施（2024-01-01）")
		default:
			dateOK = true
		}
		period := Period{}
		if in.Period == "" {
			if dateOK {
				period = rules.ReportPeriod(in.ReportDate)
			}
		} else if pp, ok := ParsePeriod(in.Period); !ok || pp.Monthly() != (rules.ReportEvery == "month") {
			v.Add("period", "period_format", periodHint(rules))
		} else if period = pp; dateOK && pp.Start() > in.ReportDate {
			v.Add("period", "period_future", "报送周期不能晚于进展日期")
		}
		if len(in.Evidence) > rules.EvidenceMaxFiles {
			v.Add("evidence", "evidence_count", fmt.Sprintf("佐证材料最多 %d 个", rules.EvidenceMaxFiles))
		}
		for i, f := range in.Evidence {
			path := "evidence[" + strconv.Itoa(i) + "]"
			if name := strings.TrimSpace(f.Name); name == "" || utf8.RuneCountInString(name) > 200 || strings.ContainsAny(name, "/\\\x00") {
				v.Add(path+".name", "file_name", "请填写文件名（不含路径，不超过 200 字）")
			}
			if len(f.Data) == 0 {
				v.Add(path+".data", "file_empty", "文件为空")
			} else if len(f.Data) > rules.EvidenceMaxKB*1024 {
				v.Add(path+".data", "file_too_large", fmt.Sprintf("单个文件不超过 %d KB", rules.EvidenceMaxKB))
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		r = Report{ID: uuid.Must(uuid.NewV7()).String(), TaskID: t.ID, DepartmentCode: owner, Period: period.String(),
			Percent: in.Percent, Text: in.Text, ReportDate: in.ReportDate, Status: Submitted, SubmittedBy: p.Username,
			Evidence: []Evidence{}, CreatedAt: tx.Now, UpdatedAt: tx.Now, Version: 1}
		if _, err := store.Exec(ctx, tx, `INSERT INTO task_reports (id, task_id, department_code, period, percent, text,
			report_date, status, review_note, submitted_by, reviewed_by, region_code, created_at, updated_at, version)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?, '', ?, ?, ?, 1)`, r.ID, r.TaskID, r.DepartmentCode, r.Period, r.Percent,
			r.Text, r.ReportDate, r.Status, r.SubmittedBy, t.RegionCode, tx.Now, tx.Now); err != nil {
			return err
		}
		for i, f := range in.Evidence {
			sum := sha256.Sum256(f.Data)
			e := Evidence{ID: uuid.Must(uuid.NewV7()).String(), ReportID: r.ID, Name: strings.TrimSpace(f.Name),
				ContentType: strings.TrimSpace(f.ContentType), Size: int64(len(f.Data)), SHA256: hex.EncodeToString(sum[:])}
			if e.ContentType == "" {
				e.ContentType = http.DetectContentType(f.Data)
			}
			if _, err := store.Exec(ctx, tx, `INSERT INTO task_evidence (id, report_id, position, name, content_type, size,
				sha256, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.ID, r.ID, i+1, e.Name, e.ContentType, e.Size,
				e.SHA256, f.Data, tx.Now); err != nil {
				return err
			}
			r.Evidence = append(r.Evidence, e)
		}
		if r.DepartmentName, err = departmentName(ctx, tx, owner); err != nil {
			return err
		}
		if _, err := alerts.Resolve(ctx, tx, KindReportOverdue, "task_report", dueKey(t.ID, owner, r.Period), "已报送"); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, p.Actor(), audit.Record{Action: "task_report.submit", Entity: "task_report",
			EntityID: r.ID, RegionCode: t.RegionCode, Change: r})
		return err
	})
	return r, err
}

func periodHint(r Rules) string {
	if r.ReportEvery == "month" {
		return "报送周期格式应为 2026-09（按月报送）"
	}
	return "报送周期格式应为 2026Q3（按季度报送）"
}

// Accept accepts a submitted report. The task's progress becomes the
// report's unless a later-dated report has already been accepted.
func (s *Service) Accept(ctx context.Context, p auth.Principal, taskID, id, note string, version int64) (Report, error) {
	return s.review(ctx, p, taskID, id, Accepted, note, version)
}

// Return sends a submitted report back to its department with a reason.
func (s *Service) Return(ctx context.Context, p auth.Principal, taskID, id, reason string, version int64) (Report, error) {
	return s.review(ctx, p, taskID, id, Returned, reason, version)
}

func (s *Service) review(ctx context.Context, p auth.Principal, taskID, id, to, note string, version int64) (Report, error) {
	var r Report
	note = strings.TrimSpace(note)
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		t, err := getTask(ctx, tx, taskID)
		if err != nil {
			return err
		}
		if r, err = getReport(ctx, tx, taskID, id); err != nil {
			return err
		}
		dept, err := DepartmentOf(ctx, tx, p)
		if err != nil {
			return err
		}
		if !IsWorkTeam(p, dept) {
			return errs.E(errs.Forbidden, "forbidden", "只有工作专班可以审核进展报告")
		}
		if r.Status != Submitted {
			return errs.E(errs.Conflict, "report_reviewed", "该报告已审核")
		}
		if version > 0 && version != r.Version {
			return errs.E(errs.Conflict, "version_conflict", "数据已被他人修改，请刷新后重试")
		}
		if to == Returned && note == "" {
			return errs.Field("reason", "reason_required", "请填写退回原因")
		}
		if utf8.RuneCountInString(note) > 1000 {
			field := "note"
			if to == Returned {
				field = "reason"
			}
			return errs.Field(field, "note_length", "意见不超过 1000 字")
		}
		n, err := store.Exec(ctx, tx, `UPDATE task_reports SET status = ?, review_note = ?, reviewed_by = ?, reviewed_at = ?,
			updated_at = ?, version = version + 1 WHERE id = ? AND version = ?`, to, note, p.Username, tx.Now, tx.Now, r.ID, r.Version)
		if err != nil {
			return err
		}
		if n == 0 {
			return errs.E(errs.Conflict, "version_conflict", "数据已被他人修改，请刷新后重试")
		}
		now := tx.Now
		r.Status, r.ReviewNote, r.ReviewedBy, r.ReviewedAt, r.UpdatedAt, r.Version = to, note, p.Username, &now, tx.Now, r.Version+1
		change := map[string]any{"status": to, "note": note}
		if to == Accepted && r.ReportDate >= t.ProgressDate {
			if _, err := store.Exec(ctx, tx, `UPDATE tasks SET progress = ?, progress_date = ?, updated_at = ?, version = version + 1
				WHERE id = ?`, r.Percent, r.ReportDate, tx.Now, t.ID); err != nil {
				return err
			}
			change["task_progress"] = map[string]any{"before": t.Progress, "after": r.Percent}
		}
		_, err = audit.Append(ctx, tx, p.Actor(), audit.Record{Action: "task_report." + map[string]string{Accepted: "accept",
			Returned: "return"}[to], Entity: "task_report", EntityID: r.ID, RegionCode: t.RegionCode, Change: change})
		return err
	})
	return r, err
}

const reportColumns = `r.id, r.task_id, r.department_code, COALESCE(d.name, r.department_code) AS department_name, r.period,
	r.percent, r.text, r.report_date, r.status, r.review_note, r.submitted_by, r.reviewed_by, r.reviewed_at, r.created_at,
	r.updated_at, r.version`

func getReport(ctx context.Context, q store.Querier, taskID, id string) (Report, error) {
	var r Report
	err := store.Get(ctx, q, &r, `SELECT `+reportColumns+` FROM task_reports r
		LEFT JOIN departments d ON d.code = r.department_code WHERE r.id = ? AND r.task_id = ?`, id, taskID)
	if errors.Is(err, store.ErrNotFound) {
		return r, errs.E(errs.NotFound, "report_not_found", "进展报告不存在")
	}
	if err != nil {
		return r, err
	}
	rs := []Report{r}
	err = loadEvidence(ctx, q, rs)
	return rs[0], err
}

// listReports lists a task's reports, the newest first.
func listReports(ctx context.Context, q store.Querier, taskID string) ([]Report, error) {
	out := []Report{}
	if err := store.Select(ctx, q, &out, `SELECT `+reportColumns+` FROM task_reports r
		LEFT JOIN departments d ON d.code = r.department_code WHERE r.task_id = ?
		ORDER BY r.report_date DESC, r.created_at DESC`, taskID); err != nil {
		return nil, err
	}
	return out, loadEvidence(ctx, q, out)
}

func loadEvidence(ctx context.Context, q store.Querier, rs []Report) error {
	if len(rs) == 0 {
		return nil
	}
	idx := make(map[string]int, len(rs))
	ids := make([]string, len(rs))
	for i, r := range rs {
		idx[r.ID], ids[i] = i, r.ID
		rs[i].Evidence = []Evidence{}
	}
	query, args, err := store.In(`SELECT id, report_id, name, content_type, size, sha256 FROM task_evidence
		WHERE report_id IN (?) ORDER BY report_id, position`, ids)
	if err != nil {
		return err
	}
	var es []Evidence
	if err := store.Select(ctx, q, &es, query, args...); err != nil {
		return err
	}
	for _, e := range es {
		rs[idx[e.ReportID]].Evidence = append(rs[idx[e.ReportID]].Evidence, e)
	}
	return nil
}

// EvidenceFile returns one evidence file with its content, for department
// accounts and admins, as the task's reports are.
func (s *Service) EvidenceFile(ctx context.Context, p auth.Principal, taskID, reportID, id string) (File, Evidence, error) {
	var row struct {
		Evidence
		Data []byte `db:"data"`
	}
	if p.Role != auth.Admin && p.Role != auth.Regulator {
		return File{}, Evidence{}, errs.E(errs.NotFound, "evidence_not_found", "佐证材料不存在")
	}
	err := store.Get(ctx, s.db.Reader(), &row, `SELECT e.id, e.report_id, e.name, e.content_type, e.size, e.sha256, e.data
		FROM task_evidence e JOIN task_reports r ON r.id = e.report_id WHERE e.id = ? AND e.report_id = ? AND r.task_id = ?`,
		id, reportID, taskID)
	if errors.Is(err, store.ErrNotFound) {
		return File{}, Evidence{}, errs.E(errs.NotFound, "evidence_not_found", "佐证材料不存在")
	}
	return File{Name: row.Name, ContentType: row.ContentType, Data: row.Data}, row.Evidence, err
}
