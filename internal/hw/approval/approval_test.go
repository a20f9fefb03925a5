package approval_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/catalog"
	"wufei/internal/errs"
	"wufei/internal/hw/approval"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// Principals. Regions: 340621 濉溪县 (park 340621P01), 340603 相山区,
// 340604 烈山区; 320000 江苏省 and 430000 湖南省 lie outside Anhui.
var (
	admin   = auth.Principal{UserID: "u-admin", Username: "admin", Role: auth.Admin}
	cityReg = auth.Principal{UserID: "u-city", Username: "sthjj", Role: auth.Regulator, RegionCode: "340600"}
	xsReg   = auth.Principal{UserID: "u-xs", Username: "xsq", Role: auth.Regulator, RegionCode: "340603"}
	sxReg   = auth.Principal{UserID: "u-sx", Username: "sxx", Role: auth.Regulator, RegionCode: "340621"}
	parkReg = auth.Principal{UserID: "u-park", Username: "mhj", Role: auth.Regulator, RegionCode: "340621P01"}
	lsReg   = auth.Principal{UserID: "u-ls", Username: "lsq", Role: auth.Regulator, RegionCode: "340604"}
	viewer  = auth.Principal{UserID: "u-v", Username: "public", Role: auth.Viewer}
)

func unitAdmin(u registry.Unit) auth.Principal {
	return auth.Principal{UserID: "ua-" + u.ID, Username: "ua", Role: auth.UnitAdmin, UnitID: u.ID}
}

