package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"wufei/internal/demo"
	"wufei/internal/server"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// TestDashboardHTTP drives the dashboard's endpoints, its page and the
// workbench over HTTP on the demo with a year of activity.
func TestDashboardHTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		app, err := server.New(context.Background(), db, server.Config{Demo: true, DemoUnits: demo.ActivityMinUnits,
			Version: "test", KeyFile: filepath.Join(t.TempDir(), "audit.key")})
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(app.Handler)
		t.Cleanup(ts.Close)
		anon := client{t: t, base: ts.URL}
		sthjj, gen, gen2 := anon.login("sthjj"), anon.login("gen"), anon.login("gen2")

		if st, _, _ := anon.do("GET", "/api/v1/dashboard/flows", nil); st != http.StatusUnauthorized {
			t.Errorf("anonymous flows: %d", st)
		}
		for _, e := range []string{"targets", "flows", "sankey", "transit", "alerts", "regions", "places", "capacity"} {
			st, m, _ := sthjj.do("GET", "/api/v1/dashboard/"+e, nil)
			if st != 200 || m["filter"] == nil {
				t.Errorf("%s: %d %v", e, st, m)
			}
		}
		_, m, _ := sthjj.do("GET", "/api/v1/dashboard/targets", nil)
		if tiles, _ := m["tiles"].([]any); len(tiles) != 19 {
			t.Errorf("targets: %d tiles", len(tiles))
		}
		st, m, _ := sthjj.do("GET", "/api/v1/dashboard/flows?period=2026Q9", nil)
		if st != http.StatusUnprocessableEntity || firstField(m) != "period:period_format" {
			t.Errorf("bad period: %d %v", st, m)
		}

		// Scope: a generator's map holds its own unit, the city's many.
		places := func(c client) []any {
			_, m, _ := c.do("GET", "/api/v1/dashboard/places", nil)
			p, _ := m["places"].([]any)
			return p
		}
		g, g2, city := places(gen), places(gen2), places(sthjj)
		if len(g) != 1 || len(g2) != 1 || len(city) < 10 {
			t.Fatalf("places: gen %d, gen2 %d, city %d", len(g), len(g2), len(city))
		}
		if g[0].(map[string]any)["name"] != "淮北濉溪临涣煤化有限公司" || g2[0].(map[string]any)["name"] == g[0].(map[string]any)["name"] {
			t.Errorf("places: gen %v, gen2 %v", g[0], g2[0])
		}
		_, m, _ = gen.do("GET", "/api/v1/dashboard/capacity", nil)
		if r, _ := m["receivers"].([]any); len(r) != 0 {
			t.Errorf("gen sees receivers' capacity: %v", r)
		}
		_, m, _ = gen.do("GET", "/api/v1/workbench", nil)
		if s, _ := m["sections"].([]any); len(s) == 0 || s[0].(map[string]any)["key"] != "drafts" {
			t.Errorf("gen workbench: %v", m)
		}

		// The web: log in without next lands on the workbench; the
		// dashboard shows the targets and the chart cards; the Excel.
		jar, _ := cookiejar.New(nil)
		web := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := web.PostForm(ts.URL+"/login", url.Values{"username": {"sthjj"}, "password": {demo.Password}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/workbench" {
			t.Fatalf("login: %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
		get := func(path string) (int, string, http.Header) {
			t.Helper()
			res, err := web.Get(ts.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(b), res.Header
		}
		st, body, _ := get("/workbench")
		if st != 200 || !strings.Contains(body, "<h1>工作台</h1>") || !strings.Contains(body, `id="wb-alerts"`) {
			t.Errorf("workbench: %d %.300s", st, body)
		}
		st, body, _ = get("/dashboard")
		for _, want := range []string{"<h1>驾驶舱</h1>", `id="targets"`, `data-chart="sankey"`, `data-src="/api/v1/dashboard/flows?period=`,
			"/dashboard/export/capacity", "淮北绿源环境科技有限公司", `<script type="application/json" id="dash-labels">`} {
			if !strings.Contains(body, want) {
				t.Errorf("dashboard lacks %q", want)
			}
		}
		if n := strings.Count(body, `<li><a href="/indicators/`); st != 200 || n != 19 {
			t.Errorf("dashboard: %d, %d target tiles", st, n)
		}
		st, body, _ = get("/dashboard?period=bad")
		if st != 200 || !strings.Contains(body, "统计期格式") {
			t.Errorf("dashboard with a bad period: %d", st)
		}
		st, body, h := get("/dashboard/export/regions?period=2026")
		if st != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/vnd.openxmlformats") || !strings.HasPrefix(body, "PK") {
			t.Errorf("export: %d %q", st, h.Get("Content-Type"))
		}
		if st, _, _ := get("/dashboard/export/nothing"); st != 404 {
			t.Errorf("unknown export: %d", st)
		}
		// An explicit next still wins.
		res, err = web.PostForm(ts.URL+"/login", url.Values{"username": {"gen"}, "password": {demo.Password}, "next": {"/units"}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.Header.Get("Location") != "/units" {
			t.Errorf("login with next: to %q", res.Header.Get("Location"))
		}
		// gen's dashboard tables hold no other generator.
		if _, body, _ = get("/dashboard"); strings.Contains(body, "淮北市相山区顺达汽车维修服务有限公司") {
			t.Error("gen's dashboard names gen2")
		}
	})
}
