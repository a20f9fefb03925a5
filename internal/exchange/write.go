package exchange

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"wufei/internal/auth"
)

// ContentType is the media type of an .xlsx workbook.
const ContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// Sheets a workbook carries besides the data sheet.
const (
	GuideSheet   = "填写说明"
	choicesSheet = "选项"
)

// lastRow bounds the drop-downs and the text format of a template.
const lastRow = 1048576

// sheetName makes a title a valid sheet name: at most 31 characters,
// none of : \ / ? * [ ].
func sheetName(title string) string {
	s := strings.Map(func(r rune) rune {
		if strings.ContainsRune(`:\/?*[]`, r) {
			return '_'
		}
		return r
	}, strings.TrimSpace(title))
	if s == "" {
		s = "数据"
	}
	if r := []rune(s); len(r) > 31 {
		s = string(r[:31])
	}
	return s
}

// WriteTemplate writes the kind's blank workbook to w: the data sheet with
// the Chinese headers (each with a note giving its English key, whether it
// is required, its format and choices), drop-downs for columns with
// choices, every data cell formatted as text so that codes and dates stay
// as typed, and a guide sheet with the example row.
func WriteTemplate(ctx context.Context, k Kind, w io.Writer) error {
	f, cols, data, st, err := newWorkbook(ctx, k)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.SetPanes(data, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	choiceCol := 0
	for i, c := range cols {
		name, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetColWidth(data, name, name, width(c)); err != nil {
			return err
		}
		if err := f.SetColStyle(data, name, st.text); err != nil {
			return err
		}
		style := st.header
		if c.Required {
			style = st.required
		}
		if err := f.SetCellValue(data, name+"1", c.Header); err != nil {
			return err
		}
		if err := f.SetCellStyle(data, name+"1", name+"1", style); err != nil {
			return err
		}
		if err := f.AddComment(data, excelize.Comment{Author: "wufei", Cell: name + "1", Width: 260, Height: 120,
			Paragraph: []excelize.RichTextRun{{Text: c.Key + "\n", Font: &excelize.Font{Bold: true}}, {Text: note(c)}}}); err != nil {
			return err
		}
		if len(c.Choices) == 0 {
			continue
		}
		dv := excelize.NewDataValidation(!c.Required)
		dv.Sqref = fmt.Sprintf("%s2:%s%d", name, name, lastRow)
		if err := dv.SetDropList(c.Choices); err != nil || utf8.RuneCountInString(strings.Join(c.Choices, ",")) > 250 {
			// Too long for the list itself: the choices go to a hidden sheet.
			if choiceCol == 0 {
				if _, err := f.NewSheet(choicesSheet); err != nil {
					return err
				}
			}
			choiceCol++
			cn, _ := excelize.ColumnNumberToName(choiceCol)
			if err := f.SetCellValue(choicesSheet, cn+"1", c.Key); err != nil {
				return err
			}
			for j, v := range c.Choices {
				if err := f.SetCellStr(choicesSheet, fmt.Sprintf("%s%d", cn, j+2), v); err != nil {
					return err
				}
			}
			dv.SetSqrefDropList(fmt.Sprintf("'%s'!$%s$2:$%s$%d", choicesSheet, cn, cn, len(c.Choices)+1))
		}
		dv.SetError(excelize.DataValidationErrorStyleStop, c.Header, "请从下拉列表中选择")
		if err := f.AddDataValidation(data, dv); err != nil {
			return err
		}
	}
	if err := writeGuide(f, cols, st); err != nil {
		return err
	}
	if choiceCol > 0 {
		if err := f.SetSheetVisible(choicesSheet, false); err != nil {
			return err
		}
	}
	f.SetActiveSheet(0)
	return f.Write(w)
}

// writeGuide adds the sheet that explains each column and shows the
// example row. The example lives here, not on the data sheet, so that
// importing an untouched template stores nothing.
func writeGuide(f *excelize.File, cols []Column, st styles) error {
	if _, err := f.NewSheet(GuideSheet); err != nil {
		return err
	}
	set := func(cell string, v any, style int) error {
		if err := f.SetCellValue(GuideSheet, cell, v); err != nil {
			return err
		}
		if style == 0 {
			return nil
		}
		return f.SetCellStyle(GuideSheet, cell, cell, style)
	}
	intro := "在第一个工作表中从第 2 行起逐行填写，每行一条记录；表头不要改动（表头也可写英文键）。" +
		"橙色表头为必填列。数量以吨为单位，最多 6 位小数；日期写作 2026-01-31 或 2026-01-31 08:30。" +
		"导入时逐行检查，任何一行有误则全部不导入，并列出出错的行、列和原因；同一行再次导入不会重复记录。"
	if err := set("A1", intro, st.wrap); err != nil {
		return err
	}
	if err := f.MergeCell(GuideSheet, "A1", "G1"); err != nil {
		return err
	}
	if err := f.SetRowHeight(GuideSheet, 1, 60); err != nil {
		return err
	}
	for i, h := range []string{"列", "表头", "英文键", "必填", "可选值", "说明", "示例"} {
		name, _ := excelize.ColumnNumberToName(i + 1)
		if err := set(name+"3", h, st.header); err != nil {
			return err
		}
	}
	for i, c := range cols {
		r := i + 4
		name, _ := excelize.ColumnNumberToName(i + 1)
		choices := strings.Join(c.Choices, "、")
		if r := []rune(choices); len(r) > 200 {
			choices = string(r[:200]) + "…（见下拉列表）"
		}
		for j, v := range []string{name, c.Header, c.Key, map[bool]string{true: "是", false: ""}[c.Required], choices, c.Note, c.Example} {
			cn, _ := excelize.ColumnNumberToName(j + 1)
			if err := set(fmt.Sprintf("%s%d", cn, r), v, st.wrap); err != nil {
				return err
			}
		}
	}
	for j, wd := range []float64{6, 18, 18, 6, 40, 48, 24} {
		cn, _ := excelize.ColumnNumberToName(j + 1)
		if err := f.SetColWidth(GuideSheet, cn, cn, wd); err != nil {
			return err
		}
	}
	// The example row, laid out as on the data sheet.
	r := len(cols) + 6
	if err := set(fmt.Sprintf("A%d", r), "示例行（仅供参考，导入时不读取本工作表）：", 0); err != nil {
		return err
	}
	for i, c := range cols {
		name, _ := excelize.ColumnNumberToName(i + 1)
		if err := set(fmt.Sprintf("%s%d", name, r+1), c.Header, st.header); err != nil {
			return err
		}
		if err := f.SetCellStr(GuideSheet, fmt.Sprintf("%s%d", name, r+2), c.Example); err != nil {
			return err
		}
	}
	return nil
}

// note is the help a header's comment gives.
func note(c Column) string {
	var b strings.Builder
	if c.Required {
		b.WriteString("必填。")
	} else {
		b.WriteString("选填。")
	}
	b.WriteString(c.Note)
	if len(c.Choices) > 0 {
		b.WriteString(" 请从下拉列表中选择。")
	}
	if c.Example != "" {
		b.WriteString(" 例：" + c.Example)
	}
	return b.String()
}

// width is a readable column width: the longest of the header and the
// example, counting a Chinese character as two.
func width(c Column) float64 {
	w := 10
	for _, s := range []string{c.Header, c.Example} {
		n := 0
		for _, r := range s {
			if r > 0x2E80 {
				n += 2
			} else {
				n++
			}
		}
		w = max(w, n+4)
	}
	return float64(min(w, 48))
}

type styles struct{ header, required, text, wrap int }

func newStyles(f *excelize.File) (styles, error) {
	var s styles
	var err error
	border := []excelize.Border{{Type: "bottom", Color: "999999", Style: 1}}
	if s.header, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Border: border,
		Fill:      excelize.Fill{Type: "pattern", Color: []string{"DDEBF7"}, Pattern: 1},
		Alignment: &excelize.Alignment{Vertical: "center", WrapText: true}}); err != nil {
		return s, err
	}
	if s.required, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Border: border,
		Fill:      excelize.Fill{Type: "pattern", Color: []string{"FCE4D6"}, Pattern: 1},
		Alignment: &excelize.Alignment{Vertical: "center", WrapText: true}}); err != nil {
		return s, err
	}
	if s.text, err = f.NewStyle(&excelize.Style{NumFmt: 49}); err != nil {
		return s, err
	}
	s.wrap, err = f.NewStyle(&excelize.Style{Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}})
	return s, err
}

