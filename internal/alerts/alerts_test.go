package alerts_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"wufei/internal/alerts"
	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// Principals. Regions: 340603 相山区, 340621 濉溪县 with its coal-chemical park
// 340621P01, 340604 烈山区.
var (
	admin    = auth.Principal{UserID: "u-admin", Username: "admin", Role: auth.Admin}
	cityReg  = auth.Principal{UserID: "u-city", Username: "sthjj", Role: auth.Regulator, RegionCode: "340600"}
	anyReg   = auth.Principal{UserID: "u-any", Username: "reg", Role: auth.Regulator}
	xsReg    = auth.Principal{UserID: "u-xs", Username: "xsq", Role: auth.Regulator, RegionCode: "340603"}
	sxReg    = auth.Principal{UserID: "u-sx", Username: "sxx", Role: auth.Regulator, RegionCode: "340621"}
	lsReg    = auth.Principal{UserID: "u-ls", Username: "lsq", Role: auth.Regulator, RegionCode: "340604"}
	parkReg  = auth.Principal{UserID: "u-park", Username: "mhj", Role: auth.Regulator, RegionCode: "340621P01"}
	xsViewer = auth.Principal{UserID: "u-xsv", Username: "xsv", Role: auth.Viewer, RegionCode: "340603"}
	viewer   = auth.Principal{UserID: "u-v", Username: "public", Role: auth.Viewer}
)

func unitAdmin(u registry.Unit) auth.Principal {
	return auth.Principal{UserID: "ua-" + u.ID, Username: "ua", Role: auth.UnitAdmin, UnitID: u.ID}
}

func driver(u registry.Unit) auth.Principal {
	return auth.Principal{UserID: "dr-" + u.ID, Username: "dr", Role: auth.Driver, UnitID: u.ID}
}

type env struct {
	t   testing.TB
	ctx context.Context
	db  *store.DB
	svc *alerts.Service
	// Units: a generator in the park of 濉溪县, a generator in 相山区, a
	// disposer in 烈山区.
	parkGen, xsGen, disposer registry.Unit
}

