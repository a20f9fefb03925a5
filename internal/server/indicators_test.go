package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/program/indicator"
	"wufei/internal/server"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// planIndicators are MISSION.md's 19 ids with the plan's 2027 targets.
var planIndicators = map[string]float64{
	"green_factories": 6, "gisw_utilization_rate": 86, "green_mine_rate": 65, "manure_facility_rate": 100,
	"straw_utilization_rate": 95, "ag_film_recovery_rate": 85, "pesticide_pack_recovery_rate": 85,
	"msw_recycling_rate": 40, "msw_landfill_raw": 0, "express_green_pack_rate": 95, "sludge_safe_rate": 100,
	"two_networks_coverage": 100, "zero_waste_cells": 50, "green_building_share": 100, "prefab_building_share": 40,
	"cdw_recycling_rate": 52, "ihw_generation_intensity": 0.013, "ihw_utilization_rate": 36,
	"medical_waste_treatment_rate": 100,
}

var minimalPDF = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

// multipartFiles builds a multipart body with the files under "file".
func evidenceForm(files ...[3]string) ([]byte, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, f := range files { // name, content type, content
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, f[0]))
		h.Set("Content-Type", f[1])
		part, _ := w.CreatePart(h)
		part.Write([]byte(f[2]))
	}
	w.Close()
	return b.Bytes(), w.FormDataContentType()
}

// noRedirect shows a page's redirect instead of following it.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// fetchRaw sends a request and returns the status, body and headers.
func (c client) fetchRaw(method, path string, body io.Reader, hdr ...string) (int, []byte, http.Header) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, body)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := noRedirect.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b, res.Header
}

func byID(m map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, it := range list(m) {
		out[it["id"].(string)] = it
	}
	return out
}

func firstField(m map[string]any) string {
	es, _ := m["errors"].([]any)
	if len(es) == 0 {
		return fmt.Sprint(m["code"])
	}
	e := es[0].(map[string]any)
	return fmt.Sprint(e["field"], ":", e["code"])
}

