package task_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/program/task"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// env is a migrated database with the reference data and the task list,
// and principals of some departments.
type env struct {
	t    *testing.T
	ctx  context.Context
	db   *store.DB
	svc  *task.Service
	dept map[string]string // code → id
}

var admin = auth.Principal{UserID: "u-admin", Username: "admin", Role: auth.Admin}

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	ctx := context.Background()
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		if err := registry.SeedReference(ctx, tx); err != nil {
			return err
		}
		return task.Seed(ctx, tx)
	}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	e := &env{t: t, ctx: ctx, db: db, svc: task.NewService(db), dept: map[string]string{}}
	deps, err := registry.NewService(db).ListDepartments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range deps {
		e.dept[d.Code] = d.ID
	}
	return e
}

// reg is a city-wide regulator of the department code.
func (e *env) reg(code string) auth.Principal {
	return auth.Principal{UserID: "u-" + code, Username: code, Role: auth.Regulator, DepartmentID: e.dept[code],
		RegionCode: auth.CityCode}
}

func (e *env) byCode(code string) task.Task {
	e.t.Helper()
	ts, err := e.svc.List(e.ctx, admin, task.Filter{})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, t := range ts {
		if t.Code == code {
			return t
		}
	}
	e.t.Fatalf("no task %s", code)
	return task.Task{}
}

func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := store.Get(e.ctx, e.db.Reader(), &n, query, args...); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func codes(ds []task.Department) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Code)
	}
	return out
}

func wantErr(t *testing.T, err error, kind errs.Kind, code string, fields ...string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want %s", err, code)
	}
	if e.Kind != kind || e.Code != code {
		t.Fatalf("got kind %d code %s (%v), want kind %d code %s", e.Kind, e.Code, e, kind, code)
	}
	for _, f := range fields {
		if !slices.ContainsFunc(e.Fields, func(x errs.FieldError) bool { return x.Field == f }) {
			t.Fatalf("error %v does not name field %s", e, f)
		}
	}
}

