package sheet

import (
	"context"
	"fmt"
	"iter"
	"strconv"
	"time"

	"wufei/internal/auth"
	"wufei/internal/calendar"
	"wufei/internal/exchange"
	"wufei/internal/store"
)

// Seed writes rows of cells (in Fields order) as the demo's records,
// through the kind's import, so that every rule and audit entry is real;
// records stored as given already are left alone.
func Seed(ctx context.Context, db *store.DB, spec *Spec, rows [][]string) error {
	_, bad, err := New(db, spec).Import(ctx, auth.System, Rows(rows...))
	if err == nil && len(bad) > 0 {
		err = fmt.Errorf("row %d, %s: %s", bad[0].Row, bad[0].Column, bad[0].Reason)
	}
	if err != nil {
		return fmt.Errorf("demo %s: %w", spec.Name, err)
	}
	return nil
}

// Cells writes an Input as a row's cells, in Fields order.
func (s *Spec) Cells(in Input) []string {
	out := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		out[i] = in[f.Key]
	}
	return out
}

// DemoMonths are the months the demo's records cover: the previous full
// year and the current year to date, in China.
func DemoMonths() []string {
	now := time.Now().In(calendar.Zone)
	var out []string
	for t := time.Date(now.Year()-1, 1, 1, 0, 0, 0, 0, calendar.Zone); !t.After(now); t = t.AddDate(0, 1, 0) {
		out = append(out, t.Format("2006-01"))
	}
	return out
}

// DemoYears are the years of DemoMonths.
func DemoYears() []int {
	y := time.Now().In(calendar.Zone).Year()
	return []int{y - 1, y}
}

// T writes tonnes for a cell, to three decimals.
func T(t float64) string {
	return (Field{Type: Tonnes}).Cell(int64(t*1000+0.5) * 1000)
}

// N writes a whole number for a cell.
func N(n int) string { return strconv.Itoa(n) }

// Rows numbers rows of cells from 2, as they stand in a workbook under its
// header, for an import.
func Rows(cells ...[]string) iter.Seq2[exchange.Row, error] {
	return func(yield func(exchange.Row, error) bool) {
		for i, c := range cells {
			if !yield(exchange.Row{Num: i + 2, Cells: c}, nil) {
				return
			}
		}
	}
}

// Seeded reports whether a kind has records already, so that a demo
// written once is not written again.
func Seeded(ctx context.Context, db *store.DB, spec *Spec) (bool, error) {
	var n int
	err := store.Get(ctx, db.Reader(), &n, `SELECT count(*) FROM `+spec.Table)
	return n > 0, err
}
