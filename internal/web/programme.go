package web

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/program/bulletin"
	"wufei/internal/program/cell"
	"wufei/internal/program/indicator"
	"wufei/internal/program/task"
	"wufei/internal/registry"
)

// The programme pages: the task list by group with its progress, one task
// with its milestones, progress reports and their review, the zero-waste
// cells with the application form, one cell with its checklist and
// decisions, and the printable quarterly bulletin.

// programmeRoutes adds the programme's pages to mux.
func (s *server) programmeRoutes(mux *routeMux) {
	mux.HandleFunc("GET /tasks", s.authed(s.tasksPage))
	mux.HandleFunc("GET /tasks/{id}", s.authed(s.taskPage))
	mux.HandleFunc("POST /tasks/{id}/milestones", s.authed(s.taskMilestone))
	mux.HandleFunc("POST /tasks/{id}/milestones/{mid}/done", s.authed(s.taskMilestoneDone))
	mux.HandleFunc("POST /tasks/{id}/reports", s.authed(s.taskReport))
	mux.HandleFunc("POST /tasks/{id}/reports/{rid}/{action}", s.authed(s.taskReview))
	mux.HandleFunc("GET /cells", s.authed(s.cellsPage))
	mux.HandleFunc("POST /cells", s.authed(s.cellApply))
	mux.HandleFunc("GET /cells/{id}", s.authed(s.cellPage))
	mux.HandleFunc("POST /cells/{id}/{action}", s.authed(s.cellAction))
	mux.HandleFunc("GET /bulletins", s.authed(s.bulletinLatest))
	mux.HandleFunc("GET /bulletins/{period}", s.authed(s.bulletinPage))
}

var (
	taskReportStatuses = []option{{Value: task.Submitted, Label: "task_report_status.submitted", Hint: "submitted"},
		{Value: task.Accepted, Label: "task_report_status.accepted", Hint: "completed"},
		{Value: task.Returned, Label: "task_report_status.returned", Hint: "refused"}}
	milestoneStatuses = []option{{Value: task.Open, Label: "milestone_status.open", Hint: "in_transit"},
		{Value: task.Done, Label: "milestone_status.done", Hint: "completed"}}
	taskRoles = []option{{Value: task.Lead, Label: "task_role.lead"}, {Value: task.Supporting, Label: "task_role.supporting"},
		{Value: task.Local, Label: "task_role.local"}}
	cellStatuses = []option{{Value: cell.Applied, Label: "cell_status.applied", Hint: "submitted"},
		{Value: cell.Scored, Label: "cell_status.scored", Hint: "in_transit"},
		{Value: cell.Certified, Label: "cell_status.certified", Hint: "completed"},
		{Value: cell.Returned, Label: "cell_status.returned", Hint: "refused"},
		{Value: cell.Withdrawn, Label: "cell_status.withdrawn", Hint: "cancelled"}}
)

// hintOf is the hint of the option with value v, or "".
func hintOf(os []option, v string) string {
	for _, o := range os {
		if o.Value == v {
			return o.Hint
		}
	}
	return ""
}

