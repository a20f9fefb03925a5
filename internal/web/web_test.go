package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"wufei/internal/api"
	"wufei/internal/auth"
	"wufei/internal/catalog"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
	"wufei/internal/web"
)

const (
	cookieName = "wufei_session"
	username   = "zhang"
	password   = "correct-horse-1"
	unitName   = "淮北绿源环保科技有限公司"
)

// fixture is a running UI on a seeded database: one collector and carrier
// unit with a licence and a vehicle, and its unit admin.
type fixture struct {
	srv  *httptest.Server
	unit registry.Unit
}

func start(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	db, _ := storetest.SQLite(t)
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		if err := registry.SeedReference(ctx, tx); err != nil {
			return err
		}
		return catalog.Seed(ctx, tx)
	}); err != nil {
		t.Fatal(err)
	}
	authSvc, reg := auth.NewService(db), registry.NewService(db)
	admin := auth.Principal{Role: auth.Admin, UserID: "system", Username: "system"}
	u, err := reg.CreateUnit(ctx, admin, registry.NewUnit{USCC: registry.MakeUSCC("91", "340621", "MA2N0001"),
		Name: unitName, Roles: []registry.UnitRole{registry.Collector, registry.Carrier}, RegionCode: "340621",
		ParkCode: "340621400", Address: "濉溪经济开发区凤栖路 8 号", ContactName: "王工", ContactPhone: "0561-1234567"})
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := reg.CreateLicence(ctx, admin, registry.NewLicence{UnitID: u.ID, Number: "皖危废收集 340600001",
		Kinds: []registry.LicenceKind{registry.Collect, registry.Store}, CapacityT: 5000.5, ValidFrom: from,
		ValidTo: from.AddDate(5, 0, 0), Scopes: []registry.LicenceScope{{Category: "HW08", Method: "C3"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.CreateVehicle(ctx, admin, registry.NewVehicle{UnitID: u.ID, Plate: "皖F12345",
		PermitNo: "皖交运管 340600123", Kind: "厢式货车", CapacityT: 9.8}); err != nil {
		t.Fatal(err)
	}
	if _, err := authSvc.CreateUser(ctx, admin, auth.NewUser{Username: username, DisplayName: "张三", Password: password,
		Role: auth.UnitAdmin, UnitID: u.ID}); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", web.New(web.Deps{Auth: authSvc, Registry: reg, DB: db, Version: "test", Cookie: cookieName}))
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, openAPI)
	})
	srv := httptest.NewServer(api.Authenticate(authSvc, cookieName)(mux))
	t.Cleanup(srv.Close)
	return fixture{srv: srv, unit: u}
}

// openAPI stands in for the API's document; the docs page only needs one to
// render.
const openAPI = `{"openapi": "3.1.0", "info": {"title": "wufei test API", "version": "test"},
 "paths": {"/api/v1/units": {"get": {"summary": "单位列表", "operationId": "list-units",
  "responses": {"200": {"description": "OK", "content": {"application/json": {"schema":
   {"type": "object", "properties": {"next": {"type": ["string", "null"]}}}}}}}}}}}`

// client does not follow redirects, so that tests see them.
func (f fixture) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

type page struct {
	status int
	header http.Header
	body   string
}

func (f fixture) do(t *testing.T, c *http.Client, method, path string, form url.Values, header ...string) page {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, f.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{resp.StatusCode, resp.Header, string(b)}
}

func (f fixture) login(t *testing.T) *http.Client {
	t.Helper()
	c := f.client()
	p := f.do(t, c, "POST", "/login", url.Values{"username": {username}, "password": {password}, "next": {"/units"}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/units" {
		t.Fatalf("login: %d %q, want 303 to /units\n%s", p.status, p.header.Get("Location"), p.body)
	}
	return c
}

func contains(t *testing.T, p page, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(p.body, w) {
			t.Errorf("page lacks %q:\n%s", w, p.body)
		}
	}
}

