package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"wufei/internal/hw/manifest"
	"wufei/internal/store/storetest"
)

// phone emulates a phone held upright: 390 × 844 CSS pixels, touch, at
// twice the density.
func phone() chromedp.Action[chromedp.Void] {
	return chromedp.EmulateViewport(390, 844, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch,
		chromedp.EmulateScale(2))
}

// evalInt evaluates a JavaScript expression that yields a number.
func evalInt(t *testing.T, ctx context.Context, expr string) int {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[float64](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return int(v)
}

// TestFieldBrowser is a driver on a phone: signs in, opens the day's
// pickup, types each container's digital id, and confirms the pickup.
func TestFieldBrowser(t *testing.T) {
	db, _ := storetest.SQLite(t)
	w := startField(t, db)
	m := w.manifest
	ctx, problems := browser(t)

	step(t, ctx, "sign in on a phone",
		phone(),
		chromedp.Navigate(w.srv.URL+"/field"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), fieldDriver),
		chromedp.SendKeys(chromedp.CSS("#password"), lifecyclePassword),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#pickups")),
	)
	screenshot(t, ctx, "field-driver-phone")
	if list := text(t, ctx, "#pickups"); !strings.Contains(list, m.Number) || !strings.Contains(list, pickupAddress) {
		t.Fatalf("pickups: %q", list)
	}
	// Nothing is wider than the phone: no sideways scrolling.
	if wd := evalInt(t, ctx, "document.documentElement.scrollWidth"); wd > 390 {
		t.Errorf("field home is %d px wide on a 390 px phone", wd)
	}

	step(t, ctx, "open the pickup",
		chromedp.Click(chromedp.CSS(`a[href="/field/pickup/`+m.ID+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("#scan-form")),
	)
	if wd := evalInt(t, ctx, "document.documentElement.scrollWidth"); wd > 390 {
		t.Errorf("pickup page is %d px wide on a 390 px phone", wd)
	}
	// Big enough to hit with a thumb.
	for _, sel := range []string{"#f-digital_id", "#scan-form button[type=submit]", "#confirm-pickup button"} {
		if h := evalInt(t, ctx, `document.querySelector("`+sel+`").getBoundingClientRect().height`); h < 44 {
			t.Errorf("%s is %d px high, want at least 44", sel, h)
		}
	}
	// Headless Chromium on Linux has no barcode detector: the camera button stays hidden and typing works.
	if hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("scan-start").hidden`)); err != nil || !hidden {
		t.Errorf("scan button shown without a barcode detector: %v %v", hidden, err)
	}
	for i, id := range w.ids {
		step(t, ctx, "type container "+strconv.Itoa(i+1),
			chromedp.SendKeys(chromedp.CSS("#f-digital_id"), strings.ToLower(id)),
			chromedp.Click(chromedp.CSS(`#scan-form button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#progress[value="`+strconv.Itoa(i+1)+`"]`)),
		)
		if last := text(t, ctx, "#last"); !strings.Contains(last, id) {
			t.Errorf("after typing %s: %q", id, last)
		}
	}
	screenshot(t, ctx, "field-pickup-phone")
	if s := text(t, ctx, "#progress-text"); s != "已核对 3 / 3" {
		t.Errorf("progress %q", s)
	}
	step(t, ctx, "confirm the pickup",
		chromedp.Click(chromedp.CSS(`#confirm-pickup button[type="submit"]`)),
		// Back on the field home, with the manifest now on the road.
		chromedp.WaitVisible(chromedp.CSS(`section[aria-labelledby="h-onroad"]`)),
	)
	if s := text(t, ctx, "p.flash"); !strings.Contains(s, "已确认起运") {
		t.Errorf("after confirming: %q", s)
	}
	screenshot(t, ctx, "field-picked-up-phone")
	got, err := manifest.NewService(db).Get(context.Background(), w.gen, m.ID)
	if err != nil || got.Status != manifest.InTransit {
		t.Fatalf("manifest after the phone's pickup: %q %v", got.Status, err)
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("browser console errors: %v", p)
	}
}
