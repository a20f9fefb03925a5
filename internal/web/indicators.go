package web

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/program/indicator"
)

// The indicator pages: the table of indicators against the 2027 targets for
// a region and year, and one indicator with its series, the records behind
// a computed value, the versions of a reported one, the lead department's
// report form and the work team's approval.

var (
	indicatorStatuses = []option{{Value: "achieved", Label: "indicator_status.achieved", Hint: "completed"},
		{Value: "on_track", Label: "indicator_status.on_track", Hint: "submitted"},
		{Value: "at_risk", Label: "indicator_status.at_risk", Hint: "in_transit"},
		{Value: "off_track", Label: "indicator_status.off_track", Hint: "refused"},
		{Value: "no_data", Label: "indicator_status.no_data", Hint: "draft"}}
	indicatorReportStatuses = []option{{Value: indicator.Pending, Label: "report_status.pending", Hint: "submitted"},
		{Value: indicator.Approved, Label: "report_status.approved", Hint: "completed"},
		{Value: indicator.Returned, Label: "report_status.returned", Hint: "refused"},
		{Value: indicator.Superseded, Label: "report_status.superseded", Hint: "cancelled"}}
	indicatorSources = []option{{Value: indicator.SourcePlan, Label: "indicator_source.plan"},
		{Value: indicator.SourceNational, Label: "indicator_source.national"},
		{Value: indicator.SourceAuxiliary, Label: "indicator_source.auxiliary"}}
	indicatorKinds = []option{{Value: string(indicator.Computed), Label: "indicator_kind.computed"},
		{Value: string(indicator.Reported), Label: "indicator_kind.reported"}}
	indicatorDirections = []option{{Value: string(indicator.Higher), Label: "direction.higher"},
		{Value: string(indicator.Lower), Label: "direction.lower"}}
	indicatorValueSources = []option{{Value: "computed", Label: "value_source.computed"},
		{Value: "reported", Label: "value_source.reported"}, {Value: "baseline", Label: "value_source.baseline"}}
	indicatorDrillParts = []option{{Value: "numerator", Label: "drill_part.numerator"},
		{Value: "denominator", Label: "drill_part.denominator"}}
	indicatorDrillEntities = []option{{Value: "ledger_record", Label: "drill_entity.ledger_record"},
		{Value: "ledger_stock", Label: "drill_entity.ledger_stock"},
		{Value: "manifest_line", Label: "drill_entity.manifest_line"},
		{Value: "cell", Label: "drill_entity.cell"},
		{Value: "indicator_report", Label: "drill_entity.indicator_report"}}
)

