// Package industrial keeps the records of general industrial solid waste
// (一般工业固体废物): each generator's monthly ledger by category in the
// form of the 2021 national ledger guideline (一般工业固体废物管理台账制定
// 指南（试行）), the utilisation bases (综合利用基地) and the survey of
// historical stockpiles (历史遗留固废排查).
package industrial

import (
	"context"
	"fmt"
	"strings"

	"wufei/internal/errs"
	"wufei/internal/store"
	"wufei/internal/streams/sheet"
)

// Categories are the general industrial solid-waste categories of the
// national guideline (the catalogue's gisw_categories), code → name.
var Categories = []struct{ Code, Name string }{
	{"SW01", "冶炼废渣"}, {"SW02", "粉煤灰"}, {"SW03", "炉渣"}, {"SW04", "煤矸石"}, {"SW05", "尾矿"},
	{"SW06", "脱硫石膏"}, {"SW07", "污泥"}, {"SW09", "赤泥"}, {"SW10", "磷石膏"}, {"SW11", "工业副产石膏"},
	{"SW12", "钻井岩屑"}, {"SW13", "食品残渣"}, {"SW14", "纺织皮革业废物"}, {"SW15", "造纸印刷业废物"},
	{"SW16", "化工废物"}, {"SW17", "可再生类废物"}, {"SW59", "其他工业固体废物"},
}

func categoryCodes() ([]string, string) {
	codes := make([]string, len(Categories))
	names := make([]string, len(Categories))
	for i, c := range Categories {
		codes[i], names[i] = c.Code, c.Code+" "+c.Name
	}
	return codes, strings.Join(names, "；")
}

// Ways are the ways of utilisation the ledger separates (综合利用方式), by
// the ledger's column.
var Ways = []struct{ Key, Name string }{
	{"util_materials_t", "建材"}, {"util_backfill_t", "回填"}, {"util_restoration_t", "生态修复"},
	{"util_kiln_t", "水泥窑协同"}, {"util_other_t", "其他"},
}

// Ledger is the monthly ledger of one generator and category. The stock
// balances: opening + generated − utilised − disposed = closing.
var Ledger = func() *sheet.Spec {
	codes, names := categoryCodes()
	t := func(key, header, en string) sheet.Field {
		return sheet.Field{Key: key, Header: header, EN: en, Type: sheet.Tonnes, Note: "吨，最多 3 位小数", Example: "0"}
	}
	fs := []sheet.Field{
		{Key: "unit_uscc", Header: "产废单位统一社会信用代码", EN: "Generator (USCC)", Type: sheet.Unit, Required: true,
			Note: "平台已登记的单位；单位账号填报时可留空", Example: "91340621MA2N8C01XX"},
		sheet.MonthlyField,
		{Key: "category", Header: "废物类别", EN: "Category", Type: sheet.Choice, Required: true, Choices: codes, Note: names,
			Example: "SW04"},
		t("opening_stock_t", "期初贮存量（吨）", "Stock carried in (t)"),
		{Key: "generated_t", Header: "产生量（吨）", EN: "Generated (t)", Type: sheet.Tonnes, Required: true,
			Note: "吨，最多 3 位小数", Example: "12000"},
	}
	for _, w := range Ways {
		fs = append(fs, t(w.Key, "综合利用量："+w.Name+"（吨）", "Utilised: "+w.Name+" (t)"))
	}
	fs = append(fs,
		t("util_prior_t", "其中：综合利用往年贮存量（吨）", "Of which prior years' stock utilised (t)"),
		t("disposed_t", "处置量（吨）", "Disposed (t)"),
		t("closing_stock_t", "期末贮存量（吨）", "Stock carried out (t)"),
		sheet.NoteField)
	fs[5].Example = "9000"  // building materials
	fs[12].Example = "3000" // closing stock: 0 + 12000 − 9000 − 0
	return &sheet.Spec{Name: "gisw_ledger", Title: "一般工业固体废物台账（月）", TitleEN: "General industrial solid waste ledger (monthly)",
		Group: "industrial", Lead: "市生态环境局", Table: "gisw_ledgers", Fields: fs,
		Key: []string{"unit_uscc", "month", "category"}, Period: "month", UnitWrites: true, Check: checkLedger}
}()

