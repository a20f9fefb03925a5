package manifest_test

import (
	"time"

	"context"
	"errors"
	"sync"
	"testing"
	"wufei/internal/registry"

	"wufei/internal/auth"
	"wufei/internal/demo"
	"wufei/internal/errs"
	"wufei/internal/hw/manifest"
	"wufei/internal/server"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// world is the demo data set with the principals of its log-ins.
type world struct {
	ctx                                 context.Context
	db                                  *store.DB
	svc                                 *manifest.Service
	gen, gen2, carrier, disposer, sthjj auth.Principal
}

func newWorld(t *testing.T, db *store.DB) world {
	t.Helper()
	ctx := context.Background()
	if err := server.Prepare(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := demo.Seed(ctx, db, 0); err != nil {
		t.Fatal(err)
	}
	as := auth.NewService(db)
	login := func(u string) auth.Principal {
		s, err := as.Login(ctx, u, demo.Password)
		if err != nil {
			t.Fatal(err)
		}
		return s.User.Principal()
	}
	return world{ctx: ctx, db: db, svc: manifest.NewService(db), gen: login("gen"), gen2: login("gen2"),
		carrier: login("carrier"), disposer: login("disposer"), sthjj: login("sthjj")}
}

func (w world) input(code string, t float64) manifest.Input {
	return manifest.Input{CarrierUnitID: w.carrier.UnitID, VehiclePlate: "皖F3A721", ReceiverUnitID: w.disposer.UnitID,
		Lines: []manifest.LineInput{{WasteCode: code, QuantityT: t, Form: "L", Packaging: "桶", PackageCount: 2}}}
}

func code(err error) string {
	var e *errs.Error
	if err == nil {
		return ""
	}
	if errors.As(err, &e) {
		if len(e.Fields) > 0 {
			return e.Fields[0].Field + ":" + e.Fields[0].Code
		}
		return e.Code
	}
	return err.Error()
}

func TestStateMachine(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		m, err := w.svc.Create(w.ctx, w.gen, w.input("900-249-08", 1))
		if err != nil {
			t.Fatal(err)
		}
		// Every step from every status by every party: only the machine's
		// transitions for the right party succeed.
		type try struct {
			who    auth.Principal
			action string
			want   string
		}
		run := func(p auth.Principal, action string) error {
			switch action {
			case "submit":
				_, err = w.svc.Submit(w.ctx, p, m.ID, 0)
			case "pickup":
				_, err = w.svc.Pickup(w.ctx, p, m.ID, 0)
			case "deliver":
				_, err = w.svc.Deliver(w.ctx, p, m.ID, 0)
			case "receive":
				_, err = w.svc.Receive(w.ctx, p, m.ID, 0, []manifest.ReceiptLine{{LineNo: 1, ReceivedT: 1}})
			case "complete":
				_, err = w.svc.Complete(w.ctx, p, m.ID, 0, []manifest.CompletionLine{{LineNo: 1, Method: "R9"}})
			case "cancel":
				_, err = w.svc.Cancel(w.ctx, p, m.ID, 0, "测试")
			}
			return err
		}
		for _, c := range []try{
			{w.disposer, "receive", "manifest_not_found"}, // a draft is the consignor's own
			{w.gen, "pickup", "not_the_party"},
			{w.gen, "receive", "not_the_party"},
			{w.gen, "complete", "not_the_party"},
			{w.gen, "submit", ""},
			{w.gen, "submit", "invalid_transition"},
			{w.disposer, "receive", "invalid_transition"},
			{w.carrier, "deliver", "invalid_transition"},
			{w.carrier, "pickup", ""},
			{w.gen, "cancel", "invalid_transition"},
			{w.carrier, "pickup", "invalid_transition"},
			{w.disposer, "complete", "invalid_transition"},
			{w.carrier, "deliver", ""},
			{w.carrier, "deliver", "invalid_transition"},
			{w.disposer, "receive", ""},
			{w.disposer, "receive", "invalid_transition"},
			{w.gen2, "complete", "manifest_not_found"},
			{w.disposer, "complete", ""},
			{w.disposer, "complete", "invalid_transition"},
		} {
			if got := code(run(c.who, c.action)); got != c.want {
				t.Fatalf("%s by %s: %q, want %q", c.action, c.who.Username, got, c.want)
			}
		}
		got, err := w.svc.Get(w.ctx, w.sthjj, m.ID)
		if err != nil || got.Status != manifest.Completed || len(got.Steps) != 6 {
			t.Fatalf("after the walk: %v %v %d", err, got.Status, len(got.Steps))
		}
		for i, st := range got.Steps {
			if st.AuditSeq == 0 || (i > 0 && st.AuditSeq <= got.Steps[i-1].AuditSeq) {
				t.Fatalf("step %d has audit seq %d", i, st.AuditSeq)
			}
		}
	})
}

