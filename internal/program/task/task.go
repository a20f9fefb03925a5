// Package task is the Zero-Waste City task list (任务清单): the plan's 32
// tasks and 3 safeguard measures with the departments they bind, the
// milestones and quarterly progress reports those departments file, and the
// work team's review of them. The department responsibility list (部门责任
// 清单) is the same data seen from one department.
package task

import (
	"context"
	"errors"
	"slices"
	"time"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/store"
)

// WorkTeam is the department code of the 无废城市 work team (工作专班),
// which reviews progress reports and keeps the programme's data.
const WorkTeam = "wfzb"

// Kinds of entry in the task list.
const (
	KindTask      = "task"      // 主要任务 (section 二)
	KindSafeguard = "safeguard" // 保障措施 (section 三)
)

// Roles a department plays in a task.
const (
	Lead       = "lead"       // 责任单位
	Supporting = "supporting" // 配合单位
	Local      = "local"      // the county governments and park committees every task binds
)

// Statuses of a progress report.
const (
	Submitted = "submitted"
	Accepted  = "accepted"
	Returned  = "returned"
)

// Statuses of a milestone.
const (
	Open = "open"
	Done = "done"
)

// Department is a department as a task names it: the text's own name and,
// where the registry holds a matching department, its code.
type Department struct {
	Name string `json:"name" doc:"部门名称（文中写法，或登记的部门名称）"`
	Code string `json:"code,omitempty" doc:"登记的部门代码；文中单位无对应部门（如“产废企业”）时为空"`
}

// Task is one entry of the task list.
type Task struct {
	ID             string       `db:"id" json:"id"`
	Code           string       `db:"code" json:"code" doc:"方案中的编号，如 二(一)1、三(一)"`
	Kind           string       `db:"kind" json:"kind" enum:"task,safeguard" doc:"task 主要任务，safeguard 保障措施"`
	Group          string       `db:"group_code" json:"group" doc:"分组，如 二(一)、三"`
	GroupTitle     string       `db:"group_title" json:"group_title"`
	Number         int          `db:"number" json:"number"`
	Title          string       `db:"title" json:"title"`
	Text           string       `db:"body" json:"text" doc:"方案原文"`
	LeadText       string       `db:"lead_text" json:"lead_text" doc:"责任单位（原文）"`
	SupportingText string       `db:"supporting_text" json:"supporting_text" doc:"配合单位（原文）"`
	Lead           []Department `db:"-" json:"lead_departments"`
	Supporting     []Department `db:"-" json:"supporting_departments"`
	Local          []Department `db:"-" json:"local_departments" doc:"各县区人民政府、市高新区、煤化工基地管委会（方案：以下均需落实）"`
	Target         string       `db:"target" json:"target" doc:"任务所带目标（原文），无则为空"`
	Deadline       string       `db:"deadline" json:"deadline" doc:"完成期限 YYYY-MM-DD"`
	RegionCode     string       `db:"region_code" json:"region_code"`
	Progress       int          `db:"progress" json:"progress" doc:"最近一次通过审核的进展（%）"`
	ProgressDate   string       `db:"progress_date" json:"progress_date,omitempty" doc:"该进展的日期"`
	Role           string       `db:"-" json:"role,omitempty" enum:"lead,supporting,local" doc:"按部门查看时，该部门的角色"`
	Position       int          `db:"position" json:"-"`
	CreatedAt      time.Time    `db:"created_at" json:"created_at"`
	UpdatedAt      time.Time    `db:"updated_at" json:"updated_at"`
	Version        int64        `db:"version" json:"version"`
}

// roleOf is the strongest role code plays in t, or "".
func (t Task) roleOf(code string) string {
	has := func(ds []Department) bool {
		return code != "" && slices.ContainsFunc(ds, func(d Department) bool { return d.Code == code })
	}
	switch {
	case has(t.Lead):
		return Lead
	case has(t.Supporting):
		return Supporting
	case has(t.Local):
		return Local
	}
	return ""
}

// owns reports whether the department code leads or supports t: those
// departments file its milestones and reports.
func (t Task) owns(code string) bool {
	r := t.roleOf(code)
	return r == Lead || r == Supporting
}