func TestSeed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ts, err := e.svc.List(e.ctx, admin, task.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != 35 {
			t.Fatalf("%d tasks, want 35", len(ts))
		}
		kinds, groups := map[string]int{}, map[string]int{}
		for _, x := range ts {
			kinds[x.Kind]++
			groups[x.Group]++
			if x.Title == "" || x.Text == "" || x.Deadline != "2027-12-31" || len(x.Lead) == 0 {
				t.Errorf("task %s: title %q deadline %s leads %v", x.Code, x.Title, x.Deadline, x.Lead)
			}
			if x.Kind == task.KindTask && len(x.Local)+countLocal(x.Lead) != 6 {
				t.Errorf("task %s binds %d local governments, want 6", x.Code, len(x.Local)+countLocal(x.Lead))
			}
		}
		if kinds[task.KindTask] != 32 || kinds[task.KindSafeguard] != 3 {
			t.Fatalf("kinds %v", kinds)
		}
		want := map[string]int{"二(一)": 5, "二(二)": 4, "二(三)": 8, "二(四)": 7, "二(五)": 4, "二(六)": 4, "三": 3}
		for g, n := range want {
			if groups[g] != n {
				t.Errorf("group %s: %d tasks, want %d", g, groups[g], n)
			}
		}

		// Departments are resolved against the registry; the text is kept.
		for code, c := range map[string]struct{ lead, supporting []string }{
			"二(一)1": {[]string{"gxj", "sthjj", "fgw", "djq", "xsq", "lsq", "sxx", "gxq", "mhgjd"}, nil},
			"二(一)3": {[]string{"sthjj", "fgw", "gxj", "zrzyj"}, []string{"zjj"}},
			"二(一)5": {[]string{"", "sthjj", "kjj"}, nil},
			"二(三)2": {[]string{"fgw", "cgj", "nyncj", "sthjj"}, nil},
			"二(三)8": {[]string{"wfzb"}, nil},
			"二(五)2": {[]string{"sthjj"}, []string{"fgw"}},
			"二(六)3": {[]string{"czj", "fgw", "sw", "rhfh", "sthjj"}, nil},
			"二(六)4": {[]string{"sthjj"}, []string{"fgw", "gxj", "gaj", "zjj", "cgj", "nyncj", "wjw", "yjj", "swj"}},
			"三(一)":  {[]string{"wfzb"}, nil},
		} {
			x := e.byCode(code)
			if !slices.Equal(codes(x.Lead), c.lead) || !slices.Equal(codes(x.Supporting), c.supporting) {
				t.Errorf("%s: lead %v supporting %v, want %v %v", code, codes(x.Lead), codes(x.Supporting), c.lead, c.supporting)
			}
		}
		if x := e.byCode("二(一)5"); x.Lead[0].Name != "产废企业" || x.LeadText != "产废企业、市生态环境局、市科技局" {
			t.Errorf("二(一)5 lead %v text %q", x.Lead, x.LeadText)
		}
		if x := e.byCode("二(六)4"); !strings.HasSuffix(x.SupportingText, "市商务局等") {
			t.Errorf("二(六)4 supporting text %q", x.SupportingText)
		}
		if x := e.byCode("二(一)2"); x.Target != "到2027年，培育绿色工厂6家以上。" {
			t.Errorf("二(一)2 target %q", x.Target)
		}
		if x := e.byCode("二(五)1"); !strings.Contains(x.Target, "0.013t/万元") {
			t.Errorf("二(五)1 target %q", x.Target)
		}

		// Seeding again is a no-op; the seed wrote one audit entry.
		if err := db.Tx(e.ctx, func(tx *store.Tx) error { return task.Seed(e.ctx, tx) }); err != nil {
			t.Fatal(err)
		}
		if n := e.count(`SELECT count(*) FROM tasks`); n != 35 {
			t.Fatalf("%d tasks after a second seed", n)
		}
		if n := e.count(`SELECT count(*) FROM audit_entries WHERE action = 'task.seed'`); n != 1 {
			t.Fatalf("%d seed entries", n)
		}

		// The responsibility list of a department.
		r, err := e.svc.DepartmentTasks(e.ctx, e.reg("gxj"), "gxj")
		if err != nil {
			t.Fatal(err)
		}
		roles := map[string]string{}
		for _, x := range r.Items {
			roles[x.Code] = x.Role
		}
		if r.Department.Name != "市工信局" || roles["二(一)1"] != task.Lead || roles["二(一)4"] != task.Supporting ||
			roles["二(三)6"] != task.Lead || roles["二(二)1"] != "" {
			t.Fatalf("gxj responsibilities: %s %v", r.Department.Name, roles)
		}
		if r, _ := e.svc.DepartmentTasks(e.ctx, e.reg("gxj"), "xsq"); len(r.Items) != 32 || r.Items[0].Role != task.Lead ||
			r.Items[1].Role != task.Local {
			t.Fatalf("相山区 binds %d tasks", len(r.Items))
		}
		_, err = e.svc.DepartmentTasks(e.ctx, admin, "nope")
		wantErr(t, err, errs.NotFound, "department_not_found")
	})
}

func countLocal(ds []task.Department) int {
	n := 0
	for _, d := range ds {
		if slices.Contains([]string{"djq", "xsq", "lsq", "sxx", "gxq", "mhgjd"}, d.Code) {
			n++
		}
	}
	return n
}

