package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"wufei/internal/calendar"

	"wufei/internal/alerts"
	"wufei/internal/api"
	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/catalog"
	"wufei/internal/hw/approval"
	"wufei/internal/hw/ledger"
	"wufei/internal/hw/manifest"
	"wufei/internal/hw/matching"
	"wufei/internal/hw/plan"
	"wufei/internal/hw/trace"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
	"wufei/internal/web"
)

// lifecyclePassword is every account's password in the lifecycle fixture.
const lifecyclePassword = "lifecycle-pass-1"

// lifecycle is a running UI with the three parties of a transfer: a
// coal-chemical generator, a carrier with a vehicle and a licensed disposer,
// plus a second generator and the city regulator, seeded through the
// services as the demo seeds them.
type lifecycle struct {
	fixture
	consignor, consignor2, carrier, disposer registry.Unit
}

func startLifecycle(t *testing.T, db *store.DB) lifecycle {
	t.Helper()
	ctx := context.Background()
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		if err := registry.SeedReference(ctx, tx); err != nil {
			return err
		}
		return catalog.Seed(ctx, tx)
	}); err != nil {
		t.Fatal(err)
	}
	authSvc, reg := auth.NewService(db), registry.NewService(db)
	admin := auth.Principal{Role: auth.Admin, UserID: "system", Username: "system"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	unit := func(in registry.NewUnit) registry.Unit {
		t.Helper()
		u, err := reg.CreateUnit(ctx, admin, in)
		must(err)
		return u
	}
	ptr := func(f float64) *float64 { return &f }
	var l lifecycle
	l.consignor = unit(registry.NewUnit{USCC: registry.MakeUSCC("91", "340621", "MA2N8C01"), Name: "淮北濉溪临涣煤化有限公司",
		Roles: []registry.UnitRole{registry.Generator}, RegionCode: "340621", ParkCode: "340621P01",
		Longitude: ptr(116.571), Latitude: ptr(33.692), ContactName: "王建国", ContactPhone: "0561-6012345"})
	l.consignor2 = unit(registry.NewUnit{USCC: registry.MakeUSCC("91", "340603", "MA2P4D02"), Name: "淮北市相山区顺达汽车维修服务有限公司",
		Roles: []registry.UnitRole{registry.Generator}, RegionCode: "340603"})
	l.carrier = unit(registry.NewUnit{USCC: registry.MakeUSCC("91", "340602", "MA2Q7E03"), Name: "淮北安运危险货物运输有限公司",
		Roles: []registry.UnitRole{registry.Carrier}, RegionCode: "340602"})
	valid := time.Now().AddDate(2, 0, 0)
	_, err := reg.CreateVehicle(ctx, admin, registry.NewVehicle{UnitID: l.carrier.ID, Plate: "皖F3A721",
		PermitNo: "皖交运管许可淮字340602000123号", Kind: "厢式货车", CapacityT: 10, PermitValidTo: &valid})
	must(err)
	l.disposer = unit(registry.NewUnit{USCC: registry.MakeUSCC("91", "340604", "MA2R2F04"), Name: "淮北绿源环境科技有限公司",
		Roles: []registry.UnitRole{registry.Utiliser, registry.Disposer}, RegionCode: "340604",
		Longitude: ptr(116.861), Latitude: ptr(33.889)})
	from := time.Now().AddDate(-1, 0, 0)
	_, err = reg.CreateLicence(ctx, admin, registry.NewLicence{UnitID: l.disposer.ID, Number: "皖危废经许字3406040001号",
		Kinds: []registry.LicenceKind{registry.Collect, registry.Store, registry.Utilise, registry.Dispose}, CapacityT: 20000,
		ValidFrom: from, ValidTo: from.AddDate(5, 0, 0),
		Scopes: []registry.LicenceScope{{Category: "HW08", Method: "R9"}, {Category: "HW08", Method: "D10"},
			{Category: "HW49", Method: "D10"}, {Category: "HW50", Method: "R8"}}})
	must(err)
	_, err = reg.CreateFacility(ctx, admin, registry.NewFacility{UnitID: l.consignor.ID, Code: "SC001", Kind: "generation",
		Name: "焦油渣产生工段"})
	must(err)
	dep, err := reg.DepartmentByCode(ctx, "sthjj")
	must(err)
	for _, u := range []auth.NewUser{
		{Username: "gen", DisplayName: "王建国", Role: auth.UnitAdmin, UnitID: l.consignor.ID},
		{Username: "gen2", DisplayName: "李明", Role: auth.UnitAdmin, UnitID: l.consignor2.ID},
		{Username: "carrier", DisplayName: "张磊", Role: auth.UnitAdmin, UnitID: l.carrier.ID},
		{Username: "disposer", DisplayName: "陈静", Role: auth.UnitAdmin, UnitID: l.disposer.ID},
		{Username: "sthjj", DisplayName: "市生态环境局固废科", Role: auth.Regulator, RegionCode: auth.CityCode,
			DepartmentID: dep.ID},
	} {
		u.Password = lifecyclePassword
		_, err := authSvc.CreateUser(ctx, admin, u)
		must(err)
	}
	lg, err := audit.LoadOrCreateSigner(ctx, db, filepath.Join(t.TempDir(), "audit.key"), "wufei.test")
	must(err)
	manifests := manifest.NewService(db)
	mux := http.NewServeMux()
	mux.Handle("/", web.New(web.Deps{Auth: authSvc, Registry: reg, DB: db, Version: "test", Cookie: cookieName,
		Ledger: ledger.NewService(db), Manifests: manifests, Alerts: alerts.NewService(db),
		Trace: trace.NewService(db, manifests, lg), Matching: matching.NewService(db), Plans: plan.NewService(db),
		Approvals: approval.NewService(db)}))
	srv := httptest.NewServer(api.Authenticate(authSvc, cookieName)(mux))
	t.Cleanup(srv.Close)
	l.fixture = fixture{srv: srv}
	return l
}

