package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"
	"wufei/internal/calendar"

	"wufei/internal/auth"
	"wufei/internal/catalog"
	"wufei/internal/errs"
	"wufei/internal/hw/plan"
)

var (
	planStatuses = []option{{Value: plan.Draft, Label: "plan_status.draft"}, {Value: plan.Filed, Label: "plan_status.filed"},
		{Value: plan.Returned, Label: "plan_status.returned"}}
	planClasses = []option{{Value: plan.Key, Label: "plan_class.key"}, {Value: plan.Simplified, Label: "plan_class.simplified"},
		{Value: plan.Registered, Label: "plan_class.registered"}}
	periodStatuses = []option{{Value: plan.NotDue, Label: "period_status.not_due"}, {Value: plan.Due, Label: "period_status.due"},
		{Value: plan.Overdue, Label: "period_status.overdue"}, {Value: plan.Submitted, Label: "period_status.submitted"},
		{Value: plan.Late, Label: "period_status.late"}}
	periodKinds = []option{{Value: plan.Monthly, Label: "period_kind.monthly"},
		{Value: plan.Quarterly, Label: "period_kind.quarterly"}, {Value: plan.Yearly, Label: "period_kind.yearly"}}
)

// files reports whether p writes unitID's plans and declarations.
func files(p auth.Principal, unitID string) bool {
	return p.Role == auth.Admin || (signer(p) && p.UnitID == unitID)
}

// thisYear is the current year in China.
func thisYear() int { return time.Now().In(calendar.Zone).Year() }

type planRow struct {
	plan.Summary
	StatusKey, ClassKey, Submitted string
}

type planLineForm struct {
	Index, No                                          int
	WasteCode, Name, Form, PlannedT, LastYearT, Source string
}

type planForm struct {
	Year      string
	Lines     []planLineForm
	Reduction string
}

type plansData struct {
	Year, Status string
	Statuses     []option
	Items        []planRow
	List         listing
	Flash        string
	CanCreate    bool
	Form         planForm
	Err          formError
	Forms        []option
	Codes        []catalog.WasteCode
}

// plans lists the management plans the caller may see and, for a unit's
// staff, offers the form that starts one.
func (s *server) plans(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	f := planForm{Year: strconv.Itoa(thisYear())}
	for i := range lineRows {
		f.Lines = append(f.Lines, planLineForm{Index: i, No: i + 1, Form: "S"})
	}
	s.renderPlans(w, r, p, http.StatusOK, f, formError{})
}

