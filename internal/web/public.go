package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/program/indicator"
	"wufei/internal/publication"
	"wufei/internal/registry"
)

// The public disclosure pages (信息公开), open to anyone without a log-in:
// the public home, the licensed facilities, the indicators against the 2027
// targets, the certified zero-waste cells and the annual solid-waste
// publication. They read only what internal/publication and the indicator
// table publish; no page links to a record behind a figure.

// publicViewer is whom the public pages read indicators as: a viewer of no
// region, who sees the published values and none of the records behind them.
var publicViewer = auth.Principal{Username: "public", Role: auth.Viewer}

// headline are the indicators the public home shows at a glance.
var headline = []string{"ihw_utilization_rate", "gisw_utilization_rate", "msw_recycling_rate", "cdw_recycling_rate",
	"medical_waste_treatment_rate", "zero_waste_cells"}

func (s *server) publicRoutes(mux *routeMux) {
	mux.HandleFunc("GET /public", s.publicIndex)
	mux.HandleFunc("GET /public/facilities", s.publicFacilities)
	mux.HandleFunc("GET /public/indicators", s.publicIndicators)
	mux.HandleFunc("GET /public/indicators/{id}", s.publicIndicator)
	mux.HandleFunc("GET /public/cells", s.publicCells)
	mux.HandleFunc("GET /public/publication", s.publicPublication)
}

// root is the site's front door: the public home for a visitor, the
// workbench for a signed-in user.
func (s *server) root(w http.ResponseWriter, r *http.Request) {
	if _, ok := auth.FromContext(r.Context()); ok {
		http.Redirect(w, r, "/workbench", http.StatusSeeOther)
		return
	}
	s.publicIndex(w, r)
}

type publicHomeData struct {
	Year       int
	Headline   []publicIndicatorRow
	Counts     []indicatorStatusCount
	Indicators int
	Facilities int
	Cells      int
	PubYear    int
}