// Utilised is a ledger record's total utilisation over all ways.
func Utilised(r *sheet.Record) int64 {
	var g int64
	for _, w := range Ways {
		g += r.Num(w.Key)
	}
	return g
}

func checkLedger(_ context.Context, _ store.Querier, r *sheet.Record, v *errs.Validation) error {
	used := Utilised(r)
	if r.Num("util_prior_t") > used {
		v.Add("util_prior_t", "prior_exceeds_utilised", "综合利用往年贮存量不能超过综合利用量合计")
	}
	if r.Num("util_prior_t") > r.Num("opening_stock_t") {
		v.Add("util_prior_t", "prior_exceeds_stock", "综合利用往年贮存量不能超过期初贮存量")
	}
	want := r.Num("opening_stock_t") + r.Num("generated_t") - used - r.Num("disposed_t")
	if want < 0 {
		v.Add("disposed_t", "stock_negative", "综合利用量与处置量之和超过期初贮存量与产生量之和")
	} else if r.Num("closing_stock_t") != want {
		v.Add("closing_stock_t", "stock_balance", fmt.Sprintf("期末贮存量应为期初贮存量 + 产生量 − 综合利用量 − 处置量 = %s 吨",
			(sheet.Field{Type: sheet.Tonnes}).Cell(want)))
	}
	return nil
}

// Base is a utilisation base (综合利用基地) in a year: what it takes and how
// much it can.
var Base = func() *sheet.Spec {
	_, names := categoryCodes()
	return &sheet.Spec{Name: "gisw_base", Title: "一般工业固体废物综合利用基地", TitleEN: "Utilisation bases",
		Group: "industrial", Lead: "市生态环境局", Table: "gisw_bases", Key: []string{"name", "year"}, Period: "year",
		Fields: []sheet.Field{
			{Key: "name", Header: "基地名称", EN: "Base", Type: sheet.Text, Required: true, Max: 100, Example: "淮北市煤矸石综合利用基地"},
			{Key: "year", Header: "年度", EN: "Year", Type: sheet.Year, Required: true, Example: "2026"},
			{Key: "region", Header: "所在县区或园区代码", EN: "Region", Type: sheet.Region, Required: true, Example: "340604"},
			{Key: "operator", Header: "运营单位", EN: "Operator", Type: sheet.Text, Max: 100},
			{Key: "ways", Header: "利用方式", EN: "Ways", Type: sheet.Text, Required: true, Max: 100,
				Note: "以“；”分隔：建材、回填、生态修复、水泥窑协同、其他", Example: "建材；回填"},
			{Key: "categories", Header: "利用废物类别", EN: "Categories", Type: sheet.Text, Max: 100,
				Note: "类别代码，以“；”分隔：" + names, Example: "SW04；SW02"},
			{Key: "capacity_t", Header: "设计利用能力（吨/年）", EN: "Capacity (t/a)", Type: sheet.Tonnes, Required: true,
				Example: "1500000"},
			{Key: "status", Header: "状态", EN: "Status", Type: sheet.Choice, Required: true, Choices: []string{"在建", "运行", "停运"},
				Example: "运行"},
		}, Check: checkBase}
}()

// splitList reads a list typed with ； ; 、 or , between items.
func splitList(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune("；;、,，", r) || r == ' ' })
	return f
}

func checkBase(_ context.Context, _ store.Querier, r *sheet.Record, v *errs.Validation) error {
	ways := map[string]bool{}
	for _, w := range Ways {
		ways[w.Name] = true
	}
	for _, w := range splitList(r.Str("ways")) {
		if !ways[w] {
			v.Add("ways", "way_unknown", "利用方式须为建材、回填、生态修复、水泥窑协同或其他: "+w)
			break
		}
	}
	known := map[string]bool{}
	for _, c := range Categories {
		known[c.Code] = true
	}
	for _, c := range splitList(r.Str("categories")) {
		if !known[c] {
			v.Add("categories", "category_unknown", "未知的废物类别代码: "+c)
			break
		}
	}
	return nil
}