func (s *server) renderPlans(w http.ResponseWriter, r *http.Request, p auth.Principal, status int, f planForm, fe formError) {
	ctx := r.Context()
	q := r.URL.Query()
	d := plansData{Year: q.Get("year"), Status: q.Get("status"), Statuses: planStatuses, CanCreate: signer(p), Form: f,
		Err: fe, Forms: physicalForms}
	if r.Method == http.MethodGet {
		d.Flash = s.flash(w, r)
	}
	year, err := 0, error(nil)
	if d.Year != "" {
		if year, err = strconv.Atoi(d.Year); err != nil {
			err = errs.Field("year", "year_format", "年度须为四位数字")
		}
	}
	if err == nil && d.Status != "" && optionLabel(planStatuses, d.Status) == "" {
		err = errs.Field("status", "status_unknown", "状态无效")
	}
	var page plan.Page[plan.Summary]
	if err == nil {
		page, err = s.Plans.List(ctx, p, plan.Filter{Year: year, Status: d.Status, After: q.Get("cursor"), Limit: pageSize})
	}
	for _, it := range page.Items {
		d.Items = append(d.Items, planRow{Summary: it, StatusKey: optionLabel(planStatuses, it.Status),
			ClassKey: optionLabel(planClasses, it.Class), Submitted: minuteOf(it.SubmittedAt)})
	}
	if d.CanCreate && !isHTMX(r) {
		if d.Codes, err = s.wasteCodes(ctx); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if err == nil && status != http.StatusOK {
		d.List = pager(r, page.Next)
		s.page(w, r, status, "plans", "content", s.view(r, "plans", &d))
		return
	}
	s.list(w, r, err, page.Next, &d.List, "plans", &d)
}

// planCreate starts the unit's plan for a year with its generation lines.
func (s *server) planCreate(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, errs.E(errs.Invalid, "form_invalid", "表单无法解析"))
		return
	}
	f := planForm{Year: strings.TrimSpace(r.PostFormValue("year")), Reduction: strings.TrimSpace(r.PostFormValue("reduction_measures"))}
	var v errs.Validation
	in := plan.NewPlan{ReductionMeasures: f.Reduction}
	if y, err := strconv.Atoi(f.Year); err == nil {
		in.Year = y
	} else {
		v.Add("year", "year_format", "年度须为四位数字")
	}
	var rowOf []int
	for i := range lineRows {
		g := planLineForm{Index: i, No: i + 1, WasteCode: formValue(r, "waste_code", i), Name: formValue(r, "name", i),
			Form: formValue(r, "form", i), PlannedT: formValue(r, "planned_t", i), LastYearT: formValue(r, "last_year_t", i),
			Source: formValue(r, "source", i)}
		f.Lines = append(f.Lines, g)
		if g.WasteCode == "" && g.Name == "" && g.PlannedT == "" && g.LastYearT == "" && g.Source == "" {
			continue
		}
		path := "generation[" + strconv.Itoa(i) + "]"
		line := plan.GenerationLine{WasteCode: g.WasteCode, Name: g.Name, Form: g.Form, Source: g.Source}
		if t := parseTonnes(&v, path+".planned_t", g.PlannedT); t != nil {
			line.PlannedT = *t
		}
		if t := parseTonnes(&v, path+".last_year_t", g.LastYearT); t != nil {
			line.LastYearT = *t
		}
		in.Generation = append(in.Generation, line)
		rowOf = append(rowOf, i)
	}
	err := v.Err()
	if err == nil {
		var pl plan.Plan
		if pl, err = s.Plans.Create(r.Context(), p, in); err == nil {
			s.done(w, r, "/plans/"+pl.ID, "flash.plan_created")
			return
		}
	}
	fe, status, ok := userError(err)
	if !ok {
		s.fail(w, r, err)
		return
	}
	if v.Err() == nil {
		fe.remapRows("generation", rowOf)
	}
	r.URL.Path, r.URL.RawQuery = "/plans", ""
	s.renderPlans(w, r, p, status, f, fe)
}

type planData struct {
	P               plan.Plan
	StatusKey       string
	ClassKey        string
	Flash           string
	Err             formError
	Submit, Return  bool
	Reason          string
	Due, Submitted  string
	Filed, Returned string
	FormKeys        map[string]string
}

// planPage shows a plan with submit (the unit) and return (a regulator).
func (s *server) planPage(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	s.renderPlan(w, r, p, http.StatusOK, formError{})
}

func (s *server) renderPlan(w http.ResponseWriter, r *http.Request, p auth.Principal, status int, fe formError) {
	pl, err := s.Plans.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := planData{P: pl, StatusKey: optionLabel(planStatuses, pl.Status), ClassKey: optionLabel(planClasses, pl.Class), Err: fe,
		Submit: files(p, pl.UnitID) && (pl.Status == plan.Draft || pl.Status == plan.Returned),
		Return: regulates(p) && pl.Status == plan.Filed, Reason: r.PostFormValue("reason"),
		Due: minute(pl.DueAt.Add(-time.Second)), Submitted: minuteOf(pl.SubmittedAt),
		Returned: minuteOf(pl.ReturnedAt), FormKeys: map[string]string{}}
	for _, o := range physicalForms {
		d.FormKeys[o.Value] = o.Label
	}
	if r.Method == http.MethodGet {
		d.Flash = s.flash(w, r)
	}
	s.page(w, r, status, "plan", "content", s.view(r, "plans", d))
}

