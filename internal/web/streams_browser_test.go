package web_test

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
	"time"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"wufei/internal/calendar"
	"wufei/internal/registry"
	"wufei/internal/server"
	"wufei/internal/store/storetest"
)

// streamKind is a record kind's form as typed in a browser test; marker is
// the value to find again in the list and the export.
type streamKind struct {
	name, marker string
	form         map[string]string
}

// TestIndustryBrowser enters one record of each industrial, sludge,
// construction and medical kind through its page as the city's regulator,
// sees it in the list, and finds it in the kind's export.
func TestIndustryBrowser(t *testing.T) {
	y := fmt.Sprint(time.Now().In(calendar.Zone).Year())
	gen := registry.MakeUSCC("91", "340621", "MA2N8C01")      // the demo's coal-chemical generator
	disposer := registry.MakeUSCC("91", "340604", "MA2R2F04") // the demo's disposal facility
	clinic := registry.MakeUSCC("52", "340603", "MB9B0001")

	// In the order records depend on each other.
	kinds := []streamKind{
		{"gisw_ledger", "浏览器台账", map[string]string{"unit_uscc": gen, "month": y + "-01", "category": "SW03",
			"opening_stock_t": "10", "generated_t": "100", "util_materials_t": "80", "disposed_t": "5", "closing_stock_t": "25",
			"note": "浏览器台账"}},
		{"gisw_base", "浏览器利用基地", map[string]string{"name": "浏览器利用基地", "year": y, "region": "340604", "ways": "建材；回填",
			"capacity_t": "100000", "status": "运行"}},
		{"gisw_stockpile", "浏览器矸石山", map[string]string{"site": "浏览器矸石山", "year": y, "region": "340602", "location": "朔里镇",
			"category": "SW04", "estimated_t": "5000", "status": "整治中", "found_on": y + "-01-10"}},
		{"sludge_ledger", "浏览器污泥", map[string]string{"plant_uscc": disposer, "month": y + "-01", "generated_t": "100",
			"incinerated_t": "100", "note": "浏览器污泥"}},
		{"cdw_declaration", "浏览器安置房", map[string]string{"declaration_no": "JZLJ-B-1", "project": "浏览器安置房", "site": "长山路",
			"region": "340603", "builder": "某置业", "declared_on": y + "-01-05", "muck_t": "800"}},
		{"cdw_vehicle", "皖F9B001", map[string]string{"plate": "皖F9B001", "year": y, "hauler": "渣土公司", "region": "340603",
			"vehicle_type": "自卸车", "sealed": "是", "tracked": "是"}},
		{"cdw_permit", "ZY-B-1", map[string]string{"permit_no": "ZY-B-1", "declaration_no": "JZLJ-B-1", "project": "浏览器安置房",
			"hauler": "渣土公司", "region": "340603", "plates": "皖F9B001", "valid_from": y + "-01-06", "valid_to": y + "-12-31"}},
		{"cdw_site", "浏览器再生骨料厂", map[string]string{"name": "浏览器再生骨料厂", "year": y, "kind": "资源化利用厂", "region": "340603",
			"capacity_t": "200000", "status": "运行"}},
		{"cdw_site_month", "浏览器月度", map[string]string{"site": "浏览器再生骨料厂", "month": y + "-01", "received_t": "1000",
			"recycled_t": "600", "landfilled_t": "400", "note": "浏览器月度"}},
		{"building_area", "浏览器住建统计", map[string]string{"region": "340603", "year": y, "new_area_m2": "100000",
			"green_area_m2": "98000", "started_area_m2": "80000", "prefab_area_m2": "30000", "source": "浏览器住建统计"}},
		{"med_institution", "浏览器诊所", map[string]string{"uscc": clinic, "year": y, "name": "浏览器诊所", "region": "340603",
			"level": "诊所及村卫生室", "collection": "小型机构合同收集", "collector": "处置中心"}},
		{"med_waste", "浏览器医废", map[string]string{"uscc": clinic, "month": y + "-01", "code": "841-001-01",
			"generated_t": "0.05", "handed_over_t": "0.05", "note": "浏览器医废"}},
		{"med_facility", "浏览器蒸汽线", map[string]string{"unit_uscc": disposer, "year": y, "facility": "浏览器蒸汽线",
			"method": "高温蒸汽", "capacity_t": "10", "reserve_t": "5"}},
	}

	streamsBrowser(t, "industry", "工业固废、污泥、建筑垃圾和医疗废物", kinds, nil, "gisw_ledger", map[string]string{"unit_uscc": gen,
		"month": y + "-02", "category": "SW03", "generated_t": "100", "closing_stock_t": "1"}, "期末贮存量应为")
}

