// Package api is the REST interface, version 1: huma operations that decode
// a request, call one service method and encode the result. It holds no SQL
// and no business rule.
package api

import (
	"context"
	"net/http"
	"path"
	"reflect"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"wufei/internal/alerts"
	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/calendar"
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

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 1 << 20

// Deps are the services the API calls.
type Deps struct {
	DB        *store.DB
	Auth      *auth.Service
	Registry  *registry.Service
	Approvals *approval.Service
	Manifests *manifest.Service
	Ledger    *ledger.Service
	Trace     *trace.Service
	Matching  *matching.Service
	Plans     *plan.Service
	Alerts    *alerts.Service
	Calendar  *calendar.Service
	Audit     *audit.Log
	Version   string

	// The Zero-Waste City programme.
	Indicators *indicator.Service

	// The command dashboard and the workbenches.
	Dashboard *dashboard.Service

	// The record kinds that can be exchanged as Excel workbooks.
	Exchange []exchange.Kind

	// The record kinds of the other solid-waste streams (industrial,
	// sludge, construction, medical, agricultural, household).
	Streams []*sheet.Service
}

// Register adds the v1 operations and /openapi.json to mux and returns the
// huma API (for its OpenAPI document).
func Register(mux humago.Mux, d Deps) huma.API {
	cfg := huma.DefaultConfig("wufei 无废城市“一张网” API", d.Version)
	cfg.Info.Description = "淮北市“无废城市”信息平台接口。认证：`Authorization: Bearer <token>`，令牌由 `POST /api/v1/auth/login` 取得。" +
		"错误以 application/problem+json 返回，含稳定的 `code` 与出错字段 `errors[].field`。POST 支持 `Idempotency-Key` 头。"
	cfg.Components.Schemas = huma.NewMapRegistry("#/components/schemas/", schemaNamer())
	cfg.DocsPath = "" // the docs page is served by web, from embedded assets
	cfg.SchemasPath = ""
	cfg.CreateHooks = nil // no $schema links in bodies
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer"},
	}
	cfg.Security = []map[string][]string{{"bearer": {}}}
	a := humago.New(mux, cfg)
	a.UseMiddleware(signedIn)
	h := &handlers{Deps: d}
	h.registerAuth(a)
	h.registerRegistry(a)
	h.registerAudit(a)
	h.registerCatalog(a)
	h.registerAlerts(a)
	h.registerApprovals(a)
	h.registerManifests(a)
	h.registerTrace(a)
	h.registerLedger(a)
	h.registerPlans(a)
	h.registerIndicators(a)
	h.registerProgramme(a)
	h.registerExchange(a)
	h.registerStreams(a)
	h.registerDashboard(a)
	return a
}

type handlers struct{ Deps }

// schemaNamer names schemas by their Go type, as huma does, but gives a type
// whose name another package already uses its package's name in front
// (manifest.Approval beside approval.Approval is ManifestApproval).
func schemaNamer() func(reflect.Type, string) string {
	taken := map[string]reflect.Type{}
	return func(t reflect.Type, hint string) string {
		name := huma.DefaultSchemaNamer(t, hint)
		base := t
		for base.Kind() == reflect.Pointer || base.Kind() == reflect.Slice || base.Kind() == reflect.Array {
			base = base.Elem()
		}
		if prev, ok := taken[name]; ok && prev != base && base.PkgPath() != "" {
			pkg := path.Base(base.PkgPath())
			name = strings.ToUpper(pkg[:1]) + pkg[1:] + name
		}
		taken[name] = base
		return name
	}
}

// principal returns the caller or a 401 problem.
func principal(ctx context.Context) (auth.Principal, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return p, problemOf(errs.E(errs.Unauthorized, "unauthenticated", "请先登录"))
	}
	return p, nil
}

// signedIn answers 401 to a caller without credentials before the
// operation reads its input, unless the operation is public (an empty
// Security), so that an anonymous caller learns nothing of an operation's
// parameters from a 422.
func signedIn(ctx huma.Context, next func(huma.Context)) {
	public := ctx.Operation().Security != nil && len(ctx.Operation().Security) == 0
	if _, ok := auth.FromContext(ctx.Context()); ok || public {
		next(ctx)
		return
	}
	_, w := humago.Unwrap(ctx)
	writeProblem(w, newProblem(http.StatusUnauthorized, "unauthenticated", "请先登录"))
}

// Authenticate resolves the bearer token (or, for the web UI, the session
// cookie) into a principal on the request context. A request without
// credentials passes through unauthenticated; one with bad credentials is
// refused here.
func Authenticate(svc *auth.Service, cookie string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, fromCookie := "", false
			if h := r.Header.Get("Authorization"); h != "" {
				t, ok := strings.CutPrefix(h, "Bearer ")
				if !ok {
					writeProblem(w, newProblem(http.StatusUnauthorized, "invalid_token", "Authorization 头应为 Bearer 令牌"))
					return
				}
				token = strings.TrimSpace(t)
			} else if c, err := r.Cookie(cookie); err == nil {
				token, fromCookie = c.Value, true
			}
			if token != "" {
				p, err := svc.Authenticate(r.Context(), token)
				switch {
				case err == nil:
					r = r.WithContext(auth.WithPrincipal(r.Context(), p))
				case !fromCookie:
					writeProblem(w, problemOf(err).(*Problem))
					return
				}
				// A stale cookie passes unauthenticated, so a page can ask
				// for a new log-in.
			}
			next.ServeHTTP(w, r)
		})
	}
}
