package indicator

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"
	"wufei/internal/calendar"

	"wufei/internal/jobs"
	"wufei/internal/store"
)

// Computed values are a projection of records the audit log already holds
// (ledger records, manifests, cells), like ledger_stock: a refresh rewrites
// them and appends no audit entry of its own. That also keeps the audit
// sequence — which tells a read whether records changed — still while it
// runs.
//
// indicator_marks records, per region, period and group of computed
// indicators, the audit sequence number and time of the last refresh. An
// audit entry of the group's records (see groups) appended for the region
// since then makes the group stale.

// DefaultRecordsLag is how long a read leaves stale ledger and manifest
// figures to the scheduled refresh before recomputing them itself.
const DefaultRecordsLag = 5 * time.Minute

// Refresh recomputes every computed indicator of one region and period from
// the platform's records and stores the values in indicator_values. It
// computes on the read pool and writes in one short transaction.
func Refresh(ctx context.Context, db *store.DB, region, period string) error {
	q := db.Reader()
	a, err := LoadArea(ctx, q, "region", region)
	if err != nil {
		return err
	}
	p, err := ParsePeriod("period", period)
	if err != nil {
		return err
	}
	return refreshGroups(ctx, db, a, p, []string{groupRecords, groupCells, groupStreams})
}

// refreshGroups recomputes the indicators of some groups for an area and
// period and moves their marks.
func refreshGroups(ctx context.Context, db *store.DB, a Area, p Period, gs []string) error {
	q := db.Reader()
	var seq int64 // read first: a change made while computing is seen next time
	if err := store.Get(ctx, q, &seq, `SELECT seq FROM audit_head WHERE id = 1`); err != nil {
		return err
	}
	ids := computedIDs(gs...)
	cs, err := computeAll(ctx, newCalc(q), a, p, ids)
	if err != nil {
		return err
	}
	return db.Tx(ctx, func(tx *store.Tx) error {
		for _, id := range ids {
			if err := storeComputed(ctx, tx, id, a, p, cs[id]); err != nil {
				return err
			}
		}
		for _, g := range gs {
			if _, err := store.Exec(ctx, tx, `INSERT INTO indicator_marks (region_code, period, grp, audit_seq, refreshed_at)
				VALUES (?, ?, ?, ?, ?) ON CONFLICT (region_code, period, grp) DO UPDATE SET audit_seq = excluded.audit_seq,
				refreshed_at = excluded.refreshed_at`, a.Code, p.Code, g, seq, tx.Now); err != nil {
				return err
			}
		}
		return nil
	})
}

