package server_test

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

	"wufei/internal/registry"
	"wufei/internal/server"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// client talks to a real server over HTTP.
type client struct {
	t     *testing.T
	base  string
	token string
}

func (c client) do(method, path string, body any, hdr ...string) (int, map[string]any, http.Header) {
	c.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		r = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, c.base+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var m map[string]any
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &m); err != nil {
			c.t.Fatalf("%s %s: bad JSON %q", method, path, raw)
		}
	}
	if res.StatusCode >= 500 {
		c.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	if res.StatusCode >= 400 && !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
		c.t.Errorf("%s %s: %d with Content-Type %q, want problem+json", method, path, res.StatusCode, res.Header.Get("Content-Type"))
	}
	return res.StatusCode, m, res.Header
}

func (c client) login(user string) client {
	c.t.Helper()
	st, m, _ := c.do("POST", "/api/v1/auth/login", map[string]string{"username": user, "password": "wufei-demo"})
	if st != 200 || m["token"] == "" {
		c.t.Fatalf("login %s: %d %v", user, st, m)
	}
	c.token = m["token"].(string)
	return c
}

// newServer starts the platform with the demo data on db.
func newServer(t *testing.T, db *store.DB) client {
	t.Helper()
	app, err := server.New(context.Background(), db, server.Config{Demo: true, DemoUnits: 40, Version: "test",
		KeyFile: filepath.Join(t.TempDir(), "audit.key")})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(app.Handler)
	t.Cleanup(ts.Close)
	return client{t: t, base: ts.URL}
}

