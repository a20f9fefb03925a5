package synth

import "wufei/internal/registry"

// Scale is the size of a generated data set.
type Scale struct {
	Name      string
	Units     int // registered units: generators, carriers and receivers
	Manifests int // manifests raised in the year
}

// Scales are the sizes `wufei demo generate` knows: a city's system today, a
// province's or a nation's tomorrow.
var Scales = map[string]Scale{
	"city":     {"city", 2_000, 30_000},
	"province": {"province", 50_000, 500_000},
	"nation":   {"nation", 500_000, 10_000_000},
}

// prefecture is an area units are placed in: a Huaibei county, another
// Anhui city or another province, as the regions table names it.
type prefecture struct {
	code, name string
	weight     int
}

// huaibei are the city's four county-level regions, weighted by their
// industry: the coal and coal-chemical base lies in 濉溪县.
var huaibei = []prefecture{{"340602", "杜集区", 3}, {"340603", "相山区", 3}, {"340604", "烈山区", 3}, {"340621", "濉溪县", 6}}

// anhui are the province's other fifteen cities (GB/T 2260).
var anhui = []prefecture{
	{"340100", "合肥市", 14}, {"340200", "芜湖市", 9}, {"340300", "蚌埠市", 6}, {"340400", "淮南市", 7},
	{"340500", "马鞍山市", 7}, {"340700", "铜陵市", 5}, {"340800", "安庆市", 6}, {"341000", "黄山市", 2},
	{"341100", "滁州市", 7}, {"341200", "阜阳市", 6}, {"341300", "宿州市", 5}, {"341500", "六安市", 4},
	{"341600", "亳州市", 3}, {"341700", "池州市", 2}, {"341800", "宣城市", 4},
}

// plateLetter is the plate's first character by province code (GA 36).
var plateLetter = map[string]string{
	"11": "京", "12": "津", "13": "冀", "14": "晋", "15": "蒙", "21": "辽", "22": "吉", "23": "黑", "31": "沪", "32": "苏",
	"33": "浙", "34": "皖", "35": "闽", "36": "赣", "37": "鲁", "41": "豫", "42": "鄂", "43": "湘", "44": "粤", "45": "桂",
	"46": "琼", "50": "渝", "51": "川", "52": "贵", "53": "云", "54": "藏", "61": "陕", "62": "甘", "63": "青", "64": "宁",
	"65": "新",
}

// receiverKind is a kind of licensed receiver and what its licence covers.
type receiverKind struct {
	key, name string
	roles     []registry.UnitRole
	kinds     []registry.LicenceKind
	scopes    []registry.LicenceScope
	share     int // of the receivers generated
}

var receiverKinds = []receiverKind{
	{"general", "环境科技", []registry.UnitRole{registry.Utiliser, registry.Disposer},
		[]registry.LicenceKind{registry.Collect, registry.Store, registry.Utilise, registry.Dispose},
		[]registry.LicenceScope{{Category: "HW08", Method: "R9"}, {Category: "HW08", Method: "D10"}, {Category: "HW49", Method: "D10"},
			{Category: "HW50", Method: "R8"}, {Category: "HW06", Method: "D10"}, {Category: "HW11", Method: "D10"},
			{Category: "HW17", Method: "D1"}}, 40},
	{"kiln", "水泥窑协同处置", []registry.UnitRole{registry.Disposer},
		[]registry.LicenceKind{registry.Collect, registry.Store, registry.Dispose},
		[]registry.LicenceScope{{Category: "HW11", Method: "C1"}, {Category: "HW17", Method: "C1"}, {Category: "HW49", Method: "C1"}}, 15},
	{"medical", "医疗废物处置中心", []registry.UnitRole{registry.Disposer},
		[]registry.LicenceKind{registry.Collect, registry.Store, registry.Dispose},
		[]registry.LicenceScope{{Category: "HW01", Method: "Y10"}}, 10},
	{"solvent", "溶剂再生", []registry.UnitRole{registry.Utiliser},
		[]registry.LicenceKind{registry.Collect, registry.Store, registry.Utilise},
		[]registry.LicenceScope{{Category: "HW06", Method: "R2"}}, 15},
	{"battery", "废铅蓄电池收集", []registry.UnitRole{registry.Collector},
		[]registry.LicenceKind{registry.Collect, registry.Store},
		[]registry.LicenceScope{{Category: "HW31", WasteCode: "900-052-31"}}, 20},
}

// route is where a waste may go: a kind of receiver and the method it uses
// ("" for a collector, which passes it on).
type route struct{ kind, method string }

// waste is one waste an industry produces.
type waste struct {
	code, name, form, pack string
	each                   float64 // tonnes in one container, about
	share                  float64 // of the unit's yearly tonnes
	routes                 []route // in order of preference
	source                 string
}

// industry is a kind of generator, with its share of the generated units,
// the median tonnes a unit of it produces a year and its wastes.
type industry struct {
	code, name string
	stems      []string
	weight     int
	medianT    float64
	wastes     []waste
}

var (
	oil     = []route{{"general", "R9"}}
	burn    = []route{{"general", "D10"}, {"kiln", "C1"}}
	solvent = []route{{"solvent", "R2"}, {"general", "D10"}}
	medical = []route{{"medical", "Y10"}}
)

