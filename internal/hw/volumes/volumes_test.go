package volumes_test

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"wufei/internal/auth"
	"wufei/internal/calendar"
	"wufei/internal/demo"
	"wufei/internal/hw/manifest"
	"wufei/internal/hw/volumes"
	"wufei/internal/server"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
	"wufei/internal/synth"
)

type sum struct{ G, N int64 }

// kept reads hw_volumes, leaving out rows that came back to nothing.
func kept(t *testing.T, db *store.DB) map[volumes.Key]sum {
	t.Helper()
	var rows []struct {
		Kind     string `db:"kind"`
		Month    string `db:"month"`
		Region   string `db:"region_code"`
		Other    string `db:"other_region"`
		Unit     string `db:"unit_id"`
		Category string `db:"category"`
		Method   string `db:"method"`
		G        int64  `db:"g"`
		N        int64  `db:"n"`
	}
	if err := store.Select(context.Background(), db.Reader(), &rows, `SELECT kind, month, region_code, other_region, unit_id,
		category, method, g, n FROM hw_volumes WHERE g <> 0 OR n <> 0`); err != nil {
		t.Fatal(err)
	}
	out := map[volumes.Key]sum{}
	for _, r := range rows {
		out[volumes.Key{Kind: r.Kind, Month: r.Month, Region: r.Region, Other: r.Other, Unit: r.Unit, Category: r.Category,
			Method: r.Method}] = sum{r.G, r.N}
	}
	return out
}

// recount sums the records as the dashboard and the publication used to:
// one GROUP BY per figure over the ledger or the manifests and their
// lines, months told apart by a CASE over their first instants in China.
func recount(t *testing.T, db *store.DB) map[volumes.Key]sum {
	t.Helper()
	ctx := context.Background()
	q := db.Reader()
	// Every record here falls in the five years before now or the year after.
	start := time.Now().In(calendar.Zone).AddDate(-5, 0, 0)
	var months []string
	var bounds []any
	bucket := "CASE"
	for m := time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, calendar.Zone); len(months) < 72; m = m.AddDate(0, 1, 0) {
		if len(months) == 0 {
			bucket += " WHEN %[1]s < ? THEN -1"
			bounds = append(bounds, m.UTC())
		}
		months = append(months, m.Format("2006-01"))
		bucket += fmt.Sprintf(" WHEN %%[1]s < ? THEN %d", len(months)-1)
		bounds = append(bounds, m.AddDate(0, 1, 0).UTC())
	}
	bucket += " ELSE -1 END"
	out := map[volumes.Key]sum{}
	at := func(col string) string { return fmt.Sprintf(bucket, col) }
	lines := ` FROM manifests m JOIN manifest_lines l ON l.manifest_id = m.id WHERE `
	for _, c := range []struct{ kind, sql string }{
		{"", `SELECT ` + at("occurred_at") + ` AS b, effect_kind AS kind, region_code, '' AS other, '' AS unit, category,
			substr(method, 1, 1) AS method, SUM(delta_g) AS g, COUNT(*) AS n FROM ledger_records GROUP BY 1, 2, 3, 6, 7`},
		{volumes.Transferred, `SELECT ` + at("m.picked_up_at") + ` AS b, m.region_code, m.receiver_region_code AS other, '' AS unit,
			l.category, '' AS method, SUM(l.quantity_g) AS g, COUNT(*) AS n` + lines +
			`m.status IN ('in_transit', 'received', 'completed') GROUP BY 1, 2, 3, 5`},
		{volumes.Shipped, `SELECT ` + at("m.picked_up_at") + ` AS b, m.region_code, '' AS other, '' AS unit,
			l.category, '' AS method, SUM(l.quantity_g) AS g, COUNT(*) AS n` + lines +
			`m.status NOT IN ('draft', 'submitted', 'cancelled') AND m.previous_id IS NULL GROUP BY 1, 2, 5`},
		{volumes.Delivered, `SELECT ` + at("m.picked_up_at") + ` AS b, m.region_code, '' AS other, '' AS unit,
			l.category, substr(l.method, 1, 1) AS method, SUM(COALESCE(l.accepted_g, 0)) AS g, COUNT(*) AS n` + lines +
			`m.status = 'completed' GROUP BY 1, 2, 5, 6`},
		{volumes.Completed, `SELECT ` + at("m.completed_at") + ` AS b, m.receiver_region_code AS region_code, m.region_code AS other,
			'' AS unit, l.category, substr(l.method, 1, 1) AS method, SUM(COALESCE(l.accepted_g, 0)) AS g,
			COUNT(*) AS n` + lines + `m.status = 'completed' GROUP BY 1, 2, 3, 5, 6`},
		{volumes.Received, `SELECT ` + at("m.received_at") + ` AS b, m.receiver_region_code AS region_code, '' AS other,
			m.receiver_unit_id AS unit, l.category, substr(l.method, 1, 1) AS method, SUM(COALESCE(l.accepted_g, 0)) AS g,
			COUNT(*) AS n` + lines + `m.status = 'completed' GROUP BY 1, 2, 4, 5, 6`},
		{volumes.Submitted, `SELECT ` + at("m.submitted_at") + ` AS b, m.region_code, m.receiver_region_code AS other,
			m.receiver_unit_id AS unit, l.category, '' AS method,
			SUM(CASE WHEN m.status IN ('received', 'completed') THEN COALESCE(l.accepted_g, 0) ELSE l.quantity_g END) AS g,
			COUNT(*) AS n` + lines + `m.status IN ('submitted', 'in_transit', 'received', 'completed') GROUP BY 1, 2, 3, 4, 5`},
	} {
		var rows []struct {
			B        int    `db:"b"`
			Kind     string `db:"kind"`
			Region   string `db:"region_code"`
			Other    string `db:"other"`
			Unit     string `db:"unit"`
			Category string `db:"category"`
			Method   string `db:"method"`
			G        int64  `db:"g"`
			N        int64  `db:"n"`
		}
		if err := store.Select(ctx, q, &rows, c.sql, bounds...); err != nil {
			t.Fatalf("recount %q: %v", c.kind, err)
		}
		for _, r := range rows {
			if r.B < 0 {
				t.Fatalf("recount %q: a record outside %s … %s", c.kind, months[0], months[len(months)-1])
			}
			k := volumes.Key{Kind: r.Kind, Month: months[r.B], Region: r.Region, Other: r.Other, Unit: r.Unit,
				Category: r.Category, Method: r.Method}
			if c.kind != "" {
				k.Kind = c.kind
			}
			s := out[k]
			out[k] = sum{s.G + r.G, s.N + r.N}
		}
	}
	for k, s := range out {
		if s == (sum{}) {
			delete(out, k)
		}
	}
	return out
}