// env is a migrated database with the reference data, the catalogue and a
// few units:
//   - gen: generator in 濉溪县, park 340621P01; gen2: generator in 相山区;
//   - local: utiliser+disposer in 烈山区, licensed for 20,000 t/yr
//     (HW08 R9/D10, HW49 D10, HW50 R8) from 2024-06-01 to 2029-05-31;
//   - bare: a utiliser in 烈山区 without a licence;
//   - js: utiliser in 江苏, licensed here for HW08 R9 until 2026-12-31;
//   - jsGen: generator in 江苏; hn: utiliser in 湖南 without a licence here.
type env struct {
	t                                testing.TB
	ctx                              context.Context
	db                               *store.DB
	reg                              *registry.Service
	svc                              *approval.Service
	n                                int
	gen, gen2, local, bare, js, jsGn registry.Unit
	hn                               registry.Unit
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
	e := &env{t: t, ctx: ctx, db: db, reg: registry.NewService(db), svc: approval.NewService(db)}
	e.gen = e.unit("临涣煤化", "340621", "340621P01", registry.Generator)
	e.gen2 = e.unit("顺达汽修", "340603", "", registry.Generator)
	e.local = e.unit("绿源环境", "340604", "", registry.Utiliser, registry.Disposer)
	e.bare = e.unit("无证利用", "340604", "", registry.Utiliser)
	e.js = e.unit("江苏再生资源", "320000", "", registry.Utiliser)
	e.jsGn = e.unit("江苏化工", "320000", "", registry.Generator)
	e.hn = e.unit("湖南有色", "430000", "", registry.Utiliser)
	e.licence(e.local, "皖危废3406040001", 20000, day(2024, 6, 1), day(2029, 5, 31),
		registry.LicenceScope{Category: "HW08", Method: "R9"}, registry.LicenceScope{Category: "HW08", Method: "D10"},
		registry.LicenceScope{Category: "HW49", Method: "D10"}, registry.LicenceScope{Category: "HW50", Method: "R8"})
	e.licence(e.js, "苏危废3200000001", 5000, day(2024, 1, 1), day(2026, 12, 31),
		registry.LicenceScope{Category: "HW08", Method: "R9"})
	return e
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func (e *env) unit(name, region, park string, roles ...registry.UnitRole) registry.Unit {
	e.t.Helper()
	e.n++
	u, err := e.reg.CreateUnit(e.ctx, admin, registry.NewUnit{USCC: registry.MakeUSCC("91", region, fmt.Sprintf("MA%06d", e.n)),
		Name: name, Roles: roles, RegionCode: region, ParkCode: park})
	if err != nil {
		e.t.Fatalf("unit %s: %v", name, err)
	}
	return u
}

func (e *env) licence(u registry.Unit, number string, capT float64, from, to time.Time,
	scopes ...registry.LicenceScope) registry.Licence {
	e.t.Helper()
	l, err := e.reg.CreateLicence(e.ctx, admin, registry.NewLicence{UnitID: u.ID, Number: number, CapacityT: capT,
		Kinds: []registry.LicenceKind{registry.Utilise, registry.Dispose}, ValidFrom: from, ValidTo: to, Scopes: scopes})
	if err != nil {
		e.t.Fatalf("licence %s: %v", number, err)
	}
	return l
}

// setting stores a rule value (JSON) in the settings table.
func (e *env) setting(key, value string) {
	e.t.Helper()
	if err := e.db.Tx(e.ctx, func(tx *store.Tx) error {
		store.Changed(tx, "settings")
		_, err := store.Exec(e.ctx, tx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, key, value, tx.Now)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
}

var seq int

// draft is a valid outbound approval from gen to the Hunan utiliser.
func (e *env) draft(from, to string, items ...approval.NewApprovalItem) approval.NewTransferApproval {
	seq++
	if len(items) == 0 {
		items = []approval.NewApprovalItem{{WasteCode: "900-249-08", QuantityT: 10}}
	}
	return approval.NewTransferApproval{Number: fmt.Sprintf("皖环函〔2026〕%d号", seq), ConsignorID: e.gen.ID, ReceiverID: e.hn.ID,
		Method: "R9", Issuer: "安徽省生态环境厅", ValidFrom: from, ValidTo: to, Items: items}
}

func (e *env) create(p auth.Principal, in approval.NewTransferApproval) approval.TransferApproval {
	e.t.Helper()
	a, err := e.svc.Create(e.ctx, p, in)
	if err != nil {
		e.t.Fatalf("create approval: %v", err)
	}
	return a
}

var kindNames = map[errs.Kind]string{errs.Internal: "Internal", errs.Invalid: "Invalid", errs.NotFound: "NotFound",
	errs.Conflict: "Conflict", errs.Unauthorized: "Unauthorized", errs.Forbidden: "Forbidden", errs.TooMany: "TooMany"}

func wantErr(t *testing.T, err error, kind errs.Kind, code string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want %s %s", err, kindNames[kind], code)
	}
	if e.Kind != kind || e.Code != code {
		t.Fatalf("got %s %s (%v), want %s %s", kindNames[e.Kind], e.Code, err, kindNames[kind], code)
	}
}

// wantFields fails unless err is a validation error naming exactly these
// field=code pairs.
func wantFields(t *testing.T, err error, pairs ...string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.Invalid {
		t.Fatalf("got %v, want a validation error %v", err, pairs)
	}
	var got []string
	for _, f := range e.Fields {
		got = append(got, f.Field+"="+f.Code)
		if f.Message == "" {
			t.Errorf("field %s (%s) has no message", f.Field, f.Code)
		}
	}
	slices.Sort(got)
	want := slices.Clone(pairs)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("fields %v, want %v", got, want)
	}
}

func ptr[T any](v T) *T { return &v }

func TestCreate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)

		t.Run("stores an approval with derived provinces and categories", func(t *testing.T) {
			in := e.draft("2026-03-08", "2027-03-07", approval.NewApprovalItem{WasteCode: "900-249-08", QuantityT: 1.5},
				approval.NewApprovalItem{WasteCode: "261-151-50", QuantityT: 2})
			a := e.create(cityReg, in)
			if a.FromProvince != "34" || a.ToProvince != "43" || a.Status != approval.Valid || a.Version != 1 ||
				a.RegionCode != "340621" || a.ID == "" || a.CreatedAt.IsZero() || a.Items[0].QuantityT != 1.5 ||
				a.Items[0].LeftT != 1.5 || a.Items[1].Category != "HW50" {
				t.Fatalf("created %+v", a)
			}
			got, err := e.svc.Get(e.ctx, admin, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Items) != 2 || got.Items[0].WasteCode != "261-151-50" || got.Items[0].Category != "HW50" ||
				got.Items[1].QuantityT != 1.5 || got.Items[1].UsedT != 0 || got.Items[1].LeftT != 1.5 {
				t.Fatalf("items %+v", got.Items)
			}
			if !got.CreatedAt.Equal(a.CreatedAt) || got.Number != in.Number || got.Method != "R9" {
				t.Fatalf("read back %+v, created %+v", got, a)
			}
			hist, err := audit.EntityHistory(e.ctx, db.Reader(), "approval", a.ID)
			if err != nil || len(hist) != 1 || hist[0].Action != "approval.create" || hist[0].UnitID != e.gen.ID ||
				hist[0].RegionCode != "340621" {
				t.Fatalf("audit %v %+v", err, hist)
			}
		})

		t.Run("validity is at most ApprovalMaxMonths", func(t *testing.T) {
			wantFields(t, ptrErr(e.svc.Create(e.ctx, admin, e.draft("2026-03-08", "2027-03-08"))), "valid_to=validity_too_long")
			wantFields(t, ptrErr(e.svc.Create(e.ctx, admin, e.draft("2026-03-08", "2026-03-07"))), "valid_to=validity_order")
			wantFields(t, ptrErr(e.svc.Create(e.ctx, admin, e.draft("2026-3-8", "2026-02-30"))),
				"valid_from=date_format", "valid_to=date_format")
			e.setting("approval_max_months", "6")
			defer e.setting("approval_max_months", "12")
			wantFields(t, ptrErr(e.svc.Create(e.ctx, admin, e.draft("2026-03-08", "2026-09-08"))), "valid_to=validity_too_long")
			e.create(admin, e.draft("2026-03-08", "2026-09-07"))
		})

		t.Run("validity never beyond the receiver's licence", func(t *testing.T) {
			in := e.draft("2026-03-01", "2027-02-28")
			in.ReceiverID = e.js.ID
			wantFields(t, ptrErr(e.svc.Create(e.ctx, admin, in)), "valid_to=validity_beyond_licence")
			in.ValidTo = "2026-12-31"
			e.create(admin, in)
			// The licence must cover each code with the method on the first day.
			in = e.draft("2026-03-01", "2026-12-31", approval.NewApprovalItem{WasteCode: "900-249-08", QuantityT: 1},
				approval.NewApprovalItem{WasteCode: "900-041-49", QuantityT: 1})
			in.ReceiverID = e.js.ID
			wantFields(t, ptrErr(e.svc.Create(e.ctx, admin, in)), "items[1].waste_code=licence_not_covering")
			in = e.draft("2023-06-01", "2023-12-31")
			in.ReceiverID = e.js.ID
			wantFields(t, ptrErr(e.svc.Create(e.ctx, admin, in)), "items[0].waste_code=licence_not_covering")
			in = e.draft("2026-03-01", "2026-12-31")
			in.ReceiverID, in.Method = e.js.ID, "R4"
			wantFields(t, ptrErr(e.svc.Create(e.ctx, admin, in)), "items[0].waste_code=licence_not_covering")
		})

		t.Run("fields are checked", func(t *testing.T) {
			in := e.draft("2026-01-01", "2026-06-30", approval.NewApprovalItem{WasteCode: "900-249-08", QuantityT: 0},
				approval.NewApprovalItem{WasteCode: "999-999-99", QuantityT: 1}, approval.NewApprovalItem{WasteCode: "HW08", QuantityT: 1},
				approval.NewApprovalItem{WasteCode: "900-249-08", QuantityT: 1.0000001})
			in.Method, in.Number = "R99", " "
			wantFields(t, ptrErr(e.svc.Create(e.ctx, admin, in)), "items[0].quantity_t=quantity_positive",
				"items[3].quantity_t=quantity_precision")
			in.Items = in.Items[1:3]
			wantFields(t, ptrErr(e.svc.Create(e.ctx, admin, in)), "number=required", "method=method_unknown",
				"items[0].waste_code=waste_code_unknown", "items[1].waste_code=waste_code_format")
			in = e.draft("2026-01-01", "2026-06-30", approval.NewApprovalItem{WasteCode: "900-249-08", QuantityT: 1},
				approval.NewApprovalItem{WasteCode: "900-249-08", QuantityT: 2})
			wantFields(t, ptrErr(e.svc.Create(e.ctx, admin, in)), "items[1].waste_code=waste_code_duplicate")
		})

		t.Run("parties must be two units in different provinces", func(t *testing.T) {
			in := e.draft("2026-01-01", "2026-06-30")
			in.ReceiverID = e.local.ID
			wantFields(t, ptrErr(e.svc.Create(e.ctx, admin, in)), "receiver_unit_id=not_cross_province")
			in.ReceiverID = e.jsGn.ID
			wantFields(t, ptrErr(e.svc.Create(e.ctx, admin, in)), "receiver_unit_id=receiver_role")
			in.ReceiverID = e.gen.ID
			wantFields(t, ptrErr(e.svc.Create(e.ctx, admin, in)), "receiver_unit_id=same_unit")
			in.ConsignorID, in.ReceiverID = "nope", "nada"
			wantFields(t, ptrErr(e.svc.Create(e.ctx, admin, in)), "consignor_unit_id=unit_unknown", "receiver_unit_id=unit_unknown")
		})

		t.Run("the decision number is unique", func(t *testing.T) {
			in := e.draft("2026-01-01", "2026-06-30")
			e.create(admin, in)
			wantFields(t, ptrErr(e.svc.Create(e.ctx, admin, in)), "number=approval_number_taken")
		})
	})
}

