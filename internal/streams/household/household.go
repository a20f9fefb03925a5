// Package household keeps the household waste streams' records (plan
// 二(三)): municipal solid waste by region, month and sorted stream; kitchen
// waste treatment and its by-products; the "两网融合" points; express
// green packaging; plastic-ban inspections; and medical institutions'
// recyclables (输液瓶/袋).
package household

import (
	"context"

	"wufei/internal/errs"
	"wufei/internal/store"
	"wufei/internal/streams/sheet"
)

// The fields several kinds share.
var (
	county = sheet.County("县区", "340603 相山区")
	year   = sheet.YearField
	month  = sheet.MonthField
)

func tonnes(key, header, en, example string, required bool) sheet.Field {
	return sheet.Field{Key: key, Header: header, EN: en, Type: sheet.Tonnes, Required: required, Example: example}
}

func text(key, header, en, example string, max int, required bool) sheet.Field {
	return sheet.Field{Key: key, Header: header, EN: en, Type: sheet.Text, Required: required, Max: max, Example: example}
}

// Streams are the four sorted streams of household waste.
var Streams = []string{"可回收物", "厨余垃圾", "有害垃圾", "其他垃圾"}

// Waste is one region's month of one stream of household waste.
var Waste = &sheet.Spec{Name: "msw_monthly", Title: "生活垃圾分类收运处置（月报）", TitleEN: "Household waste by month",
	Group: "household", Lead: "市城市管理局", Table: "msw_monthly", Key: []string{"region_code", "year", "month", "stream"},
	Check: checkWaste, Fields: []sheet.Field{
		county, year, month,
		{Key: "stream", Header: "类别", EN: "Stream", Type: sheet.Choice, Required: true, Choices: Streams, Example: "其他垃圾"},
		tonnes("collected_t", "收集清运量（吨）", "Collected (t)", "8650", true),
		tonnes("incinerated_t", "焚烧处理量（吨）", "Incinerated (t)", "8650", false),
		{Key: "landfilled_t", Header: "原生垃圾填埋量（吨）", EN: "Raw waste landfilled (t)", Type: sheet.Tonnes, Example: "0",
			Note: "未经焚烧等处理直接填埋的量；“零填埋”即为 0"},
		{Key: "recycled_t", Header: "回收利用量（吨）", EN: "Recycled (t)", Type: sheet.Tonnes, Example: "0",
			Note: "可回收物再生利用、厨余垃圾资源化利用等"},
		sheet.NoteField,
	}}

// checkWaste refuses more recycled, burnt and buried than was collected.
func checkWaste(_ context.Context, _ store.Querier, r *sheet.Record, v *errs.Validation) error {
	if r.Num("recycled_t")+r.Num("incinerated_t")+r.Num("landfilled_t") > r.Num("collected_t") {
		v.Add("collected_t", "waste_treated_exceeds", "回收利用、焚烧与填埋量之和超过收集清运量")
	}
	return nil
}

// Kitchen is a kitchen-waste facility's month: what it took in and treated
// and the by-products it recovered (粗油脂、沼气、沼渣沼液).
var Kitchen = &sheet.Spec{Name: "kitchen_waste", Title: "厨余垃圾处理及副产品", TitleEN: "Kitchen waste treatment",
	Group: "household", Lead: "市城市管理局", Table: "kitchen_waste", Key: []string{"unit_uscc", "region_code", "facility", "year", "month"},
	UnitWrites: true, Fields: []sheet.Field{
		sheet.County("县区", "340604 烈山区"),
		sheet.KeeperUnit,
		text("facility", "处理设施", "Facility", "淮北市餐厨废弃物资源化利用项目", 100, true),
		year, month,
		tonnes("received_t", "收运量（吨）", "Received (t)", "3150", true),
		tonnes("treated_t", "处理量（吨）", "Treated (t)", "3100", true),
		tonnes("oil_t", "粗油脂（吨）", "Crude oil (t)", "96", false),
		{Key: "biogas_m3", Header: "沼气（立方米）", EN: "Biogas (m³)", Type: sheet.Int, Example: "186000"},
		tonnes("digestate_t", "沼渣沼液及堆肥（吨）", "Digestate and compost (t)", "420", false),
		tonnes("residue_t", "残渣焚烧处置量（吨）", "Residue incinerated (t)", "260", false),
		sheet.NoteField,
	}}