// as logs a lifecycle account in.
func (l lifecycle) as(t *testing.T, user string) *http.Client {
	t.Helper()
	c := l.client()
	p := l.do(t, c, "POST", "/login", url.Values{"username": {user}, "password": {lifecyclePassword}, "next": {"/"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("log in %s: %d\n%s", user, p.status, p.body)
	}
	return c
}

// lacks fails if the page holds any of the strings.
func lacks(t *testing.T, p page, not ...string) {
	t.Helper()
	for _, n := range not {
		if strings.Contains(p.body, n) {
			t.Errorf("page has %q:\n%s", n, p.body)
		}
	}
}

// wantStatus fails the test unless the page has the status.
func wantStatus(t *testing.T, what string, p page, status int) {
	t.Helper()
	if p.status != status {
		t.Fatalf("%s: status %d, want %d\n%s", what, p.status, status, p.body)
	}
}

// draftForm is the new-manifest form with one waste line in row at and the
// other rows left empty.
func (l lifecycle) draftForm(code, quantity string, at int) url.Values {
	v := url.Values{"receiver_unit_id": {l.disposer.ID}, "carrier_unit_id": {l.carrier.ID}, "vehicle_plate": {"皖F3A721"},
		"emergency_measures": {"泄漏时用沙土围堵，远离火源"}}
	for i := range 5 {
		row := map[string]string{"waste_code": "", "quantity_t": "", "form": "S", "packaging": "", "package_count": "",
			"container_ids": ""}
		if i == at {
			row = map[string]string{"waste_code": code, "quantity_t": quantity, "form": "L", "packaging": "桶",
				"package_count": "6", "container_ids": ""}
		}
		for k, x := range row {
			v.Add(k, x)
		}
	}
	return v
}

var manifestLink = regexp.MustCompile(`^/manifests/([0-9a-f-]{36})$`)

// create creates a draft through the form and returns its page path.
func (l lifecycle) create(t *testing.T, c *http.Client, code, quantity string) string {
	t.Helper()
	p := l.do(t, c, "POST", "/manifests/new", l.draftForm(code, quantity, 0))
	wantStatus(t, "create", p, http.StatusSeeOther)
	loc := p.header.Get("Location")
	if !manifestLink.MatchString(loc) {
		t.Fatalf("create went to %q", loc)
	}
	return loc
}

// version reads the version a page's action forms carry.
func version(t *testing.T, p page) string {
	t.Helper()
	m := regexp.MustCompile(`name="version" value="([0-9]+)"`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no version on the page:\n%s", p.body)
	}
	return m[1]
}

// act posts one of a manifest's actions from its page, with the version
// the page shows, and returns the response.
func (l lifecycle) act(t *testing.T, c *http.Client, path, action string, form url.Values) page {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("version", version(t, l.do(t, c, "GET", path, nil)))
	return l.do(t, c, "POST", path+"/"+action, form)
}

// actions are the action forms of a manifest page, by id.
var actionForms = []string{"act-submit", "act-cancel", "act-pickup", "act-handover", "act-deliver", "act-receive", "act-complete"}

// offers checks that a manifest page offers exactly the actions named.
func offers(t *testing.T, who string, p page, want ...string) {
	t.Helper()
	for _, a := range actionForms {
		has := strings.Contains(p.body, `id="`+a+`"`)
		if wanted := contains1(want, a); has != wanted {
			t.Errorf("%s: action %s offered %v, want %v", who, a, has, wanted)
		}
	}
}

func contains1(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// TestManifestPages walks a manifest from draft to completed through the
// pages as the three parties: each sees only the actions its party may take
// in the manifest's status, a refused action comes back with the error, and
// the print view, alerts and trace show the result.
func TestManifestPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		l := startLifecycle(t, db)
		gen, gen2, carrier, disposer, sthjj := l.as(t, "gen"), l.as(t, "gen2"), l.as(t, "carrier"), l.as(t, "disposer"),
			l.as(t, "sthjj")

		// The list: a consignor may start one, a carrier may not.
		p := l.do(t, gen, "GET", "/manifests", nil)
		wantStatus(t, "list", p, http.StatusOK)
		contains(t, p, "<h1>转移联单</h1>", `href="/manifests/new"`, "没有符合条件的记录", `aria-current="page">联单`)
		lacks(t, l.do(t, carrier, "GET", "/manifests", nil), `href="/manifests/new"`)
		wantStatus(t, "carrier's new form", l.do(t, carrier, "GET", "/manifests/new", nil), http.StatusForbidden)

		// The form lists licensed receivers, carriers, plates and codes.
		p = l.do(t, gen, "GET", "/manifests/new?receiver="+l.disposer.ID+"&waste_code=900-249-08&quantity_t=5", nil)
		wantStatus(t, "new form", p, http.StatusOK)
		contains(t, p, `<option value="`+l.disposer.ID+`" selected>淮北绿源环境科技有限公司（皖危废经许字3406040001号）`,
			`<option value="`+l.carrier.ID+`">淮北安运危险货物运输有限公司`, `<option value="皖F3A721">`,
			`<option value="900-249-08">`, `value="900-249-08"`, `value="5"`, `href="/matching"`)
		lacks(t, p, `<option value="`+l.consignor2.ID+`"`)

		// Refused: no lines at all, and a quantity that is not a number in row 3.
		p = l.do(t, gen, "POST", "/manifests/new", url.Values{"receiver_unit_id": {l.disposer.ID},
			"carrier_unit_id": {l.carrier.ID}, "vehicle_plate": {"皖F3A721"}})
		wantStatus(t, "no lines", p, http.StatusUnprocessableEntity)
		contains(t, p, `class="alert error-summary"`, "联单须有 1 至 50 行", `href="#f-lines"`)
		form := l.draftForm("900-249-08", "很多", 2)
		p = l.do(t, gen, "POST", "/manifests/new", form)
		wantStatus(t, "bad quantity", p, http.StatusUnprocessableEntity)
		contains(t, p, `href="#f-lines-2-quantity_t"`, "请填写不小于 0 的数字", `value="很多"`)
		// A code the catalogue lacks, in row 2 (the service's lines[0]), is shown on row 2.
		p = l.do(t, gen, "POST", "/manifests/new", l.draftForm("999-999-99", "1", 1))
		wantStatus(t, "unknown code", p, http.StatusUnprocessableEntity)
		contains(t, p, `href="#f-lines-1-waste_code"`, "名录中没有该废物代码")

		path := l.create(t, gen, "900-249-08", "1.2")
		id := manifestLink.FindStringSubmatch(path)[1]
		p = l.do(t, gen, "GET", path, nil)
		contains(t, p, `class="flash"`, "联单草稿已保存", `id="manifest-status">草稿`, "淮北安运危险货物运输有限公司",
			"皖F3A721", "900-249-08", "1.2 吨", "泄漏时用沙土围堵", "填写联单", `href="/api/v1/audit/entries/`,
			`href="/manifests/`+id+`/print"`)
		number := regexp.MustCompile(`<span class="code">(\d{14})</span></h1>`).FindStringSubmatch(p.body)
		if number == nil || !strings.HasPrefix(number[1], time.Now().In(calendar.Zone).Format("2006")+"3406") {
			t.Fatalf("no manifest number in the heading:\n%s", p.body)
		}
		offers(t, "consignor on a draft", p, "act-submit", "act-cancel")
		if again := l.do(t, gen, "GET", path, nil); strings.Contains(again.body, `class="flash"`) {
			t.Error("the flash message shows twice")
		}
		// A draft is the consignor's own.
		wantStatus(t, "carrier reads a draft", l.do(t, carrier, "GET", path, nil), http.StatusNotFound)

		wantStatus(t, "submit", l.act(t, gen, path, "submit", nil), http.StatusSeeOther)
		p = l.do(t, gen, "GET", path, nil)
		contains(t, p, `id="manifest-status">已提交`, "联单已提交", "管理计划中没有 900-249-08")
		offers(t, "consignor on submitted", p, "act-cancel")
		offers(t, "carrier on submitted", l.do(t, carrier, "GET", path, nil), "act-pickup")
		offers(t, "receiver on submitted", l.do(t, disposer, "GET", path, nil))
		offers(t, "regulator", l.do(t, sthjj, "GET", path, nil))
		wantStatus(t, "gen2 reads it", l.do(t, gen2, "GET", path, nil), http.StatusNotFound)

		// The wrong party: the page again, with the service's reason.
		p = l.do(t, gen, "POST", path+"/pickup", url.Values{"version": {version(t, p)}})
		wantStatus(t, "consignor picks up", p, http.StatusForbidden)
		contains(t, p, "只有本联单的承运单位可以执行此操作", `id="manifest-status">已提交`)
		// The wrong moment.
		p = l.do(t, disposer, "POST", path+"/complete", url.Values{"line_no": {"1"}, "method": {"R9"}})
		wantStatus(t, "complete before receipt", p, http.StatusConflict)

		wantStatus(t, "pickup", l.act(t, carrier, path, "pickup", nil), http.StatusSeeOther)
		p = l.do(t, carrier, "GET", path, nil)
		contains(t, p, `id="manifest-status">运输中`, "已确认起运", "接收确认期限")
		offers(t, "carrier in transit", p, "act-deliver")
		offers(t, "consignor in transit", l.do(t, gen, "GET", path, nil))
		p = l.do(t, disposer, "GET", path, nil)
		offers(t, "receiver in transit", p, "act-receive")

		// Receipt: a line without its weight is refused beside the field.
		p = l.act(t, disposer, path, "receive", url.Values{"line_no": {"1"}, "received_t": {""}})
		wantStatus(t, "receive without weight", p, http.StatusUnprocessableEntity)
		contains(t, p, "须填写实收量", `id="f-lines-0-received_t"`, `aria-invalid="true"`)
		p = l.act(t, disposer, path, "receive", url.Values{"line_no": {"1"}, "received_t": {"1.0"}})
		wantStatus(t, "receive", p, http.StatusSeeOther)
		p = l.do(t, disposer, "GET", path, nil)
		contains(t, p, `id="manifest-status">已接收`, "1 吨", `<option value="R9">R9</option>`, `<option value="D10">D10</option>`)
		lacks(t, p, `<option value="R8">`)
		offers(t, "receiver on received", p, "act-complete")

		// Completion with a method the licence does not allow for the code.
		p = l.act(t, disposer, path, "complete", url.Values{"line_no": {"1"}, "method": {"R8"}})
		wantStatus(t, "complete by R8", p, http.StatusUnprocessableEntity)
		contains(t, p, "不允许以 R8 方式利用/处置 900-249-08", `id="f-lines-0-method"`)
		wantStatus(t, "complete", l.act(t, disposer, path, "complete", url.Values{"line_no": {"1"}, "method": {"R9"}}),
			http.StatusSeeOther)
		p = l.do(t, gen, "GET", path, nil)
		contains(t, p, `id="manifest-status">已完成`, "填写联单", "提交", "起运", "接收", "利用处置完成", "carrier", "disposer")
		if n := strings.Count(p.body, `class="signed-step"`); n != 5 {
			t.Errorf("%d signed steps, want 5", n)
		}
		offers(t, "consignor on completed", p)

		// The print view: one A4 sheet with the number, the QR code and the signatures.
		p = l.do(t, gen, "GET", path+"/print", nil)
		wantStatus(t, "print", p, http.StatusOK)
		contains(t, p, "危险废物转移联单", number[1], `<svg xmlns="http://www.w3.org/2000/svg"`, `class="qr"`,
			"扫码查看电子联单", "签署记录", "R9", "淮北绿源环境科技有限公司", `<script nonce="`)
		if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self' 'nonce-") {
			t.Errorf("print CSP: %q", csp)
		}
		wantStatus(t, "gen2 prints it", l.do(t, gen2, "GET", path+"/print", nil), http.StatusNotFound)

		// Lists by status and role, as a fragment for htmx.
		p = l.do(t, gen, "GET", "/manifests?status=completed&role=consignor", nil, "HX-Request", "true")
		if !strings.HasPrefix(strings.TrimSpace(p.body), `<div id="manifests-table"`) || !strings.Contains(p.body, number[1]) {
			t.Errorf("list fragment:\n%s", p.body)
		}
		p = l.do(t, carrier, "GET", "/manifests?role=consignor", nil)
		lacks(t, p, number[1])
		contains(t, l.do(t, carrier, "GET", "/manifests?role=carrier", nil), number[1], "已完成")
		wantStatus(t, "bad status", l.do(t, gen, "GET", "/manifests?status=lost", nil), http.StatusUnprocessableEntity)
		contains(t, l.do(t, sthjj, "GET", "/manifests?number="+number[1], nil), number[1])

		// Alerts: 1.0 t received against 1.2 t declared.
		p = l.do(t, gen, "GET", "/alerts", nil)
		contains(t, p, "联单 "+number[1]+" 实收重量与申报不符", "实收重量与申报不符", `href="/manifests/`+id+`"`,
			`action="/alerts/`)
		contains(t, l.do(t, sthjj, "GET", "/alerts?kind=weight_discrepancy", nil), number[1])
		lacks(t, l.do(t, gen2, "GET", "/alerts", nil), number[1])
		alertID := regexp.MustCompile(`action="/alerts/([0-9a-f-]{36})/acknowledge"`).FindStringSubmatch(p.body)
		if alertID == nil {
			t.Fatalf("no acknowledge form:\n%s", p.body)
		}
		ver := regexp.MustCompile(`id="alert-` + alertID[1] + `"[\s\S]*?name="version" value="(\d+)"`).FindStringSubmatch(p.body)[1]
		p = l.do(t, gen, "POST", "/alerts/"+alertID[1]+"/acknowledge", url.Values{"version": {ver}, "back": {"/alerts?kind=weight_discrepancy"}})
		if p.status != http.StatusSeeOther || p.header.Get("Location") != "/alerts?kind=weight_discrepancy" {
			t.Fatalf("acknowledge: %d %q", p.status, p.header.Get("Location"))
		}
		p = l.do(t, sthjj, "GET", "/alerts?status=acknowledged", nil)
		contains(t, p, number[1], "处理中", `action="/alerts/`+alertID[1]+`/close"`)
		ver = regexp.MustCompile(`id="alert-` + alertID[1] + `"[\s\S]*?name="version" value="(\d+)"`).FindStringSubmatch(p.body)[1]
		p = l.do(t, sthjj, "POST", "/alerts/"+alertID[1]+"/close", url.Values{"version": {ver}, "back": {"/alerts"}})
		wantStatus(t, "close without a note", p, http.StatusUnprocessableEntity)
		contains(t, p, "关闭预警须写明处理情况")
		p = l.do(t, sthjj, "POST", "/alerts/"+alertID[1]+"/close", url.Values{"version": {ver}, "note": {"已核实为计量误差"},
			"back": {"//evil.example/"}})
		if p.status != http.StatusSeeOther || p.header.Get("Location") != "/alerts" {
			t.Fatalf("close: %d %q", p.status, p.header.Get("Location"))
		}
		contains(t, l.do(t, gen, "GET", "/alerts?status=closed", nil), "已核实为计量误差", "已关闭")

		// Trace: the chain with its parties and audit entries.
		p = l.do(t, sthjj, "GET", "/trace?ref="+number[1], nil)
		wantStatus(t, "trace", p, http.StatusOK)
		contains(t, p, "移出人", "淮北濉溪临涣煤化有限公司", "承运人", "接受人", `class="timeline"`, "填写联单", "利用处置完成",
			`href="/api/v1/audit/entries/`)
		if n := strings.Count(p.body, `class="trace-step"`); n < 5 {
			t.Errorf("trace shows %d steps", n)
		}
		p = l.do(t, gen2, "GET", "/trace?ref="+number[1], nil)
		wantStatus(t, "gen2 traces it", p, http.StatusNotFound)
		contains(t, p, "不存在或无权查看", `aria-invalid="true"`)

		// Matching ranks the disposer and starts a manifest to it.
		p = l.do(t, gen, "GET", "/matching?waste_code=900-249-08&quantity_t=5", nil)
		contains(t, p, "淮北绿源环境科技有限公司", "皖危废经许字3406040001号", "R9", "/manifests/new?quantity_t=5&amp;receiver="+l.disposer.ID)
		p = l.do(t, gen, "GET", "/matching?waste_code=841-001-01", nil)
		contains(t, p, "没有可接收该废物的持证单位")
	})
}