func ptrErr[T any](_ T, err error) error { return err }

func TestInboundRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		inbound := func(method string, tonnes float64, from, to string) approval.NewTransferApproval {
			code := "900-249-08"
			if method == "D10" {
				code = "900-041-49"
			}
			in := e.draft(from, to, approval.NewApprovalItem{WasteCode: code, QuantityT: tonnes})
			in.ConsignorID, in.ReceiverID, in.Method, in.Issuer = e.jsGn.ID, e.local.ID, method, "江苏省生态环境厅"
			return in
		}

		t.Run("incineration, landfill and physico-chemical treatment are refused", func(t *testing.T) {
			wantFields(t, ptrErr(e.svc.Create(e.ctx, lsReg, inbound("D10", 1, "2026-01-01", "2026-12-31"))),
				"method=inbound_method_refused")
			// The same method outbound is Jiangsu's business, not Anhui's.
			out := e.draft("2026-01-01", "2026-06-30", approval.NewApprovalItem{WasteCode: "900-041-49", QuantityT: 1})
			out.Method = "D10"
			e.create(admin, out)
		})

		t.Run("the cap is 30 % of the licensed capacity across overlapping approvals", func(t *testing.T) {
			a := e.create(lsReg, inbound("R9", 4000, "2026-01-01", "2026-12-31"))
			if a.FromProvince != "32" || a.ToProvince != "34" || a.RegionCode != "340604" {
				t.Fatalf("inbound %+v", a)
			}
			e.create(lsReg, inbound("R9", 2000, "2026-06-01", "2027-05-31")) // 6,000 t = 30 % of 20,000 t
			wantFields(t, ptrErr(e.svc.Create(e.ctx, lsReg, inbound("R9", 0.000001, "2026-12-31", "2027-01-31"))),
				"items=inbound_cap_exceeded")
			// A period that overlaps only the second leaves room for 4,000 t.
			e.create(lsReg, inbound("R9", 4000, "2027-01-01", "2027-05-31"))
			// A revoked approval no longer counts.
			wantFields(t, ptrErr(e.svc.Create(e.ctx, lsReg, inbound("R9", 4000, "2026-01-01", "2026-06-30"))),
				"items=inbound_cap_exceeded")
			_, err := e.svc.Update(e.ctx, lsReg, a.ID, approval.TransferApprovalPatch{Version: 1, Status: ptr(approval.Revoked)})
			if err != nil {
				t.Fatal(err)
			}
			e.create(lsReg, inbound("R9", 4000, "2026-01-01", "2026-06-30"))
		})

		t.Run("raised to 60 % by the approval's flag", func(t *testing.T) {
			in := inbound("R9", 6000, "2026-06-15", "2026-12-31")
			wantFields(t, ptrErr(e.svc.Create(e.ctx, lsReg, in)), "items=inbound_cap_exceeded")
			in.RaisedCap = true
			e.create(lsReg, in) // 2,000 + 4,000 + 6,000 = 12,000 t = 60 %
		})

		t.Run("a receiver without a licence here cannot take inbound waste", func(t *testing.T) {
			in := inbound("R9", 1, "2026-01-01", "2026-12-31")
			in.ReceiverID = e.bare.ID
			wantFields(t, ptrErr(e.svc.Create(e.ctx, lsReg, in)), "receiver_unit_id=receiver_licence_missing")
		})

		t.Run("the rules are settings", func(t *testing.T) {
			e.setting("approval_inbound_refused_methods", `["D1"]`)
			e.setting("approval_inbound_cap_percent", `0`)
			e.create(lsReg, inbound("D10", 100000, "2026-01-01", "2026-12-31"))
			e.setting("approval_inbound_province", `"32"`)
			e.setting("approval_inbound_cap_percent", `30`)
			e.setting("approval_inbound_refused_methods", `["D10", "D1", "D9"]`)
			// Now Jiangsu's inbound rules apply to the Jiangsu receiver instead.
			in := e.draft("2026-03-01", "2026-12-31", approval.NewApprovalItem{WasteCode: "900-249-08", QuantityT: 1501})
			in.ReceiverID = e.js.ID
			wantFields(t, ptrErr(e.svc.Create(e.ctx, admin, in)), "items=inbound_cap_exceeded")
			in.Items[0].QuantityT = 1500
			e.create(admin, in)
			r, err := approval.LoadRules(e.ctx, db.Reader())
			if err != nil || r.InboundProvince != "32" || r.MaxMonths != 12 || r.InboundRaisedCapPercent != 60 {
				t.Fatalf("rules %+v %v", r, err)
			}
		})
	})
}

