// Package sludge keeps the monthly records of the sewage sludge (城镇污水处理
// 厂污泥) each plant generates and how it was treated. Quantities are wet
// sludge converted to 80 % moisture (含水率 80% 折算), the basis of the
// national statistics, so that plants that dry or dewater further compare.
package sludge

import (
	"context"

	"wufei/internal/errs"
	"wufei/internal/store"
	"wufei/internal/streams/sheet"
)

// Method is a way sludge is treated, and whether it counts as safe
// disposal (无害化利用处置).
type Method struct {
	Key, Name string
	Safe      bool
}

// Methods are the ways the ledger separates. Incineration (alone or with
// household waste or in power plants), use in building materials (brick,
// cement kiln), land use after stabilisation to GB/T 23486 / CJ/T 309, and
// sanitary landfill after dewatering to GB/T 23485 count as safe disposal;
// "other" (temporary stacking, unknown destination) does not.
var Methods = []Method{
	{"incinerated_t", "焚烧", true}, {"materials_t", "建材利用", true}, {"land_t", "土地利用", true},
	{"landfill_t", "卫生填埋", true}, {"other_t", "其他", false},
}

// Ledger is one plant's month.
var Ledger = func() *sheet.Spec {
	fs := []sheet.Field{
		{Key: "plant_uscc", Header: "污水处理厂统一社会信用代码", EN: "Plant (USCC)", Type: sheet.Unit, Required: true,
			Note: "平台已登记的污水处理厂；单位账号填报时可留空", Example: "91340600MA2S0001XX"},
		sheet.MonthlyField,
		{Key: "generated_t", Header: "污泥产生量（吨，含水率 80% 折算）", EN: "Generated (t at 80 % moisture)", Type: sheet.Tonnes,
			Required: true, Note: "湿污泥按含水率 80% 折算的吨数", Example: "1200"},
	}
	for _, m := range Methods {
		note := "吨（含水率 80% 折算），计入无害化"
		if !m.Safe {
			note = "吨（含水率 80% 折算），临时堆存、去向不明等，不计入无害化"
		}
		fs = append(fs, sheet.Field{Key: m.Key, Header: m.Name + "（吨）", EN: m.Name, Type: sheet.Tonnes, Note: note, Example: "0"})
	}
	fs[3].Example = "1200"
	fs = append(fs,
		sheet.Field{Key: "receiver", Header: "接收处置单位", EN: "Receiver", Type: sheet.Text, Max: 100, Example: "淮北市生活垃圾焚烧发电厂"},
		sheet.NoteField)
	return &sheet.Spec{Name: "sludge_ledger", Title: "城镇污水处理厂污泥台账（月）", TitleEN: "Sewage sludge ledger (monthly)",
		Group: "sludge", Lead: "市住建局", Table: "sludge_ledgers", Fields: fs,
		Key: []string{"plant_uscc", "month"}, Period: "month", UnitWrites: true, Check: check}
}()

// Treated is what a month's record says was treated by any method.
func Treated(r *sheet.Record) (all, safe int64) {
	for _, m := range Methods {
		all += r.Num(m.Key)
		if m.Safe {
			safe += r.Num(m.Key)
		}
	}
	return all, safe
}

func check(_ context.Context, _ store.Querier, r *sheet.Record, v *errs.Validation) error {
	if all, _ := Treated(r); all > r.Num("generated_t") {
		v.Add("generated_t", "treated_exceeds_generated", "各去向之和超过污泥产生量")
	}
	return nil
}

// Specs are the package's record kinds.
var Specs = []*sheet.Spec{Ledger}

// Sheets returns the services of the package's record kinds.
func Sheets(db *store.DB) []*sheet.Service { return sheet.All(db, Specs) }
