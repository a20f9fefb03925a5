package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"wufei/internal/auth"
	"wufei/internal/hw/ledger"
	"wufei/internal/hw/manifest"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// pickupAddress is where the field tests' consignor has its waste picked up.
const pickupAddress = "濉溪县临涣镇煤化工业园纬三路 6 号"

// fieldDriver drives for the field tests' carrier; not the demo's "driver",
// so the fixture never shares a name with the demo log-ins.
const fieldDriver = "liu"

// fieldWorld is the lifecycle fixture with a driver of the carrier, the
// consignor's address and storage facility, and a submitted manifest of
// three drums, each with its digital id.
type fieldWorld struct {
	lifecycle
	db       *store.DB
	gen      auth.Principal
	manifest manifest.Manifest
	ids      []string // the manifest's containers
	stray    string   // a container of the consignor not on the manifest
}

// principal signs a lifecycle account in through the auth service.
func principal(t *testing.T, db *store.DB, user string) auth.Principal {
	t.Helper()
	ctx := context.Background()
	as := auth.NewService(db)
	sess, err := as.Login(ctx, user, lifecyclePassword)
	if err != nil {
		t.Fatalf("log in %s: %v", user, err)
	}
	p, err := as.Authenticate(ctx, sess.Token)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// generate records count drums of waste oil for the consignor.
func generate(t testing.TB, db *store.DB, p auth.Principal, count int) []string {
	t.Helper()
	g, err := ledger.NewService(db).RecordGeneration(context.Background(), p, ledger.NewGeneration{WasteCode: "900-249-08",
		Form: "L", Packaging: "铁桶", VolumeL: 200, Count: count, QuantityT: 0.2 * float64(count)})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range g.Items {
		ids = append(ids, c.DigitalID)
	}
	return ids
}

func startField(t *testing.T, db *store.DB) fieldWorld {
	t.Helper()
	ctx := context.Background()
	w := fieldWorld{lifecycle: startLifecycle(t, db), db: db}
	admin := auth.Principal{Role: auth.Admin, UserID: "system", Username: "system"}
	reg := registry.NewService(db)
	u, err := reg.GetUnit(ctx, admin, w.consignor.ID)
	if err != nil {
		t.Fatal(err)
	}
	addr := pickupAddress
	if _, err := reg.UpdateUnit(ctx, admin, u.ID, registry.UnitPatch{Version: u.Version, Address: &addr}); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.CreateFacility(ctx, admin, registry.NewFacility{UnitID: u.ID, Code: "ZC001", Kind: "storage",
		Name: "危险废物贮存库 1 号", CapacityT: 300}); err != nil {
		t.Fatal(err)
	}
	if _, err := auth.NewService(db).CreateUser(ctx, admin, auth.NewUser{Username: fieldDriver, DisplayName: "刘师傅",
		Password: lifecyclePassword, Role: auth.Driver, UnitID: w.carrier.ID}); err != nil {
		t.Fatal(err)
	}
	w.gen = principal(t, db, "gen")
	w.ids = generate(t, db, w.gen, 3)
	w.stray = generate(t, db, w.gen, 1)[0]
	ms := manifest.NewService(db)
	m, err := ms.Create(ctx, w.gen, manifest.Input{ReceiverUnitID: w.disposer.ID,
		Carriers: []manifest.LegInput{{CarrierUnitID: w.carrier.ID, VehiclePlate: "皖F3A721"}},
		Lines: []manifest.LineInput{{WasteCode: "900-249-08", QuantityT: 0.6, Form: "L", Packaging: "铁桶", PackageCount: 3,
			ContainerIDs: w.ids}},
		EmergencyMeasures: "泄漏时用沙土围堵，远离火源"})
	if err != nil {
		t.Fatal(err)
	}
	if w.manifest, err = ms.Submit(ctx, w.gen, m.ID, m.Version); err != nil {
		t.Fatal(err)
	}
	return w
}

// checkForm is the scan form: the ids checked so far and the one typed.
func checkForm(typed string, checked ...string) url.Values {
	return url.Values{"digital_id": {typed}, "checked": checked}
}

func TestFieldPickup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := startField(t, db)
		m := w.manifest
		driver := w.as(t, fieldDriver)
		pickup := "/field/pickup/" + m.ID

		// The driver's list: the manifest, where to pick it up and whom to call.
		p := w.do(t, driver, "GET", "/field", nil)
		wantStatus(t, "field home", p, http.StatusOK)
		contains(t, p, `id="pickups"`, m.Number, w.consignor.Name, pickupAddress, `href="tel:0561-6012345"`,
			`href="`+pickup+`"`, "3 个容器，3 件")
		lacks(t, p, `href="/field/storage/in"`, `id="arrivals"`)

		p = w.do(t, driver, "GET", pickup, nil)
		wantStatus(t, "pickup page", p, http.StatusOK)
		contains(t, p, pickupAddress, w.ids[0], w.ids[2], "已核对 0 / 3", `id="confirm-pickup"`, "disabled",
			`<script src="/static/field.js?v=`)
		// Small enough for a slow connection.
		t.Logf("pickup page: %d bytes", len(p.body))
		if len(p.body) > 16<<10 {
			t.Errorf("the pickup page of one line is %d bytes", len(p.body))
		}

		// Confirming before every container is checked is refused.
		p = w.do(t, driver, "POST", pickup+"/confirm", url.Values{"version": {strconv.FormatInt(m.Version, 10)},
			"checked": {w.ids[0]}})
		wantStatus(t, "early confirm", p, http.StatusUnprocessableEntity)
		contains(t, p, "尚有容器未核对")

		// A malformed id and a container not on the manifest are refused.
		p = w.do(t, driver, "POST", pickup, checkForm("12345"))
		wantStatus(t, "malformed id", p, http.StatusUnprocessableEntity)
		contains(t, p, "数字识别码应为 37 位", `aria-invalid="true"`)
		p = w.do(t, driver, "POST", pickup, checkForm(w.stray, w.ids[0]))
		wantStatus(t, "stray container", p, http.StatusUnprocessableEntity)
		contains(t, p, "不在本联单上", "已核对 1 / 3")

		// The address a label's QR code holds works as well as the id, in any case.
		p = w.do(t, driver, "POST", pickup, checkForm("https://wufei.example/l/"+strings.ToLower(w.ids[1])))
		wantStatus(t, "scanned address", p, http.StatusOK)
		contains(t, p, "已核对容器 "+w.ids[1], "已核对 1 / 3", `name="checked" value="`+w.ids[1]+`"`)
		p = w.do(t, driver, "POST", pickup, checkForm(w.ids[1], w.ids[1]))
		contains(t, p, "已核对过", "已核对 1 / 3")
		p = w.do(t, driver, "POST", pickup, checkForm(w.ids[0], w.ids[1]))
		p = w.do(t, driver, "POST", pickup, checkForm(w.ids[2], w.ids[1], w.ids[0]))
		wantStatus(t, "last container", p, http.StatusOK)
		contains(t, p, "已核对 3 / 3", "全部容器已核对")
		lacks(t, p, " disabled>")

		// Ids the form carries that are not on the manifest count for nothing.
		p = w.do(t, driver, "POST", pickup+"/confirm", url.Values{"version": {strconv.FormatInt(m.Version, 10)},
			"checked": {w.ids[0], w.ids[1], w.stray}})
		wantStatus(t, "confirm with a stray id", p, http.StatusUnprocessableEntity)

		// The others' field pages: not the consignor's step, and invisible to another generator.
		wantStatus(t, "consignor", w.do(t, w.as(t, "gen"), "GET", pickup, nil), http.StatusConflict)
		wantStatus(t, "receiver", w.do(t, w.as(t, "disposer"), "GET", pickup, nil), http.StatusConflict)
		wantStatus(t, "other generator", w.do(t, w.as(t, "gen2"), "GET", pickup, nil), http.StatusNotFound)
		wantStatus(t, "unknown kind", w.do(t, driver, "GET", "/field/teleport/"+m.ID, nil), http.StatusNotFound)

		p = w.do(t, driver, "POST", pickup+"/confirm", url.Values{"version": {strconv.FormatInt(m.Version, 10)},
			"checked": w.ids})
		if p.status != http.StatusSeeOther || p.header.Get("Location") != "/field" {
			t.Fatalf("confirm: %d to %q\n%s", p.status, p.header.Get("Location"), p.body)
		}
		got, err := manifest.NewService(db).Get(context.Background(), w.gen, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != manifest.InTransit || len(got.Steps) == 0 || got.Steps[len(got.Steps)-1].ActorUsername != fieldDriver {
			t.Fatalf("after pickup: %s, steps %+v", got.Status, got.Steps)
		}
		for _, id := range w.ids {
			c, err := ledger.NewService(db).GetContainer(context.Background(), w.gen, id)
			if err != nil || c.Status != ledger.StatusShipped {
				t.Errorf("container %s after pickup: %q %v", id, c.Status, err)
			}
		}
		p = w.do(t, driver, "GET", "/field", nil)
		contains(t, p, "已确认起运", "运输中", m.Number)
		lacks(t, p, `href="`+pickup+`"`)
		// Picked up, it cannot be picked up again.
		wantStatus(t, "again", w.do(t, driver, "GET", pickup, nil), http.StatusConflict)

		// A regulator has no field work of its own.
		p = w.do(t, w.as(t, "sthjj"), "GET", "/field", nil)
		wantStatus(t, "regulator", p, http.StatusOK)
		contains(t, p, "现场作业页面供")
	})
}