func TestCovering(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		q := db.Reader()
		a := e.create(admin, e.draft("2026-01-01", "2026-06-30", approval.NewApprovalItem{WasteCode: "900-249-08", QuantityT: 10},
			approval.NewApprovalItem{WasteCode: "261-151-50", QuantityT: 1}))
		noon := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 4, 0, 0, 0, time.UTC) }
		covers := func(code string, at time.Time, tonnes float64) approval.Cover {
			t.Helper()
			c, err := approval.Covering(e.ctx, q, e.gen.ID, e.hn.ID, code, at, int64(tonnes*1e6))
			if err != nil {
				t.Fatalf("covering %s %v %g t: %v", code, at, tonnes, err)
			}
			return c
		}
		refused := func(code string, at time.Time, tonnes float64) {
			t.Helper()
			_, err := approval.Covering(e.ctx, q, e.gen.ID, e.hn.ID, code, at, int64(tonnes*1e6))
			wantErr(t, err, errs.Invalid, "cross_province_not_approved")
		}

		t.Run("an approval in force with enough left", func(t *testing.T) {
			if c := covers("900-249-08", noon(2026, 3, 1), 10); c.ApprovalID != a.ID || c.ApprovalNumber != a.Number || c.RouteID != "" {
				t.Fatalf("cover %+v", c)
			}
			refused("900-249-08", noon(2026, 3, 1), 10.000001)
			refused("900-041-49", noon(2026, 3, 1), 1)
			_, err := approval.Covering(e.ctx, q, e.hn.ID, e.gen.ID, "900-249-08", noon(2026, 3, 1), 1)
			wantErr(t, err, errs.Invalid, "cross_province_not_approved")
		})

		t.Run("validity runs over Beijing days, both ends included", func(t *testing.T) {
			covers("900-249-08", time.Date(2025, 12, 31, 16, 0, 0, 0, time.UTC), 1) // 2026-01-01 00:00 CST
			refused("900-249-08", time.Date(2025, 12, 31, 15, 59, 59, 0, time.UTC), 1)
			covers("900-249-08", time.Date(2026, 6, 30, 15, 59, 59, 0, time.UTC), 1) // 2026-06-30 23:59:59 CST
			refused("900-249-08", time.Date(2026, 6, 30, 16, 0, 0, 0, time.UTC), 1)  // expired
		})

		t.Run("used quantity counts", func(t *testing.T) {
			use(t, e, a.ID, "900-249-08", 4_000_000)
			covers("900-249-08", noon(2026, 3, 1), 6)
			refused("900-249-08", noon(2026, 3, 1), 6.000001)
		})

		t.Run("a suspended approval covers nothing", func(t *testing.T) {
			cur, _ := e.svc.Get(e.ctx, admin, a.ID)
			s, err := e.svc.Update(e.ctx, admin, a.ID, approval.TransferApprovalPatch{Version: cur.Version, Status: ptr(approval.Suspended)})
			if err != nil {
				t.Fatal(err)
			}
			refused("900-249-08", noon(2026, 3, 1), 1)
			patch := approval.TransferApprovalPatch{Version: s.Version, Status: ptr(approval.Valid)}
			if _, err := e.svc.Update(e.ctx, admin, a.ID, patch); err != nil {
				t.Fatal(err)
			}
			covers("900-249-08", noon(2026, 3, 1), 1)
		})

		t.Run("the approval running out soonest comes first", func(t *testing.T) {
			b := e.create(admin, e.draft("2026-02-01", "2026-04-30"))
			if c := covers("900-249-08", noon(2026, 3, 1), 1); c.ApprovalID != b.ID {
				t.Fatalf("cover %+v, want the approval ending 2026-04-30", c)
			}
			if c := covers("900-249-08", noon(2026, 3, 1), 8); c.ApprovalID != b.ID {
				t.Fatalf("cover %+v, want the one with 10 t left", c)
			}
			if c := covers("900-249-08", noon(2026, 5, 1), 1); c.ApprovalID != a.ID {
				t.Fatalf("cover %+v after the short one ended", c)
			}
		})

		t.Run("a whitelist route when no approval will do", func(t *testing.T) {
			js := e.unit("江苏回收", "320000", "", registry.Utiliser)
			_, err := approval.Covering(e.ctx, q, e.gen.ID, js.ID, "900-249-08", noon(2026, 3, 1), 1)
			wantErr(t, err, errs.Invalid, "cross_province_not_approved")
			rt, err := e.svc.CreateRoute(e.ctx, cityReg, approval.NewWhitelistRoute{Reference: "长三角白名单（第一批）", ConsignorID: e.gen.ID,
				ReceiverID: js.ID, WasteCodes: []string{"900-249-08", "900-041-49"}, ValidFrom: "2026-01-01", ValidTo: "2027-12-31"})
			if err != nil {
				t.Fatal(err)
			}
			c, err := approval.Covering(e.ctx, q, e.gen.ID, js.ID, "900-041-49", noon(2027, 12, 31), 1e6)
			if err != nil || c.RouteID != rt.ID || c.ApprovalID != "" {
				t.Fatalf("cover %+v %v", c, err)
			}
			_, err = approval.Covering(e.ctx, q, e.gen.ID, js.ID, "900-041-49", noon(2028, 1, 1), 1)
			wantErr(t, err, errs.Invalid, "cross_province_not_approved")
			_, err = approval.Covering(e.ctx, q, e.gen.ID, js.ID, "900-214-08", noon(2026, 3, 1), 1)
			wantErr(t, err, errs.Invalid, "cross_province_not_approved")
			patch := approval.WhitelistRoutePatch{Version: 1, Status: ptr(approval.Suspended)}
			if _, err := e.svc.UpdateRoute(e.ctx, cityReg, rt.ID, patch); err != nil {
				t.Fatal(err)
			}
			_, err = approval.Covering(e.ctx, q, e.gen.ID, js.ID, "900-041-49", noon(2026, 3, 1), 1)
			wantErr(t, err, errs.Invalid, "cross_province_not_approved")
		})
	})
}