func TestLoginRequired(t *testing.T) {
	f := start(t)
	for _, path := range []string{"/units", "/units/x", "/licences", "/vehicles", "/catalog"} { // "/" is the public home
		p := f.do(t, f.client(), "GET", path+"?q=1", nil)
		if want := "/login?next=" + url.QueryEscape(path+"?q=1"); p.status != http.StatusSeeOther || p.header.Get("Location") != want {
			t.Errorf("GET %s: %d to %q, want 303 to %q", path, p.status, p.header.Get("Location"), want)
		}
	}
	// htmx follows a redirect inside the swapped region, so it is told to navigate instead.
	p := f.do(t, f.client(), "GET", "/units", nil, "HX-Request", "true")
	if p.status != http.StatusUnauthorized || !strings.HasPrefix(p.header.Get("HX-Redirect"), "/login?next=") {
		t.Errorf("htmx without session: %d HX-Redirect %q", p.status, p.header.Get("HX-Redirect"))
	}
	// The log-in form and the API reference are public.
	for _, path := range []string{"/login", "/docs"} {
		if p := f.do(t, f.client(), "GET", path, nil); p.status != http.StatusOK {
			t.Errorf("GET %s: %d, want 200", path, p.status)
		}
	}
}

func TestLogin(t *testing.T) {
	f := start(t)
	c := f.client()
	p := f.do(t, c, "POST", "/login", url.Values{"username": {username}, "password": {"wrong-password"}})
	if p.status != http.StatusUnauthorized {
		t.Errorf("wrong password: status %d, want 401", p.status)
	}
	contains(t, p, `role="alert"`, "用户名或密码错误", `value="zhang"`)
	if strings.Contains(p.body, "wrong-password") {
		t.Error("the password is echoed back")
	}

	c = f.login(t)
	u, _ := url.Parse(f.srv.URL)
	var session *http.Cookie
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == cookieName {
			session = ck
		}
	}
	if session == nil {
		t.Fatal("no session cookie")
	}
	// A signed-in user's front door is the workbench.
	if p = f.do(t, c, "GET", "/", nil); p.status != http.StatusSeeOther || p.header.Get("Location") != "/workbench" {
		t.Errorf("GET / signed in: %d to %q, want 303 to /workbench", p.status, p.header.Get("Location"))
	}
	p = f.do(t, c, "GET", "/units", nil)
	contains(t, p, "张三", "单位管理员", unitName, `action="/logout"`)

	// An open redirect through next is refused.
	p = f.do(t, f.client(), "POST", "/login", url.Values{"username": {username}, "password": {password},
		"next": {"//evil.example/"}})
	if p.header.Get("Location") != "/" {
		t.Errorf("next=//evil.example/ redirected to %q, want /", p.header.Get("Location"))
	}

	// Log-out revokes the token: the old cookie no longer works.
	if p := f.do(t, c, "POST", "/logout", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("logout: %d", p.status)
	}
	old := f.client()
	old.Jar.SetCookies(u, []*http.Cookie{session})
	if p := f.do(t, old, "GET", "/units", nil); p.status != http.StatusSeeOther {
		t.Errorf("revoked session still served /units: %d", p.status)
	}
}

func TestLoginThrottled(t *testing.T) {
	f := start(t)
	c := f.client()
	for range auth.MaxFailures {
		f.do(t, c, "POST", "/login", url.Values{"username": {username}, "password": {"wrong-password"}})
	}
	p := f.do(t, c, "POST", "/login", url.Values{"username": {username}, "password": {password}})
	if p.status != http.StatusTooManyRequests {
		t.Errorf("status %d, want 429", p.status)
	}
	contains(t, p, "15 分钟")
}

func TestCrossOriginPost(t *testing.T) {
	f := start(t)
	p := f.do(t, f.client(), "POST", "/login", url.Values{"username": {username}, "password": {password}},
		"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if p.status != http.StatusForbidden {
		t.Errorf("cross-site log-in: %d, want 403", p.status)
	}
}

func TestLanguage(t *testing.T) {
	f := start(t)
	c := f.login(t)
	p := f.do(t, c, "GET", "/units", nil)
	contains(t, p, `<html lang="zh-CN">`, "<h1>单位</h1>", "统一社会信用代码", unitName, "收集单位", "运输单位", "濉溪县")

	// Chinese is the default whatever the browser asks for.
	p = f.do(t, c, "GET", "/units", nil, "Accept-Language", "en-GB,en;q=0.9")
	contains(t, p, `<html lang="zh-CN">`, "<h1>单位</h1>")

	// English is chosen with the switch, which sets a cookie.
	p = f.do(t, c, "GET", "/lang?to=en&next="+url.QueryEscape("/units?q=绿源"), nil)
	if loc, _ := url.PathUnescape(p.header.Get("Location")); p.status != http.StatusSeeOther || loc != "/units?q=绿源" {
		t.Fatalf("lang switch: %d to %q", p.status, p.header.Get("Location"))
	}
	p = f.do(t, c, "GET", "/units", nil, "Accept-Language", "zh-CN")
	contains(t, p, `<html lang="en">`, "<h1>Units</h1>", "Unified social credit code", unitName, "Carrier", `hreflang="zh-CN"`)
}