// newWorkbook starts a kind's workbook: its columns, and the data sheet
// named after the kind, with the styles. The caller closes it.
func newWorkbook(ctx context.Context, k Kind) (f *excelize.File, cols []Column, data string, st styles, err error) {
	if cols, err = k.Columns(ctx); err != nil {
		return nil, nil, "", st, err
	}
	f = excelize.NewFile()
	data = sheetName(k.Title())
	if err = f.SetSheetName("Sheet1", data); err == nil {
		st, err = newStyles(f)
	}
	if err != nil {
		f.Close()
		return nil, nil, "", st, err
	}
	return f, cols, data, st, nil
}

// SheetRows is how many rows, the header's included, an export puts on one
// sheet: Excel's limit.
var SheetRows = excelize.TotalRows

// WriteExport writes the rows of a year that p may see to w, with the
// template's header row, through excelize's stream writer: rows go to a
// temporary file as they come, so memory stays flat however many there
// are. Nothing is written to w if the kind fails.
func WriteExport(ctx context.Context, k Kind, p auth.Principal, year int, w io.Writer) error {
	f, cols, data, st, err := newWorkbook(ctx, k)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]any, len(cols))
	for i, c := range cols {
		style := st.header
		if c.Required {
			style = st.required
		}
		head[i] = excelize.Cell{StyleID: style, Value: c.Header}
	}
	// A sheet holds SheetRows rows at most (Excel's own limit); a year of a
	// province's ledger goes on over further sheets, each with the header:
	// data, data (2), …
	var sw *excelize.StreamWriter
	sheets, n := 0, 0
	next := func() error {
		if sw != nil {
			if err := sw.Flush(); err != nil {
				return err
			}
		}
		sheets++
		name := data
		if sheets > 1 {
			suffix := fmt.Sprintf(" (%d)", sheets)
			r := []rune(data)
			name = string(r[:min(len(r), 31-len(suffix))]) + suffix
			if _, err := f.NewSheet(name); err != nil {
				return err
			}
		}
		var err error
		if sw, err = f.NewStreamWriter(name); err != nil {
			return err
		}
		for i, c := range cols {
			if err := sw.SetColWidth(i+1, i+1, width(c)); err != nil {
				return err
			}
		}
		if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
			return err
		}
		n = 1
		return sw.SetRow("A1", head)
	}
	if err := next(); err != nil {
		return err
	}
	vals := make([]any, len(cols))
	err = k.Export(ctx, p, year, func(cells []string) error {
		if n == SheetRows {
			if err := next(); err != nil {
				return err
			}
		}
		n++
		clear(vals)
		for i := range min(len(cells), len(vals)) {
			vals[i] = cellValue(cells[i])
		}
		cell, _ := excelize.CoordinatesToCellName(1, n)
		return sw.SetRow(cell, vals)
	})
	if err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	if err := writeGuide(f, cols, st); err != nil {
		return err
	}
	f.SetActiveSheet(0)
	// File.Write would build the whole zip in a buffer first; writing the
	// zip straight to w keeps memory flat.
	f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zip.NewWriter(w) })
	_, err = f.WriteToBuffer()
	return err
}

// plainNumber is a decimal that Excel shows as typed: no leading zero, no
// exponent, few enough digits to stay exact. Codes with leading zeros and
// long serial numbers stay text.
var plainNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]{0,9})(\.[0-9]{1,6})?$`)

// cellValue writes numbers as numbers, so that sums work in Excel, and
// everything else as text.
func cellValue(s string) any {
	if s == "" {
		return nil
	}
	if plainNumber.MatchString(s) {
		if v, err := strconv.ParseFloat(s, 64); err == nil && strconv.FormatFloat(v, 'f', -1, 64) == s {
			return v
		}
	}
	return s
}