func TestNumbersAreUniqueUnderLoad(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		var mu sync.Mutex
		seen := map[string]bool{}
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m, err := w.svc.Create(w.ctx, w.gen, w.input("900-249-08", 0.1))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if seen[m.Number] {
					t.Errorf("number %s twice", m.Number)
				}
				seen[m.Number] = true
			}()
		}
		wg.Wait()
		if len(seen) != 20 {
			t.Fatalf("%d numbers", len(seen))
		}
	})
}

func TestSubmissionChecks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		submit := func(in manifest.Input) error {
			m, err := w.svc.Create(w.ctx, w.gen, in)
			if err != nil {
				return err
			}
			_, err = w.svc.Submit(w.ctx, w.gen, m.ID, m.Version)
			return err
		}
		in := w.input("900-249-08", 1)
		in.VehiclePlate = "皖F9Z999"
		if got := code(submit(in)); got != "carriers[0].vehicle_plate:vehicle_not_registered" {
			t.Fatalf("unknown vehicle: %s", got)
		}
		if got := code(submit(w.input("900-249-08", 11))); got != "carriers[0].vehicle_plate:vehicle_capacity_exceeded" {
			t.Fatalf("over the vehicle's capacity: %s", got)
		}
		if got := code(submit(w.input("841-001-01", 1))); got != "lines[0].waste_code:licence_not_covering" {
			t.Fatalf("HW01 to the disposer: %s", got)
		}
		in = w.input("900-249-08", 1)
		in.ReceiverUnitID = w.carrier.UnitID
		if _, err := w.svc.Create(w.ctx, w.gen, in); code(err) != "receiver_unit_id:receiver_not_licensed" {
			t.Fatalf("a carrier as receiver: %s", code(err))
		}
		in = w.input("999-999-99", 1)
		if _, err := w.svc.Create(w.ctx, w.gen, in); code(err) != "lines[0].waste_code:waste_code_unknown" {
			t.Fatalf("unknown code: %s", code(err))
		}
		// Lower the licence's yearly capacity to 100 t: five 18 t manifests
		// fit, the sixth does not.
		if _, err := store.Exec(w.ctx, db.Writer(), `UPDATE licences SET capacity_g = 100000000 WHERE unit_id = ?`,
			w.disposer.UnitID); err != nil {
			t.Fatal(err)
		}
		big := w.input("900-249-08", 18)
		big.VehiclePlate = "皖F5B208"
		for i := range 5 {
			if err := submit(big); err != nil {
				t.Fatalf("manifest %d: %v", i, err)
			}
		}
		if got := code(submit(big)); got != "receiver_unit_id:licence_capacity_exceeded" {
			t.Fatalf("over the yearly capacity: %s", got)
		}
	})
}

