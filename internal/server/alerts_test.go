package server_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"wufei/internal/alerts"
	"wufei/internal/server"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

func TestAlertsHTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		anon := newServer(t, db)
		gen, gen2, sthjj, xsq, admin, disposer := anon.login("gen"), anon.login("gen2"), anon.login("sthjj"),
			anon.login("xsq"), anon.login("admin"), anon.login("disposer")
		unitOf := func(c client) string {
			_, me, _ := c.do("GET", "/api/v1/me", nil)
			return me["unit_id"].(string)
		}
		genUnit, gen2Unit, disposerUnit := unitOf(gen), unitOf(gen2), unitOf(disposer)

		// Rules raise alerts inside their cause's transaction; here the test
		// is the cause.
		raise := func(a alerts.Alert) string {
			t.Helper()
			var id string
			if err := db.Tx(context.Background(), func(tx *store.Tx) error {
				r, err := alerts.Raise(context.Background(), tx, a)
				id = r.ID
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return id
		}
		// gen's consignment to disposer in 烈山区 arrived light.
		transfer := raise(alerts.Alert{Kind: "weight_discrepancy", Severity: alerts.Warning, Title: "接收量与申报量不符",
			Subject: "manifest", SubjectID: "test-manifest-1", SubjectRef: "20263406999001", RegionCode: "340604",
			UnitIDs: []string{genUnit, disposerUnit}})
		// gen2's storage in 相山区 is past its limit.
		storage := raise(alerts.Alert{Kind: "storage_age_limit", Severity: alerts.Critical, Title: "贮存超期",
			Subject: "facility", SubjectID: "test-facility-1", RegionCode: "340603", UnitIDs: []string{gen2Unit}})

		ids := func(c client, query string) []string {
			t.Helper()
			var out []string
			cursor := ""
			for range 50 {
				st, m, _ := c.do("GET", "/api/v1/alerts?limit=1"+query+cursor, nil)
				if st != 200 {
					t.Fatalf("alerts: %d %v", st, m)
				}
				for _, it := range list(m) {
					out = append(out, it["id"].(string))
				}
				next, _ := m["next"].(string)
				if next == "" {
					return out
				}
				cursor = "&cursor=" + next
			}
			t.Fatal("pagination does not end")
			return nil
		}
		for _, tc := range []struct {
			who                   string
			c                     client
			transfer, storageSeen bool
		}{
			{"gen", gen, true, false},
			{"disposer", disposer, true, false},
			{"gen2", gen2, false, true},
			{"sthjj", sthjj, true, true},
			{"admin", admin, true, true},
			{"xsq", xsq, false, true},
		} {
			seen := ids(tc.c, "")
			if slices.Contains(seen, transfer) != tc.transfer || slices.Contains(seen, storage) != tc.storageSeen {
				t.Errorf("%s lists transfer=%v storage=%v, want %v %v", tc.who, slices.Contains(seen, transfer),
					slices.Contains(seen, storage), tc.transfer, tc.storageSeen)
			}
			for id, visible := range map[string]bool{transfer: tc.transfer, storage: tc.storageSeen} {
				st, m, _ := tc.c.do("GET", "/api/v1/alerts/"+id, nil)
				switch {
				case visible && (st != 200 || m["id"] != id):
					t.Errorf("%s get %s: %d %v", tc.who, id, st, m)
				case !visible && (st != 404 || m["code"] != "alert_not_found"):
					t.Errorf("%s get %s: %d %v, want 404", tc.who, id, st, m)
				}
			}
		}
		st, a, _ := gen.do("GET", "/api/v1/alerts/"+transfer, nil)
		if st != 200 || a["kind"] != "weight_discrepancy" || a["status"] != "open" || a["version"] != 1.0 ||
			a["subject_ref"] != "20263406999001" || len(a["unit_ids"].([]any)) != 2 {
			t.Fatalf("alert: %v", a)
		}
		if got := ids(sthjj, "&kind=weight_discrepancy&subject=manifest&subject_id=test-manifest-1"); !slices.Equal(got, []string{transfer}) {
			t.Errorf("filtered: %v", got)
		}

		// Acknowledge, then close.
		path := "/api/v1/alerts/" + transfer
		if st, m, _ := gen2.do("POST", path+"/acknowledge", map[string]any{"version": 1}); st != 404 {
			t.Errorf("gen2 acknowledges: %d %v", st, m)
		}
		st, m, _ := gen.do("POST", path+"/acknowledge", map[string]any{"version": 1, "note": "已联系接收单位复核"})
		if st != 200 || m["status"] != "acknowledged" || m["version"] != 2.0 || m["note"] != "已联系接收单位复核" {
			t.Fatalf("acknowledge: %d %v", st, m)
		}
		if st, m, _ := sthjj.do("POST", path+"/close", map[string]any{"version": 1, "note": "核实"}); st != 409 ||
			m["code"] != "version_conflict" {
			t.Errorf("stale close: %d %v", st, m)
		}
		st, m, _ = sthjj.do("POST", path+"/close", map[string]any{"version": 2})
		if errs, _ := m["errors"].([]any); st != 422 || len(errs) != 1 || errs[0].(map[string]any)["field"] != "note" {
			t.Errorf("close without a note: %d %v", st, m)
		}
		if st, m, _ := sthjj.do("POST", path+"/close", map[string]any{"note": "x"}); st != 422 {
			t.Errorf("close without a version: %d %v", st, m)
		}
		st, m, _ = sthjj.do("POST", path+"/close", map[string]any{"version": 2, "note": "核实为计量误差，已督促整改"})
		if st != 200 || m["status"] != "closed" || m["version"] != 3.0 {
			t.Fatalf("close: %d %v", st, m)
		}
		if st, m, _ := gen.do("POST", path+"/acknowledge", map[string]any{"version": 3}); st != 409 || m["code"] != "alert_closed" {
			t.Errorf("acknowledge a closed alert: %d %v", st, m)
		}
		if got := ids(gen, "&status=closed"); !slices.Contains(got, transfer) {
			t.Errorf("closed alerts for gen: %v", got)
		}
		if got := ids(gen, "&status=open"); slices.Contains(got, transfer) {
			t.Errorf("open alerts for gen include the closed one")
		}
		// The raise and the handling are on record, each under its actor.
		var rows []struct {
			Action string `db:"action"`
			Actor  string `db:"actor_username"`
		}
		if err := store.Select(context.Background(), db.Reader(), &rows, `SELECT action, actor_username FROM audit_entries
			WHERE entity = 'alert' AND entity_id = ? ORDER BY seq`, transfer); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(rows); got != "[{alert.raise system} {alert.acknowledge gen} {alert.close sthjj}]" {
			t.Errorf("audit entries %s", got)
		}

		// Settings: anyone signed in reads them, the administrator changes them.
		if st, _, _ := anon.do("GET", "/api/v1/settings", nil); st != 401 {
			t.Errorf("settings without a token: %d", st)
		}
		st, rules, _ := gen.do("GET", "/api/v1/settings", nil)
		if st != 200 || rules["receipt_working_days"] != 5.0 || rules["plan_check"] != "warn" || rules["discrepancy_percent"] != 5.0 {
			t.Fatalf("settings: %d %v", st, rules)
		}
		rules["receipt_working_days"] = 4
		if st, m, _ := gen.do("PUT", "/api/v1/settings", rules); st != 403 {
			t.Errorf("gen changes settings: %d %v", st, m)
		}
		if st, m, _ := sthjj.do("PUT", "/api/v1/settings", rules); st != 403 {
			t.Errorf("a regulator changes settings: %d %v", st, m)
		}
		if st, m, _ := admin.do("PUT", "/api/v1/settings", rules); st != 200 || m["receipt_working_days"] != 4.0 {
			t.Errorf("admin changes settings: %d %v", st, m)
		}
		if _, m, _ := gen.do("GET", "/api/v1/settings", nil); m["receipt_working_days"] != 4.0 {
			t.Errorf("after the change: %v", m)
		}
		rules["plan_check"] = "ignore"
		st, m, _ = admin.do("PUT", "/api/v1/settings", rules)
		if errs, _ := m["errors"].([]any); st != 422 || len(errs) != 1 || errs[0].(map[string]any)["field"] != "plan_check" ||
			errs[0].(map[string]any)["code"] != "plan_check_unknown" {
			t.Errorf("bad plan_check: %d %v", st, m)
		}
		if st, m, _ := admin.do("PUT", "/api/v1/settings", map[string]any{"receipt_working_days": 5}); st != 422 {
			t.Errorf("partial settings: %d %v", st, m)
		}

		// The working-day calendar.
		st, cal, _ := gen.do("GET", "/api/v1/calendar?year=2026", nil)
		if st != 200 || cal["year"] != 2026.0 {
			t.Fatalf("calendar: %d %v", st, cal)
		}
		days := map[string]map[string]any{}
		for _, d := range list(cal) {
			days[d["day"].(string)] = d
		}
		if d := days["2026-02-16"]; d == nil || d["working"] != false || d["source"] != "builtin" || d["name"] != "春节" {
			t.Errorf("2026-02-16: %v", d)
		}
		if d := days["2026-02-14"]; d == nil || d["working"] != true {
			t.Errorf("2026-02-14: %v", d)
		}
		if st, _, _ := gen.do("GET", "/api/v1/calendar", nil); st != 200 {
			t.Errorf("calendar of this year: %d", st)
		}
		if st, _, _ := gen.do("GET", "/api/v1/calendar?year=1999", nil); st != 422 {
			t.Errorf("calendar of 1999: %d", st)
		}
		if st, m, _ := gen.do("PUT", "/api/v1/calendar/2026-03-09", map[string]any{"working": false}); st != 403 {
			t.Errorf("gen sets a day: %d %v", st, m)
		}
		st, m, _ = admin.do("PUT", "/api/v1/calendar/2026-03-09", map[string]any{"working": false, "note": "地方停工"})
		if st != 200 || m["working"] != false || m["source"] != "override" || m["note"] != "地方停工" {
			t.Fatalf("admin sets a day: %d %v", st, m)
		}
		_, cal, _ = sthjj.do("GET", "/api/v1/calendar?year=2026", nil)
		found := false
		for _, d := range list(cal) {
			found = found || (d["day"] == "2026-03-09" && d["source"] == "override")
		}
		if !found {
			t.Error("the override is not listed")
		}
		st, m, _ = admin.do("PUT", "/api/v1/calendar/2026-3-9", map[string]any{"working": false})
		if errs, _ := m["errors"].([]any); st != 422 || len(errs) != 1 || errs[0].(map[string]any)["field"] != "day" {
			t.Errorf("bad day: %d %v", st, m)
		}
		if st, m, _ := admin.do("DELETE", "/api/v1/calendar/2026-03-09", nil); st != 204 {
			t.Errorf("clear: %d %v", st, m)
		}
		if st, m, _ := admin.do("DELETE", "/api/v1/calendar/2026-03-09", nil); st != 404 {
			t.Errorf("clear again: %d %v", st, m)
		}
	})
}

// TestServeRunsRules checks that serve runs the time-based rules in the
// background and stops them on shutdown.
func TestServeRunsRules(t *testing.T) {
	db, _ := storetest.SQLite(t)
	app, err := server.New(context.Background(), db, server.Config{Demo: true, DemoUnits: 5, Version: "test",
		KeyFile: filepath.Join(t.TempDir(), "audit.key")})
	if err != nil {
		t.Fatal(err)
	}
	if rules := app.Jobs.Rules(); len(rules) == 0 {
		t.Fatal("no scheduled rules")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, server.Config{Addr: "127.0.0.1:0"}, nil) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		if err := store.Get(context.Background(), db.Reader(), &n,
			`SELECT count(*) FROM job_leases WHERE last_run_at IS NOT NULL`); err != nil {
			t.Fatal(err)
		}
		if n == len(app.Jobs.Rules()) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d rules ran", n, len(app.Jobs.Rules()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	for name, st := range app.Jobs.Stats() {
		if st.Runs != 1 {
			t.Errorf("%s ran %d times, want once at start-up", name, st.Runs)
		}
		if st.Errors != 0 {
			t.Errorf("%s failed: %s", name, st.LastError)
		}
	}
}
