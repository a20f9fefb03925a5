package manifest_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"wufei/internal/auth"
	"wufei/internal/calendar"
	"wufei/internal/hw/manifest"
	"wufei/internal/server"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
	"wufei/internal/synth"
)

// TestListMatchesScope pages through a generated data set as every kind of
// viewer, with every filter, and holds each list against the plain
// definition: every manifest the principal's scope admits that matches the
// filter, newest first, each once.
func TestListMatchesScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := server.Prepare(ctx, db); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 10, 15, 15, 0, 0, 0, calendar.Zone).UTC()
		opt := synth.Options{Scale: synth.Scale{Name: "city", Units: 70, Manifests: 500}, Seed: 11, Now: now, Workers: 4}
		if _, err := synth.Generate(ctx, db, opt); err != nil {
			t.Fatal(err)
		}
		w := db.Writer()
		// A draft, which only its consignor sees, and a manifest with two
		// lines of one code and two legs of one carrier, which each list
		// shows once.
		var ids []string
		if err := store.Select(ctx, w, &ids, `SELECT id FROM manifests WHERE status IN ('submitted', 'in_transit', 'received') ORDER BY id LIMIT 1`); err != nil || len(ids) == 0 {
			t.Fatalf("no submitted manifest: %v", err)
		}
		if _, err := store.Exec(ctx, w, `UPDATE manifests SET status = 'draft' WHERE id = ?`, ids[0]); err != nil {
			t.Fatal(err)
		}
		var twice []struct{ ID, Number string }
		if err := store.Select(ctx, w, &twice, `SELECT id, number FROM manifests WHERE status IN ('submitted', 'in_transit', 'received') ORDER BY id DESC LIMIT 1`); err != nil || len(twice) == 0 {
			t.Fatalf("no second submitted manifest: %v", err)
		}
		for _, q := range []string{
			`INSERT INTO manifest_lines (manifest_id, line_no, waste_code, category, name, official_name, quantity_g, form,
				characteristics, packaging, package_count) SELECT manifest_id, 99, waste_code, category, name, official_name,
				quantity_g, form, characteristics, packaging, package_count FROM manifest_lines WHERE manifest_id = ? AND line_no = 1`,
			`INSERT INTO manifest_carriers (manifest_id, leg, carrier_unit_id, vehicle_plate) SELECT manifest_id, 2,
				carrier_unit_id, vehicle_plate FROM manifest_carriers WHERE manifest_id = ? AND leg = 1`,
		} {
			if _, err := store.Exec(ctx, w, q, twice[0].ID); err != nil {
				t.Fatal(err)
			}
		}

		viewers := []auth.Principal{{Role: auth.Admin}, {Role: auth.Regulator, RegionCode: auth.CityCode}}
		var regions []string
		if err := store.Select(ctx, w, &regions, `SELECT region_code FROM manifests UNION SELECT receiver_region_code
			FROM manifests UNION SELECT park_code FROM units WHERE park_code IS NOT NULL ORDER BY 1`); err != nil {
			t.Fatal(err)
		}
		for _, r := range regions {
			viewers = append(viewers, auth.Principal{Role: auth.Regulator, RegionCode: r})
		}
		var units []string
		if err := store.Select(ctx, w, &units, `SELECT u FROM (
			SELECT consignor_unit_id AS u FROM manifests UNION SELECT receiver_unit_id FROM manifests
			UNION SELECT carrier_unit_id FROM manifest_carriers) AS p ORDER BY u`); err != nil {
			t.Fatal(err)
		}
		for i, u := range units {
			role := auth.UnitMember
			if i%3 == 0 {
				role = auth.UnitAdmin
			}
			viewers = append(viewers, auth.Principal{Role: role, UnitID: u})
		}
		var codes []string
		if err := store.Select(ctx, w, &codes, `SELECT waste_code FROM manifest_lines GROUP BY waste_code
			ORDER BY count(*) DESC, waste_code`); err != nil {
			t.Fatal(err)
		}
		filters := []manifest.Filter{{}, {Year: 2026}, {Year: 2025}, {WasteCode: codes[0]}, {WasteCode: codes[len(codes)-1]},
			{Role: "consignor"}, {Role: "receiver"}, {Role: "carrier"},
			{Status: "completed", Year: 2026, WasteCode: codes[0]}, {Status: "draft"}, {Role: "carrier", WasteCode: codes[0]},
			{Role: "consignor", Status: "completed", Year: 2026}, {Number: twice[0].Number}}
		for _, s := range []string{"submitted", "in_transit", "received", "completed", "cancelled", "refused"} {
			filters = append(filters, manifest.Filter{Status: s}, manifest.Filter{Status: s, Year: 2026, WasteCode: codes[0]})
		}
		svc := manifest.NewService(db)
		seen := 0
		for _, p := range viewers {
			for _, f := range filters {
				want := plainList(t, db, p, f)
				var got []string
				f.Limit = 7
				for {
					ms, next, err := svc.List(ctx, p, f)
					if err != nil {
						t.Fatal(err)
					}
					for _, m := range ms {
						got = append(got, m.ID)
					}
					if next == "" {
						break
					}
					f.After = next
				}
				if !slices.Equal(got, want) {
					t.Fatalf("%+v, filter %+v: listed %d manifests, the scope admits %d", p, f, len(got), len(want))
				}
				seen += len(got)
			}
		}
		if seen < 5000 {
			t.Fatalf("only %d manifests listed over %d viewers", seen, len(viewers))
		}
	})
}