func use(t *testing.T, e *env, id, code string, g int64) {
	t.Helper()
	if err := e.db.Tx(e.ctx, func(tx *store.Tx) error { return approval.Use(e.ctx, tx, id, code, g) }); err != nil {
		t.Fatalf("use %d g: %v", g, err)
	}
}

func TestUseConcurrently(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		a := e.create(admin, e.draft("2026-01-01", "2026-06-30"))
		const n = 16
		errc := make(chan error, n)
		for range n {
			go func() {
				errc <- db.Tx(e.ctx, func(tx *store.Tx) error { return approval.Use(e.ctx, tx, a.ID, "900-249-08", 1_000_000) })
			}()
		}
		ok := 0
		for range n {
			if err := <-errc; err == nil {
				ok++
			} else {
				wantErr(t, err, errs.Invalid, "approval_quantity_exceeded")
			}
		}
		got, err := e.svc.Get(e.ctx, admin, a.ID)
		if err != nil || ok != 10 || got.Items[0].UsedT != 10 || got.Items[0].LeftT != 0 {
			t.Fatalf("%d of %d uses of 1 t succeeded on a 10 t cap; item %+v %v", ok, n, got.Items, err)
		}
	})
}

func TestUseRelease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		a := e.create(admin, e.draft("2026-01-01", "2026-06-30", approval.NewApprovalItem{WasteCode: "900-249-08", QuantityT: 10},
			approval.NewApprovalItem{WasteCode: "261-151-50", QuantityT: 1}))
		inTx := func(fn func(tx *store.Tx) error) error { return db.Tx(e.ctx, fn) }
		used := func(code string) (float64, float64) {
			t.Helper()
			got, err := e.svc.Get(e.ctx, admin, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range got.Items {
				if it.WasteCode == code {
					return it.UsedT, it.LeftT
				}
			}
			t.Fatalf("no item %s", code)
			return 0, 0
		}

		use(t, e, a.ID, "900-249-08", 4_000_001)
		use(t, e, a.ID, "900-249-08", 5_999_999)
		if u, l := used("900-249-08"); u != 10 || l != 0 {
			t.Fatalf("used %g left %g after 10 t", u, l)
		}
		err := inTx(func(tx *store.Tx) error { return approval.Use(e.ctx, tx, a.ID, "900-249-08", 1) })
		wantErr(t, err, errs.Invalid, "approval_quantity_exceeded")
		err = inTx(func(tx *store.Tx) error { return approval.Use(e.ctx, tx, a.ID, "900-041-49", 1) })
		wantErr(t, err, errs.Invalid, "approval_code_not_covered")

		if err := inTx(func(tx *store.Tx) error { return approval.Release(e.ctx, tx, a.ID, "900-249-08", 3_000_000) }); err != nil {
			t.Fatal(err)
		}
		if u, l := used("900-249-08"); u != 7 || l != 3 {
			t.Fatalf("used %g left %g after releasing 3 t", u, l)
		}
		err = inTx(func(tx *store.Tx) error { return approval.Release(e.ctx, tx, a.ID, "900-249-08", 7_000_001) })
		wantErr(t, err, errs.Conflict, "approval_release_exceeds_use")

		// A failed use inside a transaction leaves nothing behind.
		_ = inTx(func(tx *store.Tx) error {
			if err := approval.Use(e.ctx, tx, a.ID, "261-151-50", 1_000_000); err != nil {
				return err
			}
			return approval.Use(e.ctx, tx, a.ID, "900-249-08", 3_000_001)
		})
		if u, _ := used("261-151-50"); u != 0 {
			t.Fatalf("rolled back use kept: %g", u)
		}

		t.Run("items may change but not below what was used", func(t *testing.T) {
			items := []approval.NewApprovalItem{{WasteCode: "900-249-08", QuantityT: 6.999999}}
			_, err := e.svc.Update(e.ctx, admin, a.ID, approval.TransferApprovalPatch{Version: 1, Items: items})
			wantFields(t, err, "items[0].quantity_t=quantity_below_used")
			use(t, e, a.ID, "261-151-50", 1)
			items[0].QuantityT = 12
			_, err = e.svc.Update(e.ctx, admin, a.ID, approval.TransferApprovalPatch{Version: 1, Items: items})
			wantFields(t, err, "items=item_in_use")
			items = append(items, approval.NewApprovalItem{WasteCode: "261-151-50", QuantityT: 1},
				approval.NewApprovalItem{WasteCode: "900-214-08", QuantityT: 2})
			got, err := e.svc.Update(e.ctx, admin, a.ID, approval.TransferApprovalPatch{Version: 1, Items: items})
			if err != nil {
				t.Fatal(err)
			}
			if got.Version != 2 || len(got.Items) != 3 {
				t.Fatalf("updated %+v", got)
			}
			if u, l := used("900-249-08"); u != 7 || l != 5 {
				t.Fatalf("used %g left %g after raising the cap to 12 t", u, l)
			}
			if _, l := used("900-214-08"); l != 2 {
				t.Fatalf("new item left %g", l)
			}
			// Dropping an unused code works.
			got, err = e.svc.Update(e.ctx, admin, a.ID, approval.TransferApprovalPatch{Version: 2, Items: items[:2]})
			if err != nil || len(got.Items) != 2 {
				t.Fatalf("drop unused: %v %+v", err, got.Items)
			}
		})
	})
}

