// Package exchange moves records in and out of the platform as Excel
// workbooks: a template per record kind, an all-or-nothing import that
// reports every bad row, and a streaming export with the template's columns
// so that an export re-imports unchanged.
package exchange

import (
	"context"
	"iter"

	"wufei/internal/auth"
)

// Column is one column of a kind's workbook, in order.
type Column struct {
	Key      string   // stable ASCII key: the English header and the error's column
	Header   string   // Chinese header, as written in the template's first row
	Required bool     // an empty cell is an error
	Choices  []string // allowed values, offered as a drop-down (codes, units, kinds)
	Example  string   // the template's example row
	Note     string   // help for the person filling it in (unit of measure, format)
}

// Row is one data row of a workbook: its cells in Columns order, and its
// 1-based row number in the sheet so that errors can name it.
type Row struct {
	Num   int
	Cells []string
}

// RowError says what is wrong with one cell of one row.
type RowError struct {
	Row    int    `json:"row" doc:"工作表中的行号（从 1 起，第 1 行为表头）"`
	Column string `json:"column" doc:"列的英文键"`
	Header string `json:"header" doc:"列的中文表头"`
	Code   string `json:"code" doc:"稳定的错误代码"`
	Reason string `json:"reason"`
}

// Result is what an import did. A re-import of the same rows is all
// Unchanged.
type Result struct {
	Kind      string `json:"kind"`
	Rows      int    `json:"rows"`
	Inserted  int    `json:"inserted"`
	Updated   int    `json:"updated"`
	Unchanged int    `json:"unchanged"`
}

// Kind is one record kind that can be exchanged as a workbook.
type Kind interface {
	// Name is the kind's URL segment and CLI name, e.g. "gisw_ledger".
	Name() string
	// Title is the Chinese title of the sheet.
	Title() string
	// Columns lists the workbook's columns; drop-down choices may come from
	// the database (codes, regions).
	Columns(ctx context.Context) ([]Column, error)
	// Import validates every row as p and applies all of them in one
	// transaction, or none if any row is bad; each row carries its own key,
	// so a row already stored as given changes nothing. It returns the bad
	// rows (nil error) when the file was read but rows were refused.
	Import(ctx context.Context, p auth.Principal, rows iter.Seq2[Row, error]) (Result, []RowError, error)
	// Export emits the rows of a year that p may see, cells in Columns
	// order, one at a time (the caller streams them into the workbook).
	Export(ctx context.Context, p auth.Principal, year int, emit func(cells []string) error) error
}
