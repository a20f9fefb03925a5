package exchange

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"regexp"
	"strings"

	"wufei/internal/errs"
	"wufei/internal/store"
)

// Outcome is what importing one row did.
type Outcome int

const (
	Unchanged Outcome = iota // the row is stored as given already
	Inserted                 // the row made a new record
	Updated                  // the row changed a record
)

// Bad is the error a row's apply function returns for a row that breaks a
// rule; an *errs.Error of a client kind (invalid, not found, conflict,
// forbidden) is turned into one as well.
type Bad []RowError

func (b Bad) Error() string {
	if len(b) == 0 {
		return "exchange: bad row"
	}
	return fmt.Sprintf("exchange: row %d, %s: %s", b[0].Row, b[0].Column, b[0].Reason)
}

// Cell is a Bad for one cell.
func Cell(r Row, column, code, reason string) Bad {
	return Bad{{Row: r.Num, Column: column, Code: code, Reason: reason}}
}

// Applier writes one row inside the import's transaction.
type Applier func(ctx context.Context, tx *store.Tx, r Row) (Outcome, error)

// errRefused rolls back a transaction in which rows were refused.
var errRefused = errors.New("exchange: rows refused")

// batchRows is how many rows share one savepoint while all goes well.
const batchRows = 500

// Apply runs fn for every row in one transaction. Rows run in batches
// under a savepoint; when a row of a batch is refused, the batch is rolled
// back and run again a row at a time, each under its own savepoint, so a
// refused row leaves no trace and the rows after it are still checked
// (on PostgreSQL a failed statement would otherwise doom the transaction).
// If any row is refused, the whole transaction is rolled back and the bad
// rows are returned. A savepoint per row from the start would cost
// PostgreSQL a subtransaction per row, which slows every later statement
// (four times slower at 10,000 rows). fields maps the field names of the
// domain's validation errors to column keys (names that are already keys
// need no entry).
func Apply(ctx context.Context, db *store.DB, kind string, rows iter.Seq2[Row, error], fields map[string]string, fn Applier) (Result, []RowError, error) {
	res := Result{Kind: kind}
	var bad []RowError
	err := db.Tx(ctx, func(tx *store.Tx) error {
		batch := make([]Row, 0, batchRows)
		outs := make([]Outcome, 0, batchRows)
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			outs = outs[:0]
			err := Savepoint(ctx, tx, func() error {
				for _, r := range batch {
					out, err := fn(ctx, tx, r)
					if err != nil {
						return err
					}
					outs = append(outs, out)
				}
				return nil
			})
			if err == nil {
				for _, o := range outs {
					res.Count(o, 1)
				}
				batch = batch[:0]
				return nil
			}
			if _, ok := RowErrors(Row{}, err, fields); !ok {
				return err
			}
			// A row was refused: again, one row at a time.
			for _, r := range batch {
				var out Outcome
				err := Savepoint(ctx, tx, func() error {
					var err error
					out, err = fn(ctx, tx, r)
					return err
				})
				if err != nil {
					rb, ok := RowErrors(r, err, fields)
					if !ok {
						return err
					}
					bad = append(bad, rb...)
					continue
				}
				res.Count(out, 1)
			}
			batch = batch[:0]
			return nil
		}
		for r, err := range rows {
			if err != nil {
				return err
			}
			res.Rows++
			if batch = append(batch, r); len(batch) == batchRows {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
		if len(bad) > 0 {
			return errRefused
		}
		return nil
	})
	if errors.Is(err, errRefused) {
		return Result{Kind: kind, Rows: res.Rows}, bad, nil
	}
	if err != nil {
		return Result{}, nil, err
	}
	return res, nil, nil
}

// Count adds n rows with outcome o to the result.
func (r *Result) Count(o Outcome, n int) {
	switch o {
	case Inserted:
		r.Inserted += n
	case Updated:
		r.Updated += n
	default:
		r.Unchanged += n
	}
}

// Savepoint runs fn under a savepoint of tx: when fn fails, what it wrote
// is rolled back and its error returned, and the transaction goes on (on
// PostgreSQL a failed statement would otherwise doom it).
func Savepoint(ctx context.Context, tx *store.Tx, fn func() error) error {
	if _, err := store.Exec(ctx, tx, `SAVEPOINT exchange_row`); err != nil {
		return err
	}
	ferr := fn()
	if ferr != nil {
		if _, err := store.Exec(ctx, tx, `ROLLBACK TO SAVEPOINT exchange_row`); err != nil {
			return err // not the row's fault: it ends the import
		}
	}
	if _, err := store.Exec(ctx, tx, `RELEASE SAVEPOINT exchange_row`); err != nil {
		return err
	}
	return ferr
}

// index strips list positions from a field path: lines[0].waste_code is
// waste_code.
var index = regexp.MustCompile(`\[[0-9]+\]`)

// RowErrors turns what a row's apply function returned into the row's
// errors. It reports false for an error that is not about the row (a
// database failure), which must end the import.
func RowErrors(r Row, err error, fields map[string]string) ([]RowError, bool) {
	var b Bad
	if errors.As(err, &b) {
		return b, true
	}
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind == errs.Internal || e.Kind == errs.Unauthorized || e.Kind == errs.TooMany {
		return nil, false
	}
	if len(e.Fields) == 0 {
		return []RowError{{Row: r.Num, Code: e.Code, Reason: e.Message}}, true
	}
	out := make([]RowError, 0, len(e.Fields))
	for _, f := range e.Fields {
		col, ok := fields[f.Field]
		if !ok {
			plain := index.ReplaceAllString(f.Field, "")
			if col, ok = fields[plain]; !ok {
				col = plain[strings.LastIndex(plain, ".")+1:]
			}
		}
		out = append(out, RowError{Row: r.Num, Column: col, Code: f.Code, Reason: f.Message})
	}
	return out, true
}
