package publication

import (
	"bytes"
	"fmt"

	"github.com/xuri/excelize/v2"

	"wufei/internal/calendar"
)

// Workbook renders the publication as an .xlsx workbook: one sheet with
// every table in turn, each with its title, its figures as numbers, its
// total and notes, and the records its figures come from.
func Workbook(r Report) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	title := r.Title()
	f.SetDocProps(&excelize.DocProperties{Title: title, Creator: "wufei 无废城市“一张网”", Language: "zh-CN"})
	const sh = "信息公开"
	if err := f.SetSheetName("Sheet1", sh); err != nil {
		return nil, err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}})
	if err != nil {
		return nil, err
	}
	head, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DCE6F1"}},
		Alignment: &excelize.Alignment{Vertical: "center", WrapText: true},
		Border:    []excelize.Border{{Type: "bottom", Color: "666666", Style: 1}}})
	if err != nil {
		return nil, err
	}
	strong, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return nil, err
	}
	muted, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Color: "555555", Size: 9}})
	if err != nil {
		return nil, err
	}
	row := 1
	put := func(values []any, style int) error {
		cell, _ := excelize.CoordinatesToCellName(1, row)
		if err := f.SetSheetRow(sh, cell, &values); err != nil {
			return err
		}
		if style != 0 {
			end, _ := excelize.CoordinatesToCellName(max(len(values), 1), row)
			if err := f.SetCellStyle(sh, cell, end, style); err != nil {
				return err
			}
		}
		row++
		return nil
	}
	if err := put([]any{title}, bold); err != nil {
		return nil, err
	}
	if err := put([]any{"根据平台记录生成于 " + r.GeneratedAt.In(calendar.Zone).Format("2006-01-02 15:04")}, muted); err != nil {
		return nil, err
	}
	for _, t := range r.Tables {
		row++
		if err := put([]any{t.Title}, strong); err != nil {
			return nil, err
		}
		header := []any{t.Label}
		if t.Note != "" {
			header = append(header, t.Note)
		}
		for _, c := range t.Columns {
			header = append(header, c)
		}
		if err := put(header, head); err != nil {
			return nil, err
		}
		rows := t.Rows
		if t.Total != nil {
			rows = append(rows[:len(rows):len(rows)], *t.Total)
		}
		for _, x := range rows {
			line := []any{x.Label}
			if t.Note != "" {
				line = append(line, x.Note)
			}
			for _, v := range x.Values {
				line = append(line, v)
			}
			if err := put(line, 0); err != nil {
				return nil, err
			}
		}
		for _, n := range t.Notes {
			if err := put([]any{n}, 0); err != nil {
				return nil, err
			}
		}
		if err := put([]any{"数据来源：" + t.Source}, muted); err != nil {
			return nil, err
		}
	}
	if err := f.SetColWidth(sh, "A", "A", 34); err != nil {
		return nil, err
	}
	if err := f.SetColWidth(sh, "B", "I", 16); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Title is the publication's title.
func (r Report) Title() string {
	return fmt.Sprintf("淮北市 %d 年固体废物污染环境防治信息公开", r.Year)
}
