package web_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"wufei/internal/auth"
	"wufei/internal/demo"
	"wufei/internal/registry"
	"wufei/internal/server"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

const (
	// pageBudget is the most server time a page may take (issue 6).
	pageBudget = 300 * time.Millisecond
	// pageRuns is how often each page is timed; on the demo the median
	// counts, so one request slowed by a collection or another process
	// does not.
	pageRuns = 5
	// envPagesDB names an existing database to time the pages on instead
	// of the demo: a database URL, or the path of a SQLite file.
	envPagesDB = "WUFEI_PAGES_DB"
	// envPagesKey names the audit key file of that database where it is
	// not beside the SQLite file (always, for PostgreSQL).
	envPagesKey = "WUFEI_PAGES_KEY"
)

// TestPageServerTime requests every main page as the viewers that use it
// and fails when a page's server time, measured around the whole handler in
// process, is over the budget. It runs on the full demo on each
// engine, or on the database WUFEI_PAGES_DB names (docs/ui.md).
func TestPageServerTime(t *testing.T) {
	if u := os.Getenv(envPagesDB); u != "" {
		db, app := openPagesDB(t, u)
		timePages(t, app.Handler, db, false)
		return
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		app, err := server.New(context.Background(), db, server.Config{Demo: true, DemoUnits: demo.ActivityMinUnits,
			Version: "test", KeyFile: filepath.Join(t.TempDir(), "audit.key")})
		if err != nil {
			t.Fatal(err)
		}
		timePages(t, app.Handler, db, true)
	})
}

