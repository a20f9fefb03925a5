package demo_test

import (
	"context"
	"slices"
	"sort"
	"testing"
	"time"
	"wufei/internal/calendar"

	"wufei/internal/alerts"
	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/demo"
	"wufei/internal/errs"
	"wufei/internal/hw/ledger"
	"wufei/internal/hw/manifest"
	"wufei/internal/hw/plan"
	"wufei/internal/server"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// TestActivity seeds the demo with its year of activity and checks it from
// outside, through the services and the tables.
func TestActivity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := server.Prepare(ctx, db); err != nil {
			t.Fatal(err)
		}
		if err := demo.Seed(ctx, db, demo.ActivityMinUnits); err != nil {
			t.Fatal(err)
		}
		seeded := store.Now()
		// Manifests are dated in this year, so in its first weeks the demo
		// has only the recent ones: no regular shipments, so nothing
		// completed, refused or corrected yet.
		y := seeded.In(calendar.Zone).Year()
		intoYear := seeded.Sub(time.Date(y, 1, 1, 0, 0, 0, 0, calendar.Zone))
		full := intoYear > 75*24*time.Hour
		as := auth.NewService(db)
		login := func(u string) auth.Principal {
			s, err := as.Login(ctx, u, demo.Password)
			if err != nil {
				t.Fatal(err)
			}
			return s.User.Principal()
		}
		gen, gen2, sthjj := login("gen"), login("gen2"), login("sthjj")
		ms := manifest.NewService(db)

		t.Run("every status", func(t *testing.T) {
			var rows []struct {
				Status string `db:"status"`
				N      int    `db:"n"`
			}
			if err := store.Select(ctx, db.Reader(), &rows, `SELECT status, count(*) AS n FROM manifests GROUP BY status`); err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, r := range rows {
				got[r.Status] = r.N
			}
			want := []manifest.Status{manifest.Draft, manifest.Submitted, manifest.InTransit, manifest.Received,
				manifest.Cancelled}
			if full {
				want = append(want, manifest.Completed, manifest.Refused)
				if got["completed"] < 100 {
					t.Errorf("only %d completed manifests", got["completed"])
				}
			}
			for _, s := range want {
				if got[string(s)] == 0 {
					t.Errorf("no %s manifest: %v", s, got)
				}
			}
		})

		t.Run("gen sees its own through the services", func(t *testing.T) {
			list, _, err := ms.List(ctx, gen, manifest.Filter{Role: "consignor", Limit: 500})
			if err != nil {
				t.Fatal(err)
			}
			statuses := map[manifest.Status]bool{}
			for _, m := range list {
				if m.ConsignorUnitID != gen.UnitID {
					t.Fatalf("gen lists %s of %s", m.Number, m.ConsignorName)
				}
				statuses[m.Status] = true
			}
			if !statuses[manifest.Draft] || !statuses[manifest.Received] || full && (len(list) < 20 || !statuses[manifest.Completed]) {
				t.Fatalf("gen's manifests: %d, statuses %v", len(list), statuses)
			}
			sent := list[slices.IndexFunc(list, func(m manifest.Manifest) bool { return m.Status == manifest.Received })]
			if _, err := ms.Get(ctx, gen2, sent.ID); errs.KindOf(err) != errs.NotFound {
				t.Fatalf("gen2 reads gen's manifest: %v", err)
			}
			if got, err := ms.Get(ctx, sthjj, sent.ID); err != nil || len(got.Steps) < 5 {
				t.Fatalf("sthjj reads gen's manifest: %d steps, %v", len(got.Steps), err)
			}
			page, err := ledger.NewService(db).ListContainers(ctx, gen, ledger.ContainerFilter{Limit: 500})
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, c := range page.Items {
				if c.UnitID != gen.UnitID || len(c.DigitalID) != ledger.DigitalIDLen {
					t.Fatalf("gen lists container %+v", c)
				}
				seen[c.Status] = true
			}
			if len(page.Items) < 50 || !seen[ledger.StatusStored] || full && !seen[ledger.StatusReceived] {
				t.Fatalf("gen's containers: %d, statuses %v", len(page.Items), seen)
			}
		})

		t.Run("alerts raised by the rules", func(t *testing.T) {
			svc := alerts.NewService(db)
			kinds := []string{"storage_age_warning", "storage_age_limit"}
			// The overdue receipt lies three weeks back, inside this year.
			if intoYear > 22*24*time.Hour {
				kinds = append(kinds, "receipt_overdue")
			}
			if full {
				kinds = append(kinds, "weight_discrepancy", "waste_refused", "declaration_overdue")
			}
			for _, k := range kinds {
				got, _, err := svc.List(ctx, sthjj, alerts.Filter{Kind: k, Status: "open"})
				if err != nil || len(got) == 0 {
					t.Errorf("%s: %d open, %v", k, len(got), err)
				}
			}
			// gen's partly refused load, as gen sees it.
			if got, _, err := svc.List(ctx, gen, alerts.Filter{Kind: "waste_refused"}); full && (err != nil || len(got) == 0) {
				t.Errorf("gen's waste_refused: %d, %v", len(got), err)
			}
			// Plans are filed before the deadline but one, so one plan_late
			// stays open.
			if got, _, err := svc.List(ctx, sthjj, alerts.Filter{Kind: "plan_late", Status: "open"}); err != nil || len(got) > 1 {
				t.Errorf("open plan_late: %d, %v", len(got), err)
			}
		})

		t.Run("a year in business time, written at that time", func(t *testing.T) {
			var steps []struct {
				ManifestID string    `db:"manifest_id"`
				Step       int       `db:"step"`
				At         time.Time `db:"at"`
				Logged     time.Time `db:"logged"`
			}
			if err := store.Select(ctx, db.Reader(), &steps, `SELECT s.manifest_id, s.step, s.at, e.at AS logged
				FROM manifest_steps s JOIN audit_entries e ON e.seq = s.audit_seq ORDER BY s.manifest_id, s.step`); err != nil {
				t.Fatal(err)
			}
			// Each step and its audit entry were written in one transaction
			// stamped with the step's business time.
			earliest := seeded.AddDate(-1, 0, 0)
			for i, s := range steps {
				switch {
				case s.At.Before(earliest) || !s.At.Before(seeded):
					t.Fatalf("step %d of %s at %v, outside the past year", s.Step, s.ManifestID, s.At)
				case !s.Logged.Equal(s.At):
					t.Fatalf("step %d of %s at %v, logged at %v", s.Step, s.ManifestID, s.At, s.Logged)
				case i > 0 && steps[i-1].ManifestID == s.ManifestID && !s.At.After(steps[i-1].At):
					t.Fatalf("steps of %s out of order", s.ManifestID)
				}
			}
			months := map[string]bool{}
			var ms []struct {
				Number    string    `db:"number"`
				CreatedAt time.Time `db:"created_at"`
			}
			if err := store.Select(ctx, db.Reader(), &ms, `SELECT number, created_at FROM manifests ORDER BY created_at, number`); err != nil {
				t.Fatal(err)
			}
			numbers := make([]string, len(ms))
			for i, m := range ms {
				numbers[i] = m.Number
				months[m.CreatedAt.In(calendar.Zone).Format("2006-01")] = true
			}
			if !sort.StringsAreSorted(numbers) {
				t.Error("manifest numbers do not run with their dates")
			}
			if n := seeded.In(calendar.Zone).Month(); full && len(months) < min(int(n), 6) {
				t.Errorf("manifests in only %d months", len(months))
			}
			// Batch codes and digital ids carry the business day; a record is
			// written, with its audit entry, when it occurred or, for the
			// outsourced record of a completed manifest, on completion.
			var recs []struct {
				Kind       string    `db:"kind"`
				BatchCode  string    `db:"batch_code"`
				OccurredAt time.Time `db:"occurred_at"`
				CreatedAt  time.Time `db:"created_at"`
				Logged     time.Time `db:"logged"`
			}
			if err := store.Select(ctx, db.Reader(), &recs, `SELECT r.kind, r.batch_code, r.occurred_at, r.created_at,
				e.at AS logged FROM ledger_records r JOIN audit_entries e ON e.seq = r.audit_seq`); err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if r.BatchCode[2:10] != r.OccurredAt.In(calendar.Zone).Format("20060102") || r.OccurredAt.After(seeded) ||
					r.CreatedAt.Before(r.OccurredAt) || !r.Logged.Equal(r.CreatedAt) ||
					r.Kind != string(ledger.KindOutsourced) && !r.CreatedAt.Equal(r.OccurredAt) {
					t.Fatalf("%s record %s occurred %v, written %v, logged %v", r.Kind, r.BatchCode, r.OccurredAt, r.CreatedAt,
						r.Logged)
				}
			}
			var cs []struct {
				DigitalID   string    `db:"digital_id"`
				GeneratedAt time.Time `db:"generated_at"`
				UpdatedAt   time.Time `db:"updated_at"`
			}
			if err := store.Select(ctx, db.Reader(), &cs, `SELECT digital_id, generated_at, updated_at FROM containers`); err != nil {
				t.Fatal(err)
			}
			for _, c := range cs {
				if c.DigitalID[26:34] != c.GeneratedAt.In(calendar.Zone).Format("20060102") || c.UpdatedAt.Before(c.GeneratedAt) ||
					c.UpdatedAt.After(seeded) {
					t.Fatalf("container %s generated %v, updated %v", c.DigitalID, c.GeneratedAt, c.UpdatedAt)
				}
			}
		})

		t.Run("refusal, revision, cross-province", func(t *testing.T) {
			var n struct {
				FollowUps int `db:"follow_ups"`
				Revised   int `db:"revised"`
				Cross     int `db:"cross_province"`
			}
			if err := store.Get(ctx, db.Reader(), &n, `SELECT
				(SELECT count(*) FROM manifests m JOIN manifests p ON p.id = m.previous_id
					WHERE p.status = 'refused' AND m.status = 'completed') AS follow_ups,
				(SELECT count(*) FROM manifest_steps WHERE action = 'revise') AS revised,
				(SELECT count(*) FROM manifests WHERE cross_province = ? AND approval_id <> '' AND status = 'completed')
					AS cross_province`, true); err != nil {
				t.Fatal(err)
			}
			if full && (n.FollowUps != 1 || n.Revised != 1 || n.Cross == 0) {
				t.Fatalf("%+v", n)
			}
		})

		t.Run("declarations, one left overdue", func(t *testing.T) {
			sc, err := plan.NewService(db).Schedule(ctx, gen, "", 0, seeded)
			if err != nil {
				t.Fatal(err)
			}
			var overdue, late []string
			submitted := 0
			for _, it := range sc.Items {
				switch it.Status {
				case plan.Overdue:
					overdue = append(overdue, it.Key)
				case plan.Late:
					late = append(late, it.Key)
				case plan.Submitted:
					submitted++
				}
			}
			if sc.Class != plan.Key || len(overdue) > 1 || len(late) > 0 {
				t.Fatalf("gen's schedule: class %s, overdue %v, late %v", sc.Class, overdue, late)
			}
			if full && (len(overdue) != 1 || submitted == 0) {
				t.Fatalf("gen's schedule: overdue %v, %d submitted", overdue, submitted)
			}
		})

		t.Run("audit log verifies", func(t *testing.T) {
			rep, err := audit.Verify(ctx, db, "")
			if err != nil || !rep.OK {
				t.Fatalf("%v %v", rep, err)
			}
		})
	})
}

// TestSmallSeedIsBare: the seeds tests use stay a registry without activity.
func TestSmallSeedIsBare(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := server.Prepare(ctx, db); err != nil {
			t.Fatal(err)
		}
		if err := demo.Seed(ctx, db, 5); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"manifests", "containers", "plans", "alerts"} {
			var n int
			if err := store.Get(ctx, db.Reader(), &n, `SELECT count(*) FROM `+table); err != nil || n != 0 {
				t.Errorf("%s: %d rows, %v", table, n, err)
			}
		}
	})
}
