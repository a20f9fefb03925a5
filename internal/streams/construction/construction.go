// Package construction keeps the records of construction waste (建筑垃圾):
// projects' declarations (申报) with the volumes they expect by type,
// haulage permits (准运证) and the licensed haul vehicles they name, the
// disposal and recycling sites (消纳场、资源化利用厂) with their capacity and
// monthly quantities received and recycled, and each region's new floor
// area with its green and prefabricated shares.
package construction

import (
	"context"
	"regexp"
	"strings"

	"wufei/internal/errs"
	"wufei/internal/store"
	"wufei/internal/streams/sheet"
)

// Types are the kinds of construction waste of the declaration (CJJ/T 134).
var Types = []struct{ Key, Name string }{
	{"muck_t", "工程渣土"}, {"slurry_t", "工程泥浆"}, {"engineering_t", "工程垃圾"}, {"demolition_t", "拆除垃圾"},
	{"decoration_t", "装修垃圾"},
}

// Declaration is a project's declaration of the construction waste it
// expects to produce.
var Declaration = func() *sheet.Spec {
	fs := []sheet.Field{
		{Key: "declaration_no", Header: "申报编号", EN: "Declaration no.", Type: sheet.Text, Required: true, Max: 40,
			Example: "JZLJ-2026-0001"},
		{Key: "project", Header: "项目名称", EN: "Project", Type: sheet.Text, Required: true, Max: 100, Example: "相山区某安置房项目"},
		{Key: "site", Header: "工地地址", EN: "Site", Type: sheet.Text, Required: true, Max: 200, Example: "相山区长山路与淮海路交口"},
		{Key: "region", Header: "所在县区或园区代码", EN: "Region", Type: sheet.Region, Required: true, Example: "340603"},
		{Key: "builder", Header: "建设单位", EN: "Builder", Type: sheet.Text, Required: true, Max: 100, Example: "淮北市某置业有限公司"},
		{Key: "builder_uscc", Header: "建设单位统一社会信用代码", EN: "Builder (USCC)", Type: sheet.Link, Max: 18,
			Note: "已在平台登记的单位可由本单位账号填报"},
		{Key: "declared_on", Header: "申报日期", EN: "Declared on", Type: sheet.Date, Required: true, Example: "2026-03-02"},
	}
	for _, t := range Types {
		fs = append(fs, sheet.Field{Key: t.Key, Header: "预计" + t.Name + "（吨）", EN: t.Name + " expected (t)", Type: sheet.Tonnes,
			Note: "吨", Example: "0"})
	}
	fs[7].Example = "8000"
	fs = append(fs, sheet.Field{Key: "destination", Header: "拟消纳场所", EN: "Destination", Type: sheet.Text, Max: 100})
	return &sheet.Spec{Name: "cdw_declaration", Title: "建筑垃圾处置申报", TitleEN: "Construction waste declarations",
		Group: "construction", Lead: "市城市管理局", Table: "cdw_declarations", Fields: fs,
		Key: []string{"declaration_no"}, Period: "declared_on", UnitWrites: true, Check: checkDeclaration}
}()

func checkDeclaration(_ context.Context, _ store.Querier, r *sheet.Record, v *errs.Validation) error {
	var sum int64
	for _, t := range Types {
		sum += r.Num(t.Key)
	}
	if sum == 0 {
		v.Add(Types[0].Key, "volumes_required", "须至少填写一类预计产生量")
	}
	return nil
}

// plateRe is a Chinese licence plate: province character, letter, 5 or 6
// letters and digits (new-energy plates have 6).
var plateRe = regexp.MustCompile(`^\p{Han}[A-Z][A-Z0-9]{5,6}$`)

