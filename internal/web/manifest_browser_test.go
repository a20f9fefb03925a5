package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"wufei/internal/store/storetest"
)

// TestManifestBrowser walks a manifest from draft to completed in a real
// browser, as the three parties in turn: the generator fills the form and
// submits, the carrier picks up, the receiver weighs and records the method.
func TestManifestBrowser(t *testing.T) {
	db, _ := storetest.SQLite(t)
	l := startLifecycle(t, db)
	ctx, problems := browser(t)

	// logIn signs in through the form the next page redirects to.
	logIn := func(user, next, wait string) {
		t.Helper()
		step(t, ctx, "log in as "+user,
			chromedp.Navigate(l.srv.URL+next),
			chromedp.WaitVisible(chromedp.CSS("#username")),
			chromedp.SendKeys(chromedp.CSS("#username"), user),
			chromedp.SendKeys(chromedp.CSS("#password"), lifecyclePassword),
			chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(wait)),
		)
	}
	logOut := func() {
		t.Helper()
		step(t, ctx, "log out",
			chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
			chromedp.WaitVisible(chromedp.CSS("#username")),
		)
	}

	// The generator fills the form.
	logIn("gen", "/manifests/new", "#manifest-form")
	step(t, ctx, "fill the manifest",
		chromedp.SetValue(chromedp.CSS("#f-receiver_unit_id"), l.disposer.ID),
		chromedp.SetValue(chromedp.CSS("#f-carriers-0-carrier_unit_id"), l.carrier.ID),
		chromedp.SendKeys(chromedp.CSS("#f-carriers-0-vehicle_plate"), "皖F3A721"),
		chromedp.SendKeys(chromedp.CSS("#f-lines-0-waste_code"), "900-249-08"),
		chromedp.SendKeys(chromedp.CSS("#f-lines-0-quantity_t"), "1.2"),
		chromedp.SetValue(chromedp.CSS("#f-lines-0-form"), "L"),
		chromedp.SendKeys(chromedp.CSS("#f-lines-0-packaging"), "桶"),
		chromedp.SendKeys(chromedp.CSS("#f-lines-0-package_count"), "6"),
		chromedp.SendKeys(chromedp.CSS("#f-emergency_measures"), "泄漏时用沙土围堵，远离火源，报告应急部门"),
		chromedp.Blur(chromedp.CSS("#f-emergency_measures")),
	)
	screenshot(t, ctx, "manifest-new")
	step(t, ctx, "save the draft",
		chromedp.Click(chromedp.CSS(`#manifest-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#act-submit")),
	)
	if s := text(t, ctx, "#manifest-status"); s != "草稿" {
		t.Fatalf("after saving: status %q", s)
	}
	manifestURL, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "submit",
		chromedp.Click(chromedp.CSS(`#act-submit button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#manifest-status.badge-submitted")),
	)
	if s := text(t, ctx, "#manifest-status"); s != "已提交" {
		t.Fatalf("after submitting: status %q", s)
	}
	logOut()

	// The carrier picks it up.
	path := strings.TrimPrefix(manifestURL, l.srv.URL)
	logIn("carrier", path, "#act-pickup")
	step(t, ctx, "pick up",
		chromedp.Click(chromedp.CSS(`#act-pickup button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#manifest-status.badge-in_transit")),
	)
	if s := text(t, ctx, "#manifest-status"); s != "运输中" {
		t.Fatalf("after pickup: status %q", s)
	}
	logOut()

	// The receiver weighs it, accepts it and records the method.
	logIn("disposer", path, "#act-receive")
	step(t, ctx, "receive",
		chromedp.SendKeys(chromedp.CSS("#f-lines-0-received_t"), "1.19"),
		chromedp.Click(chromedp.CSS(`#act-receive button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#act-complete")),
	)
	if s := text(t, ctx, "#manifest-status"); s != "已接收" {
		t.Fatalf("after receipt: status %q", s)
	}
	step(t, ctx, "complete",
		chromedp.SetValue(chromedp.CSS("#f-lines-0-method"), "R9"),
		chromedp.Click(chromedp.CSS(`#act-complete button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#manifest-status.badge-completed")),
	)
	if s := text(t, ctx, "#manifest-status"); s != "已完成" {
		t.Fatalf("after completion: status %q", s)
	}
	steps, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll("#steps tr.signed-step")))
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 5 {
		t.Errorf("%d signed steps, want 5", len(steps))
	}
	signed := text(t, ctx, "#steps")
	for _, want := range []string{"填写联单", "提交", "起运", "接收", "利用处置完成", "gen", "carrier", "disposer"} {
		if !strings.Contains(signed, want) {
			t.Errorf("signed steps lack %q: %q", want, signed)
		}
	}
	screenshot(t, ctx, "manifest")

	step(t, ctx, "print view",
		chromedp.Navigate(manifestURL+"/print"),
		chromedp.WaitVisible(chromedp.CSS(".sheet svg.qr")),
	)
	screenshot(t, ctx, "manifest-print")
	if h := text(t, ctx, ".sheet h1"); h != "危险废物转移联单" {
		t.Errorf("print heading %q", h)
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("browser console errors: %v", p)
	}
}
