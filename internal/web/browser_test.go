package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

const chromium = "/usr/bin/chromium"

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
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })

	var mu sync.Mutex
	var problems []string
	chromedp.ListenTarget(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+ev.ExceptionDetails.Error())
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.LevelError {
				problems = append(problems, string(ev.Entry.Source)+": "+ev.Entry.Text+" "+ev.Entry.URL)
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.APITypeError {
				problems = append(problems, "console.error")
			}
		}
	})
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), problems...)
	}
}

// screenshot saves a full-page PNG into WUFEI_SCREENSHOTS, when set, for a
// person to look at.
func screenshot(name string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		dir := os.Getenv("WUFEI_SCREENSHOTS")
		if dir == "" {
			return nil
		}
		var png []byte
		if err := chromedp.FullScreenshot(&png, 90).Do(ctx); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	})
}

func TestBrowser(t *testing.T) {
	f := start(t)
	ctx, problems := browser(t)

	var table, heading, location, empty string
	err := chromedp.Run(ctx,
		// Log in through the form, which brings the user back to the units page.
		chromedp.Navigate(f.srv.URL+"/units"),
		chromedp.WaitVisible(`#username`, chromedp.ByQuery),
		chromedp.SendKeys(`#username`, username, chromedp.ByQuery),
		chromedp.SendKeys(`#password`, password, chromedp.ByQuery),
		chromedp.Click(`main form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#units-table`, chromedp.ByQuery),
		chromedp.Text(`#units-table`, &table, chromedp.ByQuery),
		chromedp.Text(`h1`, &heading, chromedp.ByQuery),
		screenshot("units"),
	)
	if err != nil {
		t.Fatalf("log in and open units: %v (console: %v)", err, problems())
	}
	if !strings.Contains(table, unitName) || heading != "单位" {
		t.Fatalf("units page: heading %q, table %q", heading, table)
	}

	// htmx: typing in the filter replaces only the table and records the URL.
	err = chromedp.Run(ctx,
		chromedp.SendKeys(`#q`, "不存在的单位", chromedp.ByQuery),
		chromedp.WaitVisible(`#units-table td.empty`, chromedp.ByQuery),
		chromedp.Text(`#units-table`, &empty, chromedp.ByQuery),
		chromedp.Location(&location),
	)
	if err != nil {
		t.Fatalf("filter: %v (console: %v)", err, problems())
	}
	if strings.Contains(empty, unitName) || !strings.Contains(location, "q=") {
		t.Errorf("after filtering: location %q, table %q", location, empty)
	}

	// The language switch turns the page into English.
	err = chromedp.Run(ctx,
		chromedp.Navigate(f.srv.URL+"/units"),
		chromedp.Click(`a[hreflang="en"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`html[lang="en"] #units-table`, chromedp.ByQuery),
		chromedp.Text(`h1`, &heading, chromedp.ByQuery),
		screenshot("units-en"),
	)
	if err != nil {
		t.Fatalf("switch to English: %v", err)
	}
	if heading != "Units" {
		t.Errorf("English heading %q, want Units", heading)
	}

	// The API reference renders offline with the vendored Redoc.
	var op string
	err = chromedp.Run(ctx,
		chromedp.Navigate(f.srv.URL+"/docs"),
		chromedp.WaitVisible(`.api-content`, chromedp.ByQuery),
		chromedp.Text(`.api-content`, &op, chromedp.ByQuery),
		screenshot("docs"),
	)
	if err != nil {
		t.Fatalf("docs: %v (console: %v)", err, problems())
	}
	if !strings.Contains(op, "单位列表") {
		t.Errorf("docs lack the operation: %q", op)
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("browser console errors: %v", p)
	}
}
