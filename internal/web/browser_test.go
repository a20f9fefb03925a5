package web_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const (
	chromium  = "/usr/bin/chromium"
	redocLogo = "https://cdn.redoc.ly/redoc/logo-mini.svg"
)

// browser starts headless Chromium with a Chinese Accept-Language. It skips
// the test where Chromium is missing, except in CI, which must have it.
// Console errors (a CSP violation, a failed script) are collected.
func browser(t *testing.T) (context.Context, func() []string) {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI needs %s: %v", chromium, err)
		}
		t.Skipf("no %s", chromium)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("accept-lang", "zh-CN"),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })

	// Subscribing starts the browser, on a context without a timeout, which
	// would otherwise stop the browser when it ran out.
	var mu sync.Mutex
	var problems []string
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			// Redoc shows its vendor's logo from a CDN; the page's CSP blocks it
			// by design and Redoc hides the image.
			if (m.Type == chromedp.ConsoleError || m.IsException()) && !strings.Contains(m.Text, redocLogo) {
				mu.Lock()
				problems = append(problems, m.String())
				mu.Unlock()
			}
		}
	}()
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(problems)
	}
}

// step runs actions with a time limit.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// text returns the text of the first element sel matches.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// screenshot saves a full-page PNG into WUFEI_SCREENSHOTS, when set, for a
// person to look at.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("WUFEI_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	}
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
	}
}

func TestBrowser(t *testing.T) {
	f := start(t)
	ctx, problems := browser(t)

	// Log in through the form, which brings the user back to the units page.
	step(t, ctx, "log in",
		chromedp.Navigate(f.srv.URL+"/units"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), username),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#units-table")),
	)
	screenshot(t, ctx, "units")
	if h, table := text(t, ctx, "h1"), text(t, ctx, "#units-table"); h != "单位" || !strings.Contains(table, unitName) {
		t.Fatalf("units page: heading %q, table %q", h, table)
	}

	// htmx: typing in the filter replaces only the table and records the URL.
	step(t, ctx, "filter",
		chromedp.SendKeys(chromedp.CSS("#q"), "不存在的单位"),
		chromedp.WaitVisible(chromedp.CSS("#units-table td.empty")),
	)
	if table := text(t, ctx, "#units-table"); strings.Contains(table, unitName) {
		t.Errorf("filtered table still lists the unit: %q", table)
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.Contains(loc, "q=") {
		t.Errorf("filter URL not recorded: %q %v", loc, err)
	}

	// The language switch turns the page into English.
	step(t, ctx, "switch to English",
		chromedp.Navigate(f.srv.URL+"/units"),
		chromedp.Click(chromedp.CSS(`a[hreflang="en"]`)),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] #units-table`)),
	)
	screenshot(t, ctx, "units-en")
	if h := text(t, ctx, "h1"); h != "Units" {
		t.Errorf("English heading %q, want Units", h)
	}

	// The API reference renders offline with the vendored Redoc.
	step(t, ctx, "docs",
		chromedp.Navigate(f.srv.URL+"/docs"),
		chromedp.WaitVisible(chromedp.CSS(".api-content")),
	)
	screenshot(t, ctx, "docs")
	if op := text(t, ctx, ".api-content"); !strings.Contains(op, "单位列表") {
		t.Errorf("docs lack the operation: %q", op)
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("browser console errors: %v", p)
	}
}