// TestManifestRefusals covers the other ways a manifest ends or is stopped:
// a code outside the receiver's licence at submission, and voiding.
func TestManifestRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		l := startLifecycle(t, db)
		gen := l.as(t, "gen")
		path := l.create(t, gen, "841-001-01", "0.5")
		p := l.act(t, gen, path, "submit", nil)
		wantStatus(t, "submit HW01 to the disposer", p, http.StatusUnprocessableEntity)
		contains(t, p, `class="alert error-summary"`, "接受单位的经营许可证不包含该废物代码: 841-001-01",
			`href="#f-lines-0-waste_code"`, `id="manifest-status">草稿`)

		p = l.act(t, gen, path, "cancel", url.Values{"reason": {" "}})
		wantStatus(t, "cancel without a reason", p, http.StatusUnprocessableEntity)
		contains(t, p, "作废须说明原因")
		wantStatus(t, "cancel", l.act(t, gen, path, "cancel", url.Values{"reason": {"代码填错，重新填写"}}), http.StatusSeeOther)
		p = l.do(t, gen, "GET", path, nil)
		contains(t, p, `id="manifest-status">已作废`, "联单已作废", "作废")
		offers(t, "consignor on cancelled", p)

		// An action the page does not know is not found; so is another's manifest.
		wantStatus(t, "unknown action", l.do(t, gen, "POST", path+"/teleport", url.Values{}), http.StatusNotFound)
		wantStatus(t, "unknown manifest", l.do(t, gen, "GET", "/manifests/0190ca5e-0000-7000-8000-000000000000", nil),
			http.StatusNotFound)
		// Pages need a session.
		p = l.do(t, l.client(), "GET", path, nil)
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/login?next=") {
			t.Errorf("anonymous: %d %q", p.status, p.header.Get("Location"))
		}
		// A cross-site form post is refused before it reaches the handler.
		p = l.do(t, gen, "POST", path+"/submit", url.Values{}, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
		wantStatus(t, "cross-site submit", p, http.StatusForbidden)
	})
}

