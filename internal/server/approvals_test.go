package server_test

import (
	"context"
	"testing"

	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// TestApprovals walks cross-province approvals and whitelist routes over
// HTTP with the demo log-ins: the city regulator registers a receiver in
// Jiangsu and records an approval for gen; the parties read it, others do
// not see it.
func TestApprovals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		anon := newServer(t, db)
		ctx := context.Background()
		// Units outside Anhui are registered under their province.
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			_, err := store.Exec(ctx, tx, `INSERT INTO regions (code, name, level, parent_code, local)
				VALUES ('320000', '江苏省', 'province', NULL, ?) ON CONFLICT (code) DO NOTHING`, false)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		gen, gen2, sthjj, xsq, disposer := anon.login("gen"), anon.login("gen2"), anon.login("sthjj"), anon.login("xsq"),
			anon.login("disposer")
		unitOf := func(c client) string {
			_, me, _ := c.do("GET", "/api/v1/me", nil)
			return me["unit_id"].(string)
		}
		genUnit, disposerUnit := unitOf(gen), unitOf(disposer)
		register := func(body string, name string, role string) string {
			t.Helper()
			st, u, _ := sthjj.do("POST", "/api/v1/units", map[string]any{"uscc": registry.MakeUSCC("91", "320000", body),
				"name": name, "roles": []string{role}, "region_code": "320000", "address": "江苏省南京市江北新区"})
			if st != 201 {
				t.Fatalf("register %s: %d %v", name, st, u)
			}
			return u["id"].(string)
		}
		receiver := register("MA1JK001", "江苏金陵再生资源有限公司", "utiliser")
		jsGen := register("MA1JK002", "江苏扬子化工有限公司", "generator")

		approvalBody := map[string]any{"number": "皖环函〔2026〕88号", "consignor_unit_id": genUnit, "receiver_unit_id": receiver,
			"method": "R9", "issuer": "安徽省生态环境厅", "valid_from": "2026-03-08", "valid_to": "2027-03-07",
			"items": []map[string]any{{"waste_code": "900-249-08", "quantity_t": 50}}}
		st, a, _ := sthjj.do("POST", "/api/v1/approvals", approvalBody)
		if st != 201 {
			t.Fatalf("create approval: %d %v", st, a)
		}
		id := a["id"].(string)
		items := a["items"].([]any)
		item := items[0].(map[string]any)
		if a["from_province"] != "34" || a["to_province"] != "32" || a["status"] != "valid" || a["version"] != 1.0 ||
			a["region_code"] != "340621" || len(items) != 1 || item["category"] != "HW08" || item["quantity_t"] != 50.0 ||
			item["used_t"] != 0.0 || item["left_t"] != 50.0 {
			t.Fatalf("approval %v", a)
		}

		t.Run("the parties and the regulators read it; others get 404", func(t *testing.T) {
			if st, got, _ := gen.do("GET", "/api/v1/approvals/"+id, nil); st != 200 || got["number"] != "皖环函〔2026〕88号" {
				t.Fatalf("gen reads: %d %v", st, got)
			}
			for name, c := range map[string]client{"gen2": gen2, "xsq": xsq, "disposer": disposer} {
				if st, got, _ := c.do("GET", "/api/v1/approvals/"+id, nil); st != 404 || got["code"] != "approval_not_found" {
					t.Fatalf("%s reads: %d %v", name, st, got)
				}
			}
			if st, got, _ := gen.do("GET", "/api/v1/approvals?waste_code=900-249-08&valid_on=2026-12-01", nil); st != 200 ||
				len(list(got)) != 1 || list(got)[0]["id"] != id {
				t.Fatalf("gen lists: %d %v", st, got)
			}
			if st, got, _ := gen2.do("GET", "/api/v1/approvals", nil); st != 200 || len(list(got)) != 0 {
				t.Fatalf("gen2 lists: %d %v", st, got)
			}
			if st, _, _ := anon.do("GET", "/api/v1/approvals/"+id, nil); st != 401 {
				t.Fatalf("anonymous: %d", st)
			}
		})

		t.Run("only regulators record and change", func(t *testing.T) {
			if st, got, _ := gen.do("PATCH", "/api/v1/approvals/"+id, map[string]any{"version": 1, "status": "suspended"}); st != 403 {
				t.Fatalf("gen patches: %d %v", st, got)
			}
			body := map[string]any{}
			for k, v := range approvalBody {
				body[k] = v
			}
			body["number"] = "皖环函〔2026〕89号"
			if st, got, _ := gen.do("POST", "/api/v1/approvals", body); st != 403 {
				t.Fatalf("gen creates: %d %v", st, got)
			}
			if st, got, _ := xsq.do("POST", "/api/v1/approvals", body); st != 403 {
				t.Fatalf("xsq creates for a unit outside its region: %d %v", st, got)
			}
			st, got, _ := sthjj.do("PATCH", "/api/v1/approvals/"+id, map[string]any{"version": 1, "status": "suspended",
				"note": "待核查"})
			if st != 200 || got["status"] != "suspended" || got["version"] != 2.0 {
				t.Fatalf("suspend: %d %v", st, got)
			}
			if st, got, _ := sthjj.do("PATCH", "/api/v1/approvals/"+id, map[string]any{"version": 1, "status": "valid"}); st != 409 ||
				got["code"] != "version_conflict" {
				t.Fatalf("stale version: %d %v", st, got)
			}
		})

		t.Run("rule breaches name the field", func(t *testing.T) {
			field := func(m map[string]any) (string, string) {
				es, _ := m["errors"].([]any)
				if len(es) != 1 {
					return "", ""
				}
				e := es[0].(map[string]any)
				return e["field"].(string), e["code"].(string)
			}
			body := map[string]any{}
			for k, v := range approvalBody {
				body[k] = v
			}
			body["number"], body["valid_to"] = "皖环函〔2026〕90号", "2027-03-08"
			st, got, _ := sthjj.do("POST", "/api/v1/approvals", body)
			if f, c := field(got); st != 422 || f != "valid_to" || c != "validity_too_long" {
				t.Fatalf("13 months: %d %v", st, got)
			}
			// Inbound to Anhui for incineration is refused.
			body = map[string]any{"number": "苏环函〔2026〕7号", "consignor_unit_id": jsGen, "receiver_unit_id": disposerUnit,
				"method": "D10", "valid_from": "2026-03-08", "valid_to": "2026-12-31",
				"items": []map[string]any{{"waste_code": "900-041-49", "quantity_t": 10}}}
			st, got, _ = sthjj.do("POST", "/api/v1/approvals", body)
			if f, c := field(got); st != 422 || f != "method" || c != "inbound_method_refused" {
				t.Fatalf("inbound incineration: %d %v", st, got)
			}
			// For utilisation it is allowed within 30 % of the 20,000 t licence.
			body["method"], body["items"] = "R9", []map[string]any{{"waste_code": "900-249-08", "quantity_t": 6000.5}}
			st, got, _ = sthjj.do("POST", "/api/v1/approvals", body)
			if f, c := field(got); st != 422 || f != "items" || c != "inbound_cap_exceeded" {
				t.Fatalf("inbound over the cap: %d %v", st, got)
			}
			body["items"] = []map[string]any{{"waste_code": "900-249-08", "quantity_t": 6000}}
			if st, got, _ := sthjj.do("POST", "/api/v1/approvals", body); st != 201 || got["to_province"] != "34" {
				t.Fatalf("inbound within the cap: %d %v", st, got)
			}
			if st, got, _ := disposer.do("GET", "/api/v1/approvals?receiver_unit_id="+disposerUnit, nil); st != 200 ||
				len(list(got)) != 1 {
				t.Fatalf("disposer lists its inbound approval: %d %v", st, got)
			}
		})

		t.Run("whitelist routes", func(t *testing.T) {
			st, rt, _ := sthjj.do("POST", "/api/v1/whitelist", map[string]any{"reference": "长三角危险废物跨省转移白名单（2026）",
				"consignor_unit_id": genUnit, "receiver_unit_id": receiver, "waste_codes": []string{"900-249-08", "900-214-08"},
				"valid_from": "2026-01-01", "valid_to": "2027-12-31"})
			if st != 201 || rt["from_province"] != "34" || rt["to_province"] != "32" || len(rt["waste_codes"].([]any)) != 2 {
				t.Fatalf("create route: %d %v", st, rt)
			}
			rid := rt["id"].(string)
			if st, got, _ := gen.do("GET", "/api/v1/whitelist/"+rid, nil); st != 200 || got["status"] != "valid" {
				t.Fatalf("gen reads the route: %d %v", st, got)
			}
			if st, got, _ := gen2.do("GET", "/api/v1/whitelist/"+rid, nil); st != 404 || got["code"] != "route_not_found" {
				t.Fatalf("gen2 reads the route: %d %v", st, got)
			}
			if st, got, _ := gen.do("GET", "/api/v1/whitelist?waste_code=900-214-08", nil); st != 200 || len(list(got)) != 1 {
				t.Fatalf("gen lists routes: %d %v", st, got)
			}
			if st, got, _ := gen.do("PATCH", "/api/v1/whitelist/"+rid, map[string]any{"version": 1, "status": "revoked"}); st != 403 {
				t.Fatalf("gen revokes: %d %v", st, got)
			}
			st, got, _ := sthjj.do("PATCH", "/api/v1/whitelist/"+rid, map[string]any{"version": 1, "valid_to": "2026-12-31"})
			if st != 200 || got["valid_to"] != "2026-12-31" || got["version"] != 2.0 {
				t.Fatalf("sthjj shortens the route: %d %v", st, got)
			}
		})
	})
}