// openPagesDB opens an existing database as the server would, without a
// demo: it migrates a schema that is behind, and otherwise only writes the
// log-in tokens of the viewers (and an account for a viewer it lacks).
func openPagesDB(t *testing.T, u string) (*store.DB, *server.App) {
	t.Helper()
	if !strings.HasPrefix(u, "sqlite:") && !strings.HasPrefix(u, "postgres") {
		u = "sqlite:" + u
	}
	key := os.Getenv(envPagesKey)
	if key == "" {
		if !strings.HasPrefix(u, "sqlite:") {
			t.Fatalf("%s is PostgreSQL: name its audit key file in %s", envPagesDB, envPagesKey)
		}
		key = server.DefaultKeyFile(u)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	app, err := server.New(ctx, db, server.Config{DB: u, Version: "pagetime", KeyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	return db, app
}

// The viewers of the pages, each a kind of account.
const (
	asVisitor   = "visitor" // not signed in
	asAdmin     = "admin"
	asRegulator = "regulator" // city-wide
	asGenerator = "generator" // admin of the unit that sends the most manifests
	asCarrier   = "carrier"   // admin of the unit that carries the most
	asDriver    = "driver"    // a driver of that carrier
	asReceiver  = "receiver"  // admin of the unit that receives the most
)

// pageClient requests pages in process, as the viewers, through the whole
// handler (middleware included).
type pageClient struct {
	t      *testing.T
	h      http.Handler
	tokens map[string]string // viewer → session token
	strict bool              // every page must have its records (the demo)
}

func (c *pageClient) get(who, path string) (int, string, time.Duration) {
	c.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Accept-Language", "zh-CN")
	if tok := c.tokens[who]; tok != "" {
		req.AddCookie(&http.Cookie{Name: server.SessionCookie, Value: tok})
	}
	rec := httptest.NewRecorder()
	start := time.Now()
	c.h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String(), time.Since(start)
}

// link is the first link on a viewer's page that matches pattern, or ""
// where the page has none (an error on the demo, which has every record).
func (c *pageClient) link(who, page, pattern string) string {
	c.t.Helper()
	if _, ok := c.tokens[who]; !ok && who != asVisitor {
		return ""
	}
	status, body, _ := c.get(who, page)
	if status != http.StatusOK {
		c.t.Errorf("%s %s: status %d", who, page, status)
		return ""
	}
	m := regexp.MustCompile(`href="(` + pattern + `)"`).FindStringSubmatch(body)
	if m == nil {
		c.missing(who, page, pattern)
		return ""
	}
	return strings.ReplaceAll(m[1], "&amp;", "&")
}

func (c *pageClient) missing(who, page, what string) {
	c.t.Helper()
	if c.strict {
		c.t.Errorf("%s %s: no link to %s", who, page, what)
	} else {
		c.t.Logf("%s %s: no link to %s; its page is not timed", who, page, what)
	}
}

// pageReq is one page to time, and who asks for it.
type pageReq struct{ who, path string }

const uuidPattern = `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`

// pages lists the main pages by viewer, the detail pages opened from the
// lists' first links.
func (c *pageClient) pages(db *store.DB) []pageReq {
	var out []pageReq
	add := func(who string, paths ...string) {
		if _, ok := c.tokens[who]; !ok && who != asVisitor {
			return
		}
		for _, p := range paths {
			if p != "" {
				out = append(out, pageReq{who, p})
			}
		}
	}
	under := func(base, path string) string { // a page below a detail page found, or none
		if base == "" {
			return ""
		}
		return base + path
	}

	var ids []string // two of the generator's containers
	if c.tokens[asGenerator] != "" {
		_, body, _ := c.get(asGenerator, "/containers")
		for _, m := range regexp.MustCompile(`href="/l/([0-9A-Z]+)"`).FindAllStringSubmatch(body, 2) {
			ids = append(ids, m[1])
		}
		if len(ids) == 0 {
			c.missing(asGenerator, "/containers", "a label")
		}
	}
	add(asVisitor, "/", "/public", "/public/facilities", "/public/indicators", "/public/indicators/ihw_utilization_rate?region=340600",
		"/public/cells", "/public/publication", "/login", "/docs")
	if len(ids) > 0 {
		add(asVisitor, "/l/"+ids[0])
	}

	m := c.link(asRegulator, "/manifests", `/manifests/`+uuidPattern)
	add(asRegulator, "/workbench", "/dashboard", "/manifests", "/manifests?status=in_transit", m, under(m, "/print"),
		"/alerts", "/trace", c.traceRef(db), "/plans", c.link(asRegulator, "/plans", `/plans/`+uuidPattern), "/approvals",
		"/indicators", "/indicators/ihw_utilization_rate?region=340600", "/tasks", c.link(asRegulator, "/tasks", `/tasks/`+uuidPattern),
		c.link(asRegulator, "/tasks", `/bulletins/\d{4}Q\d`), "/cells", c.link(asRegulator, "/cells", `/cells/`+uuidPattern),
		"/units", c.link(asRegulator, "/units", `/units/`+uuidPattern), "/licences", "/vehicles", "/catalog", "/exchange",
		"/streams/industry", "/streams/living")
	add(asRegulator, c.sheets()...)
	add(asAdmin, "/workbench", "/dashboard", "/units")

	add(asGenerator, "/workbench", "/dashboard", "/manifests", c.link(asGenerator, "/manifests", `/manifests/`+uuidPattern),
		"/manifests/new", "/containers", "/plans", "/declarations", "/alerts", "/field", "/field/storage/in",
		"/field/storage/out", "/matching?waste_code=900-249-08&quantity_t=5")
	if len(ids) > 0 {
		add(asGenerator, "/labels/sheet?ids="+strings.Join(ids, ","))
	}
	add(asCarrier, "/workbench", "/manifests", "/vehicles", "/field", c.link(asCarrier, "/field", `/field/pickup/`+uuidPattern))
	add(asDriver, "/workbench", "/manifests", "/field", c.link(asDriver, "/field", `/field/pickup/`+uuidPattern))
	add(asReceiver, "/workbench", "/manifests", "/containers", "/field", c.link(asReceiver, "/field", `/field/arrival/`+uuidPattern))
	return out
}

// sheets are the stream records' lists, from the two indexes, and the
// first record of each.
func (c *pageClient) sheets() []string {
	var out []string
	kind := regexp.MustCompile(`href="(/streams/[a-z_]+)"`)
	for _, index := range []string{"/streams/industry", "/streams/living"} {
		_, body, _ := c.get(asRegulator, index)
		for _, m := range kind.FindAllStringSubmatch(body, -1) {
			if p := m[1]; p != "/streams/industry" && p != "/streams/living" && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	if len(out) < 20 {
		c.t.Errorf("the stream indexes link %d sheets: %v", len(out), out)
	}
	for _, p := range slices.Clone(out) {
		_, body, _ := c.get(asRegulator, p)
		if m := regexp.MustCompile(`href="(` + p + `/` + uuidPattern + `)"`).FindStringSubmatch(body); m != nil {
			out = append(out, m[1])
		}
	}
	return out
}

// traceRef is the trace of the latest completed manifest, the longest
// chain there is.
func (c *pageClient) traceRef(db *store.DB) string {
	var numbers []string
	if err := store.Select(context.Background(), db.Reader(), &numbers,
		`SELECT number FROM manifests WHERE status = 'completed' ORDER BY completed_at DESC, id LIMIT 1`); err != nil {
		c.t.Fatal(err)
	}
	if len(numbers) == 0 {
		c.missing(asRegulator, "manifests", "a completed manifest")
		return ""
	}
	return "/trace?ref=" + numbers[0]
}

// timePages times every page and logs the table, slowest first.
func timePages(t *testing.T, h http.Handler, db *store.DB, strict bool) {
	c := &pageClient{t: t, h: h, tokens: pageViewers(t, db, strict), strict: strict}
	pages := c.pages(db)
	type row struct {
		pageReq
		status      int
		median, max time.Duration
		bytes       int
	}
	var rows []row
	for _, p := range pages {
		r := row{pageReq: p}
		var ds []time.Duration
		for range pageRuns {
			status, body, d := c.get(p.who, p.path)
			r.status, r.bytes = status, len(body)
			ds = append(ds, d)
		}
		slices.Sort(ds)
		r.median, r.max = ds[len(ds)/2], ds[len(ds)-1]
		rows = append(rows, r)
		if r.status != http.StatusOK {
			t.Errorf("%s %s: status %d", p.who, p.path, r.status)
		}
		// On a given database every request counts, the first included:
		// it computes what no memo holds yet, and is what a user waits for
		// after a restart. On the demo, shared with the rest of the test
		// run, the median does.
		worst, of := r.median, fmt.Sprintf("median of %d", pageRuns)
		if !strict {
			worst, of = r.max, fmt.Sprintf("slowest of %d", pageRuns)
		}
		if worst > pageBudget {
			t.Errorf("%s %s: %v server time (%s), over the %v budget", p.who, p.path,
				worst.Round(time.Millisecond), of, pageBudget)
		}
	}
	if strict && len(rows) < 60 {
		t.Errorf("only %d pages timed", len(rows))
	}
	slices.SortStableFunc(rows, func(a, b row) int { return int(b.median - a.median) })
	var sb strings.Builder
	fmt.Fprintf(&sb, "%9s %9s %5s %6s  %-10s %s\n", "median ms", "max ms", "KiB", "status", "viewer", "page")
	for _, r := range rows {
		fmt.Fprintf(&sb, "%9.1f %9.1f %5d %6d  %-10s %s\n", millis(r.median), millis(r.max), r.bytes>>10, r.status, r.who, r.path)
	}
	t.Logf("server time of %d pages, %d requests each (budget %v):\n%s", len(rows), pageRuns, pageBudget, sb.String())
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// pageViewers signs each kind of viewer in, as an existing account where
// the database has one, else as a new one; the tokens are revoked when the
// test ends.
func pageViewers(t *testing.T, db *store.DB, strict bool) map[string]string {
	t.Helper()
	ctx := context.Background()
	as := auth.NewService(db)
	system := auth.Principal{Role: auth.Admin, UserID: "system", Username: "system"}
	tokens := map[string]string{}
	var names []string
	for _, v := range viewerAccounts(t, db) {
		if v.in.Role.BoundToUnit() && v.in.UnitID == "" {
			if strict {
				t.Errorf("no unit for the %s", v.who)
			}
			t.Logf("no unit for the %s: its pages are not timed", v.who)
			continue
		}
		var ids []string
		if err := store.Select(ctx, db.Reader(), &ids, v.query+` AND disabled = ? ORDER BY username LIMIT 1`,
			append(v.args, false)...); err != nil {
			t.Fatal(err)
		}
		if len(ids) == 0 {
			ids = []string{createViewer(t, as, system, v)}
		}
		sess, err := as.CreateToken(ctx, system, ids[0], "pagetime", 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		tokens[v.who] = sess.Token
		names = append(names, v.who+"="+sess.User.Username)
		t.Cleanup(func() {
			if err := as.Logout(context.Background(), sess.Token); err != nil {
				t.Errorf("revoke the %s's token: %v", v.who, err)
			}
		})
	}
	t.Logf("viewers: %s", strings.Join(names, ", "))
	return tokens
}

// viewerAccount is how a viewer's account is found (query and args, on
// users), and what it is created as where there is none.
type viewerAccount struct {
	who   string
	query string
	args  []any
	in    auth.NewUser
}

func viewerAccounts(t *testing.T, db *store.DB) []viewerAccount {
	t.Helper()
	ctx := context.Background()
	dep, err := registry.NewService(db).DepartmentByCode(ctx, "sthjj")
	if err != nil {
		t.Fatal(err)
	}
	busiest := func(col, table string) string {
		var ids []string
		if err := store.Select(ctx, db.Reader(), &ids, `SELECT `+col+` FROM `+table+` GROUP BY `+col+`
			ORDER BY count(*) DESC, `+col+` LIMIT 1`); err != nil {
			t.Fatal(err)
		}
		if len(ids) == 0 {
			return ""
		}
		return ids[0]
	}
	carries := busiest("carrier_unit_id", "manifest_carriers")
	of := func(who string, role auth.Role, unit string) viewerAccount {
		return viewerAccount{who: who, query: `SELECT id FROM users WHERE unit_id = ? AND role = ?`, args: []any{unit, string(role)},
			in: auth.NewUser{Role: role, UnitID: unit}}
	}
	return []viewerAccount{
		{who: asAdmin, query: `SELECT id FROM users WHERE role = ?`, args: []any{string(auth.Admin)}, in: auth.NewUser{Role: auth.Admin}},
		{who: asRegulator, query: `SELECT id FROM users WHERE role = ? AND region_code = ?`,
			args: []any{string(auth.Regulator), auth.CityCode},
			in:   auth.NewUser{Role: auth.Regulator, DepartmentID: dep.ID, RegionCode: auth.CityCode}},
		of(asGenerator, auth.UnitAdmin, busiest("consignor_unit_id", "manifests")),
		of(asCarrier, auth.UnitAdmin, carries),
		of(asDriver, auth.Driver, carries),
		of(asReceiver, auth.UnitAdmin, busiest("receiver_unit_id", "manifests")),
	}
}

// createViewer adds the account a viewer lacks, one per unit should the
// busiest unit change, with a password nobody knows: it signs in by token.
func createViewer(t *testing.T, as *auth.Service, system auth.Principal, v viewerAccount) string {
	t.Helper()
	in := v.in
	in.Username, in.DisplayName, in.Password = "pagetime-"+v.who, "页面耗时检查", rand.Text()
	if in.UnitID != "" {
		in.Username += "-" + in.UnitID[len(in.UnitID)-8:]
	}
	u, err := as.CreateUser(context.Background(), system, in)
	if err != nil {
		t.Fatalf("account for the %s: %v", v.who, err)
	}
	t.Logf("created the account %s for the %s", u.Username, v.who)
	return u.ID
}
