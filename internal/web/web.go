// Package web is the server-rendered UI: html/template pages, enhanced with
// htmx, whose templates, messages and static files are all embedded so that
// the binary needs no npm. Handlers decode, call the services and render;
// which rows a user may see is decided by the services.
package web

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"wufei/internal/calendar"

	"wufei/internal/alerts"
	"wufei/internal/auth"
	"wufei/internal/dashboard"
	"wufei/internal/errs"
	"wufei/internal/exchange"
	"wufei/internal/hw/approval"
	"wufei/internal/hw/ledger"
	"wufei/internal/hw/manifest"
	"wufei/internal/hw/matching"
	"wufei/internal/hw/plan"
	"wufei/internal/hw/trace"
	"wufei/internal/program/indicator"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/streams/sheet"
)

// Deps are what the UI needs.
type Deps struct {
	Auth         *auth.Service
	Registry     *registry.Service
	Ledger       *ledger.Service
	Manifests    *manifest.Service
	Alerts       *alerts.Service
	Trace        *trace.Service
	Matching     *matching.Service
	Plans        *plan.Service
	Approvals    *approval.Service
	DB           *store.DB
	Version      string
	Cookie       string // name of the session cookie that api.Authenticate reads
	SecureCookie bool   // mark cookies Secure (the site is served over HTTPS)

	// The Zero-Waste City programme.
	Indicators *indicator.Service

	// The command dashboard and the workbenches.
	Dashboard *dashboard.Service

	// The record kinds of the other solid-waste streams (industrial,
	// sludge, construction, medical, agricultural, household).
	Streams []*sheet.Service

	// The record kinds that can be exchanged as Excel workbooks.
	Exchange []exchange.Kind
}

var (
	//go:embed templates/*.html
	templateFS embed.FS
	//go:embed static
	staticFS embed.FS
)

type server struct {
	Deps
	static fs.FS
	assets map[string]string                        // static file → content hash
	views  map[string]map[string]*template.Template // language → page → template
}

// UI is the web interface's handler.
type UI struct {
	http.Handler
	routes []string
}

// Routes lists the method and pattern of every route the UI registers, so
// that a test can hold each one against the access policy.
func (u *UI) Routes() []string { return slices.Clone(u.routes) }

// routeMux is a ServeMux that keeps the patterns registered on it.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

func (m *routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}

