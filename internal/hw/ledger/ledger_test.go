package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/catalog"
	"wufei/internal/errs"
	"wufei/internal/hw/ledger"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

var (
	admin   = auth.Principal{UserID: "u-admin", Username: "admin", Role: auth.Admin}
	cityReg = auth.Principal{UserID: "u-city", Username: "sthjj", Role: auth.Regulator, RegionCode: "340600"}
	xsReg   = auth.Principal{UserID: "u-xs", Username: "xsq", Role: auth.Regulator, RegionCode: "340603"}
	sxReg   = auth.Principal{UserID: "u-sx", Username: "sxx", Role: auth.Regulator, RegionCode: "340621"}
	parkReg = auth.Principal{UserID: "u-park", Username: "mhj", Role: auth.Regulator, RegionCode: "340621P01"}
	viewer  = auth.Principal{UserID: "u-v", Username: "public", Role: auth.Viewer}
)

// env is a migrated database with the reference data, the catalogue and
// two generators: gen in 濉溪县's coal-chemical park with generation,
// storage and disposal facilities, and gen2 in 相山区 with a storage point.
type env struct {
	t         testing.TB
	ctx       context.Context
	db        *store.DB
	svc       *ledger.Service
	gen, gen2 registry.Unit
	owner     auth.Principal // gen's unit admin
	member    auth.Principal // gen's unit member
	owner2    auth.Principal // gen2's unit admin
}

func newEnv(t testing.TB, db *store.DB) *env {
	t.Helper()
	ctx := context.Background()
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		if err := registry.SeedReference(ctx, tx); err != nil {
			return err
		}
		return catalog.Seed(ctx, tx)
	}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	reg := registry.NewService(db)
	unit := func(body, region, park string) registry.Unit {
		u, err := reg.CreateUnit(ctx, admin, registry.NewUnit{USCC: registry.MakeUSCC("91", region, body), Name: "淮北测试" + body + "有限公司",
			Roles: []registry.UnitRole{registry.Generator}, RegionCode: region, ParkCode: park, ContactName: "王工",
			ContactPhone: "0561-6012345"})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	facility := func(u registry.Unit, code, kind, method string, capT float64) {
		if _, err := reg.CreateFacility(ctx, admin, registry.NewFacility{UnitID: u.ID, Code: code, Kind: kind, Name: "设施" + code,
			Method: method, CapacityT: capT}); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{t: t, ctx: ctx, db: db, svc: ledger.NewService(db)}
	e.gen = unit("MA2N8C01", "340621", "340621P01")
	facility(e.gen, "SC001", "generation", "", 0)
	facility(e.gen, "ZC001", "storage", "", 300)
	facility(e.gen, "ZC002", "storage", "", 50)
	facility(e.gen, "CZ001", "disposal", "D10", 1000)
	e.gen2 = unit("MA2P4D02", "340603", "340603001")
	facility(e.gen2, "ZC001", "storage", "", 3)
	e.owner = auth.Principal{UserID: "ua-gen", Username: "gen", Role: auth.UnitAdmin, UnitID: e.gen.ID}
	e.member = auth.Principal{UserID: "um-gen", Username: "gen-m", Role: auth.UnitMember, UnitID: e.gen.ID}
	e.owner2 = auth.Principal{UserID: "ua-gen2", Username: "gen2", Role: auth.UnitAdmin, UnitID: e.gen2.ID}
	return e
}

// generate records oil waste into n containers of 0.2 t (or a bulk record
// when n is 0) and fails the test on error.
func (e *env) generate(p auth.Principal, n int, mod ...func(*ledger.NewGeneration)) ledger.Generated {
	e.t.Helper()
	in := ledger.NewGeneration{WasteCode: "900-249-08", Name: "废矿物油", Form: "L", Packaging: "铁桶", VolumeL: 200,
		Count: n, QuantityT: 0.2 * float64(max(n, 1)), FacilityCode: "SC001", Handler: "王建国"}
	for _, m := range mod {
		m(&in)
	}
	g, err := e.svc.RecordGeneration(e.ctx, p, in)
	if err != nil {
		e.t.Fatalf("generate: %v", err)
	}
	return g
}

func (e *env) must(r ledger.Record, err error) ledger.Record {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) container(id string) ledger.Container {
	e.t.Helper()
	c, err := e.svc.GetContainer(e.ctx, admin, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func ids(cs []ledger.Container) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.DigitalID
	}
	return out
}

func ptr[T any](v T) *T { return &v }

var kindNames = map[errs.Kind]string{errs.Internal: "Internal", errs.Invalid: "Invalid", errs.NotFound: "NotFound",
	errs.Conflict: "Conflict", errs.Unauthorized: "Unauthorized", errs.Forbidden: "Forbidden", errs.TooMany: "TooMany"}

// wantErr fails unless err is a domain error of kind with code; for a
// validation error code may name a field's code, and field its path.
func wantErr(t *testing.T, err error, kind errs.Kind, code string, field ...string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want %s %s", err, kindNames[kind], code)
	}
	if e.Kind != kind {
		t.Fatalf("got %s (%v), want %s %s", kindNames[e.Kind], err, kindNames[kind], code)
	}
	if e.Code == code && len(field) == 0 {
		return
	}
	for _, f := range e.Fields {
		if f.Code == code && (len(field) == 0 || f.Field == field[0]) {
			if f.Message == "" {
				t.Errorf("field %s has no message", f.Field)
			}
			return
		}
	}
	t.Fatalf("got %v, want %s %s %v", err, kindNames[kind], code, field)
}

