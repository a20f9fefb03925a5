// Package agri keeps the agricultural waste streams' records (plan 二(二)):
// straw by township and season with its "五化" utilisation, the "1+X" straw
// collection network, the farm-film and pesticide-packaging recovery ledger
// (回收量、贮存量和去向) and the scale livestock farms' manure.
package agri

import (
	"context"

	"wufei/internal/errs"
	"wufei/internal/store"
	"wufei/internal/streams/sheet"
)

// The fields several kinds share.
var (
	county   = sheet.County("县区", "340621 濉溪县")
	township = sheet.Field{Key: "township", Header: "乡镇", EN: "Township", Type: sheet.Township, Required: true, Max: 40,
		Example: "临涣镇"}
	year = sheet.YearField
)

// tonnes is an optional quantity field.
func tonnes(key, header, en, example string) sheet.Field {
	return sheet.Field{Key: key, Header: header, EN: en, Type: sheet.Tonnes, Example: example}
}

// Seasons maps a straw season to the month it stands for: the wheat
// harvest in June, the maize and soybean harvest in October.
var Seasons = map[string]int{"夏季": 6, "秋季": 10}

// StrawTownship is a township's straw in one season: what could be
// collected (可收集量) and what was used, by the "五化" ways.
var StrawTownship = &sheet.Spec{Name: "straw_township", Title: "秸秆产生与综合利用（乡镇）", TitleEN: "Straw by township",
	Group: "agri", Lead: "市农业农村局", Table: "straw_townships", Key: []string{"region_code", "township", "year", "season"},
	Season: "season", Seasons: Seasons, Check: checkStraw, Fields: []sheet.Field{
		county, township, year,
		{Key: "season", Header: "季节", EN: "Season", Type: sheet.Choice, Required: true, Choices: []string{"夏季", "秋季"},
			Example: "夏季", Note: "夏季（小麦、油菜）或秋季（玉米、大豆、水稻）"},
		{Key: "generated_t", Header: "秸秆可收集量（吨）", EN: "Collectable straw (t)", Type: sheet.Tonnes, Required: true,
			Example: "18500"},
		tonnes("fertiliser_t", "肥料化利用量（吨）", "Used as fertiliser (t)", "12300"),
		tonnes("feed_t", "饲料化利用量（吨）", "Used as feed (t)", "2600"),
		tonnes("fuel_t", "燃料化利用量（吨）", "Used as fuel (t)", "1800"),
		tonnes("base_t", "基料化利用量（吨）", "Used as substrate (t)", "500"),
		tonnes("material_t", "原料化利用量（吨）", "Used as raw material (t)", "450"),
		sheet.NoteField,
	}}

// StrawUsed is a straw record's use by all five ways.
func StrawUsed(r *sheet.Record) int64 {
	return r.Num("fertiliser_t") + r.Num("feed_t") + r.Num("fuel_t") + r.Num("base_t") + r.Num("material_t")
}

// checkStraw refuses more straw used than could be collected.
func checkStraw(_ context.Context, _ store.Querier, r *sheet.Record, v *errs.Validation) error {
	if StrawUsed(r) > r.Num("generated_t") {
		v.Add("generated_t", "straw_used_exceeds", "“五化”利用量之和超过秸秆可收集量")
	}
	return nil
}

// StrawSite is a site of the "1+X" collection network: a township's
// standard collection centre (1) or a village's fixed point (X), standing
// from the year it was built.
var StrawSite = &sheet.Spec{Name: "straw_site", Title: "秸秆“1+X”收储网络", TitleEN: "Straw collection network",
	Group: "agri", Lead: "市农业农村局", Table: "straw_sites", Key: []string{"region_code", "township", "name"}, Standing: true,
	Fields: []sheet.Field{
		county, township,
		{Key: "name", Header: "收储点名称", EN: "Name", Type: sheet.Text, Required: true, Max: 100, Example: "临涣镇秸秆标准化收储中心"},
		{Key: "kind", Header: "类型", EN: "Kind", Type: sheet.Choice, Required: true, Choices: []string{"乡镇收储中心", "村级收储点"},
			Example: "乡镇收储中心"},
		{Key: "capacity_t", Header: "年收储能力（吨）", EN: "Capacity (t/year)", Type: sheet.Tonnes, Required: true, Example: "20000"},
		{Key: "operator", Header: "运营主体", EN: "Operator", Type: sheet.Text, Required: true, Max: 100, Example: "濉溪县丰润农业服务有限公司"},
		{Key: "longitude", Header: "经度", EN: "Longitude", Type: sheet.Decimal, Min: 73, Top: 136, Example: "116.571"},
		{Key: "latitude", Header: "纬度", EN: "Latitude", Type: sheet.Decimal, Min: 3, Top: 54, Example: "33.692"},
		{Key: "year", Header: "建成年份", EN: "Year built", Type: sheet.Year, Required: true, Example: "2024"},
	}}