// computedIDs lists the engine's indicators of the groups in a fixed order;
// the intensity reads an approved value, never another computed one, so
// any order works.
func computedIDs(gs ...string) []string {
	var ids []string
	for id, e := range engine {
		if slices.Contains(gs, e.group) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

func computeAll(ctx context.Context, c *calc, a Area, p Period, ids []string) (map[string]Computation, error) {
	out := make(map[string]Computation, len(ids))
	for _, id := range ids {
		v, err := engine[id].fn(ctx, c, a, p, false)
		if err != nil {
			return nil, fmt.Errorf("indicator: compute %s for %s %s: %w", id, a.Code, p.Code, err)
		}
		out[id] = v
	}
	return out, nil
}

// storeComputed writes one computed value; NULL says "computed, no records".
func storeComputed(ctx context.Context, tx *store.Tx, id string, a Area, p Period, c Computation) error {
	_, err := store.Exec(ctx, tx, `INSERT INTO indicator_values (indicator_id, region_code, period, period_kind, year,
		value_e6, numerator_e6, denominator_e6, source, report_id, computed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?)
		ON CONFLICT (indicator_id, region_code, period) DO UPDATE SET value_e6 = excluded.value_e6,
		numerator_e6 = excluded.numerator_e6, denominator_e6 = excluded.denominator_e6, source = excluded.source,
		computed_at = excluded.computed_at`,
		id, a.Code, p.Code, p.Kind, p.Year, c.value, c.num, c.den, valueSourceComputed, tx.Now)
	return err
}

// refreshTx recomputes some computed indicators inside a transaction that
// has just changed what they read (an approved industrial output value).
func refreshTx(ctx context.Context, tx *store.Tx, a Area, p Period, ids ...string) error {
	cs, err := computeAll(ctx, newCalc(tx), a, p, ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := storeComputed(ctx, tx, id, a, p, cs[id]); err != nil {
			return err
		}
	}
	return nil
}

// RecentPeriods are the periods the scheduled refresh keeps current at now:
// this year and last, this quarter and last, this month and last.
func RecentPeriods(now time.Time) []string {
	t := now.In(calendar.Zone)
	lastQ := t.AddDate(0, -3, 0)
	lastM := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, calendar.Zone).AddDate(0, -1, 0)
	return []string{fmt.Sprint(t.Year()), fmt.Sprint(t.Year() - 1), QuarterOf(t), QuarterOf(lastQ), MonthOf(t), MonthOf(lastM)}
}

// RefreshRecent refreshes the recent periods of every area whose records
// changed since their last refresh, and returns how many region-periods it
// refreshed.
func RefreshRecent(ctx context.Context, db *store.DB, now time.Time) (int, error) {
	areas, err := Areas(ctx, db.Reader())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range areas {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		k, err := refreshStale(ctx, db, a, RecentPeriods(now), staleness{bump: true})
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// RefreshRule is the scheduled rule that keeps recent computed values
// current, for registering with the server's scheduler.
func RefreshRule(db *store.DB, every time.Duration) jobs.Rule {
	return jobs.Rule{Name: "indicator_refresh", Every: every, Run: func(ctx context.Context, now time.Time) error {
		n, err := RefreshRecent(ctx, db, now)
		slog.Debug("jobs: indicator values refreshed", "periods", n)
		return err
	}}
}

// checked remembers, per node, up to which audit sequence number a region,
// period and group was found unchanged, so that reads do not scan the same
// audit entries again.
type checked struct {
	mu  sync.Mutex
	seq map[string]int64
}

func (c *checked) get(key string) int64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seq[key]
}

func (c *checked) set(key string, seq int64) {
	if c != nil {
		c.mu.Lock()
		c.seq[key] = seq
		c.mu.Unlock()
	}
}

// staleness says how refreshStale treats what it finds.
type staleness struct {
	seen *checked      // remembers unchanged groups (reads)
	lag  time.Duration // a records group refreshed less than lag ago waits for the scheduled refresh
	bump bool          // move the marks of unchanged groups forward (the scheduled refresh)
}

// refreshStale refreshes, for each period of an area, the groups whose
// records changed since their last refresh (or that were never computed),
// and returns how many periods it refreshed.
func refreshStale(ctx context.Context, db *store.DB, a Area, periods []string, st staleness) (int, error) {
	q := db.Reader()
	var head int64
	if err := store.Get(ctx, q, &head, `SELECT seq FROM audit_head WHERE id = 1`); err != nil {
		return 0, err
	}
	var marks []struct {
		Period string    `db:"period"`
		Group  string    `db:"grp"`
		Seq    int64     `db:"audit_seq"`
		At     time.Time `db:"refreshed_at"`
	}
	query, args, err := store.In(`SELECT period, grp, audit_seq, refreshed_at FROM indicator_marks
		WHERE region_code = ? AND period IN (?)`, a.Code, periods)
	if err != nil {
		return 0, err
	}
	if err := store.Select(ctx, q, &marks, query, args...); err != nil {
		return 0, err
	}
	type mark struct {
		seq int64
		at  time.Time
		ok  bool
	}
	have := map[string]mark{}
	for _, m := range marks {
		have[m.Period+" "+m.Group] = mark{m.Seq, m.At, true}
	}
	// Entries of the area's regions, or of none. A park's units are
	// registered under the county the park lies in: for a park, the
	// county's entries.
	scope := a
	if a.Level == "park" {
		if scope, err = LoadArea(ctx, q, "region", a.Parent); err != nil {
			return 0, err
		}
	}
	regionCond, regionArgs := scope.cond("region_code", "")
	n := 0
	for _, code := range periods {
		var stale, unchanged []string
		for _, g := range groups {
			key := a.Code + " " + code + " " + g.name
			m := have[code+" "+g.name]
			from := max(m.seq, st.seen.get(key))
			switch {
			case !m.ok:
				stale = append(stale, g.name)
				continue
			case from >= head:
				continue
			}
			// Whether anything changed, not how much: the scan stops at the
			// first relevant entry.
			var changed int
			if err := store.Get(ctx, q, &changed, `SELECT count(*) FROM (SELECT 1 FROM audit_entries WHERE seq > ? AND seq <= ?
				AND `+g.relevant+` AND (region_code = '' OR `+regionCond+`) LIMIT 1) x`,
				append([]any{from, head}, regionArgs...)...); err != nil {
				return n, err
			}
			switch {
			case changed == 0:
				st.seen.set(key, head)
				unchanged = append(unchanged, g.name)
			case g.name == groupRecords && st.lag > 0 && time.Since(m.at) < st.lag:
				// Summing the ledgers again is the scheduled refresh's work.
			default:
				stale = append(stale, g.name)
			}
		}
		if st.bump && len(unchanged) > 0 {
			query, args, err := store.In(`UPDATE indicator_marks SET audit_seq = ? WHERE region_code = ? AND period = ?
				AND grp IN (?) AND audit_seq < ?`, head, a.Code, code, unchanged, head)
			if err != nil {
				return n, err
			}
			if err := db.Tx(ctx, func(tx *store.Tx) error {
				_, err := store.Exec(ctx, tx, query, args...)
				return err
			}); err != nil {
				return n, err
			}
		}
		if len(stale) == 0 {
			continue
		}
		p, err := ParsePeriod("period", code)
		if err != nil {
			return n, err
		}
		if err := refreshGroups(ctx, db, a, p, stale); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