func TestDigitalIDs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		// 17:30 UTC is half past one the next morning in Shanghai.
		at := time.Date(2026, 1, 14, 17, 30, 0, 0, time.UTC)
		g := e.generate(e.owner, 3, func(in *ledger.NewGeneration) { in.OccurredAt = &at })
		if len(g.Items) != 3 || len(g.Record.ContainerIDs) != 3 {
			t.Fatalf("generated %d containers, record names %d", len(g.Items), len(g.Record.ContainerIDs))
		}
		for i, c := range g.Items {
			want := e.gen.USCC + "90024908" + "20260115" + fmt.Sprintf("%03d", i+1)
			if c.DigitalID != want || len(c.DigitalID) != 37 {
				t.Fatalf("container %d: %s, want %s", i, c.DigitalID, want)
			}
			d, err := ledger.ParseDigitalID("id", c.DigitalID)
			if err != nil || d.USCC != e.gen.USCC || d.WasteCode != "900-249-08" || d.Date != "20260115" || d.Seq != i+1 {
				t.Fatalf("parse %s: %+v %v", c.DigitalID, d, err)
			}
			if c.Status != ledger.StatusGenerated || c.GenerationBatch != g.Record.BatchCode || c.AuditSeq != g.Record.AuditSeq ||
				c.QuantityT != 0.2 || c.Characteristics.String() != "T,I" || c.OfficialName == "" || c.FacilityCode != "SC001" ||
				c.LabelMM != 150 || c.Labels != 1 {
				t.Fatalf("container %+v", c)
			}
		}
		if !strings.HasPrefix(g.Record.BatchCode, "CS20260115") || len(g.Record.BatchCode) != 16 {
			t.Fatalf("batch code %s", g.Record.BatchCode)
		}
		// The sequence runs on through the day, per unit and code.
		g2 := e.generate(e.member, 2, func(in *ledger.NewGeneration) { in.OccurredAt = &at })
		if g2.Items[0].DigitalID[34:] != "004" || g2.Items[1].DigitalID[34:] != "005" {
			t.Fatalf("second batch of the day: %v", ids(g2.Items))
		}
		if g2.Record.BatchCode != "CS20260115000002" {
			t.Fatalf("second batch code %s", g2.Record.BatchCode)
		}
		other := e.generate(e.owner, 1, func(in *ledger.NewGeneration) { in.OccurredAt = &at; in.WasteCode = "900-041-49" })
		if other.Items[0].DigitalID[18:] != "90004149"+"20260115"+"001" {
			t.Fatalf("another code starts again: %s", other.Items[0].DigitalID)
		}
		next := at.Add(24 * time.Hour)
		nd := e.generate(e.owner, 1, func(in *ledger.NewGeneration) { in.OccurredAt = &next })
		if nd.Items[0].DigitalID[26:] != "20260116001" {
			t.Fatalf("the next day starts again: %s", nd.Items[0].DigitalID)
		}
		other2 := e.generate(e.owner2, 1, func(in *ledger.NewGeneration) { in.OccurredAt = &at; in.FacilityCode = "" })
		if other2.Items[0].DigitalID[:18] != e.gen2.USCC || other2.Items[0].DigitalID[34:] != "001" {
			t.Fatalf("another unit starts again: %s", other2.Items[0].DigitalID)
		}

		// 999 a day; the thousandth is refused and nothing is written.
		e.generate(e.owner, 994, func(in *ledger.NewGeneration) { in.OccurredAt = &at; in.QuantityT = 99.4 })
		var n int
		store.Get(e.ctx, db.Reader(), &n, `SELECT count(*) FROM containers WHERE unit_id = ?`, e.gen.ID)
		_, err := e.svc.RecordGeneration(e.ctx, e.owner, ledger.NewGeneration{WasteCode: "900-249-08", Form: "L",
			Packaging: "铁桶", VolumeL: 200, Count: 1, QuantityT: 0.1, OccurredAt: &at})
		wantErr(t, err, errs.Invalid, "container_sequence_exhausted", "count")
		var after int
		store.Get(e.ctx, db.Reader(), &after, `SELECT count(*) FROM containers WHERE unit_id = ?`, e.gen.ID)
		if after != n {
			t.Fatalf("a refused generation left %d containers", after-n)
		}

		// Per-container weights decide count and total.
		w := e.generate(e.owner, 0, func(in *ledger.NewGeneration) {
			in.QuantityT, in.QuantitiesT = 0, []float64{0.25, 0.125, 0.5}
		})
		if len(w.Items) != 3 || w.Record.QuantityT != 0.875 || w.Items[1].QuantityT != 0.125 {
			t.Fatalf("weights: %v %+v", w.Record.QuantityT, w.Items)
		}
		// An even split gives the spare grams to the first containers.
		s := e.generate(e.owner, 3, func(in *ledger.NewGeneration) { in.QuantityT = 0.000010 })
		if s.Items[0].QuantityG != 4 || s.Items[1].QuantityG != 3 || s.Items[2].QuantityG != 3 {
			t.Fatalf("split %d %d %d", s.Items[0].QuantityG, s.Items[1].QuantityG, s.Items[2].QuantityG)
		}
		// A bulk record makes no containers.
		b := e.generate(e.owner, 0, func(in *ledger.NewGeneration) { in.QuantityT = 12.5; in.Packaging = ""; in.VolumeL = 0 })
		if len(b.Items) != 0 || b.Record.QuantityT != 12.5 || len(b.Record.ContainerIDs) != 0 {
			t.Fatalf("bulk: %+v", b)
		}
	})
}

func TestGenerationRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		good := ledger.NewGeneration{WasteCode: "900-249-08", Form: "L", Packaging: "铁桶", VolumeL: 200, Count: 2, QuantityT: 0.4}
		future := time.Now().Add(time.Hour)
		for _, c := range []struct {
			name        string
			change      func(*ledger.NewGeneration)
			field, code string
		}{
			{"malformed code", func(in *ledger.NewGeneration) { in.WasteCode = "900-249-8" }, "waste_code", "waste_code_format"},
			{"unlisted code", func(in *ledger.NewGeneration) { in.WasteCode = "900-999-08" }, "waste_code", "waste_code_unknown"},
			{"form", func(in *ledger.NewGeneration) { in.Form = "X" }, "form", "form_unknown"},
			{"characteristics", func(in *ledger.NewGeneration) { in.Characteristics = []string{"T", "Q"} }, "characteristics", "characteristic_unknown"},
			{"no quantity", func(in *ledger.NewGeneration) { in.QuantityT = 0 }, "quantity_t", "quantity_positive"},
			{"too many", func(in *ledger.NewGeneration) { in.Count = 1000 }, "count", "count_range"},
			{"no volume", func(in *ledger.NewGeneration) { in.VolumeL = 0 }, "volume_l", "volume_required"},
			{"no packaging", func(in *ledger.NewGeneration) { in.Packaging = " " }, "packaging", "required"},
			{"weights and total differ", func(in *ledger.NewGeneration) { in.QuantitiesT = []float64{0.1, 0.2} }, "quantity_t", "quantity_mismatch"},
			{"zero weight", func(in *ledger.NewGeneration) { in.QuantitiesT = []float64{0.1, 0}; in.QuantityT = 0 }, "quantities_t[1]", "quantity_positive"},
			{"unknown facility", func(in *ledger.NewGeneration) { in.FacilityCode = "SC999" }, "facility_code", "facility_unknown"},
			{"storage facility", func(in *ledger.NewGeneration) { in.FacilityCode = "ZC001" }, "facility_code", "facility_kind"},
			{"in the future", func(in *ledger.NewGeneration) { in.OccurredAt = &future }, "occurred_at", "occurred_in_future"},
		} {
			t.Run(c.name, func(t *testing.T) {
				in := good
				c.change(&in)
				_, err := e.svc.RecordGeneration(e.ctx, e.owner, in)
				wantErr(t, err, errs.Invalid, c.code, c.field)
			})
		}
		for _, p := range []auth.Principal{admin, cityReg, sxReg, viewer,
			{UserID: "dr", Username: "dr", Role: auth.Driver, UnitID: e.gen.ID}} {
			_, err := e.svc.RecordGeneration(e.ctx, p, good)
			wantErr(t, err, errs.Forbidden, "ledger_forbidden")
		}
		var n int
		store.Get(e.ctx, db.Reader(), &n, `SELECT count(*) FROM ledger_records`)
		if n != 0 {
			t.Fatalf("refused generations wrote %d records", n)
		}
		g, err := e.svc.RecordGeneration(e.ctx, e.owner, good)
		if err != nil {
			t.Fatal(err)
		}
		// The record and its containers are on the audit log, in one entry.
		var entry struct {
			Action string `db:"action"`
			UnitID string `db:"unit_id"`
			Region string `db:"region_code"`
			Change string `db:"change"`
		}
		if err := store.Get(e.ctx, db.Reader(), &entry, `SELECT action, unit_id, region_code, change FROM audit_entries WHERE seq = ?`,
			g.Record.AuditSeq); err != nil {
			t.Fatal(err)
		}
		if entry.Action != "ledger.generation" || entry.UnitID != e.gen.ID || entry.Region != "340621" ||
			!strings.Contains(entry.Change, g.Items[1].DigitalID) || !strings.Contains(entry.Change, g.Record.BatchCode) {
			t.Fatalf("audit entry %+v", entry)
		}
		if g.Record.Name != g.Record.OfficialName {
			t.Fatalf("a missing internal name defaults to the catalogue's: %q", g.Record.Name)
		}
	})
}

