package server_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// fetch gets a page or image as the client, without expecting JSON.
func (c client) fetch(path string) (int, string, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Content-Type"), b
}

func TestContainersAndLedgerHTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		anon := newServer(t, db)
		gen, gen2, sthjj := anon.login("gen"), anon.login("gen2"), anon.login("sthjj")

		st, m, _ := gen.do("POST", "/api/v1/containers", map[string]any{"waste_code": "900-249-08", "name": "废矿物油", "form": "L",
			"packaging": "铁桶", "volume_l": 200, "count": 2, "quantity_t": 0.4, "facility_code": "SC001", "handler": "王建国",
			"components": "矿物油", "precautions": "远离火源"})
		if st != 201 {
			t.Fatalf("generate: %d %v", st, m)
		}
		made := list(m)
		rec, _ := m["record"].(map[string]any)
		if len(made) != 2 || rec == nil || !strings.HasPrefix(rec["batch_code"].(string), "CS") || rec["quantity_t"] != 0.4 {
			t.Fatalf("generated %v", m)
		}
		id := made[0]["digital_id"].(string)
		if len(id) != 37 || made[0]["status"] != "generated" || made[0]["quantity_t"] != 0.2 {
			t.Fatalf("container %v", made[0])
		}
		// Without a count the endpoint still makes one container.
		if st, m, _ := gen.do("POST", "/api/v1/containers", map[string]any{"waste_code": "900-041-49", "form": "S",
			"packaging": "吨袋", "volume_l": 1000, "quantity_t": 0.5}); st != 201 || len(list(m)) != 1 ||
			list(m)[0]["label_mm"] != 200.0 || list(m)[0]["labels"] != 2.0 {
			t.Fatalf("one container: %d %v", st, m)
		}

		t.Run("the unit lists its containers with their digital ids", func(t *testing.T) {
			st, m, _ := gen.do("GET", "/api/v1/containers?waste_code=900-249-08&status=generated&limit=1", nil)
			if st != 200 || len(list(m)) != 1 || m["next"] == nil {
				t.Fatalf("page one: %d %v", st, m)
			}
			_, m2, _ := gen.do("GET", "/api/v1/containers?waste_code=900-249-08&limit=1&cursor="+m["next"].(string), nil)
			got := []string{list(m)[0]["digital_id"].(string), list(m2)[0]["digital_id"].(string)}
			if got[0] == got[1] || (got[0] != id && got[1] != id) {
				t.Fatalf("pages %v, want both of %v", got, made)
			}
			if st, m, _ := gen.do("GET", "/api/v1/containers?status=lost", nil); st != 422 || m["code"] != "validation_failed" {
				t.Fatalf("bad status filter: %d %v", st, m)
			}
		})

		t.Run("labels are images", func(t *testing.T) {
			st, ct, b := gen.fetch("/api/v1/containers/" + id + "/label.svg")
			if st != 200 || ct != "image/svg+xml" || !bytes.Contains(b, []byte("<svg")) || !bytes.Contains(b, []byte("危险废物")) ||
				!bytes.Contains(b, []byte(id)) {
				t.Fatalf("svg: %d %q %.200s", st, ct, b)
			}
			st, ct, b = gen.fetch("/api/v1/containers/" + id + "/label.png")
			if st != 200 || ct != "image/png" || !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
				t.Fatalf("png: %d %q %d bytes", st, ct, len(b))
			}
			if st, _, _ := anon.fetch("/api/v1/containers/" + id + "/label.png"); st != 401 {
				t.Fatalf("label without log-in: %d", st)
			}
		})

		t.Run("the QR page is public", func(t *testing.T) {
			st, ct, b := anon.fetch("/l/" + id)
			page := string(b)
			if st != 200 || !strings.HasPrefix(ct, "text/html") {
				t.Fatalf("/l/: %d %q", st, ct)
			}
			for _, want := range []string{id, "危险废物标签", "淮北濉溪临涣煤化有限公司", "濉溪县", "900-249-08", "液态", "易燃性", "远离火源", "已产生"} {
				if !strings.Contains(page, want) {
					t.Errorf("/l/ lacks %q", want)
				}
			}
			if strings.Contains(page, "label.svg") {
				t.Error("an anonymous visitor is offered the label downloads")
			}
			if st, _, b := gen.fetch("/l/" + id); st != 200 || !strings.Contains(string(b), "/label.svg") {
				t.Fatalf("the owner's /l/ page: %d", st)
			}
			if st, _, _ := anon.fetch("/l/" + id[:36] + "9"); st != 404 {
				t.Fatalf("unknown id: %d", st)
			}
		})

		t.Run("another unit cannot read them", func(t *testing.T) {
			_, m, _ := gen2.do("GET", "/api/v1/containers", nil)
			for _, c := range list(m) {
				if c["digital_id"] == id {
					t.Fatal("gen2 lists gen's container")
				}
			}
			for _, path := range []string{"/api/v1/containers/" + id, "/api/v1/containers/" + id + "/label.svg"} {
				if st, m, _ := gen2.do("GET", path, nil); st != 404 || m["code"] != "container_not_found" {
					t.Fatalf("gen2 %s: %d %v", path, st, m)
				}
			}
			if st, _, _ := gen2.fetch("/labels/sheet?ids=" + id); st != 404 {
				t.Fatalf("gen2 prints gen's label: %d", st)
			}
			st, m, _ := sthjj.do("GET", "/api/v1/containers/"+id, nil)
			if st != 200 || m["unit_name"] != "淮北濉溪临涣煤化有限公司" || m["digital_id"] != id {
				t.Fatalf("the city regulator: %d %v", st, m)
			}
		})

		t.Run("the ledger over the API", func(t *testing.T) {
			st, m, _ := gen.do("POST", "/api/v1/ledger", map[string]any{"kind": "storage_in", "container_ids": []string{id},
				"facility_code": "ZC001", "handler": "李四"})
			if st != 201 || m["kind"] != "storage_in" || m["prev_batch"] != rec["batch_code"] || m["quantity_t"] != 0.2 {
				t.Fatalf("storage in: %d %v", st, m)
			}
			rk := m
			if st, m, _ := gen.do("POST", "/api/v1/ledger", map[string]any{"kind": "storage_in", "container_ids": []string{id},
				"facility_code": "ZC001"}); st != 422 || m["errors"].([]any)[0].(map[string]any)["field"] != "container_ids[0]" {
				t.Fatalf("stored twice: %d %v", st, m)
			}
			if st, m, _ := sthjj.do("POST", "/api/v1/ledger", map[string]any{"kind": "generation", "waste_code": "900-249-08",
				"form": "L", "quantity_t": 1}); st != 403 || m["code"] != "ledger_forbidden" {
				t.Fatalf("a regulator writes a ledger: %d %v", st, m)
			}
			st, m, _ = gen.do("GET", "/api/v1/ledger?kind=storage_in&from=2000-01-01&to=2999-12-31", nil)
			if st != 200 || len(list(m)) != 1 || list(m)[0]["batch_code"] != rk["batch_code"] {
				t.Fatalf("list: %d %v", st, m)
			}
			if st, m, _ := gen.do("GET", "/api/v1/ledger?from=2026-13-01", nil); st != 422 {
				t.Fatalf("bad date: %d %v", st, m)
			}
			st, m, _ = gen.do("GET", "/api/v1/ledger/stock", nil)
			if st != 200 {
				t.Fatalf("stock: %d %v", st, m)
			}
			var zc float64 = -1
			for _, f := range list(m) {
				if f["facility_code"] == "ZC001" {
					zc = f["quantity_t"].(float64)
				}
			}
			if zc != 0.2 {
				t.Fatalf("stock %v", m)
			}
			st, m, _ = gen.do("POST", "/api/v1/ledger", map[string]any{"kind": "cancellation", "record_id": rk["id"], "reason": "入错库"})
			if st != 201 || m["kind"] != "cancellation" || m["corrects_id"] != rk["id"] {
				t.Fatalf("cancel: %d %v", st, m)
			}
			if st, m, _ := gen2.do("POST", "/api/v1/ledger", map[string]any{"kind": "cancellation", "record_id": rk["id"],
				"reason": "x"}); st != 404 {
				t.Fatalf("gen2 cancels gen's record: %d %v", st, m)
			}
		})

		t.Run("a printable sheet", func(t *testing.T) {
			big := ""
			_, m, _ := gen.do("GET", "/api/v1/containers?waste_code=900-041-49", nil)
			if items := list(m); len(items) == 1 {
				big = items[0]["digital_id"].(string)
			}
			st, ct, b := gen.fetch("/labels/sheet?ids=" + id + "," + big)
			page := string(b)
			if st != 200 || !strings.HasPrefix(ct, "text/html") || !strings.Contains(page, "@page") ||
				strings.Count(page, "<svg") != 3 || !strings.Contains(page, `width="150mm"`) || !strings.Contains(page, `width="200mm"`) {
				t.Fatalf("sheet: %d %q, %d labels\n%.500s", st, ct, strings.Count(page, "<svg"), page)
			}
		})
	})
}
