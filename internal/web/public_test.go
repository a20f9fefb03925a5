package web_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"wufei/internal/calendar"
	"wufei/internal/demo"
	"wufei/internal/publication"
	"wufei/internal/qty"
	"wufei/internal/server"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// demoDisposer is the demo's licensed utilisation and disposal unit.
const (
	demoDisposer = "淮北绿源环境科技有限公司"
	demoLicence  = "皖危废经许字3406040001号"
)

// startDemo serves the platform with the full demo: a year of hazardous
// waste activity, stream records, cells and indicator values.
func startDemo(t *testing.T, db *store.DB) fixture {
	t.Helper()
	app, err := server.New(context.Background(), db, server.Config{Demo: true, DemoUnits: demo.ActivityMinUnits,
		Version: "test", KeyFile: filepath.Join(t.TempDir(), "audit.key")})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler)
	t.Cleanup(srv.Close)
	return fixture{srv: srv}
}

// TestPublicPages opens every disclosure page without a log-in, checks
// what each lists against the records, and that no unit's ledger batch,
// manifest or container is named anywhere.
func TestPublicPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := startDemo(t, db)
		ctx, q := context.Background(), db.Reader()
		anon := f.client()
		get := func(path string, status int) page {
			t.Helper()
			p := f.do(t, anon, "GET", path, nil)
			if p.status != status {
				t.Fatalf("GET %s: %d, want %d\n%s", path, p.status, status, p.body)
			}
			return p
		}
		var private []string // what must never appear
		for _, query := range []string{`SELECT number FROM manifests ORDER BY id LIMIT 20`,
			`SELECT batch_code FROM ledger_records ORDER BY id LIMIT 20`, `SELECT digital_id FROM containers ORDER BY id LIMIT 20`,
			`SELECT contact_phone FROM units WHERE contact_phone <> '' ORDER BY id LIMIT 20`} {
			var xs []string
			if err := store.Select(ctx, q, &xs, query); err != nil {
				t.Fatal(err)
			}
			if len(xs) == 0 {
				t.Fatalf("the demo has no rows for %s", query)
			}
			private = append(private, xs...)
		}
		var pages []page

		home := get("/", http.StatusOK)
		contains(t, home, `<html lang="zh-CN">`, "信息公开", `href="/public/indicators"`, `href="/public/facilities"`,
			`href="/public/cells"`, `href="/public/publication?year=`, `id="headline"`, "工业危险废物综合利用率")
		lacks(t, home, `action="/logout"`)
		pages = append(pages, home, get("/public", http.StatusOK))

		// Facilities: the demo disposer with its licence and scope; filters narrow.
		fac := get("/public/facilities", http.StatusOK)
		contains(t, fac, demoDisposer, demoLicence, "HW08", "R9", "D10", "20000")
		pages = append(pages, fac)
		contains(t, get("/public/facilities?region=340604", http.StatusOK), demoDisposer)
		lacks(t, get("/public/facilities?region=340603", http.StatusOK), demoDisposer)
		lacks(t, get("/public/facilities?category=HW01", http.StatusOK), demoDisposer)
		contains(t, get("/public/facilities?category=HW50", http.StatusOK), demoDisposer)
		if p := f.do(t, anon, "GET", "/public/facilities?region=340604", nil, "HX-Request", "true"); p.status != http.StatusOK ||
			!strings.HasPrefix(strings.TrimSpace(p.body), `<div id="public-facilities"`) {
			t.Errorf("htmx facilities: %d, not just the table:\n%.300s", p.status, p.body)
		}

		// Indicators: every one, each linking to its public page.
		ind := get("/public/indicators", http.StatusOK)
		var inds []struct {
			ID     string `db:"id"`
			Name   string `db:"name"`
			Source string `db:"source"`
		}
		if err := store.Select(ctx, q, &inds, `SELECT id, name, source FROM indicators`); err != nil {
			t.Fatal(err)
		}
		plan := 0
		for _, in := range inds {
			contains(t, ind, `href="/public/indicators/`+in.ID+`?region=340600"`, in.Name)
			if in.Source == "plan" {
				plan++
			}
		}
		if plan != 19 {
			t.Errorf("%d plan indicators, want 19", plan)
		}
		pages = append(pages, ind)
		one := get("/public/indicators/ihw_utilization_rate", http.StatusOK)
		contains(t, one, "工业危险废物综合利用率", `id="series"`, "36%")
		lacks(t, one, `href="/manifests/`)
		pages = append(pages, one, get("/public/indicators/zero_waste_cells?region=340603", http.StatusOK))
		get("/public/indicators/no_such_indicator", http.StatusNotFound)
		get("/public/indicators/ihw_utilization_rate?region=999999", http.StatusNotFound)

		// Cells: the certified ones, and none still being evaluated.
		cells := get("/public/cells", http.StatusOK)
		var cs []struct {
			Name   string `db:"name"`
			Status string `db:"status"`
		}
		if err := store.Select(ctx, q, &cs, `SELECT name, status FROM cells`); err != nil {
			t.Fatal(err)
		}
		certified := 0
		for _, c := range cs {
			if c.Status == "certified" {
				certified++
				contains(t, cells, c.Name)
			}
		}
		if certified == 0 {
			t.Fatal("the demo has no certified cells")
		}
		for _, c := range cs {
			if c.Status != "certified" && !strings.Contains(c.Name, "（") { // names unique enough to look for
				lacks(t, cells, ">"+c.Name+"<")
			}
		}
		contains(t, cells, "共 "+strconv.Itoa(certified)+" 个")
		pages = append(pages, cells)

		// The annual publication: this year's figures from the records.
		y := time.Now().In(calendar.Zone).Year()
		pub := get("/public/publication?year="+strconv.Itoa(y), http.StatusOK)
		var gen int64
		from := time.Date(y, 1, 1, 0, 0, 0, 0, calendar.Zone)
		if err := store.Get(ctx, q, &gen, `SELECT COALESCE(SUM(delta_g), 0) FROM ledger_records WHERE effect_kind = 'generation'
			AND category <> 'HW01' AND occurred_at >= ? AND occurred_at < ?`, from.UTC(), from.AddDate(1, 0, 0).UTC()); err != nil {
			t.Fatal(err)
		}
		if gen == 0 {
			t.Fatal("the demo generated no hazardous waste this year")
		}
		rep, err := publication.Annual(ctx, q, y)
		if err != nil {
			t.Fatal(err)
		}
		if got := rep.Tables[0].Total.Values[0]; got != float64(int64(qty.Tonnes(gen)*1000+0.5))/1000 {
			t.Errorf("hazardous waste generated: %v, ledger says %v t", got, qty.Tonnes(gen))
		}
		contains(t, pub, `<html lang="zh-CN">`, "淮北市 "+strconv.Itoa(y)+" 年固体废物污染环境防治信息公开",
			"工业危险废物产生、利用和处置情况", "一般工业固体废物", "生活垃圾", "污泥", "建筑垃圾", "医疗废物", "数据来源",
			rep.Tables[0].Total.Figures()[0], demoDisposer, `id="print"`, "format=xlsx")
		for _, tb := range rep.Tables {
			if tb.Key != "hazardous_capacity" && len(tb.Rows) == 0 {
				t.Errorf("publication %d: table %s is empty", y, tb.Key)
			}
		}
		pages = append(pages, pub, get("/public/publication", http.StatusOK))
		get("/public/publication?year=abc", http.StatusNotFound)
		get("/public/publication?year="+strconv.Itoa(y+1), http.StatusNotFound)
		get("/public/publication?format=pdf", http.StatusNotFound)

		xl := get("/public/publication?year="+strconv.Itoa(y)+"&format=xlsx", http.StatusOK)
		if ct := xl.header.Get("Content-Type"); !strings.Contains(ct, "spreadsheetml") {
			t.Errorf("workbook content type %q", ct)
		}
		book, err := excelize.OpenReader(bytes.NewReader([]byte(xl.body)))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := book.GetRows("信息公开")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) < 20 || !strings.Contains(rows[0][0], strconv.Itoa(y)) {
			t.Errorf("workbook: %d rows, first %v", len(rows), rows[0])
		}
		var xlText strings.Builder
		for _, r := range rows {
			xlText.WriteString(strings.Join(r, "\t") + "\n")
		}
		pages = append(pages, page{body: xlText.String()})

		for _, p := range pages {
			for _, s := range private {
				if strings.Contains(p.body, s) {
					t.Errorf("a public page shows %q", s)
				}
			}
		}

		// English through the switch.
		u, _ := url.Parse(f.srv.URL)
		anon.Jar.SetCookies(u, []*http.Cookie{{Name: "lang", Value: "en"}})
		en := get("/public/indicators", http.StatusOK)
		contains(t, en, `<html lang="en">`, "Indicator progress", "Latest value")

		// A signed-in user's front door is the workbench; the public pages stay open to them.
		c := f.client()
		if p := f.do(t, c, "POST", "/login", url.Values{"username": {"sthjj"}, "password": {demo.Password}}); p.status != http.StatusSeeOther {
			t.Fatalf("log in: %d", p.status)
		}
		if p := f.do(t, c, "GET", "/", nil); p.status != http.StatusSeeOther || p.header.Get("Location") != "/workbench" {
			t.Errorf("GET / signed in: %d to %q", p.status, p.header.Get("Location"))
		}
		contains(t, f.do(t, c, "GET", "/public/facilities", nil), demoDisposer, `action="/logout"`)
	})
}
