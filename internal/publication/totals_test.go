package publication_test

import (
	"context"
	"testing"
	"time"

	"wufei/internal/calendar"
	"wufei/internal/demo"
	"wufei/internal/hw/volumes"
	"wufei/internal/publication"
	"wufei/internal/server"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

type row struct {
	K                   string `db:"k"`
	A, B, C, D, E, F, G int64
}

// TestTotalsAnswerAsRecords checks that the publication's hazardous-waste
// figures read from the monthly totals (hw_volumes) are those summed from
// the ledger and the manifests, for this year and last, on the demo.
func TestTotalsAnswerAsRecords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := server.Prepare(ctx, db); err != nil {
			t.Fatal(err)
		}
		if err := demo.Seed(ctx, db, demo.ActivityMinUnits); err != nil {
			t.Fatal(err)
		}
		q := db.Reader()
		y := time.Now().In(calendar.Zone).Year()
		read := func(sql string, args ...any) map[string]row {
			t.Helper()
			var rs []struct {
				K string `db:"k"`
				A int64  `db:"a"`
				B int64  `db:"b"`
				C int64  `db:"c"`
				D int64  `db:"d"`
				E int64  `db:"e"`
				F int64  `db:"f"`
				G int64  `db:"g"`
			}
			if err := store.Select(ctx, q, &rs, sql, args...); err != nil {
				t.Fatal(err)
			}
			out := map[string]row{}
			for _, r := range rs {
				out[r.K] = row{r.K, r.A, r.B, r.C, r.D, r.E, r.F, r.G}
			}
			return out
		}
		compare := func(what string, year int, got, want map[string]row) {
			t.Helper()
			if len(want) == 0 && year == y {
				t.Errorf("%s: nothing in the records to compare", what)
			}
			for k, w := range want {
				if got[k] != w {
					t.Errorf("%s %s: totals %+v, records %+v", what, k, got[k], w)
				}
			}
			for k, g := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("%s %s: totals %+v, records nothing", what, k, g)
				}
			}
		}
		for _, year := range []int{y, y - 1} {
			from := time.Date(year, 1, 1, 0, 0, 0, 0, calendar.Zone).UTC()
			to := from.AddDate(1, 0, 0)
			first, last := volumes.Months(from, to)
			compare("ledger", year, read(publication.LedgerTotals, first, first, first, last),
				read(publication.HazardousLedgerQuery, from, from, from, to))
			compare("manifests", year, read(publication.ManifestTotals, first, last), read(publication.HazardousManifestQuery, from, to))
			compare("receivers", year, read(publication.ReceiverTotals, first, last),
				read(`SELECT m.receiver_unit_id AS k, SUM(COALESCE(l.accepted_g, 0)) AS a,
				SUM(CASE WHEN l.method LIKE 'R%' OR l.method LIKE 'C%' THEN COALESCE(l.accepted_g, 0) ELSE 0 END) AS b,
				SUM(CASE WHEN l.method <> '' AND l.method NOT LIKE 'R%' AND l.method NOT LIKE 'C%' THEN COALESCE(l.accepted_g, 0)
				ELSE 0 END) AS c
				FROM manifests m JOIN manifest_lines l ON l.manifest_id = m.id
				WHERE m.status = 'completed' AND m.received_at >= ? AND m.received_at < ? GROUP BY m.receiver_unit_id`, from, to))
			r, err := publication.Annual(ctx, q, year)
			if err != nil {
				t.Fatal(err)
			}
			if year == y && (r.Tables[0].Key != "hazardous" || len(r.Tables[0].Rows) == 0 || r.Tables[0].Total.Values[0] <= 0) {
				t.Errorf("the hazardous table of %d: %+v", year, r.Tables[0])
			}
		}
	})
}