// industries are the generators' kinds, weighted like Huaibei's: coal,
// coal chemicals, power, building materials, auto repair and healthcare.
var industries = []industry{
	{"0610", "烟煤和无烟煤开采洗选", []string{"煤矿", "选煤厂", "矿业"}, 10, 8, []waste{
		{"900-249-08", "废机油", "L", "铁桶", 0.17, 0.8, oil, "采掘设备检修"},
		{"900-041-49", "废油桶及含油抹布", "S", "吨袋", 0.2, 0.2, burn, "设备检修"}}},
	{"2520", "炼焦", []string{"焦化", "煤化"}, 4, 60, []waste{
		{"252-002-11", "焦油渣", "SS", "吨袋", 0.9, 0.85, []route{{"kiln", "C1"}, {"general", "D10"}}, "煤气净化工段焦油氨水分离"},
		{"900-249-08", "废润滑油", "L", "铁桶", 0.17, 0.1, oil, "设备检修"},
		{"900-041-49", "废包装物", "S", "编织袋", 0.03, 0.05, burn, "原料包装"}}},
	{"2614", "有机化学原料制造", []string{"化工", "新材料", "精细化工"}, 8, 15, []waste{
		{"900-402-06", "废有机溶剂", "L", "铁桶", 0.16, 0.6, solvent, "萃取、清洗工序"},
		{"261-151-50", "废催化剂", "S", "吨袋", 0.5, 0.25, []route{{"general", "R8"}}, "合成工序催化剂更换"},
		{"900-041-49", "废包装桶袋", "S", "吨袋", 0.2, 0.15, burn, "原辅料包装"}}},
	{"4411", "火力发电", []string{"发电", "热电"}, 4, 20, []waste{
		{"772-007-50", "废脱硝催化剂", "S", "吨袋", 0.8, 0.7, []route{{"general", "R8"}}, "SCR 烟气脱硝"},
		{"900-249-08", "废汽轮机油", "L", "铁桶", 0.17, 0.3, oil, "汽轮机检修"}}},
	{"3011", "水泥制造", []string{"水泥", "建材"}, 5, 4, []waste{
		{"900-249-08", "废机油", "L", "铁桶", 0.17, 0.8, oil, "设备检修"},
		{"900-041-49", "含油抹布及废包装", "S", "编织袋", 0.03, 0.2, burn, "设备检修"}}},
	{"3360", "金属表面处理及热处理加工", []string{"电镀", "表面处理"}, 4, 12, []waste{
		{"336-064-17", "电镀污泥", "SS", "吨袋", 1.0, 0.8, []route{{"general", "D1"}, {"kiln", "C1"}}, "废水处理"},
		{"900-041-49", "废包装物", "S", "吨袋", 0.2, 0.2, burn, "镀液原料包装"}}},
	{"3670", "汽车零部件及配件制造", []string{"汽车零部件", "机械"}, 8, 5, []waste{
		{"900-200-08", "废磨削油", "L", "铁桶", 0.17, 0.7, oil, "机加工"},
		{"900-041-49", "含油抹布及废包装", "S", "吨袋", 0.2, 0.3, burn, "机加工"}}},
	{"8111", "汽车修理与维护", []string{"汽车维修", "汽修", "汽车服务"}, 25, 2.5, []waste{
		{"900-214-08", "废机油", "L", "铁桶", 0.18, 0.65, oil, "车辆保养换油"},
		{"900-041-49", "含油抹布手套", "S", "编织袋", 0.02, 0.1, burn, "维修作业"},
		{"900-052-31", "废铅蓄电池", "S", "电池周转箱", 0.15, 0.25, []route{{"battery", ""}}, "蓄电池更换"}}},
	{"8411", "综合医院", []string{"医院", "人民医院"}, 6, 10, []waste{
		{"841-001-01", "感染性废物", "S", "医疗废物周转箱", 0.08, 0.93, medical, "诊疗活动"},
		{"841-002-01", "损伤性废物", "S", "利器盒", 0.02, 0.07, medical, "诊疗活动"}}},
	{"8421", "社区卫生服务中心（站）", []string{"社区卫生服务中心", "诊所"}, 10, 0.7, []waste{
		{"841-001-01", "感染性废物", "S", "医疗废物周转箱", 0.03, 0.9, medical, "诊疗活动"},
		{"841-002-01", "损伤性废物", "S", "利器盒", 0.01, 0.1, medical, "诊疗活动"}}},
	{"7320", "工程和技术研究和试验发展", []string{"检测", "实验室", "研究院"}, 5, 0.6, []waste{
		{"900-047-49", "实验室废物", "S", "周转箱", 0.03, 0.6, burn, "检测分析"},
		{"900-402-06", "废有机溶剂", "L", "试剂桶", 0.02, 0.4, solvent, "检测分析"}}},
}

// Shares of the registered units that carry and that receive; the rest
// generate.
const (
	carrierShare  = 0.035
	receiverShare = 0.025
)

// volumeL is one container's volume by packaging, which decides the size
// of its label.
var volumeL = map[string]float64{"铁桶": 200, "吨袋": 1000, "编织袋": 100, "电池周转箱": 200, "医疗废物周转箱": 240,
	"利器盒": 60, "周转箱": 100, "试剂桶": 25}
