package medical_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"wufei/internal/auth"
	"wufei/internal/calendar"
	"wufei/internal/errs"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
	"wufei/internal/streams/medical"
	"wufei/internal/streams/sheet"
)

var serial atomic.Int64

var admin = auth.Principal{UserID: "admin", Username: "admin", Role: auth.Admin}

func field(err error) string {
	var e *errs.Error
	if errors.As(err, &e) && len(e.Fields) > 0 {
		return e.Fields[0].Field + ":" + e.Fields[0].Code
	}
	return fmt.Sprint(err)
}

// manifest writes a shipped HW01 manifest line of a consignor, as the
// manifest service would leave it.
func manifest(t *testing.T, db *store.DB, consignor, status, code string, tonnes float64, at time.Time) {
	t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	now := store.Now()
	if _, err := store.Exec(context.Background(), db.Writer(), `INSERT INTO manifests (id, number, year, status, consignor_unit_id,
		receiver_unit_id, region_code, receiver_region_code, picked_up_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, '340603', '340604', ?, ?, ?)`, id, fmt.Sprintf("%d3406%06d", at.Year(), serial.Add(1)), at.Year(), status,
		consignor, consignor, at.UTC(), now, now); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Exec(context.Background(), db.Writer(), `INSERT INTO manifest_lines (manifest_id, line_no, waste_code,
		category, name, official_name, quantity_g, form, characteristics, packaging, package_count, method)
		VALUES (?, 1, ?, 'HW01', '医疗废物', '医疗废物', ?, 'S', 'In', '周转箱', 1, 'Y10')`, id, code, int64(tonnes*1e6)); err != nil {
		t.Fatal(err)
	}
}

func TestMedical(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := db.Tx(ctx, func(tx *store.Tx) error { return registry.SeedReference(ctx, tx) }); err != nil {
			t.Fatal(err)
		}
		hosp, err := registry.NewService(db).CreateUnit(ctx, admin, registry.NewUnit{USCC: registry.MakeUSCC("12", "340603", "MB0H0001"),
			Name: "淮北市某医院", Roles: []registry.UnitRole{registry.Generator}, RegionCode: "340603"})
		if err != nil {
			t.Fatal(err)
		}
		inst, waste := sheet.New(db, medical.Institution), sheet.New(db, medical.Waste)
		clinic := registry.MakeUSCC("52", "340604", "MB0C0001")
		for _, in := range []sheet.Input{
			{"uscc": hosp.USCC, "year": "2026", "name": hosp.Name, "region": "340603", "level": "二级医院", "beds": "400",
				"collection": medical.ByManifest, "collector": "处置中心"},
			{"uscc": clinic, "year": "2026", "name": "某诊所", "region": "340604", "level": "诊所及村卫生室",
				"collection": medical.ByContract, "collector": "处置中心"},
			{"uscc": registry.MakeUSCC("52", "340604", "MB0C0002"), "year": "2026", "name": "某村卫生室", "region": "340604",
				"level": "诊所及村卫生室", "collection": medical.Uncovered},
		} {
			if _, err := inst.Create(ctx, admin, in); err != nil {
				t.Fatal(err)
			}
		}
		// A registered hospital collected under contract is refused: its waste moves on manifests.
		_, err = inst.Create(ctx, admin, sheet.Input{"uscc": hosp.USCC, "year": "2025", "name": hosp.Name, "region": "340603",
			"level": "二级医院", "collection": medical.ByContract, "collector": "x"})
		if field(err) != "collection:registered_by_manifest" {
			t.Errorf("contract for a registered unit: %v", err)
		}
		at := time.Date(2026, 3, 10, 9, 0, 0, 0, calendar.Zone)
		manifest(t, db, hosp.ID, "completed", "841-001-01", 3, at)
		manifest(t, db, hosp.ID, "in_transit", "841-001-01", 1.5, at.AddDate(0, 0, 5))
		manifest(t, db, hosp.ID, "cancelled", "841-001-01", 9, at)
		manifest(t, db, hosp.ID, "completed", "841-002-01", 0.2, at)
		manifest(t, db, hosp.ID, "completed", "841-001-01", 7, at.AddDate(0, 1, 0))
		// The hospital's hand-over for a month it shipped on manifests comes
		// from them and is never typed; for a month before it worked on the
		// platform it is typed.
		_, err = waste.Create(ctx, admin, sheet.Input{"uscc": hosp.USCC, "month": "2026-03", "code": "841-001-01",
			"generated_t": "5", "handed_over_t": "5"})
		if field(err) != "handed_over_t:handed_over_from_manifest" {
			t.Errorf("typed hand-over: %v", err)
		}
		jan, err := waste.Create(ctx, admin, sheet.Input{"uscc": hosp.USCC, "month": "2026-01", "code": "841-001-01",
			"generated_t": "5", "handed_over_t": "4.9"})
		if err == nil {
			jan, err = waste.Get(ctx, admin, jan.ID)
		}
		if err != nil || jan.Derived["handed_over_total_t"] != 4.9 || jan.Derived["manifest_t"] != 0 {
			t.Errorf("hand-over before the platform: %+v %v", jan, err)
		}
		r, err := waste.Create(ctx, admin, sheet.Input{"uscc": hosp.USCC, "month": "2026-03", "code": "841-001-01", "generated_t": "5"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := waste.Get(ctx, admin, r.ID)
		if err != nil || got.Derived["manifest_t"] != 4.5 || got.Derived["handed_over_total_t"] != 4.5 || got.UnitID != hosp.ID ||
			got.RegionCode != "340603" {
			t.Errorf("from manifests: %+v %v", got, err)
		}
		// A small clinic types what it handed over under contract.
		rc, err := waste.Create(ctx, admin, sheet.Input{"uscc": clinic, "month": "2026-03", "code": "841-001-01",
			"generated_t": "0.05", "handed_over_t": "0.05"})
		if err != nil || rc.Derived != nil && rc.Derived["manifest_t"] != 0 {
			t.Fatalf("clinic: %+v %v", rc, err)
		}
		pg, err := waste.List(ctx, admin, sheet.Filter{Year: 2026, Region: "340604"})
		if err != nil || len(pg.Items) != 1 || pg.Items[0].Derived["handed_over_total_t"] != 0.05 {
			t.Errorf("clinic list: %+v %v", pg.Items, err)
		}
		// Unknown institutions are refused.
		_, err = waste.Create(ctx, admin, sheet.Input{"uscc": registry.MakeUSCC("52", "340604", "MB0C0009"), "month": "2026-03",
			"code": "841-001-01", "generated_t": "1"})
		if field(err) != "uscc:institution_unknown" {
			t.Errorf("unknown institution: %v", err)
		}
		// The hospital's own account sees its records only; coverage is 2 of 3.
		own := auth.Principal{UserID: "h", Username: "h", Role: auth.UnitAdmin, UnitID: hosp.ID}
		if pg, err := waste.List(ctx, own, sheet.Filter{}); err != nil || len(pg.Items) != 2 {
			t.Errorf("hospital's list: %+v %v", pg.Items, err)
		}
		c, err := medical.CoverageOf(ctx, db, admin, 2026, "")
		if err != nil || c.Institutions != 3 || c.Covered != 2 || c.Rate == nil || *c.Rate != 66.7 {
			t.Errorf("coverage: %+v %v", c, err)
		}
		c, err = medical.CoverageOf(ctx, db, own, 2026, "")
		if err != nil || c.Institutions != 1 || c.Covered != 1 {
			t.Errorf("hospital's coverage: %+v %v", c, err)
		}
	})
}