// TestLivingBrowser enters one record of each agricultural and household
// kind through its page as the city's regulator, sees it in the list, and
// finds it in the kind's export.
func TestLivingBrowser(t *testing.T) {
	y := fmt.Sprint(time.Now().In(calendar.Zone).Year())
	kinds := []streamKind{
		{"straw_township", "浏览器录入秸秆", map[string]string{"region_code": "340621", "township": "韩村镇", "year": y,
			"season": "夏季", "generated_t": "1000", "fertiliser_t": "900.5", "note": "浏览器录入秸秆"}},
		{"straw_site", "韩村镇浏览器收储点", map[string]string{"region_code": "340621", "township": "韩村镇",
			"name": "韩村镇浏览器收储点", "kind": "村级收储点", "capacity_t": "3000", "operator": "韩村股份经济合作社", "year": y}},
		{"farm_recovery", "浏览器回收站", map[string]string{"region_code": "340621", "recycler": "浏览器回收站", "year": y,
			"month": "1", "kind": "农膜", "used_t": "10", "recovered_t": "8.25"}},
		{"livestock_farm", "浏览器养殖场", map[string]string{"region_code": "340621", "township": "五沟镇", "farm": "浏览器养殖场",
			"year": y, "species": "生猪", "head": "3000", "facility": "配套", "manure_generated_t": "5000", "manure_used_t": "4500"}},
		{"msw_monthly", "浏览器月报", map[string]string{"region_code": "340603", "year": y, "month": "1", "stream": "其他垃圾",
			"collected_t": "5000", "incinerated_t": "5000", "note": "浏览器月报"}},
		{"kitchen_waste", "浏览器厨余站", map[string]string{"region_code": "340604", "facility": "浏览器厨余站", "year": y,
			"month": "1", "received_t": "100", "treated_t": "98", "biogas_m3": "6000"}},
		{"recycling_point", "浏览器交投点", map[string]string{"region_code": "340603", "kind": "交投点", "name": "浏览器交投点",
			"address": "相山区测试路 1 号", "operator": "淮北市供销再生资源有限公司", "year": y, "status": "运行"}},
		{"express_packaging", "浏览器快递年报", map[string]string{"region_code": "340604", "year": y, "parcels": "1000",
			"green_parcels": "900", "note": "浏览器快递年报"}},
		{"plastic_inspection", "浏览器农贸市场", map[string]string{"region_code": "340603", "inspected_on": y + "-01-15",
			"place": "浏览器农贸市场", "inspector": "市市场监管局", "findings": "未发现违规使用不可降解塑料袋"}},
		{"medical_recyclable", "浏览器医院", map[string]string{"region_code": "340603", "institution": "浏览器医院", "year": y,
			"month": "1", "bottles_t": "1.5", "bags_t": "0.5", "recycler": "淮北市医用可回收物综合利用有限公司"}},
	}

	// The counties a recycling point serves are checkboxes.
	clicks := map[string]string{"recycling_point": `#f-counties input[value="340603"]`}
	streamsBrowser(t, "living", "农业与生活领域固废", kinds, clicks, "straw_township", map[string]string{"region_code": "340621",
		"township": "渠沟镇", "year": y, "season": "秋季", "generated_t": "10"}, "不是濉溪县的乡镇")
}

