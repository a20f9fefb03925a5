package synth_test

import (
	"context"
	"testing"
	"time"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/calendar"
	"wufei/internal/hw/manifest"
	"wufei/internal/server"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
	"wufei/internal/synth"
)

// signature is what must come out the same from the same seed: the
// units, and the manifests' statuses and quantities by consignor and month.
type signature struct {
	Units    string
	Statuses string
	Grams    int64
}

func sign(t *testing.T, db *store.DB) signature {
	t.Helper()
	ctx := context.Background()
	var s signature
	q := db.Reader()
	if err := store.Get(ctx, q, &s.Units, `SELECT `+store.StringAgg(q, "uscc || name")+` FROM
		(SELECT uscc, name FROM units ORDER BY uscc) x`); err != nil {
		t.Fatal(err)
	}
	if err := store.Get(ctx, q, &s.Statuses, `SELECT `+store.StringAgg(q, "status || ':' || n")+` FROM
		(SELECT status, CAST(count(*) AS TEXT) AS n FROM manifests GROUP BY status ORDER BY status) x`); err != nil {
		t.Fatal(err)
	}
	if err := store.Get(ctx, q, &s.Grams, `SELECT COALESCE(sum(quantity_g), 0) FROM manifest_lines`); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestGenerate writes a small data set twice from one seed and checks it
// from outside: every kind of unit, manifests in the year in every usual
// status, each with its lines, containers and one step per status passed,
// the same data both times, and an audit log that verifies.
func TestGenerate(t *testing.T) {
	now := time.Date(2026, 10, 15, 15, 0, 0, 0, calendar.Zone).UTC()
	opt := synth.Options{Scale: synth.Scale{Name: "city", Units: 90, Manifests: 700}, Seed: 7, Now: now, Workers: 6}
	// With both engines, the PostgreSQL run is compared with the SQLite one;
	// with SQLite alone, a second run is.
	var first signature
	for run := range 3 - len(storetest.Engines()) {
		storetest.Each(t, func(t *testing.T, db *store.DB) {
			ctx := context.Background()
			rep := generate(t, db, opt)
			if rep.Units != 90 || rep.Plans == 0 || rep.Manifests < 500 || rep.Manifests > 900 {
				t.Fatalf("report %+v", rep)
			}
			for _, s := range []manifest.Status{manifest.Completed, manifest.Received, manifest.Cancelled, manifest.Refused} {
				if rep.Statuses[string(s)] == 0 {
					t.Errorf("no manifest %s: %v", s, rep.Statuses)
				}
			}
			q := db.Reader()
			var bad int
			for what, query := range map[string]string{
				"manifests without lines": `SELECT count(*) FROM manifests m WHERE NOT EXISTS
					(SELECT 1 FROM manifest_lines l WHERE l.manifest_id = m.id)`,
				"completed manifests short of steps": `SELECT count(*) FROM manifests m WHERE m.status = 'completed'
					AND (SELECT count(*) FROM manifest_steps s WHERE s.manifest_id = m.id) < 6`,
				"steps out of time order": `SELECT count(*) FROM manifest_steps a JOIN manifest_steps b
					ON b.manifest_id = a.manifest_id AND b.step = a.step + 1 WHERE b.at < a.at`,
				"manifests after the end of the year of activity": `SELECT count(*) FROM manifests WHERE updated_at > ?`,
				"manifests of a unit without a container": `SELECT count(*) FROM manifests m WHERE NOT EXISTS
					(SELECT 1 FROM containers c WHERE c.manifest_id = m.id) AND m.status = 'completed'`,
			} {
				args := []any{}
				if what == "manifests after the end of the year of activity" {
					args = append(args, now)
				}
				if err := store.Get(ctx, q, &bad, query, args...); err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				if bad != 0 {
					t.Errorf("%d %s", bad, what)
				}
			}
			// Every generated account signs in with the one password.
			var username string
			if err := store.Get(ctx, q, &username, `SELECT username FROM users WHERE role = 'unit_admin' ORDER BY username LIMIT 1`); err != nil {
				t.Fatal(err)
			}
			if _, err := auth.NewService(db).Login(ctx, username, synth.Password); err != nil {
				t.Errorf("log-in as %s: %v", username, err)
			}
			vr, err := audit.Verify(ctx, db, "")
			if err != nil || !vr.OK {
				t.Fatalf("audit verify: %v %v", vr, err)
			}
			sig := sign(t, db)
			if run == 0 && first.Units == "" {
				first = sig
			} else if sig != first {
				t.Errorf("the same seed gave another data set:\n%+v\n%+v", sig, first)
			}
		})
	}
}

// TestGenerateProvince writes a small set of the province's shape, whose
// units lie in Anhui's other cities too: every phase must pass, and the
// city's own records (stream ledgers, medical institutions) name only
// Huaibei's units.
func TestGenerateProvince(t *testing.T) {
	generateShape(t, synth.Scale{Name: "province", Units: 400, Manifests: 600}, 3, []string{
		`SELECT count(*) FROM units WHERE region_code NOT LIKE '3406%'`,
		`SELECT count(*) FROM units WHERE region_code NOT LIKE '3406%' AND industry_code IN ('8411', '8421')`,
	}, func(t *testing.T, rep synth.Report, n []int) {
		if n[0] == 0 || n[1] == 0 || rep.Manifests == 0 {
			t.Fatalf("%d units outside Huaibei, %d of them hospitals or clinics; report %+v", n[0], n[1], rep)
		}
	})
}

// TestGenerateNation writes a small set of the nation's shape, whose units
// lie in every province: every phase must pass, units of other provinces
// are written with their province's code, and the manifests complete.
func TestGenerateNation(t *testing.T) {
	generateShape(t, synth.Scale{Name: "nation", Units: 600, Manifests: 600}, 5, []string{
		`SELECT count(DISTINCT substr(region_code, 1, 2)) FROM units WHERE region_code NOT LIKE '34%'`,
		`SELECT count(*) FROM manifests WHERE status = 'completed'`,
	}, func(t *testing.T, rep synth.Report, n []int) {
		if n[0] < 10 || n[1] == 0 || rep.Manifests == 0 {
			t.Fatalf("units in %d other provinces, %d manifests completed; report %+v", n[0], n[1], rep)
		}
	})
}

// generateShape writes a small set of one scale's shape on each engine and
// hands check the report and the answer of each count query.
func generateShape(t *testing.T, scale synth.Scale, seed uint64, counts []string,
	check func(t *testing.T, rep synth.Report, n []int)) {
	now := time.Date(2026, 10, 15, 15, 0, 0, 0, calendar.Zone).UTC()
	opt := synth.Options{Scale: scale, Seed: seed, Now: now, Workers: 6}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		rep := generate(t, db, opt)
		n := make([]int, len(counts))
		for i, q := range counts {
			if err := store.Get(context.Background(), db.Reader(), &n[i], q); err != nil {
				t.Fatal(err)
			}
		}
		check(t, rep, n)
	})
}

// generate prepares db as the server would and writes a set into it.
func generate(t *testing.T, db *store.DB, opt synth.Options) synth.Report {
	t.Helper()
	ctx := context.Background()
	if err := server.Prepare(ctx, db); err != nil {
		t.Fatal(err)
	}
	rep, err := synth.Generate(ctx, db, opt)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}