// TestAgainstPlan checks the shipped list against the plan's text: every
// title, text and target is the plan's own wording.
func TestAgainstPlan(t *testing.T) {
	b, err := os.ReadFile("../../../../shared/seed/huaibei-zero-waste-city-plan-2024.txt")
	if err != nil {
		t.Skip("the plan's text is not beside the repository")
	}
	plan := string(b)
	rows, err := task.Rows()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 35 {
		t.Fatalf("%d rows", len(rows))
	}
	for _, r := range rows {
		if !strings.Contains(plan, r.Title+"。"+r.Text) {
			t.Errorf("%s: title and text are not the plan's", r.Code)
		}
		for _, part := range strings.SplitAfter(r.Target, "。") {
			if part = strings.TrimSuffix(part, "。"); part != "" && !strings.Contains(r.Text, part) {
				t.Errorf("%s: target %q is not in its text", r.Code, part)
			}
		}
		for _, name := range strings.Split(r.Lead+"、"+r.Supporting, "、") {
			if name = strings.TrimSuffix(name, "等"); name != "" && !strings.Contains(r.Text, name) &&
				!strings.Contains(name, "工作专班") {
				t.Errorf("%s: department %q is not named in its text", r.Code, name)
			}
		}
	}
}

func TestOwnership(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		gxj, nync, wfzb := e.reg("gxj"), e.reg("nyncj"), e.reg("wfzb")
		green, straw := e.byCode("二(一)2"), e.byCode("二(二)3")
		today := task.Today(time.Now())

		m, err := e.svc.AddMilestone(e.ctx, gxj, green.ID, task.NewMilestone{Title: "出台绿色工厂培育方案", DueDate: "2026-06-30"})
		if err != nil || m.DepartmentCode != "gxj" || m.DepartmentName != "市工信局" || m.Status != task.Open {
			t.Fatalf("milestone: %+v %v", m, err)
		}
		_, err = e.svc.AddMilestone(e.ctx, gxj, e.byCode("二(二)1").ID, task.NewMilestone{Title: "x", DueDate: "2026-06-30"})
		wantErr(t, err, errs.Forbidden, "task_not_owned", "department_code")
		_, err = e.svc.AddMilestone(e.ctx, admin, straw.ID, task.NewMilestone{Title: "x", DueDate: "2026-06-30"})
		wantErr(t, err, errs.Invalid, "validation_failed", "department_code")
		_, err = e.svc.AddMilestone(e.ctx, wfzb, straw.ID, task.NewMilestone{DepartmentCode: "zjj", Title: "x", DueDate: "2026-06-30"})
		wantErr(t, err, errs.Invalid, "validation_failed", "department_code")
		if m, err := e.svc.AddMilestone(e.ctx, wfzb, straw.ID, task.NewMilestone{DepartmentCode: "nyncj", Title: "秸秆收储中心建成",
			DueDate: "2026-12-31"}); err != nil || m.DepartmentCode != "nyncj" {
			t.Fatalf("work team milestone: %+v %v", m, err)
		}
		_, err = e.svc.AddMilestone(e.ctx, gxj, green.ID, task.NewMilestone{Title: "", DueDate: "2026-13-01"})
		wantErr(t, err, errs.Invalid, "validation_failed", "title", "due_date")
		unit := auth.Principal{UserID: "ua", Username: "ua", Role: auth.UnitAdmin, UnitID: "u1"}
		_, err = e.svc.AddMilestone(e.ctx, unit, green.ID, task.NewMilestone{Title: "x", DueDate: "2026-06-30"})
		wantErr(t, err, errs.Forbidden, "forbidden")
		_, err = e.svc.AddMilestone(e.ctx, gxj, "no-such-task", task.NewMilestone{Title: "x", DueDate: "2026-06-30"})
		wantErr(t, err, errs.NotFound, "task_not_found")

		// Reports: only a lead or supporting department; the supporting
		// department of 二(二)3 (gxj) may report on it.
		before := e.count(`SELECT count(*) FROM task_reports`)
		_, err = e.svc.SubmitReport(e.ctx, gxj, e.byCode("二(二)1").ID, task.NewReport{Percent: 10, Text: "x"})
		wantErr(t, err, errs.Forbidden, "task_not_owned", "department_code")
		_, err = e.svc.SubmitReport(e.ctx, wfzb, straw.ID, task.NewReport{Percent: 10, Text: "x"})
		wantErr(t, err, errs.Forbidden, "task_not_owned", "department_code")
		_, err = e.svc.SubmitReport(e.ctx, unit, straw.ID, task.NewReport{Percent: 10, Text: "x"})
		wantErr(t, err, errs.Forbidden, "forbidden")
		_, err = e.svc.SubmitReport(e.ctx, gxj, straw.ID, task.NewReport{Percent: 101, Text: " ", ReportDate: "2099-01-01",
			Period: "2026Q5", Evidence: []task.File{{Name: "a/b.pdf", Data: make([]byte, 513*1024)}, {Name: "x.txt"}}})
		wantErr(t, err, errs.Invalid, "validation_failed", "percent", "text", "report_date", "period",
			"evidence[0].name", "evidence[0].data", "evidence[1].data")
		_, err = e.svc.SubmitReport(e.ctx, gxj, straw.ID, task.NewReport{Percent: 10, Text: "x", Period: "2026-09"})
		wantErr(t, err, errs.Invalid, "validation_failed", "period")
		if n := e.count(`SELECT count(*) FROM task_reports`); n != before {
			t.Fatalf("refused reports left %d rows", n-before)
		}
		if n := e.count(`SELECT count(*) FROM task_evidence`); n != 0 {
			t.Fatalf("refused reports left %d evidence rows", n)
		}

		pdf := []byte("%PDF-1.4 秸秆综合利用台账")
		r, err := e.svc.SubmitReport(e.ctx, gxj, straw.ID, task.NewReport{Percent: 30, Text: "秸秆制板项目投产",
			Evidence: []task.File{{Name: "台账.pdf", ContentType: "application/pdf", Data: pdf}, {Name: "note.txt", Data: []byte("hello")}}})
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(pdf)
		if r.DepartmentCode != "gxj" || r.Status != task.Submitted || r.ReportDate != today || len(r.Evidence) != 2 ||
			r.Evidence[0].SHA256 != hex.EncodeToString(sum[:]) || r.Evidence[0].Size != int64(len(pdf)) ||
			!strings.HasPrefix(r.Evidence[1].ContentType, "text/plain") {
			t.Fatalf("report: %+v", r)
		}
		if want := (task.Defaults).ReportPeriod(today).String(); r.Period != want {
			t.Fatalf("period %s, want %s", r.Period, want)
		}
		f, ev, err := e.svc.EvidenceFile(e.ctx, nync, straw.ID, r.ID, r.Evidence[0].ID)
		if err != nil || string(f.Data) != string(pdf) || ev.SHA256 != r.Evidence[0].SHA256 {
			t.Fatalf("evidence: %q %v", f.Data, err)
		}
		if _, _, err := e.svc.EvidenceFile(e.ctx, unit, straw.ID, r.ID, r.Evidence[0].ID); errs.KindOf(err) != errs.NotFound {
			t.Fatalf("unit reads evidence: %v", err)
		}
		// An admin reports for a department it names.
		if r, err := e.svc.SubmitReport(e.ctx, admin, straw.ID, task.NewReport{DepartmentCode: "nyncj", Percent: 35,
			Text: "补录"}); err != nil || r.DepartmentCode != "nyncj" {
			t.Fatalf("admin report: %+v %v", r, err)
		}
		// Reports are for departments; a unit account sees the task without them.
		d, err := e.svc.Get(e.ctx, unit, straw.ID)
		if err != nil || len(d.Reports) != 0 || len(d.Milestones) != 1 {
			t.Fatalf("unit view: %d reports %d milestones %v", len(d.Reports), len(d.Milestones), err)
		}
		if d, _ := e.svc.Get(e.ctx, nync, straw.ID); len(d.Reports) != 2 {
			t.Fatalf("department view: %d reports", len(d.Reports))
		}
	})
}

