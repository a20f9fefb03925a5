package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/hw/manifest"
	"wufei/internal/program/indicator"
	"wufei/internal/store"
)

// reader measures each read over HTTP and, raw, the same SQL straight
// through database/sql in this process.
type reader struct {
	ctx     context.Context
	c       *Client
	q       store.Querier
	n       int
	clients int // callers at once
	p       Parties
	unitTok string
	sm      sample
}

// figure is one read: its request and its raw SQL, both for the i-th call.
type figure struct {
	name string
	dst  *Compared
	http func(i int) (token, path string)
	raw  func(ctx context.Context, i int) error
}

func (r reader) all(s *ReadsSummary) error {
	sm := r.sm
	if len(sm.numbers) == 0 {
		return errors.New("bench: the database holds no manifest past its draft to trace")
	}
	year := strconv.Itoa(sm.year)
	number := func(i int) string { return sm.numbers[i%len(sm.numbers)] }
	area := func(i int) [2]string { return sm.areas[(i*7919)%len(sm.areas)] }
	unit := auth.Principal{Role: auth.UnitMember, UnitID: sm.unit}
	filtered := manifest.Filter{Status: "completed", Year: sm.year}
	flows := flowQueries(sm.year)
	figures := []figure{
		{"trace", &s.Trace,
			func(i int) (string, string) { return r.p.Regulator, "/api/v1/trace/" + number(i) },
			func(ctx context.Context, i int) error { return rawTrace(ctx, r.q, number(i)) }},
		{"manifest list", &s.ManifestList,
			func(int) (string, string) { return r.p.Regulator, "/api/v1/manifests?limit=50" },
			func(ctx context.Context, _ int) error { return rawList(ctx, r.q, sm.regulator, manifest.Filter{}) }},
		{"manifest list, filtered", &s.ManifestListFiltered,
			func(int) (string, string) {
				return r.p.Regulator, query("/api/v1/manifests", "limit", "50", "status", "completed", "year", year, "waste_code", sm.code)
			},
			func(ctx context.Context, _ int) error {
				f := filtered
				f.WasteCode = sm.code
				return rawList(ctx, r.q, sm.regulator, f)
			}},
		{"manifest list, a rare status", &s.ManifestListRare,
			func(int) (string, string) { return r.p.Regulator, "/api/v1/manifests?limit=50&status=refused" },
			func(ctx context.Context, _ int) error {
				return rawList(ctx, r.q, sm.regulator, manifest.Filter{Status: "refused"})
			}},
		{"unit's manifest list", &s.UnitManifestList,
			func(int) (string, string) { return r.unitTok, "/api/v1/manifests?limit=50" },
			func(ctx context.Context, _ int) error { return rawList(ctx, r.q, unit, manifest.Filter{}) }},
		{"unit's manifest list, filtered", &s.UnitManifestListFiltered,
			func(int) (string, string) {
				return r.unitTok, query("/api/v1/manifests", "limit", "50", "role", "consignor", "status", "completed", "year", year)
			},
			func(ctx context.Context, _ int) error {
				f := filtered
				f.Role = "consignor"
				return rawList(ctx, r.q, unit, f)
			}},
		{"indicators", &s.Indicators,
			func(i int) (string, string) {
				a := area(i)
				return r.p.Regulator, query("/api/v1/indicators", "region", a[0], "year", a[1])
			},
			func(ctx context.Context, i int) error {
				a := area(i)
				y, _ := strconv.Atoi(a[1])
				_, err := drain(ctx, r.q, indicator.ValuesQuery, []any{a[0], y, a[1]}, nil)
				return err
			}},
		{"dashboard flows", &s.DashboardFlows,
			func(int) (string, string) { return r.p.Regulator, query("/api/v1/dashboard/flows", "period", year) },
			func(ctx context.Context, _ int) error {
				for _, f := range flows {
					if _, err := drain(ctx, r.q, f.query, f.args, nil); err != nil {
						return err
					}
				}
				return nil
			}},
	}
	// Every region and year once first, so that no measured read pays for an
	// indicator refresh the scheduled job would otherwise have made.
	for _, a := range sm.areas {
		if err := r.c.Call(r.ctx, r.p.Regulator, "GET", query("/api/v1/indicators", "region", a[0], "year", a[1]), "", nil); err != nil {
			return err
		}
	}
	for _, f := range figures {
		c, err := r.compare(f)
		if err != nil {
			return fmt.Errorf("bench: %s: %w", f.name, err)
		}
		*f.dst = c
	}
	return r.proofs(s)
}

// compare warms both sides up, then measures the raw SQL and the request,
// each n times over r.clients callers.
func (r reader) compare(f figure) (Compared, error) {
	get := func(ctx context.Context, i int) error {
		token, path := f.http(i)
		return r.c.Call(ctx, token, "GET", path, "", nil)
	}
	warm := min(r.n/10+1, 50)
	for _, fn := range []func(context.Context, int) error{get, f.raw} {
		if _, err := timed(r.ctx, warm, r.clients, fn); err != nil {
			return Compared{}, err
		}
	}
	raw, err := timed(r.ctx, r.n, r.clients, f.raw)
	if err != nil {
		return Compared{}, err
	}
	http, err := timed(r.ctx, r.n, r.clients, get)
	if err != nil {
		return Compared{}, err
	}
	return compared(http, raw), nil
}

