package settings_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/settings"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

var admin = auth.Principal{UserID: "u-admin", Username: "admin", Role: auth.Admin}

func stored(t *testing.T, db *store.DB) map[string]string {
	t.Helper()
	var rows []struct {
		Key   string `db:"key"`
		Value string `db:"value"`
	}
	if err := store.Select(context.Background(), db.Reader(), &rows, `SELECT key, value FROM settings`); err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, r := range rows {
		m[r.Key] = r.Value
	}
	return m
}

func auditCount(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := store.Get(context.Background(), db.Reader(), &n, `SELECT count(*) FROM audit_entries WHERE action = 'settings.update'`); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSave(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if r, err := settings.Load(ctx, db.Reader()); err != nil || r != settings.Defaults {
			t.Fatalf("empty table: %+v %v", r, err)
		}

		// Another package's row in the same table is left alone.
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			store.Changed(tx, "settings")
			_, err := store.Exec(ctx, tx, `INSERT INTO settings (key, value, updated_at) VALUES ('whitelist_provinces', '["34"]', ?)`, tx.Now)
			return err
		}); err != nil {
			t.Fatal(err)
		}

		r := settings.Defaults
		r.ReceiptWorkingDays = 3
		r.DiscrepancyPercent = 2.5
		r.PlanCheck = "block"
		saved, err := settings.Save(ctx, db, admin, r)
		if err != nil {
			t.Fatal(err)
		}
		if saved != r {
			t.Fatalf("saved %+v, want %+v", saved, r)
		}
		if got, err := settings.Load(ctx, db.Reader()); err != nil || got != r {
			t.Fatalf("loaded %+v %v", got, err)
		}
		// Only the values that differ from the defaults are stored.
		want := map[string]string{"receipt_working_days": "3", "discrepancy_percent": "2.5", "plan_check": `"block"`,
			"whitelist_provinces": `["34"]`}
		if got := stored(t, db); len(got) != len(want) || got["receipt_working_days"] != "3" ||
			got["discrepancy_percent"] != "2.5" || got["plan_check"] != `"block"` || got["whitelist_provinces"] != `["34"]` {
			t.Fatalf("stored %v, want %v", got, want)
		}
		if n := auditCount(t, db); n != 1 {
			t.Fatalf("%d audit entries, want 1", n)
		}

		// Saving the same rules changes nothing and audits nothing.
		if _, err := settings.Save(ctx, db, admin, r); err != nil {
			t.Fatal(err)
		}
		if n := auditCount(t, db); n != 1 {
			t.Fatalf("%d audit entries after an unchanged save, want 1", n)
		}

		// Setting a value back to its default removes its row.
		r.ReceiptWorkingDays = settings.Defaults.ReceiptWorkingDays
		r.StorageLimitDays = 180
		if _, err := settings.Save(ctx, db, admin, r); err != nil {
			t.Fatal(err)
		}
		got := stored(t, db)
		if _, ok := got["receipt_working_days"]; ok || got["storage_limit_days"] != "180" {
			t.Fatalf("stored %v", got)
		}
		if n := auditCount(t, db); n != 2 {
			t.Fatalf("%d audit entries, want 2", n)
		}
		var change string
		if err := store.Get(ctx, db.Reader(), &change, `SELECT change FROM audit_entries WHERE action = 'settings.update'
			ORDER BY seq DESC LIMIT 1`); err != nil {
			t.Fatal(err)
		}
		if change == "" || change[0] != '{' {
			t.Fatalf("change %q", change)
		}

		// Back to the defaults: only the other package's row is left.
		if _, err := settings.Save(ctx, db, admin, settings.Defaults); err != nil {
			t.Fatal(err)
		}
		if got := stored(t, db); len(got) != 1 || got["whitelist_provinces"] == "" {
			t.Fatalf("stored %v after restoring the defaults", got)
		}
	})
}

func TestSaveChecks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, p := range []auth.Principal{
			{UserID: "r", Role: auth.Regulator, RegionCode: "340600"},
			{UserID: "u", Role: auth.UnitAdmin, UnitID: "x"},
			{UserID: "v", Role: auth.Viewer},
		} {
			if _, err := settings.Save(ctx, db, p, settings.Defaults); errs.KindOf(err) != errs.Forbidden {
				t.Errorf("%s: %v, want forbidden", p.Role, err)
			}
		}
		for _, tc := range []struct {
			name   string
			change func(*settings.Rules)
			want   []string // field=code
		}{
			{"receipt 0", func(r *settings.Rules) { r.ReceiptWorkingDays = 0 }, []string{"receipt_working_days=days_range"}},
			{"receipt 61", func(r *settings.Rules) { r.ReceiptWorkingDays = 61 }, []string{"receipt_working_days=days_range"}},
			{"backfill -1", func(r *settings.Rules) { r.PaperBackfillWorkingDays = -1 }, []string{"paper_backfill_working_days=days_range"}},
			{"percent 101", func(r *settings.Rules) { r.DiscrepancyPercent = 101 }, []string{"discrepancy_percent=percent_range"}},
			{"percent -0.1", func(r *settings.Rules) { r.DiscrepancyPercent = -0.1 }, []string{"discrepancy_percent=percent_range"}},
			{"plan check", func(r *settings.Rules) { r.PlanCheck = "ignore" }, []string{"plan_check=plan_check_unknown"}},
			{"no storage limit", func(r *settings.Rules) { r.StorageLimitDays = 0 }, []string{"storage_limit_days=days_range"}},
			{"warn after limit", func(r *settings.Rules) { r.StorageWarnDays = 365 }, []string{"storage_warn_days=warn_after_limit"}},
			{"no point limit", func(r *settings.Rules) { r.StoragePointMaxT = 0 }, []string{"storage_point_max_t=quantity_range"}},
			{"approval months", func(r *settings.Rules) { r.ApprovalMaxMonths = 0 }, []string{"approval_max_months=months_range"}},
			{"two at once", func(r *settings.Rules) { r.ReceiptWorkingDays, r.PlanCheck = 0, "" },
				[]string{"receipt_working_days=days_range", "plan_check=plan_check_unknown"}},
		} {
			r := settings.Defaults
			tc.change(&r)
			_, err := settings.Save(ctx, db, admin, r)
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.Invalid {
				t.Errorf("%s: %v, want a validation error", tc.name, err)
				continue
			}
			var got []string
			for _, f := range e.Fields {
				got = append(got, f.Field+"="+f.Code)
				if f.Message == "" {
					t.Errorf("%s: %s has no message", tc.name, f.Field)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: fields %v, want %v", tc.name, got, tc.want)
			}
		}
		// The limits themselves are accepted.
		r := settings.Defaults
		r.ReceiptWorkingDays, r.PaperBackfillWorkingDays, r.DiscrepancyPercent = 60, 1, 0
		if _, err := settings.Save(ctx, db, admin, r); err != nil {
			t.Errorf("limits: %v", err)
		}
		if n := auditCount(t, db); n != 1 {
			t.Errorf("%d audit entries, want only the valid save's", n)
		}
	})
}
