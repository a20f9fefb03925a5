package web_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"wufei/internal/demo"
	"wufei/internal/server"
	"wufei/internal/store/storetest"
)

// focus is what the keyboard is on.
type focus struct {
	Tag    string `json:"tag"`
	ID     string `json:"id"`
	Href   string `json:"href"`
	Text   string `json:"text"`
	Ring   bool   `json:"ring"`   // an outline or a box shadow shows where the focus is
	Shown  bool   `json:"shown"`  // inside the viewport, not moved off screen
	InMain bool   `json:"inMain"` // inside <main>
	// Native is a link, button or form control, or a region the browser
	// lets the keyboard scroll: not an element made focusable by a script.
	Native bool `json:"native"`
}

func (f focus) String() string {
	s := "<" + f.Tag
	if f.ID != "" {
		s += ` id="` + f.ID + `"`
	}
	if f.Href != "" {
		s += ` href="` + f.Href + `"`
	}
	return s + ">" + f.Text
}

const focusJS = `(() => {
	const e = document.activeElement, s = getComputedStyle(e), r = e.getBoundingClientRect();
	return {tag: e.tagName.toLowerCase(), id: e.id, href: e.getAttribute("href") || "", text: (e.textContent || "").trim().slice(0, 24),
		ring: (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== "none",
		shown: r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0 && r.left < innerWidth && r.top < innerHeight,
		inMain: !!e.closest("main"),
		native: ["a", "button", "input", "select", "textarea", "summary"].includes(e.tagName.toLowerCase()) ||
			(!e.hasAttribute("tabindex") && (e.scrollWidth > e.clientWidth || e.scrollHeight > e.clientHeight))};
})()`

func focused(t *testing.T, ctx context.Context) focus {
	t.Helper()
	f, err := chromedp.Run(ctx, chromedp.Evaluate[focus](focusJS))
	if err != nil {
		t.Fatalf("focused element: %v", err)
	}
	return f
}

// press sends keys to whatever has the focus, as a keyboard would.
func press(t *testing.T, ctx context.Context, what, keys string, opts ...chromedp.KeyOption) {
	t.Helper()
	step(t, ctx, what, chromedp.KeyEvent(keys, opts...))
}

