package plan_test

import (
	"fmt"
	"slices"
	"testing"
	"time"
	"wufei/internal/calendar"

	"wufei/internal/errs"
	"wufei/internal/hw/ledger"
	"wufei/internal/hw/plan"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

func TestPeriods(t *testing.T) {
	r := plan.Defaults
	for _, c := range []struct {
		key, kind, from, to, due string
	}{
		{"2026-10", plan.Monthly, "2026-10-01", "2026-11-01", "2026-11-15"},
		{"2026-12", plan.Monthly, "2026-12-01", "2027-01-01", "2027-01-15"},
		{"2026-02", plan.Monthly, "2026-02-01", "2026-03-01", "2026-03-15"},
		{"2026-Q1", plan.Quarterly, "2026-01-01", "2026-04-01", "2026-04-15"},
		{"2026-Q3", plan.Quarterly, "2026-07-01", "2026-10-01", "2026-10-15"},
		{"2026-Q4", plan.Quarterly, "2026-10-01", "2027-01-01", "2027-01-15"},
		{"2026", plan.Yearly, "2026-01-01", "2027-01-01", "2027-03-31"},
	} {
		p, err := plan.ParsePeriod(c.key)
		if err != nil {
			t.Fatal(err)
		}
		day := func(s string) time.Time {
			d, _ := time.ParseInLocation(time.DateOnly, s, calendar.Zone)
			return d.UTC()
		}
		if p.Key != c.key || p.Kind != c.kind || !p.From.Equal(day(c.from)) || !p.To.Equal(day(c.to)) ||
			r.DueDate(p) != c.due || !r.Due(p).Equal(day(c.due).AddDate(0, 0, 1)) {
			t.Fatalf("%s: %+v due %s (%v), want %s–%s due %s", c.key, p, r.DueDate(p), r.Due(p), c.from, c.to, c.due)
		}
	}
	for _, bad := range []string{"", "2026-13", "2026-00", "2026-Q5", "2026-Q0", "26", "2026-1", "2026-10-01", "1999"} {
		_, err := plan.ParsePeriod(bad)
		wantFields(t, err, "period=period_format")
	}
	// Due days are settings.
	r.MonthlyDueDay, r.QuarterlyDueDay, r.YearlyDue = 10, 20, "06-30"
	for key, due := range map[string]string{"2026-12": "2027-01-10", "2026-Q2": "2026-07-20", "2026": "2027-06-30"} {
		p, _ := plan.ParsePeriod(key)
		if r.DueDate(p) != due {
			t.Fatalf("%s due %s, want %s", key, r.DueDate(p), due)
		}
	}
	// What each class owes.
	for class, want := range map[string][]string{
		plan.Key:        {"2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11", "2026-12", "2026"},
		plan.Simplified: {"2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4", "2026"},
		plan.Registered: {"2026"},
	} {
		var got []string
		for _, p := range plan.Periods(class, 2026) {
			got = append(got, p.Key)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s owes %v", class, got)
		}
	}
}

// classed registers three generators whose plans for year make them key,
// simplified and registered, all registered on the platform since 1 January
// of year.
func (e *env) classed(year int) (key, simple, reg registry.Unit) {
	key, simple, reg = e.generator("重点单位"), e.generator("简化单位"), e.generator("登记单位")
	e.draft(key, year, 120)
	e.draft(simple, year, 50)
	e.draft(reg, year, 2)
	if _, err := store.Exec(e.ctx, e.db.Writer(), `UPDATE units SET created_at = ?`,
		time.Date(year, 1, 1, 0, 0, 0, 0, calendar.Zone).UTC()); err != nil {
		e.t.Fatal(err)
	}
	return key, simple, reg
}

func TestSchedule(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		y := thisYear() - 1
		key, simple, reg := e.classed(y)
		statuses := func(u registry.Unit, now time.Time) (string, []string) {
			t.Helper()
			sc, err := e.svc.Schedule(e.ctx, unitAdmin(u), "", y, now)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, it := range sc.Items {
				out = append(out, it.Key+"="+it.Status)
				if it.DueDate == "" || it.DueAt.IsZero() {
					t.Fatalf("no due date: %+v", it)
				}
			}
			return sc.Class, out
		}
		june10 := time.Date(y, 6, 10, 12, 0, 0, 0, calendar.Zone)
		class, got := statuses(key, june10)
		want := []string{fmt.Sprintf("%d-01=overdue", y), fmt.Sprintf("%d-02=overdue", y), fmt.Sprintf("%d-03=overdue", y),
			fmt.Sprintf("%d-04=overdue", y), fmt.Sprintf("%d-05=due", y), fmt.Sprintf("%d-06=not_due", y)}
		if class != plan.Key || len(got) != 13 || !slices.Equal(got[:6], want) || got[12] != fmt.Sprintf("%d=not_due", y) {
			t.Fatalf("key unit: %s %v", class, got)
		}
		class, got = statuses(simple, june10)
		want = []string{fmt.Sprintf("%d-Q1=overdue", y), fmt.Sprintf("%d-Q2=not_due", y), fmt.Sprintf("%d-Q3=not_due", y),
			fmt.Sprintf("%d-Q4=not_due", y), fmt.Sprintf("%d=not_due", y)}
		if class != plan.Simplified || !slices.Equal(got, want) {
			t.Fatalf("simplified unit: %s %v", class, got)
		}
		class, got = statuses(reg, time.Date(y+1, 2, 1, 0, 0, 0, 0, calendar.Zone))
		if class != plan.Registered || !slices.Equal(got, []string{fmt.Sprintf("%d=due", y)}) {
			t.Fatalf("registered unit: %s %v", class, got)
		}
		class, got = statuses(reg, time.Date(y+1, 4, 1, 0, 0, 0, 0, calendar.Zone))
		if !slices.Equal(got, []string{fmt.Sprintf("%d=overdue", y)}) {
			t.Fatalf("registered unit in April: %v", got)
		}

		// Scoped: another unit's schedule is not found; a regulator names the unit.
		_, err := e.svc.Schedule(e.ctx, unitAdmin(key), simple.ID, y, june10)
		wantErr(t, err, errs.NotFound, "unit_not_found")
		_, err = e.svc.Schedule(e.ctx, xsReg, key.ID, y, june10)
		wantErr(t, err, errs.NotFound, "unit_not_found")
		_, err = e.svc.Schedule(e.ctx, cityReg, "", y, june10)
		wantFields(t, err, "unit_id=required")
		if sc, err := e.svc.Schedule(e.ctx, sxReg, key.ID, y, june10); err != nil || len(sc.Items) != 13 {
			t.Fatalf("濉溪 regulator: %v", err)
		}
	})
}