// TestListRareStatusIndex checks that a regulator's or the administrator's
// list of a status few manifests hold can be read through that status's
// index, whatever else it is filtered by: without it such a list walks every
// manifest of a region to find none. PostgreSQL is asked with sequential
// scans off, since on a small table it rightly prefers one.
func TestListRareStatusIndex(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := server.Prepare(ctx, db); err != nil {
			t.Fatal(err)
		}
		tx, err := db.Writer().BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback() //nolint:errcheck
		explain := "EXPLAIN QUERY PLAN "
		if db.Dialect == store.Postgres {
			explain = "EXPLAIN "
			if _, err := tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range []auth.Principal{{Role: auth.Admin}, {Role: auth.Regulator, RegionCode: "340602"},
			{Role: auth.Regulator, RegionCode: auth.CityCode}} {
			for _, f := range []manifest.Filter{{Status: "refused"}, {Status: "in_transit", Year: 2026},
				{Status: "cancelled", Year: 2026, WasteCode: "900-041-49"}} {
				q, args := manifest.ListQuery(p, f, 51)
				rows, err := tx.QueryContext(ctx, tx.Rebind(explain+q), args...)
				if err != nil {
					t.Fatal(err)
				}
				var plan strings.Builder
				for rows.Next() {
					cols, _ := rows.Columns()
					vals := make([]any, len(cols))
					for i := range vals {
						vals[i] = new(any)
					}
					if err := rows.Scan(vals...); err != nil {
						t.Fatal(err)
					}
					for _, v := range vals {
						fmt.Fprintf(&plan, "%v ", *v.(*any))
					}
					plan.WriteString("\n")
				}
				rows.Close()
				if !strings.Contains(plan.String(), "manifests_open") {
					t.Errorf("%s %s, filter %+v: not through manifests_open:\n%s", p.Role, p.RegionCode, f, plan.String())
				}
			}
		}
	})
}

// plainList is the definition a list is held against: the scope as one
// condition, each filter as one more.
func plainList(t *testing.T, db *store.DB, p auth.Principal, f manifest.Filter) []string {
	t.Helper()
	cond, args := manifest.Scope(p)
	where := []string{cond}
	add := func(c string, a ...any) { where, args = append(where, c), append(args, a...) }
	if f.Status != "" {
		add("m.status = ?", f.Status)
	}
	if f.Number != "" {
		add("m.number = ?", f.Number)
	}
	if f.Year != 0 {
		add("m.year = ?", f.Year)
	}
	if f.WasteCode != "" {
		add("EXISTS (SELECT 1 FROM manifest_lines l WHERE l.manifest_id = m.id AND l.waste_code = ?)", f.WasteCode)
	}
	switch f.Role {
	case "consignor":
		add("m.consignor_unit_id = ?", p.UnitID)
	case "receiver":
		add("m.receiver_unit_id = ?", p.UnitID)
	case "carrier":
		add("EXISTS (SELECT 1 FROM manifest_carriers c WHERE c.manifest_id = m.id AND c.carrier_unit_id = ?)", p.UnitID)
	}
	var ids []string
	if err := store.Select(context.Background(), db.Reader(), &ids, `SELECT m.id FROM manifests m WHERE `+
		strings.Join(where, " AND ")+` ORDER BY m.id DESC`, args...); err != nil {
		t.Fatal(err)
	}
	return ids
}
