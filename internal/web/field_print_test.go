package web_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"wufei/internal/store/storetest"
)

// a4 prints on A4 as the page's own @page rule asks, with backgrounds.
func a4(p *cdppage.PrintToPDFParams) {
	yes := true
	p.PaperWidth, p.PaperHeight = 210/25.4, 297/25.4
	p.PreferCSSPageSize, p.PrintBackground = &yes, &yes
}

// media switches the page's CSS media type ("print", or "" for the screen).
func media(m string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: m})
		return err
	})
}

var pdfPageRe = regexp.MustCompile(`/Type\s*/Page[^s]`)

// printPDF prints the current page to A4 and returns its page count; the
// PDF is kept beside the screenshots, when they are kept.
func printPDF(t *testing.T, ctx context.Context, dir, name string) int {
	t.Helper()
	pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF(a4))
	if err != nil {
		t.Fatalf("print %s: %v", name, err)
	}
	if dir != "" {
		if err := os.WriteFile(filepath.Join(dir, name+".pdf"), pdf, 0o644); err != nil {
			t.Error(err)
		}
	}
	return len(pdfPageRe.FindAll(pdf, -1))
}

// displayed is the computed display of the first element sel matches, or
// "absent".
func displayed(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	d, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(function () { var e = document.querySelector(`+
		"`"+sel+"`"+`); return e ? getComputedStyle(e).display : "absent"; })()`))
	if err != nil {
		t.Fatalf("display of %s: %v", sel, err)
	}
	return d
}

// TestPrintables prints the manifest, its labels and an ordinary page as
// A4: the sheets without their toolbars, a page without the site's header,
// navigation, forms or buttons, and a one-line manifest on one sheet.
func TestPrintables(t *testing.T) {
	db, _ := storetest.SQLite(t)
	w := startField(t, db)
	ctx, problems := browser(t)
	dir := os.Getenv("WUFEI_SCREENSHOTS")

	step(t, ctx, "log in",
		chromedp.Navigate(w.srv.URL+"/manifests/"+w.manifest.ID+"/print"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "gen"),
		chromedp.SendKeys(chromedp.CSS("#password"), lifecyclePassword),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".sheet svg.qr")),
	)
	if n := printPDF(t, ctx, dir, "print-manifest"); n != 1 {
		t.Errorf("a one-line manifest prints on %d A4 pages, want 1", n)
	}
	step(t, ctx, "print media", media("print"))
	if d := displayed(t, ctx, ".print-toolbar"); d != "none" {
		t.Errorf("manifest sheet: toolbar display %q in print", d)
	}
	if d := displayed(t, ctx, ".sheet"); d == "none" {
		t.Error("manifest sheet hidden in print")
	}

	step(t, ctx, "labels", media(""), chromedp.Navigate(w.srv.URL+"/labels/sheet?ids="+w.ids[0]),
		chromedp.WaitVisible(chromedp.CSS(".labels svg")))
	if n := printPDF(t, ctx, dir, "print-labels"); n != 1 {
		t.Errorf("one label prints on %d A4 pages, want 1", n)
	}
	step(t, ctx, "labels in print", media("print"))
	if d := displayed(t, ctx, ".toolbar"); d != "none" {
		t.Errorf("label sheet: toolbar display %q in print", d)
	}

	// An ordinary page printed: its content only.
	step(t, ctx, "manifest page", media(""), chromedp.Navigate(w.srv.URL+"/manifests/"+w.manifest.ID),
		chromedp.WaitVisible(chromedp.CSS("#manifest-status")), media("print"))
	for _, sel := range []string{"header.site", "footer.site", "main form", "main button"} {
		if d := displayed(t, ctx, sel); d != "none" && d != "absent" {
			t.Errorf("manifest page: %s display %q in print", sel, d)
		}
	}
	if d := displayed(t, ctx, "main"); d == "none" {
		t.Error("manifest page: main hidden in print")
	}
	printPDF(t, ctx, dir, "print-manifest-page")
	step(t, ctx, "screen again", media(""))
	if p := problems(); len(p) > 0 {
		t.Errorf("browser console errors: %v", p)
	}
}