func TestScopingAndUpdates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		a := e.create(sxReg, e.draft("2026-01-01", "2026-06-30"))
		b := e.create(cityReg, func() approval.NewTransferApproval {
			in := e.draft("2026-01-01", "2026-06-30")
			in.ConsignorID = e.gen2.ID
			return in
		}())

		t.Run("parties read their own, regulators their region's", func(t *testing.T) {
			for _, p := range []auth.Principal{admin, cityReg, sxReg, parkReg, unitAdmin(e.gen), unitAdmin(e.hn)} {
				if _, err := e.svc.Get(e.ctx, p, a.ID); err != nil {
					t.Fatalf("%s reads: %v", p.Username, err)
				}
			}
			for _, p := range []auth.Principal{xsReg, lsReg, viewer, unitAdmin(e.gen2), unitAdmin(e.js)} {
				_, err := e.svc.Get(e.ctx, p, a.ID)
				wantErr(t, err, errs.NotFound, "approval_not_found")
			}
			page, err := e.svc.List(e.ctx, unitAdmin(e.gen2), approval.Filter{})
			if err != nil || len(page.Items) != 1 || page.Items[0].ID != b.ID {
				t.Fatalf("gen2 lists %v %+v", err, page.Items)
			}
			page, err = e.svc.List(e.ctx, xsReg, approval.Filter{})
			if err != nil || len(page.Items) != 1 || page.Items[0].ID != b.ID {
				t.Fatalf("xsq lists %v %+v", err, page.Items)
			}
		})

		t.Run("only regulators over a party record and change", func(t *testing.T) {
			for _, p := range []auth.Principal{unitAdmin(e.gen), viewer} {
				_, err := e.svc.Create(e.ctx, p, e.draft("2026-01-01", "2026-06-30"))
				wantErr(t, err, errs.Forbidden, "forbidden")
			}
			_, err := e.svc.Create(e.ctx, xsReg, e.draft("2026-01-01", "2026-06-30"))
			wantErr(t, err, errs.Forbidden, "forbidden")
			_, err = e.svc.Update(e.ctx, unitAdmin(e.gen), a.ID, approval.TransferApprovalPatch{Version: 1, Note: ptr("x")})
			wantErr(t, err, errs.Forbidden, "forbidden")
			_, err = e.svc.Update(e.ctx, xsReg, a.ID, approval.TransferApprovalPatch{Version: 1, Note: ptr("x")})
			wantErr(t, err, errs.NotFound, "approval_not_found")
			if _, err := e.svc.Update(e.ctx, parkReg, a.ID, approval.TransferApprovalPatch{Version: 1, Note: ptr("园区核查")}); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("updates are version-checked and audited", func(t *testing.T) {
			_, err := e.svc.Update(e.ctx, sxReg, a.ID, approval.TransferApprovalPatch{Version: 1, Issuer: ptr("省厅")})
			wantErr(t, err, errs.Conflict, "version_conflict")
			got, err := e.svc.Update(e.ctx, sxReg, a.ID, approval.TransferApprovalPatch{Version: 2, ValidTo: ptr("2026-12-31"),
				Number: ptr(" 皖环函〔2026〕更正号 ")})
			if err != nil {
				t.Fatal(err)
			}
			if got.Version != 3 || got.ValidTo != "2026-12-31" || got.Number != "皖环函〔2026〕更正号" || got.Note != "园区核查" {
				t.Fatalf("updated %+v", got)
			}
			_, err = e.svc.Update(e.ctx, sxReg, a.ID, approval.TransferApprovalPatch{Version: 3, ValidTo: ptr("2027-01-01")})
			wantFields(t, err, "valid_to=validity_too_long")
			_, err = e.svc.Update(e.ctx, sxReg, a.ID, approval.TransferApprovalPatch{Version: 3, Number: ptr(b.Number)})
			wantFields(t, err, "number=approval_number_taken")
			hist, err := audit.EntityHistory(e.ctx, db.Reader(), "approval", a.ID)
			if err != nil || len(hist) != 3 || hist[2].Action != "approval.update" || hist[2].ActorUsername != "sxx" {
				t.Fatalf("audit %v %+v", err, hist)
			}
		})

		t.Run("status moves valid ⇄ suspended, then revoked or expired for good", func(t *testing.T) {
			got, err := e.svc.Update(e.ctx, sxReg, a.ID, approval.TransferApprovalPatch{Version: 3, Status: ptr(approval.Suspended)})
			if err != nil || got.Status != approval.Suspended {
				t.Fatalf("suspend: %v %+v", err, got)
			}
			got, err = e.svc.Update(e.ctx, sxReg, a.ID, approval.TransferApprovalPatch{Version: 4, Status: ptr(approval.Expired)})
			if err != nil || got.Status != approval.Expired {
				t.Fatalf("expire: %v %+v", err, got)
			}
			_, err = e.svc.Update(e.ctx, sxReg, a.ID, approval.TransferApprovalPatch{Version: 5, Status: ptr(approval.Valid)})
			wantErr(t, err, errs.Conflict, "approval_closed")
			_, err = e.svc.Update(e.ctx, cityReg, b.ID, approval.TransferApprovalPatch{Version: 1, Status: ptr("lost")})
			wantFields(t, err, "status=status_unknown")
		})
	})
}