// Vehicle is a haul vehicle licensed for construction waste in a year.
var Vehicle = &sheet.Spec{Name: "cdw_vehicle", Title: "建筑垃圾运输车辆", TitleEN: "Licensed haul vehicles",
	Group: "construction", Lead: "市城市管理局", Table: "cdw_vehicles", Key: []string{"plate", "year"}, Period: "year",
	UnitWrites: true, Fields: []sheet.Field{
		{Key: "plate", Header: "车牌号", EN: "Plate", Type: sheet.Text, Required: true, Max: 10, Example: "皖F12345"},
		{Key: "year", Header: "核准年度", EN: "Year", Type: sheet.Year, Required: true, Example: "2026"},
		{Key: "hauler", Header: "运输单位", EN: "Hauler", Type: sheet.Text, Required: true, Max: 100, Example: "淮北市某渣土运输有限公司"},
		{Key: "hauler_uscc", Header: "运输单位统一社会信用代码", EN: "Hauler (USCC)", Type: sheet.Link, Max: 18},
		{Key: "region", Header: "核准县区代码", EN: "Region", Type: sheet.Region, Required: true, Example: "340603"},
		{Key: "vehicle_type", Header: "车辆类型", EN: "Type", Type: sheet.Choice, Required: true,
			Choices: []string{"自卸车", "泥浆罐车", "其他"}, Example: "自卸车"},
		{Key: "capacity_t", Header: "核定载质量（吨）", EN: "Capacity (t)", Type: sheet.Tonnes, Example: "18"},
		{Key: "sealed", Header: "全密闭", EN: "Fully enclosed", Type: sheet.Choice, Required: true, Choices: []string{"是", "否"},
			Example: "是"},
		{Key: "tracked", Header: "卫星定位", EN: "Satellite tracking", Type: sheet.Choice, Required: true,
			Choices: []string{"是", "否"}, Example: "是"},
		{Key: "valid_to", Header: "核准有效期至", EN: "Valid to", Type: sheet.Date, Example: "2026-12-31"},
	}, Check: checkVehicle}

func checkVehicle(_ context.Context, _ store.Querier, r *sheet.Record, v *errs.Validation) error {
	r.V["plate"] = strings.ToUpper(r.Str("plate"))
	if !plateRe.MatchString(r.Str("plate")) {
		v.Add("plate", "plate_format", "车牌号格式不正确，如 皖F12345")
	}
	return nil
}

// Permit is a haulage permit (准运证) for a project, naming the licensed
// vehicles that may carry its waste.
var Permit = &sheet.Spec{Name: "cdw_permit", Title: "建筑垃圾准运证", TitleEN: "Haulage permits",
	Group: "construction", Lead: "市城市管理局", Table: "cdw_permits", Key: []string{"permit_no"}, Period: "valid_from",
	UnitWrites: true, Fields: []sheet.Field{
		{Key: "permit_no", Header: "准运证号", EN: "Permit no.", Type: sheet.Text, Required: true, Max: 40, Example: "ZY-2026-0001"},
		{Key: "declaration_no", Header: "申报编号", EN: "Declaration no.", Type: sheet.Text, Max: 40, Note: "已申报项目的申报编号",
			Example: "JZLJ-2026-0001"},
		{Key: "project", Header: "项目名称", EN: "Project", Type: sheet.Text, Required: true, Max: 100, Example: "相山区某安置房项目"},
		{Key: "hauler", Header: "运输单位", EN: "Hauler", Type: sheet.Text, Required: true, Max: 100, Example: "淮北市某渣土运输有限公司"},
		{Key: "hauler_uscc", Header: "运输单位统一社会信用代码", EN: "Hauler (USCC)", Type: sheet.Link, Max: 18},
		{Key: "region", Header: "核发县区代码", EN: "Region", Type: sheet.Region, Required: true, Example: "340603"},
		{Key: "plates", Header: "车辆号牌", EN: "Vehicles", Type: sheet.Text, Required: true, Max: 500,
			Note: "以“；”分隔；须为已核准的建筑垃圾运输车辆", Example: "皖F12345"},
		{Key: "destination", Header: "消纳场所", EN: "Destination", Type: sheet.Text, Max: 100},
		{Key: "valid_from", Header: "有效期起", EN: "Valid from", Type: sheet.Date, Required: true, Example: "2026-03-05"},
		{Key: "valid_to", Header: "有效期止", EN: "Valid to", Type: sheet.Date, Required: true, Example: "2026-06-30"},
	}, Check: checkPermit}