// proofs measures inclusion proofs of random entries against the signed
// checkpoint, which is made first so that no measured request signs one.
func (r reader) proofs(s *ReadsSummary) error {
	var cp struct {
		Size int64 `json:"size"`
	}
	if err := r.c.Call(r.ctx, r.p.Regulator, "GET", "/api/v1/audit/checkpoint", "", &cp); err != nil {
		return err
	}
	if cp.Size == 0 {
		return errors.New("bench: the audit log is empty")
	}
	rng := rand.New(rand.NewPCG(uint64(cp.Size), 2))
	seqs := make([]int64, r.n)
	for i := range seqs {
		seqs[i] = 1 + rng.Int64N(cp.Size)
	}
	c, err := r.compare(figure{name: "audit proof",
		http: func(i int) (string, string) {
			return r.p.Regulator, "/api/v1/audit/entries/" + strconv.FormatInt(seqs[i%len(seqs)], 10)
		},
		raw: func(ctx context.Context, i int) error { return rawProof(ctx, r.q, cp.Size, seqs[i%len(seqs)]) }})
	s.AuditProof = c
	return err
}

// The manifest list's columns and joins, as the manifest package reads them.
const (
	manifestColumns = `m.id, m.number, m.year, m.status, m.consignor_unit_id, cu.name AS consignor_name, m.receiver_unit_id,
	ru.name AS receiver_name, m.region_code, m.receiver_region_code, m.cross_province, m.approval_id, m.route_id,
	m.previous_id, m.emergency_measures, m.note, m.warnings, m.submitted_at, m.picked_up_at, m.arrived_at, m.receipt_due_at,
	m.received_at, m.completed_at, m.closed_at, m.created_at, m.updated_at, m.version`
	manifestFrom = ` FROM manifests m JOIN units cu ON cu.id = m.consignor_unit_id JOIN units ru ON ru.id = m.receiver_unit_id`
	pageLines    = `SELECT manifest_id, line_no, waste_code, category, name, official_name, quantity_g, form,
	characteristics, packaging, package_count, container_ids, received_g, accepted_g, refused_g, refusal_reason, method,
	approval_id FROM manifest_lines WHERE manifest_id IN (?) ORDER BY manifest_id, line_no`
	pageLegs = `SELECT mc.manifest_id, mc.leg, mc.carrier_unit_id, u.name AS carrier_name, mc.vehicle_plate,
	mc.picked_up_at FROM manifest_carriers mc JOIN units u ON u.id = mc.carrier_unit_id WHERE mc.manifest_id IN (?)
	ORDER BY mc.manifest_id, mc.leg`
)

// rawList reads a page of 50 manifests under cond, then its lines and
// legs, as the list does.
func rawList(ctx context.Context, q store.Querier, p auth.Principal, f manifest.Filter) error {
	var ids []string
	query, args := manifest.ListQuery(p, f, 51)
	if _, err := drain(ctx, q, query, args, func(id string) { ids = append(ids, id) }); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	ids = ids[:min(len(ids), 50)]
	for _, page := range []string{pageLines, pageLegs} {
		query, args, err := store.In(page, ids)
		if err != nil {
			return err
		}
		if _, err := drain(ctx, q, query, args, nil); err != nil {
			return err
		}
	}
	return nil
}

// rawTrace reads a manifest by number with its lines, legs and steps, then its
// containers and the ledger records naming them, as the trace does.
func rawTrace(ctx context.Context, q store.Querier, number string) error {
	var id string
	if _, err := drain(ctx, q, `SELECT `+manifestColumns+manifestFrom+` WHERE m.number = ?`, []any{number},
		func(s string) { id = s }); err != nil {
		return err
	}
	if id == "" {
		return fmt.Errorf("manifest %s not found", number)
	}
	var containers []string
	if _, err := drain(ctx, q, `SELECT container_ids, * FROM manifest_lines WHERE manifest_id = ? ORDER BY line_no`, []any{id},
		func(s string) { containers = append(containers, s) }); err != nil {
		return err
	}
	for _, query := range []string{
		`SELECT * FROM manifest_carriers mc JOIN units u ON u.id = mc.carrier_unit_id WHERE mc.manifest_id = ? ORDER BY mc.leg`,
		`SELECT * FROM manifest_steps WHERE manifest_id = ? ORDER BY step`,
	} {
		if _, err := drain(ctx, q, query, []any{id}, nil); err != nil {
			return err
		}
	}
	ids := strings.FieldsFunc(strings.Join(containers, ","), func(r rune) bool { return r == ',' })
	if len(ids) == 0 {
		return nil
	}
	var records []string
	for _, step := range []struct {
		query string
		first func(string)
	}{
		{`SELECT * FROM containers WHERE digital_id IN (?)`, nil},
		{`SELECT record_id, digital_id FROM ledger_containers WHERE digital_id IN (?)`,
			func(s string) { records = append(records, s) }},
	} {
		query, args, err := store.In(step.query, ids)
		if err != nil {
			return err
		}
		if _, err := drain(ctx, q, query, args, step.first); err != nil {
			return err
		}
	}
	if len(records) == 0 {
		return nil
	}
	slices.Sort(records)
	query, args, err := store.In(`SELECT * FROM ledger_records WHERE origin_id IN (?) ORDER BY audit_seq`, slices.Compact(records))
	if err != nil {
		return err
	}
	_, err = drain(ctx, q, query, args, nil)
	return err
}

