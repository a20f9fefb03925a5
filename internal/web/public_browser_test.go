package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"wufei/internal/store/storetest"
)

// TestPublicBrowser opens the disclosure pages in a real browser without a
// log-in, following the home page's links, filters the facilities, and
// finds no console error (a CSP violation, a failed script) on any page.
func TestPublicBrowser(t *testing.T) {
	db, _ := storetest.SQLite(t)
	f := startDemo(t, db)
	ctx, problems := browser(t)

	step(t, ctx, "public home",
		chromedp.Navigate(f.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#headline")),
	)
	screenshot(t, ctx, "public-home")
	if h := text(t, ctx, "h1"); h != "信息公开" {
		t.Errorf("home heading %q", h)
	}
	if s := text(t, ctx, "#headline"); !strings.Contains(s, "工业危险废物综合利用率") {
		t.Errorf("headline indicators: %q", s)
	}

	step(t, ctx, "indicators",
		chromedp.Click(chromedp.CSS(`main a[href="/public/indicators"]`)),
		chromedp.WaitVisible(chromedp.CSS("#public-indicators")),
	)
	screenshot(t, ctx, "public-indicators")
	if s := text(t, ctx, "#public-indicators"); !strings.Contains(s, "建筑垃圾资源化利用率") {
		t.Errorf("indicators page lacks an indicator: %.200q", s)
	}
	step(t, ctx, "one indicator",
		chromedp.Click(chromedp.CSS(`#public-indicators a[href^="/public/indicators/ihw_utilization_rate"]`)),
		chromedp.WaitVisible(chromedp.CSS("#series")),
	)
	if h := text(t, ctx, "h1"); !strings.Contains(h, "工业危险废物综合利用率") {
		t.Errorf("indicator heading %q", h)
	}

	// htmx: choosing a region replaces only the facilities table.
	step(t, ctx, "facilities",
		chromedp.Navigate(f.srv.URL+"/public/facilities"),
		chromedp.WaitVisible(chromedp.CSS("#public-facilities")),
	)
	screenshot(t, ctx, "public-facilities")
	if s := text(t, ctx, "#public-facilities"); !strings.Contains(s, demoDisposer) {
		t.Errorf("facilities lack the demo disposer: %.300q", s)
	}
	step(t, ctx, "filter facilities", chromedp.SetValue(chromedp.CSS("#region"), "340603"))
	js(t, ctx, `document.getElementById("region").dispatchEvent(new Event("change", {bubbles: true}))`)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`!document.getElementById("public-facilities").textContent.includes("`+
		demoDisposer+`")`)); err != nil {
		t.Fatalf("filtered facilities: %v", err)
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.Contains(loc, "region=340603") {
		t.Errorf("filter URL not recorded: %q %v", loc, err)
	}

	step(t, ctx, "cells",
		chromedp.Navigate(f.srv.URL+"/public/cells"),
		chromedp.WaitVisible(chromedp.CSS("#public-cells table")),
	)
	screenshot(t, ctx, "public-cells")

	step(t, ctx, "publication",
		chromedp.Navigate(f.srv.URL+"/public"),
		chromedp.WaitVisible(chromedp.CSS("#headline")),
		chromedp.Click(chromedp.CSS(`main a[href^="/public/publication"]`)),
		chromedp.WaitVisible(chromedp.CSS("#sec-hazardous")),
	)
	screenshot(t, ctx, "public-publication")
	if h := text(t, ctx, "#sheet-title"); !strings.Contains(h, "固体废物污染环境防治信息公开") {
		t.Errorf("publication title %q", h)
	}
	// The print button's inline script runs under the page's nonce.
	js(t, ctx, `window.print = function () { document.body.dataset.printed = "yes"; }`)
	step(t, ctx, "print button wired",
		chromedp.Click(chromedp.CSS("#print")),
		chromedp.WaitVisible(chromedp.CSS(`body[data-printed="yes"]`)),
	)

	if ps := problems(); len(ps) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(ps, "\n"))
	}
}

// js runs a statement in the page.
func js(t *testing.T, ctx context.Context, statement string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(function () { `+statement+`; return true; })()`)); err != nil {
		t.Fatalf("%s: %v", statement, err)
	}
}