func TestIndicators(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		anon := newServer(t, db)
		admin, sthjj, gen := anon.login("admin"), anon.login("sthjj"), anon.login("gen")

		// The work team's account, made by the admin.
		_, deps, _ := admin.do("GET", "/api/v1/departments", nil)
		var wfzbID string
		for _, d := range list(deps) {
			if d["code"] == "wfzb" {
				wfzbID = d["id"].(string)
			}
		}
		if st, m, _ := admin.do("POST", "/api/v1/users", map[string]any{"username": "wfzb", "password": "wufei-demo",
			"role": "regulator", "department_id": wfzbID, "region_code": "340600", "display_name": "工作专班"}); st != 201 {
			t.Fatalf("work team account: %d %v", st, m)
		}
		team := anon.login("wfzb")

		t.Run("the table with the plan's targets", func(t *testing.T) {
			st, m, _ := gen.do("GET", "/api/v1/indicators?year=2026&region=340600", nil)
			if st != 200 {
				t.Fatalf("list: %d %v", st, m)
			}
			got := byID(m)
			for id, target := range planIndicators {
				it, ok := got[id]
				if !ok {
					t.Errorf("%s missing", id)
					continue
				}
				for _, k := range []string{"id", "name", "level1", "level2", "unit", "direction", "kind", "lead_department",
					"target", "target_year", "baseline_year", "baseline", "value", "period", "status", "projected",
					"mandatory", "source"} {
					if _, ok := it[k]; !ok {
						t.Errorf("%s lacks %s", id, k)
					}
				}
				if it["target"] != target || it["target_year"] != float64(2027) || it["period"] != "2026" {
					t.Errorf("%s: target %v in %v", id, it["target"], it["target_year"])
				}
				if !slices.Contains(indicator.Statuses, it["status"].(string)) {
					t.Errorf("%s: status %v", id, it["status"])
				}
			}
			if st, m, _ := gen.do("GET", "/api/v1/indicators?region=999999", nil); st != 422 || firstField(m) != "region:region_unknown" {
				t.Errorf("unknown region: %d %v", st, m)
			}
			if st, m, _ := gen.do("GET", "/api/v1/indicators?period=2026Q5", nil); st != 422 || firstField(m) != "period:period_format" {
				t.Errorf("bad period: %d %v", st, m)
			}
			if st, _, _ := anon.do("GET", "/api/v1/indicators", nil); st != 401 {
				t.Errorf("anonymous: %d", st)
			}
		})

		t.Run("a reported value: lead department, evidence, work team", func(t *testing.T) {
			const id = "hw_standardisation_pass_rate"
			path := "/api/v1/indicators/" + id + "/values"
			body := map[string]any{"region": "340600", "period": "2026", "value": 84.2, "comment": "依据 2026 年规范化环境管理评估结果"}
			for _, c := range []client{gen, team} {
				if st, m, _ := c.do("POST", path, body); st != 403 || m["code"] != "not_lead_department" {
					t.Errorf("not the lead department: %d %v", st, m)
				}
			}
			for _, bad := range []struct {
				body map[string]any
				want string
			}{
				{map[string]any{"region": "340600", "period": "2026", "value": 120, "comment": "x"}, "value:value_percent_range"},
				{map[string]any{"region": "340600", "period": "2026", "value": -3, "comment": "x"}, "value:value_negative"},
				{map[string]any{"region": "340600", "period": "2026", "value": 80, "comment": ""}, "comment:comment_required"},
				{map[string]any{"region": "340600", "period": "2026-13", "value": 80, "comment": "x"}, "period:period_format"},
			} {
				if st, m, _ := sthjj.do("POST", path, bad.body); st != 422 || firstField(m) != bad.want {
					t.Errorf("%v: %d %v, want %s", bad.body, st, m, bad.want)
				}
			}
			if st, m, _ := admin.do("POST", "/api/v1/indicators/green_factories/values", map[string]any{"region": "340600",
				"period": "2026", "value": 6.5, "comment": "x"}); st != 422 || firstField(m) != "value:value_integer" {
				t.Errorf("6.5 factories: %d %v", st, m)
			}
			st, r, _ := sthjj.do("POST", path, body)
			if st != 201 || r["status"] != "pending" || r["counts"] != false {
				t.Fatalf("report: %d %v", st, r)
			}
			vid := r["id"].(string)
			if _, m, _ := gen.do("GET", "/api/v1/indicators?year=2026", nil); byID(m)[id]["value"] != nil {
				t.Errorf("a pending value counts: %v", byID(m)[id]["value"])
			}
			if _, m, _ := gen.do("GET", path+"?region=340600", nil); len(list(m)) != 0 {
				t.Errorf("gen sees the pending version: %v", m)
			}
			if _, m, _ := sthjj.do("GET", path+"?region=340600", nil); len(list(m)) != 1 || list(m)[0]["status"] != "pending" {
				t.Errorf("sthjj's history: %v", m)
			}

			if st, m, _ := sthjj.do("POST", path+"/"+vid+"/approve", nil); st != 403 || m["code"] != "not_work_team" {
				t.Errorf("sthjj approves: %d %v", st, m)
			}
			if st, m, _ := team.do("POST", path+"/"+vid+"/approve", nil); st != 409 || m["code"] != "evidence_required" {
				t.Errorf("approve without evidence: %d %v", st, m)
			}
			b, ct := evidenceForm([3]string{"申报汇总.pdf", "application/pdf", "plain text, not a PDF"})
			if st, m, _ := sthjj.do("POST", path+"/"+vid+"/evidence", b, "Content-Type", ct); st != 422 || firstField(m) != "file[0]:evidence_type" {
				t.Errorf("fake pdf: %d %v", st, m)
			}
			b, ct = evidenceForm([3]string{"申报汇总.pdf", "application/pdf", string(minimalPDF)})
			if st, m, _ := gen.do("POST", path+"/"+vid+"/evidence", b, "Content-Type", ct); st != 404 {
				t.Errorf("gen uploads: %d %v", st, m)
			}
			st, r, _ = sthjj.do("POST", path+"/"+vid+"/evidence", b, "Content-Type", ct)
			if st != 201 || len(r["evidence"].([]any)) != 1 {
				t.Fatalf("evidence: %d %v", st, r)
			}
			ev := r["evidence"].([]any)[0].(map[string]any)
			sum := sha256.Sum256(minimalPDF)
			if ev["sha256"] != fmt.Sprintf("%x", sum) || ev["size"] != float64(len(minimalPDF)) || ev["name"] != "申报汇总.pdf" {
				t.Errorf("evidence: %v", ev)
			}
			// A scanned report of a few MiB fits under the upload limit.
			big := append(append([]byte{}, minimalPDF...), bytes.Repeat([]byte{' '}, 3<<20)...)
			b, ct = evidenceForm([3]string{"扫描件.pdf", "application/pdf", string(big)})
			if st, r, _ = sthjj.do("POST", path+"/"+vid+"/evidence", b, "Content-Type", ct); st != 201 {
				t.Fatalf("a 3 MiB evidence file: %d %v", st, r["code"])
			}
			st, r, _ = team.do("POST", path+"/"+vid+"/approve", map[string]any{"version": r["version"], "note": "核实无误"})
			if st != 200 || r["status"] != "approved" || r["counts"] != true {
				t.Fatalf("approve: %d %v", st, r)
			}
			if _, m, _ := gen.do("GET", "/api/v1/indicators?year=2026", nil); byID(m)[id]["value"] != 84.2 {
				t.Errorf("approved value: %v", byID(m)[id])
			}

			// The evidence, byte for byte, with its digest; not for gen.
			epath := path + "/" + vid + "/evidence/" + ev["id"].(string)
			st, got, h := sthjj.fetchRaw("GET", epath, nil)
			if st != 200 || !bytes.Equal(got, minimalPDF) || h.Get("Content-Type") != "application/pdf" ||
				h.Get("Repr-Digest") != "sha-256=:"+base64.StdEncoding.EncodeToString(sum[:])+":" ||
				!strings.Contains(h.Get("Content-Disposition"), "attachment") {
				t.Errorf("download: %d %q %v", st, got, h)
			}
			if st, _, _ := gen.fetchRaw("GET", epath, nil); st != 404 {
				t.Errorf("gen downloads: %d", st)
			}

			// A second version, returned with reasons: kept, never counts.
			body["value"] = 90
			st, r, _ = sthjj.do("POST", path, body)
			if st != 201 || r["seq"] != float64(2) {
				t.Fatalf("second: %d %v", st, r)
			}
			v2 := r["id"].(string)
			if st, m, _ := team.do("POST", path+"/"+v2+"/return", map[string]any{}); st != 422 || firstField(m) != "note:note_required" {
				t.Errorf("return without a reason: %d %v", st, m)
			}
			if st, m, _ := team.do("POST", path+"/"+v2+"/return", map[string]any{"note": "与申报数据不一致"}); st != 200 || m["status"] != "returned" {
				t.Errorf("return: %d %v", st, m)
			}
			_, m, _ := sthjj.do("GET", path+"?region=340600", nil)
			var marks []string
			for _, v := range list(m) {
				marks = append(marks, fmt.Sprint(v["seq"], ":", v["status"]))
			}
			if fmt.Sprint(marks) != "[2:returned 1:approved]" || len(m["effective"].([]any)) != 1 {
				t.Errorf("history: %v %v", marks, m["effective"])
			}
			if _, m, _ := gen.do("GET", "/api/v1/indicators?year=2026", nil); byID(m)[id]["value"] != 84.2 {
				t.Errorf("after the return: %v", byID(m)[id]["value"])
			}
			if _, m, _ := gen.do("GET", path+"?region=340600", nil); len(list(m)) != 1 {
				t.Errorf("gen's history: %v", list(m))
			}
		})

		t.Run("a certified cell raises zero_waste_cells", func(t *testing.T) {
			read := func(region string) float64 {
				_, m, _ := gen.do("GET", "/api/v1/indicators?year=2026&region="+region, nil)
				v, _ := byID(m)["zero_waste_cells"]["value"].(float64)
				return v
			}
			city, county := read("340600"), read("340621")
			_, me, _ := gen.do("GET", "/api/v1/me", nil)
			certifyCell(t, db, me["unit_id"].(string), "340621", time.Date(2026, 9, 15, 0, 0, 0, 0, time.UTC))
			if got := read("340600"); got != city+1 {
				t.Errorf("city cells: %v → %v", city, got)
			}
			if got := read("340621"); got != county+1 {
				t.Errorf("濉溪县 cells: %v → %v", county, got)
			}
			st, m, _ := sthjj.do("GET", "/api/v1/indicators/zero_waste_cells?region=340621&year=2026", nil)
			if st != 200 || m["drill"] == nil || len(m["drill"].(map[string]any)["rows"].([]any)) == 0 {
				t.Errorf("cells drill: %d %v", st, m)
			}
		})

		t.Run("computed detail and configuration", func(t *testing.T) {
			st, m, _ := sthjj.do("GET", "/api/v1/indicators/ihw_utilization_rate?region=340600&year=2026", nil)
			if st != 200 || m["kind"] != "computed" || m["drill"] == nil || m["series"] == nil {
				t.Fatalf("detail: %d %v", st, m)
			}
			if st, m, _ := sthjj.do("GET", "/api/v1/indicators/nope", nil); st != 404 || m["code"] != "indicator_not_found" {
				t.Errorf("unknown: %d %v", st, m)
			}
			_, m, _ = gen.do("GET", "/api/v1/indicators?year=2026", nil)
			sat := byID(m)["public_satisfaction"]
			patch := map[string]any{"version": sat["version"], "target": 90, "target_year": 2027}
			if st, m, _ := sthjj.do("PATCH", "/api/v1/indicators/public_satisfaction", patch); st != 403 {
				t.Errorf("sthjj configures: %d %v", st, m)
			}
			if st, m, _ := team.do("PATCH", "/api/v1/indicators/public_satisfaction", patch); st != 200 || m["target"] != float64(90) {
				t.Errorf("configure: %d %v", st, m)
			}
			if st, m, _ := team.do("PATCH", "/api/v1/indicators/ihw_utilization_rate", map[string]any{"version": 1,
				"target": 30, "target_year": 2027}); st != 422 || firstField(m) != "target:target_from_plan" {
				t.Errorf("plan target: %d %v", st, m)
			}
		})

		t.Run("pages", func(t *testing.T) {
			st, b, _ := gen.fetchRaw("GET", "/indicators?region=340600&year=2026", nil)
			page := string(b)
			if st != 200 || !strings.Contains(page, "工业危险废物综合利用率") || !strings.Contains(page, "badge-") ||
				!strings.Contains(page, "危险废物规范化环境管理评估达标率") || !strings.Contains(page, "84.2%") {
				t.Fatalf("indicators page: %d\n%s", st, page)
			}
			st, b, _ = gen.fetchRaw("GET", "/indicators?region=340600&year=2026", nil, "HX-Request", "true")
			if st != 200 || !strings.HasPrefix(strings.TrimSpace(string(b)), `<div id="indicators-table"`) {
				t.Errorf("fragment: %d\n%s", st, b)
			}
			st, b, _ = sthjj.fetchRaw("GET", "/indicators/hw_standardisation_pass_rate?region=340600&year=2026", nil)
			page = string(b)
			if st != 200 || !strings.Contains(page, "84.2%") || !strings.Contains(page, "与申报数据不一致") ||
				!strings.Contains(page, `action="/indicators/hw_standardisation_pass_rate/values"`) || !strings.Contains(page, "<svg") {
				t.Fatalf("indicator page: %d\n%s", st, page)
			}
			st, b, _ = sthjj.fetchRaw("GET", "/indicators/zero_waste_cells?region=340621&year=2026", nil)
			if page = string(b); st != 200 || !strings.Contains(page, "计算依据") || !strings.Contains(page, "无废细胞") ||
				!strings.Contains(page, "test_community") {
				t.Errorf("computed indicator page: %d\n%s", st, page)
			}
			st, b, _ = gen.fetchRaw("GET", "/indicators/hw_standardisation_pass_rate", nil)
			if st != 200 || strings.Contains(string(b), `action="/indicators/hw_standardisation_pass_rate/values"`) {
				t.Errorf("gen is offered the report form: %d", st)
			}

			// The report form with its evidence, then approval, through the pages.
			var buf bytes.Buffer
			w := multipart.NewWriter(&buf)
			for k, v := range map[string]string{"region": "340621", "period": "2026", "value": "8500000", "comment": "统计快报"} {
				w.WriteField(k, v)
			}
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", `form-data; name="file"; filename="快报.pdf"`)
			h.Set("Content-Type", "application/pdf")
			part, _ := w.CreatePart(h)
			part.Write(minimalPDF)
			w.Close()
			st, b, hdr := admin.fetchRaw("POST", "/indicators/industrial_output_value/values", &buf, "Content-Type", w.FormDataContentType())
			if st != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/indicators/industrial_output_value?") {
				t.Fatalf("web report: %d %s\n%s", st, hdr.Get("Location"), b[max(0, bytes.Index(b, []byte("<main"))):])
			}
			_, m, _ := admin.do("GET", "/api/v1/indicators/industrial_output_value/values?region=340621", nil)
			vs := list(m)
			if len(vs) != 1 || vs[0]["status"] != "pending" || len(vs[0]["evidence"].([]any)) != 1 {
				t.Fatalf("web report stored: %v", vs)
			}
			form := "version=" + fmt.Sprint(vs[0]["version"]) + "&region=340621&year=2026"
			st, _, hdr = team.fetchRaw("POST", "/indicators/industrial_output_value/values/"+vs[0]["id"].(string)+"/approve",
				strings.NewReader(form), "Content-Type", "application/x-www-form-urlencoded")
			if st != http.StatusSeeOther {
				t.Fatalf("web approve: %d", st)
			}
			_, m, _ = gen.do("GET", "/api/v1/indicators?region=340621&year=2026", nil)
			if byID(m)["industrial_output_value"]["value"] != float64(8500000) {
				t.Errorf("approved through the page: %v", byID(m)["industrial_output_value"])
			}
			// A refused form is shown again with the field's message.
			st, b, _ = admin.fetchRaw("POST", "/indicators/hw_standardisation_pass_rate/values",
				strings.NewReader("region=340600&period=2026&value=101&comment=x"), "Content-Type", "application/x-www-form-urlencoded")
			if st != 422 || !strings.Contains(string(b), "百分比须在 0 至 100 之间") {
				t.Errorf("refused form: %d\n%s", st, b)
			}
		})
	})
}