// TestFilingPages checks the plan, declaration, container and approval pages
// render for the accounts that use them and take their forms.
func TestFilingPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		l := startLifecycle(t, db)
		gen, sthjj := l.as(t, "gen"), l.as(t, "sthjj")
		year := time.Now().In(calendar.Zone).Format("2006")

		// A plan: a refused line is shown on its row; then created, filed and returned.
		p := l.do(t, gen, "GET", "/plans", nil)
		wantStatus(t, "plans", p, http.StatusOK)
		contains(t, p, "编制管理计划", `action="/plans"`, `href="/declarations"`)
		plan := url.Values{"year": {year}, "reduction_measures": {"焦油渣回炉配煤，减少外委处置量"}}
		for i := range 5 {
			code, qt := "", ""
			if i == 1 {
				code, qt = "252-002-11", "120"
			}
			for k, v := range map[string]string{"waste_code": code, "name": "", "form": "SS", "planned_t": qt, "last_year_t": qt, "source": ""} {
				plan.Add(k, v)
			}
		}
		bad := url.Values{}
		for k, v := range plan {
			bad[k] = append([]string(nil), v...)
		}
		bad["waste_code"][1] = "999-999-99"
		p = l.do(t, gen, "POST", "/plans", bad)
		wantStatus(t, "bad plan", p, http.StatusUnprocessableEntity)
		contains(t, p, `href="#f-generation-1-waste_code"`)
		p = l.do(t, gen, "POST", "/plans", plan)
		wantStatus(t, "create plan", p, http.StatusSeeOther)
		planPath := p.header.Get("Location")
		p = l.do(t, gen, "GET", planPath, nil)
		contains(t, p, "管理计划草稿已保存", "252-002-11", "120 吨", "提交备案", "焦油渣回炉配煤")
		p = l.do(t, gen, "POST", planPath+"/submit", url.Values{"version": {version(t, p)}})
		wantStatus(t, "file plan", p, http.StatusSeeOther)
		p = l.do(t, sthjj, "GET", planPath, nil)
		contains(t, p, "已备案", "HWGL"+year, `action="`+planPath+`/return"`)
		p = l.do(t, sthjj, "POST", planPath+"/return", url.Values{"version": {version(t, p)}})
		wantStatus(t, "return without reason", p, http.StatusUnprocessableEntity)
		contains(t, p, "须写明退回原因")
		p = l.do(t, sthjj, "POST", planPath+"/return", url.Values{"version": {version(t, p)}, "reason": {"产生量与上年差异较大，请说明"}})
		wantStatus(t, "return", p, http.StatusSeeOther)
		contains(t, l.do(t, gen, "GET", planPath, nil), "已退回", "产生量与上年差异较大")
		contains(t, l.do(t, sthjj, "GET", "/plans", nil), "淮北濉溪临涣煤化有限公司")

		// Declarations: the schedule for the year.
		p = l.do(t, gen, "GET", "/declarations", nil)
		wantStatus(t, "declarations", p, http.StatusOK)
		contains(t, p, "申报", year, `id="schedule"`)

		// Containers: generate two, then the list links to their labels and the A4 sheet.
		p = l.do(t, gen, "POST", "/containers", url.Values{"waste_code": {"900-249-08"}, "form": {"L"}, "quantity_t": {"0.4"},
			"count": {"2"}, "packaging": {"铁桶"}, "volume_l": {"200"}, "facility_code": {"SC001"}})
		wantStatus(t, "generate", p, http.StatusSeeOther)
		p = l.do(t, gen, "GET", "/containers", nil)
		contains(t, p, "已登记产生并生成容器", `href="/l/`, `/label.svg"`, `/label.png"`, `action="/labels/sheet"`, "0.2 吨")
		p = l.do(t, gen, "POST", "/containers", url.Values{"waste_code": {"900-249-08"}, "form": {"L"}, "quantity_t": {"0.4"},
			"count": {"2"}, "packaging": {""}, "volume_l": {""}})
		wantStatus(t, "generate without volume", p, http.StatusUnprocessableEntity)
		contains(t, p, `href="#f-volume_l"`)

		// Approvals: regulators record them; a unit only reads.
		p = l.do(t, sthjj, "GET", "/approvals", nil)
		wantStatus(t, "approvals", p, http.StatusOK)
		contains(t, p, "登记跨省转移审批", "白名单路线", `aria-current="page">审批`)
		p = l.do(t, sthjj, "POST", "/approvals", url.Values{"number": {""}, "waste_code": {"", "", ""}, "quantity_t": {"", "", ""}})
		wantStatus(t, "empty approval", p, http.StatusUnprocessableEntity)
		// Whitelist routes: a receiver in the same province is refused under
		// the route form; one in Jiangsu is recorded.
		route := url.Values{"consignor_unit_id": {l.consignor.ID}, "receiver_unit_id": {l.disposer.ID},
			"waste_codes": {"900-249-08, 261-151-50"}, "valid_from": {"2026-01-01"}, "valid_to": {"2026-12-31"}, "reference": {"长三角白名单"}}
		p = l.do(t, sthjj, "POST", "/approvals/routes", route)
		wantStatus(t, "route inside Anhui", p, http.StatusUnprocessableEntity)
		contains(t, p, `id="route-form" open`)
		js, err := registry.NewService(db).CreateUnit(context.Background(), auth.Principal{Role: auth.Admin, UserID: "t", Username: "t"},
			registry.NewUnit{USCC: registry.MakeUSCC("91", "320000", "MA1R0UT1"), Name: "江苏示范再生资源利用有限公司",
				Roles: []registry.UnitRole{registry.Utiliser}, RegionCode: "320000"})
		if err != nil {
			t.Fatal(err)
		}
		route.Set("receiver_unit_id", js.ID)
		wantStatus(t, "route to Jiangsu", l.do(t, sthjj, "POST", "/approvals/routes", route), http.StatusSeeOther)
		contains(t, l.do(t, sthjj, "GET", "/approvals", nil), "江苏示范再生资源利用有限公司", "白名单路线已登记")
		lacks(t, l.do(t, gen, "GET", "/approvals", nil), `action="/approvals"`, `action="/approvals/routes"`)
		lacks(t, l.do(t, gen, "GET", "/manifests", nil), `href="/approvals"`) // "/" sends a signed-in user to the workbench
		contains(t, l.do(t, gen, "GET", "/manifests", nil), `href="/containers"`, `href="/plans"`)
	})
}