// Detail is a task with its milestones and, for departments, its reports.
type Detail struct {
	Task
	Milestones []Milestone `json:"milestones"`
	Reports    []Report    `json:"reports" doc:"进展报告，新的在前；仅部门账号可见"`
}

// Service runs the task list's use cases.
type Service struct{ db *store.DB }

// NewService returns a Service on db.
func NewService(db *store.DB) *Service { return &Service{db: db} }

const taskColumns = `t.id, t.code, t.kind, t.group_code, t.group_title, t.number, t.title, t.body, t.lead_text,
	t.supporting_text, t.target, t.deadline, t.region_code, t.progress, t.progress_date, t.position, t.created_at,
	t.updated_at, t.version`

// Filter narrows the task list.
type Filter struct {
	Department string // a department code: the tasks binding it
	Group      string // 二(一) … 三
}

// List returns the task list in the plan's order. Every signed-in account
// may read it: it is the published plan and its progress.
func (s *Service) List(ctx context.Context, p auth.Principal, f Filter) ([]Task, error) {
	if !p.Role.Valid() {
		return nil, errs.E(errs.Forbidden, "forbidden", "无权查看任务清单")
	}
	q := `SELECT ` + taskColumns + ` FROM tasks t WHERE 1 = 1`
	var args []any
	if f.Department != "" {
		q += ` AND EXISTS (SELECT 1 FROM task_departments d WHERE d.task_id = t.id AND d.department_code = ?)`
		args = append(args, f.Department)
	}
	if f.Group != "" {
		q += ` AND t.group_code = ?`
		args = append(args, f.Group)
	}
	var ts []Task
	if err := store.Select(ctx, s.db.Reader(), &ts, q+` ORDER BY t.position`, args...); err != nil {
		return nil, err
	}
	if err := loadDepartments(ctx, s.db.Reader(), ts); err != nil {
		return nil, err
	}
	if f.Department != "" {
		for i := range ts {
			ts[i].Role = ts[i].roleOf(f.Department)
		}
	}
	return ts, nil
}

// loadDepartments fills in the departments of ts in one query.
func loadDepartments(ctx context.Context, q store.Querier, ts []Task) error {
	if len(ts) == 0 {
		return nil
	}
	idx := make(map[string]int, len(ts))
	ids := make([]string, len(ts))
	for i, t := range ts {
		idx[t.ID], ids[i] = i, t.ID
		ts[i].Lead, ts[i].Supporting, ts[i].Local = []Department{}, []Department{}, []Department{}
	}
	query, args, err := store.In(`SELECT task_id, role, name, department_code FROM task_departments
		WHERE task_id IN (?) ORDER BY task_id, role, position`, ids)
	if err != nil {
		return err
	}
	var rows []struct {
		TaskID string `db:"task_id"`
		Role   string `db:"role"`
		Name   string `db:"name"`
		Code   string `db:"department_code"`
	}
	if err := store.Select(ctx, q, &rows, query, args...); err != nil {
		return err
	}
	for _, r := range rows {
		t := &ts[idx[r.TaskID]]
		d := Department{Name: r.Name, Code: r.Code}
		switch r.Role {
		case Lead:
			t.Lead = append(t.Lead, d)
		case Supporting:
			t.Supporting = append(t.Supporting, d)
		case Local:
			t.Local = append(t.Local, d)
		}
	}
	return nil
}

// getTask reads one task with its departments.
func getTask(ctx context.Context, q store.Querier, id string) (Task, error) {
	var t Task
	err := store.Get(ctx, q, &t, `SELECT `+taskColumns+` FROM tasks t WHERE t.id = ?`, id)
	if errors.Is(err, store.ErrNotFound) {
		return t, errs.E(errs.NotFound, "task_not_found", "任务不存在")
	}
	if err != nil {
		return t, err
	}
	ts := []Task{t}
	err = loadDepartments(ctx, q, ts)
	return ts[0], err
}

