package dashboard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"wufei/internal/auth"
	"wufei/internal/hw/volumes"
	"wufei/internal/store"
)

// The flows, the categories and the regions compared read the period's
// quantities by month, category, county and flow kind. For the city, a
// county and their regulators they come from the monthly totals kept with
// the records (hw_volumes, decision 0014): a few hundred rows a month
// whatever the ledger's size. A viewer bound to a unit, a park's regulator
// and a park filter read the records themselves, through the indexes on
// the unit: a park is a set of units, and a unit may change park.

// volumes reads the period's quantities for the viewer, once per request
// in a Shared context.
func (s *Service) volumes(ctx context.Context, p auth.Principal, q query) ([]volume, error) {
	m, _ := ctx.Value(sharedKey{}).(*shared)
	key := fmt.Sprint(p.UserID, p.Role, p.UnitID, p.RegionCode, q.area.Code, q.period.Code, q.Category)
	if m != nil {
		m.mu.Lock()
		defer m.mu.Unlock()
		if vs, ok := m.volumes[key]; ok {
			return vs, nil
		}
	}
	vs, err := s.readVolumes(ctx, p, q)
	if err == nil && m != nil {
		m.volumes[key] = vs
	}
	return vs, err
}

func (s *Service) readVolumes(ctx context.Context, p auth.Principal, q query) ([]volume, error) {
	sc, err := s.summedScope(ctx, p, q)
	if err != nil {
		return nil, err
	}
	if sc == nil {
		return s.countedVolumes(ctx, p, q)
	}
	return s.summedVolumes(ctx, q, *sc)
}

type sharedKey struct{}

type shared struct {
	mu      sync.Mutex
	volumes map[string][]volume
}

// Shared returns a context in which the figures that read the same
// quantities — the flows, the categories, the regions — read them once: a
// page showing them all passes it.
func Shared(ctx context.Context) context.Context {
	return context.WithValue(ctx, sharedKey{}, &shared{volumes: map[string][]volume{}})
}

// totalsScope limits hw_volumes rows (alias v) as ledger.Scope and
// manifest.Scope limit the records they sum: ledger for the ledger's kinds,
// manifests for the manifests'.
type totalsScope struct {
	ledger, manifests         string
	ledgerArgs, manifestsArgs []any
}

// summedScope is the viewer's scope over the monthly totals, or nil when
// the totals cannot answer: a viewer bound to a unit or to a park, or a
// park filter. The totals carry each side's county, so a county's
// regulator sees the manifests leaving or entering its county, as
// manifest.Scope has it.
func (s *Service) summedScope(ctx context.Context, p auth.Principal, q query) (*totalsScope, error) {
	if s.raw || q.area.Level == "park" {
		return nil, nil
	}
	switch {
	case p.SeesAllRegions():
		return &totalsScope{ledger: "1 = 1", manifests: "1 = 1"}, nil
	case p.Role.BoundToUnit():
		return nil, nil
	case p.Role == auth.Regulator || (p.Role == auth.Viewer && p.RegionCode != ""):
		var level string
		err := store.Get(ctx, s.db.Reader(), &level, `SELECT level FROM regions WHERE code = ?`, p.RegionCode)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if level != "county" {
			return nil, nil
		}
		sc := &totalsScope{ledger: "v.region_code = ?", ledgerArgs: []any{p.RegionCode}, manifests: "1 = 0"}
		if p.Role == auth.Regulator {
			sc.manifests, sc.manifestsArgs = "(v.region_code = ? OR v.other_region = ?)", []any{p.RegionCode, p.RegionCode}
		}
		return sc, nil
	}
	return &totalsScope{ledger: "1 = 0", manifests: "1 = 0"}, nil
}

// totalsRegion limits hw_volumes rows to the filter's city or county.
func (q query) totalsRegion() (string, []any) {
	if q.city() {
		return "1 = 1", nil
	}
	return inList("v.region_code", q.area.Codes)
}

