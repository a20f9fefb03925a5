package manifest_test

import (
	"context"
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
		for _, s := range []string{"submitted", "in_transit", "received", "completed", "cancelled"} {
			filters = append(filters, manifest.Filter{Status: s})
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