// Recovery kinds.
const (
	Film      = "农膜"
	Pesticide = "农药包装废弃物"
)

// FarmRecovery is a recycler's month of one kind of farm-input waste: the
// amount used (film) or generated (pesticide packaging, from what was
// sold) in its service area, and what it recovered, holds and sent on.
var FarmRecovery = &sheet.Spec{Name: "farm_recovery", Title: "农膜与农药包装废弃物回收台账",
	TitleEN: "Farm film and pesticide packaging recovery", Group: "agri", Lead: "市农业农村局、市供销社", Table: "farm_recovery",
	Key: []string{"unit_uscc", "recycler", "year", "month", "kind"}, UnitWrites: true, Fields: []sheet.Field{
		county, sheet.KeeperUnit,
		{Key: "recycler", Header: "回收主体", EN: "Recycler", Type: sheet.Text, Required: true, Max: 100, Example: "濉溪县供销社农资回收站"},
		year, sheet.MonthField,
		{Key: "kind", Header: "品类", EN: "Kind", Type: sheet.Choice, Required: true, Choices: []string{Film, Pesticide}, Example: Film},
		{Key: "used_t", Header: "使用量/产生量（吨）", EN: "Used or generated (t)", Type: sheet.Tonnes, Required: true, Example: "42.5",
			Note: "农膜填服务区域使用量；农药包装废弃物填按销售量折算的产生量"},
		{Key: "recovered_t", Header: "回收量（吨）", EN: "Recovered (t)", Type: sheet.Tonnes, Required: true, Example: "36.2"},
		{Key: "stored_t", Header: "贮存量（吨）", EN: "In storage (t)", Type: sheet.Tonnes, Example: "4.1", Note: "月末贮存量"},
		{Key: "destination", Header: "去向", EN: "Destination", Type: sheet.Text, Max: 200, Example: "淮北市再生资源利用有限公司（再生造粒）"},
		sheet.NoteField,
	}}

// LivestockFarm is a scale livestock farm's year: its herd, whether it has
// manure facilities (配套), and its manure generated, used and spread.
var LivestockFarm = &sheet.Spec{Name: "livestock_farm", Title: "规模养殖场粪污处理与利用", TitleEN: "Scale livestock farms",
	Group: "agri", Lead: "市农业农村局", Table: "livestock_farms", Key: []string{"unit_uscc", "region_code", "farm", "year"},
	UnitWrites: true, Fields: []sheet.Field{
		county, sheet.KeeperUnit,
		{Key: "township", Header: "乡镇", EN: "Township", Type: sheet.Township, Required: true, Max: 40, Example: "五沟镇"},
		{Key: "farm", Header: "养殖场名称", EN: "Farm", Type: sheet.Text, Required: true, Max: 100, Example: "濉溪县五沟生猪养殖场"},
		year,
		{Key: "species", Header: "畜种", EN: "Species", Type: sheet.Choice, Required: true,
			Choices: []string{"生猪", "奶牛", "肉牛", "羊", "蛋鸡", "肉鸡", "其他"}, Example: "生猪"},
		{Key: "head", Header: "年末存栏量（头、只）", EN: "Head at year end", Type: sheet.Int, Required: true, Example: "6500"},
		{Key: "facility", Header: "粪污处理设施装备", EN: "Manure facilities", Type: sheet.Choice, Required: true,
			Choices: []string{"配套", "未配套"}, Example: "配套"},
		{Key: "manure_generated_t", Header: "粪污产生量（吨）", EN: "Manure generated (t)", Type: sheet.Tonnes, Required: true,
			Example: "14200"},
		{Key: "manure_used_t", Header: "粪污综合利用量（吨）", EN: "Manure used (t)", Type: sheet.Tonnes, Required: true, Example: "13100"},
		{Key: "land_area_mu", Header: "粪肥还田面积（亩）", EN: "Land application (mu)", Type: sheet.Decimal, Min: 0, Top: 1000000,
			Example: "3200"},
		sheet.NoteField,
	}}

// Specs are the package's record kinds, in the order pages show them.
var Specs = []*sheet.Spec{StrawTownship, StrawSite, FarmRecovery, LivestockFarm}

// Sheets returns the services of the package's record kinds.
func Sheets(db *store.DB) []*sheet.Service { return sheet.All(db, Specs) }