// indicatorNumber formats a value without trailing zeros, or "—".
func indicatorNumber(v *float64) string {
	if v == nil {
		return "—"
	}
	x := *v
	if math.Abs(x) >= 1 { // two decimals are enough to read a rate or an amount
		x = math.Round(x*100) / 100
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}

// indicatorValue writes a value with its unit.
func indicatorValue(v *float64, unit string) string {
	switch {
	case v == nil:
		return "—"
	case unit == "%":
		return indicatorNumber(v) + "%"
	case unit == "是/否":
		if *v == 1 {
			return "是"
		}
		return "否"
	}
	return indicatorNumber(v) + " " + unit
}

type indicatorRow struct {
	indicator.Item
	StatusKey, Badge, Department              string
	Value, Target, Projected, Baseline, Scope string
}

func (s *server) indicatorRow(it indicator.Item, deps map[string]string) indicatorRow {
	r := indicatorRow{Item: it, StatusKey: optionLabel(indicatorStatuses, it.Status), Department: deps[it.LeadDepartment],
		Value: indicatorValue(it.Value, it.Unit), Target: indicatorValue(it.Target, it.Unit), Projected: indicatorValue(it.Projected, it.Unit),
		Baseline: indicatorValue(it.Baseline, it.Unit)}
	for _, o := range indicatorStatuses {
		if o.Value == it.Status {
			r.Badge = o.Hint
		}
	}
	if r.Department == "" {
		r.Department = it.LeadDepartment
	}
	return r
}

type indicatorGroup struct {
	Level1 string
	Rows   []indicatorRow
}

type indicatorsData struct {
	Region, Year string
	Regions      []indicator.Area
	Groups       []indicatorGroup
	Counts       []indicatorStatusCount
	List         listing
}

type indicatorStatusCount struct {
	Key, Badge string
	N          int
}

// indicatorFilter reads the region and year of a page; "" for defaults.
func indicatorFilter(r *http.Request) (region, year string, f indicator.ListFilter) {
	q := r.URL.Query()
	region, year = strings.TrimSpace(q.Get("region")), strings.TrimSpace(q.Get("year"))
	f.Region = region
	if year != "" {
		if y, err := strconv.Atoi(year); err == nil {
			f.Year = y
		} else {
			f.Year = -1 // refused by the service as out of range
		}
	}
	return region, year, f
}

// departmentNames maps department codes to names.
func (s *server) departmentNames(r *http.Request) (map[string]string, error) {
	deps, err := s.Registry.ListDepartments(r.Context())
	out := make(map[string]string, len(deps))
	for _, d := range deps {
		out[d.Code] = d.Name
	}
	return out, err
}

// indicatorsPage is the indicator table with status badges and projections.
func (s *server) indicatorsPage(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	ctx := r.Context()
	d := indicatorsData{}
	var f indicator.ListFilter
	d.Region, d.Year, f = indicatorFilter(r)
	if d.Year == "" {
		d.Year = strconv.Itoa(thisYear())
	}
	var err error
	if d.Regions, err = s.Indicators.Regions(ctx); err != nil {
		s.fail(w, r, err)
		return
	}
	deps, err := s.departmentNames(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items, err := s.Indicators.List(ctx, p, f)
	counts := map[string]int{}
	for _, it := range items {
		if n := len(d.Groups); n == 0 || d.Groups[n-1].Level1 != it.Level1 {
			d.Groups = append(d.Groups, indicatorGroup{Level1: it.Level1})
		}
		g := &d.Groups[len(d.Groups)-1]
		g.Rows = append(g.Rows, s.indicatorRow(it, deps))
		counts[it.Status]++
	}
	for _, o := range indicatorStatuses {
		d.Counts = append(d.Counts, indicatorStatusCount{Key: o.Label, Badge: o.Hint, N: counts[o.Value]})
	}
	s.list(w, r, err, "", &d.List, "indicators", &d)
}

type indicatorVersionRow struct {
	indicator.Report
	StatusKey, Badge, Submitted, Decided, Value string
	Approve, AddEvidence                        bool
}

type indicatorDrillRow struct {
	indicator.DrillRow
	PartKey, EntityKey, Region, At, Link string
}

type indicatorForm struct {
	Region, Period, Value, Comment string
}

type indicatorData struct {
	Row           indicatorRow
	D             indicator.Detail
	Region, Year  string
	RegionName    string
	Regions       []indicator.Area
	Departments   []string
	SourceKey     string
	KindKey       string
	DirectionKey  string
	SourceOfValue string // message key: computed or reported
	Fraction      string // numerator ÷ denominator, with their labels
	Chart         template.HTML
	Series        []indicatorSeriesRow
	Drill         []indicatorDrillRow
	Versions      []indicatorVersionRow
	Effective     []indicatorEffectiveRow
	Reported      bool // values are reported, so versions are listed
	CanReport     bool
	WorkTeam      bool
	Hint          string
	Form          indicatorForm
	Err           formError
	ErrVersion    string // the version whose action was refused
	Flash         string
}

type indicatorSeriesRow struct {
	Year          int
	Value, Source string
}

type indicatorEffectiveRow struct {
	Period, Value, Source string
}

// indicatorPage shows one indicator for a region and year.
func (s *server) indicatorPage(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	s.renderIndicator(w, r, p, http.StatusOK, indicatorForm{}, formError{}, "")
}

func (s *server) renderIndicator(w http.ResponseWriter, r *http.Request, p auth.Principal, status int, form indicatorForm,
	fe formError, errVersion string) {
	ctx := r.Context()
	id := r.PathValue("id")
	d := indicatorData{Form: form, Err: fe, ErrVersion: errVersion}
	var f indicator.ListFilter
	d.Region, d.Year, f = indicatorFilter(r)
	detail, err := s.Indicators.Get(ctx, p, id, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.D = detail
	if d.Region == "" {
		d.Region = detail.Region
	}
	if d.Year == "" {
		d.Year = strconv.Itoa(thisYear())
	}
	deps, err := s.departmentNames(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Row = s.indicatorRow(detail.Item, deps)
	for _, c := range append([]string{detail.LeadDepartment}, detail.CoDepartments...) {
		d.Departments = append(d.Departments, orElse(deps[c], c))
	}
	d.SourceKey, d.KindKey = optionLabel(indicatorSources, detail.Source), optionLabel(indicatorKinds, string(detail.Kind))
	d.DirectionKey, d.Hint = optionLabel(indicatorDirections, string(detail.Direction)), indicator.RangeHint(detail.Unit)
	if d.Regions, err = s.Indicators.Regions(ctx); err != nil {
		s.fail(w, r, err)
		return
	}
	names := map[string]string{}
	for _, a := range d.Regions {
		names[a.Code] = a.Name
	}
	_, all, err := s.regions(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.RegionName = names[detail.Region]
	for _, pt := range detail.Series {
		d.Series = append(d.Series, indicatorSeriesRow{Year: pt.Year, Value: indicatorValue(pt.Value, detail.Unit),
			Source: optionLabel(indicatorValueSources, pt.Source)})
	}
	d.Chart = indicatorChart(detail)
	d.SourceOfValue = optionLabel(indicatorValueSources, detail.ValueSource)
	if detail.Numerator != nil {
		var num, den string
		if detail.Drill != nil {
			num, den = detail.Drill.NumeratorLabel+" ", detail.Drill.DenominatorLabel+" "
		}
		d.Fraction = num + indicatorNumber(detail.Numerator)
		if detail.Denominator != nil {
			d.Fraction += " ÷ " + den + indicatorNumber(detail.Denominator)
		}
	}
	if detail.Drill != nil {
		for _, row := range detail.Drill.Rows {
			dr := indicatorDrillRow{DrillRow: row, PartKey: optionLabel(indicatorDrillParts, row.Part), EntityKey: optionLabel(indicatorDrillEntities, row.Entity),
				Region: orElse(all[row.RegionCode], row.RegionCode)}
			if row.At != nil {
				dr.At = minute(*row.At)
			}
			if row.Entity == "manifest_line" {
				dr.Link = "/manifests/" + row.ID
			}
			d.Drill = append(d.Drill, dr)
		}
	}
	if d.Reported = detail.Kind == indicator.Reported; d.Reported {
		if d.CanReport, err = s.Indicators.CanReport(ctx, p, id, detail.Region); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if d.WorkTeam, err = s.Indicators.WorkTeam(ctx, p); err != nil {
		s.fail(w, r, err)
		return
	}
	h, err := s.Indicators.History(ctx, p, id, detail.Region)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, v := range h.Items {
		vr := indicatorVersionRow{Report: v, StatusKey: optionLabel(indicatorReportStatuses, v.Status), Submitted: minute(v.SubmittedAt),
			Value: indicatorValue(&v.Value, detail.Unit), Approve: d.WorkTeam && v.Status == indicator.Pending,
			AddEvidence: d.CanReport && v.Status == indicator.Pending}
		for _, o := range indicatorReportStatuses {
			if o.Value == v.Status {
				vr.Badge = o.Hint
			}
		}
		vr.Decided = minuteOf(v.DecidedAt)
		vr.Department = orElse(deps[v.Department], v.Department)
		d.Versions = append(d.Versions, vr)
	}
	for _, e := range h.Effective {
		d.Effective = append(d.Effective, indicatorEffectiveRow{Period: e.Period, Value: indicatorValue(e.Value, detail.Unit),
			Source: optionLabel(indicatorValueSources, e.Source)})
	}
	if d.Form.Region == "" {
		d.Form.Region, d.Form.Period = detail.Region, d.Year
	}
	if r.Method == http.MethodGet {
		d.Flash = s.flash(w, r)
	}
	s.page(w, r, status, "indicator", "content", s.view(r, "indicators", d))
}

func orElse(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// maxMultipartMemory bounds the memory a multipart form may take before spilling to
// disk; the request body is bounded before it gets here.
const maxMultipartMemory = 8 << 20

// uploadedFiles reads the files of a multipart form field; empty file inputs
// are skipped.
func uploadedFiles(r *http.Request, field string) ([]indicator.EvidenceFile, error) {
	if r.MultipartForm == nil {
		return nil, nil
	}
	var out []indicator.EvidenceFile
	for _, fh := range r.MultipartForm.File[field] {
		if fh.Filename == "" && fh.Size == 0 {
			continue
		}
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(io.LimitReader(f, indicator.MaxEvidenceBytes+1))
		f.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, indicator.EvidenceFile{Name: fh.Filename, ContentType: fh.Header.Get("Content-Type"), Content: b})
	}
	return out, nil
}

// indicatorBack is the indicator page for the form's region and year.
func indicatorBack(id, region, year string) string {
	q := url.Values{}
	if region != "" {
		q.Set("region", region)
	}
	if year != "" {
		q.Set("year", year)
	}
	return "/indicators/" + url.PathEscape(id) + "?" + q.Encode()
}

// indicatorReport submits a value with its evidence, in one transaction.
func (s *server) indicatorReport(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	id := r.PathValue("id")
	if err := r.ParseMultipartForm(maxMultipartMemory); err != nil && err != http.ErrNotMultipart {
		s.fail(w, r, errs.E(errs.Invalid, "form_invalid", "表单无法解析"))
		return
	}
	form := indicatorForm{Region: strings.TrimSpace(r.FormValue("region")), Period: strings.TrimSpace(r.FormValue("period")),
		Value: strings.TrimSpace(r.FormValue("value")), Comment: r.FormValue("comment")}
	in := indicator.NewReport{Region: form.Region, Period: form.Period, Comment: form.Comment}
	var err error
	if form.Value != "" {
		if v, perr := strconv.ParseFloat(form.Value, 64); perr == nil {
			in.Value = &v
		} else {
			err = errs.Field("value", "value_number", "请填写有效数字")
		}
	}
	if err == nil {
		in.Evidence, err = uploadedFiles(r, "file")
	}
	if err == nil {
		if _, err = s.Indicators.Submit(r.Context(), p, id, in); err == nil {
			s.done(w, r, indicatorBack(id, form.Region, yearOfPeriod(form.Period)), "flash.indicator_reported")
			return
		}
	}
	s.indicatorFailed(w, r, p, err, form, "")
}

// yearOfPeriod is the year a period code starts with.
func yearOfPeriod(period string) string {
	if len(period) >= 4 {
		return period[:4]
	}
	return ""
}

// indicatorAction approves or returns a version, or adds evidence to it.
func (s *server) indicatorAction(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	ctx, id, vid := r.Context(), r.PathValue("id"), r.PathValue("vid")
	if err := r.ParseMultipartForm(maxMultipartMemory); err != nil && err != http.ErrNotMultipart {
		s.fail(w, r, errs.E(errs.Invalid, "form_invalid", "表单无法解析"))
		return
	}
	dec := indicator.Decision{Version: postVersion(r), Note: r.FormValue("note")}
	region, year := r.FormValue("region"), r.FormValue("year")
	var err error
	var flash string
	switch r.PathValue("action") {
	case "approve":
		_, err = s.Indicators.Approve(ctx, p, id, vid, dec)
		flash = "flash.indicator_approved"
	case "return":
		_, err = s.Indicators.Return(ctx, p, id, vid, dec)
		flash = "flash.indicator_returned"
	case "evidence":
		var files []indicator.EvidenceFile
		if files, err = uploadedFiles(r, "file"); err == nil {
			_, err = s.Indicators.AddEvidence(ctx, p, id, vid, files)
		}
		flash = "flash.indicator_evidence"
	default:
		s.fail(w, r, errs.E(errs.NotFound, "not_found", "页面不存在"))
		return
	}
	if err == nil {
		s.done(w, r, indicatorBack(id, region, year), flash)
		return
	}
	s.indicatorFailed(w, r, p, err, indicatorForm{}, vid)
}

func (s *server) indicatorFailed(w http.ResponseWriter, r *http.Request, p auth.Principal, err error, form indicatorForm, vid string) {
	fe, status, ok := userError(err)
	if !ok {
		s.fail(w, r, err)
		return
	}
	q := url.Values{}
	if v := r.FormValue("region"); v != "" {
		q.Set("region", v)
	}
	if v := r.FormValue("year"); v != "" {
		q.Set("year", v)
	} else if y := yearOfPeriod(form.Period); y != "" {
		q.Set("year", y)
	}
	r.URL.RawQuery = q.Encode()
	r.Method = http.MethodPost
	s.renderIndicator(w, r, p, status, form, fe, vid)
}

// indicatorChart draws the yearly series, the target and the projection as inline
// SVG: points joined by a line, the target a dashed rule, the projection a
// hollow point at the target year.
func indicatorChart(d indicator.Detail) template.HTML {
	type pt struct {
		year int
		v    float64
	}
	var ps []pt
	for _, s := range d.Series {
		if s.Value != nil {
			ps = append(ps, pt{s.Year, *s.Value})
		}
	}
	if len(ps) == 0 {
		return ""
	}
	lo, hi := ps[0].v, ps[0].v
	y0, y1 := ps[0].year, ps[len(ps)-1].year
	extend := func(v float64) { lo, hi = math.Min(lo, v), math.Max(hi, v) }
	for _, p := range ps {
		extend(p.v)
	}
	if d.Target != nil {
		extend(*d.Target)
	}
	if d.Projected != nil && d.TargetYear != nil {
		extend(*d.Projected)
		y1 = max(y1, *d.TargetYear)
	}
	if hi == lo {
		hi, lo = hi+1, math.Max(lo-1, 0)
	}
	const w, h, pad = 480.0, 160.0, 28.0
	x := func(year int) float64 {
		if y1 == y0 {
			return w / 2
		}
		return pad + float64(year-y0)/float64(y1-y0)*(w-2*pad)
	}
	y := func(v float64) float64 { return h - pad - (v-lo)/(hi-lo)*(h-2*pad) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" class="chart" role="img" aria-label="%s">`,
		w, h, w, h, template.HTMLEscapeString(d.Name))
	if d.Target != nil {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#1a7f37" stroke-dasharray="6 4"/>`,
			pad, w-pad, y(*d.Target), y(*d.Target))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" fill="#1a7f37" text-anchor="end">%s</text>`,
			w-pad, y(*d.Target)-4, template.HTMLEscapeString(indicatorNumber(d.Target)))
	}
	var line []string
	for _, p := range ps {
		line = append(line, fmt.Sprintf("%.1f,%.1f", x(p.year), y(p.v)))
	}
	fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="#1f4e79" stroke-width="2"/>`, strings.Join(line, " "))
	for _, p := range ps {
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="#1f4e79"/>`, x(p.year), y(p.v))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle">%d</text>`, x(p.year), h-8, p.year)
	}
	if d.Projected != nil && d.TargetYear != nil {
		last := ps[len(ps)-1]
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#1f4e79" stroke-dasharray="3 3"/>`,
			x(last.year), y(last.v), x(*d.TargetYear), y(*d.Projected))
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="4" fill="#fff" stroke="#1f4e79" stroke-width="2"/>`,
			x(*d.TargetYear), y(*d.Projected))
		if *d.TargetYear != last.year {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle">%d</text>`, x(*d.TargetYear), h-8, *d.TargetYear)
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built here from numbers and escaped text
}