func checkPermit(ctx context.Context, q store.Querier, r *sheet.Record, v *errs.Validation) error {
	if r.Str("valid_to") < r.Str("valid_from") {
		v.Add("valid_to", "date_order", "有效期止不能早于有效期起")
	}
	if no := r.Str("declaration_no"); no != "" {
		var n int
		if err := store.Get(ctx, q, &n, `SELECT count(*) FROM cdw_declarations WHERE declaration_no = ?`, no); err != nil {
			return err
		}
		if n == 0 {
			v.Add("declaration_no", "declaration_unknown", "没有申报编号为 "+no+" 的建筑垃圾处置申报")
		}
	}
	var plates []string
	for _, p := range strings.FieldsFunc(r.Str("plates"), func(c rune) bool { return strings.ContainsRune("；;、,， ", c) }) {
		p = strings.ToUpper(p)
		plates = append(plates, p)
		var n int
		if err := store.Get(ctx, q, &n, `SELECT count(*) FROM cdw_vehicles WHERE plate = ? AND (valid_to = '' OR valid_to >= ?)`,
			p, r.Str("valid_from")); err != nil {
			return err
		}
		if n == 0 {
			v.Add("plates", "vehicle_unlicensed", "车辆 "+p+" 不是有效期内核准的建筑垃圾运输车辆")
			break
		}
	}
	r.V["plates"] = strings.Join(plates, "；")
	return nil
}

// Site kinds.
const (
	Landfill = "消纳场"
	Recycler = "资源化利用厂"
)

// Site is a disposal or recycling site in a year, with its capacity.
var Site = &sheet.Spec{Name: "cdw_site", Title: "建筑垃圾消纳和资源化利用场所", TitleEN: "Disposal and recycling sites",
	Group: "construction", Lead: "市城市管理局", Table: "cdw_sites", Key: []string{"name", "year"}, Period: "year",
	UnitWrites: true, Fields: []sheet.Field{
		{Key: "name", Header: "场所名称", EN: "Site", Type: sheet.Text, Required: true, Max: 100, Example: "淮北市建筑垃圾资源化利用厂"},
		{Key: "year", Header: "年度", EN: "Year", Type: sheet.Year, Required: true, Example: "2026"},
		{Key: "kind", Header: "场所类型", EN: "Kind", Type: sheet.Choice, Required: true, Choices: []string{Landfill, Recycler},
			Example: Recycler},
		{Key: "region", Header: "所在县区或园区代码", EN: "Region", Type: sheet.Region, Required: true, Example: "340604"},
		{Key: "operator", Header: "运营单位", EN: "Operator", Type: sheet.Text, Max: 100},
		{Key: "operator_uscc", Header: "运营单位统一社会信用代码", EN: "Operator (USCC)", Type: sheet.Link, Max: 18,
			Note: "已在平台登记的运营单位可由本单位账号填报月度数量"},
		{Key: "address", Header: "地址", EN: "Address", Type: sheet.Text, Max: 200},
		{Key: "capacity_t", Header: "设计能力（吨/年）", EN: "Capacity (t/a)", Type: sheet.Tonnes, Required: true, Example: "1000000"},
		{Key: "status", Header: "状态", EN: "Status", Type: sheet.Choice, Required: true, Choices: []string{"在建", "运行", "停运", "封场"},
			Example: "运行"},
	}}

// SiteMonth is what a site received and recycled in a month. Its region and
// unit are its site's.
var SiteMonth = &sheet.Spec{Name: "cdw_site_month", Title: "建筑垃圾消纳和资源化利用量（月）",
	TitleEN: "Received and recycled per site (monthly)", Group: "construction", Lead: "市城市管理局", Table: "cdw_site_months",
	Key: []string{"site", "month"}, Period: "month", UnitWrites: true,
	Fields: []sheet.Field{
		{Key: "site", Header: "场所名称", EN: "Site", Type: sheet.Text, Required: true, Max: 100, Note: "本年度已登记的场所",
			Example: "淮北市建筑垃圾资源化利用厂"},
		sheet.MonthlyField,
		{Key: "received_t", Header: "进场量（吨）", EN: "Received (t)", Type: sheet.Tonnes, Required: true, Example: "60000"},
		{Key: "recycled_t", Header: "资源化利用量（吨）", EN: "Recycled (t)", Type: sheet.Tonnes,
			Note: "制成再生骨料、再生建材等并利用的量，含经处理用于工程回填的渣土", Example: "33000"},
		{Key: "landfilled_t", Header: "填埋或堆存量（吨）", EN: "Landfilled (t)", Type: sheet.Tonnes, Example: "27000"},
		sheet.NoteField,
	}, Check: checkSiteMonth}