// tabTo presses Tab until the focus is on an element sel matches, at most
// max times, and checks that every element on the way shows its focus.
func tabTo(t *testing.T, ctx context.Context, sel string, max int) []focus {
	t.Helper()
	var path []focus
	for range max {
		press(t, ctx, "Tab towards "+sel, kb.Tab)
		f := focused(t, ctx)
		path = append(path, f)
		checkFocus(t, f)
		at, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.activeElement.matches(`+jsString(sel)+`)`))
		if err != nil {
			t.Fatal(err)
		}
		if at {
			return path
		}
	}
	t.Fatalf("%d Tabs did not reach %s: %v", max, sel, path)
	return nil
}

// checkFocus requires the focused element to be a native control, on
// screen, with a visible focus style.
func checkFocus(t *testing.T, f focus) {
	t.Helper()
	if !f.Ring {
		t.Errorf("focus not visible on %v", f)
	}
	if !f.Shown {
		t.Errorf("focus off screen on %v", f)
	}
	if !f.Native {
		t.Errorf("focus on a scripted element %v: use a link or a button", f)
	}
}

// tabMain follows the skip link and presses Tab through <main>, at most max
// times, checking each stop; it answers how many there were.
func tabMain(t *testing.T, ctx context.Context, max int) int {
	t.Helper()
	tabTo(t, ctx, "a.skip", 1)
	press(t, ctx, "skip to the content", kb.Enter)
	for n := range max {
		press(t, ctx, "Tab through the page", kb.Tab)
		f := focused(t, ctx)
		if !f.InMain {
			return n
		}
		checkFocus(t, f)
	}
	return max
}

func jsString(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

// TestKeyboardBrowser uses the platform with no mouse: from the public home
// to the log-in form by Tab and Enter, signs in with Enter, skips to the
// content, and moves through the main navigation and a page by Tab, every
// focused element a link or control with a visible focus style.
func TestKeyboardBrowser(t *testing.T) {
	db, _ := storetest.SQLite(t)
	app, err := server.New(context.Background(), db, server.Config{Demo: true, DemoUnits: 20, Version: "test",
		KeyFile: filepath.Join(t.TempDir(), "audit.key")})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler)
	t.Cleanup(srv.Close)
	ctx, problems := browser(t)

	// The first Tab on a page lands on the skip link, shown while it has the focus.
	step(t, ctx, "public home", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("main")))
	skip := tabTo(t, ctx, "a.skip", 1)[0]
	if skip.Href != "#main" || skip.Text != "跳到正文" {
		t.Errorf("first Tab: %v, want the skip link", skip)
	}
	tabTo(t, ctx, `header a[href="/login"]`, 10)
	press(t, ctx, "open the log-in page", kb.Enter)
	step(t, ctx, "log-in page", chromedp.WaitVisible(chromedp.CSS("#username")))

	// The form's fields in order: the user name (focused on arrival, and
	// reached again by Tab), the password, the button; Enter signs in.
	if f := focused(t, ctx); f.ID != "username" {
		t.Errorf("log-in page opens with the focus on %v, want the user name", f)
	}
	press(t, ctx, "back from the user name", kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift))
	if f := focused(t, ctx); f.ID == "username" || f.InMain {
		t.Errorf("Shift+Tab from the user name stays on %v", f)
	}
	tabTo(t, ctx, "#username", 1)
	press(t, ctx, "type the user name", "sthjj")
	tabTo(t, ctx, "#password", 1)
	press(t, ctx, "type the password", demo.Password)
	tabTo(t, ctx, `main form button[type="submit"]`, 1)
	press(t, ctx, "sign in", kb.Enter)
	step(t, ctx, "workbench", chromedp.WaitVisible(chromedp.CSS("#workbench, #workbench-empty")))
	if h := text(t, ctx, "h1"); h != "工作台" {
		t.Fatalf("after signing in with Enter: heading %q", h)
	}

	// Skip to the content: the next Tab is inside <main>, past the navigation.
	tabTo(t, ctx, "a.skip", 1)
	press(t, ctx, "skip to the content", kb.Enter)
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.HasSuffix(loc, "/workbench#main") {
		t.Errorf("after the skip link: %q %v", loc, err)
	}
	press(t, ctx, "Tab after skipping", kb.Tab)
	if f := focused(t, ctx); !f.InMain {
		t.Errorf("the Tab after the skip link is on %v, outside <main>", f)
	} else {
		checkFocus(t, f)
	}

	// The navigation by Tab, and Enter opens the units.
	step(t, ctx, "workbench again", chromedp.Navigate(srv.URL+"/workbench"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	path := tabTo(t, ctx, `header nav a[href="/units"]`, 30)
	var nav []string
	for _, f := range path {
		if strings.HasPrefix(f.Href, "/") && !f.InMain {
			nav = append(nav, f.Href)
		}
	}
	if !strings.Contains(strings.Join(nav, " "), "/workbench /dashboard /manifests /alerts") {
		t.Errorf("Tab order through the header: %v", nav)
	}
	press(t, ctx, "open the units", kb.Enter)
	step(t, ctx, "units", chromedp.WaitVisible(chromedp.CSS("#units-table")))
	if h := text(t, ctx, "h1"); h != "单位" {
		t.Errorf("Enter on the navigation opened %q", h)
	}
	if cur := text(t, ctx, `header nav a[aria-current="page"]`); cur != "单位" {
		t.Errorf("current page in the navigation: %q", cur)
	}

	// Through the page itself: filters, the table's links, the pager;
	// every stop shows its focus.
	tabTo(t, ctx, "a.skip", 1)
	press(t, ctx, "skip to the content", kb.Enter)
	inMain := 0
	for range 40 {
		press(t, ctx, "Tab through the units", kb.Tab)
		f := focused(t, ctx)
		if !f.InMain {
			break
		}
		checkFocus(t, f)
		inMain++
	}
	if inMain < 20 {
		t.Errorf("only %d stops in the units page", inMain)
	}
	screenshot(t, ctx, "keyboard-units")

	// The other kinds of page: the same from the skip link to the footer.
	for _, page := range []string{"/dashboard", "/workbench", "/indicators", "/tasks", "/cells", "/alerts", "/plans", "/exchange",
		"/streams/industry", "/streams/gisw_ledger", "/catalog", "/public", "/public/facilities", "/public/indicators"} {
		step(t, ctx, page, chromedp.Navigate(srv.URL+page), chromedp.WaitVisible(chromedp.CSS("main h1")))
		if n := tabMain(t, ctx, 80); n == 0 {
			t.Errorf("%s: nothing to reach in <main>", page)
		}
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("browser console errors: %v", p)
	}
}