// New returns the UI's handler. It expects api.Authenticate in front of it
// to put the principal on the request context.
func New(d Deps) *UI {
	s := &server{Deps: d}
	var err error
	s.static, _ = fs.Sub(staticFS, "static")
	if s.assets, err = hashAssets(s.static); err == nil {
		s.views, err = s.parseTemplates()
	}
	if err != nil {
		// Everything parsed here is embedded at build time, so this is a bug
		// that the package's tests catch, like template.Must.
		panic(err)
	}

	mux := &routeMux{ServeMux: http.NewServeMux()}
	mux.HandleFunc("GET /static/", s.serveStatic)
	mux.HandleFunc("GET /login", s.loginForm)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("GET /lang", s.setLang)
	mux.HandleFunc("GET /docs", s.docs)
	mux.HandleFunc("GET /{$}", s.root) // visitors: the public home; signed-in users: their workbench
	s.publicRoutes(mux)
	mux.HandleFunc("GET /units", s.authed(s.units))
	mux.HandleFunc("GET /units/{id}", s.authed(s.unit))
	mux.HandleFunc("GET /licences", s.authed(s.licences))
	mux.HandleFunc("GET /vehicles", s.authed(s.vehicles))
	mux.HandleFunc("GET /catalog", s.authed(s.catalog))
	mux.HandleFunc("GET /l/{digital_id}", s.labelPage) // what a label's QR code opens: public
	mux.HandleFunc("GET /labels/sheet", s.authed(s.labelsSheet))
	mux.HandleFunc("GET /manifests", s.authed(s.manifests))
	mux.HandleFunc("GET /manifests/new", s.authed(s.manifestNew))
	mux.HandleFunc("POST /manifests/new", s.authed(s.manifestCreate))
	mux.HandleFunc("GET /manifests/{id}", s.authed(s.manifest))
	mux.HandleFunc("GET /manifests/{id}/print", s.authed(s.manifestPrint))
	mux.HandleFunc("GET /manifests/{id}/edit", s.authed(s.manifestEdit))
	mux.HandleFunc("POST /manifests/{id}/edit", s.authed(s.manifestUpdate))
	mux.HandleFunc("POST /manifests/{id}/{action}", s.authed(s.manifestAction))
	mux.HandleFunc("GET /matching", s.authed(s.matchingPage))
	mux.HandleFunc("GET /trace", s.authed(s.tracePage))
	mux.HandleFunc("GET /alerts", s.authed(s.alertsPage))
	mux.HandleFunc("POST /alerts/{id}/{action}", s.authed(s.alertAction))
	mux.HandleFunc("GET /containers", s.authed(s.containers))
	mux.HandleFunc("POST /containers", s.authed(s.containerGenerate))
	mux.HandleFunc("GET /plans", s.authed(s.plans))
	mux.HandleFunc("POST /plans", s.authed(s.planCreate))
	mux.HandleFunc("GET /plans/{id}", s.authed(s.planPage))
	mux.HandleFunc("POST /plans/{id}/{action}", s.authed(s.planAction))
	mux.HandleFunc("GET /declarations", s.authed(s.declarations))
	mux.HandleFunc("POST /declarations/compile", s.authed(s.declarationCompile))
	mux.HandleFunc("POST /declarations/{id}/submit", s.authed(s.declarationSubmit))
	mux.HandleFunc("GET /approvals", s.authed(s.approvals))
	mux.HandleFunc("POST /approvals", s.authed(s.approvalCreate))
	mux.HandleFunc("POST /approvals/routes", s.authed(s.routeCreate))
	mux.HandleFunc("GET /indicators", s.authed(s.indicatorsPage))
	mux.HandleFunc("GET /indicators/{id}", s.authed(s.indicatorPage))
	mux.HandleFunc("POST /indicators/{id}/values", s.authed(s.indicatorReport))
	mux.HandleFunc("POST /indicators/{id}/values/{vid}/{action}", s.authed(s.indicatorAction))
	s.programmeRoutes(mux)
	s.streamRoutes(mux)
	s.exchangeRoutes(mux)
	s.dashboardRoutes(mux)
	s.fieldRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, errs.E(errs.NotFound, "not_found", "页面不存在"))
	})
	return &UI{Handler: http.NewCrossOriginProtection().Handler(securityHeaders(mux)), routes: mux.patterns}
}

// pageCSP allows only the site's own scripts and styles; htmx is configured
// not to inject its indicator stylesheet so that no inline style is needed.
const pageCSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; " +
	"form-action 'self'; frame-ancestors 'none'"

// nonceCSP makes a nonce for this response and widens pageCSP to inline
// script carrying it — and, with styles, inline style — for the printable
// pages' print buttons and sheet styles.
func nonceCSP(w http.ResponseWriter, styles bool) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	n := base64.RawStdEncoding.EncodeToString(b)
	inline := "script-src 'self' 'nonce-" + n + "'; "
	if styles {
		inline = "style-src 'self' 'nonce-" + n + "'; " + inline
	}
	w.Header().Set("Content-Security-Policy", "default-src 'self'; "+inline+strings.TrimPrefix(pageCSP, "default-src 'self'; "))
	return n
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", pageCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

func hashAssets(fsys fs.FS) (map[string]string, error) {
	out := map[string]string{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) == ".md" {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[p] = hex.EncodeToString(sum[:5])
		return nil
	})
	return out, err
}

// asset is the URL of a static file, versioned by its content so that it
// may be cached for a year.
func (s *server) asset(name string) string {
	return "/static/" + name + "?v=" + s.assets[name]
}

