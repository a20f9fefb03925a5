package indicator

import (
	"context"
	"embed"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"

	"wufei/internal/audit"
	"wufei/internal/store"
)

// data/indicators.csv is the indicator tree the platform ships: the plan's
// 2027 targets (source plan), the national framework's further indicators
// as reconstructed in the regulations reference §5.2 (source
// national-reconstruction, configurable by the work team), and the
// denominators they need (source auxiliary). The co_departments column is a
// ';' list.
//
//go:embed data/indicators.csv
var data embed.FS

// Builtin returns the shipped indicator tree in its order.
func Builtin() ([]Indicator, error) {
	f, err := data.Open("data/indicators.csv")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) < 2 {
		return nil, fmt.Errorf("indicator: data/indicators.csv: %v", err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, h := range []string{"id", "level1", "level2", "name", "unit", "direction", "kind", "lead_department",
		"co_departments", "mandatory", "source", "baseline_year", "baseline", "target", "target_year", "formula"} {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("indicator: data/indicators.csv lacks column %s", h)
		}
	}
	var out []Indicator
	for i, r := range rows[1:] {
		get := func(h string) string { return strings.TrimSpace(r[col[h]]) }
		in := Indicator{ID: get("id"), Position: i + 1, Level1: get("level1"), Level2: get("level2"), Name: get("name"),
			Unit: get("unit"), Direction: Direction(get("direction")), Kind: Kind(get("kind")), Formula: get("formula"),
			LeadDepartment: get("lead_department"), Mandatory: get("mandatory") == "1", Source: get("source"),
			CoDepartments: []string{}}
		if s := get("co_departments"); s != "" {
			in.CoDepartments = strings.Split(s, ";")
		}
		var perr error
		num := func(h string) *float64 {
			s := get(h)
			if s == "" {
				return nil
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				perr = fmt.Errorf("indicator %s: %s: %w", in.ID, h, err)
			}
			return &v
		}
		year := func(h string) *int {
			if v := num(h); v != nil {
				y := int(*v)
				return &y
			}
			return nil
		}
		in.Baseline, in.Target, in.BaselineYear, in.TargetYear = num("baseline"), num("target"), year("baseline_year"), year("target_year")
		if perr != nil {
			return nil, perr
		}
		if (in.Direction != Higher && in.Direction != Lower) || (in.Kind != Computed && in.Kind != Reported) ||
			in.ID == "" || in.Name == "" || in.LeadDepartment == "" {
			return nil, fmt.Errorf("indicator: data/indicators.csv row %d is incomplete", i+2)
		}
		if _, ok := engine[in.ID]; in.Kind == Computed && !ok {
			return nil, fmt.Errorf("indicator %s: computed, but the engine has no function for it", in.ID)
		}
		out = append(out, in)
	}
	return out, nil
}

// Seed inserts the shipped indicators that are not yet in the database and
// records what it added in one audit entry. Indicators already present keep
// the work team's changes, so Seed runs on every start; when nothing is new
// it writes nothing.
func Seed(ctx context.Context, tx *store.Tx) error {
	tree, err := Builtin()
	if err != nil {
		return err
	}
	var added []string
	for _, in := range tree {
		// ON CONFLICT DO NOTHING: two nodes starting on one PostgreSQL may
		// seed at once.
		n, err := store.Exec(ctx, tx, `INSERT INTO indicators (id, position, level1, level2, name, unit, direction, kind,
			formula, lead_department, co_departments, mandatory, source, baseline_year, baseline_e6, target_e6, target_year,
			created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
			ON CONFLICT (id) DO NOTHING`,
			in.ID, in.Position, in.Level1, in.Level2, in.Name, in.Unit, string(in.Direction), string(in.Kind), in.Formula,
			in.LeadDepartment, strings.Join(in.CoDepartments, ","), in.Mandatory, in.Source, in.BaselineYear,
			optE6(in.Baseline), optE6(in.Target), in.TargetYear, tx.Now, tx.Now)
		if err != nil {
			return fmt.Errorf("indicator: seed %s: %w", in.ID, err)
		}
		if n > 0 {
			added = append(added, in.ID)
		}
	}
	if len(added) == 0 {
		return nil
	}
	_, err = audit.Append(ctx, tx, audit.System, audit.Record{Action: "indicator.seed", Entity: "indicator",
		EntityID: "embedded", RegionCode: cityCode, Change: map[string]any{"added": added}})
	return err
}

func optE6(v *float64) *int64 {
	if v == nil {
		return nil
	}
	e := toE6(*v)
	return &e
}