func checkSiteMonth(ctx context.Context, q store.Querier, r *sheet.Record, v *errs.Validation) error {
	found, err := sheet.Adopt(ctx, q, r, "cdw_sites", "name = ? AND year = ?", r.Str("site"), r.Year)
	if err != nil || !found {
		v.Add("site", "site_unknown", "本年度没有登记名为 "+r.Str("site")+" 的消纳或资源化利用场所")
		return err
	}
	if r.Num("recycled_t")+r.Num("landfilled_t") > r.Num("received_t") {
		v.Add("recycled_t", "exceeds_received", "资源化利用量与填埋或堆存量之和超过进场量")
	}
	return nil
}

// Buildings is a region's new floor area in a year, with its green and
// prefabricated parts, as 市住建局 reports them from completion and
// construction-permit statistics.
var Buildings = &sheet.Spec{Name: "building_area", Title: "新建建筑面积（绿色建筑、装配式建筑）",
	TitleEN: "New floor area: green and prefabricated", Group: "construction", Lead: "市住建局", Table: "building_areas",
	Key: []string{"region", "year"}, Period: "year",
	Fields: []sheet.Field{
		{Key: "region", Header: "县区或园区代码", EN: "Region", Type: sheet.Region, Required: true, Example: "340603"},
		{Key: "year", Header: "年度", EN: "Year", Type: sheet.Year, Required: true, Example: "2026"},
		{Key: "new_area_m2", Header: "城镇新建建筑面积（m²）", EN: "New floor area (m²)", Type: sheet.Int, Required: true,
			Example: "1200000"},
		{Key: "green_area_m2", Header: "其中绿色建筑面积（m²）", EN: "Of which green (m²)", Type: sheet.Int, Required: true,
			Example: "1176000"},
		{Key: "started_area_m2", Header: "新开工建筑面积（m²）", EN: "Floor area started (m²)", Type: sheet.Int, Required: true,
			Example: "900000"},
		{Key: "prefab_area_m2", Header: "其中装配式建筑面积（m²）", EN: "Of which prefabricated (m²)", Type: sheet.Int,
			Required: true, Example: "315000"},
		{Key: "source", Header: "数据来源", EN: "Source", Type: sheet.Text, Max: 200, Example: "竣工验收备案及施工许可统计"},
	}, Check: checkBuildings, Derive: shares,
	DerivedFields: []sheet.Field{{Key: "green_share", Header: "绿色建筑占比（%）", EN: "Green share (%)"},
		{Key: "prefab_share", Header: "装配式建筑占比（%）", EN: "Prefabricated share (%)"}}}

func checkBuildings(_ context.Context, _ store.Querier, r *sheet.Record, v *errs.Validation) error {
	if r.Num("green_area_m2") > r.Num("new_area_m2") {
		v.Add("green_area_m2", "exceeds_total", "绿色建筑面积不能超过新建建筑面积")
	}
	if r.Num("prefab_area_m2") > r.Num("started_area_m2") {
		v.Add("prefab_area_m2", "exceeds_total", "装配式建筑面积不能超过新开工建筑面积")
	}
	return nil
}

func shares(_ context.Context, _ store.Querier, rs []*sheet.Record) error {
	for _, r := range rs {
		r.Derived = map[string]float64{}
		if n := r.Num("new_area_m2"); n > 0 {
			r.Derived["green_share"] = round1(float64(r.Num("green_area_m2")) / float64(n) * 100)
		}
		if n := r.Num("started_area_m2"); n > 0 {
			r.Derived["prefab_share"] = round1(float64(r.Num("prefab_area_m2")) / float64(n) * 100)
		}
	}
	return nil
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

// Specs are the package's record kinds, in the order they depend on each
// other.
var Specs = []*sheet.Spec{Declaration, Vehicle, Permit, Site, SiteMonth, Buildings}

// Sheets returns the services of the package's record kinds.
func Sheets(db *store.DB) []*sheet.Service { return sheet.All(db, Specs) }