// certifyCell writes a certified zero-waste cell with the audit entry the
// cell service writes.
func certifyCell(t testing.TB, db *store.DB, unitID, region string, certified time.Time) {
	t.Helper()
	ctx := context.Background()
	now := store.Now()
	if _, err := store.Exec(ctx, db.Writer(), `INSERT INTO cell_types (code, name, pass_mark, position, created_at,
		updated_at) VALUES ('test_community', '无废社区（测试）', 80, 99, ?, ?) ON CONFLICT (code) DO NOTHING`, now, now); err != nil {
		t.Fatal(err)
	}
	id := uuid.Must(uuid.NewV7()).String()
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := store.Exec(ctx, tx, `INSERT INTO cells (id, type, name, unit_id, region_code, status, applied_at,
			certified_at, created_at, updated_at) VALUES (?, 'test_community', '测试社区', ?, ?, 'certified', ?, ?, ?, ?)`,
			id, unitID, region, now, certified, now, now); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.System, audit.Record{Action: "cell.certify", Entity: "cell", EntityID: id,
			UnitID: unitID, RegionCode: region})
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkIndicatorList measures GET /api/v1/indicators over a
// province-scale set of values — 200 regions × 36 months, with their
// quarters and years, for every indicator — against the raw SELECT the
// list runs, on the same engine in the same run. Each sub-benchmark
// reports its 50th and 99th percentile latency.
func BenchmarkIndicatorList(b *testing.B) {
	const regions = 200
	years := []int{2024, 2025, 2026}
	for _, e := range storetest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			db, _ := e.Open(b)
			ctx := context.Background()
			app, err := server.New(ctx, db, server.Config{Version: "bench", KeyFile: filepath.Join(b.TempDir(), "k")})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := app.Auth.CreateUser(ctx, auth.Principal{Role: auth.Admin}, auth.NewUser{Username: "bench",
				Password: "bench-password", Role: auth.Viewer}); err != nil {
				b.Fatal(err)
			}
			codes := seedIndicatorValues(b, db, regions, years)
			ts := httptest.NewServer(app.Handler)
			defer ts.Close()
			token, err := benchLogin(ts.URL, "bench", "bench-password")
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			pick := func() (string, int) { return codes[rng.IntN(len(codes))], years[rng.IntN(len(years))] }
			// Every region and year once, so that neither run pays for a cold cache.
			for _, code := range codes {
				for _, y := range years {
					if st, _, _ := getIndicators(ts.URL, token, code, y); st != 200 {
						b.Fatalf("warm-up %s %d: %d", code, y, st)
					}
				}
			}
			b.Run("raw_select", func(b *testing.B) {
				var ds []time.Duration
				for b.Loop() {
					code, y := pick()
					start := time.Now()
					var rows []struct {
						IndicatorID string    `db:"indicator_id"`
						Period      string    `db:"period"`
						PeriodKind  string    `db:"period_kind"`
						Year        int       `db:"year"`
						Value       *int64    `db:"value_e6"`
						Numerator   *int64    `db:"numerator_e6"`
						Denominator *int64    `db:"denominator_e6"`
						Source      string    `db:"source"`
						ComputedAt  time.Time `db:"computed_at"`
					}
					if err := store.Select(ctx, db.Reader(), &rows, indicator.ValuesQuery, code, y, fmt.Sprint(y)); err != nil || len(rows) == 0 {
						b.Fatalf("raw: %d rows, %v", len(rows), err)
					}
					ds = append(ds, time.Since(start))
				}
				reportPercentiles(b, ds)
			})
			b.Run("api", func(b *testing.B) {
				var ds []time.Duration
				for b.Loop() {
					code, y := pick()
					start := time.Now()
					st, n, err := getIndicators(ts.URL, token, code, y)
					if err != nil || st != 200 || n < 40 {
						b.Fatalf("api: %d %d %v", st, n, err)
					}
					ds = append(ds, time.Since(start))
				}
				reportPercentiles(b, ds)
			})
		})
	}
}

