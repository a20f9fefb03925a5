package web_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"wufei/internal/demo"
	"wufei/internal/server"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// TestDashboardBrowser signs in as every demo log-in and finds its
// workbench, the driver with its carrier's pickups, then draws the command
// dashboard's charts without a console error.
func TestDashboardBrowser(t *testing.T) {
	db, _ := storetest.SQLite(t)
	ctx, problems := browser(t)
	app, err := server.New(context.Background(), db, server.Config{Demo: true, DemoUnits: demo.ActivityMinUnits,
		Version: "test", KeyFile: filepath.Join(t.TempDir(), "audit.key")})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler)
	t.Cleanup(srv.Close)

	// Every demo log-in's first page after log-in is its workbench, with
	// its own work on it and its role and unit in the greeting.
	sections := map[string]string{"admin": "#wb-alerts", "xsq": "#workbench, #workbench-empty", "gen": "#wb-drafts",
		"gen2": "#workbench, #workbench-empty", "carrier": "#wb-pickups", "driver": "#wb-pickups", "disposer": "#wb-arrivals",
		"sthjj": "#wb-alerts"}
	roles := map[string]string{"admin": "平台管理员", "regulator": "监管部门", "unit_admin": "单位管理员", "driver": "驾驶员"}
	var logins []demo.Login
	for _, l := range append(slices.Clone(demo.Logins), demo.ActivityLogins...) {
		if l.Username != "sthjj" {
			logins = append(logins, l)
		}
	}
	logins = append(logins, demo.Login{Username: "sthjj", Role: "regulator"}) // last: stays signed in
	hrefs := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll(`+jsString(sel)+`)].map(a => a.getAttribute("href")).join(" ")`))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	pickups := map[string][2]string{} // workbench and field, of the carrier and its driver
	for _, l := range logins {
		section, ok := sections[l.Username]
		if !ok {
			if slices.Contains(demo.Logins, l) {
				t.Errorf("the demo log-in %s has no workbench here", l.Username)
			}
			section = "#workbench, #workbench-empty" // a full demo's further receivers
		}
		step(t, ctx, "log in as "+l.Username,
			chromedp.Navigate(srv.URL+"/login"),
			chromedp.WaitVisible(chromedp.CSS("#username")),
			chromedp.SendKeys(chromedp.CSS("#username"), l.Username),
			chromedp.SendKeys(chromedp.CSS("#password"), demo.Password),
			chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(section)),
		)
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil || !strings.HasSuffix(loc, "/workbench") {
			t.Errorf("%s landed on %q (%v)", l.Username, loc, err)
		}
		if h := text(t, ctx, "h1"); h != "工作台" {
			t.Errorf("%s: heading %q", l.Username, h)
		}
		var unit string
		if err := store.Get(context.Background(), db.Reader(), &unit, `SELECT COALESCE(n.name, '') FROM users u
			LEFT JOIN units n ON n.id = u.unit_id WHERE u.username = ?`, l.Username); err != nil {
			t.Fatal(err)
		}
		if greet := text(t, ctx, "main .heading p"); !strings.Contains(greet, roles[l.Role]) || !strings.Contains(greet, unit) {
			t.Errorf("%s: greeting %q, want the role %s and the unit %q", l.Username, greet, roles[l.Role], unit)
		}
		screenshot(t, ctx, "workbench-"+l.Username)
		if l.Username == "carrier" || l.Username == "driver" {
			wb := hrefs("#wb-pickups a")
			step(t, ctx, l.Username+" in the field", chromedp.Navigate(srv.URL+"/field"), chromedp.WaitVisible(chromedp.CSS("#pickups")))
			pickups[l.Username] = [2]string{wb, hrefs(`#pickups a[href^="/field/pickup/"]`)}
		}
		if l.Username == "driver" {
			// A driver picks up and delivers; drafts, arrivals and containers are the unit's.
			step(t, ctx, "driver's workbench", chromedp.Navigate(srv.URL+"/workbench"), chromedp.WaitVisible(chromedp.CSS("#wb-pickups")))
			if other := hrefs("#wb-drafts, #wb-arrivals, main a[href='/containers']"); other != "" {
				t.Errorf("the driver's workbench shows %q", other)
			}
		}
		if l.Username == "sthjj" {
			break // for the dashboard below
		}
		step(t, ctx, "log out "+l.Username,
			chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
			chromedp.WaitVisible(chromedp.CSS("#username")),
		)
	}
	// The driver has the carrier's pickups, on the workbench and in the field.
	if c, d := pickups["carrier"], pickups["driver"]; c[0] == "" || c[1] == "" || c != d {
		t.Errorf("pickups (workbench, field): carrier %q, driver %q", c, d)
	}

	// The dashboard: every chart drawn from its endpoint.
	step(t, ctx, "dashboard",
		chromedp.Navigate(srv.URL+"/dashboard"),
		chromedp.WaitVisible(chromedp.CSS("#targets")),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll('[data-chart]').length > 0 &&
			[...document.querySelectorAll('[data-chart]')].every(c => c.dataset.ready)`),
	)
	screenshot(t, ctx, "dashboard")
	states, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-chart]')].map(c =>
		c.dataset.chart + ':' + c.dataset.ready + ':' + c.querySelectorAll('canvas').length)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 8 {
		t.Errorf("%d charts, want 8: %v", len(states), states)
	}
	for _, s := range states {
		if !strings.Contains(s, ":true:") || strings.HasSuffix(s, ":0") {
			t.Errorf("chart not drawn: %s", s)
		}
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("browser console errors: %v", p)
	}
}