func list(m map[string]any) []map[string]any {
	var out []map[string]any
	for _, it := range m["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

func TestPlatform(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		anon := newServer(t, db)

		t.Run("health and OpenAPI", func(t *testing.T) {
			if st, m, _ := anon.do("GET", "/healthz", nil); st != 200 || m["status"] != "ok" {
				t.Fatalf("healthz: %d %v", st, m)
			}
			st, m, _ := anon.do("GET", "/openapi.json", nil)
			if st != 200 || m["openapi"] != "3.1.0" {
				t.Fatalf("openapi: %d %v", st, m["openapi"])
			}
			if st, _, _ := anon.do("GET", "/api/v1/units", nil); st != 401 {
				t.Fatalf("units without token: %d", st)
			}
		})

		t.Run("login and me", func(t *testing.T) {
			st, m, _ := anon.do("POST", "/api/v1/auth/login", map[string]string{"username": "gen", "password": "wrong-password"})
			if st != 401 || m["code"] != "invalid_credentials" {
				t.Fatalf("wrong password: %d %v", st, m)
			}
			// curl -d sends a form content type; the JSON body is still accepted.
			if st, m, _ := anon.do("POST", "/api/v1/auth/login", `{"username":"gen","password":"wufei-demo"}`,
				"Content-Type", "application/x-www-form-urlencoded"); st != 200 || m["token"] == nil {
				t.Fatalf("login with a form content type: %d %v", st, m)
			}
			gen := anon.login("gen")
			_, me, _ := gen.do("GET", "/api/v1/me", nil)
			if me["username"] != "gen" || me["role"] != "unit_admin" || me["unit_id"] == nil {
				t.Fatalf("me: %v", me)
			}
			_, me, _ = anon.login("sthjj").do("GET", "/api/v1/me", nil)
			if me["role"] != "regulator" || me["unit_id"] != nil {
				t.Fatalf("me sthjj: %v", me)
			}
		})

		gen, gen2, sthjj, xsq, admin, carrier := anon.login("gen"), anon.login("gen2"), anon.login("sthjj"),
			anon.login("xsq"), anon.login("admin"), anon.login("carrier")
		unitOf := func(c client) string {
			_, me, _ := c.do("GET", "/api/v1/me", nil)
			return me["unit_id"].(string)
		}
		genUnit, gen2Unit, carrierUnit := unitOf(gen), unitOf(gen2), unitOf(carrier)

		all := func(c client, query string) []map[string]any {
			var out []map[string]any
			seen := map[string]bool{}
			cursor := ""
			for range 100 {
				st, m, _ := c.do("GET", "/api/v1/units?limit=7"+query+cursor, nil)
				if st != 200 {
					t.Fatalf("units: %d %v", st, m)
				}
				for _, it := range list(m) {
					if seen[it["id"].(string)] {
						t.Fatalf("unit %s twice across pages", it["id"])
					}
					seen[it["id"].(string)] = true
					out = append(out, it)
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

		t.Run("units are scoped", func(t *testing.T) {
			everything := all(sthjj, "")
			if len(everything) != 44 {
				t.Fatalf("sthjj sees %d units, want 44", len(everything))
			}
			for _, u := range everything {
				for _, k := range []string{"id", "name", "uscc", "roles", "region_code"} {
					if u[k] == nil {
						t.Fatalf("unit lacks %s: %v", k, u)
					}
				}
			}
			ids := func(us []map[string]any) map[string]bool {
				m := map[string]bool{}
				for _, u := range us {
					m[u["id"].(string)] = true
				}
				return m
			}
			seenByGen := ids(all(gen, ""))
			if !seenByGen[genUnit] || !seenByGen[carrierUnit] || seenByGen[gen2Unit] {
				t.Fatalf("gen sees own=%v carrier=%v gen2=%v", seenByGen[genUnit], seenByGen[carrierUnit], seenByGen[gen2Unit])
			}
			for _, u := range all(gen, "") {
				if u["id"] != genUnit && fmt.Sprint(u["roles"]) == "[generator]" {
					t.Fatalf("gen sees another generator: %v", u["name"])
				}
			}
			xs := all(xsq, "")
			if len(xs) == 0 || !ids(xs)[gen2Unit] || ids(xs)[genUnit] {
				t.Fatalf("xsq: %d units, gen2 %v, gen %v", len(xs), ids(xs)[gen2Unit], ids(xs)[genUnit])
			}
			for _, u := range xs {
				if u["region_code"] != "340603" {
					t.Fatalf("xsq sees a unit of %s", u["region_code"])
				}
			}
			if st, _, _ := gen.do("GET", "/api/v1/units/"+gen2Unit, nil); st != 404 {
				t.Fatalf("gen reads gen2's unit: %d", st)
			}
			if st, _, _ := gen.do("PATCH", "/api/v1/units/"+gen2Unit, map[string]any{"version": 1, "address": "x"}); st != 404 {
				t.Fatalf("gen changes gen2's unit: %d", st)
			}
			if st, _, _ := gen.do("POST", "/api/v1/vehicles", map[string]any{"unit_id": carrierUnit, "plate": "皖F99999",
				"permit_no": "x", "capacity_t": 1}); st != 403 {
				t.Fatalf("gen adds a vehicle to the carrier: %d", st)
			}
		})

		t.Run("unit filters", func(t *testing.T) {
			_, g, _ := sthjj.do("GET", "/api/v1/units/"+genUnit, nil)
			if got := all(sthjj, "&uscc="+g["uscc"].(string)); len(got) != 1 || got[0]["id"] != genUnit {
				t.Fatalf("uscc filter: %v", got)
			}
			for _, u := range all(sthjj, "&role=carrier") {
				if !strings.Contains(fmt.Sprint(u["roles"]), "carrier") {
					t.Fatalf("role filter returned %v", u["roles"])
				}
			}
			for _, u := range all(sthjj, "&region=340604") {
				if u["region_code"] != "340604" {
					t.Fatalf("region filter returned %v", u["region_code"])
				}
			}
			if got := all(sthjj, "&q=绿源"); len(got) != 1 {
				t.Fatalf("q filter: %d", len(got))
			}
		})

		t.Run("create unit validates and stores nothing bad", func(t *testing.T) {
			before := len(all(sthjj, ""))
			good := registry.MakeUSCC("91", "340604", "MA2T0001")
			bad := good[:17] + map[bool]string{true: "1", false: "2"}[good[17] != '1']
			body := map[string]any{"uscc": bad, "name": "淮北测试化工有限公司", "roles": []string{"generator"}, "region_code": "340604"}
			st, m, _ := admin.do("POST", "/api/v1/units", body)
			errs, _ := m["errors"].([]any)
			if st != 422 || len(errs) == 0 || errs[0].(map[string]any)["field"] != "uscc" || errs[0].(map[string]any)["code"] != "uscc_check" {
				t.Fatalf("bad uscc: %d %v", st, m)
			}
			if n := len(all(sthjj, "")); n != before {
				t.Fatalf("a rejected unit was stored: %d -> %d", before, n)
			}
			if st, _, _ := gen.do("POST", "/api/v1/units", body); st != 403 && st != 422 {
				t.Fatalf("gen registers a unit: %d", st)
			}
			body["uscc"] = good
			st, m, _ = admin.do("POST", "/api/v1/units", body)
			if st != 201 || m["uscc"] != good || m["version"] != 1.0 {
				t.Fatalf("good unit: %d %v", st, m)
			}
			if st, m, _ := admin.do("POST", "/api/v1/units", body); st != 422 || m["errors"].([]any)[0].(map[string]any)["code"] != "uscc_taken" {
				t.Fatalf("duplicate uscc: %d %v", st, m)
			}
			id := m["id"].(string)
			st, m, _ = sthjj.do("PATCH", "/api/v1/units/"+id, map[string]any{"version": 1, "name": "淮北测试化工股份有限公司"})
			if st != 200 || m["version"] != 2.0 {
				t.Fatalf("patch: %d %v", st, m)
			}
			if st, m, _ := sthjj.do("PATCH", "/api/v1/units/"+id, map[string]any{"version": 1, "address": "x"}); st != 409 || m["code"] != "version_conflict" {
				t.Fatalf("stale patch: %d %v", st, m)
			}
			st, m, _ = sthjj.do("GET", "/api/v1/units/"+id+"/history", nil)
			if st != 200 || len(list(m)) != 2 || list(m)[1]["action"] != "unit.update" {
				t.Fatalf("history: %d %v", st, m)
			}
		})

		t.Run("bad bodies are 4xx problems", func(t *testing.T) {
			for _, c := range []struct {
				body   any
				status int
				field  string
			}{
				{`{"uscc": `, 400, ""},
				{`[1,2]`, 422, ""},
				{map[string]any{"uscc": "x", "name": "n", "roles": []string{"generator"}, "region_code": "340604", "colour": "red"}, 422, "colour"},
				{map[string]any{"uscc": 12, "name": "n", "roles": []string{"generator"}, "region_code": "340604"}, 422, "uscc"},
				{map[string]any{"name": "n", "roles": []string{"generator"}, "region_code": "340604"}, 422, "uscc"},
				{strings.Repeat("x", 2<<20), 413, ""},
			} {
				st, m, _ := admin.do("POST", "/api/v1/units", c.body)
				if st != c.status {
					t.Errorf("%.60v: %d %v, want %d", c.body, st, m, c.status)
					continue
				}
				if m["code"] == nil || m["code"] == "" {
					t.Errorf("%.60v: problem without code: %v", c.body, m)
				}
				if c.field != "" && !strings.Contains(fmt.Sprint(m["errors"]), "field:"+c.field) {
					t.Errorf("%.60v: errors %v do not name %s", c.body, m["errors"], c.field)
				}
			}
			if st, _, _ := admin.do("GET", "/api/v1/units?limit=abc", nil); st != 422 {
				t.Errorf("bad limit: %d", st)
			}
			if st, _, _ := admin.do("GET", "/api/v1/units?cursor=***", nil); st/100 != 4 {
				t.Errorf("bad cursor: %d", st)
			}
		})

		t.Run("vehicles and catalogue", func(t *testing.T) {
			st, m, _ := sthjj.do("GET", "/api/v1/vehicles?unit_id="+carrierUnit, nil)
			if st != 200 || len(list(m)) != 2 || list(m)[0]["plate"] == "" {
				t.Fatalf("vehicles: %d %v", st, m)
			}
			vid := list(m)[0]["id"].(string)
			if st, v, _ := carrier.do("GET", "/api/v1/vehicles/"+vid, nil); st != 200 || v["capacity_t"] == nil {
				t.Fatalf("vehicle: %d %v", st, v)
			}
			disposer := anon.login("disposer")
			_, f, _ := disposer.do("GET", "/api/v1/units/"+unitOf(disposer)+"/facilities", nil)
			fid := list(f)[0]["id"].(string)
			patch := map[string]any{"version": 1, "capacity_t": 12500.5}
			if st, _, _ := gen.do("PATCH", "/api/v1/facilities/"+fid, patch); st != 403 {
				t.Fatalf("gen changes the disposer's facility: %d", st)
			}
			if st, m, _ := disposer.do("PATCH", "/api/v1/facilities/"+fid, patch); st != 200 || m["capacity_t"] != 12500.5 || m["version"] != 2.0 {
				t.Fatalf("facility patch: %d %v", st, m)
			}
			st, m, _ = gen.do("GET", "/api/v1/catalog/waste-codes?category=HW08", nil)
			if st != 200 || !strings.Contains(fmt.Sprint(m["items"]), "code:900-249-08") {
				t.Fatalf("waste codes: %d %v", st, m)
			}
			for _, it := range list(m) {
				if !strings.HasSuffix(it["code"].(string), "-08") {
					t.Fatalf("HW08 filter returned %v", it["code"])
				}
			}
			st, m, _ = gen.do("GET", "/api/v1/licences?waste_code=900-249-08&method=R9", nil)
			if st != 200 || len(list(m)) != 1 {
				t.Fatalf("licences covering 900-249-08 by R9: %d %v", st, m)
			}
			if st, m, _ = gen.do("GET", "/api/v1/licences?waste_code=841-001-01", nil); len(list(m)) != 0 {
				t.Fatalf("a licence covers HW01: %v", m)
			}
		})

		t.Run("idempotency key", func(t *testing.T) {
			body := map[string]any{"uscc": registry.MakeUSCC("91", "340602", "MA2T0002"), "name": "淮北幂等测试有限公司",
				"roles": []string{"generator"}, "region_code": "340602"}
			st1, m1, _ := admin.do("POST", "/api/v1/units", body, "Idempotency-Key", "k-1")
			st2, m2, h2 := admin.do("POST", "/api/v1/units", body, "Idempotency-Key", "k-1")
			if st1 != 201 || st2 != 201 || m1["id"] != m2["id"] || h2.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("replay: %d %d %v %v", st1, st2, m1["id"], m2["id"])
			}
			body["name"] = "另一个"
			if st, m, _ := admin.do("POST", "/api/v1/units", body, "Idempotency-Key", "k-1"); st != 422 || m["code"] != "idempotency_key_reused" {
				t.Fatalf("reused key: %d %v", st, m)
			}
		})

		t.Run("audit trail and feed", func(t *testing.T) {
			st, cp, _ := anon.do("GET", "/api/v1/audit/checkpoint", nil)
			if st != 200 || cp["size"].(float64) < 10 || !strings.Contains(cp["note"].(string), "wufei.huaibei") {
				t.Fatalf("checkpoint: %d %v", st, cp)
			}
			st, m, _ := gen.do("GET", "/api/v1/events?after=0&limit=1000", nil)
			if st != 200 || len(list(m)) == 0 {
				t.Fatalf("events: %d %v", st, m)
			}
			var own float64
			for _, e := range list(m) {
				if e["unit_id"] != genUnit {
					t.Fatalf("gen's feed has an entry of unit %v", e["unit_id"])
				}
				own = e["seq"].(float64)
			}
			if st, p, _ := gen.do("GET", fmt.Sprintf("/api/v1/audit/entries/%d", int(own)), nil); st != 200 || len(p["inclusion_proof"].([]any)) == 0 {
				t.Fatalf("own entry: %d %v", st, p)
			}
			if st, _, _ := gen.do("GET", "/api/v1/audit/entries/1", nil); st != 404 {
				t.Fatalf("gen reads the reference seed entry: %d", st)
			}
			if st, _, _ := sthjj.do("GET", "/api/v1/audit/entries/1", nil); st != 200 {
				t.Fatalf("sthjj reads entry 1: %d", st)
			}
		})

		t.Run("login is throttled", func(t *testing.T) {
			for range 5 {
				anon.do("POST", "/api/v1/auth/login", map[string]string{"username": "xsq", "password": "nope-nope-nope"})
			}
			if st, m, _ := anon.do("POST", "/api/v1/auth/login", map[string]string{"username": "xsq", "password": "wufei-demo"}); st != 429 || m["code"] != "login_throttled" {
				t.Fatalf("after 5 failures: %d %v", st, m)
			}
		})
	})
}