func TestUnitsFragment(t *testing.T) {
	f := start(t)
	c := f.login(t)
	p := f.do(t, c, "GET", "/units?q=绿源&role=carrier", nil, "HX-Request", "true")
	if p.status != http.StatusOK {
		t.Fatalf("status %d", p.status)
	}
	body := strings.TrimSpace(p.body)
	if !strings.HasPrefix(body, `<div id="units-table"`) || strings.Contains(body, "<html") || strings.Contains(body, "<form") {
		t.Errorf("fragment is not just the table:\n%s", body)
	}
	contains(t, p, unitName)

	p = f.do(t, c, "GET", "/units?role=generator", nil, "HX-Request", "true")
	if strings.Contains(p.body, unitName) {
		t.Error("role filter ignored")
	}
	contains(t, p, "没有符合条件的记录")

	// A cursor the service refuses is shown beside the list, not as a failure.
	p = f.do(t, c, "GET", "/units?cursor=***", nil, "HX-Request", "true")
	if p.status != http.StatusUnprocessableEntity || !strings.HasPrefix(strings.TrimSpace(p.body), `<div id="units-table"`) {
		t.Errorf("bad cursor: %d\n%s", p.status, p.body)
	}
}

func TestPages(t *testing.T) {
	f := start(t)
	c := f.login(t)
	p := f.do(t, c, "GET", "/units/"+f.unit.ID, nil)
	contains(t, p, unitName, f.unit.USCC, "安徽省濉溪经济开发区", "皖危废收集 340600001", "收集", "贮存",
		"5000.5 吨", "2025-01-01", "HW08", "C3", "皖F12345", "9.8 吨", "没有登记设施")

	p = f.do(t, c, "GET", "/licences?waste_code=900-199-08&method=C3", nil)
	contains(t, p, "皖危废收集 340600001", unitName)
	p = f.do(t, c, "GET", "/licences?waste_code=900-199-08&method=D10", nil)
	if strings.Contains(p.body, "皖危废收集 340600001") {
		t.Error("licence listed for a method it does not cover")
	}
	p = f.do(t, c, "GET", "/licences?waste_code=bad", nil)
	if p.status != http.StatusUnprocessableEntity {
		t.Errorf("malformed waste code: %d, want 422", p.status)
	}
	contains(t, p, "筛选条件无效")

	p = f.do(t, c, "GET", "/vehicles", nil)
	contains(t, p, "皖F12345", unitName, "9.8 吨")

	p = f.do(t, c, "GET", "/catalog?category=HW08&q=油泥", nil)
	contains(t, p, "900-199-08", "HW08 废矿物油", "利用处置方式", "水泥窑共处置")
	p = f.do(t, c, "GET", "/catalog?category=HW08&q=油泥", nil, "HX-Request", "true")
	if !strings.HasPrefix(strings.TrimSpace(p.body), `<div id="catalog-table"`) || strings.Contains(p.body, "水泥窑共处置") {
		t.Errorf("catalog fragment is not just the codes table:\n%s", p.body)
	}

	p = f.do(t, c, "GET", "/docs", nil)
	contains(t, p, `<redoc spec-url="/openapi.json"`, "/static/vendor/redoc/redoc.standalone.js?v=")
	if !strings.Contains(p.header.Get("Content-Security-Policy"), "'unsafe-inline'") {
		t.Error("docs page lacks its own CSP")
	}
}

func TestErrors(t *testing.T) {
	f := start(t)
	c := f.login(t)
	for _, path := range []string{"/units/0190ca5e-0000-7000-8000-000000000000", "/no-such-page"} {
		p := f.do(t, c, "GET", path, nil)
		if p.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, p.status)
		}
		contains(t, p, "<h1", "返回首页")
		if strings.Contains(p.body, "goroutine") || strings.Contains(p.body, ".go:") {
			t.Errorf("GET %s shows internals", path)
		}
	}
	p := f.do(t, c, "GET", "/units/nope", nil, "HX-Request", "true")
	if p.status != http.StatusNotFound || p.header.Get("HX-Retarget") != "#main" || strings.Contains(p.body, "<html") {
		t.Errorf("htmx error: %d retarget %q\n%s", p.status, p.header.Get("HX-Retarget"), p.body)
	}
}