func TestLinkage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		g := e.generate(e.owner, 4)
		cs := ids(g.Items)

		// Into storage by containers: the generation batch is found from them.
		in := e.must(e.svc.StoreIn(e.ctx, e.member, ledger.Movement{ContainerIDs: cs[:3], FacilityCode: "ZC001", Handler: "李四"}))
		if in.Kind != ledger.KindStorageIn || in.PrevBatch != g.Record.BatchCode || !strings.HasPrefix(in.BatchCode, "RK") ||
			in.QuantityT != 0.6 || in.FacilityCode != "ZC001" || in.WasteCode != "900-249-08" || len(in.ContainerIDs) != 3 {
			t.Fatalf("storage in %+v", in)
		}
		c := e.container(cs[0])
		if c.Status != ledger.StatusStored || c.StorageBatch != in.BatchCode || c.StorageFacility != "ZC001" || c.StoredAt == nil {
			t.Fatalf("stored container %+v", c)
		}
		// Out of storage: linked to the into-storage batch, in the same facility.
		out := e.must(e.svc.StoreOut(e.ctx, e.owner, ledger.Movement{ContainerIDs: cs[:2]}))
		if out.PrevBatch != in.BatchCode || out.FacilityCode != "ZC001" || out.QuantityT != 0.4 || !strings.HasPrefix(out.BatchCode, "CK") {
			t.Fatalf("storage out %+v", out)
		}
		if c := e.container(cs[0]); c.Status != ledger.StatusWithdrawn || c.OutBatch != out.BatchCode {
			t.Fatalf("withdrawn container %+v", c)
		}
		// In-house, from the out-of-storage batch and straight from generation.
		zx := e.must(e.svc.InHouse(e.ctx, e.owner, ledger.Movement{ContainerIDs: cs[:2], FacilityCode: "CZ001", Method: "D10"}))
		if zx.PrevBatch != out.BatchCode || zx.Method != "D10" || !strings.HasPrefix(zx.BatchCode, "ZX") {
			t.Fatalf("in-house %+v", zx)
		}
		zx2 := e.must(e.svc.InHouse(e.ctx, e.owner, ledger.Movement{ContainerIDs: cs[3:], FacilityCode: "CZ001", Method: "D10"}))
		if zx2.PrevBatch != g.Record.BatchCode {
			t.Fatalf("in-house from generation links to %s", zx2.PrevBatch)
		}
		for _, id := range []string{cs[0], cs[3]} {
			if c := e.container(id); c.Status != ledger.StatusTreated {
				t.Fatalf("treated container %+v", c)
			}
		}

		// A bulk batch moves by its code and a quantity.
		bulk := e.generate(e.owner, 0, func(in *ledger.NewGeneration) { in.QuantityT = 10 })
		rk := e.must(e.svc.StoreIn(e.ctx, e.owner, ledger.Movement{PrevBatch: bulk.Record.BatchCode, QuantityT: ptr(6.0), FacilityCode: "ZC002"}))
		_, err := e.svc.StoreIn(e.ctx, e.owner, ledger.Movement{PrevBatch: bulk.Record.BatchCode, QuantityT: ptr(4.5), FacilityCode: "ZC002"})
		wantErr(t, err, errs.Invalid, "quantity_exceeds_batch", "quantity_t")
		e.must(e.svc.StoreIn(e.ctx, e.owner, ledger.Movement{PrevBatch: bulk.Record.BatchCode, QuantityT: ptr(4.0), FacilityCode: "ZC002"}))
		_, err = e.svc.StoreOut(e.ctx, e.owner, ledger.Movement{PrevBatch: rk.BatchCode, QuantityT: ptr(6.5)})
		wantErr(t, err, errs.Invalid, "quantity_exceeds_batch", "quantity_t")

		// Each link must be to the right kind of batch, of this unit.
		for _, c := range []struct {
			name        string
			call        func() (ledger.Record, error)
			field, code string
		}{
			{"into storage from storage", func() (ledger.Record, error) {
				return e.svc.StoreIn(e.ctx, e.owner, ledger.Movement{PrevBatch: rk.BatchCode, QuantityT: ptr(1.0), FacilityCode: "ZC001"})
			}, "prev_batch", "batch_kind"},
			{"out of storage from generation", func() (ledger.Record, error) {
				return e.svc.StoreOut(e.ctx, e.owner, ledger.Movement{PrevBatch: bulk.Record.BatchCode, QuantityT: ptr(1.0)})
			}, "prev_batch", "batch_kind"},
			{"unknown batch", func() (ledger.Record, error) {
				return e.svc.StoreIn(e.ctx, e.owner, ledger.Movement{PrevBatch: "CS20200101000001", QuantityT: ptr(1.0), FacilityCode: "ZC001"})
			}, "prev_batch", "batch_unknown"},
			{"another unit's batch", func() (ledger.Record, error) {
				return e.svc.StoreIn(e.ctx, e.owner2, ledger.Movement{PrevBatch: bulk.Record.BatchCode, QuantityT: ptr(1.0), FacilityCode: "ZC001"})
			}, "prev_batch", "batch_unknown"},
			{"nothing named", func() (ledger.Record, error) {
				return e.svc.StoreIn(e.ctx, e.owner, ledger.Movement{FacilityCode: "ZC001"})
			}, "prev_batch", "required"},
			{"no storage facility", func() (ledger.Record, error) {
				return e.svc.StoreIn(e.ctx, e.owner, ledger.Movement{PrevBatch: bulk.Record.BatchCode, QuantityT: ptr(0.1)})
			}, "facility_code", "required"},
			{"a generation facility for storage", func() (ledger.Record, error) {
				return e.svc.StoreIn(e.ctx, e.owner, ledger.Movement{ContainerIDs: cs[2:3], FacilityCode: "SC001"})
			}, "facility_code", "facility_kind"},
			{"a stored container stored again", func() (ledger.Record, error) {
				return e.svc.StoreIn(e.ctx, e.owner, ledger.Movement{PrevBatch: g.Record.BatchCode, ContainerIDs: cs[2:3], FacilityCode: "ZC001"})
			}, "container_ids[0]", "container_status"},
			{"another unit's container", func() (ledger.Record, error) {
				return e.svc.StoreIn(e.ctx, e.owner2, ledger.Movement{ContainerIDs: cs[2:3], FacilityCode: "ZC001"})
			}, "container_ids[0]", "container_unknown"},
			{"a container twice", func() (ledger.Record, error) {
				return e.svc.StoreOut(e.ctx, e.owner, ledger.Movement{ContainerIDs: []string{cs[2], cs[2]}})
			}, "container_ids[1]", "container_duplicate"},
			{"unknown method", func() (ledger.Record, error) {
				return e.svc.InHouse(e.ctx, e.owner, ledger.Movement{PrevBatch: bulk.Record.BatchCode, QuantityT: ptr(0.1), FacilityCode: "CZ001", Method: "X9"})
			}, "method", "method_unknown"},
			{"a method the facility does not use", func() (ledger.Record, error) {
				return e.svc.InHouse(e.ctx, e.owner, ledger.Movement{PrevBatch: bulk.Record.BatchCode, QuantityT: ptr(0.1), FacilityCode: "CZ001", Method: "R9"})
			}, "method", "method_facility_mismatch"},
			{"out of another facility", func() (ledger.Record, error) {
				return e.svc.StoreOut(e.ctx, e.owner, ledger.Movement{PrevBatch: rk.BatchCode, QuantityT: ptr(1.0), FacilityCode: "ZC001"})
			}, "facility_code", "facility_mismatch"},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := c.call()
				wantErr(t, err, errs.Invalid, c.code, c.field)
			})
		}
		// Containers from two batches are recorded separately.
		g2 := e.generate(e.owner, 1)
		_, err = e.svc.StoreIn(e.ctx, e.owner, ledger.Movement{ContainerIDs: []string{g2.Items[0].DigitalID, cs[2]}, FacilityCode: "ZC001"})
		wantErr(t, err, errs.Invalid, "container_batch", "container_ids[1]")
	})
}

func TestScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		g := e.generate(e.owner, 2)
		g2 := e.generate(e.owner2, 1, func(in *ledger.NewGeneration) { in.FacilityCode = "" })
		id := g.Items[0].DigitalID

		sees := func(p auth.Principal) (own, other bool) {
			page, err := e.svc.ListContainers(e.ctx, p, ledger.ContainerFilter{})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range page.Items {
				own = own || c.UnitID == e.gen.ID
				other = other || c.UnitID == e.gen2.ID
			}
			return
		}
		for _, c := range []struct {
			name      string
			p         auth.Principal
			gen, gen2 bool
		}{
			{"gen", e.owner, true, false}, {"gen member", e.member, true, false}, {"gen2", e.owner2, false, true},
			{"admin", admin, true, true}, {"city regulator", cityReg, true, true}, {"濉溪县", sxReg, true, false},
			{"the park", parkReg, true, false}, {"相山区", xsReg, false, true}, {"viewer", viewer, false, false},
		} {
			t.Run(c.name, func(t *testing.T) {
				own, other := sees(c.p)
				if own != c.gen || other != c.gen2 {
					t.Fatalf("sees gen=%v gen2=%v, want %v %v", own, other, c.gen, c.gen2)
				}
				_, err := e.svc.GetContainer(e.ctx, c.p, id)
				if c.gen && err != nil {
					t.Fatal(err)
				}
				if !c.gen {
					wantErr(t, err, errs.NotFound, "container_not_found")
				}
				page, err := e.svc.ListRecords(e.ctx, c.p, ledger.RecordFilter{})
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for _, r := range page.Items {
					if r.UnitID == e.gen.ID {
						n++
					}
				}
				if (n > 0) != c.gen {
					t.Fatalf("sees %d of gen's records", n)
				}
				_, err = e.svc.GetRecord(e.ctx, c.p, g.Record.ID)
				if !c.gen {
					wantErr(t, err, errs.NotFound, "record_not_found")
				}
			})
		}
		// Outside scope is not found; in scope but not one's own is forbidden.
		_, err := e.svc.Cancel(e.ctx, e.owner2, g.Record.ID, "误录")
		wantErr(t, err, errs.NotFound, "record_not_found")
		_, err = e.svc.Cancel(e.ctx, sxReg, g.Record.ID, "误录")
		wantErr(t, err, errs.Forbidden, "ledger_forbidden")
		_, err = e.svc.Correct(e.ctx, cityReg, g2.Record.ID, ledger.Correction{QuantityT: 1, Reason: "复核"})
		wantErr(t, err, errs.Forbidden, "ledger_forbidden")
		// A unit cannot move another's containers.
		_, err = e.svc.StoreIn(e.ctx, e.owner2, ledger.Movement{ContainerIDs: []string{id}, FacilityCode: "ZC001"})
		wantErr(t, err, errs.Invalid, "container_unknown", "container_ids[0]")

		// Paging walks every record once, newest first.
		for range 5 {
			e.generate(e.owner, 0)
		}
		var got []string
		f := ledger.RecordFilter{Limit: 2}
		for range 10 {
			page, err := e.svc.ListRecords(e.ctx, e.owner, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Items {
				got = append(got, r.ID)
			}
			if page.Next == "" {
				break
			}
			f.After = page.Next
		}
		if len(got) != 6 || !slices.IsSortedFunc(got, func(a, b string) int { return strings.Compare(b, a) }) {
			t.Fatalf("paged %d records: %v", len(got), got)
		}
		_, err = e.svc.ListRecords(e.ctx, e.owner, ledger.RecordFilter{After: "%%%"})
		wantErr(t, err, errs.Invalid, "cursor_invalid", "cursor")
		byKind, err := e.svc.ListRecords(e.ctx, e.owner, ledger.RecordFilter{Kind: "generation", WasteCode: "900-249-08",
			From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)})
		if err != nil || len(byKind.Items) != 6 {
			t.Fatalf("filtered: %d %v", len(byKind.Items), err)
		}
		none, _ := e.svc.ListRecords(e.ctx, e.owner, ledger.RecordFilter{To: time.Now().Add(-time.Hour)})
		if len(none.Items) != 0 {
			t.Fatalf("records before they happened: %d", len(none.Items))
		}
	})
}

