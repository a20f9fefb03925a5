// Package server assembles the platform: it opens and prepares the database,
// builds the services, and serves the API, the web UI, health and metrics
// behind one handler.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"wufei/internal/alerts"
	"wufei/internal/api"
	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/calendar"
	"wufei/internal/catalog"
	"wufei/internal/dashboard"
	"wufei/internal/demo"
	"wufei/internal/hw/approval"
	"wufei/internal/hw/ledger"
	"wufei/internal/hw/manifest"
	"wufei/internal/hw/matching"
	"wufei/internal/hw/plan"
	"wufei/internal/hw/trace"
	"wufei/internal/idempotency"
	"wufei/internal/jobs"
	"wufei/internal/program/cell"
	"wufei/internal/program/indicator"
	"wufei/internal/program/task"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/web"
)

// Config is what serve takes.
type Config struct {
	Addr         string
	DB           string // database URL
	Demo         bool
	DemoUnits    int    // further generated units in demo mode
	KeyFile      string // audit signing key; default beside a SQLite file, else ./data
	KeyName      string // signer name in checkpoints
	SecureCookie bool
	Version      string
	// TLSCert and TLSKey are PEM files; with them Serve speaks HTTPS only.
	TLSCert, TLSKey string
}

// SessionCookie is the web UI's session cookie.
const SessionCookie = "wufei_session"

// App is a prepared platform: database, services and handler.
type App struct {
	DB        *store.DB
	Auth      *auth.Service
	Registry  *registry.Service
	Audit     *audit.Log
	Manifests *manifest.Service
	Jobs      *jobs.Scheduler // the time-based rules, run while Serve runs
	Handler   http.Handler
	routes    []string
}

// Routes lists the method and pattern of every route Handler serves: the
// API's operations and documents, the server's own and the UI's pages.
func (a *App) Routes() []string { return slices.Clone(a.routes) }

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

// Open opens the database, migrates it, loads reference data and the
// catalogue if missing, seeds the demo in demo mode, and builds the handler.
func Open(ctx context.Context, cfg Config) (*App, error) {
	db, err := store.Open(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	app, err := New(ctx, db, cfg)
	if err != nil {
		db.Close()
		return nil, err
	}
	return app, nil
}

// Prepare migrates db and seeds what an empty database needs.
func Prepare(ctx context.Context, db *store.DB) error {
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	return db.Tx(ctx, func(tx *store.Tx) error {
		if err := registry.SeedReference(ctx, tx); err != nil {
			return err
		}
		if err := catalog.Seed(ctx, tx); err != nil {
			return err
		}
		if err := indicator.Seed(ctx, tx); err != nil {
			return err
		}
		if err := task.Seed(ctx, tx); err != nil {
			return err
		}
		return cell.SeedTypes(ctx, tx)
	})
}

// New prepares an open database (see Open) and builds the App on it.
func New(ctx context.Context, db *store.DB, cfg Config) (*App, error) {
	if err := Prepare(ctx, db); err != nil {
		return nil, err
	}
	if cfg.Demo {
		seeded, err := demo.Seeded(ctx, db)
		if err != nil {
			return nil, err
		}
		if !seeded {
			if err := demo.Seed(ctx, db, cfg.DemoUnits); err != nil {
				return nil, err
			}
		}
	}
	keyFile := cfg.KeyFile
	if keyFile == "" {
		keyFile = DefaultKeyFile(cfg.DB)
	}
	name := cfg.KeyName
	if name == "" {
		name = "wufei.huaibei"
	}
	lg, err := audit.LoadOrCreateSigner(ctx, db, keyFile, name)
	if err != nil {
		return nil, err
	}
	app := &App{DB: db, Auth: auth.NewService(db), Registry: registry.NewService(db), Audit: lg,
		Manifests: manifest.NewService(db), Jobs: jobs.New(db, "")}
	app.Jobs.Add(jobs.Sweep("receipt_overdue", 15*time.Minute, db, manifest.CheckOverdue))
	app.Jobs.Add(jobs.Sweep("storage_age", time.Hour, db, ledger.CheckStorage))
	app.Jobs.Add(jobs.Sweep("declaration_due", time.Hour, db, plan.CheckDue))
	app.Jobs.Add(indicator.RefreshRule(db, 10*time.Minute))
	app.Jobs.Add(jobs.Sweep("task_overdue", time.Hour, db, task.CheckOverdue))
	app.Handler = app.handler(cfg)
	return app, nil
}

// DefaultKeyFile is the audit key's path for a database URL: beside a
// SQLite file, else under ./data.
func DefaultKeyFile(dbURL string) string {
	if p, ok := cutPrefix(dbURL, "sqlite:"); ok && p != ":memory:" {
		return filepath.Join(filepath.Dir(p), "audit-signing.key")
	}
	return filepath.Join("data", "audit-signing.key")
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):], true
	}
	return s, false
}

