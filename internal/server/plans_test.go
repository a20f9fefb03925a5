package server_test

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// TestPlans walks a management plan through the API as the demo users:
// gen files it, the regulators read and return it, others cannot see it;
// then gen's declaration schedule and one declaration.
func TestPlans(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		anon := newServer(t, db)
		gen, gen2, sthjj, xsq, disposer := anon.login("gen"), anon.login("gen2"), anon.login("sthjj"), anon.login("xsq"),
			anon.login("disposer")
		unitOf := func(c client) string {
			_, me, _ := c.do("GET", "/api/v1/me", nil)
			return me["unit_id"].(string)
		}
		genUnit, disposerUnit := unitOf(gen), unitOf(disposer)
		cst := time.FixedZone("CST", 8*3600)
		now := time.Now().In(cst)
		y := now.Year()

		st, p, _ := gen.do("POST", "/api/v1/plans", map[string]any{"year": y, "generation": []map[string]any{
			{"waste_code": "900-249-08", "name": "废矿物油", "form": "L", "planned_t": 120, "last_year_t": 98.5, "source": "设备检修"}}})
		if st != 201 || p["status"] != "draft" || p["filing_number"] != nil || p["unit_id"] != genUnit {
			t.Fatalf("create: %d %v", st, p)
		}
		id := p["id"].(string)
		if fs := p["facilities"].([]any); len(fs) != 3 {
			t.Fatalf("facility snapshot: %v", fs)
		}
		if st, m, _ := gen.do("POST", "/api/v1/plans", map[string]any{"year": y}); st != 409 || m["code"] != "plan_exists" {
			t.Fatalf("second plan: %d %v", st, m)
		}

		// Fill it in; a bad line names its field.
		st, m, _ := gen.do("PATCH", "/api/v1/plans/"+id, map[string]any{"version": p["version"], "generation": []map[string]any{
			{"waste_code": "900-249-09", "form": "L", "planned_t": 1}}})
		if st != 422 || m["code"] != "validation_failed" || m["errors"].([]any)[0].(map[string]any)["field"] != "generation[0].waste_code" {
			t.Fatalf("bad code: %d %v", st, m)
		}
		st, p, _ = gen.do("PATCH", "/api/v1/plans/"+id, map[string]any{"version": p["version"],
			"storage":            []map[string]any{{"facility_code": "ZC001", "capacity_t": 300}},
			"transfers":          []map[string]any{{"waste_code": "900-249-08", "receiver_unit_id": disposerUnit, "method": "R9", "planned_t": 110}},
			"reduction_measures": "焦炉煤气净化工段油水分离改造，废矿物油减量 10%"})
		if st != 200 || p["version"].(float64) != 2 || len(p["transfers"].([]any)) != 1 || len(p["generation"].([]any)) != 1 {
			t.Fatalf("fill: %d %v", st, p)
		}
		if st, m, _ := gen.do("PATCH", "/api/v1/plans/"+id, map[string]any{"version": 1}); st != 409 || m["code"] != "version_conflict" {
			t.Fatalf("stale patch: %d %v", st, m)
		}

		// Submitted and filed with a number.
		st, p, _ = gen.do("POST", "/api/v1/plans/"+id+"/submit", nil)
		number, _ := p["filing_number"].(string)
		if st != 200 || p["status"] != "filed" || !regexp.MustCompile(fmt.Sprintf(`^HWGL%d3406\d{5}$`, y)).MatchString(number) ||
			p["class"] != "key" {
			t.Fatalf("submit: %d %v", st, p)
		}
		if st, m, _ := gen.do("POST", "/api/v1/plans/"+id+"/submit", nil); st != 409 || m["code"] != "wrong_status" {
			t.Fatalf("submit again: %d %v", st, m)
		}
		if st, m, _ := gen.do("PATCH", "/api/v1/plans/"+id, map[string]any{"version": p["version"]}); st != 409 {
			t.Fatalf("patch a filed plan: %d %v", st, m)
		}
		// Filed after the deadline: late, with an alert for the unit and the regulators.
		if due, _ := time.Parse(time.RFC3339, p["due_at"].(string)); time.Now().After(due) {
			if p["late"] != true {
				t.Fatalf("late plan not marked: %v", p)
			}
			for _, c := range []client{gen, sthjj} {
				if st, m, _ := c.do("GET", "/api/v1/alerts?kind=plan_late", nil); st != 200 || len(list(m)) != 1 {
					t.Fatalf("plan_late for %v: %d %v", c.token[:4], st, m)
				}
			}
		}

		// Who sees it.
		if st, _, _ := xsq.do("GET", "/api/v1/plans/"+id, nil); st != 404 {
			t.Fatalf("xsq reads gen's plan: %d", st)
		}
		if st, _, _ := gen2.do("GET", "/api/v1/plans/"+id, nil); st != 404 {
			t.Fatalf("gen2 reads gen's plan: %d", st)
		}
		if st, m, _ := sthjj.do("GET", "/api/v1/plans/"+id, nil); st != 200 || m["filing_number"] != number {
			t.Fatalf("sthjj reads: %d %v", st, m)
		}
		if st, m, _ := gen2.do("GET", "/api/v1/plans", nil); st != 200 || len(list(m)) != 0 {
			t.Fatalf("gen2's list: %d %v", st, m)
		}
		if st, m, _ := sthjj.do("GET", fmt.Sprintf("/api/v1/plans?year=%d&status=filed", y), nil); st != 200 || len(list(m)) != 1 ||
			list(m)[0]["unit_name"] == "" {
			t.Fatalf("sthjj's list: %d %v", st, m)
		}

		// The class and why.
		st, m, _ = gen.do("GET", fmt.Sprintf("/api/v1/units/%s/class?year=%d", genUnit, y), nil)
		if st != 200 || m["class"] != "key" || fmt.Sprint(m["reason_codes"]) != "[planned_generation]" {
			t.Fatalf("class: %d %v", st, m)
		}
		if st, _, _ := gen2.do("GET", "/api/v1/units/"+genUnit+"/class", nil); st != 404 {
			t.Fatalf("gen2 reads gen's class: %d", st)
		}

		// Returned by the regulator, not by the unit; the number stays.
		if st, m, _ := gen.do("POST", "/api/v1/plans/"+id+"/return", map[string]any{"reason": "自行退回"}); st != 403 {
			t.Fatalf("gen returns: %d %v", st, m)
		}
		if st, _, _ := xsq.do("POST", "/api/v1/plans/"+id+"/return", map[string]any{"reason": "越权"}); st != 404 {
			t.Fatalf("xsq returns: %d", st)
		}
		if st, m, _ := sthjj.do("POST", "/api/v1/plans/"+id+"/return", map[string]any{}); st != 422 {
			t.Fatalf("return without a reason: %d %v", st, m)
		}
		st, p, _ = sthjj.do("POST", "/api/v1/plans/"+id+"/return", map[string]any{"reason": "贮存设施能力与登记不符，请核实"})
		if st != 200 || p["status"] != "returned" || p["filing_number"] != number || p["return_reason"] == "" {
			t.Fatalf("return: %d %v", st, p)
		}
		st, p, _ = gen.do("POST", "/api/v1/plans/"+id+"/submit", map[string]any{"version": p["version"]})
		if st != 200 || p["status"] != "filed" || p["filing_number"] != number {
			t.Fatalf("resubmit: %d %v", st, p)
		}

		// Declarations: a key unit owes twelve months and the year.
		st, m, _ = gen.do("GET", fmt.Sprintf("/api/v1/declarations?year=%d", y), nil)
		if st != 200 || m["class"] != "key" || len(list(m)) != 13 {
			t.Fatalf("schedule: %d %v", st, m)
		}
		for _, it := range list(m) {
			if it["due_date"] == "" || it["status"] == "" {
				t.Fatalf("period without due date or status: %v", it)
			}
		}
		if st, _, _ := gen2.do("GET", "/api/v1/declarations?unit_id="+genUnit, nil); st != 404 {
			t.Fatalf("gen2 reads gen's schedule: %d", st)
		}
		if st, m, _ := sthjj.do("GET", "/api/v1/declarations?unit_id="+genUnit, nil); st != 200 || m["unit_id"] != genUnit {
			t.Fatalf("sthjj reads gen's schedule: %d %v", st, m)
		}
		last := fmt.Sprint(y - 1)
		if st, m, _ := gen.do("POST", "/api/v1/declarations", map[string]any{"period": "2026-13"}); st != 422 ||
			m["errors"].([]any)[0].(map[string]any)["field"] != "period" {
			t.Fatalf("bad period: %d %v", st, m)
		}
		if st, m, _ := sthjj.do("POST", "/api/v1/declarations", map[string]any{"period": last, "unit_id": genUnit}); st != 403 {
			t.Fatalf("sthjj compiles: %d %v", st, m)
		}
		st, d, _ := gen.do("POST", "/api/v1/declarations", map[string]any{"period": last})
		if st != 201 || d["status"] != "draft" || d["kind"] != "yearly" || d["due_date"] != fmt.Sprintf("%d-03-31", y) {
			t.Fatalf("compile: %d %v", st, d)
		}
		st, d, _ = gen.do("POST", "/api/v1/declarations/"+d["id"].(string)+"/submit", nil)
		if st != 200 || d["status"] != "submitted" || d["submitted_at"] == nil {
			t.Fatalf("submit declaration: %d %v", st, d)
		}
		if st, _, _ := xsq.do("GET", "/api/v1/declarations/"+d["id"].(string), nil); st != 404 {
			t.Fatalf("xsq reads gen's declaration: %d", st)
		}

		// The rules are settings an administrator changes.
		admin := anon.login("admin")
		st, r, _ := admin.do("GET", "/api/v1/settings/plans", nil)
		if st != 200 || r["plan_deadline"] != "03-31" || r["class_key_threshold_t"].(float64) != 100 {
			t.Fatalf("settings: %d %v", st, r)
		}
		r["declaration_monthly_due_day"] = 10
		if st, m, _ := gen.do("PUT", "/api/v1/settings/plans", r); st != 403 {
			t.Fatalf("gen changes settings: %d %v", st, m)
		}
		if st, m, _ := admin.do("PUT", "/api/v1/settings/plans", r); st != 200 || m["declaration_monthly_due_day"].(float64) != 10 {
			t.Fatalf("admin changes settings: %d %v", st, m)
		}
	})
}