func TestReview(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		zjj, wfzb := e.reg("zjj"), e.reg("wfzb")
		green := e.byCode("二(四)1")
		submit := func(percent int, date string) task.Report {
			t.Helper()
			r, err := e.svc.SubmitReport(e.ctx, zjj, green.ID, task.NewReport{Percent: percent, Text: "绿色建筑", ReportDate: date})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		r1 := submit(40, "2025-06-30")
		if r1.Period != "2025Q2" {
			t.Fatalf("period %s", r1.Period)
		}
		_, err := e.svc.Accept(e.ctx, zjj, green.ID, r1.ID, "", 0)
		wantErr(t, err, errs.Forbidden, "forbidden")
		_, err = e.svc.Return(e.ctx, wfzb, green.ID, r1.ID, " ", 0)
		wantErr(t, err, errs.Invalid, "validation_failed", "reason")
		_, err = e.svc.Accept(e.ctx, wfzb, green.ID, r1.ID, "", r1.Version+1)
		wantErr(t, err, errs.Conflict, "version_conflict")
		a, err := e.svc.Accept(e.ctx, wfzb, green.ID, r1.ID, "同意", r1.Version)
		if err != nil || a.Status != task.Accepted || a.ReviewedBy != "wfzb" || a.ReviewedAt == nil {
			t.Fatalf("accept: %+v %v", a, err)
		}
		if p := e.byCode("二(四)1"); p.Progress != 40 || p.ProgressDate != "2025-06-30" {
			t.Fatalf("progress %d %s", p.Progress, p.ProgressDate)
		}
		_, err = e.svc.Accept(e.ctx, wfzb, green.ID, r1.ID, "", 0)
		wantErr(t, err, errs.Conflict, "report_reviewed")

		r2, r3 := submit(70, "2026-03-31"), submit(55, "2025-12-31")
		ret, err := e.svc.Return(e.ctx, wfzb, green.ID, r2.ID, "佐证材料不全", 0)
		if err != nil || ret.Status != task.Returned || ret.ReviewNote != "佐证材料不全" {
			t.Fatalf("return: %+v %v", ret, err)
		}
		if p := e.byCode("二(四)1"); p.Progress != 40 {
			t.Fatalf("a returned report moved progress to %d", p.Progress)
		}
		r4 := submit(75, "2026-03-31")
		for _, r := range []task.Report{r4, r3} { // the later-dated report stands
			if _, err := e.svc.Accept(e.ctx, wfzb, green.ID, r.ID, "", 0); err != nil {
				t.Fatal(err)
			}
		}
		if p := e.byCode("二(四)1"); p.Progress != 75 || p.ProgressDate != "2026-03-31" {
			t.Fatalf("progress %d %s", p.Progress, p.ProgressDate)
		}
		if n := e.count(`SELECT count(*) FROM audit_entries WHERE entity = 'task_report'`); n != 8 {
			t.Fatalf("%d audit entries for reports, want 8", n)
		}
		_, err = e.svc.Accept(e.ctx, wfzb, e.byCode("二(四)2").ID, r1.ID, "", 0)
		wantErr(t, err, errs.NotFound, "report_not_found")
	})
}