func TestCorrections(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		g := e.generate(e.owner, 3)
		cs := ids(g.Items)
		in := e.must(e.svc.StoreIn(e.ctx, e.owner, ledger.Movement{ContainerIDs: cs[:2], FacilityCode: "ZC001"}))

		// An adjustment is a new record; the original stays as it was.
		adj := e.must(e.svc.Correct(e.ctx, e.owner, g.Record.ID, ledger.Correction{QuantityT: 0.75, Reason: "复磅"}))
		if adj.Kind != ledger.KindAdjustment || adj.CorrectsID != g.Record.ID || adj.CorrectsBatch != g.Record.BatchCode ||
			!strings.HasPrefix(adj.BatchCode, "TZ") || adj.QuantityT != 0.75 || adj.Note != "复磅" ||
			!adj.OccurredAt.Equal(g.Record.OccurredAt) {
			t.Fatalf("adjustment %+v", adj)
		}
		orig, err := e.svc.GetRecord(e.ctx, e.owner, g.Record.ID)
		if err != nil || orig.QuantityT != 0.6 || orig.EffectiveT != 0.75 || orig.Status != "adjusted" {
			t.Fatalf("original after adjustment: %+v %v", orig, err)
		}
		// Below what later stages took is refused.
		_, err = e.svc.Correct(e.ctx, e.owner, g.Record.ID, ledger.Correction{QuantityT: 0.3, Reason: "复磅"})
		wantErr(t, err, errs.Invalid, "quantity_below_downstream", "quantity_t")
		_, err = e.svc.Correct(e.ctx, e.owner, g.Record.ID, ledger.Correction{QuantityT: 0.75, Reason: "复磅"})
		wantErr(t, err, errs.Invalid, "quantity_unchanged", "quantity_t")
		_, err = e.svc.Correct(e.ctx, e.owner, g.Record.ID, ledger.Correction{QuantityT: 0.8})
		wantErr(t, err, errs.Invalid, "required", "reason")
		_, err = e.svc.Correct(e.ctx, e.owner, adj.ID, ledger.Correction{QuantityT: 0.8, Reason: "再改"})
		wantErr(t, err, errs.Conflict, "record_is_correction")
		// A record later stages take from cannot be cancelled.
		_, err = e.svc.Cancel(e.ctx, e.owner, g.Record.ID, "误录")
		wantErr(t, err, errs.Conflict, "record_has_successors")

		// Cancelling the storage puts its containers back and empties the stock.
		cx := e.must(e.svc.Cancel(e.ctx, e.owner, in.ID, "入错库"))
		if cx.Kind != ledger.KindCancellation || cx.QuantityT != 0 || !strings.HasPrefix(cx.BatchCode, "CX") {
			t.Fatalf("cancellation %+v", cx)
		}
		for _, id := range cs[:2] {
			if c := e.container(id); c.Status != ledger.StatusGenerated || c.StorageBatch != "" || c.StoredAt != nil {
				t.Fatalf("container after cancellation %+v", c)
			}
		}
		stock, err := e.svc.Stock(e.ctx, e.owner, e.gen.ID, time.Now())
		if err != nil || stockOf(stock, "ZC001") != 0 {
			t.Fatalf("stock after cancellation: %v %v", stock, err)
		}
		_, err = e.svc.Cancel(e.ctx, e.owner, in.ID, "又撤")
		wantErr(t, err, errs.Conflict, "record_cancelled")
		cancelled, _ := e.svc.GetRecord(e.ctx, e.owner, in.ID)
		if cancelled.Status != "cancelled" || cancelled.EffectiveT != 0 {
			t.Fatalf("cancelled record %+v", cancelled)
		}
		// Now the generation can go, and its containers are void.
		e.must(e.svc.Cancel(e.ctx, e.owner, g.Record.ID, "误录"))
		if c := e.container(cs[2]); c.Status != ledger.StatusCancelled {
			t.Fatalf("container of a cancelled generation: %s", c.Status)
		}
		// Corrections of an out-of-storage record give back stock.
		bulk := e.generate(e.owner, 0, func(in *ledger.NewGeneration) { in.QuantityT = 5 })
		rk := e.must(e.svc.StoreIn(e.ctx, e.owner, ledger.Movement{PrevBatch: bulk.Record.BatchCode, QuantityT: ptr(5.0), FacilityCode: "ZC001"}))
		ck := e.must(e.svc.StoreOut(e.ctx, e.owner, ledger.Movement{PrevBatch: rk.BatchCode, QuantityT: ptr(3.0)}))
		e.must(e.svc.Correct(e.ctx, e.owner, ck.ID, ledger.Correction{QuantityT: 2, Reason: "少出"}))
		stock, _ = e.svc.Stock(e.ctx, e.owner, e.gen.ID, time.Now())
		if got := stockOf(stock, "ZC001"); got != 3 {
			t.Fatalf("stock after correcting the out-of-storage record: %v", got)
		}
		_, err = e.svc.Correct(e.ctx, e.owner, ck.ID, ledger.Correction{QuantityT: 5.5, Reason: "多出"})
		wantErr(t, err, errs.Invalid, "quantity_exceeds_stock", "quantity_t")
		_, err = e.svc.Correct(e.ctx, e.owner, rk.ID, ledger.Correction{QuantityT: 1.5, Reason: "少入"})
		wantErr(t, err, errs.Invalid, "quantity_below_downstream", "quantity_t")
		// Every correction is on the audit log.
		var n int
		store.Get(e.ctx, db.Reader(), &n, `SELECT count(*) FROM audit_entries WHERE action IN ('ledger.adjustment', 'ledger.cancellation')`)
		if n != 4 {
			t.Fatalf("%d correction entries, want 4", n)
		}
	})
}