func (a *App) handler(cfg Config) http.Handler {
	mux := &routeMux{ServeMux: http.NewServeMux()}
	indicators := indicator.NewService(a.DB)
	dash := dashboard.NewService(a.DB, indicators)
	api.Register(mux, api.Deps{DB: a.DB, Auth: a.Auth, Registry: a.Registry, Audit: a.Audit, Version: cfg.Version,
		Approvals: approval.NewService(a.DB), Manifests: a.Manifests, Trace: trace.NewService(a.DB, a.Manifests, a.Audit),
		Matching: matching.NewService(a.DB), Ledger: ledger.NewService(a.DB), Plans: plan.NewService(a.DB),
		Alerts: alerts.NewService(a.DB), Calendar: calendar.NewService(a.DB), Indicators: indicators,
		Exchange: exchangeKinds(a.DB), Streams: streamSheets(a.DB), Dashboard: dash})
	mux.Handle("/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api.WriteProblem(w, http.StatusNotFound, "not_found", "没有这个接口")
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		var one int
		if err := store.Get(ctx, a.DB.Reader(), &one, `SELECT 1`); err != nil {
			http.Error(w, `{"status":"unavailable"}`, http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status":"ok","version":%q}`, cfg.Version)
	})
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := newMetrics(reg)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	ui := web.New(web.Deps{Auth: a.Auth, Registry: a.Registry, DB: a.DB, Version: cfg.Version,
		Cookie: SessionCookie, SecureCookie: cfg.SecureCookie, Ledger: ledger.NewService(a.DB),
		Manifests: a.Manifests, Alerts: alerts.NewService(a.DB), Trace: trace.NewService(a.DB, a.Manifests, a.Audit),
		Matching: matching.NewService(a.DB), Plans: plan.NewService(a.DB), Approvals: approval.NewService(a.DB),
		Indicators: indicators, Streams: streamSheets(a.DB), Exchange: exchangeKinds(a.DB), Dashboard: dash})
	mux.Handle("/", ui)
	a.routes = append(slices.DeleteFunc(mux.patterns, func(p string) bool { return p == "/" }), ui.Routes()...)

	var h http.Handler = mux
	h = expectWrites(a.DB, h)
	h = idempotency.Middleware(a.DB)(h)
	h = api.Authenticate(a.Auth, SessionCookie)(h)
	h = api.AssumeJSON(h)
	h = limitBody(h)
	h = m.wrap(mux.ServeMux, h)
	return recoverer(h)
}

// Serve listens on cfg.Addr until ctx is cancelled, then shuts down
// gracefully, letting requests in flight finish.
func (a *App) Serve(ctx context.Context, cfg Config, ready func(addr string)) error {
	srv := &http.Server{Handler: a.Handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		WriteTimeout: 120 * time.Second, IdleTimeout: 120 * time.Second}
	if cfg.TLSCert != "" || cfg.TLSKey != "" {
		// Loaded before listening, so a bad file stops the start.
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return fmt.Errorf("server: tls: %w", err)
		}
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	if srv.TLSConfig != nil {
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	a.Jobs.Start(ctx)
	defer a.Jobs.Stop() // after the HTTP shutdown below; waits for a rule that is running
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	slog.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	return err
}
