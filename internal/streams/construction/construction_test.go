package construction_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
	"wufei/internal/streams/construction"
	"wufei/internal/streams/sheet"
)

var admin = auth.Principal{UserID: "admin", Username: "admin", Role: auth.Admin}

func fields(err error) map[string]string {
	out := map[string]string{}
	var e *errs.Error
	if errors.As(err, &e) {
		for _, f := range e.Fields {
			out[f.Field] = f.Code
		}
	} else if err != nil {
		out["error"] = fmt.Sprint(err)
	}
	return out
}

func TestConstruction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := db.Tx(ctx, func(tx *store.Tx) error { return registry.SeedReference(ctx, tx) }); err != nil {
			t.Fatal(err)
		}
		svc := map[string]*sheet.Service{}
		for _, s := range construction.Sheets(db) {
			svc[s.Spec.Name] = s
		}
		xs := auth.Principal{UserID: "xs", Username: "xs", Role: auth.Regulator, RegionCode: "340603"}
		decl := sheet.Input{"declaration_no": "JZLJ-2026-0001", "project": "安置房", "site": "长山路", "region": "340603",
			"builder": "某置业公司", "declared_on": "2026-03-02"}
		if _, err := svc["cdw_declaration"].Create(ctx, xs, decl); fields(err)["muck_t"] != "volumes_required" {
			t.Errorf("no volumes: %v", err)
		}
		decl["muck_t"] = "8000"
		if _, err := svc["cdw_declaration"].Create(ctx, xs, decl); err != nil {
			t.Fatal(err)
		}
		// 相山区's regulator cannot declare in 烈山区.
		other := sheet.Input{"declaration_no": "JZLJ-2026-0002", "project": "x", "site": "x", "region": "340604", "builder": "x",
			"declared_on": "2026-03-02", "muck_t": "1"}
		if _, err := svc["cdw_declaration"].Create(ctx, xs, other); errs.KindOf(err) != errs.Forbidden {
			t.Errorf("other county: %v", err)
		}
		veh := sheet.Input{"plate": "皖f12345", "year": "2026", "hauler": "渣土运输公司", "region": "340603", "vehicle_type": "自卸车",
			"sealed": "是", "tracked": "是", "valid_to": "2026-12-31"}
		v, err := svc["cdw_vehicle"].Create(ctx, xs, veh)
		if err != nil || v.Str("plate") != "皖F12345" {
			t.Fatalf("vehicle: %+v %v", v, err)
		}
		veh["plate"] = "F12345"
		if _, err := svc["cdw_vehicle"].Create(ctx, xs, veh); fields(err)["plate"] != "plate_format" {
			t.Errorf("bad plate: %v", err)
		}
		permit := sheet.Input{"permit_no": "ZY-2026-0001", "declaration_no": "JZLJ-2026-0009", "project": "安置房",
			"hauler": "渣土运输公司", "region": "340603", "plates": "皖F12345；皖F99999", "valid_from": "2026-03-05",
			"valid_to": "2026-03-01"}
		f := fields(func() error { _, err := svc["cdw_permit"].Create(ctx, xs, permit); return err }())
		if f["declaration_no"] != "declaration_unknown" || f["plates"] != "vehicle_unlicensed" || f["valid_to"] != "date_order" {
			t.Errorf("permit checks: %v", f)
		}
		permit["declaration_no"], permit["plates"], permit["valid_to"] = "JZLJ-2026-0001", "皖f12345", "2026-06-30"
		p, err := svc["cdw_permit"].Create(ctx, xs, permit)
		if err != nil || p.Str("plates") != "皖F12345" {
			t.Fatalf("permit: %+v %v", p, err)
		}
		// Monthly quantities belong to a site registered for the year, and take its region.
		month := sheet.Input{"site": "相山资源化利用厂", "month": "2026-05", "received_t": "1000", "recycled_t": "600", "landfilled_t": "300"}
		if _, err := svc["cdw_site_month"].Create(ctx, admin, month); fields(err)["site"] != "site_unknown" {
			t.Errorf("unknown site: %v", err)
		}
		if _, err := svc["cdw_site"].Create(ctx, admin, sheet.Input{"name": "相山资源化利用厂", "year": "2026",
			"kind": construction.Recycler, "region": "340603", "capacity_t": "300000", "status": "运行"}); err != nil {
			t.Fatal(err)
		}
		m, err := svc["cdw_site_month"].Create(ctx, xs, month)
		if err != nil || m.RegionCode != "340603" {
			t.Fatalf("site month: %+v %v", m, err)
		}
		month["month"], month["recycled_t"] = "2026-06", "800"
		if _, err := svc["cdw_site_month"].Create(ctx, xs, month); fields(err)["recycled_t"] != "exceeds_received" {
			t.Errorf("more than received: %v", err)
		}
		// Floor area: shares derived; parts may not exceed the whole.
		b, err := svc["building_area"].Create(ctx, admin, sheet.Input{"region": "340603", "year": "2026", "new_area_m2": "1000000",
			"green_area_m2": "980000", "started_area_m2": "800000", "prefab_area_m2": "280000"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := svc["building_area"].Get(ctx, xs, b.ID)
		if err != nil || got.Derived["green_share"] != 98 || got.Derived["prefab_share"] != 35 {
			t.Errorf("shares: %+v %v", got.Derived, err)
		}
		if _, err := svc["building_area"].Create(ctx, admin, sheet.Input{"region": "340604", "year": "2026", "new_area_m2": "10",
			"green_area_m2": "11", "started_area_m2": "10", "prefab_area_m2": "1"}); fields(err)["green_area_m2"] != "exceeds_total" {
			t.Errorf("green above total: %v", err)
		}
	})
}
