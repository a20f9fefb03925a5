package catalog

import (
	"context"
	"fmt"
	"io"

	"wufei/internal/audit"
	"wufei/internal/store"
)

// Import loads the full official list from r, a CSV with the columns of
// data/waste_codes.csv or the 名录's Chinese headings (see ParseCodes).
//
// Every row is checked before anything is written. If any is wrong, the
// report lists each fault with its line and column, the error is an
// *errs.Error with code "catalog_file_invalid", and nothing is loaded. If all
// are good, one transaction upserts every code with edition "2025" —
// replacing the built-in subset row of the same code — and appends one audit
// entry with the counts and the file's SHA-256.
//
// Subset rows the file does not list are kept and counted as Kept: the
// 900-000-xx codes for waste found hazardous by testing come from the 名录's
// articles, not its table, and a code that ledgers may already name is not
// deleted behind their back.
func Import(ctx context.Context, db *store.DB, r io.Reader, actor audit.Actor) (Report, error) {
	codes, rep, err := ParseCodes(r, Edition)
	if err != nil {
		return rep, err
	}
	b, err := loadBuiltin()
	if err != nil {
		return rep, err
	}
	var ins, upd, kept int
	err = db.Tx(ctx, func(tx *store.Tx) error {
		ins, upd, kept = 0, 0, 0
		// The codes refer to their category: make sure all 46 exist, even
		// when the import runs before the first seed.
		if _, err := execEach(ctx, tx, insertCategoryQuery, categoryRows(b.categories)); err != nil {
			return fmt.Errorf("catalog: import categories: %w", err)
		}

		var existing []struct {
			Code    string `db:"code"`
			Edition string `db:"edition"`
		}
		if err := store.Select(ctx, tx, &existing, `SELECT code, edition FROM waste_codes`); err != nil {
			return fmt.Errorf("catalog: import: %w", err)
		}
		had := make(map[string]bool, len(existing))
		for _, e := range existing {
			had[e.Code] = true
		}
		inFile := make(map[string]bool, len(codes))
		for _, w := range codes {
			inFile[w.Code] = true
			if had[w.Code] {
				upd++
			} else {
				ins++
			}
		}
		for _, e := range existing {
			if e.Edition == EditionSubset && !inFile[e.Code] {
				kept++
			}
		}

		if _, err := execEach(ctx, tx, insertCodeQuery+` ON CONFLICT (code) DO UPDATE SET
			category = excluded.category, industry = excluded.industry, description = excluded.description,
			characteristics = excluded.characteristics, edition = excluded.edition`, codeRows(codes)); err != nil {
			return fmt.Errorf("catalog: import: %w", err)
		}

		_, err := audit.Append(ctx, tx, actor, audit.Record{
			Action: "catalog.import", Entity: "catalog", EntityID: "waste_codes",
			Change: map[string]any{
				"edition": Edition, "rows": rep.Rows, "inserted": ins, "updated": upd, "kept": kept, "sha256": rep.SHA256,
			},
		})
		return err
	})
	if err != nil {
		return rep, err
	}
	rep.Inserted, rep.Updated, rep.Kept = ins, upd, kept
	return rep, nil
}
