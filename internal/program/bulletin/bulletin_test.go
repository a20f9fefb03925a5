package bulletin_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/program/bulletin"
	"wufei/internal/program/cell"
	"wufei/internal/program/indicator"
	"wufei/internal/program/task"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

var admin = auth.Principal{UserID: "u-admin", Username: "admin", Role: auth.Admin}

func TestBulletin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			for _, seed := range []func(context.Context, *store.Tx) error{registry.SeedReference, task.Seed, cell.SeedTypes,
				indicator.Seed} {
				if err := seed(ctx, tx); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		reg := registry.NewService(db)
		deps, _ := reg.ListDepartments(ctx)
		as := func(code, region string) auth.Principal {
			for _, d := range deps {
				if d.Code == code {
					return auth.Principal{UserID: "u-" + code, Username: code, Role: auth.Regulator, DepartmentID: d.ID, RegionCode: region}
				}
			}
			t.Fatalf("no department %s", code)
			return auth.Principal{}
		}
		for i, r := range []string{"340602", "340603", "340604", "340621"} {
			if _, err := reg.CreateUnit(ctx, admin, registry.NewUnit{USCC: registry.MakeUSCC("91", r, "MC00000"+string(rune('1'+i))),
				Name: "演示单位" + r, Roles: []registry.UnitRole{registry.Generator}, RegionCode: r}); err != nil {
				t.Fatal(err)
			}
		}
		if err := cell.SeedDemo(ctx, db); err != nil {
			t.Fatal(err)
		}
		if err := task.SeedDemo(ctx, db); err != nil {
			t.Fatal(err)
		}

		now := time.Now()
		last := task.Defaults.LastDue(task.Today(now)) // a quarter whose reports are due
		svc := bulletin.NewService(db, indicator.NewService(db))
		for _, p := range []auth.Principal{as("sthjj-xs", "340603"), {UserID: "v", Role: auth.Viewer},
			{UserID: "ua", Role: auth.UnitAdmin, UnitID: "x"}} {
			_, err := svc.Build(ctx, p, last.String(), now)
			if errs.KindOf(err) != errs.Forbidden {
				t.Fatalf("%s builds the bulletin: %v", p.Username, err)
			}
		}
		for _, bad := range []string{"2026-09", "2023Q4", "2099Q1", "Q3"} {
			_, err := svc.Build(ctx, admin, bad, now)
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != "period" {
				t.Fatalf("period %s: %v", bad, err)
			}
		}

		start := time.Now()
		b, err := svc.Build(ctx, as("wfzb", auth.CityCode), last.String(), now)
		if err != nil {
			t.Fatal(err)
		}
		built := time.Since(start)
		if len(b.Tasks) != 35 || len(b.Indicators) < 19 || len(b.Regions) != 6 || len(b.Overdue) == 0 {
			t.Fatalf("bulletin: %d tasks %d indicators %d regions %d overdue", len(b.Tasks), len(b.Indicators), len(b.Regions),
				len(b.Overdue))
		}
		if b.Summary.ReportsOwed == 0 || b.Summary.ReportsFiled < 35 || b.Summary.MeanProgress <= 0 || b.Summary.CellsCertified != 8 { // seven, and one withdrawn only since
			t.Fatalf("summary %+v", b.Summary)
		}
		kinds := map[string]int{}
		for _, o := range b.Overdue {
			kinds[o.Kind]++
			if o.Days <= 0 {
				t.Errorf("overdue item %+v is not late", o)
			}
		}
		if kinds["report"] != b.Summary.ReportsOwed || kinds["milestone"] == 0 {
			t.Fatalf("overdue by kind %v, owed %d", kinds, b.Summary.ReportsOwed)
		}
		ids := map[string]bool{}
		for _, r := range b.Indicators {
			ids[r.ID] = true
			if r.StatusName == "" {
				t.Errorf("indicator %s has status %q", r.ID, r.Status)
			}
		}
		for _, id := range []string{"zero_waste_cells", "ihw_utilization_rate", "gisw_utilization_rate"} {
			if !ids[id] {
				t.Errorf("bulletin lacks indicator %s", id)
			}
		}
		for i, r := range b.Regions {
			if r.Rank != i+1 || (i > 0 && r.Score > b.Regions[i-1].Score) {
				t.Fatalf("regions not ranked: %+v", b.Regions)
			}
		}

		start = time.Now()
		raw, err := bulletin.Workbook(b)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("bulletin %s built in %v (indicators of 7 areas included), workbook of %d bytes written in %v", b.Period,
			built.Round(time.Millisecond), len(raw), time.Since(start).Round(time.Millisecond))
		f, err := excelize.OpenReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("open workbook: %v", err)
		}
		defer f.Close()
		want := []string{bulletin.SheetIndicators, bulletin.SheetTasks, bulletin.SheetRegions, bulletin.SheetOverdue}
		if got := f.GetSheetList(); !slices.Equal(got, want) {
			t.Fatalf("sheets %v", got)
		}
		for name, n := range map[string]int{bulletin.SheetIndicators: len(b.Indicators), bulletin.SheetTasks: 35,
			bulletin.SheetRegions: 6, bulletin.SheetOverdue: len(b.Overdue)} {
			rows, err := f.GetRows(name)
			if err != nil || len(rows) != n+3 {
				t.Fatalf("sheet %s: %d rows (%v), want %d", name, len(rows), err, n+3)
			}
		}
		if v, _ := f.GetCellValue(bulletin.SheetTasks, "A4"); v != "二(一)1" {
			t.Fatalf("first task %q", v)
		}
		if v, _ := f.GetCellValue(bulletin.SheetTasks, "B3"); v != "任务" {
			t.Fatalf("task header %q", v)
		}
		if v, _ := f.GetCellValue(bulletin.SheetRegions, "A4"); v != "1" {
			t.Fatalf("first rank %q", v)
		}

		// An earlier quarter: progress as accepted then.
		first, err := svc.Build(ctx, admin, "2024Q1", now)
		if err != nil || first.Summary.MeanProgress >= b.Summary.MeanProgress || first.Summary.CellsCertified != 0 {
			t.Fatalf("2024Q1: %+v %v", first.Summary, err)
		}
	})
}
