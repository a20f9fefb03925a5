package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"wufei/internal/server"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// client calls the API as one demo user.
type client struct {
	t           *testing.T
	base, token string
}

func (c client) call(method, path string, body any, ctype string) (int, []byte, http.Header) {
	c.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		r, ctype = bytes.NewReader(j), "application/json"
	}
	req, _ := http.NewRequest(method, c.base+path, r)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 500 {
		c.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	return res.StatusCode, raw, res.Header
}

// json calls with a JSON body and reads a JSON answer; errors must be
// problem+json.
func (c client) json(method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	st, raw, h := c.call(method, path, body, "")
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		c.t.Fatalf("%s %s: %d %q", method, path, st, raw)
	}
	if st >= 400 && !strings.HasPrefix(h.Get("Content-Type"), "application/problem+json") {
		c.t.Errorf("%s %s: %d as %s", method, path, st, h.Get("Content-Type"))
	}
	return st, m
}

func (c client) login(user string) client {
	c.t.Helper()
	st, m := c.json("POST", "/api/v1/auth/login", map[string]string{"username": user, "password": "wufei-demo"})
	if st != 200 {
		c.t.Fatalf("login %s: %d %v", user, st, m)
	}
	c.token = m["token"].(string)
	return c
}

// fieldCode is a problem's first field and code, or its code.
func fieldCode(m map[string]any) string {
	if es, ok := m["errors"].([]any); ok && len(es) > 0 {
		e := es[0].(map[string]any)
		return fmt.Sprint(e["field"], ":", e["code"])
	}
	return fmt.Sprint(m["code"])
}

const xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// streamsServer is the platform with its demo accounts.
func streamsServer(t *testing.T, db *store.DB) client {
	app, err := server.New(context.Background(), db, server.Config{Demo: true, DemoUnits: 40, Version: "test",
		KeyFile: filepath.Join(t.TempDir(), "audit.key")})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(app.Handler)
	t.Cleanup(ts.Close)
	return client{t: t, base: ts.URL}
}

// reimport exports a kind's year and imports it back: nothing may change.
func reimport(c client, kind string, year, want int) {
	c.t.Helper()
	st, book, h := c.call("GET", fmt.Sprintf("/api/v1/export/%s.xlsx?year=%d", kind, year), nil, "")
	if st != 200 || !strings.Contains(h.Get("Content-Type"), "spreadsheet") {
		c.t.Fatalf("%s export: %d %s", kind, st, h.Get("Content-Type"))
	}
	st, raw, _ := c.call("POST", "/api/v1/import/"+kind, book, xlsx)
	var res map[string]any
	_ = json.Unmarshal(raw, &res)
	if st != 200 || res["unchanged"] != float64(want) || res["inserted"] != 0.0 || res["updated"] != 0.0 {
		c.t.Errorf("%s re-import: %d %s", kind, st, raw)
	}
}

func TestStreamsIndustryAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		anon := streamsServer(t, db)
		gen, gen2, xsq, sthjj := anon.login("gen"), anon.login("gen2"), anon.login("xsq"), anon.login("sthjj")

		if st, _ := anon.json("GET", "/api/v1/streams/gisw_ledger", nil); st != 401 {
			t.Errorf("anonymous list: %d", st)
		}
		row := map[string]any{"month": "2026-03", "category": "SW03", "generated_t": 120.5, "util_materials_t": 100,
			"closing_stock_t": 20.5}
		st, rec := gen.json("POST", "/api/v1/streams/gisw_ledger", row)
		if st != 201 || rec["unit_name"] != "淮北濉溪临涣煤化有限公司" || rec["generated_t"] != 120.5 || rec["region_code"] != "340621" {
			t.Fatalf("create: %d %v", st, rec)
		}
		id := rec["id"].(string)
		st, p := gen.json("POST", "/api/v1/streams/gisw_ledger", map[string]any{"month": "2026-3", "category": "SW03",
			"generated_t": "x"})
		if errs, _ := p["errors"].([]any); st != 422 || len(errs) < 2 {
			t.Errorf("invalid: %d %v", st, p)
		}
		// Another unit and another county's regulator do not see it; the city does.
		for _, c := range []client{gen2, xsq} {
			if st, _ := c.json("GET", "/api/v1/streams/gisw_ledger/"+id, nil); st != 404 {
				t.Errorf("foreign read: %d", st)
			}
			if st, _ := c.json("PATCH", "/api/v1/streams/gisw_ledger/"+id, map[string]any{"version": 1}); st != 404 {
				t.Errorf("foreign update: %d", st)
			}
		}
		if st, m := sthjj.json("GET", "/api/v1/streams/gisw_ledger?region=340621&year=2026", nil); st != 200 ||
			len(m["items"].([]any)) != 1 {
			t.Errorf("city list: %d %v", st, m)
		}
		// Updates carry the version read and name only what changes.
		patch := map[string]any{"version": 1, "disposed_t": 10, "closing_stock_t": 10.5}
		if st, m := gen.json("PATCH", "/api/v1/streams/gisw_ledger/"+id, patch); st != 200 || m["version"] != 2.0 ||
			m["generated_t"] != 120.5 || m["disposed_t"] != 10.0 {
			t.Errorf("update: %d %v", st, m)
		}
		if st, m := gen.json("PATCH", "/api/v1/streams/gisw_ledger/"+id, patch); st != 409 || m["code"] != "version_conflict" {
			t.Errorf("stale update: %d %v", st, m)
		}
		if st, m := gen.json("PATCH", "/api/v1/streams/gisw_ledger/"+id, map[string]any{"disposed_t": 1}); st != 422 ||
			fieldCode(m) != "version:required" {
			t.Errorf("update without a version: %d %v", st, m)
		}
		// The OpenAPI document describes each kind's fields, typed.
		_, raw, _ := anon.call("GET", "/openapi.json", nil, "")
		var doc struct {
			Paths map[string]map[string]struct {
				RequestBody struct {
					Content map[string]struct {
						Schema struct {
							Properties map[string]struct {
								Type string `json:"type"`
							} `json:"properties"`
						} `json:"schema"`
					} `json:"content"`
				} `json:"requestBody"`
			} `json:"paths"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		body := func(path, method, field string) string {
			return doc.Paths[path][method].RequestBody.Content["application/json"].Schema.Properties[field].Type
		}
		if body("/api/v1/streams/gisw_ledger", "post", "util_prior_t") != "number" ||
			body("/api/v1/streams/med_waste/{id}", "patch", "code") != "string" ||
			body("/api/v1/streams/recycling_point", "post", "counties") != "array" ||
			body("/api/v1/streams/straw_township/{id}", "patch", "year") != "integer" {
			t.Error("openapi lacks the stream kinds' typed fields")
		}
		// An export re-imports with no change.
		reimport(gen, "gisw_ledger", 2026, 1)
	})
}

func TestStreamsLivingAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		anon := streamsServer(t, db)
		sthjj, xsq, gen := anon.login("sthjj"), anon.login("xsq"), anon.login("gen")

		straw := map[string]any{"region_code": "340621", "township": "临涣镇", "year": 2025, "season": "秋季",
			"generated_t": 21000.5, "fertiliser_t": 15000, "feed_t": 3000, "fuel_t": 1500.25}
		st, rec := sthjj.json("POST", "/api/v1/streams/straw_township", straw)
		if st != 201 || rec["version"] != 1.0 || rec["generated_t"] != 21000.5 || rec["year"] != 2025.0 {
			t.Fatalf("create: %d %v", st, rec)
		}
		id := rec["id"].(string)
		if st, m := anon.json("GET", "/api/v1/streams/straw_township", nil); st != 401 {
			t.Errorf("anonymous list: %d %v", st, m)
		}
		if st, m := xsq.json("GET", "/api/v1/streams/straw_township/"+id, nil); st != 404 {
			t.Errorf("相山区 reads 濉溪县's record: %d %v", st, m)
		}
		straw["township"] = "韩村镇"
		if st, m := xsq.json("POST", "/api/v1/streams/straw_township", straw); st != 403 || m["code"] != "stream_forbidden" {
			t.Errorf("相山区 enters 濉溪县's record: %d %v", st, m)
		}
		straw["township"] = "临涣镇"
		if st, m := sthjj.json("POST", "/api/v1/streams/straw_township", straw); st != 409 || m["code"] != "record_exists" {
			t.Errorf("same key: %d %v", st, m)
		}
		bad := map[string]any{"region_code": "340621", "township": "渠沟镇", "year": 2025, "season": "秋季", "generated_t": -1}
		if st, m := sthjj.json("POST", "/api/v1/streams/straw_township", bad); st != 422 || len(m["errors"].([]any)) != 2 {
			t.Errorf("bad record: %d %v", st, m)
		}
		if st, m := sthjj.json("PATCH", "/api/v1/streams/straw_township/"+id, map[string]any{"version": 1, "generated_t": 22000}); st != 200 ||
			m["version"] != 2.0 || m["generated_t"] != 22000.0 || m["fuel_t"] != 1500.25 {
			t.Errorf("update: %d %v", st, m)
		}
		if st, m := sthjj.json("PATCH", "/api/v1/streams/straw_township/"+id, map[string]any{"version": 1, "generated_t": 23000}); st != 409 {
			t.Errorf("stale update: %d %v", st, m)
		}
		if st, m := gen.json("POST", "/api/v1/streams/straw_township", straw); st != 403 {
			t.Errorf("a unit enters straw: %d %v", st, m)
		}

		// A unit keeps its own ledger; the city sees it, 相山区 does not.
		film := map[string]any{"region_code": "340621", "recycler": "临涣煤化回收站", "year": 2025, "month": 6, "kind": "农膜",
			"used_t": 12.5, "recovered_t": 10.25, "stored_t": 1, "destination": "再生造粒"}
		st, rec = gen.json("POST", "/api/v1/streams/farm_recovery", film)
		if st != 201 || rec["unit_id"] == "" || rec["unit_uscc"] == "" {
			t.Fatalf("unit's own record: %d %v", st, rec)
		}
		for c, want := range map[*client]int{&gen: 1, &sthjj: 1, &xsq: 0} {
			if st, m := c.json("GET", "/api/v1/streams/farm_recovery?year=2025", nil); st != 200 || len(m["items"].([]any)) != want {
				t.Errorf("list: %d %v, want %d", st, m, want)
			}
		}
		st, m := gen.json("GET", "/api/v1/streams/farm_recovery?limit=1&region=340621&year=2024", nil)
		if st != 200 || len(m["items"].([]any)) != 0 {
			t.Errorf("other year: %d %v", st, m)
		}
		// A list of counties goes as an array.
		point := map[string]any{"region_code": "340603", "kind": "中转站", "name": "测试中转站", "address": "相山区某路",
			"operator": "供销再生", "counties": []string{"340603", "340602"}, "year": 2025, "status": "运行"}
		if st, m := sthjj.json("POST", "/api/v1/streams/recycling_point", point); st != 201 ||
			fmt.Sprint(m["counties"]) != "[340602 340603]" {
			t.Errorf("point: %d %v", st, m)
		}

		// The kinds are in the exchange: the export re-imports with no change; a bad workbook stores nothing.
		reimport(gen, "farm_recovery", 2025, 1)
		if st, raw, _ := gen.call("POST", "/api/v1/import/farm_recovery", []byte("not a workbook"), xlsx); st != 422 {
			t.Errorf("not a workbook: %d %s", st, raw)
		}
		if st, _, _ := anon.login("admin").call("GET", "/api/v1/import/templates/recycling_point.xlsx", nil, ""); st != 200 {
			t.Errorf("template: %d", st)
		}
	})
}