// planAction submits (files) or returns a plan.
func (s *server) planAction(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	ctx, id, version := r.Context(), r.PathValue("id"), postVersion(r)
	var err error
	var flash string
	switch r.PathValue("action") {
	case "submit":
		_, err = s.Plans.Submit(ctx, p, id, version) // filed at once, with its filing number
		flash = "flash.plan_filed"
	case "return":
		_, err = s.Plans.Return(ctx, p, id, r.PostFormValue("reason"), version)
		flash = "flash.plan_returned"
	default:
		s.fail(w, r, errs.E(errs.NotFound, "not_found", "页面不存在"))
		return
	}
	if err == nil {
		s.done(w, r, "/plans/"+id, flash)
		return
	}
	fe, status, ok := userError(err)
	if !ok {
		s.fail(w, r, err)
		return
	}
	s.renderPlan(w, r, p, status, fe)
}

type periodRow struct {
	plan.PeriodStatus
	StatusKey, KindKey string
	Compile            bool
}

type declarationsData struct {
	Year     int
	UnitID   string
	Schedule plan.Schedule
	ClassKey string
	Items    []periodRow
	Flash    string
	Err      formError
	ErrKey   string // the period whose action was refused
	Shown    *plan.Declaration
	Years    []int
	Mine     bool // the caller files for this unit
}

// declarations is a unit's declaration schedule for a year: each period's
// due date and status, with compile and submit for the unit's staff.
func (s *server) declarations(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	s.renderDeclarations(w, r, p, http.StatusOK, formError{}, "")
}

func (s *server) renderDeclarations(w http.ResponseWriter, r *http.Request, p auth.Principal, status int, fe formError, errKey string) {
	ctx := r.Context()
	q := r.URL.Query()
	d := declarationsData{Year: thisYear(), UnitID: q.Get("unit_id"), Err: fe, ErrKey: errKey}
	if y, err := strconv.Atoi(q.Get("year")); err == nil {
		d.Year = y
	}
	for y := thisYear(); y >= thisYear()-3; y-- {
		d.Years = append(d.Years, y)
	}
	if r.Method == http.MethodGet {
		d.Flash = s.flash(w, r)
	}
	sc, err := s.Plans.Schedule(ctx, p, d.UnitID, d.Year, time.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Schedule, d.ClassKey = sc, optionLabel(planClasses, sc.Class)
	d.Mine = files(p, sc.UnitID)
	for _, it := range sc.Items {
		row := periodRow{PeriodStatus: it, StatusKey: optionLabel(periodStatuses, it.Status), KindKey: optionLabel(periodKinds, it.Kind)}
		ended := it.Status != plan.NotDue && it.Status != plan.Submitted && it.Status != plan.Late
		row.Compile = d.Mine && ended
		d.Items = append(d.Items, row)
	}
	if id := q.Get("show"); id != "" {
		decl, err := s.Plans.GetDeclaration(ctx, p, id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Shown = &decl
	}
	s.page(w, r, status, "declarations", "content", s.view(r, "plans", d))
}

// declarationCompile compiles a period's declaration from the ledger and
// shows it for review.
func (s *server) declarationCompile(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	period := r.PostFormValue("period")
	decl, err := s.Plans.Compile(r.Context(), p, "", period)
	if err == nil {
		s.done(w, r, "/declarations?year="+strconv.Itoa(decl.Year)+"&show="+decl.ID+"#declaration", "flash.declaration_compiled")
		return
	}
	s.declarationFailed(w, r, p, err, period)
}

// declarationSubmit submits a reviewed draft declaration.
func (s *server) declarationSubmit(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	decl, err := s.Plans.SubmitDeclaration(r.Context(), p, r.PathValue("id"), postVersion(r))
	if err == nil {
		s.done(w, r, "/declarations?year="+strconv.Itoa(decl.Year), "flash.declaration_submitted")
		return
	}
	s.declarationFailed(w, r, p, err, r.PostFormValue("period"))
}

func (s *server) declarationFailed(w http.ResponseWriter, r *http.Request, p auth.Principal, err error, period string) {
	fe, status, ok := userError(err)
	// A refusal is the answer itself: the list to show it on may be one the
	// caller cannot open, whose 422 would hide the 403.
	if !ok || status == http.StatusForbidden {
		s.fail(w, r, err)
		return
	}
	r.URL.Path, r.URL.RawQuery = "/declarations", "year="+strings.TrimSpace(r.PostFormValue("year"))
	s.renderDeclarations(w, r, p, status, fe, period)
}