// publicIndex is the public home: what the platform is, the city's
// progress at a glance and the disclosure pages.
func (s *server) publicIndex(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d := publicHomeData{Year: thisYear(), PubYear: thisYear() - 1}
	if s.Indicators != nil {
		groups, counts, err := s.publicIndicatorGroups(r, "")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Counts = counts
		for _, g := range groups {
			d.Indicators += len(g.Rows)
			for _, row := range g.Rows {
				for _, id := range headline {
					if row.ID == id {
						d.Headline = append(d.Headline, row)
					}
				}
			}
		}
	}
	fs, err := publication.Facilities(ctx, s.DB.Reader(), publication.FacilityFilter{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cs, err := publication.Cells(ctx, s.DB.Reader(), publication.CellFilter{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Facilities, d.Cells = len(fs), len(cs)
	s.render(w, r, http.StatusOK, "public_home", "layout", s.view(r, "public", d))
}

// publicIndicatorRow is an indicator as the public sees it: its value this
// year, or last year's when this year has none yet.
type publicIndicatorRow struct {
	indicatorRow
	ValueYear int // the year Value is for
}

// publicIndicatorGroups lists every indicator for a region (the city when
// ""), grouped as the plan groups them, with the status counts.
func (s *server) publicIndicatorGroups(r *http.Request, region string) ([]publicIndicatorGroup, []indicatorStatusCount, error) {
	ctx := r.Context()
	year := thisYear()
	items, err := s.Indicators.List(ctx, publicViewer, indicator.ListFilter{Region: region, Year: year})
	if err != nil {
		return nil, nil, err
	}
	last, err := s.Indicators.List(ctx, publicViewer, indicator.ListFilter{Region: region, Year: year - 1})
	if err != nil {
		return nil, nil, err
	}
	prev := make(map[string]indicator.Item, len(last))
	for _, it := range last {
		prev[it.ID] = it
	}
	deps, err := s.departmentNames(r)
	if err != nil {
		return nil, nil, err
	}
	var groups []publicIndicatorGroup
	n := map[string]int{}
	for _, it := range items {
		row := publicIndicatorRow{indicatorRow: s.indicatorRow(it, deps), ValueYear: year}
		if p, ok := prev[it.ID]; it.Value == nil && ok && p.Value != nil {
			row.Value, row.ValueYear = indicatorValue(p.Value, it.Unit), year-1
		}
		if k := len(groups); k == 0 || groups[k-1].Level1 != it.Level1 {
			groups = append(groups, publicIndicatorGroup{Level1: it.Level1})
		}
		g := &groups[len(groups)-1]
		g.Rows = append(g.Rows, row)
		n[it.Status]++
	}
	var counts []indicatorStatusCount
	for _, o := range indicatorStatuses {
		counts = append(counts, indicatorStatusCount{Key: o.Label, Badge: o.Hint, N: n[o.Value]})
	}
	return groups, counts, nil
}

type publicIndicatorGroup struct {
	Level1 string
	Rows   []publicIndicatorRow
}

type publicIndicatorsData struct {
	Region  string
	Regions []indicator.Area
	Year    int
	Groups  []publicIndicatorGroup
	Counts  []indicatorStatusCount
}

// publicIndicators is every indicator against its 2027 target.
func (s *server) publicIndicators(w http.ResponseWriter, r *http.Request) {
	if s.Indicators == nil {
		s.fail(w, r, errs.E(errs.NotFound, "not_found", "页面不存在"))
		return
	}
	d := publicIndicatorsData{Region: strings.TrimSpace(r.URL.Query().Get("region")), Year: thisYear()}
	var err error
	if d.Regions, err = s.Indicators.Regions(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	if d.Groups, d.Counts, err = s.publicIndicatorGroups(r, d.Region); err != nil {
		if errs.KindOf(err) == errs.Invalid { // an unknown region is a page that does not exist
			err = errs.E(errs.NotFound, "not_found", "没有这个地区")
		}
		s.fail(w, r, err)
		return
	}
	if d.Region == "" && len(d.Regions) > 0 {
		d.Region = d.Regions[0].Code
	}
	s.page(w, r, http.StatusOK, "public_indicators", "public_indicators_table", s.view(r, "public", d))
}

type publicIndicatorData struct {
	Row          indicatorRow
	Region       string
	RegionName   string
	Departments  []string
	DirectionKey string
	KindKey      string
	Fraction     string
	Chart        template.HTML
	Series       []indicatorSeriesRow
}

// publicIndicator is one indicator with its yearly series; the records
// behind a computed value are not public and are not listed.
func (s *server) publicIndicator(w http.ResponseWriter, r *http.Request) {
	if s.Indicators == nil {
		s.fail(w, r, errs.E(errs.NotFound, "not_found", "页面不存在"))
		return
	}
	ctx := r.Context()
	region := strings.TrimSpace(r.URL.Query().Get("region"))
	det, err := s.Indicators.Get(ctx, publicViewer, r.PathValue("id"), indicator.ListFilter{Region: region})
	if err != nil {
		if errs.KindOf(err) == errs.Invalid {
			err = errs.E(errs.NotFound, "not_found", "没有这个地区")
		}
		s.fail(w, r, err)
		return
	}
	deps, err := s.departmentNames(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := publicIndicatorData{Row: s.indicatorRow(det.Item, deps), Region: det.Region,
		DirectionKey: optionLabel(indicatorDirections, string(det.Direction)), KindKey: optionLabel(indicatorKinds, string(det.Kind))}
	for _, c := range append([]string{det.LeadDepartment}, det.CoDepartments...) {
		d.Departments = append(d.Departments, orElse(deps[c], c))
	}
	areas, err := s.Indicators.Regions(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, a := range areas {
		if a.Code == det.Region {
			d.RegionName = a.Name
		}
	}
	for _, pt := range det.Series {
		d.Series = append(d.Series, indicatorSeriesRow{Year: pt.Year, Value: indicatorValue(pt.Value, det.Unit),
			Source: optionLabel(indicatorValueSources, pt.Source)})
	}
	d.Chart = indicatorChart(det)
	if det.Numerator != nil && det.Drill != nil {
		d.Fraction = det.Drill.NumeratorLabel + " " + indicatorNumber(det.Numerator)
		if det.Denominator != nil {
			d.Fraction += " ÷ " + det.Drill.DenominatorLabel + " " + indicatorNumber(det.Denominator)
		}
	}
	s.render(w, r, http.StatusOK, "public_indicator", "layout", s.view(r, "public", d))
}

type publicFacilitiesData struct {
	Region, Category string
	Regions          []regionGroup
	Names            map[string]string
	Categories       []publication.Category
	Items            []publication.Facility
	CapacityT        float64
}

// publicFacilities lists the units with a hazardous-waste licence in force.
func (s *server) publicFacilities(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	d := publicFacilitiesData{Region: strings.TrimSpace(q.Get("region")), Category: strings.ToUpper(strings.TrimSpace(q.Get("category")))}
	rs, names, err := s.regions(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Regions, d.Names = publicRegionGroups(rs), names
	if d.Categories, err = publication.Categories(ctx, s.DB.Reader()); err != nil {
		s.fail(w, r, err)
		return
	}
	if d.Items, err = publication.Facilities(ctx, s.DB.Reader(),
		publication.FacilityFilter{Region: d.Region, Category: d.Category}); err != nil {
		s.fail(w, r, err)
		return
	}
	for _, f := range d.Items {
		d.CapacityT += f.CapacityT
	}
	s.page(w, r, http.StatusOK, "public_facilities", "public_facilities_table", s.view(r, "public", d))
}

// publicRegionGroups are the counties and parks a public filter offers.
func publicRegionGroups(rs []registry.Region) []regionGroup {
	gs := groupRegions(rs)
	return gs[:2]
}

type publicCellType struct {
	Code, Name string
	Cells      []publication.Cell
}

type publicCellRegion struct {
	Name string
	N    int
}

type publicCellsData struct {
	Type, Region string
	Types        []publication.CellType
	Regions      []regionGroup
	Names        map[string]string
	Groups       []publicCellType
	ByRegion     []publicCellRegion
	Total        int
}

// publicCells lists the certified zero-waste cells by type, with their
// number by region.
func (s *server) publicCells(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	d := publicCellsData{Type: strings.TrimSpace(q.Get("type")), Region: strings.TrimSpace(q.Get("region"))}
	rs, names, err := s.regions(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Regions, d.Names = publicRegionGroups(rs), names
	if d.Types, err = publication.CellTypes(ctx, s.DB.Reader()); err != nil {
		s.fail(w, r, err)
		return
	}
	cs, err := publication.Cells(ctx, s.DB.Reader(), publication.CellFilter{Type: d.Type, Region: d.Region})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Total = len(cs)
	at := map[string]int{}
	for _, c := range cs {
		if k := len(d.Groups); k == 0 || d.Groups[k-1].Code != c.Type {
			d.Groups = append(d.Groups, publicCellType{Code: c.Type, Name: c.TypeName})
		}
		g := &d.Groups[len(d.Groups)-1]
		g.Cells = append(g.Cells, c)
		if _, ok := at[c.RegionCode]; !ok {
			at[c.RegionCode] = len(d.ByRegion)
			d.ByRegion = append(d.ByRegion, publicCellRegion{Name: orElse(names[c.RegionCode], c.RegionCode)})
		}
		d.ByRegion[at[c.RegionCode]].N++
	}
	s.page(w, r, http.StatusOK, "public_cells", "public_cells_table", s.view(r, "public", d))
}

type publicationData struct {
	R        publication.Report
	Years    []int
	Workbook string
	Nonce    string
	Back     string // the language switch's target
}

// publicPublication is the annual solid-waste publication on A4 pages, or
// as a workbook with ?format=xlsx.
func (s *server) publicPublication(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	year := thisYear() - 1
	if y := strings.TrimSpace(q.Get("year")); y != "" {
		n, err := strconv.Atoi(y)
		if err != nil || n < publication.FirstYear || n > thisYear() {
			s.fail(w, r, errs.E(errs.NotFound, "not_found", "没有这一年的信息公开"))
			return
		}
		year = n
	}
	rep, err := publication.Annual(r.Context(), s.DB.Reader(), year)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	switch q.Get("format") {
	case "":
	case "xlsx":
		b, err := publication.Workbook(rep)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		h.Set("Content-Disposition", "attachment; filename=\"publication-"+strconv.Itoa(year)+".xlsx\"; filename*=UTF-8''"+
			url.PathEscape(rep.Title()+".xlsx"))
		_, _ = w.Write(b)
		return
	default:
		s.fail(w, r, errs.E(errs.NotFound, "not_found", "没有这种格式"))
		return
	}
	d := publicationData{R: rep, Workbook: "/public/publication?year=" + strconv.Itoa(year) + "&format=xlsx"}
	for y := thisYear(); y >= 2024; y-- {
		d.Years = append(d.Years, y)
	}
	d.Nonce = nonceCSP(w, false) // only the print button's script is inline
	s.render(w, r, http.StatusOK, "public_publication", "print", s.view(r, "public", d))
}
