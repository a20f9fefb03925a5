package web

import (
	"bytes"
	"context"
	"errors"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xuri/excelize/v2"

	"wufei/internal/auth"
	"wufei/internal/dashboard"
	"wufei/internal/errs"
	"wufei/internal/program/indicator"
)

func (s *server) dashboardRoutes(mux *routeMux) {
	mux.HandleFunc("GET /workbench", s.authed(s.workbench))
	mux.HandleFunc("GET /dashboard", s.authed(s.dashboardPage))
	mux.HandleFunc("GET /dashboard/export/{chart}", s.authed(s.dashboardExport))
}

// A chart of the dashboard: the endpoint its script draws from and the
// figure's table, rendered here so that the page reads without JavaScript.
type dashChart struct {
	Key   string // the chart's kind, which the script draws
	Title string // message key
	Note  string // message key of what it counts
	Src   string // the JSON endpoint, with the filter
	Xlsx  string // the Excel download
	Head  []string
	Rows  []dashRow
	Wide  bool
}

type dashRow struct {
	Cells []dashCell
	URL   string
}

type dashCell struct {
	Text string
	Num  bool
}

// rows renders a table's cells in a language.
func rows(msgs messages, t dashboard.Table) ([]string, []dashRow) {
	head := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		head[i] = msgs.t(c)
	}
	out := make([]dashRow, 0, len(t.Rows))
	for _, r := range t.Rows {
		row := dashRow{URL: r.URL}
		for _, c := range r.Cells {
			cell := dashCell{Text: cellText(msgs.t, c)}
			switch c.(type) {
			case float64, int:
				cell.Num = true
			}
			row.Cells = append(row.Cells, cell)
		}
		out = append(out, row)
	}
	return head, out
}

// figure is one of the dashboard's figures: how to compute it and how it
// is drawn.
type figure struct {
	key, api    string
	title, note string // message keys
	wide        bool
	get         func(context.Context, *dashboard.Service, auth.Principal, dashboard.Filter) (dashboard.Table, error)
}

func tableOf[T dashboard.Tabler](v T, err error) (dashboard.Table, error) { return v.Table(), err }

// figures are the dashboard's charts in the order of the page.
var figures = []figure{
	{"flows", "flows", "dash.chart.flows", "dash.note.flows", true, func(ctx context.Context, d *dashboard.Service, p auth.Principal, f dashboard.Filter) (dashboard.Table, error) {
		return tableOf(d.Flows(ctx, p, f))
	}},
	{"categories", "flows", "dash.chart.categories", "dash.note.categories", false, func(ctx context.Context, d *dashboard.Service, p auth.Principal, f dashboard.Filter) (dashboard.Table, error) {
		v, err := d.Flows(ctx, p, f)
		return v.CategoryTable(), err
	}},
	{"sankey", "sankey", "dash.chart.sankey", "dash.note.sankey", false, func(ctx context.Context, d *dashboard.Service, p auth.Principal, f dashboard.Filter) (dashboard.Table, error) {
		return tableOf(d.Sankey(ctx, p, f))
	}},
	{"transit", "transit", "dash.chart.transit", "dash.note.transit", false, func(ctx context.Context, d *dashboard.Service, p auth.Principal, f dashboard.Filter) (dashboard.Table, error) {
		return tableOf(d.Transit(ctx, p, f, time.Now()))
	}},
	{"alerts", "alerts", "dash.chart.alerts", "dash.note.alerts", false, func(ctx context.Context, d *dashboard.Service, p auth.Principal, f dashboard.Filter) (dashboard.Table, error) {
		return tableOf(d.Alerts(ctx, p, f))
	}},
	{"regions", "regions", "dash.chart.regions", "dash.note.regions", false, func(ctx context.Context, d *dashboard.Service, p auth.Principal, f dashboard.Filter) (dashboard.Table, error) {
		return tableOf(d.Regions(ctx, p, f))
	}},
	{"places", "places", "dash.chart.places", "dash.note.places", false, func(ctx context.Context, d *dashboard.Service, p auth.Principal, f dashboard.Filter) (dashboard.Table, error) {
		return tableOf(d.Places(ctx, p, f))
	}},
	{"capacity", "capacity", "dash.chart.capacity", "dash.note.capacity", false, func(ctx context.Context, d *dashboard.Service, p auth.Principal, f dashboard.Filter) (dashboard.Table, error) {
		return tableOf(d.Capacity(ctx, p, f, time.Now()))
	}},
}