func stockOf(fs []ledger.FacilityStock, code string) float64 {
	for _, f := range fs {
		if f.FacilityCode == code {
			return f.QuantityT
		}
	}
	return -1
}

func TestStock(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		now := time.Now().UTC()
		old := now.Add(-40 * 24 * time.Hour)
		recent := now.Add(-10 * 24 * time.Hour)
		a := e.generate(e.owner, 0, func(in *ledger.NewGeneration) { in.QuantityT = 2; in.OccurredAt = &old })
		b := e.generate(e.owner, 2, func(in *ledger.NewGeneration) { in.OccurredAt = &recent })
		c := e.generate(e.owner, 0, func(in *ledger.NewGeneration) { in.WasteCode = "900-041-49"; in.QuantityT = 1; in.OccurredAt = &recent })
		rkA := e.must(e.svc.StoreIn(e.ctx, e.owner, ledger.Movement{PrevBatch: a.Record.BatchCode, QuantityT: ptr(2.0), FacilityCode: "ZC001", OccurredAt: &old}))
		e.must(e.svc.StoreIn(e.ctx, e.owner, ledger.Movement{ContainerIDs: ids(b.Items), FacilityCode: "ZC001", OccurredAt: &recent}))
		e.must(e.svc.StoreIn(e.ctx, e.owner, ledger.Movement{PrevBatch: c.Record.BatchCode, QuantityT: ptr(1.0), FacilityCode: "ZC001", OccurredAt: &recent}))
		fs, err := e.svc.Stock(e.ctx, e.owner, e.gen.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != 2 { // both storage facilities of the unit, one empty
			t.Fatalf("facilities %+v", fs)
		}
		f := fs[0]
		if f.FacilityCode != "ZC001" || f.QuantityT != 3.4 || f.CapacityT != 300 || f.OldestAt == nil ||
			!f.OldestAt.Equal(old.Truncate(time.Microsecond)) || f.AgeDays != 40 || len(f.Codes) != 2 {
			t.Fatalf("ZC001 %+v", f)
		}
		if fs[1].FacilityCode != "ZC002" || fs[1].QuantityT != 0 || fs[1].OldestAt != nil {
			t.Fatalf("ZC002 %+v", fs[1])
		}
		// Taking the oldest batch out makes the next one the oldest.
		e.must(e.svc.StoreOut(e.ctx, e.owner, ledger.Movement{PrevBatch: rkA.BatchCode, QuantityT: ptr(2.0)}))
		fs, _ = e.svc.Stock(e.ctx, e.owner, e.gen.ID, now)
		if fs[0].QuantityT != 1.4 || !fs[0].OldestAt.Equal(recent.Truncate(time.Microsecond)) || fs[0].AgeDays != 10 {
			t.Fatalf("after taking out the oldest: %+v", fs[0])
		}
		// A regulator sees the region's stock; another unit sees none of it.
		if fs, _ := e.svc.Stock(e.ctx, sxReg, "", now); stockOf(fs, "ZC001") != 1.4 {
			t.Fatalf("regulator's view %+v", fs)
		}
		if fs, _ := e.svc.Stock(e.ctx, e.owner2, e.gen.ID, now); len(fs) != 0 {
			t.Fatalf("gen2 sees gen's stock: %+v", fs)
		}
		if fs, _ := e.svc.Stock(e.ctx, xsReg, "", now); len(fs) != 0 {
			t.Fatalf("相山区 sees 濉溪县's stock: %+v", fs)
		}
	})
}

func TestCheckStorage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		now := time.Now().UTC()
		keep := func(p auth.Principal, facility string, daysAgo int, tonnes float64) {
			t.Helper()
			at := now.Add(-time.Duration(daysAgo) * 24 * time.Hour)
			g := e.generate(p, 0, func(in *ledger.NewGeneration) { in.QuantityT = tonnes; in.OccurredAt = &at; in.FacilityCode = "" })
			e.must(e.svc.StoreIn(e.ctx, p, ledger.Movement{PrevBatch: g.Record.BatchCode, QuantityT: &tonnes, FacilityCode: facility, OccurredAt: &at}))
		}
		keep(e.owner, "ZC001", 340, 1) // within 30 days of the one-year limit
		keep(e.owner, "ZC001", 10, 1)
		keep(e.owner, "ZC002", 400, 1)   // past the limit
		keep(e.owner2, "ZC001", 20, 3.5) // a storage point over 3 t
		n, err := ledger.CheckStorage(e.ctx, db, now)
		if err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Fatalf("raised %d alerts, want 3", n)
		}
		var got []struct {
			Kind       string `db:"kind"`
			SubjectRef string `db:"subject_ref"`
			Region     string `db:"region_code"`
			Unit       string `db:"unit_id"`
		}
		if err := store.Select(e.ctx, db.Reader(), &got, `SELECT a.kind, a.subject_ref, a.region_code, p.unit_id FROM alerts a
			JOIN alert_parties p ON p.alert_id = a.id ORDER BY a.kind`); err != nil {
			t.Fatal(err)
		}
		want := []string{"storage_age_limit ZC002 340621 " + e.gen.ID, "storage_age_warning ZC001 340621 " + e.gen.ID,
			"storage_point_over ZC001 340603 " + e.gen2.ID}
		for i, a := range got {
			if s := a.Kind + " " + a.SubjectRef + " " + a.Region + " " + a.Unit; i >= len(want) || s != want[i] {
				t.Fatalf("alert %d: %s, want %v", i, s, want)
			}
		}
		// Run again: nothing new while those are open.
		if n, err := ledger.CheckStorage(e.ctx, db, now); err != nil || n != 0 {
			t.Fatalf("second run raised %d (%v)", n, err)
		}
		// The limit is a setting: at 300 days ZC001's oldest is overdue too.
		if err := db.Tx(e.ctx, func(tx *store.Tx) error {
			store.Changed(tx, "settings")
			_, err := store.Exec(e.ctx, tx, `INSERT INTO settings (key, value, updated_at) VALUES ('storage_limit_days', '300', ?)`, tx.Now)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if n, err := ledger.CheckStorage(e.ctx, db, now); err != nil || n != 1 {
			t.Fatalf("with a 300-day limit raised %d (%v), want 1", n, err)
		}
	})
}