func TestList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		var all []approval.TransferApproval
		for i := range 5 {
			in := e.draft(fmt.Sprintf("2026-0%d-01", i+1), fmt.Sprintf("2026-0%d-28", i+2))
			if i%2 == 1 {
				in.Items = []approval.NewApprovalItem{{WasteCode: "261-151-50", QuantityT: 1}}
				in.Method = "R8"
			}
			if i == 4 {
				in.ConsignorID = e.gen2.ID
			}
			all = append(all, e.create(admin, in))
		}
		suspend := approval.TransferApprovalPatch{Version: 1, Status: ptr(approval.Suspended)}
		if _, err := e.svc.Update(e.ctx, admin, all[0].ID, suspend); err != nil {
			t.Fatal(err)
		}
		list := func(f approval.Filter) []string {
			t.Helper()
			var out []string
			seen := map[string]bool{}
			for range 100 {
				page, err := e.svc.List(e.ctx, cityReg, f)
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range page.Items {
					if seen[a.ID] || len(a.Items) == 0 {
						t.Fatalf("approval %s twice or without items", a.ID)
					}
					seen[a.ID] = true
					out = append(out, a.ID)
				}
				if page.Next == "" {
					return out
				}
				f.After = page.Next
			}
			t.Fatal("paging does not end")
			return nil
		}
		ids := func(is ...int) []string {
			var out []string
			for _, i := range is {
				out = append(out, all[i].ID)
			}
			return out
		}
		for _, c := range []struct {
			name string
			f    approval.Filter
			want []string
		}{
			{"all, a page at a time", approval.Filter{Limit: 2}, ids(0, 1, 2, 3, 4)},
			{"consignor", approval.Filter{ConsignorID: e.gen2.ID, Limit: 1}, ids(4)},
			{"receiver", approval.Filter{ReceiverID: e.hn.ID}, ids(0, 1, 2, 3, 4)},
			{"code", approval.Filter{WasteCode: "261-151-50", Limit: 1}, ids(1, 3)},
			{"status", approval.Filter{Status: approval.Valid}, ids(1, 2, 3, 4)},
			{"valid on", approval.Filter{ValidOn: "2026-03-15"}, ids(1, 2)},
			{"valid on the last day", approval.Filter{ValidOn: "2026-03-28"}, ids(1, 2)},
			{"combined", approval.Filter{ValidOn: "2026-02-15", WasteCode: "900-249-08"}, ids(0)},
		} {
			if got := list(c.f); !slices.Equal(got, c.want) {
				t.Errorf("%s: got %v, want %v", c.name, got, c.want)
			}
		}
		_, err := e.svc.List(e.ctx, cityReg, approval.Filter{ValidOn: "15/03/2026"})
		wantFields(t, err, "valid_on=date_format")
		_, err = e.svc.List(e.ctx, cityReg, approval.Filter{WasteCode: "HW08"})
		wantFields(t, err, "waste_code=waste_code_format")
		_, err = e.svc.List(e.ctx, cityReg, approval.Filter{After: "%%%"})
		wantFields(t, err, "cursor=cursor_invalid")
	})
}