// TestManifestRevisionPages asks for a correction from the manifest page and
// approves it as the other party.
func TestManifestRevisionPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		l := startLifecycle(t, db)
		gen, disposer := l.as(t, "gen"), l.as(t, "disposer")
		path := l.create(t, gen, "900-249-08", "1.2")
		wantStatus(t, "submit", l.act(t, gen, path, "submit", nil), http.StatusSeeOther)
		p := l.do(t, gen, "GET", path, nil)
		contains(t, p, `id="act-revise"`)

		form := url.Values{"revision_line_no": {"1"}, "revision_quantity_t": {"0.8"}, "revision_received_t": {""},
			"revision_accepted_t": {""}, "revision_refused_t": {""}, "revision_method": {""}, "revision_reason": {" "}}
		wantStatus(t, "revise without a reason", l.do(t, gen, "POST", path+"/revise", form), http.StatusUnprocessableEntity)
		form.Set("revision_reason", "复核过磅，实为 0.8 吨")
		wantStatus(t, "revise", l.do(t, gen, "POST", path+"/revise", form), http.StatusSeeOther)

		p = l.do(t, gen, "GET", path, nil)
		contains(t, p, "复核过磅，实为 0.8 吨", "待审批", "quantity_t=0.8")
		lacks(t, p, `id="act-revise"`, "approve-revision") // one pending at a time; the author does not approve
		p = l.do(t, disposer, "GET", path, nil)
		contains(t, p, `/approve-revision"`)
		id := regexp.MustCompile(`name="revision_id" value="([0-9a-f-]{36})"`).FindStringSubmatch(p.body)
		if id == nil {
			t.Fatalf("no revision id on the receiver's page:\n%s", p.body)
		}
		wantStatus(t, "approve", l.do(t, disposer, "POST", path+"/approve-revision",
			url.Values{"revision_id": {id[1]}, "comment": {"同意"}}), http.StatusSeeOther)
		p = l.do(t, gen, "GET", path, nil)
		contains(t, p, "已生效", "0.8 吨")
	})
}