func TestPeriodTotals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		jan := time.Date(2025, 1, 10, 2, 0, 0, 0, time.UTC)
		feb := time.Date(2025, 2, 10, 2, 0, 0, 0, time.UTC)
		mar := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
		g := e.generate(e.owner, 0, func(in *ledger.NewGeneration) { in.QuantityT = 10; in.OccurredAt = &jan })
		rk := e.must(e.svc.StoreIn(e.ctx, e.owner, ledger.Movement{PrevBatch: g.Record.BatchCode, QuantityT: ptr(8.0), FacilityCode: "ZC001", OccurredAt: &jan}))
		e.must(e.svc.InHouse(e.ctx, e.owner, ledger.Movement{PrevBatch: g.Record.BatchCode, QuantityT: ptr(1.0), FacilityCode: "CZ001", Method: "D10", OccurredAt: &jan}))
		ck := e.must(e.svc.StoreOut(e.ctx, e.owner, ledger.Movement{PrevBatch: rk.BatchCode, QuantityT: ptr(3.0), OccurredAt: &feb}))
		e.must(e.svc.InHouse(e.ctx, e.owner, ledger.Movement{PrevBatch: ck.BatchCode, QuantityT: ptr(2.0), FacilityCode: "CZ001", Method: "D10", OccurredAt: &feb}))
		g2 := e.generate(e.owner, 0, func(in *ledger.NewGeneration) { in.QuantityT = 4; in.OccurredAt = &feb; in.WasteCode = "900-041-49" })
		// A correction counts in the period of the record it corrects.
		e.must(e.svc.Correct(e.ctx, e.owner, g.Record.ID, ledger.Correction{QuantityT: 10.5, Reason: "复磅"}))
		e.must(e.svc.Cancel(e.ctx, e.owner, g2.Record.ID, "误录"))
		e.generate(e.owner2, 0, func(in *ledger.NewGeneration) { in.QuantityT = 7; in.OccurredAt = &feb; in.FacilityCode = "" })

		t1 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		t2 := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
		check := func(from, to time.Time, want []ledger.Totals) {
			t.Helper()
			got, err := ledger.PeriodTotals(e.ctx, db.Reader(), e.gen.ID, from, to)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("totals %s–%s:\n got %+v\nwant %+v", from.Format(time.DateOnly), to.Format(time.DateOnly), got, want)
			}
			for _, x := range got {
				if x.ClosingG != x.OpeningG+x.StoredInG-x.StoredOutG {
					t.Fatalf("%s: closing %d ≠ opening %d + in %d − out %d", x.WasteCode, x.ClosingG, x.OpeningG, x.StoredInG, x.StoredOutG)
				}
			}
		}
		const T = 1_000_000
		check(t1, t2, []ledger.Totals{{WasteCode: "900-249-08", GeneratedG: 10.5 * T, StoredInG: 8 * T, InHouseG: 1 * T, ClosingG: 8 * T}})
		check(t2, mar, []ledger.Totals{{WasteCode: "900-249-08", OpeningG: 8 * T, StoredOutG: 3 * T, InHouseG: 2 * T, ClosingG: 5 * T}})
		check(t1, mar, []ledger.Totals{{WasteCode: "900-249-08", GeneratedG: 10.5 * T, StoredInG: 8 * T, StoredOutG: 3 * T,
			InHouseG: 3 * T, ClosingG: 5 * T}})
		check(mar, mar.AddDate(0, 1, 0), []ledger.Totals{{WasteCode: "900-249-08", OpeningG: 5 * T, ClosingG: 5 * T}})
	})
}

