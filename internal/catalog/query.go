package catalog

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"wufei/internal/errs"
	"wufei/internal/store"
)

// ListCategories returns the 46 categories in code order.
func ListCategories(ctx context.Context, q store.Querier) ([]Category, error) {
	out := []Category{}
	if err := store.Select(ctx, q, &out, `SELECT code, name FROM hw_categories ORDER BY code`); err != nil {
		return nil, fmt.Errorf("catalog: categories: %w", err)
	}
	return out, nil
}

// Filter selects waste codes for ListWasteCodes.
type Filter struct {
	Category string // "HW08"; empty for all
	Query    string // matched, ignoring case, against the code and the description
	Limit    int    // page size; 0 means DefaultLimit, at most MaxLimit
	After    string // the cursor returned with the previous page
}

// Page sizes for ListWasteCodes.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

const codeColumnsSQL = `code, category, industry, description, characteristics, edition`

// ListWasteCodes returns one page of waste codes in code order, and the
// cursor for the next page ("" after the last). Paging is by key (code >
// cursor), so pages stay consistent while an import runs and cost the same
// however deep the caller goes.
func ListWasteCodes(ctx context.Context, q store.Querier, f Filter) ([]WasteCode, string, error) {
	limit := f.Limit
	switch {
	case limit < 0:
		return nil, "", errs.Field("limit", "limit_range", fmt.Sprintf("limit 应在 1–%d 之间", MaxLimit))
	case limit == 0:
		limit = DefaultLimit
	case limit > MaxLimit:
		limit = MaxLimit
	}
	var where []string
	var args []any
	if f.Category != "" {
		where = append(where, `category = ?`)
		args = append(args, strings.ToUpper(strings.TrimSpace(f.Category)))
	}
	if s := strings.TrimSpace(f.Query); s != "" {
		// LOWER on both sides because LIKE is case-insensitive on SQLite and
		// case-sensitive on PostgreSQL; the user's % and _ are literal.
		pat := store.Contains(strings.ToLower(s))
		where = append(where, `(LOWER(code) LIKE ? ESCAPE '\' OR LOWER(description) LIKE ? ESCAPE '\')`)
		args = append(args, pat, pat)
	}
	if f.After != "" {
		where = append(where, `code > ?`)
		args = append(args, f.After)
	}
	query := `SELECT ` + codeColumnsSQL + ` FROM waste_codes`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY code LIMIT ?`
	args = append(args, limit+1) // one more than asked tells whether a next page exists

	out := []WasteCode{}
	if err := store.Select(ctx, q, &out, query, args...); err != nil {
		return nil, "", fmt.Errorf("catalog: waste codes: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].Code
	}
	return out, next, nil
}

// GetWasteCode returns one code. A malformed code is an Invalid error, an
// unlisted one NotFound.
func GetWasteCode(ctx context.Context, q store.Querier, code string) (WasteCode, error) {
	if err := ValidCode(code); err != nil {
		return WasteCode{}, err
	}
	var w WasteCode
	err := store.Get(ctx, q, &w, `SELECT `+codeColumnsSQL+` FROM waste_codes WHERE code = ?`, code)
	if errors.Is(err, store.ErrNotFound) {
		return WasteCode{}, &errs.Error{Kind: errs.NotFound, Code: "waste_code_not_found",
			Message: fmt.Sprintf("名录中没有废物代码 %s", code), Err: err}
	}
	if err != nil {
		return WasteCode{}, fmt.Errorf("catalog: waste code: %w", err)
	}
	return w, nil
}

// ListMethods returns the method codes: utilisation, disposal, other, then
// medical, each in natural order (R2 before R15).
func ListMethods(ctx context.Context, q store.Querier) ([]Method, error) {
	out := []Method{}
	err := store.Select(ctx, q, &out, `SELECT code, kind, name, local FROM methods
		ORDER BY CASE kind WHEN 'utilisation' THEN 1 WHEN 'disposal' THEN 2 WHEN 'other' THEN 3 ELSE 4 END,
		LENGTH(code), code`)
	if err != nil {
		return nil, fmt.Errorf("catalog: methods: %w", err)
	}
	return out, nil
}

// ListExemptions returns the exemption list in its order.
func ListExemptions(ctx context.Context, q store.Querier) ([]Exemption, error) {
	out := []Exemption{}
	err := store.Select(ctx, q, &out, `SELECT no, waste_code, description, stage, condition, exemption FROM exemptions ORDER BY no`)
	if err != nil {
		return nil, fmt.Errorf("catalog: exemptions: %w", err)
	}
	return out, nil
}

// ListGISWCategories returns the general industrial solid-waste categories.
func ListGISWCategories(ctx context.Context, q store.Querier) ([]GISWCategory, error) {
	out := []GISWCategory{}
	if err := store.Select(ctx, q, &out, `SELECT code, name, note FROM gisw_categories ORDER BY code`); err != nil {
		return nil, fmt.Errorf("catalog: gisw categories: %w", err)
	}
	return out, nil
}
