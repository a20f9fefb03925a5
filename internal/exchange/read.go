package exchange

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"

	"wufei/internal/auth"
	"wufei/internal/errs"
)

// MaxRowErrors bounds the bad rows a refusal lists; Refusal.Total counts
// them all.
const MaxRowErrors = 1000

// maxUnzipped bounds what a workbook may expand to, so that a small file
// cannot unpack into gigabytes.
const maxUnzipped = 2 << 30

// Refusal is an import that read the file but stored nothing because rows
// were bad.
type Refusal struct {
	Kind  string     // the kind's name
	Rows  []RowError // the first MaxRowErrors, in row order
	Total int        // all the errors found
}

func (r *Refusal) Error() string {
	return fmt.Sprintf("exchange: %s: %d errors in rows; nothing was stored", r.Kind, r.Total)
}

// Message says in Chinese what was refused.
func (r *Refusal) Message() string {
	rows := map[int]bool{}
	for _, e := range r.Rows {
		rows[e.Row] = true
	}
	return fmt.Sprintf("工作簿中有 %d 处错误（涉及 %d 行%s），未导入任何数据，请改正后重新导入",
		r.Total, len(rows), map[bool]string{true: "，仅列出前 " + fmt.Sprint(MaxRowErrors) + " 处", false: ""}[r.Total > len(r.Rows)])
}

// Import reads the workbook in r, matches its header row to the kind's
// columns and hands the data rows to the kind's Import as p. A file that is
// not a workbook or lacks required columns is an *errs.Error; bad rows are
// a *Refusal. Nothing is stored unless every row is good.
func Import(ctx context.Context, k Kind, p auth.Principal, r io.Reader) (Result, error) {
	cols, err := k.Columns(ctx)
	if err != nil {
		return Result{}, err
	}
	f, err := excelize.OpenReader(r, excelize.Options{UnzipSizeLimit: maxUnzipped})
	if err != nil {
		return Result{}, notWorkbook()
	}
	defer f.Close()
	rows, err := f.Rows(dataSheet(f, k.Title()))
	if err != nil {
		return Result{}, notWorkbook()
	}
	defer rows.Close()
	num, index, err := readHeader(rows, cols)
	if err != nil {
		return Result{}, err
	}
	var readErr error
	seen := 0
	seq := func(yield func(Row, error) bool) {
		for rows.Next() {
			num++
			raw, err := rows.Columns(excelize.Options{RawCellValue: true})
			if err != nil {
				readErr = notWorkbook()
				yield(Row{}, readErr)
				return
			}
			row := Row{Num: num, Cells: make([]string, len(cols))}
			blank := true
			for i, v := range raw {
				if i < len(index) && index[i] >= 0 {
					v = strings.TrimSpace(v)
					row.Cells[index[i]] = v
					blank = blank && v == ""
				}
			}
			if blank {
				continue
			}
			seen++
			if !yield(row, nil) {
				return
			}
		}
		if err := rows.Error(); err != nil {
			readErr = notWorkbook()
			yield(Row{}, readErr)
		}
	}
	res, bad, err := k.Import(ctx, p, seq)
	if readErr != nil {
		return Result{}, readErr
	}
	if err != nil {
		return Result{}, err
	}
	if res.Kind == "" {
		res.Kind = k.Name()
	}
	if res.Rows == 0 {
		res.Rows = seen
	}
	if len(bad) > 0 {
		return res, refuse(k.Name(), cols, bad)
	}
	return res, nil
}

// refuse orders the bad rows, names their headers and caps the list.
func refuse(kind string, cols []Column, bad []RowError) *Refusal {
	headers := make(map[string]string, len(cols))
	for _, c := range cols {
		headers[c.Key] = c.Header
	}
	slices.SortStableFunc(bad, func(a, b RowError) int { return cmp.Compare(a.Row, b.Row) })
	for i := range bad {
		if bad[i].Header == "" {
			bad[i].Header = headers[bad[i].Column]
		}
	}
	return &Refusal{Kind: kind, Rows: bad[:min(len(bad), MaxRowErrors)], Total: len(bad)}
}

func notWorkbook() error {
	return errs.E(errs.Invalid, "not_a_workbook", "文件不是可读取的 Excel 工作簿（.xlsx）")
}

// dataSheet is the sheet holding the rows: the one named as the kind's
// title, else the first sheet of the workbook.
func dataSheet(f *excelize.File, title string) string {
	sheets := f.GetSheetList()
	name := sheetName(title)
	if slices.Contains(sheets, name) || len(sheets) == 0 {
		return name
	}
	return sheets[0]
}

// readHeader finds the header row (the first row that is not blank) and
// maps each of its cells to a column: index[i] is the column of cell i, or
// -1 for a cell the kind does not know. It returns the header's row number.
func readHeader(rows *excelize.Rows, cols []Column) (int, []int, error) {
	num := 0
	for rows.Next() {
		num++
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return 0, nil, notWorkbook()
		}
		if slices.IndexFunc(cells, func(s string) bool { return strings.TrimSpace(s) != "" }) < 0 {
			continue
		}
		index, err := matchHeader(cells, cols)
		return num, index, err
	}
	if rows.Error() != nil {
		return 0, nil, notWorkbook()
	}
	return 0, nil, errs.E(errs.Invalid, "empty_workbook", "工作表是空的：第一行应为表头")
}

// matchHeader matches header cells to columns by Chinese header or English
// key; a required column that no cell names is an error naming it.
func matchHeader(cells []string, cols []Column) ([]int, error) {
	byName := make(map[string]int, 2*len(cols))
	for i, c := range cols {
		byName[normalHeader(c.Header)] = i
		byName[normalHeader(c.Key)] = i
	}
	index := make([]int, len(cells))
	found := make([]bool, len(cols))
	var v errs.Validation
	for i, cell := range cells {
		index[i] = -1
		j, ok := byName[normalHeader(cell)]
		if !ok {
			continue
		}
		if found[j] {
			v.Add(cols[j].Key, "header_duplicate", "表头“"+cols[j].Header+"”出现了两次")
			continue
		}
		index[i], found[j] = j, true
	}
	var missing []string
	for j, c := range cols {
		if c.Required && !found[j] {
			missing = append(missing, c.Header)
			v.Add(c.Key, "header_missing", "缺少必填列“"+c.Header+"”（"+c.Key+"）")
		}
	}
	if err := v.Err(); err != nil {
		e := err.(*errs.Error)
		e.Code = "headers_invalid"
		if len(missing) > 0 {
			e.Code, e.Message = "headers_missing", "工作表缺少必填列："+strings.Join(missing, "、")
		}
		return nil, e
	}
	return index, nil
}

// normalHeader folds what people do to headers: spaces, the required mark,
// full-width brackets, letter case.
func normalHeader(s string) string {
	s = strings.NewReplacer("（", "(", "）", ")", " ", "", "\u3000", "", "\n", "", "*", "").Replace(s)
	return strings.ToLower(s)
}

// Collect reads every row of a sequence into memory, for kinds whose rows
// must be grouped before they are applied (the lines of one manifest).
func Collect(rows iter.Seq2[Row, error]) ([]Row, error) {
	var out []Row
	for r, err := range rows {
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