// generate records tonnes of code generated by u at t, straight into its
// storage facility ZC001 a minute later.
func (e *env) generate(u registry.Unit, code string, tonnes float64, t time.Time) {
	e.t.Helper()
	g, err := e.lg.RecordGeneration(e.ctx, unitAdmin(u), ledger.NewGeneration{WasteCode: code, Form: "L",
		QuantityT: tonnes, OccurredAt: &t})
	if err != nil {
		e.t.Fatalf("generation: %v", err)
	}
	in := t.Add(time.Minute)
	if _, err := e.lg.StoreIn(e.ctx, unitAdmin(u), ledger.Movement{PrevBatch: g.Record.BatchCode, QuantityT: &tonnes,
		FacilityCode: "ZC001", OccurredAt: &in}); err != nil {
		e.t.Fatalf("into storage: %v", err)
	}
}

func TestDeclarations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		y := thisYear() - 1
		key, simple, _ := e.classed(y)
		ua := unitAdmin(key)
		jan, _ := plan.ParsePeriod(fmt.Sprintf("%d-01", y))
		at := func(month time.Month, day int) time.Time { return time.Date(y, month, day, 9, 0, 0, 0, calendar.Zone) }
		e.generate(key, "900-249-08", 1, time.Date(y-1, 12, 20, 9, 0, 0, 0, calendar.Zone)) // the opening stock
		e.generate(key, "900-249-08", 2.5, at(1, 10))
		e.generate(key, "900-041-49", 0.25, at(1, 31))
		e.generate(key, "900-041-49", 7, at(2, 1)) // February: not in January's declaration

		// Wrong input and the wrong party.
		_, err := e.svc.Compile(e.ctx, ua, "", "2026/01")
		wantFields(t, err, "period=period_format")
		_, err = e.svc.Compile(e.ctx, ua, "", fmt.Sprintf("%d", y+2))
		wantFields(t, err, "period=period_not_ended")
		_, err = e.svc.Compile(e.ctx, ua, simple.ID, jan.Key)
		wantErr(t, err, errs.NotFound, "unit_not_found")
		_, err = e.svc.Compile(e.ctx, cityReg, key.ID, jan.Key)
		wantErr(t, err, errs.Forbidden, "forbidden")

		d, err := e.svc.Compile(e.ctx, ua, "", jan.Key)
		if err != nil {
			t.Fatal(err)
		}
		want := []plan.DeclarationLine{
			{WasteCode: "900-041-49", GeneratedT: 0.25, StoredInT: 0.25, ClosingT: 0.25},
			{WasteCode: "900-249-08", OpeningT: 1, GeneratedT: 2.5, StoredInT: 2.5, ClosingT: 3.5},
		}
		if d.Status != plan.DeclDraft || d.Kind != plan.Monthly || d.DueDate != fmt.Sprintf("%d-02-15", y) ||
			!slices.Equal(d.Lines, want) {
			t.Fatalf("compiled: %+v", d)
		}
		// Compiling again replaces the draft.
		again, err := e.svc.Compile(e.ctx, ua, "", jan.Key)
		if err != nil || again.ID != d.ID || again.Version != 2 {
			t.Fatalf("recompile: %+v %v", again, err)
		}
		// The ledger changed since the draft: submit refuses until recompiled.
		e.generate(key, "900-249-08", 0.5, at(1, 20))
		_, err = e.svc.SubmitDeclaration(e.ctx, ua, d.ID, 0)
		wantErr(t, err, errs.Conflict, "declaration_stale")
		_, err = e.svc.SubmitDeclaration(e.ctx, cityReg, d.ID, 0)
		wantErr(t, err, errs.Forbidden, "forbidden")
		_, err = e.svc.SubmitDeclaration(e.ctx, unitAdmin(simple), d.ID, 0)
		wantErr(t, err, errs.NotFound, "declaration_not_found")
		if d, err = e.svc.Compile(e.ctx, ua, "", jan.Key); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.SubmitDeclaration(e.ctx, ua, d.ID, d.Version-1)
		wantErr(t, err, errs.Conflict, "version_conflict")
		sub, err := e.svc.SubmitDeclaration(e.ctx, ua, d.ID, d.Version)
		if err != nil || sub.Status != plan.DeclSubmitted || !sub.Late || sub.SubmittedAt == nil || sub.Lines[1].GeneratedT != 3 {
			t.Fatalf("submit: %+v %v", sub, err)
		}
		_, err = e.svc.SubmitDeclaration(e.ctx, ua, d.ID, 0)
		wantErr(t, err, errs.Conflict, "wrong_status")
		_, err = e.svc.Compile(e.ctx, ua, "", jan.Key)
		wantErr(t, err, errs.Conflict, "declaration_submitted")
		// The submitted snapshot is frozen whatever the ledger does later.
		e.generate(key, "900-249-08", 4, at(1, 25))
		if got, err := e.svc.GetDeclaration(e.ctx, sxReg, d.ID); err != nil || !slices.Equal(got.Lines, sub.Lines) {
			t.Fatalf("get: %+v %v", got, err)
		}
		_, err = e.svc.GetDeclaration(e.ctx, xsReg, d.ID)
		wantErr(t, err, errs.NotFound, "declaration_not_found")

		// A declaration of a year whose yearly due day moved to the end of
		// this year is on time; a unit with no ledger declares nothing.
		e.setting("declaration_yearly_due", `"12-31"`)
		yd, err := e.svc.Compile(e.ctx, unitAdmin(simple), "", fmt.Sprint(y))
		if err != nil || len(yd.Lines) != 0 {
			t.Fatalf("yearly: %+v %v", yd, err)
		}
		if yd, err = e.svc.SubmitDeclaration(e.ctx, unitAdmin(simple), yd.ID, 0); err != nil || yd.Late {
			t.Fatalf("yearly submit: %+v %v", yd, err)
		}

		sc, err := e.svc.Schedule(e.ctx, ua, "", y, time.Date(y+1, 2, 1, 0, 0, 0, 0, calendar.Zone))
		if err != nil || sc.Items[0].Status != plan.Late || sc.Items[0].DeclarationID != d.ID || sc.Items[1].Status != plan.Overdue {
			t.Fatalf("schedule: %+v %v", sc.Items[:2], err)
		}
		sc, err = e.svc.Schedule(e.ctx, unitAdmin(simple), "", y, time.Date(y+1, 2, 1, 0, 0, 0, 0, calendar.Zone))
		if err != nil || sc.Items[4].Status != plan.Submitted {
			t.Fatalf("simple schedule: %+v %v", sc.Items, err)
		}

		var actions []string
		if err := store.Select(e.ctx, db.Reader(), &actions, `SELECT action FROM audit_entries WHERE entity = 'declaration'
			AND entity_id = ? ORDER BY seq`, d.ID); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(actions, []string{"declaration.compile", "declaration.compile", "declaration.compile", "declaration.submit"}) {
			t.Fatalf("audit: %v", actions)
		}
	})
}