// plainNumber formats an optional number without trailing zeros, or "—".
func plainNumber(v *float64) string {
	if v == nil {
		return "—"
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

// seesBulletins reports whether p may open the quarterly bulletins.
func seesBulletins(p auth.Principal, dept string) bool {
	return task.IsWorkTeam(p, dept) || (p.Role == auth.Regulator && p.SeesAllRegions())
}

// lastQuarter is the latest quarter that has ended, in China.
func lastQuarter() string {
	return task.Rules{ReportEvery: "quarter"}.PeriodOf(task.Today(time.Now())).Prev().String()
}

type taskRow struct {
	task.Task
	RoleKey string
}

type taskGroup struct {
	Code, Title string
	Items       []taskRow
}

type tasksData struct {
	Department  string
	Departments []registry.Department
	Groups      []taskGroup
	Count       int
	Bulletin    string // the latest bulletin's period, for those who may open it
}

// tasksPage is the task list by group, or one department's responsibility
// list when a department is chosen.
func (s *server) tasksPage(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	ctx := r.Context()
	d := tasksData{Department: r.URL.Query().Get("department")}
	var err error
	if d.Departments, err = s.Registry.ListDepartments(ctx); err != nil {
		s.fail(w, r, err)
		return
	}
	ts, err := task.NewService(s.DB).List(ctx, p, task.Filter{Department: d.Department})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, t := range ts {
		if n := len(d.Groups); n == 0 || d.Groups[n-1].Code != t.Group {
			d.Groups = append(d.Groups, taskGroup{Code: t.Group, Title: t.GroupTitle})
		}
		g := &d.Groups[len(d.Groups)-1]
		g.Items = append(g.Items, taskRow{Task: t, RoleKey: optionLabel(taskRoles, t.Role)})
	}
	d.Count = len(ts)
	dept, err := task.DepartmentOf(ctx, s.DB.Reader(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if seesBulletins(p, dept) {
		d.Bulletin = lastQuarter()
	}
	s.page(w, r, http.StatusOK, "tasks", "content", s.view(r, "tasks", d))
}

type taskMilestoneRow struct {
	task.Milestone
	StatusKey, Hint string
	Done            bool // the caller may finish it
}

type taskReportRow struct {
	task.Report
	StatusKey, Hint, Submitted, Reviewed string
}

// progressForm is what the progress report form was filled with.
type progressForm struct {
	Department, Period, Percent, Text, Date string
}

type taskMilestoneForm struct {
	Department, Title, Due, Note string
}

type taskData struct {
	T          task.Detail
	Ab         task.Abilities
	Milestones []taskMilestoneRow
	Reports    []taskReportRow
	Flash      string
	Err        formError
	ErrForm    string // the form the error belongs to: milestone, report, or a report's or milestone's id
	Report     progressForm
	Milestone  taskMilestoneForm
	Reason     string
	Today      string
	Period     string // the period a report today is taken for
	MaxKB      int
	MaxFiles   int
}

func (s *server) taskPage(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	s.renderTask(w, r, p, http.StatusOK, taskData{})
}

func (s *server) renderTask(w http.ResponseWriter, r *http.Request, p auth.Principal, status int, d taskData) {
	ctx := r.Context()
	svc := task.NewService(s.DB)
	var err error
	if d.T, err = svc.Get(ctx, p, r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	if d.Ab, err = svc.AbilitiesOn(ctx, p, d.T.Task); err != nil {
		s.fail(w, r, err)
		return
	}
	rules, err := task.LoadRules(ctx, s.DB.Reader())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Today = task.Today(time.Now())
	d.Period, d.MaxKB, d.MaxFiles = rules.ReportPeriod(d.Today).String(), rules.EvidenceMaxKB, rules.EvidenceMaxFiles
	for _, m := range d.T.Milestones {
		d.Milestones = append(d.Milestones, taskMilestoneRow{Milestone: m, StatusKey: optionLabel(milestoneStatuses, m.Status),
			Hint: hintOf(milestoneStatuses, m.Status),
			Done: m.Status == task.Open && (d.Ab.WorkTeam || (p.Role == auth.Regulator && d.Ab.Department == m.DepartmentCode))})
	}
	for _, rep := range d.T.Reports {
		row := taskReportRow{Report: rep, StatusKey: optionLabel(taskReportStatuses, rep.Status),
			Hint: hintOf(taskReportStatuses, rep.Status), Submitted: minute(rep.CreatedAt), Reviewed: minuteOf(rep.ReviewedAt)}
		d.Reports = append(d.Reports, row)
	}
	if r.Method == http.MethodGet {
		d.Flash = s.flash(w, r)
	}
	s.page(w, r, status, "task", "content", s.view(r, "tasks", d))
}

// taskFailed shows the task page again with what a form got wrong.
func (s *server) taskFailed(w http.ResponseWriter, r *http.Request, p auth.Principal, err error, d taskData) {
	fe, status, ok := userError(err)
	if !ok {
		s.fail(w, r, err)
		return
	}
	d.Err = fe
	s.renderTask(w, r, p, status, d)
}

// taskMilestone adds a milestone.
func (s *server) taskMilestone(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	id := r.PathValue("id")
	f := taskMilestoneForm{Department: r.PostFormValue("department_code"), Title: strings.TrimSpace(r.PostFormValue("title")),
		Due: strings.TrimSpace(r.PostFormValue("due_date")), Note: strings.TrimSpace(r.PostFormValue("note"))}
	_, err := task.NewService(s.DB).AddMilestone(r.Context(), p, id, task.NewMilestone{DepartmentCode: f.Department,
		Title: f.Title, DueDate: f.Due, Note: f.Note})
	if err == nil {
		s.done(w, r, "/tasks/"+id+"#milestones", "flash.milestone_added")
		return
	}
	s.taskFailed(w, r, p, err, taskData{ErrForm: "milestone", Milestone: f})
}

// taskMilestoneDone finishes a milestone.
func (s *server) taskMilestoneDone(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	id, mid := r.PathValue("id"), r.PathValue("mid")
	_, err := task.NewService(s.DB).CompleteMilestone(r.Context(), p, id, mid, r.PostFormValue("note"), postVersion(r))
	if err == nil {
		s.done(w, r, "/tasks/"+id+"#milestones", "flash.milestone_done")
		return
	}
	s.taskFailed(w, r, p, err, taskData{ErrForm: mid})
}

// taskReport submits a progress report with its evidence files.
func (s *server) taskReport(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	id := r.PathValue("id")
	if err := r.ParseMultipartForm(1 << 20); err != nil && err != http.ErrNotMultipart {
		s.fail(w, r, errs.E(errs.Invalid, "form_invalid", "表单无法解析（文件过大？）"))
		return
	}
	f := progressForm{Department: r.PostFormValue("department_code"), Period: strings.TrimSpace(r.PostFormValue("period")),
		Percent: strings.TrimSpace(r.PostFormValue("percent")), Text: strings.TrimSpace(r.PostFormValue("text")),
		Date: strings.TrimSpace(r.PostFormValue("report_date"))}
	in := task.NewReport{DepartmentCode: f.Department, Period: f.Period, Text: f.Text, ReportDate: f.Date}
	var v errs.Validation
	if n, err := strconv.Atoi(f.Percent); err == nil {
		in.Percent = n
	} else {
		v.Add("percent", "number", "请填写 0 至 100 的整数")
	}
	if r.MultipartForm != nil {
		for _, fh := range r.MultipartForm.File["evidence"] {
			if fh.Filename == "" && fh.Size == 0 {
				continue
			}
			file, err := fh.Open()
			if err != nil {
				s.fail(w, r, err)
				return
			}
			data, err := io.ReadAll(file)
			file.Close()
			if err != nil {
				s.fail(w, r, err)
				return
			}
			in.Evidence = append(in.Evidence, task.File{Name: fh.Filename, ContentType: fh.Header.Get("Content-Type"), Data: data})
		}
	}
	err := v.Err()
	if err == nil {
		if _, err = task.NewService(s.DB).SubmitReport(r.Context(), p, id, in); err == nil {
			s.done(w, r, "/tasks/"+id+"#reports", "flash.report_submitted")
			return
		}
	}
	s.taskFailed(w, r, p, err, taskData{ErrForm: "report", Report: f})
}

// taskReview accepts or returns a report.
func (s *server) taskReview(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	ctx, id, rid := r.Context(), r.PathValue("id"), r.PathValue("rid")
	svc := task.NewService(s.DB)
	var err error
	var flash string
	switch r.PathValue("action") {
	case "accept":
		_, err = svc.Accept(ctx, p, id, rid, r.PostFormValue("note"), postVersion(r))
		flash = "flash.report_accepted"
	case "return":
		_, err = svc.Return(ctx, p, id, rid, r.PostFormValue("reason"), postVersion(r))
		flash = "flash.report_returned"
	default:
		s.fail(w, r, errs.E(errs.NotFound, "not_found", "页面不存在"))
		return
	}
	if err == nil {
		s.done(w, r, "/tasks/"+id+"#reports", flash)
		return
	}
	s.taskFailed(w, r, p, err, taskData{ErrForm: rid, Reason: r.PostFormValue("reason")})
}

type cellRow struct {
	cell.Cell
	StatusKey, Hint, ScoreText string
}

type cellForm struct {
	Type, Name, Address, Description string
}

type cellsData struct {
	Status, Type string
	Statuses     []option
	Types        []cell.Type
	Items        []cellRow
	List         listing
	CanApply     bool
	Form         cellForm
	Err          formError
	Flash        string
	Names        map[string]string // region code → name
}

// cellsPage lists the cells the caller may see and, for a unit's admin,
// offers the application form.
func (s *server) cellsPage(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	s.renderCells(w, r, p, http.StatusOK, cellForm{}, formError{})
}

func (s *server) renderCells(w http.ResponseWriter, r *http.Request, p auth.Principal, status int, f cellForm, fe formError) {
	ctx := r.Context()
	q := r.URL.Query()
	svc := cell.NewService(s.DB)
	d := cellsData{Status: q.Get("status"), Type: q.Get("type"), Statuses: cellStatuses, CanApply: p.Role == auth.UnitAdmin,
		Form: f, Err: fe}
	if r.Method == http.MethodGet {
		d.Flash = s.flash(w, r)
	}
	var err error
	if d.Types, err = svc.Types(ctx, p); err != nil {
		s.fail(w, r, err)
		return
	}
	if _, d.Names, err = s.regions(ctx); err != nil {
		s.fail(w, r, err)
		return
	}
	page, err := svc.List(ctx, p, cell.Filter{Status: d.Status, Type: d.Type, After: q.Get("cursor"), Limit: pageSize})
	for _, c := range page.Items {
		row := cellRow{Cell: c, StatusKey: optionLabel(cellStatuses, c.Status), Hint: hintOf(cellStatuses, c.Status)}
		if c.Score != nil {
			row.ScoreText = plainNumber(c.Score)
		}
		d.Items = append(d.Items, row)
	}
	if err == nil && status != http.StatusOK {
		d.List = pager(r, page.Next)
		s.page(w, r, status, "cells", "content", s.view(r, "cells", &d))
		return
	}
	s.list(w, r, err, page.Next, &d.List, "cells", &d)
}

// cellApply files an application for the caller's unit.
func (s *server) cellApply(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	f := cellForm{Type: r.PostFormValue("type"), Name: strings.TrimSpace(r.PostFormValue("name")),
		Address: strings.TrimSpace(r.PostFormValue("address")), Description: strings.TrimSpace(r.PostFormValue("description"))}
	d, err := cell.NewService(s.DB).Apply(r.Context(), p, cell.NewCell{Type: f.Type, Name: f.Name, Address: f.Address,
		Description: f.Description})
	if err == nil {
		s.done(w, r, "/cells/"+d.ID, "flash.cell_applied")
		return
	}
	fe, status, ok := userError(err)
	if !ok {
		s.fail(w, r, err)
		return
	}
	r.URL.Path, r.URL.RawQuery = "/cells", ""
	s.renderCells(w, r, p, status, f, fe)
}

type cellLine struct {
	cell.Line
	Index                  int
	Value, Note, ScoreText string
}

type cellData struct {
	C                                         cell.Detail
	StatusKey, Hint, Score, Region, Park      string
	Lines                                     []cellLine
	Evaluate, Scoring, Approve, Return, Close bool
	Flash                                     string
	Err                                       formError
	ErrForm                                   string
	Reason, Date, Today                       string
}

func (s *server) cellPage(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	s.renderCell(w, r, p, http.StatusOK, cellData{})
}

func (s *server) renderCell(w http.ResponseWriter, r *http.Request, p auth.Principal, status int, d cellData) {
	ctx := r.Context()
	svc := cell.NewService(s.DB)
	var err error
	if d.C, err = svc.Get(ctx, p, r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	if d.Evaluate, err = svc.Evaluates(ctx, p, d.C.Type); err != nil {
		s.fail(w, r, err)
		return
	}
	_, names, err := s.regions(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Region, d.Park = names[d.C.RegionCode], names[d.C.ParkCode]
	d.StatusKey, d.Hint = optionLabel(cellStatuses, d.C.Status), hintOf(cellStatuses, d.C.Status)
	open := d.C.Status == cell.Applied || d.C.Status == cell.Scored
	d.Scoring, d.Return = d.Evaluate && open, d.Evaluate && open
	d.Approve, d.Close = d.Evaluate && d.C.Status == cell.Scored, d.Evaluate && d.C.Status == cell.Certified
	if d.C.Score != nil {
		d.Score = plainNumber(d.C.Score)
	}
	d.Today = task.Today(time.Now())
	for i, l := range d.C.Checklist {
		cl := cellLine{Line: l, Index: i}
		if l.Score != nil {
			cl.ScoreText = plainNumber(l.Score)
			cl.Value, cl.Note = cl.ScoreText, l.Note
		}
		if r.Method == http.MethodPost && d.ErrForm == "scores" { // what was typed
			cl.Value, cl.Note = formValue(r, "score", i), formValue(r, "note", i)
		}
		d.Lines = append(d.Lines, cl)
	}
	if r.Method == http.MethodGet {
		d.Flash = s.flash(w, r)
	}
	s.page(w, r, status, "cell", "content", s.view(r, "cells", d))
}

// cellAction scores, approves, returns or withdraws a cell.
func (s *server) cellAction(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	ctx, id, version := r.Context(), r.PathValue("id"), postVersion(r)
	svc := cell.NewService(s.DB)
	var err error
	var flash string
	var rowOf []int // the form row of each score sent, when the service refuses the sheet
	action := r.PathValue("action")
	switch action {
	case "scores":
		if err = r.ParseForm(); err != nil {
			s.fail(w, r, errs.E(errs.Invalid, "form_invalid", "表单无法解析"))
			return
		}
		var v errs.Validation
		sheet := cell.Sheet{Version: version}
		var rows []int
		for i, code := range r.PostForm["criterion"] {
			val := formValue(r, "score", i)
			if val == "" {
				continue
			}
			path := "scores[" + strconv.Itoa(i) + "].score"
			f, perr := strconv.ParseFloat(val, 64)
			if perr != nil {
				v.Add(path, "number", "请填写数字")
				continue
			}
			sheet.Scores = append(sheet.Scores, cell.Entry{Criterion: code, Score: f, Note: formValue(r, "note", i)})
			rows = append(rows, i)
		}
		if err = v.Err(); err == nil {
			if len(sheet.Scores) == 0 {
				err = errs.Field("scores", "scores_required", "请至少填写一项得分")
			} else {
				_, err = svc.Score(ctx, p, id, sheet)
				rowOf = rows
			}
		}
		flash = "flash.cell_scored"
	case "approve":
		_, err = svc.Approve(ctx, p, id, r.PostFormValue("certificate_date"), version)
		flash = "flash.cell_certified"
	case "return":
		_, err = svc.Return(ctx, p, id, r.PostFormValue("reason"), version)
		flash = "flash.cell_returned"
	case "withdraw":
		_, err = svc.Withdraw(ctx, p, id, r.PostFormValue("reason"), version)
		flash = "flash.cell_withdrawn"
	default:
		s.fail(w, r, errs.E(errs.NotFound, "not_found", "页面不存在"))
		return
	}
	if err == nil {
		s.done(w, r, "/cells/"+id, flash)
		return
	}
	fe, status, ok := userError(err)
	if !ok {
		s.fail(w, r, err)
		return
	}
	if rowOf != nil {
		fe.remapRows("scores", rowOf)
	}
	s.renderCell(w, r, p, status, cellData{Err: fe, ErrForm: action, Reason: r.PostFormValue("reason"),
		Date: r.PostFormValue("certificate_date")})
}

type bulletinIndicator struct {
	bulletin.IndicatorRow
	Target, Value, Projected, Hint string
}

type bulletinData struct {
	B          bulletin.Bulletin
	Indicators []bulletinIndicator
	Prev, Next string
	Workbook   string
	Nonce      string
	Generated  string
}

// bulletinLatest opens the bulletin of the last quarter ended.
func (s *server) bulletinLatest(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	http.Redirect(w, r, "/bulletins/"+lastQuarter(), http.StatusSeeOther)
}

// bulletinPage is the quarterly bulletin on A4 pages, standing alone
// without the site's header, with its workbook to download.
func (s *server) bulletinPage(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	ind := s.Indicators
	if ind == nil {
		ind = indicator.NewService(s.DB)
	}
	b, err := bulletin.NewService(s.DB, ind).Build(r.Context(), p, r.PathValue("period"), time.Now())
	if err != nil {
		if errs.KindOf(err) == errs.Invalid { // an unknown quarter is a page that does not exist
			err = errs.E(errs.NotFound, "not_found", "没有这一期通报")
		}
		s.fail(w, r, err)
		return
	}
	d := bulletinData{B: b, Workbook: "/api/v1/bulletins/" + url.PathEscape(b.Period) + ".xlsx",
		Generated: minute(b.GeneratedAt)}
	per, _ := task.ParsePeriod(b.Period)
	if prev := per.Prev(); prev.Year >= 2024 {
		d.Prev = prev.String()
	}
	if next := per.Next(); next.Start() <= task.Today(time.Now()) {
		d.Next = next.String()
	}
	for _, row := range b.Indicators {
		bi := bulletinIndicator{IndicatorRow: row, Target: plainNumber(row.Target), Value: plainNumber(row.Value),
			Projected: plainNumber(row.Projected)}
		switch row.Status {
		case "achieved", "on_track":
			bi.Hint = "completed"
		case "at_risk":
			bi.Hint = "in_transit"
		case "off_track":
			bi.Hint = "refused"
		default:
			bi.Hint = "draft"
		}
		d.Indicators = append(d.Indicators, bi)
	}
	d.Nonce = nonceCSP(w, false) // only the print button's script is inline
	s.render(w, r, http.StatusOK, "bulletin", "print", s.view(r, "tasks", d))
}