// Stockpile statuses of the survey, in order.
const (
	NotStarted = "未整治"
	InProgress = "整治中"
	Remediated = "已整治"
	Closed     = "已销号"
)

// Stockpile is one site of the survey of historical stockpiles in a survey
// year, with its remediation status.
var Stockpile = func() *sheet.Spec {
	codes, names := categoryCodes()
	return &sheet.Spec{Name: "gisw_stockpile", Title: "历史遗留固体废物排查", TitleEN: "Historical stockpile survey",
		Group: "industrial", Lead: "市生态环境局", Table: "gisw_stockpiles",
		Key: []string{"region", "site", "year"}, Period: "year",
		Fields: []sheet.Field{
			{Key: "site", Header: "点位名称", EN: "Site", Type: sheet.Text, Required: true, Max: 100, Example: "朔里镇矸石山"},
			{Key: "year", Header: "排查年度", EN: "Survey year", Type: sheet.Year, Required: true, Example: "2026"},
			{Key: "region", Header: "所在县区或园区代码", EN: "Region", Type: sheet.Region, Required: true, Example: "340602"},
			{Key: "location", Header: "位置", EN: "Location", Type: sheet.Text, Required: true, Max: 200,
				Note: "乡镇、村或经纬度", Example: "朔里镇南山村东侧"},
			{Key: "category", Header: "废物类别", EN: "Category", Type: sheet.Choice, Required: true, Choices: codes, Note: names,
				Example: "SW04"},
			{Key: "estimated_t", Header: "估算量（吨）", EN: "Estimated (t)", Type: sheet.Tonnes, Required: true, Example: "250000"},
			{Key: "status", Header: "整治状态", EN: "Status", Type: sheet.Choice, Required: true,
				Choices: []string{NotStarted, InProgress, Remediated, Closed}, Example: InProgress},
			{Key: "found_on", Header: "发现日期", EN: "Found on", Type: sheet.Date, Required: true, Example: "2024-05-10"},
			{Key: "remediated_on", Header: "整治完成日期", EN: "Remediated on", Type: sheet.Date, Note: "已整治、已销号时必填"},
			{Key: "closed_on", Header: "销号日期", EN: "Closed on", Type: sheet.Date, Note: "已销号时必填"},
			{Key: "responsible", Header: "责任单位", EN: "Responsible", Type: sheet.Text, Max: 100, Example: "杜集区人民政府"},
			sheet.NoteField,
		}, Check: checkStockpile}
}()

func checkStockpile(_ context.Context, _ store.Querier, r *sheet.Record, v *errs.Validation) error {
	st, found, done, closed := r.Str("status"), r.Str("found_on"), r.Str("remediated_on"), r.Str("closed_on")
	switch {
	case (st == Remediated || st == Closed) && done == "":
		v.Add("remediated_on", "required", "已整治、已销号的点位须填写整治完成日期")
	case st == Closed && closed == "":
		v.Add("closed_on", "required", "已销号的点位须填写销号日期")
	case (st == NotStarted || st == InProgress) && (done != "" || closed != ""):
		v.Add("status", "status_dates", "未整治、整治中的点位不应有整治完成或销号日期")
	}
	if done != "" && done < found {
		v.Add("remediated_on", "date_order", "整治完成日期不能早于发现日期")
	}
	if closed != "" && done != "" && closed < done {
		v.Add("closed_on", "date_order", "销号日期不能早于整治完成日期")
	}
	return nil
}

// Specs are the package's record kinds.
var Specs = []*sheet.Spec{Ledger, Base, Stockpile}

// Sheets returns the services of the package's record kinds.
func Sheets(db *store.DB) []*sheet.Service { return sheet.All(db, Specs) }