func figureOf(key string) (figure, bool) {
	for _, f := range figures {
		if f.key == key {
			return f, true
		}
	}
	return figure{}, false
}

type dashTile struct {
	dashboard.Tile
	StatusKey, Badge                     string
	ValueText, TargetText, ProjectedText string
}

// figure3 shows a value with a sensible number of decimals and never in
// exponent form: 84.09, 7, 0.000022.
func figure3(v *float64) string {
	if v == nil {
		return ""
	}
	x, places := *v, 6
	switch a := math.Abs(x); {
	case a >= 100:
		places = 1
	case a >= 1:
		places = 2
	case a >= 0.01:
		places = 4
	}
	p := math.Pow(10, float64(places))
	return strconv.FormatFloat(math.Round(x*p)/p, 'f', -1, 64)
}

type dashboardData struct {
	Filter  dashboard.Filter
	Regions []indicator.Area
	Error   string // the service's message for a refused filter
	Year    int
	Tiles   []dashTile
	Charts  []dashChart
	Labels  map[string]string // what the script shows, in the page's language
}

// dashFilter reads the filter form.
func dashFilter(r *http.Request) dashboard.Filter {
	q := r.URL.Query()
	return dashboard.Filter{Region: q.Get("region"), Period: q.Get("period"), Category: q.Get("category")}
}

