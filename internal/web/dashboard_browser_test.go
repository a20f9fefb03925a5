package web_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"wufei/internal/demo"
	"wufei/internal/server"
	"wufei/internal/store/storetest"
)

// TestDashboardBrowser signs in as each demo role and finds its workbench,
// then draws the command dashboard's charts without a console error.
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

	// Each role's first page after log-in is its workbench, with its own
	// work on it.
	for _, c := range []struct{ user, section string }{
		{"admin", "#wb-alerts"}, {"xsq", "#workbench, #workbench-empty"}, {"gen", "#wb-drafts"}, {"gen2", "#workbench, #workbench-empty"}, {"carrier", "#wb-pickups"},
		{"disposer", "#wb-arrivals"}, {"sthjj", "#wb-alerts"}, // last: stays signed in
	} {
		step(t, ctx, "log in as "+c.user,
			chromedp.Navigate(srv.URL+"/login"),
			chromedp.WaitVisible(chromedp.CSS("#username")),
			chromedp.SendKeys(chromedp.CSS("#username"), c.user),
			chromedp.SendKeys(chromedp.CSS("#password"), demo.Password),
			chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(c.section)),
		)
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil || !strings.HasSuffix(loc, "/workbench") {
			t.Errorf("%s landed on %q (%v)", c.user, loc, err)
		}
		if h := text(t, ctx, "h1"); h != "工作台" {
			t.Errorf("%s: heading %q", c.user, h)
		}
		screenshot(t, ctx, "workbench-"+c.user)
		if c.user == "sthjj" {
			break // for the dashboard below
		}
		step(t, ctx, "log out "+c.user,
			chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
			chromedp.WaitVisible(chromedp.CSS("#username")),
		)
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