// Point is a facility of the "两网融合" network, which joins waste sorting
// with the recycling of renewable resources: a drop-off point (交投点), a
// transfer station (中转站) or a sorting centre (分拣中心), standing from
// the year it opened.
var Point = &sheet.Spec{Name: "recycling_point", Title: "“两网融合”回收网点", TitleEN: "Two-networks points",
	Group: "household", Lead: "市商务局", Table: "recycling_points", Key: []string{"unit_uscc", "region_code", "kind", "name"},
	UnitWrites: true, Standing: true, Fields: []sheet.Field{
		sheet.County("所在县区", "340603 相山区"),
		sheet.KeeperUnit,
		{Key: "kind", Header: "设施类型", EN: "Kind", Type: sheet.Choice, Required: true, Choices: []string{"交投点", "中转站", "分拣中心"},
			Example: "分拣中心"},
		text("name", "名称", "Name", "相山区再生资源分拣中心", 100, true),
		text("address", "地址", "Address", "相山区长山路 88 号", 200, true),
		{Key: "longitude", Header: "经度", EN: "Longitude", Type: sheet.Decimal, Min: 73, Top: 136, Example: "116.794"},
		{Key: "latitude", Header: "纬度", EN: "Latitude", Type: sheet.Decimal, Min: 3, Top: 54, Example: "33.956"},
		text("operator", "运营主体", "Operator", "淮北市供销再生资源有限公司", 100, true),
		tonnes("capacity_t", "日处理能力（吨/日）", "Capacity (t/day)", "60", false),
		{Key: "counties", Header: "服务县区", EN: "Counties served", Type: sheet.Regions, Required: true, Example: "340603,340602"},
		{Key: "year", Header: "建成年份", EN: "Year opened", Type: sheet.Year, Required: true, Example: "2025"},
		{Key: "status", Header: "状态", EN: "Status", Type: sheet.Choice, Required: true, Choices: []string{"运行", "停用"}, Example: "运行"},
	}}

// Express is a region's year of parcels and those in green packaging
// (可循环、可降解、瘦身胶带等), as the postal administration reports them.
var Express = &sheet.Spec{Name: "express_packaging", Title: "快递绿色包装（年报）", TitleEN: "Express green packaging",
	Group: "household", Lead: "市邮政管理局", Table: "express_packaging", Key: []string{"region_code", "year"},
	Check: checkExpress, Fields: []sheet.Field{
		county, year,
		{Key: "parcels", Header: "快件总量（件）", EN: "Parcels", Type: sheet.Int, Required: true, Example: "21500000"},
		{Key: "green_parcels", Header: "使用绿色包装的快件（件）", EN: "Parcels in green packaging", Type: sheet.Int, Required: true,
			Example: "19100000"},
		{Key: "recyclable_boxes", Header: "可循环快递箱（盒）投放量（个）", EN: "Reusable boxes in use", Type: sheet.Int, Example: "12000"},
		sheet.NoteField,
	}}

// checkExpress refuses more green parcels than parcels.
func checkExpress(_ context.Context, _ store.Querier, r *sheet.Record, v *errs.Validation) error {
	if r.Num("green_parcels") > r.Num("parcels") {
		v.Add("green_parcels", "green_exceeds_total", "使用绿色包装的快件数超过快件总量")
	}
	return nil
}

// Inspection is one plastic-ban inspection (不可降解塑料袋、一次性发泡餐具等).
var Inspection = &sheet.Spec{Name: "plastic_inspection", Title: "塑料污染治理检查", TitleEN: "Plastic-ban inspections",
	Group: "household", Lead: "市发改委、市市场监管局", Table: "plastic_inspections", Key: []string{"region_code", "inspected_on", "place"},
	Period: "inspected_on", Fields: []sheet.Field{
		county,
		{Key: "inspected_on", Header: "检查日期", EN: "Date", Type: sheet.Date, Required: true, Example: "2025-06-18"},
		text("place", "检查场所", "Place", "相山区淮海路农贸市场", 200, true),
		text("inspector", "检查部门", "Inspected by", "市市场监管局", 100, true),
		text("findings", "检查发现", "Findings", "3 家摊位使用不可降解塑料袋", 1000, true),
		{Key: "violations", Header: "问题数", EN: "Violations", Type: sheet.Int, Example: "3"},
		text("action", "处理措施", "Action taken", "责令整改，收缴塑料袋 1200 个", 500, false),
	}}

// Medical is a medical institution's month of recyclables (输液瓶、输液袋)
// handed to a recycler.
var Medical = &sheet.Spec{Name: "medical_recyclable", Title: "医疗机构可回收物（输液瓶/袋）", TitleEN: "Medical recyclables",
	Group: "household", Lead: "市卫健委、市商务局", Table: "medical_recyclables",
	Key: []string{"unit_uscc", "region_code", "institution", "year", "month"}, UnitWrites: true, Fields: []sheet.Field{
		county, sheet.KeeperUnit,
		text("institution", "医疗机构", "Institution", "淮北市人民医院", 100, true),
		year, month,
		tonnes("bottles_t", "输液瓶回收量（吨）", "Infusion bottles (t)", "3.2", true),
		tonnes("bags_t", "输液袋回收量（吨）", "Infusion bags (t)", "1.6", true),
		text("recycler", "回收单位", "Recycler", "淮北市医用可回收物综合利用有限公司", 100, true),
		sheet.NoteField,
	}}

// Specs are the package's record kinds, in the order pages show them.
var Specs = []*sheet.Spec{Waste, Kitchen, Point, Express, Inspection, Medical}

// Sheets returns the services of the package's record kinds.
func Sheets(db *store.DB) []*sheet.Service { return sheet.All(db, Specs) }
