package server_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// TestManifestLifecycle walks a manifest from draft to completed as the
// three parties, over HTTP, with the checks the regulations ask for.
func TestManifestLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		anon := newServer(t, db)
		gen, gen2, sthjj, carrier, disposer := anon.login("gen"), anon.login("gen2"), anon.login("sthjj"),
			anon.login("carrier"), anon.login("disposer")
		unitOf := func(c client) string {
			_, me, _ := c.do("GET", "/api/v1/me", nil)
			return me["unit_id"].(string)
		}
		carrierUnit, disposerUnit := unitOf(carrier), unitOf(disposer)
		draft := func(code string, qt float64) map[string]any {
			return map[string]any{"carrier_unit_id": carrierUnit, "receiver_unit_id": disposerUnit, "vehicle_plate": "皖F3A721",
				"lines": []map[string]any{{"waste_code": code, "quantity_t": qt, "form": "L", "packaging": "桶", "package_count": 6}}}
		}
		step := func(c client, id, action string, body any, want int) map[string]any {
			t.Helper()
			st, m, _ := c.do("POST", "/api/v1/manifests/"+id+"/"+action, body)
			if st != want {
				t.Fatalf("%s: %d %v, want %d", action, st, m, want)
			}
			return m
		}

		st, m, _ := gen.do("POST", "/api/v1/manifests", draft("900-249-08", 1.2))
		year := time.Now().In(time.FixedZone("CST", 8*3600)).Year()
		if st != 201 || m["status"] != "draft" || !regexp.MustCompile(fmt.Sprintf(`^%d3406\d{6}$`, year)).MatchString(m["number"].(string)) {
			t.Fatalf("create: %d %v", st, m)
		}
		id, number := m["id"].(string), m["number"].(string)

		step(carrier, id, "pickup", nil, 404)  // a draft is the consignor's own
		step(disposer, id, "submit", nil, 404) // a draft is the consignor's own
		m = step(gen, id, "submit", nil, 200)
		if m["status"] != "submitted" {
			t.Fatalf("submit: %v", m)
		}
		step(disposer, id, "submit", nil, 403)
		step(gen, id, "pickup", nil, 403)
		step(disposer, id, "complete", map[string]any{"lines": []map[string]any{{"line_no": 1, "method": "R9"}}}, 409)
		if m = step(carrier, id, "pickup", nil, 200); m["status"] != "in_transit" || m["receipt_due_at"] == nil {
			t.Fatalf("pickup: %v", m)
		}
		m = step(disposer, id, "receive", map[string]any{"lines": []map[string]any{{"line_no": 1, "received_t": 1.19}}}, 200)
		if m["status"] != "received" {
			t.Fatalf("receive: %v", m)
		}
		step(disposer, id, "complete", map[string]any{"lines": []map[string]any{{"line_no": 1, "method": "R8"}}}, 422)
		if m = step(disposer, id, "complete", map[string]any{"lines": []map[string]any{{"line_no": 1, "method": "R9"}}}, 200); m["status"] != "completed" {
			t.Fatalf("complete: %v", m)
		}
		if st, l, _ := gen2.do("GET", "/api/v1/manifests", nil); st != 200 || l["items"] == nil || len(list(l)) != 0 {
			t.Fatalf("gen2's empty list: %d %v", st, l)
		}
		if st, _, _ := gen2.do("GET", "/api/v1/manifests/"+id, nil); st != 404 {
			t.Fatalf("gen2 reads the manifest: %d", st)
		}
		if st, got, _ := sthjj.do("GET", "/api/v1/manifests/"+number, nil); st != 200 || got["id"] != id || len(got["steps"].([]any)) != 5 {
			t.Fatalf("sthjj reads the manifest by number: %d %v", st, got)
		}

		t.Run("a signed manifest is corrected only by a revision all parties approve", func(t *testing.T) {
			if st, _, _ := gen.do("PATCH", "/api/v1/manifests/"+id, map[string]any{"version": 6}); st != 409 && st != 422 {
				t.Fatalf("patch a completed manifest: %d", st)
			}
			st, r, _ := disposer.do("POST", "/api/v1/manifests/"+id+"/revisions", map[string]any{"reason": "地磅复核",
				"changes": map[string]any{"lines": []map[string]any{{"line_no": 1, "received_t": 1.18, "accepted_t": 1.18, "refused_t": 0}}}})
			if st != 201 || r["status"] != "pending" || len(r["approvals"].([]any)) != 1 {
				t.Fatalf("request: %d %v", st, r)
			}
			rid := r["id"].(string)
			if st, _, _ := disposer.do("POST", "/api/v1/manifests/"+id+"/revisions/"+rid+"/approve", nil); st != 403 {
				t.Fatalf("the author approves its own request: %d", st)
			}
			if st, r, _ = gen.do("POST", "/api/v1/manifests/"+id+"/revisions/"+rid+"/approve", map[string]any{"comment": "同意"}); st != 200 || r["status"] != "approved" {
				t.Fatalf("approve: %d %v", st, r)
			}
			_, m, _ := sthjj.do("GET", "/api/v1/manifests/"+id, nil)
			line := m["lines"].([]any)[0].(map[string]any)
			steps := m["steps"].([]any)
			if line["received_t"] != 1.18 || steps[len(steps)-1].(map[string]any)["action"] != "revise" {
				t.Fatalf("after the revision: %v %v", line, steps[len(steps)-1])
			}
		})

		t.Run("a code outside the receiver's licence is refused at submission", func(t *testing.T) {
			_, m, _ := gen.do("POST", "/api/v1/manifests", draft("841-001-01", 0.5))
			st, p, _ := gen.do("POST", "/api/v1/manifests/"+m["id"].(string)+"/submit", nil)
			if st != 422 || !strings.Contains(fmt.Sprint(p["errors"]), "field:lines[0].waste_code") ||
				!strings.Contains(fmt.Sprint(p["errors"]), "licence_not_covering") {
				t.Fatalf("submit HW01 to the disposer: %d %v", st, p)
			}
		})

		t.Run("a weight discrepancy raises an alert for the consignor and the regulator", func(t *testing.T) {
			_, m, _ := gen.do("POST", "/api/v1/manifests", draft("900-249-08", 1.2))
			id := m["id"].(string)
			step(gen, id, "submit", nil, 200)
			step(carrier, id, "pickup", nil, 200)
			step(disposer, id, "receive", map[string]any{"lines": []map[string]any{{"line_no": 1, "received_t": 1.0}}}, 200)
			for _, c := range []client{gen, sthjj} {
				st, l, _ := c.do("GET", "/api/v1/alerts?kind=weight_discrepancy", nil)
				if st != 200 || !strings.Contains(fmt.Sprint(l["items"]), "subject_id:"+id) {
					t.Fatalf("alerts: %d %v", st, l)
				}
			}
			if _, l, _ := gen2.do("GET", "/api/v1/alerts?kind=weight_discrepancy", nil); strings.Contains(fmt.Sprint(l["items"]), id) {
				t.Fatal("gen2 sees gen's alert")
			}
		})

		t.Run("partial refusal", func(t *testing.T) {
			_, m, _ := gen.do("POST", "/api/v1/manifests", draft("900-249-08", 2))
			id := m["id"].(string)
			step(gen, id, "submit", nil, 200)
			step(carrier, id, "pickup", nil, 200)
			step(disposer, id, "receive", map[string]any{"lines": []map[string]any{{"line_no": 1, "received_t": 2, "refused_t": 0.5}}}, 422)
			m = step(disposer, id, "receive", map[string]any{"lines": []map[string]any{{"line_no": 1, "received_t": 2,
				"refused_t": 0.5, "reason": "含水率超标"}}}, 200)
			line := m["lines"].([]any)[0].(map[string]any)
			if line["accepted_t"] != 1.5 || line["refused_t"] != 0.5 {
				t.Fatalf("partial refusal: %v", line)
			}
		})

		t.Run("trace", func(t *testing.T) {
			st, tr, _ := sthjj.do("GET", "/api/v1/trace/"+number+"?proofs=true", nil)
			if st != 200 || len(tr["parties"].([]any)) < 3 {
				t.Fatalf("trace: %d %v", st, tr)
			}
			steps := tr["steps"].([]any)
			if len(steps) < 4 {
				t.Fatalf("trace has %d steps", len(steps))
			}
			var last string
			for _, s := range steps {
				s := s.(map[string]any)
				if s["audit_seq"].(float64) <= 0 || s["at"].(string) < last || s["proof"] == nil {
					t.Fatalf("trace step out of order or without audit: %v", s)
				}
				last = s["at"].(string)
			}
			if st, _, _ := gen2.do("GET", "/api/v1/trace/"+number, nil); st != 404 {
				t.Fatalf("gen2 traces gen's manifest: %d", st)
			}
		})

		t.Run("mass balance lists the gaps", func(t *testing.T) {
			genUnit := unitOf(gen)
			from := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
			to := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
			st, bal, _ := gen.do("GET", "/api/v1/units/"+genUnit+"/balance?from="+from+"&to="+to, nil)
			if st != 200 || len(list(bal)) != 1 {
				t.Fatalf("balance: %d %v", st, bal)
			}
			b := list(bal)[0]
			if b["waste_code"] != "900-249-08" || b["shipped_t"].(float64) < 1.2 || b["treated_t"] != 1.18 {
				t.Fatalf("balance figures: %v", b)
			}
			if !strings.Contains(fmt.Sprint(b["gaps"]), "transit_loss") || !strings.Contains(fmt.Sprint(b["gaps"]), "untreated") {
				t.Fatalf("balance gaps: %v", b["gaps"])
			}
			if st, _, _ := gen2.do("GET", "/api/v1/units/"+genUnit+"/balance?from="+from+"&to="+to, nil); st != 404 {
				t.Fatalf("gen2 reads gen's balance: %d", st)
			}
		})

		t.Run("matching", func(t *testing.T) {
			st, l, _ := gen.do("GET", "/api/v1/matching?waste_code=900-249-08&quantity_t=5", nil)
			if st != 200 || len(list(l)) == 0 || list(l)[0]["unit_id"] != disposerUnit {
				t.Fatalf("matching: %d %v", st, l)
			}
		})
	})
}