func TestRoutes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		in := approval.NewWhitelistRoute{Reference: "长三角白名单", ConsignorID: e.gen.ID, ReceiverID: e.js.ID,
			WasteCodes: []string{"900-249-08", " 261-151-50"}, ValidFrom: "2026-01-01", ValidTo: "2027-12-31"}
		rt, err := e.svc.CreateRoute(e.ctx, sxReg, in)
		if err != nil {
			t.Fatal(err)
		}
		if rt.FromProvince != "34" || rt.ToProvince != "32" || rt.RegionCode != "340621" ||
			!slices.Equal(rt.WasteCodes, []string{"261-151-50", "900-249-08"}) {
			t.Fatalf("route %+v", rt)
		}

		t.Run("checks", func(t *testing.T) {
			bad := in
			bad.ReceiverID = e.hn.ID
			_, err := e.svc.CreateRoute(e.ctx, admin, bad)
			wantFields(t, err, "receiver_unit_id=whitelist_province")
			bad = in
			bad.WasteCodes, bad.ValidTo = []string{"900-249-08", "900-249-08", "x"}, "2025-12-31"
			_, err = e.svc.CreateRoute(e.ctx, admin, bad)
			wantFields(t, err, "waste_codes[1]=waste_code_duplicate", "waste_codes[2]=waste_code_format", "valid_to=validity_order")
			bad = in
			bad.ReceiverID = e.local.ID
			_, err = e.svc.CreateRoute(e.ctx, admin, bad)
			wantFields(t, err, "receiver_unit_id=not_cross_province")
			_, err = e.svc.CreateRoute(e.ctx, xsReg, in)
			wantErr(t, err, errs.Forbidden, "forbidden")
			_, err = e.svc.CreateRoute(e.ctx, unitAdmin(e.gen), in)
			wantErr(t, err, errs.Forbidden, "forbidden")
		})

		t.Run("scoped reads", func(t *testing.T) {
			for _, p := range []auth.Principal{cityReg, sxReg, parkReg, unitAdmin(e.gen), unitAdmin(e.js)} {
				if _, err := e.svc.GetRoute(e.ctx, p, rt.ID); err != nil {
					t.Fatalf("%s reads: %v", p.Username, err)
				}
			}
			for _, p := range []auth.Principal{xsReg, unitAdmin(e.gen2), viewer} {
				_, err := e.svc.GetRoute(e.ctx, p, rt.ID)
				wantErr(t, err, errs.NotFound, "route_not_found")
			}
			page, err := e.svc.ListRoutes(e.ctx, unitAdmin(e.js), approval.Filter{WasteCode: "261-151-50", ValidOn: "2027-12-31"})
			if err != nil || len(page.Items) != 1 || len(page.Items[0].WasteCodes) != 2 {
				t.Fatalf("list %v %+v", err, page)
			}
			page, err = e.svc.ListRoutes(e.ctx, unitAdmin(e.js), approval.Filter{ValidOn: "2028-01-01"})
			if err != nil || len(page.Items) != 0 {
				t.Fatalf("list after expiry %v %+v", err, page)
			}
		})

		t.Run("updates", func(t *testing.T) {
			_, err := e.svc.UpdateRoute(e.ctx, unitAdmin(e.gen), rt.ID, approval.WhitelistRoutePatch{Version: 1, Note: ptr("x")})
			wantErr(t, err, errs.Forbidden, "forbidden")
			got, err := e.svc.UpdateRoute(e.ctx, sxReg, rt.ID, approval.WhitelistRoutePatch{Version: 1, WasteCodes: []string{"900-214-08"},
				ValidTo: ptr("2026-12-31")})
			if err != nil || got.Version != 2 || !slices.Equal(got.WasteCodes, []string{"900-214-08"}) || got.ValidTo != "2026-12-31" {
				t.Fatalf("update %v %+v", err, got)
			}
			_, err = e.svc.UpdateRoute(e.ctx, sxReg, rt.ID, approval.WhitelistRoutePatch{Version: 1, Note: ptr("x")})
			wantErr(t, err, errs.Conflict, "version_conflict")
			revoke := approval.WhitelistRoutePatch{Version: 2, Status: ptr(approval.Revoked)}
			if _, err := e.svc.UpdateRoute(e.ctx, sxReg, rt.ID, revoke); err != nil {
				t.Fatal(err)
			}
			_, err = e.svc.UpdateRoute(e.ctx, sxReg, rt.ID, approval.WhitelistRoutePatch{Version: 3, Status: ptr(approval.Valid)})
			wantErr(t, err, errs.Conflict, "route_closed")
			got, _ = e.svc.GetRoute(e.ctx, admin, rt.ID)
			if !slices.Equal(got.WasteCodes, []string{"900-214-08"}) || got.Status != approval.Revoked {
				t.Fatalf("read back %+v", got)
			}
			hist, err := audit.EntityHistory(e.ctx, db.Reader(), "whitelist_route", rt.ID)
			if err != nil || len(hist) != 3 {
				t.Fatalf("audit %v %d", err, len(hist))
			}
		})
	})
}
