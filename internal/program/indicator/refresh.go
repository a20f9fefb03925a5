package indicator

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"wufei/internal/jobs"
	"wufei/internal/store"
)

// Computed values are a projection of records the audit log already holds
// (ledger records, manifests, cells), like ledger_stock: a refresh rewrites
// them and appends no audit entry of its own. That also keeps the audit
// sequence — which tells a read whether records changed — still while it
// runs.

// Refresh recomputes the computed indicators of one region and period from
// the platform's records and stores them in indicator_values. It computes
// on the read pool and writes in one short transaction.
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
	var seq int64 // read first: a change made while computing is seen next time
	if err := store.Get(ctx, q, &seq, `SELECT seq FROM audit_head WHERE id = 1`); err != nil {
		return err
	}
	cs, err := computeAll(ctx, q, a, p, computedIDs())
	if err != nil {
		return err
	}
	return db.Tx(ctx, func(tx *store.Tx) error {
		for _, id := range computedIDs() {
			if err := storeComputed(ctx, tx, id, a, p, cs[id]); err != nil {
				return err
			}
		}
		_, err := store.Exec(ctx, tx, `INSERT INTO indicator_marks (region_code, period, audit_seq, refreshed_at)
			VALUES (?, ?, ?, ?) ON CONFLICT (region_code, period) DO UPDATE SET audit_seq = excluded.audit_seq,
			refreshed_at = excluded.refreshed_at`, a.Code, p.Code, seq, tx.Now)
		return err
	})
}

// computedIDs lists the engine's indicators in a fixed order; the intensity
// reads an approved value, never another computed one, so any order works.
func computedIDs() []string {
	ids := make([]string, 0, len(engine))
	for id := range engine {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func computeAll(ctx context.Context, q store.Querier, a Area, p Period, ids []string) (map[string]Computation, error) {
	out := make(map[string]Computation, len(ids))
	for _, id := range ids {
		c, err := engine[id](ctx, q, a, p, false)
		if err != nil {
			return nil, fmt.Errorf("indicator: compute %s for %s %s: %w", id, a.Code, p.Code, err)
		}
		out[id] = c
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
	cs, err := computeAll(ctx, tx, a, p, ids)
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
	t := now.In(cst)
	lastQ := t.AddDate(0, -3, 0)
	lastM := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, cst).AddDate(0, -1, 0)
	return []string{fmt.Sprint(t.Year()), fmt.Sprint(t.Year() - 1), QuarterOf(t), QuarterOf(lastQ), MonthOf(t), MonthOf(lastM)}
}

// RefreshRecent refreshes the recent periods of every area whose records
// changed since their last refresh, and returns how many it refreshed.
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
		k, err := refreshStale(ctx, db, a, RecentPeriods(now), nil, true)
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// relevant is the condition on audit entries whose records computed values
// read: ledger records, manifests, zero-waste cells, and units (a unit
// joining a park moves its records into the park's figures).
const relevant = `(entity IN ('ledger_record', 'manifest', 'unit') OR entity LIKE '%cell%')`

// checked remembers, per node, up to which audit sequence number a region
// and period was found to need no refresh, so that reads do not scan the
// same audit entries again.
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

// refreshStale refreshes those periods of an area whose records changed
// since their last refresh: never refreshed, or audit entries of relevant
// records appended since. A period found unchanged is remembered in seen
// and, with bump, its mark is moved up so that the next look scans less.
// It returns how many periods it refreshed.
func refreshStale(ctx context.Context, db *store.DB, a Area, periods []string, seen *checked, bump bool) (int, error) {
	q := db.Reader()
	var head int64
	if err := store.Get(ctx, q, &head, `SELECT seq FROM audit_head WHERE id = 1`); err != nil {
		return 0, err
	}
	var marks []struct {
		Period string `db:"period"`
		Seq    int64  `db:"audit_seq"`
	}
	query, args, err := store.In(`SELECT period, audit_seq FROM indicator_marks WHERE region_code = ? AND period IN (?)`,
		a.Code, periods)
	if err != nil {
		return 0, err
	}
	if err := store.Select(ctx, q, &marks, query, args...); err != nil {
		return 0, err
	}
	mark := map[string]int64{}
	for _, m := range marks {
		mark[m.Period] = m.Seq
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
	c, wargs := scope.cond("region_code", "")
	where := ` AND (region_code = '' OR ` + c + `)`
	n := 0
	for _, code := range periods {
		key := a.Code + " " + code
		m, ok := mark[code]
		m = max(m, seen.get(key))
		if ok && m >= head {
			continue
		}
		if ok {
			var changed int
			if err := store.Get(ctx, q, &changed, `SELECT count(*) FROM audit_entries WHERE seq > ? AND seq <= ? AND `+
				relevant+where, append([]any{m, head}, wargs...)...); err != nil {
				return n, err
			}
			if changed == 0 {
				seen.set(key, head)
				if bump {
					if err := db.Tx(ctx, func(tx *store.Tx) error {
						_, err := store.Exec(ctx, tx, `UPDATE indicator_marks SET audit_seq = ?
							WHERE region_code = ? AND period = ? AND audit_seq < ?`, head, a.Code, code, head)
						return err
					}); err != nil {
						return n, err
					}
				}
				continue
			}
		}
		if err := Refresh(ctx, db, a.Code, code); err != nil {
			return n, err
		}
		n++
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