func TestOverdue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		now := time.Now()
		today := task.Today(now)
		period := task.Defaults.LastDue(today)
		owed, err := task.OwedReports(e.ctx, db.Reader(), task.Defaults, period)
		if err != nil {
			t.Fatal(err)
		}
		if len(owed) < 70 {
			t.Fatalf("%d reports owed for %s", len(owed), period)
		}
		n, err := task.CheckOverdue(e.ctx, db, now)
		if err != nil || n != len(owed) {
			t.Fatalf("raised %d (%v), want %d", n, err, len(owed))
		}
		if n, err := task.CheckOverdue(e.ctx, db, now); err != nil || n != 0 {
			t.Fatalf("second run raised %d (%v)", n, err)
		}
		open := func(kind string) int {
			return e.count(`SELECT count(*) FROM alerts WHERE kind = ? AND status = 'open'`, kind)
		}
		if open(task.KindReportOverdue) != len(owed) {
			t.Fatalf("%d open alerts", open(task.KindReportOverdue))
		}
		// Filing the report closes its alert.
		straw := e.byCode("二(二)3")
		if _, err := e.svc.SubmitReport(e.ctx, e.reg("nyncj"), straw.ID, task.NewReport{Period: period.String(), Percent: 60,
			Text: "秸秆综合利用率 94%"}); err != nil {
			t.Fatal(err)
		}
		if open(task.KindReportOverdue) != len(owed)-1 {
			t.Fatalf("%d open alerts after filing", open(task.KindReportOverdue))
		}

		// A milestone past its date raises once; finishing it closes the alert.
		m, err := e.svc.AddMilestone(e.ctx, e.reg("nyncj"), straw.ID, task.NewMilestone{Title: "收储中心验收", DueDate: "2026-01-31"})
		if err != nil || !m.Overdue {
			t.Fatalf("milestone %+v %v", m, err)
		}
		if n, err := task.CheckOverdue(e.ctx, db, now); err != nil || n != 1 {
			t.Fatalf("milestone raised %d (%v)", n, err)
		}
		if n, _ := task.CheckOverdue(e.ctx, db, now); n != 0 || open(task.KindMilestoneOverdue) != 1 {
			t.Fatalf("milestone alert raised again: %d", n)
		}
		if late, err := task.LateMilestones(e.ctx, db.Reader(), today); err != nil || len(late) != 1 || late[0].TaskCode != "二(二)3" {
			t.Fatalf("late milestones: %+v %v", late, err)
		}
		if late, _ := task.LateMilestones(e.ctx, db.Reader(), "2026-01-31"); len(late) != 0 {
			t.Fatalf("late on its due date: %d", len(late))
		}
		_, err = e.svc.CompleteMilestone(e.ctx, e.reg("zjj"), straw.ID, m.ID, "", 0)
		wantErr(t, err, errs.Forbidden, "forbidden")
		if d, err := e.svc.CompleteMilestone(e.ctx, e.reg("nyncj"), straw.ID, m.ID, "已验收", m.Version); err != nil ||
			d.Status != task.Done || d.Overdue {
			t.Fatalf("complete: %+v %v", d, err)
		}
		if open(task.KindMilestoneOverdue) != 0 {
			t.Fatal("milestone alert still open")
		}
		if late, _ := task.LateMilestones(e.ctx, db.Reader(), today); len(late) != 0 {
			t.Fatalf("a finished milestone is late: %d", len(late))
		}
	})
}