func newEnv(t testing.TB, db *store.DB) *env {
	t.Helper()
	ctx := context.Background()
	if err := db.Tx(ctx, func(tx *store.Tx) error { return registry.SeedReference(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
	reg := registry.NewService(db)
	n := 0
	unit := func(name, region, park string, role registry.UnitRole) registry.Unit {
		n++
		u, err := reg.CreateUnit(ctx, admin, registry.NewUnit{USCC: registry.MakeUSCC("91", region, fmt.Sprintf("MA%06d", n)),
			Name: name, Roles: []registry.UnitRole{role}, RegionCode: region, ParkCode: park})
		if err != nil {
			t.Fatalf("unit %s: %v", name, err)
		}
		return u
	}
	return &env{t: t, ctx: ctx, db: db, svc: alerts.NewService(db),
		parkGen:  unit("煤化工产废单位", "340621", "340621P01", registry.Generator),
		xsGen:    unit("汽修产废单位", "340603", "", registry.Generator),
		disposer: unit("处置单位", "340604", "", registry.Disposer)}
}

func (e *env) raise(a alerts.Alert) alerts.Alert {
	e.t.Helper()
	var out alerts.Alert
	if err := e.db.Tx(e.ctx, func(tx *store.Tx) error {
		var err error
		out, err = alerts.Raise(e.ctx, tx, a)
		return err
	}); err != nil {
		e.t.Fatalf("raise: %v", err)
	}
	return out
}

func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := store.Get(e.ctx, e.db.Reader(), &n, query, args...); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func wantErr(t *testing.T, err error, kind errs.Kind, code string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != kind || e.Code != code {
		t.Fatalf("got %v, want kind %d code %s", err, kind, code)
	}
}

func wantField(t *testing.T, err error, field, code string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != field || e.Fields[0].Code != code {
		t.Fatalf("got %v, want field %s %s", err, field, code)
	}
}

func TestRaise(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		due := time.Date(2026, 3, 9, 15, 59, 59, 999999000, time.UTC)
		in := alerts.Alert{Kind: "receipt_overdue", Severity: alerts.Critical, Title: "接收确认超期", Detail: "联单超过 5 个工作日未确认接收",
			Subject: "manifest", SubjectID: "m-1", SubjectRef: "20263406000001", RegionCode: "340604",
			UnitIDs: []string{e.disposer.ID, e.parkGen.ID, e.disposer.ID, ""}, DueAt: &due}
		a := e.raise(in)
		if a.ID == "" || a.Status != "open" || a.Version != 1 || a.CreatedAt.IsZero() || !a.DueAt.Equal(due) {
			t.Fatalf("raised %+v", a)
		}
		if len(a.UnitIDs) != 2 {
			t.Fatalf("parties %v, want the two units once each", a.UnitIDs)
		}
		if !slices.Equal(in.UnitIDs, []string{e.disposer.ID, e.parkGen.ID, e.disposer.ID, ""}) {
			t.Fatalf("Raise changed the caller's parties: %v", in.UnitIDs)
		}

		// Raising again while it is open returns the open one.
		again := e.raise(in)
		if again.ID != a.ID || len(again.UnitIDs) != 2 {
			t.Fatalf("raised again: %+v, want the open alert %s with its parties", again, a.ID)
		}
		// So does raising it while it is acknowledged.
		if _, err := e.svc.Handle(e.ctx, cityReg, a.ID, "acknowledged", "", 1); err != nil {
			t.Fatal(err)
		}
		if again := e.raise(in); again.ID != a.ID || again.Status != "acknowledged" {
			t.Fatalf("raised while acknowledged: %+v", again)
		}
		// Another subject or another kind is another alert.
		other := in
		other.SubjectID = "m-2"
		if o := e.raise(other); o.ID == a.ID {
			t.Fatal("another subject got the same alert")
		}
		other = in
		other.Kind = "weight_discrepancy"
		if o := e.raise(other); o.ID == a.ID {
			t.Fatal("another kind got the same alert")
		}

		// Once it is closed, the rule may raise a new one.
		if _, err := e.svc.Handle(e.ctx, cityReg, a.ID, "closed", "已督促接收单位确认", 2); err != nil {
			t.Fatal(err)
		}
		fresh := e.raise(in)
		if fresh.ID == a.ID || fresh.Status != "open" {
			t.Fatalf("after closing: %+v", fresh)
		}
		if n := e.count(`SELECT count(*) FROM alerts WHERE dedup_key = 'receipt_overdue|manifest|m-1'`); n != 2 {
			t.Fatalf("%d alerts for the subject, want the closed one and the new one", n)
		}
		// Each raise is audited once, under the platform itself.
		if n := e.count(`SELECT count(*) FROM audit_entries WHERE action = 'alert.raise' AND actor_username = 'system'`); n != 4 {
			t.Fatalf("%d raise entries, want 4", n)
		}

		// The defaults and the required fields.
		if d := e.raise(alerts.Alert{Kind: "k", Subject: "s", SubjectID: "1", RegionCode: "340603"}); d.Severity != alerts.Warning {
			t.Fatalf("defaults: %+v", d)
		}
		if err := e.db.Tx(e.ctx, func(tx *store.Tx) error {
			_, err := alerts.Raise(e.ctx, tx, alerts.Alert{Kind: "k", Subject: "s"})
			return err
		}); err == nil {
			t.Fatal("an alert without a subject id was raised")
		}

		// Resolve closes the open one for the platform; nothing open, nothing done.
		var closed bool
		if err := e.db.Tx(e.ctx, func(tx *store.Tx) error {
			var err error
			closed, err = alerts.Resolve(e.ctx, tx, "receipt_overdue", "manifest", "m-1", "接收单位已确认")
			return err
		}); err != nil || !closed {
			t.Fatalf("resolve: %v %v", closed, err)
		}
		got, err := e.svc.Get(e.ctx, admin, fresh.ID)
		if err != nil || got.Status != "closed" || got.Note != "接收单位已确认" || got.Version != 2 {
			t.Fatalf("resolved: %+v %v", got, err)
		}
		if err := e.db.Tx(e.ctx, func(tx *store.Tx) error {
			var err error
			closed, err = alerts.Resolve(e.ctx, tx, "receipt_overdue", "manifest", "m-1", "")
			return err
		}); err != nil || closed {
			t.Fatalf("resolve with nothing open: %v %v", closed, err)
		}
	})
}

// TestRaiseConcurrently raises one alert from many transactions at once: on
// PostgreSQL they overlap, and all must succeed with one alert.
func TestRaiseConcurrently(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		var wg sync.WaitGroup
		ids := make([]string, 8)
		failed := make([]error, 8)
		for i := range ids {
			wg.Go(func() {
				failed[i] = e.db.Tx(e.ctx, func(tx *store.Tx) error {
					a, err := alerts.Raise(e.ctx, tx, alerts.Alert{Kind: "storage_age_limit", Subject: "facility", SubjectID: "f-1",
						RegionCode: "340603", UnitIDs: []string{e.xsGen.ID}})
					ids[i] = a.ID
					return err
				})
			})
		}
		wg.Wait()
		for i := range ids {
			if failed[i] != nil || ids[i] != ids[0] {
				t.Fatalf("raise %d: %s %v, want %s", i, ids[i], failed[i], ids[0])
			}
		}
		if n := e.count(`SELECT count(*) FROM alerts`); n != 1 {
			t.Fatalf("%d alerts", n)
		}
	})
}

func TestListScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		// In 烈山区, naming the park generator and the disposer.
		transfer := e.raise(alerts.Alert{Kind: "weight_discrepancy", Subject: "manifest", SubjectID: "m-1", RegionCode: "340604",
			UnitIDs: []string{e.parkGen.ID, e.disposer.ID}})
		// In 相山区, naming the 相山区 generator.
		storage := e.raise(alerts.Alert{Kind: "storage_age_limit", Subject: "facility", SubjectID: "f-1", RegionCode: "340603",
			UnitIDs: []string{e.xsGen.ID}})
		// In 相山区, naming no unit.
		regional := e.raise(alerts.Alert{Kind: "region_note", Subject: "region", SubjectID: "340603", RegionCode: "340603"})

		for _, tc := range []struct {
			name string
			p    auth.Principal
			want []string
		}{
			{"admin", admin, []string{transfer.ID, storage.ID, regional.ID}},
			{"city regulator", cityReg, []string{transfer.ID, storage.ID, regional.ID}},
			{"regulator without a region", anyReg, []string{transfer.ID, storage.ID, regional.ID}},
			{"相山区 regulator", xsReg, []string{storage.ID, regional.ID}},
			{"相山区 viewer", xsViewer, []string{storage.ID, regional.ID}},
			{"烈山区 regulator (the alert's region)", lsReg, []string{transfer.ID}},
			{"濉溪县 regulator (a party's county)", sxReg, []string{transfer.ID}},
			{"park regulator (a party's park)", parkReg, []string{transfer.ID}},
			{"park generator", unitAdmin(e.parkGen), []string{transfer.ID}},
			{"disposer's driver", driver(e.disposer), []string{transfer.ID}},
			{"相山区 generator", unitAdmin(e.xsGen), []string{storage.ID}},
			{"viewer without a region", viewer, nil},
		} {
			got, next, err := e.svc.List(e.ctx, tc.p, alerts.Filter{})
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			var ids []string
			for _, a := range got {
				ids = append(ids, a.ID)
			}
			slices.Sort(ids)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(ids, want) || next != "" {
				t.Errorf("%s sees %v (next %q), want %v", tc.name, ids, next, want)
			}
			// Get agrees with List: an alert out of scope is not found.
			for _, id := range []string{transfer.ID, storage.ID, regional.ID} {
				_, err := e.svc.Get(e.ctx, tc.p, id)
				if visible := slices.Contains(want, id); visible != (err == nil) {
					t.Errorf("%s get %s: %v, visible %v", tc.name, id, err, visible)
				} else if err != nil {
					wantErr(t, err, errs.NotFound, "alert_not_found")
				}
			}
		}

		// Parties come with each alert.
		got, _, _ := e.svc.List(e.ctx, admin, alerts.Filter{Kind: "weight_discrepancy"})
		if len(got) != 1 || len(got[0].UnitIDs) != 2 {
			t.Fatalf("filtered by kind: %+v", got)
		}
		if got[0].DueAt != nil {
			t.Errorf("due_at %v, want none", got[0].DueAt)
		}
		// Filters.
		for _, tc := range []struct {
			f    alerts.Filter
			want int
		}{
			{alerts.Filter{Subject: "manifest"}, 1},
			{alerts.Filter{Subject: "facility", SubjectID: "f-1"}, 1},
			{alerts.Filter{SubjectID: "nope"}, 0},
			{alerts.Filter{Status: "open"}, 3},
			{alerts.Filter{Status: "closed"}, 0},
		} {
			got, _, err := e.svc.List(e.ctx, cityReg, tc.f)
			if err != nil || len(got) != tc.want {
				t.Errorf("%+v: %d alerts (%v), want %d", tc.f, len(got), err, tc.want)
			}
		}
		_, _, err := e.svc.List(e.ctx, admin, alerts.Filter{After: "\xff"})
		wantField(t, err, "cursor", "cursor_invalid")
	})
}

func TestListPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		for i := range 7 {
			e.raise(alerts.Alert{Kind: "storage_age_limit", Subject: "facility", SubjectID: fmt.Sprint("f-", i), RegionCode: "340603",
				UnitIDs: []string{e.xsGen.ID}})
		}
		var seen []string
		after := ""
		for range 10 {
			page, next, err := e.svc.List(e.ctx, unitAdmin(e.xsGen), alerts.Filter{Limit: 3, After: after})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range page {
				seen = append(seen, a.ID)
			}
			if next == "" {
				break
			}
			after = next
		}
		if len(seen) != 7 || !slices.IsSortedFunc(seen, func(a, b string) int { return strings.Compare(b, a) }) || len(slices.Compact(slices.Clone(seen))) != 7 {
			t.Fatalf("pages gave %v, want 7 alerts newest first", seen)
		}
	})
}

func TestHandle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		a := e.raise(alerts.Alert{Kind: "weight_discrepancy", Subject: "manifest", SubjectID: "m-1", RegionCode: "340604",
			UnitIDs: []string{e.parkGen.ID, e.disposer.ID}})
		gen := unitAdmin(e.parkGen)

		// A party acknowledges.
		ack, err := e.svc.Handle(e.ctx, gen, a.ID, "acknowledged", " 已联系接收单位核对 ", 1)
		if err != nil {
			t.Fatal(err)
		}
		if ack.Status != "acknowledged" || ack.Version != 2 || ack.Note != "已联系接收单位核对" || ack.UpdatedAt.Before(a.UpdatedAt) {
			t.Fatalf("acknowledged: %+v", ack)
		}
		if len(ack.UnitIDs) != 2 {
			t.Fatalf("parties lost: %v", ack.UnitIDs)
		}
		// Acknowledging again without a note keeps the note.
		ack, err = e.svc.Handle(e.ctx, driver(e.disposer), a.ID, "acknowledged", "", 2)
		if err != nil || ack.Note != "已联系接收单位核对" || ack.Version != 3 {
			t.Fatalf("acknowledged again: %+v %v", ack, err)
		}

		// A stale version is a conflict.
		_, err = e.svc.Handle(e.ctx, cityReg, a.ID, "closed", "核实无误", 2)
		wantErr(t, err, errs.Conflict, "version_conflict")
		// Closing needs a note.
		_, err = e.svc.Handle(e.ctx, cityReg, a.ID, "closed", "  ", 3)
		wantField(t, err, "note", "required")
		// Unknown status.
		_, err = e.svc.Handle(e.ctx, cityReg, a.ID, "open", "", 3)
		wantField(t, err, "status", "status_unknown")
		// Viewers may read but not handle.
		xsAlert := e.raise(alerts.Alert{Kind: "storage_age_limit", Subject: "facility", SubjectID: "f-1", RegionCode: "340603",
			UnitIDs: []string{e.xsGen.ID}})
		if _, err := e.svc.Get(e.ctx, xsViewer, xsAlert.ID); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Handle(e.ctx, xsViewer, xsAlert.ID, "acknowledged", "", 1)
		wantErr(t, err, errs.Forbidden, "forbidden")
		// Out of scope is not found, before any other check.
		_, err = e.svc.Handle(e.ctx, unitAdmin(e.xsGen), a.ID, "closed", "x", 3)
		wantErr(t, err, errs.NotFound, "alert_not_found")
		_, err = e.svc.Handle(e.ctx, xsReg, a.ID, "closed", "x", 3)
		wantErr(t, err, errs.NotFound, "alert_not_found")

		// The regulator closes it.
		closed, err := e.svc.Handle(e.ctx, lsReg, a.ID, "closed", "核实为计量误差，已整改", 3)
		if err != nil || closed.Status != "closed" || closed.Version != 4 || closed.Note != "核实为计量误差，已整改" {
			t.Fatalf("closed: %+v %v", closed, err)
		}
		// A closed alert cannot change.
		for _, status := range []string{"acknowledged", "closed"} {
			_, err = e.svc.Handle(e.ctx, admin, a.ID, status, "再改", 4)
			wantErr(t, err, errs.Conflict, "alert_closed")
		}
		got, err := e.svc.Get(e.ctx, gen, a.ID)
		if err != nil || got.Status != "closed" || got.Version != 4 {
			t.Fatalf("after: %+v %v", got, err)
		}

		// Each handling is audited under the acting user, visible to the parties.
		if n := e.count(`SELECT count(*) FROM audit_entries WHERE entity = 'alert' AND entity_id = ? AND action IN
			('alert.acknowledge', 'alert.close')`, a.ID); n != 3 {
			t.Fatalf("%d handling entries, want 3", n)
		}
		if n := e.count(`SELECT count(*) FROM audit_entries WHERE action = 'alert.close' AND actor_username = 'lsq'
			AND region_code = '340604' AND unit_id <> ''`); n != 1 {
			t.Fatalf("close entry: %d", n)
		}
	})
}
