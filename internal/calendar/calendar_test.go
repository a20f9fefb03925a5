package calendar_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"wufei/internal/auth"
	"wufei/internal/calendar"
	"wufei/internal/errs"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

var admin = auth.Principal{UserID: "u-admin", Username: "admin", Role: auth.Admin}

// at is a time on a civil date in Asia/Shanghai.
func at(day string, hour int) time.Time {
	t, err := time.ParseInLocation("2006-01-02", day, calendar.Zone)
	if err != nil {
		panic(err)
	}
	return t.Add(time.Duration(hour) * time.Hour)
}

// endOf is the end of a civil day in Asia/Shanghai, in UTC.
func endOf(day string) time.Time {
	return at(day, 24).Add(-time.Microsecond).UTC()
}

func empty(t *testing.T) *calendar.Calendar {
	db, _ := storetest.SQLite(t)
	c, err := calendar.Load(context.Background(), db.Reader())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestWorkingDays(t *testing.T) {
	c := empty(t)
	for _, tc := range []struct {
		day     string
		working bool
	}{
		{"2025-09-26", true},  // Friday
		{"2025-09-27", false}, // Saturday
		{"2025-09-28", true},  // Sunday worked for 国庆+中秋
		{"2025-09-30", true},
		{"2025-10-01", false}, {"2025-10-03", false}, {"2025-10-06", false}, {"2025-10-08", false}, // 国庆+中秋
		{"2025-10-09", true},
		{"2025-10-11", true},                         // Saturday worked
		{"2025-10-12", false},                        // Sunday
		{"2025-01-01", false},                        // 元旦
		{"2025-01-26", true},                         // Sunday worked for 春节
		{"2025-01-28", false}, {"2025-02-04", false}, // 春节 2025
		{"2025-02-08", true},                                                // Saturday worked
		{"2026-01-02", false},                                               // 元旦 2026, a Friday
		{"2026-01-04", true},                                                // Sunday worked
		{"2026-02-14", true},                                                // Saturday worked before 春节 2026
		{"2026-02-15", false}, {"2026-02-17", false}, {"2026-02-23", false}, // 春节 2026: 15th to 23rd
		{"2026-02-24", true},
		{"2026-02-28", true},                        // Saturday worked after 春节 2026
		{"2026-05-05", false}, {"2026-05-09", true}, // 劳动节, and the Saturday worked
		{"2026-06-19", false},                       // 端午
		{"2026-09-25", false},                       // 中秋
		{"2026-10-07", false}, {"2026-10-10", true}, // 国庆, and the Saturday worked
		{"2026-03-02", true}, {"2026-03-07", false}, {"2026-03-08", false}, // an ordinary week
	} {
		if got := c.IsWorkingDay(at(tc.day, 12)); got != tc.working {
			t.Errorf("%s: working = %v, want %v", tc.day, got, tc.working)
		}
	}
	// The day is the day in Beijing: 16:30 UTC on 30 September is 00:30 on
	// 1 October.
	if c.IsWorkingDay(time.Date(2025, 9, 30, 16, 30, 0, 0, time.UTC)) {
		t.Error("2025-09-30T16:30Z is 1 October in Beijing, a holiday")
	}
	if !c.IsWorkingDay(time.Date(2025, 9, 30, 15, 59, 0, 0, time.UTC)) {
		t.Error("2025-09-30T15:59Z is 30 September in Beijing, a working day")
	}
}

func TestAddWorkingDays(t *testing.T) {
	c := empty(t)
	for _, tc := range []struct {
		from time.Time
		n    int
		want string
	}{
		// Tuesday before the holiday: 9th, 10th, 11th (Saturday worked), 13th, 14th.
		{at("2025-09-30", 10), 5, "2025-10-14"},
		// Friday: 28th (Sunday worked), 29th, 30th, then 9th and 10th October.
		{at("2025-09-26", 10), 5, "2025-10-10"},
		// Arriving on a holiday: its day does not count.
		{at("2025-10-03", 10), 1, "2025-10-09"},
		// Friday before 春节 2026: 14th (Saturday worked), then 24th to 27th.
		{at("2026-02-13", 9), 5, "2026-02-27"},
		{at("2026-03-02", 9), 5, "2026-03-09"},
		// Friday late evening, and the same Friday early morning.
		{at("2026-03-06", 23), 1, "2026-03-09"},
		{at("2026-03-06", 0), 1, "2026-03-09"},
		// Within the same day.
		{at("2026-03-06", 9), 0, "2026-03-06"},
		// A time given in UTC is first placed in Beijing: 2026-03-05T17:00Z is Friday 01:00.
		{time.Date(2026, 3, 5, 17, 0, 0, 0, time.UTC), 1, "2026-03-09"},
	} {
		got := c.AddWorkingDays(tc.from, tc.n)
		if want := endOf(tc.want); !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("%s + %d working days = %s, want %s (end of %s in Beijing, UTC)", tc.from, tc.n, got, want, tc.want)
		}
	}
	if got := c.AddWorkingDays(at("2026-03-02", 9), 5); got.Format(time.RFC3339Nano) != "2026-03-09T15:59:59.999999Z" {
		t.Errorf("deadline = %s, want 2026-03-09T15:59:59.999999Z", got.Format(time.RFC3339Nano))
	}
}

func TestYear(t *testing.T) {
	c := empty(t)
	days := map[string]calendar.Day{}
	for _, d := range c.Year(2025) {
		if d.Day[:4] != "2025" {
			t.Fatalf("2025 lists %s", d.Day)
		}
		days[d.Day] = d
	}
	if d := days["2025-09-28"]; !d.Working || d.Source != calendar.Builtin || d.Name != "国庆中秋" {
		t.Errorf("2025-09-28: %+v", d)
	}
	if d := days["2025-10-01"]; d.Working || d.Source != calendar.Builtin {
		t.Errorf("2025-10-01: %+v", d)
	}
	if _, ok := days["2025-10-04"]; ok {
		t.Error("2025-10-04 is a Saturday off anyway and should not be listed")
	}
	if _, ok := days["2025-03-03"]; ok {
		t.Error("an ordinary Monday is listed")
	}
}