func TestRules(t *testing.T) {
	d := task.Defaults
	for day, want := range map[string]string{"2026-10-05": "2026Q3", "2026-10-10": "2026Q3", "2026-10-11": "2026Q4",
		"2026-07-01": "2026Q2", "2026-01-10": "2025Q4", "2026-05-20": "2026Q2"} {
		if got := d.ReportPeriod(day).String(); got != want {
			t.Errorf("ReportPeriod(%s) = %s, want %s", day, got, want)
		}
	}
	for day, want := range map[string]string{"2026-10-11": "2026Q3", "2026-10-10": "2026Q2", "2026-01-11": "2025Q4",
		"2026-11-28": "2026Q3"} {
		if got := d.LastDue(day).String(); got != want {
			t.Errorf("LastDue(%s) = %s, want %s", day, got, want)
		}
	}
	m := task.Rules{ReportEvery: "month", ReportDueDays: 5, EvidenceMaxKB: 100, EvidenceMaxFiles: 1}
	if got := m.LastDue("2026-11-06").String(); got != "2026-10" {
		t.Errorf("monthly LastDue = %s", got)
	}
	if got := m.LastDue("2026-01-05").String(); got != "2025-11" {
		t.Errorf("monthly LastDue in January = %s", got)
	}
	p, ok := task.ParsePeriod("2026Q4")
	if !ok || p.Start() != "2026-10-01" || p.End() != "2026-12-31" || p.Due(d) != "2027-01-10" || p.Next().String() != "2027Q1" {
		t.Errorf("2026Q4: %v %s %s %s", ok, p.Start(), p.End(), p.Due(d))
	}
	if p, ok := task.ParsePeriod("2024-02"); !ok || p.End() != "2024-02-29" || p.Prev().String() != "2024-01" {
		t.Errorf("2024-02: %v %s", ok, p.End())
	}
	for _, bad := range []string{"2026Q0", "2026Q5", "2026-13", "26Q1", ""} {
		if _, ok := task.ParsePeriod(bad); ok {
			t.Errorf("ParsePeriod(%q) accepted", bad)
		}
	}

	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		_, err := task.SaveRules(e.ctx, db, e.reg("gxj"), m)
		wantErr(t, err, errs.Forbidden, "forbidden")
		_, err = task.SaveRules(e.ctx, db, admin, task.Rules{ReportEvery: "week", ReportDueDays: 61})
		wantErr(t, err, errs.Invalid, "validation_failed", "task_report_every", "task_report_due_days",
			"task_evidence_max_kb", "task_evidence_max_files")
		if got, err := task.SaveRules(e.ctx, db, e.reg("wfzb"), m); err != nil || got != m {
			t.Fatalf("save: %+v %v", got, err)
		}
		if got, _ := task.LoadRules(e.ctx, db.Reader()); got != m {
			t.Fatalf("load: %+v", got)
		}
		// Monthly reporting takes monthly periods, and smaller evidence.
		straw := e.byCode("二(二)3")
		_, err = e.svc.SubmitReport(e.ctx, e.reg("nyncj"), straw.ID, task.NewReport{Percent: 1, Text: "x", Period: "2026Q1",
			Evidence: []task.File{{Name: "a", Data: []byte("a")}, {Name: "b", Data: []byte("b")}}})
		wantErr(t, err, errs.Invalid, "validation_failed", "period", "evidence")
		if r, err := e.svc.SubmitReport(e.ctx, e.reg("nyncj"), straw.ID, task.NewReport{Percent: 1, Text: "x",
			ReportDate: "2026-03-03"}); err != nil || r.Period != "2026-02" {
			t.Fatalf("monthly report: %+v %v", r, err)
		}
		if got, err := task.SaveRules(e.ctx, db, admin, task.Defaults); err != nil || got != task.Defaults {
			t.Fatalf("reset: %v", err)
		}
		if n := e.count(`SELECT count(*) FROM settings WHERE key LIKE 'task_%'`); n != 0 {
			t.Fatalf("%d rows left at the defaults", n)
		}
	})
}