func TestCheckDue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		y := thisYear() - 1
		key, simple, reg := e.classed(y)
		d := e.disposer() // not a generator: owes nothing here
		if _, err := store.Exec(e.ctx, db.Writer(), `UPDATE units SET created_at = ? WHERE id = ?`,
			time.Date(y, 1, 1, 0, 0, 0, 0, calendar.Zone).UTC(), d.ID); err != nil {
			t.Fatal(err)
		}
		// January is declared in time for the key unit.
		jan, _ := plan.ParsePeriod(fmt.Sprintf("%d-01", y))
		decl, err := e.svc.Compile(e.ctx, unitAdmin(key), "", jan.Key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.SubmitDeclaration(e.ctx, unitAdmin(key), decl.ID, 0); err != nil {
			t.Fatal(err)
		}
		check := func(now time.Time) int {
			t.Helper()
			n, err := plan.CheckDue(e.ctx, db, now)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		feb1 := time.Date(y+1, 2, 1, 0, 0, 0, 0, calendar.Zone)
		if n := check(feb1); n != 11+4 {
			t.Fatalf("raised %d, want 15 (11 months, 4 quarters)", n)
		}
		if n := check(feb1); n != 0 {
			t.Fatalf("raised %d again", n)
		}
		type row struct {
			Unit  string `db:"unit_id"`
			N     int    `db:"n"`
			Kinds int    `db:"kinds"`
		}
		var rows []row
		if err := store.Select(e.ctx, db.Reader(), &rows, `SELECT p.unit_id, count(*) AS n, count(DISTINCT a.kind) AS kinds
			FROM alerts a JOIN alert_parties p ON p.alert_id = a.id WHERE a.kind = 'declaration_overdue'
			GROUP BY p.unit_id ORDER BY n DESC`); err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[0] != (row{key.ID, 11, 1}) || rows[1] != (row{simple.ID, 4, 1}) {
			t.Fatalf("alerts by unit: %+v", rows)
		}
		// Declaring late closes the period's alert.
		feb, _ := plan.ParsePeriod(fmt.Sprintf("%d-02", y))
		if decl, err = e.svc.Compile(e.ctx, unitAdmin(key), "", feb.Key); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.SubmitDeclaration(e.ctx, unitAdmin(key), decl.ID, 0); err != nil {
			t.Fatal(err)
		}
		var status string
		if err := store.Get(e.ctx, db.Reader(), &status, `SELECT status FROM alerts WHERE subject_id = ?`,
			key.ID+"/"+feb.Key); err != nil || status != "closed" {
			t.Fatalf("February's alert after declaring: %q %v", status, err)
		}
		// After the yearly due date every generator owes its yearly declaration.
		if n := check(time.Date(y+1, 4, 1, 0, 0, 0, 0, calendar.Zone)); n != 3 {
			t.Fatalf("yearly: raised %d, want 3", n)
		}
		var region string
		if err := store.Get(e.ctx, db.Reader(), &region, `SELECT region_code FROM alerts WHERE subject_id = ?`,
			reg.ID+"/"+fmt.Sprint(y)); err != nil || region != "340621" {
			t.Fatalf("registered unit's alert: %q %v", region, err)
		}
		// A closed alert is not raised again.
		if _, err := store.Exec(e.ctx, db.Writer(), `UPDATE alerts SET status = 'closed'`); err != nil {
			t.Fatal(err)
		}
		if n := check(time.Date(y+1, 4, 2, 0, 0, 0, 0, calendar.Zone)); n != 0 {
			t.Fatalf("after closing: raised %d", n)
		}
	})
}