// query is the filter as a URL query, leaving out what is empty.
func dashQuery(f dashboard.Filter) string {
	v := url.Values{}
	for k, x := range map[string]string{"region": f.Region, "period": f.Period, "category": f.Category} {
		if x != "" {
			v.Set(k, x)
		}
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// dashboardPage is the command dashboard: the target tiles and the charts
// with their tables, for the filter in the query.
func (s *server) dashboardPage(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	ctx := dashboard.Shared(r.Context()) // the flows, categories and regions read their quantities once
	d := dashboardData{Filter: dashFilter(r)}
	targets, err := s.Dashboard.Targets(ctx, p, d.Filter)
	if errs.KindOf(err) == errs.Invalid { // show the refusal and the unfiltered figures
		d.Error = messageOf(err)
		d.Filter = dashboard.Filter{}
		targets, err = s.Dashboard.Targets(ctx, p, d.Filter)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Filter, d.Year = targets.Filter, targets.Year
	for _, t := range targets.Tiles {
		tile := dashTile{Tile: t, StatusKey: optionLabel(indicatorStatuses, t.Status), ValueText: figure3(t.Value),
			TargetText: figure3(t.Target), ProjectedText: figure3(t.Projected)}
		for _, o := range indicatorStatuses {
			if o.Value == t.Status {
				tile.Badge = o.Hint
			}
		}
		d.Tiles = append(d.Tiles, tile)
	}
	if d.Regions, err = s.Indicators.Regions(ctx); err != nil {
		s.fail(w, r, err)
		return
	}
	qs := dashQuery(d.Filter)
	msgs := catalogue(requestLang(r))
	for _, f := range figures {
		t, err := f.get(ctx, s.Dashboard, p, d.Filter)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		c := dashChart{Key: f.key, Title: f.title, Note: f.note,
			Src: "/api/v1/dashboard/" + f.api + qs, Xlsx: "/dashboard/export/" + f.key + qs, Wide: f.wide}
		c.Head, c.Rows = rows(msgs, t)
		d.Charts = append(d.Charts, c)
	}
	d.Labels = scriptLabels(requestLang(r))
	s.page(w, r, http.StatusOK, "dashboard", "content", s.view(r, "dashboard", d))
}

// dashboardExport writes one chart's numbers as an Excel workbook.
func (s *server) dashboardExport(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	f, ok := figureOf(r.PathValue("chart"))
	if !ok {
		s.fail(w, r, errs.E(errs.NotFound, "not_found", "页面不存在"))
		return
	}
	t, err := f.get(r.Context(), s.Dashboard, p, dashFilter(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	msgs := catalogue(requestLang(r))
	title := msgs.t(f.title)
	x := excelize.NewFile()
	defer x.Close()
	sheet := x.GetSheetName(0)
	put := func(row int, cells []any) {
		for i, c := range cells {
			switch c.(type) {
			case dashboard.Label, []dashboard.Label:
				c = cellText(msgs.t, c)
			}
			name, _ := excelize.CoordinatesToCellName(i+1, row)
			_ = x.SetCellValue(sheet, name, c)
		}
	}
	head := make([]any, len(t.Columns))
	for i, c := range t.Columns {
		head[i] = msgs.t(c)
	}
	put(1, head)
	for i, row := range t.Rows {
		put(i+2, row.Cells)
	}
	var b bytes.Buffer
	if err := x.Write(&b); err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": title + ".xlsx"}))
	h.Set("Cache-Control", "private, no-store")
	_, _ = b.WriteTo(w)
}

// catalogue is the messages of a language, read once.
var catalogue = func() func(string) messages {
	load := sync.OnceValue(func() map[string]messages {
		m, err := loadMessages()
		if err != nil { // embedded at build time and checked when the templates parse
			panic(err)
		}
		return m
	})
	return func(lang string) messages { return load()[lang] }
}()

// dashMessages are the message keys of the dashboard package's tables and
// of the charts' series and axes: the pages translate the tables with them,
// and the script gets them (scriptLabels).
var dashMessages = []string{
	"dash.flow.generated", "dash.flow.transferred", "dash.flow.utilised", "dash.flow.disposed",
	"dash.col.month", "dash.col.category", "dash.col.region", "dash.col.open_alerts", "dash.col.from_region",
	"dash.col.receiver", "dash.col.tonnes", "dash.col.item", "dash.col.count", "dash.col.alert_kind", "dash.col.unit",
	"dash.col.roles", "dash.col.longitude", "dash.col.latitude", "dash.col.facilities", "dash.col.capacity_t",
	"dash.col.used_t", "dash.col.share", "dash.col.indicator", "dash.col.value", "dash.col.target", "dash.col.status",
	"dash.col.projected", "dash.transit.submitted", "dash.transit.in_transit", "dash.transit.overdue",
}

// scriptLabels are the words the dashboard's script puts on its charts:
// series, axes, alert rules and unit roles.
func scriptLabels(lang string) map[string]string {
	msgs := catalogue(lang)
	out := map[string]string{}
	for _, k := range dashMessages {
		out[k] = msgs.t(k)
	}
	for k, v := range msgs {
		if strings.HasPrefix(k, "alert_kind.") || strings.HasPrefix(k, "unit_role.") {
			out[k] = v
		}
	}
	return out
}

// messageOf is the service's own message of an error.
func messageOf(err error) string {
	var e *errs.Error
	if errors.As(err, &e) {
		if len(e.Fields) > 0 {
			return e.Fields[0].Message
		}
		return e.Message
	}
	return err.Error()
}

// cellText shows a table cell: a number with its decimals trimmed, a label
// in the page's language, or the text.
func cellText(t func(string, ...any) string, c any) string {
	switch v := c.(type) {
	case dashboard.Label:
		return t(string(v))
	case []dashboard.Label:
		out := make([]string, len(v))
		for i, l := range v {
			out[i] = t(string(l))
		}
		return strings.Join(out, "、")
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case int:
		return strconv.Itoa(v)
	case string:
		return v
	}
	return ""
}