// summedVolumes reads the quantities from the monthly totals: generated
// and treated in house from the ledger's kinds, transferred (picked up) on
// the consignor's county and utilised or disposed at the receiver
// (completed) on the receiver's.
func (s *Service) summedVolumes(ctx context.Context, q query, sc totalsScope) ([]volume, error) {
	months := q.monthLabels()
	region, rargs := q.totalsRegion()
	args := []any{months[0], months[len(months)-1]}
	args = append(append(append(args, sc.ledgerArgs...), sc.manifestsArgs...), rargs...)
	cat := ""
	if q.Category != "" {
		cat, args = " AND v.category = ?", append(args, q.Category)
	}
	var rows []struct {
		Month    string `db:"month"`
		Kind     string `db:"kind"`
		Region   string `db:"region_code"`
		Category string `db:"category"`
		Method   string `db:"method"`
		G        int64  `db:"g"`
	}
	if err := store.Select(ctx, s.db.Reader(), &rows, `SELECT v.month, v.kind, v.region_code, v.category, v.method, SUM(v.g) AS g
		FROM hw_volumes v WHERE v.kind IN ('generation', 'in_house', 'transferred', 'completed') AND v.month >= ? AND v.month <= ?
		AND ((v.kind IN ('generation', 'in_house') AND `+sc.ledger+`) OR (v.kind IN ('transferred', 'completed') AND `+sc.manifests+`))
		AND `+region+cat+`
		GROUP BY v.month, v.kind, v.region_code, v.category, v.method`, args...); err != nil {
		return nil, err
	}
	out := make([]volume, 0, len(rows))
	for _, r := range rows {
		v := volume{Bucket: slices.Index(months, r.Month), Category: r.Category, Region: r.Region, G: r.G}
		switch {
		case r.Kind == volumes.Generation:
			v.Kind = Generated
		case r.Kind == volumes.Transferred:
			v.Kind = Transferred
		case r.Method == "R":
			v.Kind = Utilised
		default:
			v.Kind = Disposed
		}
		out = append(out, v)
	}
	return out, nil
}

// countedVolumes reads the quantities from the records: the ledger
// (generation; in-house utilisation and disposal by the method's first
// letter) and the manifests (picked up; completed at the receiver by
// method).
func (s *Service) countedVolumes(ctx context.Context, p auth.Principal, q query) ([]volume, error) {
	var out []volume
	scope, sargs := ledgerScope(p, "lr")
	region, rargs := q.regionCond("lr.region_code", "lr.unit_id")
	b, bargs := q.bucket("lr.occurred_at")
	args := append(bargs, q.period.From, q.period.To)
	args = append(append(args, sargs...), rargs...)
	cat := ""
	if q.Category != "" {
		cat, args = " AND lr.category = ?", append(args, q.Category)
	}
	if err := store.Select(ctx, s.db.Reader(), &out, `SELECT `+b+` AS b, lr.category, lr.region_code,
		CASE WHEN lr.effect_kind = 'generation' THEN 'generated' WHEN lr.method LIKE 'R%' THEN 'utilised' ELSE 'disposed' END AS kind,
		SUM(lr.delta_g) AS g FROM ledger_records lr
		WHERE lr.occurred_at >= ? AND lr.occurred_at < ? AND lr.effect_kind IN ('generation', 'in_house') AND `+scope+` AND `+region+cat+`
		GROUP BY 1, 2, 3, 4`, args...); err != nil {
		return nil, err
	}
	// Manifests: what left its consignor (picked up) and what its receiver
	// finished (completed), each counted on its own side's region.
	mscope, margs := countedManifestScope(p)
	for _, side := range []struct{ at, region, unit, kind, qty, status string }{
		{"m.picked_up_at", "m.region_code", "m.consignor_unit_id", "'transferred'", "l.quantity_g",
			"m.status IN ('in_transit', 'received', 'completed')"},
		{"m.completed_at", "m.receiver_region_code", "m.receiver_unit_id",
			"CASE WHEN l.method LIKE 'R%' THEN 'utilised' ELSE 'disposed' END", "COALESCE(l.accepted_g, 0)", "m.status = 'completed'"},
	} {
		var rows []volume
		region, rargs := q.regionCond(side.region, side.unit)
		b, bargs := q.bucket(side.at)
		args := append(bargs, q.period.From, q.period.To)
		args = append(append(args, margs...), rargs...)
		cat := ""
		if q.Category != "" {
			cat, args = " AND l.category = ?", append(args, q.Category)
		}
		if err := store.Select(ctx, s.db.Reader(), &rows, `SELECT `+b+` AS b, l.category, `+side.region+` AS region_code,
			`+side.kind+` AS kind, SUM(`+side.qty+`) AS g FROM manifests m JOIN manifest_lines l ON l.manifest_id = m.id
			WHERE `+side.status+` AND `+side.at+` >= ? AND `+side.at+` < ? AND `+mscope+` AND `+region+cat+`
			GROUP BY 1, 2, 3, 4`, args...); err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

// countedManifestScope is manifest.Scope for figures over manifests past
// their draft. For a unit's own accounts it names the unit's manifests
// through the indexes on each party, where manifest.Scope's OR over the
// parties would read every manifest of the period.
func countedManifestScope(p auth.Principal) (string, []any) {
	if p.Role.BoundToUnit() && p.UnitID != "" {
		return `m.id IN (SELECT id FROM manifests WHERE consignor_unit_id = ? UNION SELECT id FROM manifests WHERE receiver_unit_id = ?
			UNION SELECT manifest_id FROM manifest_carriers WHERE carrier_unit_id = ?)`, []any{p.UnitID, p.UnitID, p.UnitID}
	}
	return manifestScope(p)
}