// streamsBrowser logs in as the city's regulator at a section's index,
// enters each kind's record through its form (clicking what clicks name),
// sees it in the list, has a refused form show the field's error, and finds
// every record in its kind's export for the year.
func streamsBrowser(t *testing.T, section, heading string, kinds []streamKind, clicks map[string]string, refusedKind string,
	refused map[string]string, refusal string) {
	ctx, problems := browser(t)
	db, _ := storetest.SQLite(t)
	app, err := server.New(context.Background(), db, server.Config{Demo: true, DemoUnits: 3, Version: "test",
		KeyFile: filepath.Join(t.TempDir(), "audit.key")})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler)
	t.Cleanup(srv.Close)
	y := fmt.Sprint(time.Now().In(calendar.Zone).Year())

	step(t, ctx, "log in",
		chromedp.Navigate(srv.URL+"/login?next=/streams/"+section),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "sthjj"),
		chromedp.SendKeys(chromedp.CSS("#password"), "wufei-demo"),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/streams/`+kinds[0].name+`"]`)),
	)
	if h := text(t, ctx, "h1"); h != heading {
		t.Fatalf("index heading %q", h)
	}
	open := []chromedp.Action[chromedp.Void]{
		chromedp.Click(chromedp.CSS("details.generate summary")),
		chromedp.WaitVisible(chromedp.CSS(`#sheet-form button[type="submit"]`)),
	}
	for _, k := range kinds {
		actions := append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(srv.URL + "/streams/" + k.name)}, open...)
		for key, v := range k.form {
			actions = append(actions, chromedp.SetValue(chromedp.CSS("#f-"+key), v))
		}
		if c, ok := clicks[k.name]; ok {
			actions = append(actions, chromedp.Click(chromedp.CSS(c)))
		}
		actions = append(actions, chromedp.Click(chromedp.CSS(`#sheet-form button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS("p.flash")))
		step(t, ctx, "enter "+k.name, actions...)
		if s := text(t, ctx, "#sheet-table tbody"); !strings.Contains(s, k.marker) {
			t.Errorf("%s: list %q lacks %q", k.name, s, k.marker)
		}
	}
	screenshot(t, ctx, "streams-"+section+"-list")
	if p := problems(); len(p) > 0 {
		t.Errorf("browser console errors: %v", p)
	}

	// A refused form shows the field's error beside it (the 422 itself is
	// logged by the browser, so the console is checked before).
	actions := append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(srv.URL + "/streams/" + refusedKind)}, open...)
	for key, v := range refused {
		actions = append(actions, chromedp.SetValue(chromedp.CSS("#f-"+key), v))
	}
	actions = append(actions, chromedp.Click(chromedp.CSS(`#sheet-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".error-summary")))
	step(t, ctx, "refused form", actions...)
	if s := text(t, ctx, ".field-error"); !strings.Contains(s, refusal) {
		t.Errorf("field error %q", s)
	}

	// Each record is in its kind's export for the year.
	token := apiLogin(t, srv.URL, "sthjj")
	for _, k := range kinds {
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/export/"+k.name+".xlsx?year="+y, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		f, err := excelize.OpenReader(bytes.NewReader(raw))
		if res.StatusCode != 200 || err != nil {
			t.Fatalf("%s export: %d %v", k.name, res.StatusCode, err)
		}
		found := false
		for _, sh := range f.GetSheetList() {
			rows, _ := f.GetRows(sh)
			for _, r := range rows {
				found = found || strings.Contains(strings.Join(r, "|"), k.marker)
			}
		}
		if !found {
			t.Errorf("%s: %q not in the export", k.name, k.marker)
		}
	}
}
func apiLogin(t *testing.T, base, user string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": user, "password": "wufei-demo"})
	res, err := http.Post(base+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil || m.Token == "" {
		t.Fatalf("login %s: %v", user, err)
	}
	return m.Token
}
