package bulletin

import (
	"bytes"
	"fmt"
	"wufei/internal/calendar"

	"github.com/xuri/excelize/v2"
)

// Sheet names of the workbook, in order.
const (
	SheetIndicators = "指标"
	SheetTasks      = "任务"
	SheetRegions    = "地区排名"
	SheetOverdue    = "逾期事项"
)

// sheet is one worksheet: a title row, a header row and the data rows.
type sheet struct {
	name   string
	header []string
	widths []float64
	rows   [][]any
}

// Workbook renders the bulletin as an .xlsx workbook with one sheet each
// for the indicators, the tasks, the regions ranked and the overdue items.
// Each sheet starts with the bulletin's title, then a header row that stays
// in view; numbers are cells of numbers, a missing value an empty cell.
func Workbook(b Bulletin) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	f.SetDocProps(&excelize.DocProperties{Title: b.Title, Creator: "wufei 无废城市“一张网”", Language: "zh-CN"})

	sheets := []sheet{
		{name: SheetIndicators, header: []string{"一级指标", "指标", "单位", "牵头部门", "目标值", "目标年", "本期值", "状态", "预计目标年值"},
			widths: []float64{16, 34, 10, 12, 10, 8, 10, 10, 14}},
		{name: SheetTasks, header: []string{"编号", "任务", "责任单位", "目标", "完成期限", "进度（%）", "进度日期", "本季度报送", "已报", "未报", "到期节点完成"},
			widths: []float64{9, 34, 30, 40, 12, 10, 12, 48, 6, 6, 12}},
		{name: SheetRegions, header: []string{"排名", "地区", "代码", "指标得分", "已达标或进度正常", "有风险", "可评价指标", "无废细胞"},
			widths: []float64{6, 40, 12, 10, 16, 8, 12, 10}},
		{name: SheetOverdue, header: []string{"类别", "任务编号", "任务", "责任部门", "事项", "期限", "逾期天数"},
			widths: []float64{12, 10, 34, 22, 30, 12, 10}},
	}
	for _, r := range b.Indicators {
		sheets[0].rows = append(sheets[0].rows, []any{r.Level1, r.Name, r.Unit, r.Lead, num(r.Target), intp(r.TargetYear),
			num(r.Value), r.StatusName, num(r.Projected)})
	}
	for _, r := range b.Tasks {
		sheets[1].rows = append(sheets[1].rows, []any{r.Code, r.Title, r.Lead, r.Target, r.Deadline, r.Progress, r.ProgressDate,
			r.Reports, r.Filed, r.Owed, r.Milestones})
	}
	for _, r := range b.Regions {
		sheets[2].rows = append(sheets[2].rows, []any{r.Rank, r.Name, r.Code, r.Score, r.Good, r.AtRisk, r.Judged, r.Cells})
	}
	for _, r := range b.Overdue {
		sheets[3].rows = append(sheets[3].rows, []any{r.KindName, r.TaskCode, r.TaskTitle, r.Department, r.Item, r.DueDate, r.Days})
	}

	title, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}})
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
	wrap, err := f.NewStyle(&excelize.Style{Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}})
	if err != nil {
		return nil, err
	}
	for i, sh := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", sh.name); err != nil {
				return nil, err
			}
		} else if _, err := f.NewSheet(sh.name); err != nil {
			return nil, err
		}
		if err := writeSheet(f, sh, b, title, head, wrap); err != nil {
			return nil, fmt.Errorf("bulletin: sheet %s: %w", sh.name, err)
		}
	}
	f.SetActiveSheet(0)
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeSheet(f *excelize.File, sh sheet, b Bulletin, title, head, wrap int) error {
	last, _ := excelize.ColumnNumberToName(len(sh.header))
	if err := f.SetCellStr(sh.name, "A1", b.Title+" · "+sh.name); err != nil {
		return err
	}
	if err := f.SetCellStyle(sh.name, "A1", "A1", title); err != nil {
		return err
	}
	if err := f.SetCellStr(sh.name, "A2", "统计截至 "+b.AsOf+"，生成于 "+b.GeneratedAt.In(calendar.Zone).Format("2006-01-02 15:04")); err != nil {
		return err
	}
	if err := f.SetSheetRow(sh.name, "A3", &sh.header); err != nil {
		return err
	}
	if err := f.SetCellStyle(sh.name, "A3", last+"3", head); err != nil {
		return err
	}
	for i, row := range sh.rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+4)
		if err := f.SetSheetRow(sh.name, cell, &row); err != nil {
			return err
		}
	}
	if len(sh.rows) > 0 {
		end, _ := excelize.CoordinatesToCellName(len(sh.header), len(sh.rows)+3)
		if err := f.SetCellStyle(sh.name, "A4", end, wrap); err != nil {
			return err
		}
	}
	for i, w := range sh.widths {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetColWidth(sh.name, col, col, w); err != nil {
			return err
		}
	}
	return f.SetPanes(sh.name, &excelize.Panes{Freeze: true, YSplit: 3, TopLeftCell: "A4", ActivePane: "bottomLeft"})
}

// num is a value for a cell: the number, or nothing.
func num(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}

func intp(v *int) any {
	if v == nil {
		return nil
	}
	return *v
}