func TestFieldArrival(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := startField(t, db)
		m := w.manifest
		if _, err := manifest.NewService(db).Pickup(context.Background(), principal(t, db, fieldDriver), m.ID, 0); err != nil {
			t.Fatal(err)
		}
		disposer := w.as(t, "disposer")
		arrival := "/field/arrival/" + m.ID
		p := w.do(t, disposer, "GET", "/field", nil)
		wantStatus(t, "receiver's field home", p, http.StatusOK)
		contains(t, p, `id="arrivals"`, `href="`+arrival+`"`, m.Number, "接收期限")
		lacks(t, p, `id="pickups"`)

		p = w.do(t, disposer, "GET", arrival, nil)
		wantStatus(t, "arrival page", p, http.StatusOK)
		contains(t, p, "到货核对", "已核对 0 / 3", `id="to-receive"`, "缺少的容器请在接收时如实记录")
		p = w.do(t, disposer, "POST", arrival, checkForm(w.stray))
		wantStatus(t, "stray container", p, http.StatusUnprocessableEntity)
		p = w.do(t, disposer, "POST", arrival, checkForm(w.ids[0], w.ids[1], w.ids[2]))
		wantStatus(t, "all arrived", p, http.StatusOK)
		contains(t, p, "已核对 3 / 3", "全部容器已到货", `href="/manifests/`+m.ID+`#act-receive"`)

		// The receive form the check leads to is the manifest's own.
		p = w.do(t, disposer, "GET", "/manifests/"+m.ID, nil)
		contains(t, p, `id="act-receive"`)
		// Arrivals are the receiver's: the carrier and the consignor do not check them.
		wantStatus(t, "carrier", w.do(t, w.as(t, "carrier"), "GET", arrival, nil), http.StatusConflict)
		wantStatus(t, "consignor", w.do(t, w.as(t, "gen"), "POST", arrival, checkForm(w.ids[0])), http.StatusConflict)
	})
}