func TestPlanWarning(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		m, _ := w.svc.Create(w.ctx, w.gen, w.input("900-249-08", 1))
		m, err := w.svc.Submit(w.ctx, w.gen, m.ID, m.Version)
		if err != nil || len(m.Warnings) != 1 {
			t.Fatalf("no plan filed: %v %v", err, m.Warnings)
		}
		if err := db.Tx(w.ctx, func(tx *store.Tx) error {
			store.Changed(tx, "settings")
			_, err := store.Exec(w.ctx, tx, `INSERT INTO settings (key, value, updated_at) VALUES ('plan_check', '"block"', ?)`, tx.Now)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		m, _ = w.svc.Create(w.ctx, w.gen, w.input("900-249-08", 1))
		if _, err := w.svc.Submit(w.ctx, w.gen, m.ID, m.Version); code(err) != "lines[0].waste_code:plan_missing" {
			t.Fatalf("plan_check block: %s", code(err))
		}
	})
}

// A collector (collection and storage licence, no method) completes a
// manifest without naming a utilisation or disposal method.
func TestCollectorCompletesWithoutMethod(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		reg := registry.NewService(db)
		admin := auth.Principal{UserID: "t", Username: "t", Role: auth.Admin}
		u, err := reg.CreateUnit(w.ctx, admin, registry.NewUnit{USCC: registry.MakeUSCC("91", "340602", "MA2C0LL1"),
			Name: "淮北收集测试有限公司", Roles: []registry.UnitRole{registry.Collector}, RegionCode: "340602"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reg.CreateLicence(w.ctx, admin, registry.NewLicence{UnitID: u.ID, Number: "皖危废收许字测试001号",
			Kinds: []registry.LicenceKind{registry.Collect, registry.Store}, CapacityT: 100,
			ValidFrom: time.Now().AddDate(-1, 0, 0), ValidTo: time.Now().AddDate(1, 0, 0),
			Scopes: []registry.LicenceScope{{Category: "HW08"}}}); err != nil {
			t.Fatal(err)
		}
		member := auth.Principal{UserID: "c", Username: "c", Role: auth.UnitAdmin, UnitID: u.ID}
		in := w.input("900-249-08", 1)
		in.ReceiverUnitID = u.ID
		m, err := w.svc.Create(w.ctx, w.gen, in)
		if err == nil {
			_, err = w.svc.Submit(w.ctx, w.gen, m.ID, 0)
		}
		if err == nil {
			_, err = w.svc.Pickup(w.ctx, w.carrier, m.ID, 0)
		}
		if err == nil {
			_, err = w.svc.Receive(w.ctx, member, m.ID, 0, []manifest.ReceiptLine{{LineNo: 1, ReceivedT: 1}})
		}
		if err == nil {
			m, err = w.svc.Complete(w.ctx, member, m.ID, 0, []manifest.CompletionLine{{LineNo: 1}})
		}
		if err != nil || m.Status != manifest.Completed {
			t.Fatalf("collector flow: %v %v", err, m.Status)
		}
	})
}

// checkUsage compares the receiver's kept yearly usage with a full sum over
// its manifests.
func checkUsage(t *testing.T, w world) {
	t.Helper()
	var want int64
	if err := store.Get(w.ctx, w.db.Reader(), &want, `SELECT COALESCE(SUM(CASE WHEN m.status IN ('submitted', 'in_transit')
		THEN l.quantity_g ELSE COALESCE(l.accepted_g, 0) END), 0) FROM manifests m JOIN manifest_lines l ON l.manifest_id = m.id
		WHERE m.receiver_unit_id = ? AND m.status IN ('submitted', 'in_transit', 'received', 'completed')`, w.disposer.UnitID); err != nil {
		t.Fatal(err)
	}
	var got int64
	if err := store.Get(w.ctx, w.db.Reader(), &got, `SELECT COALESCE(SUM(used_g), 0) FROM receiver_usage WHERE receiver_unit_id = ?`,
		w.disposer.UnitID); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("kept usage %d g, manifests say %d g", got, want)
	}
}