func TestShipment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		g := e.generate(e.owner, 4)
		cs := ids(g.Items)
		rk := e.must(e.svc.StoreIn(e.ctx, e.owner, ledger.Movement{ContainerIDs: cs[:2], FacilityCode: "ZC001"}))
		other := e.generate(e.owner, 1, func(in *ledger.NewGeneration) { in.WasteCode = "900-041-49" })

		// The checks a manifest runs when it is submitted.
		r := db.Reader()
		if err := ledger.CheckContainers(e.ctx, r, e.gen.ID, "900-249-08", cs[:3]); err != nil {
			t.Fatal(err)
		}
		wantErr(t, ledger.CheckContainers(e.ctx, r, e.gen.ID, "900-249-08", []string{cs[0], "nope"}), errs.Invalid,
			"container_unknown", "container_ids[1]")
		wantErr(t, ledger.CheckContainers(e.ctx, r, e.gen.ID, "900-249-08", []string{other.Items[0].DigitalID}), errs.Invalid,
			"container_code_mismatch", "container_ids[0]")
		wantErr(t, ledger.CheckContainers(e.ctx, r, e.gen2.ID, "900-249-08", cs[:1]), errs.Invalid,
			"container_unknown", "container_ids[0]")

		actor := audit.Actor{UserID: "u-carrier", Username: "carrier", Role: "unit_admin", UnitID: "carrier"}
		ship := ledger.Shipment{UnitID: e.gen.ID, ManifestID: "m-1", ManifestNumber: "20263406000001", At: time.Now(), Actor: actor,
			Lines: []ledger.ShipmentLine{{LineNo: 1, WasteCode: "900-249-08", QuantityG: 600_000, ContainerIDs: cs[:3]},
				{LineNo: 2, WasteCode: "900-041-49", QuantityG: 1_000_000}}}
		count := func(q string, args ...any) int {
			var n int
			if err := store.Get(e.ctx, r, &n, q, args...); err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := count(`SELECT count(*) FROM ledger_records`)
		for range 2 { // a repeated pickup changes nothing
			if err := db.Tx(e.ctx, func(tx *store.Tx) error { return ledger.Ship(e.ctx, tx, ship) }); err != nil {
				t.Fatal(err)
			}
		}
		if n := count(`SELECT count(*) FROM ledger_records`) - before; n != 1 {
			t.Fatalf("pickup wrote %d records, want 1 out-of-storage record", n)
		}
		page, err := e.svc.ListRecords(e.ctx, e.owner, ledger.RecordFilter{Kind: "storage_out"})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("out-of-storage records: %v %v", page.Items, err)
		}
		ck := page.Items[0]
		if ck.PrevBatch != rk.BatchCode || ck.ManifestID != "m-1" || ck.ManifestNumber != "20263406000001" || ck.LineNo != 1 ||
			ck.QuantityT != 0.4 || !slices.Equal(ck.ContainerIDs, cs[:2]) || ck.FacilityCode != "ZC001" || ck.Handler != "carrier" {
			t.Fatalf("out-of-storage record %+v", ck)
		}
		for _, id := range cs[:3] {
			if c := e.container(id); c.Status != ledger.StatusShipped || c.ManifestID != "m-1" {
				t.Fatalf("shipped container %+v", c)
			}
		}
		if c := e.container(cs[0]); c.OutBatch != ck.BatchCode {
			t.Fatalf("stored container left with %q", c.OutBatch)
		}
		if fs, _ := e.svc.Stock(e.ctx, e.owner, e.gen.ID, time.Now()); stockOf(fs, "ZC001") != 0 {
			t.Fatalf("stock after pickup %+v", fs)
		}
		wantErr(t, ledger.CheckContainers(e.ctx, r, e.gen.ID, "900-249-08", cs[2:]), errs.Invalid,
			"container_shipped", "container_ids[0]")
		// A record written from a manifest is corrected with the manifest.
		_, err = e.svc.Cancel(e.ctx, e.owner, ck.ID, "误录")
		wantErr(t, err, errs.Conflict, "record_from_manifest")
		// Another manifest cannot take them.
		ship2 := ship
		ship2.ManifestID = "m-2"
		err = db.Tx(e.ctx, func(tx *store.Tx) error { return ledger.Ship(e.ctx, tx, ship2) })
		wantErr(t, err, errs.Invalid, "container_shipped", "lines[0].container_ids[0]")

		// At completion: one outsourced record per batch the containers left.
		o := ledger.Outsourced{UnitID: e.gen.ID, ManifestID: "m-1", ManifestNumber: "20263406000001", LineNo: 1,
			WasteCode: "900-249-08", QuantityG: 590_000, Method: "R9", ReceiverUnitID: "disposer", ReceiverName: "淮北绿源环境科技有限公司",
			LicenceNumber: "皖危废经许字3406040001号", DepartedAt: time.Now().Add(-time.Hour), ContainerIDs: cs[:3], Actor: actor}
		for range 2 { // recorded once
			if err := db.Tx(e.ctx, func(tx *store.Tx) error { return ledger.RecordOutsourced(e.ctx, tx, o) }); err != nil {
				t.Fatal(err)
			}
		}
		ww, err := e.svc.ListRecords(e.ctx, e.owner, ledger.RecordFilter{Kind: "outsourced"})
		if err != nil || len(ww.Items) != 2 {
			t.Fatalf("outsourced records: %d %v", len(ww.Items), err)
		}
		byPrev := map[string]ledger.Record{}
		for _, w := range ww.Items {
			byPrev[w.PrevBatch] = w
			if w.Method != "R9" || w.LicenceNumber == "" || w.ReceiverName == "" || w.ManifestNumber != "20263406000001" ||
				!strings.HasPrefix(w.BatchCode, "WW") {
				t.Fatalf("outsourced record %+v", w)
			}
		}
		fromStore, fromGen := byPrev[ck.BatchCode], byPrev[g.Record.BatchCode]
		if fromStore.QuantityG+fromGen.QuantityG != 590_000 || fromStore.QuantityG != 393_333 ||
			!slices.Equal(fromStore.ContainerIDs, cs[:2]) || !slices.Equal(fromGen.ContainerIDs, cs[2:3]) {
			t.Fatalf("shares: %+v %+v", fromStore, fromGen)
		}
		if c := e.container(cs[2]); c.Status != ledger.StatusReceived {
			t.Fatalf("received container %+v", c)
		}
		// A line without containers links to nothing before it.
		o2 := o
		o2.LineNo, o2.WasteCode, o2.QuantityG, o2.ContainerIDs = 2, "900-041-49", 1_000_000, nil
		if err := db.Tx(e.ctx, func(tx *store.Tx) error { return ledger.RecordOutsourced(e.ctx, tx, o2) }); err != nil {
			t.Fatal(err)
		}
		totals, err := ledger.PeriodTotals(e.ctx, r, e.gen.ID, time.Now().Add(-24*time.Hour), time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var outsourced int64
		for _, x := range totals {
			outsourced += x.OutsourcedG
		}
		if outsourced != 1_590_000 {
			t.Fatalf("outsourced total %d", outsourced)
		}

		// The trace of containers: every record that names each, in order;
		// an unknown id is left out.
		chains, err := ledger.ContainerChains(e.ctx, r, []string{cs[0], cs[1], "nope"})
		if err != nil {
			t.Fatal(err)
		}
		if len(chains) != 2 || len(chains[cs[1]].Steps) == 0 {
			t.Fatalf("chains of %v: %d", cs[:2], len(chains))
		}
		c, steps := chains[cs[0]].Container, chains[cs[0]].Steps
		manifest := c.ManifestID
		var kinds []string
		for i, s := range steps {
			kinds = append(kinds, s.Kind)
			if s.AuditSeq == 0 || s.At.IsZero() || s.Ref == "" || s.UnitID != e.gen.ID || (i > 0 && s.AuditSeq <= steps[i-1].AuditSeq) {
				t.Fatalf("step %+v", s)
			}
		}
		if c.DigitalID != cs[0] || manifest != "m-1" ||
			!slices.Equal(kinds, []string{"generation", "storage_in", "storage_out", "outsourced"}) {
			t.Fatalf("steps %v, manifest %q", kinds, manifest)
		}
		if got, err := ledger.BatchContainers(e.ctx, r, ck.BatchCode); err != nil || !slices.Equal(got, cs[:2]) {
			t.Fatalf("batch containers %v %v", got, err)
		}
		_, err = ledger.BatchContainers(e.ctx, r, "CK20000101000001")
		wantErr(t, err, errs.NotFound, "batch_not_found")
	})
}

func TestPublicFacts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		g := e.generate(e.owner, 1, func(in *ledger.NewGeneration) { in.Components = "矿物油"; in.Remark = "1 号桶" })
		f, err := e.svc.PublicFacts(e.ctx, g.Items[0].DigitalID)
		if err != nil {
			t.Fatal(err)
		}
		if f.UnitName != e.gen.Name || f.RegionName != "濉溪县" || f.ContactPhone != "0561-6012345" || f.Components != "矿物油" ||
			f.QuantityT != 0.2 {
			t.Fatalf("facts %+v", f)
		}
		l := f.Label("https://wufei.example")
		if l.URL != "https://wufei.example/l/"+g.Items[0].DigitalID || l.Remark != "1 号桶" || l.UnitName != e.gen.Name {
			t.Fatalf("label %+v", l)
		}
		for _, bad := range []string{"", "x", g.Items[0].DigitalID[:36] + "0"} {
			_, err := e.svc.PublicFacts(e.ctx, bad)
			wantErr(t, err, errs.NotFound, "container_not_found")
		}
		if _, err := e.svc.Facts(e.ctx, e.owner2, g.Items[0].DigitalID); errs.KindOf(err) != errs.NotFound {
			t.Fatalf("gen2 reads gen's label facts: %v", err)
		}
		if ok, err := e.svc.ManifestParty(e.ctx, e.owner, ""); ok || err != nil {
			t.Fatalf("party to no manifest: %v %v", ok, err)
		}
	})
}
