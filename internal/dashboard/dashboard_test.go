package dashboard_test

import (
	"context"
	"testing"
	"time"

	"wufei/internal/auth"
	"wufei/internal/calendar"
	"wufei/internal/dashboard"
	"wufei/internal/demo"
	"wufei/internal/errs"
	"wufei/internal/program/indicator"
	"wufei/internal/server"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// seeded is the demo with its year of activity, and the demo's principals.
func seeded(t testing.TB, db *store.DB) (*dashboard.Service, map[string]auth.Principal) {
	t.Helper()
	ctx := context.Background()
	if err := server.Prepare(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := demo.Seed(ctx, db, demo.ActivityMinUnits); err != nil {
		t.Fatal(err)
	}
	as := auth.NewService(db)
	ps := map[string]auth.Principal{}
	for _, u := range []string{"admin", "sthjj", "xsq", "gen", "gen2", "carrier", "disposer"} {
		s, err := as.Login(ctx, u, demo.Password)
		if err != nil {
			t.Fatal(err)
		}
		ps[u] = s.User.Principal()
	}
	return dashboard.NewService(db, indicator.NewService(db)), ps
}

func sum(vs []float64) float64 {
	var t float64
	for _, v := range vs {
		t += v
	}
	return t
}

func generated(f dashboard.Flows) float64 {
	for _, s := range f.Series {
		if s.Kind == dashboard.Generated {
			return sum(s.Values)
		}
	}
	return -1
}

// TestScope checks that every figure holds only what the viewer may see:
// a unit its own, a county's regulator its county, the city everything.
func TestScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, ps := seeded(t, db)
		year := time.Now().In(calendar.Zone).Year()
		yearFrom := time.Date(year, 1, 1, 0, 0, 0, 0, calendar.Zone).UTC()
		// What the ledger says a unit (or the city, "") generated this year.
		raw := func(unitID string) float64 {
			t.Helper()
			var g int64
			q := `SELECT COALESCE(SUM(delta_g), 0) FROM ledger_records WHERE effect_kind = 'generation' AND occurred_at >= ?`
			args := []any{yearFrom}
			if unitID != "" {
				q, args = q+` AND unit_id = ?`, append(args, unitID)
			}
			if err := store.Get(ctx, db.Reader(), &g, q, args...); err != nil {
				t.Fatal(err)
			}
			return float64(g) / 1e6
		}
		near := func(a, b float64) bool { return a-b < 1e-6 && b-a < 1e-6 }

		flows := map[string]dashboard.Flows{}
		for _, u := range []string{"sthjj", "gen", "gen2"} {
			f, err := svc.Flows(ctx, ps[u], dashboard.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Months) != 12 || len(f.Series) != 4 {
				t.Fatalf("%s: %d months, %d series", u, len(f.Months), len(f.Series))
			}
			flows[u] = f
		}
		if g, want := generated(flows["sthjj"]), raw(""); !near(g, want) || g == 0 {
			t.Errorf("city generated %v t, ledger says %v", g, want)
		}
		for _, u := range []string{"gen", "gen2"} {
			if g, want := generated(flows[u]), raw(ps[u].UnitID); !near(g, want) || g == 0 {
				t.Errorf("%s generated %v t, its ledger says %v", u, g, want)
			}
		}

		// The map and the capacity chart: a unit sees itself only.
		for _, u := range []string{"gen", "gen2", "carrier"} {
			pl, err := svc.Places(ctx, ps[u], dashboard.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(pl.Places) != 1 || pl.Places[0].ID != ps[u].UnitID {
				t.Errorf("%s places: %+v", u, pl.Places)
			}
		}
		if c, err := svc.Capacity(ctx, ps["gen"], dashboard.Filter{}, time.Now()); err != nil || len(c.Receivers) != 0 {
			t.Errorf("gen capacity: %+v %v", c.Receivers, err)
		}
		c, err := svc.Capacity(ctx, ps["disposer"], dashboard.Filter{}, time.Now())
		if err != nil || len(c.Receivers) != 1 || c.Receivers[0].UnitID != ps["disposer"].UnitID || c.Receivers[0].CapacityT != 20000 {
			t.Errorf("disposer capacity: %+v %v", c.Receivers, err)
		}
		city, err := svc.Places(ctx, ps["sthjj"], dashboard.Filter{})
		if err != nil || len(city.Places) < 10 {
			t.Errorf("city places: %d %v", len(city.Places), err)
		}

		// The Sankey of a generator starts from its county only.
		sk, err := svc.Sankey(ctx, ps["gen"], dashboard.Filter{})
		if err != nil || len(sk.Links) == 0 {
			t.Fatalf("gen sankey: %+v %v", sk, err)
		}
		for _, l := range sk.Links {
			if l.Source != "濉溪县" {
				t.Errorf("gen's flow from %q", l.Source)
			}
		}

		// A county's regulator: only its county's ledger figures and alerts.
		rs, err := svc.Regions(ctx, ps["xsq"], dashboard.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs.Regions {
			if r.Code != "340603" && r.GeneratedT != 0 {
				t.Errorf("xsq sees %s generating %v t", r.Code, r.GeneratedT)
			}
		}
		// Alerts: a unit's are those naming it as a party.
		for _, u := range []string{"gen", "sthjj"} {
			a, err := svc.Alerts(ctx, ps[u], dashboard.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			q, args := `SELECT COUNT(*) FROM alerts a WHERE a.status <> 'closed'`, []any{}
			if u == "gen" {
				q += ` AND EXISTS (SELECT 1 FROM alert_parties ap WHERE ap.alert_id = a.id AND ap.unit_id = ?)`
				args = append(args, ps[u].UnitID)
			}
			var want int
			if err := store.Get(ctx, db.Reader(), &want, q, args...); err != nil {
				t.Fatal(err)
			}
			if a.Total != want {
				t.Errorf("%s open alerts %d, want %d", u, a.Total, want)
			}
		}

		// Filters: a month is one bucket; a category narrows; a region of
		// another county leaves a unit with nothing.
		month := time.Now().In(calendar.Zone).AddDate(0, -1, 0).Format("2006-01")
		fm, err := svc.Flows(ctx, ps["sthjj"], dashboard.Filter{Period: month, Category: "HW08"})
		if err != nil || len(fm.Months) != 1 || fm.Months[0] != month {
			t.Errorf("month filter: %+v %v", fm.Months, err)
		}
		for _, c := range fm.Categories {
			if c.Category != "HW08" {
				t.Errorf("category filter kept %s", c.Category)
			}
		}
		other, err := svc.Flows(ctx, ps["gen"], dashboard.Filter{Region: "340603"})
		if err != nil || generated(other) != 0 {
			t.Errorf("gen with another county: %v t, %v", generated(other), err)
		}
		for _, f := range []dashboard.Filter{{Period: "2026Q5"}, {Region: "110000"}, {Category: "HW8"}} {
			if _, err := svc.Flows(ctx, ps["sthjj"], f); errs.KindOf(err) != errs.Invalid {
				t.Errorf("filter %+v: %v, want invalid", f, err)
			}
		}

		// The targets: the plan's 19, for every viewer.
		for _, u := range []string{"sthjj", "gen"} {
			tg, err := svc.Targets(ctx, ps[u], dashboard.Filter{})
			if err != nil || len(tg.Tiles) != 19 {
				t.Errorf("%s targets: %d %v", u, len(tg.Tiles), err)
			}
		}
	})
}

// TestWorkbench checks that each role finds its own work.
func TestWorkbench(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, ps := seeded(t, db)
		now := time.Now()
		sections := func(u string) map[string]dashboard.Section {
			t.Helper()
			w, err := svc.Workbench(ctx, ps[u], now)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]dashboard.Section{}
			for _, s := range w.Sections {
				if s.Total == 0 || len(s.Items) == 0 || s.URL == "" {
					t.Errorf("%s: empty section %+v", u, s)
				}
				for _, it := range s.Items {
					if it.URL == "" || it.Title == "" {
						t.Errorf("%s %s: item without a link %+v", u, s.Key, it)
					}
				}
				out[s.Key] = s
			}
			return out
		}
		// Each party's manifests, as the database has them.
		count := func(q string, args ...any) int {
			t.Helper()
			var n int
			if err := store.Get(ctx, db.Reader(), &n, q, args...); err != nil {
				t.Fatal(err)
			}
			return n
		}
		gen := sections("gen")
		if want := count(`SELECT COUNT(*) FROM manifests WHERE status = 'draft' AND consignor_unit_id = ?`, ps["gen"].UnitID); want == 0 ||
			gen[dashboard.SectionDrafts].Total != want {
			t.Errorf("gen drafts %d, want %d", gen[dashboard.SectionDrafts].Total, want)
		}
		carrier := sections("carrier")
		if want := count(`SELECT COUNT(*) FROM manifests m WHERE m.status IN ('submitted', 'in_transit') AND EXISTS (SELECT 1
			FROM manifest_carriers mc WHERE mc.manifest_id = m.id AND mc.carrier_unit_id = ? AND mc.picked_up_at IS NULL)`,
			ps["carrier"].UnitID); want == 0 || carrier[dashboard.SectionPickups].Total != want {
			t.Errorf("carrier pickups %d, want %d", carrier[dashboard.SectionPickups].Total, want)
		}
		if _, ok := carrier[dashboard.SectionDrafts]; ok {
			t.Error("carrier has drafts of another unit")
		}
		disposer := sections("disposer")
		arr := disposer[dashboard.SectionArrivals]
		if want := count(`SELECT COUNT(*) FROM manifests WHERE status = 'in_transit' AND receiver_unit_id = ?`,
			ps["disposer"].UnitID); want == 0 || arr.Total != want {
			t.Errorf("disposer arrivals %d, want %d", arr.Total, want)
		}
		for _, it := range arr.Items {
			if it.Due == nil {
				t.Errorf("arrival without its deadline: %+v", it)
			}
		}
		sthjj := sections("sthjj")
		if want := count(`SELECT COUNT(*) FROM alerts WHERE status = 'open'`); want == 0 || sthjj[dashboard.SectionAlerts].Total != want {
			t.Errorf("sthjj alerts %d, want %d", sthjj[dashboard.SectionAlerts].Total, want)
		}
		if s, ok := sthjj[dashboard.SectionTasksDue]; ok {
			for _, it := range s.Items {
				if it.Due == nil {
					t.Errorf("task report due without a date: %+v", it)
				}
			}
		}
	})
}