// rawProof reads entry seq and the latest checkpoint, and proves the entry
// in the tree of the given size from the stored hashes.
func rawProof(ctx context.Context, q store.Querier, size, seq int64) error {
	if n, err := drain(ctx, q, `SELECT * FROM audit_entries WHERE seq = ?`, []any{seq}, nil); err != nil || n != 1 {
		return fmt.Errorf("audit entry %d: %d rows, %v", seq, n, err)
	}
	if _, err := drain(ctx, q, `SELECT size, root, note FROM audit_checkpoints ORDER BY size DESC LIMIT 1`, nil, nil); err != nil {
		return err
	}
	_, err := tlog.ProveRecord(size, seq-1, tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		query, args, err := store.In(`SELECT idx, hash FROM audit_tree WHERE idx IN (?)`, indexes)
		if err != nil {
			return nil, err
		}
		rows, err := q.QueryContext(ctx, q.Rebind(query), args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		got := map[int64]tlog.Hash{}
		for rows.Next() {
			var idx int64
			var h []byte
			if err := rows.Scan(&idx, &h); err != nil {
				return nil, err
			}
			if len(h) != tlog.HashSize {
				return nil, fmt.Errorf("audit tree hash %d: %d bytes", idx, len(h))
			}
			got[idx] = tlog.Hash(h)
		}
		out := make([]tlog.Hash, len(indexes))
		for i, idx := range indexes {
			out[i] = got[idx]
		}
		return out, rows.Err()
	}))
	return err
}

type statement struct {
	query string
	args  []any
}

// flowQueries are the monthly flows' statements for a city-wide regulator
// and a year, as the dashboard runs them: one read of the monthly totals.
func flowQueries(year int) []statement {
	return []statement{{`SELECT v.month, v.kind, v.region_code, v.category, v.method, SUM(v.g) AS g
		FROM hw_volumes v WHERE v.kind IN ('generation', 'in_house', 'transferred', 'completed') AND v.month >= ? AND v.month <= ?
		GROUP BY v.month, v.kind, v.region_code, v.category, v.method`,
		[]any{fmt.Sprintf("%04d-01", year), fmt.Sprintf("%04d-12", year)}}}
}

// drain runs a query and takes every row's values as the driver gives
// them, without decoding into types: the engine's part of a read. first,
// if set, receives each row's first column.
func drain(ctx context.Context, q store.Querier, query string, args []any, first func(string)) (int, error) {
	rows, err := q.QueryxContext(ctx, q.Rebind(query), args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	vals, ptrs := make([]any, len(cols)), make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		if first != nil {
			switch v := vals[0].(type) {
			case string:
				first(v)
			case []byte:
				first(string(v))
			default:
				first(fmt.Sprint(v))
			}
		}
		n++
	}
	return n, rows.Err()
}

// verifyRate verifies the whole audit log, against the engine reading the
// same entries and tree rows in the same batches, with as many readers at
// once as Verify uses, without checking them.
func verifyRate(ctx context.Context, db *store.DB) (Rate, error) {
	t := time.Now()
	rep, err := audit.Verify(ctx, db, "")
	if err != nil {
		return Rate{}, err
	}
	if !rep.OK {
		return Rate{}, fmt.Errorf("bench: audit verify: %s", rep)
	}
	took := time.Since(t)
	n := int64(audit.VerifyReaders())
	t = time.Now()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for w := range n {
		wg.Go(func() { errs[w] = readBatches(ctx, db, w, n, rep.Size) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return Rate{}, err
	}
	return newRate(rep.Entries, took, time.Since(t)), nil
}

// readBatches reads the w-th of every n batches of entries 1..size and
// their tree rows.
func readBatches(ctx context.Context, db *store.DB, w, n, size int64) error {
	const batch = 1000
	for lo := 1 + w*batch; lo <= size; lo += n * batch {
		hi := min(lo+batch-1, size)
		if _, err := drain(ctx, db.Reader(), `SELECT * FROM audit_entries WHERE seq >= ? AND seq <= ? ORDER BY seq`,
			[]any{lo, hi}, nil); err != nil {
			return err
		}
		if _, err := drain(ctx, db.Reader(), `SELECT idx, hash FROM audit_tree WHERE idx >= ? AND idx < ? ORDER BY idx`,
			[]any{tlog.StoredHashIndex(0, lo-1), tlog.StoredHashIndex(0, hi)}, nil); err != nil {
			return err
		}
	}
	return nil
}