// same fails the test where the kept totals and the recount differ.
func same(t *testing.T, db *store.DB, when string) {
	t.Helper()
	got, want := kept(t, db), recount(t, db)
	kinds := map[string]bool{}
	var diff []string
	for k, w := range want {
		kinds[k.Kind] = true
		if g := got[k]; g != w {
			diff = append(diff, fmt.Sprintf("%+v: kept %+v, records %+v", k, g, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			diff = append(diff, fmt.Sprintf("%+v: kept %+v, records nothing", k, g))
		}
	}
	sort.Strings(diff)
	if len(diff) > 0 {
		t.Fatalf("%s: %d of %d rows differ, first %s", when, len(diff), len(want), strings.Join(diff[:min(len(diff), 5)], "\n"))
	}
	for _, k := range []string{volumes.Generation, volumes.StorageIn, volumes.Transferred, volumes.Delivered, volumes.Submitted} {
		if !kinds[k] {
			t.Errorf("%s: the records have no %s to compare", when, k)
		}
	}
}

// rebuild runs the migration that creates hw_volumes again, so that its
// backfill sums the records already written.
func rebuild(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	dir, err := fs.Sub(store.Migrations, "migrations/"+string(db.Dialect))
	if err != nil {
		t.Fatal(err)
	}
	dialect := goose.DialectSQLite3
	if db.Dialect == store.Postgres {
		dialect = goose.DialectPostgres
	}
	p, err := goose.NewProvider(dialect, db.Writer().DB, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 15); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestTotalsFollowTheDemo checks the totals kept with the demo's year of
// activity, then through a partial refusal, a refusal of everything, a
// corrected weighing, method and code after completion, and a cancellation
// in transit, each against a recount of the records; and that the
// migration's backfill gives the same.
func TestTotalsFollowTheDemo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := server.Prepare(ctx, db); err != nil {
			t.Fatal(err)
		}
		if err := demo.Seed(ctx, db, demo.ActivityMinUnits); err != nil {
			t.Fatal(err)
		}
		same(t, db, "after the demo")

		as := auth.NewService(db)
		login := func(u string) auth.Principal {
			s, err := as.Login(ctx, u, demo.Password)
			if err != nil {
				t.Fatal(err)
			}
			return s.User.Principal()
		}
		gen, carrier, disposer := login("gen"), login("carrier"), login("disposer")
		svc := manifest.NewService(db)
		check := func(what string, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			same(t, db, what)
		}
		picked := func(q float64) manifest.Manifest {
			t.Helper()
			m, err := svc.Create(ctx, gen, manifest.Input{CarrierUnitID: carrier.UnitID, VehiclePlate: "皖F3A721",
				ReceiverUnitID: disposer.UnitID, Lines: []manifest.LineInput{
					{WasteCode: "900-249-08", QuantityT: q, Form: "L", Packaging: "桶", PackageCount: 2},
					{WasteCode: "900-041-49", QuantityT: q / 2, Form: "S", Packaging: "袋", PackageCount: 1}}})
			if err == nil {
				_, err = svc.Submit(ctx, gen, m.ID, 0)
			}
			check("submit", err)
			if err == nil {
				m, err = svc.Pickup(ctx, carrier, m.ID, 0)
			}
			check("pickup", err)
			return m
		}
		a, b, c := picked(2), picked(1), picked(1)

		refused := 0.5
		_, err := svc.Receive(ctx, disposer, a.ID, 0, []manifest.ReceiptLine{
			{LineNo: 1, ReceivedT: 2, RefusedT: &refused, Reason: "含水"}, {LineNo: 2, ReceivedT: 1}})
		check("a partial refusal", err)
		_, err = svc.Complete(ctx, disposer, a.ID, 0, []manifest.CompletionLine{{LineNo: 1, Method: "R9"}, {LineNo: 2, Method: "D10"}})
		check("completion", err)

		one, half := 1.0, 0.5
		_, err = svc.Receive(ctx, disposer, b.ID, 0, []manifest.ReceiptLine{
			{LineNo: 1, ReceivedT: 1, RefusedT: &one, Reason: "不符"}, {LineNo: 2, ReceivedT: 0.5, RefusedT: &half, Reason: "不符"}})
		check("a refusal of everything", err)

		rec, acc, ref, method, code := 2.0, 1.9, 0.1, "D10", "900-249-08"
		r, err := svc.RequestRevision(ctx, disposer, a.ID, "复磅", manifest.Changes{Lines: []manifest.LineChange{
			{LineNo: 1, ReceivedT: &rec, AcceptedT: &acc, RefusedT: &ref, Method: &method},
			{LineNo: 2, WasteCode: &code}}})
		if err == nil {
			_, err = svc.DecideRevision(ctx, gen, a.ID, r.ID, true, "同意")
		}
		check("a revision after completion", err)

		r, err = svc.RequestRevision(ctx, gen, c.ID, "车辆故障", manifest.Changes{Cancel: true})
		if err == nil {
			_, err = svc.DecideRevision(ctx, disposer, c.ID, r.ID, true, "")
		}
		check("a cancellation in transit", err)

		rebuild(t, db)
		same(t, db, "rebuilt by the migration")
	})
}

// TestTotalsFollowGenerated checks the totals kept while the synthetic
// city writes its year (many writers at once), and the backfill.
func TestTotalsFollowGenerated(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := server.Prepare(ctx, db); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 10, 15, 15, 0, 0, 0, calendar.Zone).UTC()
		if _, err := synth.Generate(ctx, db, synth.Options{Scale: synth.Scale{Name: "city", Units: 60, Manifests: 400},
			Seed: 3, Now: now, Workers: 6}); err != nil {
			t.Fatal(err)
		}
		same(t, db, "after generating")
		rebuild(t, db)
		same(t, db, "rebuilt by the migration")
	})
}