func TestFieldStorage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := startField(t, db)
		ctx := context.Background()
		lg := ledger.NewService(db)
		gen := w.as(t, "gen")
		a := generate(t, db, w.gen, 2) // one generation batch
		b := generate(t, db, w.gen, 1) // another
		other := generate(t, db, principal(t, db, "gen2"), 1)[0]

		p := w.do(t, gen, "GET", "/field", nil)
		contains(t, p, `href="/field/storage/in"`, `href="/field/storage/out"`)
		lacks(t, p, `id="pickups"`, `id="arrivals"`)

		p = w.do(t, gen, "GET", "/field/storage/in", nil)
		wantStatus(t, "into storage", p, http.StatusOK)
		contains(t, p, `<option value="ZC001" selected>`, "尚未扫描容器", `value="王建国"`)

		p = w.do(t, gen, "POST", "/field/storage/in", checkForm(a[0]))
		wantStatus(t, "scan one", p, http.StatusOK)
		contains(t, p, "已加入容器 "+a[0], "本次清单：1 个容器", `name="checked" value="`+a[0]+`"`)
		p = w.do(t, gen, "POST", "/field/storage/in", checkForm(other, a[0]))
		wantStatus(t, "another unit's container", p, http.StatusUnprocessableEntity)
		contains(t, p, "本单位没有数字识别码为 "+other, "本次清单：1 个容器")
		p = w.do(t, gen, "POST", "/field/storage/in", checkForm(b[0], a[0], a[1], w.ids[0]))
		wantStatus(t, "scan more", p, http.StatusOK)
		contains(t, p, "本次清单：4 个容器")

		form := url.Values{"checked": {a[0], a[1], b[0], w.ids[0]}, "facility_code": {"ZC001"}, "handler": {"王建国"}}
		p = w.do(t, gen, "POST", "/field/storage/in/confirm", form)
		if p.status != http.StatusSeeOther || p.header.Get("Location") != "/field/storage/in" {
			t.Fatalf("confirm into storage: %d %q\n%s", p.status, p.header.Get("Location"), p.body)
		}
		// Three generation batches, so three records; every drum is stored.
		recs, err := lg.ListRecords(ctx, w.gen, ledger.RecordFilter{Kind: string(ledger.KindStorageIn), Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs.Items) != 3 {
			t.Errorf("%d into-storage records, want 3 (one per batch)", len(recs.Items))
		}
		for _, id := range []string{a[0], a[1], b[0], w.ids[0]} {
			if c, err := lg.GetContainer(ctx, w.gen, id); err != nil || c.Status != ledger.StatusStored || c.StorageFacility != "ZC001" {
				t.Errorf("container %s: %q %q %v", id, c.Status, c.StorageFacility, err)
			}
		}
		contains(t, w.do(t, gen, "GET", "/field/storage/in", nil), "已记入入库台账")

		p = w.do(t, gen, "POST", "/field/storage/in", checkForm(a[0]))
		wantStatus(t, "stored already", p, http.StatusUnprocessableEntity)
		contains(t, p, "不是待入库状态")
		p = w.do(t, gen, "POST", "/field/storage/out", checkForm(b[0]))
		wantStatus(t, "scan out", p, http.StatusOK)
		contains(t, p, "本次清单：1 个容器")
		p = w.do(t, gen, "POST", "/field/storage/out", checkForm(w.stray))
		wantStatus(t, "not stored", p, http.StatusUnprocessableEntity)
		contains(t, p, "不在贮存中")
		p = w.do(t, gen, "POST", "/field/storage/out/confirm", url.Values{"checked": {}})
		wantStatus(t, "empty list", p, http.StatusUnprocessableEntity)
		contains(t, p, "清单为空")
		p = w.do(t, gen, "POST", "/field/storage/out/confirm", url.Values{"checked": {b[0]}, "destination": {"厂内焚烧炉"}})
		wantStatus(t, "confirm out of storage", p, http.StatusSeeOther)
		if c, err := lg.GetContainer(ctx, w.gen, b[0]); err != nil || c.Status != ledger.StatusWithdrawn {
			t.Errorf("container %s after out of storage: %q %v", b[0], c.Status, err)
		}

		// Only the unit's own ledger keepers: not its driver, not a regulator.
		wantStatus(t, "driver", w.do(t, w.as(t, fieldDriver), "GET", "/field/storage/in", nil), http.StatusForbidden)
		wantStatus(t, "regulator", w.do(t, w.as(t, "sthjj"), "POST", "/field/storage/in", checkForm(a[0])), http.StatusForbidden)
		wantStatus(t, "unknown direction", w.do(t, gen, "GET", "/field/storage/sideways", nil), http.StatusNotFound)
	})
}
