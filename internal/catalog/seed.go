package catalog

import (
	"context"
	"fmt"

	"wufei/internal/audit"
	"wufei/internal/store"
)

// Seed loads the built-in files into those catalogue tables that are empty,
// and records what it loaded in one audit entry. A table that already has
// rows — from an earlier seed or an import of the official list — is left
// alone, so Seed can run on every start; when no table was empty it writes
// nothing, not even an audit entry.
func Seed(ctx context.Context, tx *store.Tx) error {
	b, err := loadBuiltin()
	if err != nil {
		return err
	}
	tables := []struct {
		name, query string
		rows        [][]any
	}{
		{"hw_categories", insertCategoryQuery, categoryRows(b.categories)},
		{"waste_codes", insertCodeQuery + ` ON CONFLICT (code) DO NOTHING`, codeRows(b.codes)},
		{"methods", `INSERT INTO methods (code, kind, name, local) VALUES (?, ?, ?, ?) ON CONFLICT (code) DO NOTHING`,
			rowsOf(b.methods, func(m Method) []any { return []any{m.Code, m.Kind, m.Name, m.Local} })},
		{"exemptions", `INSERT INTO exemptions (no, waste_code, description, stage, condition, exemption) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (no) DO NOTHING`,
			rowsOf(b.exemptions, func(e Exemption) []any {
				return []any{e.No, e.WasteCode, e.Description, e.Stage, e.Condition, e.Exemption}
			})},
		{"gisw_categories", `INSERT INTO gisw_categories (code, name, note) VALUES (?, ?, ?) ON CONFLICT (code) DO NOTHING`,
			rowsOf(b.gisw, func(g GISWCategory) []any { return []any{g.Code, g.Name, g.Note} })},
	}

	counts := map[string]int64{}
	var total int64
	for _, t := range tables {
		var n int64
		// t.name is one of the constants above, never input.
		if err := store.Get(ctx, tx, &n, `SELECT count(*) FROM `+t.name); err != nil {
			return fmt.Errorf("catalog: seed %s: %w", t.name, err)
		}
		if n > 0 {
			continue
		}
		// ON CONFLICT DO NOTHING: two nodes starting on one PostgreSQL may both
		// find a table empty; the second then inserts nothing and says so.
		added, err := execEach(ctx, tx, t.query, t.rows)
		if err != nil {
			return fmt.Errorf("catalog: seed %s: %w", t.name, err)
		}
		if added > 0 {
			counts[t.name] = added
			total += added
		}
	}
	if total == 0 {
		return nil
	}
	_, err = audit.Append(ctx, tx, audit.System, audit.Record{Action: "catalog.seed", Entity: "catalog", EntityID: "embedded", Change: counts})
	return err
}

const (
	insertCategoryQuery = `INSERT INTO hw_categories (code, name) VALUES (?, ?) ON CONFLICT (code) DO NOTHING`
	// insertCodeQuery is completed by an ON CONFLICT clause: seeding leaves
	// existing rows alone, importing replaces them.
	insertCodeQuery = `INSERT INTO waste_codes (code, category, industry, description, characteristics, edition) VALUES (?, ?, ?, ?, ?, ?)`
)

func categoryRows(cs []Category) [][]any {
	return rowsOf(cs, func(c Category) []any { return []any{c.Code, c.Name} })
}

func codeRows(ws []WasteCode) [][]any {
	return rowsOf(ws, func(w WasteCode) []any {
		return []any{w.Code, w.Category, w.Industry, w.Description, w.Characteristics.String(), w.Edition}
	})
}

func rowsOf[T any](items []T, args func(T) []any) [][]any {
	out := make([][]any, len(items))
	for i, it := range items {
		out[i] = args(it)
	}
	return out
}

// execEach runs query once per row through a statement prepared once in tx —
// bulk loads spend their time in the engine, not in re-parsing the SQL — and
// returns the rows affected in all.
func execEach(ctx context.Context, tx *store.Tx, query string, rows [][]any) (int64, error) {
	stmt, err := tx.PrepareContext(ctx, tx.Rebind(query))
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	var total int64
	for _, args := range rows {
		res, err := stmt.ExecContext(ctx, args...)
		if err != nil {
			return 0, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}