func TestStatic(t *testing.T) {
	f := start(t)
	p := f.do(t, f.client(), "GET", "/login", nil)
	m := regexp.MustCompile(`href="(/static/app\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no versioned stylesheet link:\n%s", p.body)
	}
	p = f.do(t, f.client(), "GET", m[1], nil)
	if p.status != http.StatusOK || !strings.Contains(p.header.Get("Cache-Control"), "immutable") ||
		!strings.HasPrefix(p.header.Get("Content-Type"), "text/css") {
		t.Errorf("%s: %d %q %q", m[1], p.status, p.header.Get("Cache-Control"), p.header.Get("Content-Type"))
	}
	if p := f.do(t, f.client(), "GET", "/static/app.css?v=old", nil); p.header.Get("Cache-Control") != "no-cache" {
		t.Errorf("stale version cached: %q", p.header.Get("Cache-Control"))
	}
	for _, path := range []string{"/static/vendor/htmx/htmx.min.js", "/static/vendor/redoc/redoc.standalone.js",
		"/static/vendor/htmx/LICENSE"} {
		if p := f.do(t, f.client(), "GET", path, nil); p.status != http.StatusOK {
			t.Errorf("GET %s: %d", path, p.status)
		}
	}
	if p := f.do(t, f.client(), "GET", "/static/nope.js", nil); p.status != http.StatusNotFound {
		t.Errorf("missing asset: %d", p.status)
	}
}

// TestMessages checks that both languages have the same keys and that every
// key the templates and handlers use exists.
func TestMessages(t *testing.T) {
	langs := map[string]map[string]string{}
	for _, l := range []string{"zh-CN", "en"} {
		b, err := os.ReadFile(filepath.Join("i18n", l+".json"))
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		langs[l] = m
	}
	for k := range langs["zh-CN"] {
		if _, ok := langs["en"][k]; !ok {
			t.Errorf("en.json lacks %q", k)
		}
	}
	for k := range langs["en"] {
		if _, ok := langs["zh-CN"][k]; !ok {
			t.Errorf("zh-CN.json lacks %q", k)
		}
	}

	used := map[string]string{} // key → where
	uses := func(glob string, re *regexp.Regexp) {
		files, _ := filepath.Glob(glob)
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				used[m[1]] = f
			}
		}
	}
	uses("templates/*.html", regexp.MustCompile(`\bt "([^"]+)"`))
	// In Go code message keys are the only dotted lower-case literals.
	uses("*.go", regexp.MustCompile(`"([a-z_]+\.[a-z_.]+)"`))
	if len(used) < 50 {
		t.Fatalf("found only %d keys in use; is the pattern right?", len(used))
	}
	// Keys built from values: every value the services can return.
	dynamic := map[string][]string{
		"role.":          strs(auth.Roles),
		"unit_role.":     strs(registry.UnitRoles),
		"licence_kind.":  strs(registry.LicenceKinds),
		"facility_kind.": strs(registry.FacilityKinds),
		"status.":        {"active", "suspended", "closed", "valid", "revoked", "expired", "retired"},
		"region_level.":  {"county", "park", "township"},
		"method_kind.":   {catalog.KindUtilisation, catalog.KindDisposal, catalog.KindOther, catalog.KindMedical},
		"hazard.":        {"T", "C", "I", "R", "In"},
		"error.":         {"401", "403", "404", "409", "422", "429", "500", "401.help", "403.help", "404.help", "409.help", "422.help", "429.help", "500.help"},
	}
	for prefix, vs := range dynamic {
		for _, v := range vs {
			used[prefix+v] = "a value"
		}
	}
	for k, where := range used {
		if _, ok := langs["zh-CN"][k]; !ok {
			t.Errorf("%s uses %q, which has no message", where, k)
		}
	}
	var unused []string
	for k := range langs["zh-CN"] {
		if _, ok := used[k]; !ok {
			unused = append(unused, k)
		}
	}
	slices.Sort(unused)
	if len(unused) > 0 {
		t.Errorf("messages no page uses: %v", unused)
	}
}

func strs[T ~string](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}