// Get returns a task with its milestones and, for department accounts and
// admins, its progress reports.
func (s *Service) Get(ctx context.Context, p auth.Principal, id string) (Detail, error) {
	if !p.Role.Valid() {
		return Detail{}, errs.E(errs.Forbidden, "forbidden", "无权查看任务清单")
	}
	q := s.db.Reader()
	t, err := getTask(ctx, q, id)
	if err != nil {
		return Detail{}, err
	}
	d := Detail{Task: t, Milestones: []Milestone{}, Reports: []Report{}}
	if d.Milestones, err = listMilestones(ctx, q, []string{id}, time.Now()); err != nil {
		return d, err
	}
	if p.Role == auth.Admin || p.Role == auth.Regulator {
		if d.Reports, err = listReports(ctx, q, id); err != nil {
			return d, err
		}
	}
	return d, nil
}

// Responsibilities is the department responsibility list: the tasks that
// bind one department, with its role in each.
type Responsibilities struct {
	Department Department `json:"department"`
	Items      []Task     `json:"items"`
}

// DepartmentTasks returns the responsibility list of the department code.
func (s *Service) DepartmentTasks(ctx context.Context, p auth.Principal, code string) (Responsibilities, error) {
	var r Responsibilities
	if !p.Role.Valid() {
		return r, errs.E(errs.Forbidden, "forbidden", "无权查看任务清单")
	}
	err := store.Get(ctx, s.db.Reader(), &r.Department.Name, `SELECT name FROM departments WHERE code = ?`, code)
	if errors.Is(err, store.ErrNotFound) {
		return r, errs.E(errs.NotFound, "department_not_found", "部门不存在")
	}
	if err != nil {
		return r, err
	}
	r.Department.Code = code
	r.Items, err = s.List(ctx, p, Filter{Department: code})
	return r, err
}

// DepartmentOf is the code of the principal's department, or "" for an
// account without one.
func DepartmentOf(ctx context.Context, q store.Querier, p auth.Principal) (string, error) {
	if p.DepartmentID == "" {
		return "", nil
	}
	var code string
	err := store.Get(ctx, q, &code, `SELECT code FROM departments WHERE id = ?`, p.DepartmentID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return code, err
}

// IsWorkTeam reports whether p reviews for the work team: an admin, or a
// regulator of the work team's department.
func IsWorkTeam(p auth.Principal, dept string) bool {
	return p.Role == auth.Admin || (p.Role == auth.Regulator && dept == WorkTeam)
}

// departmentNames maps department codes to names.
func departmentNames(ctx context.Context, q store.Querier) (map[string]string, error) {
	var rows []struct {
		Code string `db:"code"`
		Name string `db:"name"`
	}
	if err := store.Select(ctx, q, &rows, `SELECT code, name FROM departments`); err != nil {
		return nil, err
	}
	m := make(map[string]string, len(rows))
	for _, r := range rows {
		m[r.Code] = r.Name
	}
	return m, nil
}

// Abilities are what a principal may do on one task, for the pages to offer
// only what the service will accept.
type Abilities struct {
	Department string       // the principal's department code
	Own        bool         // its department leads or supports the task: it files for itself
	Owners     []Department // the departments an admin (reports, milestones) or the work team (milestones) files for
	WorkTeam   bool         // reviews reports and finishes any milestone
	Reports    bool         // may submit reports
	Milestones bool         // may add milestones
}

// AbilitiesOn says what p may do on t.
func (s *Service) AbilitiesOn(ctx context.Context, p auth.Principal, t Task) (Abilities, error) {
	dept, err := DepartmentOf(ctx, s.db.Reader(), p)
	if err != nil {
		return Abilities{}, err
	}
	a := Abilities{Department: dept, WorkTeam: IsWorkTeam(p, dept), Own: p.Role == auth.Regulator && t.owns(dept)}
	if p.Role == auth.Admin || (a.WorkTeam && !a.Own) {
		seen := map[string]bool{}
		for _, d := range slices.Concat(t.Lead, t.Supporting) {
			if d.Code != "" && !seen[d.Code] {
				seen[d.Code] = true
				a.Owners = append(a.Owners, d)
			}
		}
	}
	a.Reports = a.Own || (p.Role == auth.Admin && len(a.Owners) > 0)
	a.Milestones = a.Own || len(a.Owners) > 0
	return a, nil
}
