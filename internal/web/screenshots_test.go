package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"wufei/internal/auth"
	"wufei/internal/demo"
	"wufei/internal/hw/manifest"
	"wufei/internal/server"
	"wufei/internal/store/storetest"
)

// shot is one page to photograph: its path, whether on a phone, and the
// element that shows it has rendered. A printable is also printed to an A4
// PDF and photographed as printed.
type shot struct {
	name, path string
	phone      bool
	wait       string
	printable  bool
}

// TestScreenshots signs in as each demo role on the demo data and writes a
// PNG of every main page, for people to look at: into $WUFEI_SCREENSHOTS
// if set, else a new folder under the system's temporary directory, which
// the test names in its log. Printables are also printed to A4 PDFs. Pages another part of the platform has not built
// yet (404) are skipped and logged.
func TestScreenshots(t *testing.T) {
	db, _ := storetest.SQLite(t)
	ctx := context.Background()
	app, err := server.New(ctx, db, server.Config{Demo: true, Version: "screenshots",
		KeyFile: filepath.Join(t.TempDir(), "audit.key")})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler)
	t.Cleanup(srv.Close)

	// The folder outlives the test, for people to open afterwards.
	dir := os.Getenv("WUFEI_SCREENSHOTS")
	if dir == "" {
		if dir, err = os.MkdirTemp("", "wufei-screenshots-"); err != nil {
			t.Fatal(err)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}

	// A manifest waiting for its pickup, of drums with labels, so that the
	// manifest, field and print pages have something to show.
	as := auth.NewService(db)
	login := func(user string) auth.Principal {
		s, err := as.Login(ctx, user, demo.Password)
		if err != nil {
			t.Fatal(err)
		}
		return s.User.Principal()
	}
	gen, carrier, disposer := login("gen"), login("carrier"), login("disposer")
	ids := generate(t, db, gen, 4)
	ms := manifest.NewService(db)
	m, err := ms.Create(ctx, gen, manifest.Input{ReceiverUnitID: disposer.UnitID,
		Carriers: []manifest.LegInput{{CarrierUnitID: carrier.UnitID, VehiclePlate: "皖F3A721"}},
		Lines: []manifest.LineInput{{WasteCode: "900-249-08", Name: "废矿物油", QuantityT: 0.8, Form: "L", Packaging: "铁桶",
			PackageCount: 4, ContainerIDs: ids}},
		EmergencyMeasures: "泄漏时用沙土围堵，远离火源，立即报告"})
	if err == nil {
		m, err = ms.Submit(ctx, gen, m.ID, m.Version)
	}
	if err != nil {
		t.Fatal(err)
	}

	bctx, problems := browser(t)
	desktop := chromedp.EmulateViewport(1280, 900)
	take := func(who string, s shot) {
		t.Helper()
		ctx, cancel := context.WithTimeout(bctx, 60*time.Second)
		defer cancel()
		view := desktop
		if s.phone {
			view = phone()
		}
		if _, err := chromedp.Run(ctx, view); err != nil {
			t.Fatalf("%s: viewport: %v", s.name, err)
		}
		resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(srv.URL+s.path))
		if err != nil {
			t.Fatalf("%s %s: %v", who, s.path, err)
		}
		switch {
		case resp.Status == http.StatusNotFound:
			t.Logf("skipped %s (%s): not built yet", s.name, s.path)
			return
		case resp.Status != http.StatusOK:
			t.Errorf("%s %s: status %d", who, s.path, resp.Status)
			return
		}
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(s.wait))); err != nil {
			t.Errorf("%s %s: %s not shown: %v", who, s.path, s.wait, err)
			return
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100 is a PNG; less, a JPEG
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, s.name+".png"), png, 0o644)
		}
		if err != nil {
			t.Errorf("screenshot %s: %v", s.name, err)
		}
		if s.printable {
			if n := printPDF(t, ctx, dir, s.name); n == 0 {
				t.Errorf("%s printed no page", s.name)
			}
			err := chromedp.Do(ctx, media("print"))
			var png []byte
			if err == nil {
				png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
			}
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, s.name+"-as-printed.png"), png, 0o644)
			}
			if _, merr := chromedp.Run(ctx, media("")); err == nil {
				err = merr
			}
			if err != nil {
				t.Errorf("%s as printed: %v", s.name, err)
			}
		}
	}
	signIn := func(user string) {
		t.Helper()
		step(t, bctx, "sign in as "+user,
			desktop,
			chromedp.Navigate(srv.URL+"/login"),
			chromedp.WaitVisible(chromedp.CSS("#username")),
			chromedp.SendKeys(chromedp.CSS("#username"), user),
			chromedp.SendKeys(chromedp.CSS("#password"), demo.Password),
			chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
			chromedp.WaitNotPresent(chromedp.CSS("#password")),
		)
	}
	signOut := func() {
		t.Helper()
		step(t, bctx, "sign out", desktop, chromedp.Navigate(srv.URL+"/manifests"),
			chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
			chromedp.WaitVisible(chromedp.CSS("#username")))
	}

	for _, s := range []shot{
		{"public-home", "/", false, "main", false},
		{"public-home-phone", "/", true, "main", false},
		{"public-facilities", "/public/facilities", false, "main", false},
		{"public-indicators", "/public/indicators", false, "main", false},
		{"public-cells", "/public/cells", false, "main", false},
		{"public-publication", "/public/publication", false, "main", false},
		{"login", "/login", false, "#username", false},
		{"login-phone", "/login", true, "#username", false},
	} {
		take("visitor", s)
	}
	roles := []struct {
		user  string
		shots []shot
	}{
		{"sthjj", []shot{
			{"sthjj-workbench", "/workbench", false, "main", false},
			{"sthjj-dashboard", "/dashboard", false, "main", false},
			{"sthjj-manifests", "/manifests", false, "#manifests-table", false},
			{"sthjj-manifest", "/manifests/" + m.ID, false, "#manifest-status", true},
			{"sthjj-indicators", "/indicators", false, "main", false},
			{"sthjj-alerts", "/alerts", false, "main", false},
			{"sthjj-bulletin", "/bulletins", false, ".sheet", true},
		}},
		{"gen", []shot{
			{"gen-workbench", "/workbench", false, "main", false},
			{"gen-manifests", "/manifests", false, "#manifests-table", false},
			{"gen-manifest", "/manifests/" + m.ID, false, "#manifest-status", false},
			{"gen-manifest-print", "/manifests/" + m.ID + "/print", false, ".sheet svg.qr", true},
			{"gen-labels-sheet", "/labels/sheet?ids=" + strings.Join(ids[:2], ","), false, ".labels svg", true},
			{"gen-containers", "/containers", false, "main", false},
			{"gen-field-phone", "/field", true, "main h1", false},
			{"gen-field-storage-in-phone", "/field/storage/in", true, "#scan-form", false},
		}},
		{"carrier", []shot{
			{"carrier-workbench", "/workbench", false, "main", false},
			{"carrier-field-phone", "/field", true, "#pickups", false},
			{"carrier-field-pickup-phone", "/field/pickup/" + m.ID, true, "#scan-form", false},
		}},
		{"disposer", []shot{
			{"disposer-workbench", "/workbench", false, "main", false},
			{"disposer-field-phone", "/field", true, "main h1", false},
			{"disposer-manifests", "/manifests", false, "#manifests-table", false},
		}},
		{"admin", []shot{
			{"admin-workbench", "/workbench", false, "main", false},
			{"admin-dashboard", "/dashboard", false, "main", false},
			{"admin-units", "/units", false, "#units-table", false},
		}},
	}
	for _, r := range roles {
		signIn(r.user)
		for _, s := range r.shots {
			take(r.user, s)
		}
		signOut()
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	if len(files) < 15 {
		t.Errorf("only %d screenshots in %s", len(files), dir)
	}
	t.Logf("%d screenshots in %s", len(files), dir)
	if p := problems(); len(p) > 0 {
		t.Errorf("browser console errors: %v", p)
	}
}