func TestOverrides(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := calendar.NewService(db)
		load := func() *calendar.Calendar {
			c, err := svc.Load(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		before := load()
		if got := before.AddWorkingDays(at("2026-03-02", 9), 5); !got.Equal(endOf("2026-03-09")) {
			t.Fatalf("before: %s", got)
		}

		// A local day off on Monday 9 March moves the deadline to Tuesday.
		d, err := svc.SetDay(ctx, admin, "2026-03-09", false, " 地方停工日 ")
		if err != nil {
			t.Fatal(err)
		}
		if d.Working || d.Source != calendar.Override || d.Note != "地方停工日" {
			t.Fatalf("set: %+v", d)
		}
		after := load()
		if got := after.AddWorkingDays(at("2026-03-02", 9), 5); !got.Equal(endOf("2026-03-10")) {
			t.Fatalf("after a day off: %s, want the end of 2026-03-10", got)
		}
		// A calendar already loaded does not change.
		if got := before.AddWorkingDays(at("2026-03-02", 9), 5); !got.Equal(endOf("2026-03-09")) {
			t.Fatalf("a loaded calendar changed: %s", got)
		}
		// A Saturday made working, and a built-in holiday made working.
		if _, err := svc.SetDay(ctx, admin, "2026-03-07", true, "补班"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SetDay(ctx, admin, "2026-10-07", true, ""); err != nil {
			t.Fatal(err)
		}
		c := load()
		if !c.IsWorkingDay(at("2026-03-07", 10)) || !c.IsWorkingDay(at("2026-10-07", 10)) || c.IsWorkingDay(at("2026-03-09", 10)) {
			t.Fatal("overrides not applied")
		}
		// Setting again replaces.
		if _, err := svc.SetDay(ctx, admin, "2026-03-09", true, "恢复"); err != nil {
			t.Fatal(err)
		}
		days := map[string]calendar.Day{}
		year, err := svc.Year(ctx, 2026)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range year {
			days[d.Day] = d
		}
		if d := days["2026-03-09"]; !d.Working || d.Source != calendar.Override || d.Note != "恢复" {
			t.Errorf("2026-03-09 in the year: %+v", d)
		}
		if d := days["2026-10-07"]; !d.Working || d.Source != calendar.Override || d.Name != "国庆节" {
			t.Errorf("2026-10-07 in the year: %+v", d)
		}
		if d := days["2026-02-16"]; d.Working || d.Source != calendar.Builtin {
			t.Errorf("2026-02-16 in the year: %+v", d)
		}

		// Clearing restores the built-in data.
		if err := svc.ClearDay(ctx, admin, "2026-10-07"); err != nil {
			t.Fatal(err)
		}
		if load().IsWorkingDay(at("2026-10-07", 10)) {
			t.Error("2026-10-07 is still working after the override was cleared")
		}
		if err := svc.ClearDay(ctx, admin, "2026-10-07"); errs.KindOf(err) != errs.NotFound {
			t.Errorf("clearing twice: %v", err)
		}

		// Each change is audited.
		var n int
		if err := store.Get(ctx, db.Reader(), &n, `SELECT COUNT(*) FROM audit_entries WHERE entity = 'calendar_day'`); err != nil {
			t.Fatal(err)
		}
		if n != 5 {
			t.Errorf("%d audit entries, want 5", n)
		}

		// Only administrators; bad input names its field.
		for _, p := range []auth.Principal{
			{UserID: "r", Role: auth.Regulator, RegionCode: "340600"},
			{UserID: "u", Role: auth.UnitAdmin, UnitID: "x"},
		} {
			if _, err := svc.SetDay(ctx, p, "2026-03-11", false, ""); errs.KindOf(err) != errs.Forbidden {
				t.Errorf("%s: %v, want forbidden", p.Role, err)
			}
		}
		for _, tc := range []struct{ day, note, field, code string }{
			{"2026-3-11", "", "day", "date_format"},
			{"2026-02-30", "", "day", "date_format"},
			{"20260311", "", "day", "date_format"},
			{"1999-03-11", "", "day", "date_range"},
			{"2026-03-11", string(make([]rune, 201)), "note", "too_long"},
		} {
			_, err := svc.SetDay(ctx, admin, tc.day, false, tc.note)
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != tc.field ||
				e.Fields[0].Code != tc.code {
				t.Errorf("%q: %v, want %s %s", tc.day, err, tc.field, tc.code)
			}
		}
		if _, err := svc.Year(ctx, 1999); errs.KindOf(err) != errs.Invalid {
			t.Errorf("year 1999: %v", err)
		}
	})
}

func BenchmarkAddWorkingDays(b *testing.B) {
	db, _ := storetest.SQLite(b)
	c, err := calendar.Load(context.Background(), db.Reader())
	if err != nil {
		b.Fatal(err)
	}
	from := at("2025-09-30", 10)
	for b.Loop() {
		c.AddWorkingDays(from, 5)
	}
}

func BenchmarkLoad(b *testing.B) {
	db, _ := storetest.SQLite(b)
	ctx := context.Background()
	for i := range 30 {
		day := at("2026-03-01", 0).AddDate(0, 0, i).Format("2006-01-02")
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			_, err := calendar.SetDay(ctx, tx, admin, day, i%2 == 0, "")
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if _, err := calendar.Load(ctx, db.Reader()); err != nil {
			b.Fatal(err)
		}
	}
}