// TestManifestDraftEditing corrects a draft through its form before it is
// submitted; once submitted it can no longer be edited.
func TestManifestDraftEditing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		l := startLifecycle(t, db)
		gen := l.as(t, "gen")
		path := l.create(t, gen, "900-249-08", "1.2")
		p := l.do(t, gen, "GET", path+"/edit", nil)
		wantStatus(t, "edit form", p, http.StatusOK)
		contains(t, p, `action="`+path+`/edit"`, `value="900-249-08"`, `value="1.2"`)
		form := l.draftForm("900-249-08", "0.9", 0)
		form.Set("version", version(t, p))
		wantStatus(t, "save", l.do(t, gen, "POST", path+"/edit", form), http.StatusSeeOther)
		contains(t, l.do(t, gen, "GET", path, nil), "0.9 吨")
		form.Set("version", "1") // stale
		wantStatus(t, "stale save", l.do(t, gen, "POST", path+"/edit", form), http.StatusConflict)

		// Two legs: the second carrier's row keeps its own error, and the
		// draft keeps both legs, in order, through the edit form.
		form.Set("version", version(t, l.do(t, gen, "GET", path+"/edit", nil)))
		form["carrier_unit_id"] = []string{l.carrier.ID, l.disposer.ID, ""}
		form["vehicle_plate"] = []string{"皖F3A721", "皖F0B002", ""}
		p = l.do(t, gen, "POST", path+"/edit", form)
		wantStatus(t, "second leg not a carrier", p, http.StatusUnprocessableEntity)
		contains(t, p, `href="#f-carriers-1-carrier_unit_id"`, "该单位不是登记的承运单位", `value="皖F0B002"`)
		form["carrier_unit_id"] = []string{l.carrier.ID, l.carrier.ID, ""}
		wantStatus(t, "two legs", l.do(t, gen, "POST", path+"/edit", form), http.StatusSeeOther)
		p = l.do(t, gen, "GET", path+"/edit", nil)
		contains(t, p, `id="f-carriers-0-vehicle_plate" name="vehicle_plate" value="皖F3A721"`,
			`id="f-carriers-1-vehicle_plate" name="vehicle_plate" value="皖F0B002"`)
		lacks(t, p, `id="f-carriers-2-vehicle_plate" name="vehicle_plate" value="皖`)
		p = l.do(t, gen, "GET", path, nil)
		if a, b := strings.Index(p.body, "皖F3A721"), strings.Index(p.body, "皖F0B002"); a < 0 || b < a {
			t.Fatalf("the manifest page does not show both legs in order:\n%s", p.body)
		}
		// Back to one leg, whose vehicle is registered, to submit.
		form = l.draftForm("900-249-08", "0.9", 0)
		form.Set("version", version(t, l.do(t, gen, "GET", path+"/edit", nil)))
		wantStatus(t, "one leg again", l.do(t, gen, "POST", path+"/edit", form), http.StatusSeeOther)

		wantStatus(t, "submit", l.act(t, gen, path, "submit", nil), http.StatusSeeOther)
		wantStatus(t, "edit a submitted manifest", l.do(t, gen, "GET", path+"/edit", nil), http.StatusConflict)
	})
}