func TestDemo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		start := time.Now()
		if err := task.SeedDemo(e.ctx, db); err != nil {
			t.Fatal(err)
		}
		t.Logf("demo progress seeded in %v", time.Since(start).Round(time.Millisecond))
		reports := e.count(`SELECT count(*) FROM task_reports`)
		if reports < 35*10 {
			t.Fatalf("%d demo reports", reports)
		}
		if n := e.count(`SELECT count(*) FROM task_reports WHERE status = 'submitted'`); n == 0 {
			t.Fatal("no report is pending review")
		}
		if n := e.count(`SELECT count(*) FROM task_reports WHERE status = 'returned'`); n != 1 {
			t.Fatalf("%d returned reports", n)
		}
		if n := e.count(`SELECT count(*) FROM task_reports WHERE report_date <= '2025-01-05'`); n != 35*4 {
			t.Fatalf("%d reports in 2024", n)
		}
		ts, _ := e.svc.List(e.ctx, admin, task.Filter{})
		for _, x := range ts {
			if x.Progress <= 0 || x.Progress > 100 {
				t.Errorf("%s progress %d", x.Code, x.Progress)
			}
		}
		period := task.Defaults.LastDue(task.Today(time.Now()))
		if owed, _ := task.OwedReports(e.ctx, db.Reader(), task.Defaults, period); len(owed) == 0 || len(owed) > 20 {
			t.Fatalf("%d reports owed after the demo", len(owed))
		}
		if late, _ := task.LateMilestones(e.ctx, db.Reader(), task.Today(time.Now())); len(late) == 0 {
			t.Fatal("no milestone is overdue")
		}
		if err := task.SeedDemo(e.ctx, db); err != nil || e.count(`SELECT count(*) FROM task_reports`) != reports {
			t.Fatalf("second demo seed: %v", err)
		}
	})
}