func benchLogin(base, user, password string) (string, error) {
	body, _ := json.Marshal(map[string]string{"username": user, "password": password})
	res, err := http.Post(base+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var m struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil || m.Token == "" {
		return "", fmt.Errorf("login: %d %v", res.StatusCode, err)
	}
	return m.Token, nil
}

func getIndicators(base, token, region string, year int) (int, int, error) {
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/indicators?region=%s&year=%d", base, region, year), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, bytes.Count(body, []byte(`"level1"`)), err
}

func reportPercentiles(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	at := func(p float64) float64 {
		return float64(ds[min(len(ds)-1, int(p*float64(len(ds))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// seedValues adds regions 3406B001… under the city and a value for every
// indicator, region and period (36 months, 12 quarters, 3 years), and
// marks them refreshed so that reads do not recompute; it returns the
// region codes.
func seedIndicatorValues(b *testing.B, db *store.DB, regions int, years []int) []string {
	ctx := context.Background()
	var ids []string
	if err := store.Select(ctx, db.Reader(), &ids, `SELECT id FROM indicators ORDER BY id`); err != nil {
		b.Fatal(err)
	}
	var periods []struct {
		code, kind string
		year       int
	}
	for _, y := range years {
		periods = append(periods, struct {
			code, kind string
			year       int
		}{fmt.Sprint(y), "year", y})
		for q := 1; q <= 4; q++ {
			periods = append(periods, struct {
				code, kind string
				year       int
			}{fmt.Sprintf("%dQ%d", y, q), "quarter", y})
		}
		for mo := 1; mo <= 12; mo++ {
			periods = append(periods, struct {
				code, kind string
				year       int
			}{fmt.Sprintf("%d-%02d", y, mo), "month", y})
		}
	}
	var head int64
	if err := store.Get(ctx, db.Reader(), &head, `SELECT seq FROM audit_head WHERE id = 1`); err != nil {
		b.Fatal(err)
	}
	now := store.Now()
	rng := rand.New(rand.NewPCG(3, 4))
	codes := make([]string, regions)
	w := db.Writer()
	for i := range codes {
		codes[i] = fmt.Sprintf("3406B%03d", i+1)
	}
	const batch = 400
	var rows []string
	var args []any
	flush := func(tx *store.Tx) {
		if len(rows) == 0 {
			return
		}
		if _, err := store.Exec(ctx, tx, `INSERT INTO indicator_values (indicator_id, region_code, period, period_kind,
			year, value_e6, source, computed_at) VALUES `+strings.Join(rows, ", "), args...); err != nil {
			b.Fatal(err)
		}
		rows, args = rows[:0], args[:0]
	}
	for _, code := range codes {
		if _, err := store.Exec(ctx, w, `INSERT INTO regions (code, name, level, parent_code, local) VALUES (?, ?, 'county', '340600', ?)`,
			code, "基准测试县 "+code, true); err != nil {
			b.Fatal(err)
		}
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			for _, p := range periods {
				for _, id := range ids {
					rows = append(rows, "(?, ?, ?, ?, ?, ?, 'reported', ?)")
					args = append(args, id, code, p.code, p.kind, p.year, rng.Int64N(100_000_000), now)
					if len(rows) == batch {
						flush(tx)
					}
				}
			}
			flush(tx)
			for _, y := range years {
				for _, g := range []string{"records", "cells"} {
					if _, err := store.Exec(ctx, tx, `INSERT INTO indicator_marks (region_code, period, grp, audit_seq,
						refreshed_at) VALUES (?, ?, ?, ?, ?)`, code, fmt.Sprint(y), g, head, now); err != nil {
						return err
					}
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	var n int
	_ = store.Get(ctx, db.Reader(), &n, `SELECT count(*) FROM indicator_values`)
	b.Logf("%d indicator values in %d regions", n, regions)
	if _, err := store.Exec(ctx, w, `ANALYZE indicator_values`); err != nil {
		b.Fatal(err)
	}
	return codes
}