// TestUsageFollowsEverySteps walks manifests through submission,
// cancellation, receipt with refusal, completion and a revision, and checks
// the kept usage after each.
func TestUsageFollowsEverySteps(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		mk := func(q float64) manifest.Manifest {
			m, err := w.svc.Create(w.ctx, w.gen, w.input("900-249-08", q))
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		a, b, c := mk(1), mk(2), mk(3)
		for _, m := range []manifest.Manifest{a, b, c} {
			if _, err := w.svc.Submit(w.ctx, w.gen, m.ID, 0); err != nil {
				t.Fatal(err)
			}
			checkUsage(t, w)
		}
		if _, err := w.svc.Cancel(w.ctx, w.gen, a.ID, 0, "测试"); err != nil {
			t.Fatal(err)
		}
		checkUsage(t, w)
		for _, m := range []manifest.Manifest{b, c} {
			if _, err := w.svc.Pickup(w.ctx, w.carrier, m.ID, 0); err != nil {
				t.Fatal(err)
			}
		}
		refused := 0.5
		if _, err := w.svc.Receive(w.ctx, w.disposer, b.ID, 0, []manifest.ReceiptLine{{LineNo: 1, ReceivedT: 2, RefusedT: &refused,
			Reason: "含水"}}); err != nil {
			t.Fatal(err)
		}
		checkUsage(t, w)
		if _, err := w.svc.Complete(w.ctx, w.disposer, b.ID, 0, []manifest.CompletionLine{{LineNo: 1, Method: "R9"}}); err != nil {
			t.Fatal(err)
		}
		checkUsage(t, w)
		acc, ref := 1.8, 0.2
		rec := 2.0
		r, err := w.svc.RequestRevision(w.ctx, w.disposer, b.ID, "复磅", manifest.Changes{Lines: []manifest.LineChange{
			{LineNo: 1, ReceivedT: &rec, AcceptedT: &acc, RefusedT: &ref}}})
		if err == nil {
			_, err = w.svc.DecideRevision(w.ctx, w.gen, b.ID, r.ID, true, "同意")
		}
		if err != nil {
			t.Fatal(err)
		}
		checkUsage(t, w)
		r, err = w.svc.RequestRevision(w.ctx, w.gen, c.ID, "车辆故障", manifest.Changes{Cancel: true})
		if err == nil {
			_, err = w.svc.DecideRevision(w.ctx, w.disposer, c.ID, r.ID, true, "")
		}
		if err != nil {
			t.Fatal(err)
		}
		checkUsage(t, w)
		used, err := manifest.UsedG(w.ctx, db.Reader(), w.disposer.UnitID, b.Year)
		if err != nil || used != 1_800_000 {
			t.Fatalf("used %d g, %v; want 1.8 t", used, err)
		}
	})
}

func TestUpdateDraft(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		m, err := w.svc.Create(w.ctx, w.gen, w.input("900-249-08", 1))
		if err != nil {
			t.Fatal(err)
		}
		for i, q := range []float64{0.8, 0.7} {
			if m, err = w.svc.Update(w.ctx, w.gen, m.ID, m.Version, w.input("900-249-08", q)); err != nil {
				t.Fatalf("update %d: %v", i, err)
			}
		}
		if len(m.Steps) != 3 || m.Lines[0].QuantityT != 0.7 || m.Version != 3 {
			t.Fatalf("after two updates: %d steps, %v t, version %d", len(m.Steps), m.Lines[0].QuantityT, m.Version)
		}
		if _, err := w.svc.Update(w.ctx, w.gen, m.ID, 1, w.input("900-249-08", 0.5)); code(err) != "version_conflict" {
			t.Fatalf("stale update: %s", code(err))
		}
		if _, err := w.svc.Update(w.ctx, w.carrier, m.ID, m.Version, w.input("900-249-08", 0.5)); code(err) != "manifest_not_found" {
			t.Fatalf("the carrier updates a draft: %s", code(err))
		}
	})
}