func (s *server) serveStatic(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	hash, ok := s.assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.URL.Query().Get("v") == hash {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Header().Set("ETag", `"`+hash+`"`)
	http.ServeFileFS(w, r, s.static, name)
}

func (s *server) parseTemplates() (map[string]map[string]*template.Template, error) {
	msgs, err := loadMessages()
	if err != nil {
		return nil, err
	}
	pages, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	views := map[string]map[string]*template.Template{}
	for lang, c := range msgs {
		funcs := template.FuncMap{
			"t":     c.t,
			"asset": s.asset,
			"tonnes": func(t float64) string {
				return c.t("unit.tonnes", strconv.FormatFloat(t, 'f', -1, 64))
			},
			"date": func(t time.Time) string { return t.In(calendar.Zone).Format(time.DateOnly) },
		}
		base, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
		if err != nil {
			return nil, err
		}
		views[lang] = map[string]*template.Template{}
		for _, p := range pages {
			name := strings.TrimSuffix(path.Base(p), ".html")
			if name == "layout" {
				continue
			}
			t, err := template.Must(base.Clone()).ParseFS(templateFS, p)
			if err != nil {
				return nil, err
			}
			views[lang][name] = t
		}
	}
	return views, nil
}

// view is what every template gets: the page's own data and what the layout
// needs.
type view struct {
	Lang    string
	User    *auth.Principal
	Nav     string // the navigation item to mark as current
	Path    string // the request URI, for the language switch
	Version string
	Data    any
}

func (s *server) view(r *http.Request, nav string, data any) view {
	v := view{Lang: requestLang(r), Nav: nav, Path: r.URL.RequestURI(), Version: s.Version, Data: data}
	if p, ok := auth.FromContext(r.Context()); ok {
		v.User = &p
	}
	return v
}

// render executes a template of a page: "layout" for the whole page, or one
// of its blocks for an htmx request. It renders into a buffer first so that a
// template error becomes a clean 500, not half a page.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, page, block string, v view) {
	var buf bytes.Buffer
	if err := s.views[v.Lang][page].ExecuteTemplate(&buf, block, v); err != nil {
		slog.ErrorContext(r.Context(), "web: render", "page", page, "block", block, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store") // pages carry what only this user may see
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// page renders a whole page, or only block when htmx asks for it.
func (s *server) page(w http.ResponseWriter, r *http.Request, status int, name, block string, v view) {
	if !isHTMX(r) {
		block = "layout"
	}
	s.render(w, r, status, name, block, v)
}

func isHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }

// authed wraps a page that needs a signed-in user; anyone else is sent to
// the log-in page and brought back afterwards.
func (s *server) authed(h func(http.ResponseWriter, *http.Request, auth.Principal)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := auth.FromContext(r.Context())
		if !ok {
			to := "/login?next=" + url.QueryEscape(r.URL.RequestURI())
			if isHTMX(r) { // a fetch would follow a redirect into the swapped region
				w.Header().Set("HX-Redirect", to)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, to, http.StatusSeeOther)
			return
		}
		h(w, r, p)
	}
}

type errorData struct {
	Status int
	Detail string // the service's own message (zh-CN)
}

// fail renders an error page with the status the error's kind calls for.
// Internal errors are logged and never shown.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	d := errorData{Status: statusOf(errs.KindOf(err))}
	var e *errs.Error
	if d.Status == http.StatusInternalServerError {
		slog.ErrorContext(r.Context(), "web", "method", r.Method, "path", r.URL.Path, "err", err)
	} else if errors.As(err, &e) {
		d.Detail = e.Message
	}
	block := "layout"
	if isHTMX(r) { // show the error in place of the page's content
		w.Header().Set("HX-Retarget", "#main")
		w.Header().Set("HX-Reswap", "innerHTML")
		block = "content"
	}
	s.render(w, r, d.Status, "error", block, s.view(r, "", d))
}

func statusOf(k errs.Kind) int {
	switch k {
	case errs.Invalid:
		return http.StatusUnprocessableEntity
	case errs.NotFound:
		return http.StatusNotFound
	case errs.Conflict:
		return http.StatusConflict
	case errs.Unauthorized:
		return http.StatusUnauthorized
	case errs.Forbidden:
		return http.StatusForbidden
	case errs.TooMany:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// safeNext keeps a post-login or language-switch redirect on this site.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(next, "/") ||
		strings.HasPrefix(next, "//") || strings.HasPrefix(next, `/\`) {
		return "/"
	}
	return next
}
