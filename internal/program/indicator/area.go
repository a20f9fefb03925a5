package indicator

import (
	"context"
	"errors"
	"strings"

	"wufei/internal/errs"
	"wufei/internal/store"
)

// Area is a region indicators are given for: the city, a county or
// district, or a park, with the region codes records inside it carry.
type Area struct {
	Code   string
	Name   string
	Level  string   // city | county | park
	Parent string   // the region a park lies in
	Codes  []string // the region itself and the regions under it
}

// city reports whether the area is the whole city.
func (a Area) city() bool { return a.Code == cityCode }

// cond is the SQL condition limiting rows to the area, over a row's region
// code column and (for parks, whose units are registered under their
// county) its unit id column.
func (a Area) cond(regionCol, unitCol string) (string, []any) {
	if a.Level == "park" && unitCol != "" {
		return "(" + regionCol + " = ? OR " + unitCol + " IN (SELECT id FROM units WHERE park_code = ?))", []any{a.Code, a.Code}
	}
	args := make([]any, len(a.Codes))
	for i, c := range a.Codes {
		args[i] = c
	}
	return regionCol + " IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(a.Codes)), ", ") + ")", args
}

// covers reports whether a region code lies in the area.
func (a Area) covers(code string) bool {
	for _, c := range a.Codes {
		if c == code {
			return true
		}
	}
	return false
}

// LoadArea resolves a region code to an area: 340600, a county or district
// of the city, or a park. field names the input for the error.
func LoadArea(ctx context.Context, q store.Querier, field, code string) (Area, error) {
	var rs []struct {
		Code   string `db:"code"`
		Name   string `db:"name"`
		Level  string `db:"level"`
		Parent string `db:"parent_code"`
	}
	// Huaibei's regions are a few dozen rows; the tree is walked here.
	if err := store.Select(ctx, q, &rs, `SELECT code, name, level, COALESCE(parent_code, '') AS parent_code FROM regions
		WHERE code = ? OR code LIKE ?`, cityCode, cityCode[:4]+"%"); err != nil {
		return Area{}, err
	}
	var a Area
	children := map[string][]string{}
	for _, r := range rs {
		children[r.Parent] = append(children[r.Parent], r.Code)
		if r.Code == code {
			a = Area{Code: r.Code, Name: r.Name, Level: r.Level, Parent: r.Parent}
		}
	}
	switch {
	case a.Code == "":
		return Area{}, errs.Field(field, "region_unknown", "地区不存在: "+clip(code))
	case a.Level == "city" || a.Level == "county" || a.Level == "park":
	default:
		return Area{}, errs.Field(field, "region_level", "指标按全市、县区或园区统计")
	}
	var walk func(string)
	walk = func(c string) {
		a.Codes = append(a.Codes, c)
		for _, k := range children[c] {
			walk(k)
		}
	}
	walk(a.Code)
	return a, nil
}

// Areas lists every area indicators are kept for: the city, its counties and
// districts, and the parks.
func Areas(ctx context.Context, q store.Querier) ([]Area, error) {
	var codes []string
	if err := store.Select(ctx, q, &codes, `SELECT code FROM regions WHERE (code = ? OR code LIKE ?)
		AND level IN ('city', 'county', 'park') ORDER BY code`, cityCode, cityCode[:4]+"%"); err != nil {
		return nil, err
	}
	out := make([]Area, 0, len(codes))
	for _, c := range codes {
		a, err := LoadArea(ctx, q, "region", c)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// clip shortens input echoed in a message.
func clip(s string) string {
	if r := []rune(s); len(r) > 20 {
		return string(r[:20]) + "…"
	}
	return s
}

var errNoTable = errors.New("indicator: table missing")
