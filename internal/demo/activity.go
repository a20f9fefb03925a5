package demo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"wufei/internal/auth"
	"wufei/internal/calendar"
	"wufei/internal/hw/approval"
	"wufei/internal/hw/ledger"
	"wufei/internal/hw/manifest"
	"wufei/internal/hw/plan"
	"wufei/internal/registry"
	"wufei/internal/store"
)

// ActivityMinUnits is the fewest further units with which Seed adds a year
// of hazardous-waste activity. Smaller seeds, which the service and server
// tests use, stay a bare registry, so the records a test writes are the
// only ones it finds; `wufei serve --demo` seeds 300.
const ActivityMinUnits = 50

// activityUnits is how many of the generated generators take part.
const activityUnits = 30

// waste is one waste a kind of generator produces, and where it goes.
type waste struct {
	code, name, form string
	pack             string  // container type
	volL             float64 // one container's volume, which decides the label size
	each             float64 // tonnes in one container, about
	yearT            float64 // tonnes a year, about
	to, method       string  // receiver (a key of act.receivers) and the method it uses; "" for a collector
	every            int     // shipped every so many months
	facility         string  // generation facility, if the unit registered one
	source           string  // the process it comes from, for the plan
}

// profiles are the wastes of the demo generators by industry code; "gen"
// and "gen2" are the two demo log-ins.
var profiles = map[string][]waste{
	"gen": {
		{"252-002-11", "焦油渣", "SS", "吨袋", 1000, 1.0, 90, "cement", "C1", 1, "SC001", "煤气净化工段焦油氨水分离"},
		{"261-151-50", "废甲醇合成催化剂", "S", "吨袋", 1000, 0.8, 16, "disposer", "R8", 3, "SC002", "甲醇合成催化剂更换"},
		{"900-249-08", "废矿物油", "L", "铁桶", 200, 0.17, 9, "disposer", "R9", 2, "", "设备检修、润滑系统换油"},
		{"900-041-49", "废包装物及含油抹布", "S", "吨袋", 1000, 0.25, 2.4, "disposer", "D10", 4, "", "原辅料包装、检修"},
	},
	"gen2": {
		{"900-214-08", "废机油", "L", "铁桶", 200, 0.18, 4.8, "disposer", "R9", 3, "", "车辆保养换油"},
		{"900-249-08", "废机油滤清器", "S", "铁桶", 200, 0.1, 0.6, "disposer", "R9", 6, "", "车辆保养"},
		{"900-041-49", "含油抹布手套", "S", "编织袋", 100, 0.02, 0.24, "disposer", "D10", 4, "", "维修作业"},
		{"900-052-31", "废铅蓄电池", "S", "电池周转箱", 200, 0.15, 1.8, "battery", "", 3, "", "蓄电池更换"},
	},
	"0610": {
		{"900-249-08", "废机油", "L", "铁桶", 200, 0.17, 5, "disposer", "R9", 3, "", "采掘设备检修"},
		{"900-041-49", "废油桶及含油抹布", "S", "吨袋", 1000, 0.2, 1.2, "disposer", "D10", 4, "", "设备检修"},
	},
	"2520": {
		{"252-002-11", "焦油渣", "SS", "吨袋", 1000, 0.9, 40, "cement", "C1", 2, "", "煤气净化工段焦油氨水分离"},
		{"900-249-08", "废润滑油", "L", "铁桶", 200, 0.17, 2.4, "disposer", "R9", 3, "", "设备检修"},
		{"900-041-49", "废包装物", "S", "编织袋", 100, 0.03, 0.5, "disposer", "D10", 4, "", "原料包装"},
	},
	"2614": {
		{"900-402-06", "废有机溶剂", "L", "铁桶", 200, 0.16, 8, "solvent", "R2", 3, "", "萃取、清洗工序"},
		{"261-151-50", "废催化剂", "S", "吨袋", 1000, 0.5, 3, "disposer", "R8", 6, "", "合成工序催化剂更换"},
		{"900-041-49", "废包装桶袋", "S", "吨袋", 1000, 0.2, 1.5, "disposer", "D10", 4, "", "原辅料包装"},
	},
	"4411": {
		{"772-007-50", "废脱硝催化剂", "S", "吨袋", 1000, 0.8, 12, "disposer", "R8", 6, "", "SCR 烟气脱硝"},
		{"900-249-08", "废汽轮机油", "L", "铁桶", 200, 0.17, 4, "disposer", "R9", 3, "", "汽轮机检修"},
	},
	"3011": {
		{"900-249-08", "废机油", "L", "铁桶", 200, 0.17, 3, "disposer", "R9", 3, "", "设备检修"},
		{"900-041-49", "含油抹布及废包装", "S", "编织袋", 100, 0.03, 0.6, "disposer", "D10", 4, "", "设备检修"},
	},
	"3360": {
		{"900-041-49", "废包装物", "S", "吨袋", 1000, 0.2, 1.6, "disposer", "D10", 4, "", "镀液原料包装"},
		{"900-249-08", "废油", "L", "铁桶", 200, 0.17, 1, "disposer", "R9", 6, "", "前处理除油"},
	},
	"3670": {
		{"900-249-08", "废切削油", "L", "铁桶", 200, 0.17, 4, "disposer", "R9", 3, "", "机加工"},
		{"900-041-49", "含油抹布及废包装", "S", "吨袋", 1000, 0.2, 1.2, "disposer", "D10", 4, "", "机加工"},
	},
	"8111": {
		{"900-214-08", "废机油", "L", "铁桶", 200, 0.18, 2.4, "disposer", "R9", 3, "", "车辆保养换油"},
		{"900-041-49", "含油抹布手套", "S", "编织袋", 100, 0.02, 0.2, "disposer", "D10", 4, "", "维修作业"},
		{"900-052-31", "废铅蓄电池", "S", "电池周转箱", 200, 0.15, 0.9, "battery", "", 6, "", "蓄电池更换"},
	},
	"8411": {
		{"841-001-01", "感染性废物", "S", "医疗废物周转箱", 240, 0.08, 9, "medical", "Y10", 1, "", "诊疗活动"},
		{"841-002-01", "损伤性废物", "S", "利器盒", 60, 0.02, 0.5, "medical", "Y10", 1, "", "诊疗活动"},
	},
	"8421": {
		{"841-001-01", "感染性废物", "S", "医疗废物周转箱", 100, 0.03, 0.6, "medical", "Y10", 2, "", "诊疗活动"},
		{"841-002-01", "损伤性废物", "S", "利器盒", 60, 0.01, 0.06, "medical", "Y10", 2, "", "诊疗活动"},
	},
	"7320": {
		{"900-047-49", "实验室废物", "S", "周转箱", 100, 0.03, 0.4, "disposer", "D10", 4, "", "检测分析"},
		{"900-402-06", "废有机溶剂", "L", "试剂桶", 25, 0.02, 0.3, "solvent", "R2", 6, "", "检测分析"},
	},
}

// reductions are the plans' reduction measures (减量化措施) by industry.
var reductions = map[string]string{
	"gen":  "焦油渣全部送水泥窑协同处置；甲醇合成催化剂延长使用周期；检修废油分类收集，废矿物油减量 10%",
	"gen2": "推广长效机油，废机油集中收集；废铅蓄电池交持证单位回收",
	"0610": "设备集中润滑，延长换油周期",
	"2520": "优化焦油氨水分离工艺，降低焦油渣含水率",
	"2614": "溶剂回收套用，减少废溶剂产生",
	"4411": "脱硝催化剂再生后回用",
	"8411": "医疗废物分类收集，减少感染性废物混入",
}

// oldBatch is waste still in storage long after it was stored, which the
// storage-age rule finds: one batch near the one-year limit, one past it.
var oldBatch = waste{"900-039-49", "废活性炭", "S", "吨袋", 1000, 0.6, 0.6, "", "", 0, "", "VOCs 治理"}

// party is a unit that takes part, with the account that acts for it.
type party struct {
	p        auth.Principal
	id, name string
	industry string
	storage  string    // its storage facility
	capT     float64   // that facility's capacity
	filed    time.Time // its plan for the year, in business time
	wastes   []waste
	carrier  *party // who carries its waste, with plate
	plate    string
}

// stored is a container in storage, not yet on a manifest.
type stored struct {
	id string
	g  int64
	at time.Time
}

// trip is one manifest as the demo runs it: who sends what to whom, when it
// is raised and how far it goes.
type trip struct {
	from, to *party
	legs     []*party // carriers in order, each with its plate
	plates   []string
	lines    []manifest.LineInput
	methods  []string // per line; "" leaves it uncompleted (a collector)
	at       time.Time
	end      stage
	receipt  func(lines []manifest.Line) []manifest.ReceiptLine // nil: accepted as weighed
	revise   bool                                               // the receiver corrects its weighing before completing
	previous string
	refused  bool // fully refused: the consignor sends it on under a new manifest
	note     string
	month    int
}

// stage is where a trip stops.
type stage int

const (
	stDraft stage = iota
	stCancelDraft
	stSubmitted
	stCancelSubmitted
	stPickedUp
	stHandedOver
	stDelivered
	stReceived
	stCompleted
)

// act carries the activity's state and its first error.
type act struct {
	ctx   context.Context
	db    *store.DB
	r     *rand.Rand
	now   time.Time // when seeding runs; every business time lies before it
	year  int       // this year in China
	start time.Time // its first instant
	err   error

	reg   *registry.Service
	auth  *auth.Service
	led   *ledger.Service
	man   *manifest.Service
	plans *plan.Service
	appr  *approval.Service

	admin, sthjj        auth.Principal
	gen, gen2, disposer *party
	carriers            []*party
	receivers           map[string]*party
	active              []*party // generators with activity: gen, gen2 and the generated ones
	stock               map[string][]stored
	approvalFrom        time.Time
}

func (a *act) fail(what string, err error) {
	if err != nil && a.err == nil {
		a.err = fmt.Errorf("demo activity: %s: %w", what, err)
	}
}

// activity seeds a year of hazardous-waste activity for the demo log-ins and
// about thirty generated generators, through the services, so every rule,
// check and audit entry is real: plans filed, containers generated and
// stored each month, manifests to licensed receivers in every status
// (weight discrepancy, partial and full refusal with a follow-up manifest,
// a revision, a cross-province transfer under an approval), in-house
// treatment, declarations with one left overdue. Every record is written at
// its business time over the past year (store.At), rows and audit entries
// alike, since regulated rows cannot be changed afterwards; the time-based
// rules then run once, at the time of seeding, and raise their alerts as
// the scheduled jobs would.
func activity(ctx context.Context, db *store.DB, extra int) error {
	if extra < ActivityMinUnits {
		return nil
	}
	now := store.Now()
	y := now.In(calendar.Zone).Year()
	a := &act{ctx: ctx, db: db, r: rand.New(rand.NewPCG(340600, 2026)), now: now, year: y,
		start: time.Date(y, 1, 1, 0, 0, 0, 0, calendar.Zone).UTC(), reg: registry.NewService(db), auth: auth.NewService(db),
		led: ledger.NewService(db), man: manifest.NewService(db), plans: plan.NewService(db), appr: approval.NewService(db),
		admin: auth.System, receivers: map[string]*party{}, stock: map[string][]stored{}}
	for _, f := range []func(){a.load, a.addReceivers, a.pickActive, a.filePlans, a.addApprovals, a.generate, a.inHouse,
		a.transfer, a.declare, a.checks} {
		if a.err != nil {
			break
		}
		f()
	}
	return a.err
}

// at is the activity's context with its transactions stamped t: what they
// write, and its audit entries, carry the business time t.
func (a *act) at(t time.Time) context.Context { return store.At(a.ctx, t) }

// registration returns, for a full demo, when a unit taking part in the
// year of activity was registered, 400 to 600 days before now: the fixed
// demo parties (i < 0) and, of the generated units in the order they are
// made (i), the first two carriers and the generators of an industry with
// a profile, at most four of an industry and activityUnits in all — the
// units load and pickActive then choose. Other units are registered now.
func registration(now time.Time) func(i int, industry string, role registry.UnitRole) (time.Time, bool) {
	per := map[string]int{}
	generators, carriers := 0, 0
	return func(i int, industry string, role registry.UnitRole) (time.Time, bool) {
		switch {
		case i < 0:
			return now.AddDate(0, 0, -600), true
		case role == registry.Carrier && carriers < 2:
			carriers++
		case role == registry.Generator && profiles[industry] != nil && per[industry] < 4 && generators < activityUnits:
			per[industry]++
			generators++
		default:
			return time.Time{}, false
		}
		return now.AddDate(0, 0, -400-(i*37)%200), true
	}
}

// clock is the moment h:m, China time, on the day of t.
func clock(t time.Time, h, m int) time.Time {
	y, mo, d := t.In(calendar.Zone).Date()
	return time.Date(y, mo, d, h, m, 0, 0, calendar.Zone).UTC()
}

// month is the first instant of the i-th of the twelve months ending with
// this one (0 is eleven months ago).
func (a *act) month(i int) time.Time {
	y, m, _ := a.now.In(calendar.Zone).Date()
	return time.Date(y, m-11+time.Month(i), 1, 0, 0, 0, 0, calendar.Zone).UTC()
}

func (a *act) minutes(lo, hi int) time.Duration {
	return time.Duration(lo+a.r.IntN(hi-lo+1)) * time.Minute
}

// kg rounds tonnes to kilograms.
func kg(t float64) float64 { return math.Round(t*1000) / 1000 }

// principal reads a demo log-in.
func (a *act) principal(username string) auth.Principal {
	var u auth.User
	err := store.Get(a.ctx, a.db.Reader(), &u, `SELECT u.id, u.username, u.display_name, u.role,
		COALESCE(u.unit_id, '') AS unit_id, COALESCE(u.department_id, '') AS department_id,
		COALESCE(u.region_code, '') AS region_code, u.disabled, u.created_at, u.version FROM users u WHERE u.username = ?`, username)
	a.fail("log-in "+username, err)
	return u.Principal()
}

// account creates the log-in that acts for a unit, when the unit was
// registered.
func (a *act) account(username, display, unitID string, registered time.Time) auth.Principal {
	if a.err != nil {
		return auth.Principal{}
	}
	u, err := a.auth.CreateUser(a.at(registered), a.admin, auth.NewUser{Username: username, DisplayName: display,
		Role: auth.UnitAdmin, UnitID: unitID, Password: Password})
	a.fail("log-in "+username, err)
	return u.Principal()
}

// unitRow is what the activity reads of a registered unit.
type unitRow struct {
	ID         string    `db:"id"`
	USCC       string    `db:"uscc"`
	Name       string    `db:"name"`
	Region     string    `db:"region_code"`
	Industry   string    `db:"industry_code"`
	Registered time.Time `db:"created_at"`
}

// load reads the demo log-ins and their units.
func (a *act) load() {
	a.sthjj = a.principal("sthjj")
	demoUnit := func(username, industry string) *party {
		p := a.principal(username)
		var u unitRow
		a.fail(username, store.Get(a.ctx, a.db.Reader(), &u, `SELECT id, uscc, name, region_code, industry_code FROM units
			WHERE id = ?`, p.UnitID))
		return &party{p: p, id: u.ID, name: u.Name, industry: industry, storage: "ZC001",
			wastes: profiles[industry]}
	}
	a.gen, a.gen2 = demoUnit("gen", "gen"), demoUnit("gen2", "gen2")
	a.disposer = demoUnit("disposer", "")
	carrier := demoUnit("carrier", "")
	carrier.plate = "皖F3A721"
	a.carriers = []*party{carrier}
	a.receivers["disposer"] = a.disposer
	a.gen.capT, a.gen2.capT = 300, 3
	a.gen.carrier, a.gen.plate = carrier, carrier.plate
	a.gen2.carrier, a.gen2.plate = carrier, carrier.plate
	if a.err != nil {
		return
	}
	// The first two generated carriers take part, for the multi-leg journeys.
	var rows []struct {
		unitRow
		Plate string `db:"plate"`
	}
	a.fail("carriers", store.Select(a.ctx, a.db.Reader(), &rows, `SELECT u.id, u.uscc, u.name, u.region_code, u.industry_code,
		u.created_at, v.plate FROM units u JOIN unit_roles r ON r.unit_id = u.id AND r.role = 'carrier'
		JOIN vehicles v ON v.unit_id = u.id WHERE u.id <> ? ORDER BY u.uscc`, carrier.id))
	// The generated USCCs carry their index in the organisation body.
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].USCC[8:16] < rows[j].USCC[8:16] })
	for i, c := range rows {
		if i == 2 {
			break
		}
		p := a.account("carrier-"+c.USCC[12:16], "调度员", c.ID, c.Registered)
		a.carriers = append(a.carriers, &party{p: p, id: c.ID, name: c.Name, plate: c.Plate})
	}
}

// addReceivers registers further licensed receivers: a medical-waste
// disposer, a cement kiln that co-processes, a lead-acid-battery collector,
// a spent-solvent utiliser, and a utiliser in Jiangsu.
func (a *act) addReceivers() {
	type rc struct {
		key, username, display string
		unit                   registry.NewUnit
		licence                registry.NewLicence
		facilities             []registry.NewFacility
	}
	from, to := day(2025, 1, 1), day(2029, 12, 31)
	list := []rc{
		{"medical", "medwaste", "赵敏", registry.NewUnit{USCC: registry.MakeUSCC("12", "340604", "MB1A3G05"),
			Name: "淮北市医疗废物集中处置中心", Roles: []registry.UnitRole{registry.Disposer}, RegionCode: "340604",
			ParkCode: "340604101", Address: "烈山区宋疃镇环保产业园 6 号", Longitude: ptr(116.905), Latitude: ptr(33.861),
			ContactName: "赵敏", ContactPhone: "0561-3166001", IndustryCode: "7724", IndustryName: "危险废物治理"},
			registry.NewLicence{Number: "皖危废经许字3406040002号", Issuer: "安徽省生态环境厅",
				Kinds: []registry.LicenceKind{registry.Collect, registry.Store, registry.Dispose}, CapacityT: 5000,
				ValidFrom: from, ValidTo: to, Scopes: []registry.LicenceScope{{Category: "HW01", Method: "Y10"},
					{Category: "HW01", Method: "D10"}}},
			[]registry.NewFacility{{Code: "CZ001", Kind: "disposal", Name: "医疗废物高温焚烧线", Method: "Y10", CapacityT: 5000},
				{Code: "ZC001", Kind: "storage", Name: "医疗废物冷藏暂存库", CapacityT: 60}}},
		{"cement", "cement", "孙浩", registry.NewUnit{USCC: registry.MakeUSCC("91", "340621", "MA2W5H06"),
			Name: "淮北濉溪恒基水泥有限公司", Roles: []registry.UnitRole{registry.Disposer}, RegionCode: "340621",
			ParkCode: "340621400", Address: "濉溪县经济开发区工业大道 18 号", Longitude: ptr(116.771), Latitude: ptr(33.915),
			ContactName: "孙浩", ContactPhone: "0561-6099002", IndustryCode: "3011", IndustryName: "水泥制造"},
			registry.NewLicence{Number: "皖危废经许字3406210001号", Issuer: "安徽省生态环境厅",
				Kinds: []registry.LicenceKind{registry.Collect, registry.Store, registry.Dispose}, CapacityT: 30000,
				ValidFrom: from, ValidTo: to, Scopes: []registry.LicenceScope{{Category: "HW11", Method: "C1"},
					{Category: "HW18", Method: "C1"}, {Category: "HW49", Method: "C1"}}},
			[]registry.NewFacility{{Code: "CZ001", Kind: "disposal", Name: "水泥窑协同处置线", Method: "C1", CapacityT: 30000},
				{Code: "ZC001", Kind: "storage", Name: "危险废物预处理及暂存车间", CapacityT: 500}}},
		{"battery", "battery", "周强", registry.NewUnit{USCC: registry.MakeUSCC("91", "340602", "MA2T6J07"),
			Name: "淮北市恒通废旧蓄电池回收有限公司", Roles: []registry.UnitRole{registry.Collector}, RegionCode: "340602",
			ParkCode: "340602400", Address: "杜集区杜集经济开发区再生资源园 2 号", Longitude: ptr(116.845), Latitude: ptr(34.012),
			ContactName: "周强", ContactPhone: "13905612233", IndustryCode: "4220", IndustryName: "非金属废料和碎屑加工处理"},
			registry.NewLicence{Number: "皖危废收许字3406020001号", Issuer: "淮北市生态环境局",
				Kinds: []registry.LicenceKind{registry.Collect, registry.Store}, CapacityT: 3000, ValidFrom: from, ValidTo: to,
				Scopes: []registry.LicenceScope{{Category: "HW31", WasteCode: "900-052-31"}}},
			[]registry.NewFacility{{Code: "ZC001", Kind: "storage", Name: "废铅蓄电池贮存库", CapacityT: 100}}},
		{"solvent", "solvent", "吴婷", registry.NewUnit{USCC: registry.MakeUSCC("91", "340603", "MA2U7K08"),
			Name: "淮北新源溶剂再生科技有限公司", Roles: []registry.UnitRole{registry.Utiliser}, RegionCode: "340603",
			ParkCode: "340600P01", Address: "淮北高新区龙旺路 9 号", Longitude: ptr(116.822), Latitude: ptr(33.982),
			ContactName: "吴婷", ContactPhone: "0561-3077003", IndustryCode: "4220", IndustryName: "非金属废料和碎屑加工处理"},
			registry.NewLicence{Number: "皖危废经许字3406030001号", Issuer: "安徽省生态环境厅",
				Kinds: []registry.LicenceKind{registry.Collect, registry.Store, registry.Utilise}, CapacityT: 10000,
				ValidFrom: from, ValidTo: to, Scopes: []registry.LicenceScope{{Category: "HW06", Method: "R2"}}},
			[]registry.NewFacility{{Code: "LY001", Kind: "utilisation", Name: "废溶剂精馏再生装置", Method: "R2", CapacityT: 10000},
				{Code: "ZC001", Kind: "storage", Name: "甲类溶剂罐区", CapacityT: 200}}},
		{"jiangsu", "xzrecycle", "钱磊", registry.NewUnit{USCC: registry.MakeUSCC("91", "320300", "MA1Y7K05"),
			Name: "徐州绿环资源再生有限公司", Roles: []registry.UnitRole{registry.Utiliser}, RegionCode: "320000",
			Address: "江苏省徐州市铜山区资源再生产业园 12 号", Longitude: ptr(117.262), Latitude: ptr(34.181),
			ContactName: "钱磊", ContactPhone: "0516-83550011", IndustryCode: "4210", IndustryName: "金属废料和碎屑加工处理"},
			registry.NewLicence{Number: "JSHW3203000123", Issuer: "江苏省生态环境厅",
				Kinds: []registry.LicenceKind{registry.Store, registry.Utilise}, CapacityT: 20000, ValidFrom: from, ValidTo: to,
				Scopes: []registry.LicenceScope{{Category: "HW50", Method: "R8"}, {Category: "HW06", Method: "R2"},
					{Category: "HW08", Method: "R9"}}},
			[]registry.NewFacility{{Code: "LY001", Kind: "utilisation", Name: "废催化剂金属回收线", Method: "R8", CapacityT: 20000}}},
	}
	for _, x := range list {
		if a.err != nil {
			return
		}
		// Registered, with its licence, before the year of activity.
		registered := a.now.Add(-time.Duration(400+a.r.IntN(300)) * 24 * time.Hour)
		ctx := a.at(registered)
		u, err := a.reg.CreateUnit(ctx, a.admin, x.unit)
		a.fail(x.unit.Name, err)
		if err != nil {
			return
		}
		x.licence.UnitID = u.ID
		_, err = a.reg.CreateLicence(ctx, a.admin, x.licence)
		a.fail(x.licence.Number, err)
		for _, f := range x.facilities {
			f.UnitID = u.ID
			_, err := a.reg.CreateFacility(ctx, a.admin, f)
			a.fail(f.Name, err)
		}
		p := a.account(x.username, x.display, u.ID, registered)
		a.receivers[x.key] = &party{p: p, id: u.ID, name: u.Name}
	}
}

// pickActive chooses the generated generators that take part: in USCC
// order, at most four of an industry, so every kind of unit has some.
func (a *act) pickActive() {
	a.active = []*party{a.gen, a.gen2}
	var rows []struct {
		unitRow
		Storage   string `db:"code"`
		CapacityG int64  `db:"capacity_g"`
	}
	a.fail("generators", store.Select(a.ctx, a.db.Reader(), &rows, `SELECT u.id, u.uscc, u.name, u.region_code,
		u.industry_code, u.created_at, f.code, f.capacity_g FROM units u
		JOIN unit_roles r ON r.unit_id = u.id AND r.role = 'generator'
		JOIN facilities f ON f.unit_id = u.id AND f.kind = 'storage' WHERE u.uscc LIKE ? ORDER BY u.uscc`, "%MA2X%"))
	// The generated USCCs carry their index in the organisation body.
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].USCC[8:16] < rows[j].USCC[8:16] })
	per := map[string]int{}
	for _, u := range rows {
		if len(a.active) == activityUnits+2 || a.err != nil {
			break
		}
		if profiles[u.Industry] == nil || per[u.Industry] == 4 {
			continue
		}
		per[u.Industry]++
		p := a.account("unit-"+u.USCC[12:16], "危废管理员", u.ID, u.Registered)
		g := &party{p: p, id: u.ID, name: u.Name, industry: u.Industry, storage: u.Storage,
			capT: float64(u.CapacityG) / 1e6, carrier: a.carriers[0], plate: a.carriers[0].plate}
		// Each unit makes its own amounts of its industry's wastes.
		scale := 0.6 + a.r.Float64()
		for _, w := range profiles[u.Industry] {
			w.yearT = w.yearT * scale
			g.wastes = append(g.wastes, w)
		}
		if n := len(a.active); n%3 == 2 && len(a.carriers) > 1 {
			c := a.carriers[1+n%(len(a.carriers)-1)]
			g.carrier, g.plate = c, c.plate
		}
		a.active = append(a.active, g)
	}
}

// generated is the i-th generated unit taking part, or nil.
func (a *act) generated(i int) *party {
	if i+2 < len(a.active) {
		return a.active[i+2]
	}
	return nil
}

// filePlans files each active generator's plan for this year, early in the
// year; the last generated one files after the deadline, and the plan rules
// raise plan_late for it.
func (a *act) filePlans() {
	for i, u := range a.active {
		if a.err != nil {
			return
		}
		filed := a.start.Add(time.Duration(72+a.r.IntN(15*24)) * time.Hour)
		if i == len(a.active)-1 && len(a.active) > 3 {
			filed = a.start.Add(time.Duration(110*24+a.r.IntN(10*24)) * time.Hour) // after 31 March: late
		}
		u.filed = earlier(filed, a.now.Add(-time.Hour))
		drafted := u.filed.Add(-time.Duration(20+a.r.IntN(50)) * time.Hour)
		in := plan.NewPlan{Year: a.year, Storage: []plan.StorageLine{{FacilityCode: u.storage, CapacityT: u.capT}},
			ReductionMeasures: reductions[u.industry]}
		if in.ReductionMeasures == "" {
			in.ReductionMeasures = "危险废物分类收集、规范贮存，及时委托持证单位利用处置"
		}
		for _, w := range u.wastes {
			planned := kg(w.yearT * 1.1)
			in.Generation = append(in.Generation, plan.GenerationLine{WasteCode: w.code, Name: w.name, Form: w.form,
				PlannedT: planned, LastYearT: kg(w.yearT * (0.85 + 0.2*a.r.Float64())), Source: w.source})
			t := plan.TransferLine{WasteCode: w.code, ReceiverUnitID: a.receivers[w.to].id, Method: w.method, PlannedT: planned}
			if t.Method == "" {
				t.Method = "R4" // the collector passes lead-acid batteries on for lead recovery
			}
			in.Transfers = append(in.Transfers, t)
		}
		p, err := a.plans.Create(a.at(drafted), u.p, in)
		a.fail("plan of "+u.name, err)
		if err != nil {
			return
		}
		_, err = a.plans.Submit(a.at(u.filed), u.p, p.ID, p.Version)
		a.fail("filing the plan of "+u.name, err)
	}
}

// addApprovals records the provincial approval for gen's spent catalyst to
// go to Jiangsu, and a whitelist route for a chemical plant's solvents.
func (a *act) addApprovals() {
	js := a.receivers["jiangsu"]
	a.approvalFrom = time.Date(a.now.In(calendar.Zone).Year(), a.now.In(calendar.Zone).Month()-7, 1, 0, 0, 0, 0, calendar.Zone).UTC()
	from := a.approvalFrom.In(calendar.Zone)
	issued := a.approvalFrom.Add(-time.Duration(10+a.r.IntN(20)) * 24 * time.Hour) // weeks before it takes effect
	_, err := a.appr.Create(a.at(issued), a.sthjj, approval.NewTransferApproval{
		Number:      fmt.Sprintf("皖环危转审〔%d〕%d号", from.Year(), 18+a.r.IntN(60)),
		ConsignorID: a.gen.id, ReceiverID: js.id, Method: "R8", Issuer: "安徽省生态环境厅",
		ValidFrom: from.Format(time.DateOnly), ValidTo: from.AddDate(1, 0, -1).Format(time.DateOnly),
		Note:  "废催化剂跨省转移至徐州利用（回收催化剂组分）",
		Items: []approval.NewApprovalItem{{WasteCode: "261-151-50", QuantityT: 30}}})
	a.fail("approval", err)
	for _, u := range a.active {
		if u.industry == "2614" {
			listed := a.start.Add(-15 * 24 * time.Hour) // published before the year it covers
			_, err := a.appr.CreateRoute(a.at(listed), a.sthjj, approval.NewWhitelistRoute{
				Reference:   "长三角危险废物跨省转移“白名单”（第二批）",
				ConsignorID: u.id, ReceiverID: js.id, WasteCodes: []string{"900-402-06"},
				ValidFrom: fmt.Sprintf("%d-01-01", a.year), ValidTo: fmt.Sprintf("%d-12-31", a.year),
				Note: "废有机溶剂再生利用（R2）"})
			a.fail("whitelist route", err)
			return
		}
	}
}

// generate records each active generator's waste month by month, in
// containers with their digital ids, each batch put into storage the same
// day; two units also keep a forgotten batch of spent carbon from a year
// ago, which the storage-age rule finds.
func (a *act) generate() {
	for _, u := range a.active {
		for i := range 12 {
			for _, w := range u.wastes {
				at := clock(a.month(i).AddDate(0, 0, a.r.IntN(24)), 9+a.r.IntN(7), a.r.IntN(60))
				if at.After(a.now.Add(-48 * time.Hour)) {
					continue
				}
				a.produce(u, w, at, kg(w.yearT/12*(0.8+0.4*a.r.Float64())))
			}
		}
	}
	// The demo log-ins also have waste from the last two days: some goes
	// on the manifests being raised now, some is still in storage.
	for _, u := range []*party{a.gen, a.gen2} {
		for _, h := range []time.Duration{40, 5} {
			for _, w := range u.wastes {
				a.produce(u, w, a.now.Add(-h*time.Hour), kg(w.yearT/24))
			}
		}
	}
	for i, age := range []int{345, 372} {
		if u := a.generated(10 + i); u != nil {
			a.produce(u, oldBatch, clock(a.now.Add(-time.Duration(age)*24*time.Hour), 10, 0), oldBatch.yearT)
		}
	}
}

// produce records one generation and its storage.
func (a *act) produce(u *party, w waste, at time.Time, t float64) {
	if a.err != nil || t <= 0 {
		return
	}
	n := min(max(int(math.Round(t/w.each)), 1), 20)
	g, err := a.led.RecordGeneration(a.at(at), u.p, ledger.NewGeneration{WasteCode: w.code, Name: w.name, Form: w.form,
		Packaging: w.pack, VolumeL: w.volL, Count: n, QuantityT: t, FacilityCode: w.facility, Handler: u.p.DisplayName,
		Destination: "厂内贮存", OccurredAt: &at})
	a.fail(u.name+" "+w.code, err)
	if err != nil {
		return
	}
	in := at.Add(a.minutes(30, 150))
	ids := make([]string, len(g.Items))
	for i, c := range g.Items {
		ids[i] = c.DigitalID
	}
	_, err = a.led.StoreIn(a.at(in), u.p, ledger.Movement{ContainerIDs: ids, FacilityCode: u.storage, Handler: u.p.DisplayName,
		OccurredAt: &in})
	a.fail(u.name+" storage", err)
	for _, c := range g.Items {
		a.stock[u.id+"|"+w.code] = append(a.stock[u.id+"|"+w.code], stored{id: c.DigitalID, g: c.QuantityG, at: in})
	}
}

// inHouse is the disposer's own waste, treated at its own facilities: used
// oil from maintenance regenerated the next day, packaging stored and
// incinerated within the week.
func (a *act) inHouse() {
	d := a.disposer.p
	for i := range 12 {
		base := a.month(i).AddDate(0, 0, 5+a.r.IntN(10))
		if base.After(a.now.Add(-10 * 24 * time.Hour)) {
			break
		}
		record := func(code, name, form, pack string, volL, t float64, n int, at time.Time) []string {
			g, err := a.led.RecordGeneration(a.at(at), d, ledger.NewGeneration{WasteCode: code, Name: name, Form: form,
				Packaging: pack, VolumeL: volL, Count: n, QuantityT: t, Handler: d.DisplayName, OccurredAt: &at})
			a.fail("disposer "+code, err)
			ids := make([]string, len(g.Items))
			for i, c := range g.Items {
				ids[i] = c.DigitalID
			}
			return ids
		}
		at := clock(base, 10, a.r.IntN(60))
		oil := record("900-249-08", "设备检修废油", "L", "铁桶", 200, kg(0.3+0.2*a.r.Float64()), 2, at)
		treat := at.Add(26 * time.Hour)
		if a.err == nil {
			_, err := a.led.InHouse(a.at(treat), d, ledger.Movement{ContainerIDs: oil, FacilityCode: "LY001", Method: "R9",
				Handler: d.DisplayName, OccurredAt: &treat})
			a.fail("disposer in-house R9", err)
		}
		at = at.Add(2 * time.Hour)
		bags := record("900-041-49", "废包装袋及沾染物", "S", "吨袋", 1000, kg(0.4+0.3*a.r.Float64()), 2, at)
		in, out := at.Add(time.Hour), at.Add(5*24*time.Hour)
		burn := out.Add(3 * time.Hour)
		if a.err != nil {
			return
		}
		_, err := a.led.StoreIn(a.at(in), d, ledger.Movement{ContainerIDs: bags, FacilityCode: "ZC001", Handler: d.DisplayName,
			OccurredAt: &in})
		a.fail("disposer storage", err)
		if a.err == nil {
			_, err = a.led.StoreOut(a.at(out), d, ledger.Movement{ContainerIDs: bags, Handler: d.DisplayName,
				Destination: "回转窑焚烧线", OccurredAt: &out})
			a.fail("disposer out of storage", err)
		}
		if a.err == nil {
			_, err = a.led.InHouse(a.at(burn), d, ledger.Movement{ContainerIDs: bags, FacilityCode: "CZ001", Method: "D10",
				Handler: d.DisplayName, OccurredAt: &burn})
			a.fail("disposer in-house D10", err)
		}
	}
}

// take removes from a unit's stock of code the containers stored before
// t, up to limit grams (0 for all).
func (a *act) take(u *party, code string, t time.Time, limit int64) ([]string, int64) {
	key := u.id + "|" + code
	var ids []string
	var g int64
	rest := a.stock[key][:0:0]
	for _, c := range a.stock[key] {
		if c.at.Before(t) && (limit == 0 || g+c.g <= limit || len(ids) == 0) {
			ids, g = append(ids, c.id), g+c.g
			continue
		}
		rest = append(rest, c)
	}
	a.stock[key] = rest
	return ids, g
}

// line is a manifest line for containers of w.
func line(w waste, ids []string, g int64) manifest.LineInput {
	return manifest.LineInput{WasteCode: w.code, Name: w.name, QuantityT: float64(g) / 1e6, Form: w.form,
		Packaging: w.pack, PackageCount: max(len(ids), 1), ContainerIDs: ids}
}

// capacityG is what one trip carries at most: the vans take 8 or 10 t.
const capacityG = 7_500_000

// transfer runs the year's manifests — every generator's regular
// shipments, the recent ones still under way and two cancelled — in the
// order they were raised, so their numbers run with their dates.
func (a *act) transfer() {
	var trips []*trip
	shipFrom := a.start.Add(21 * 24 * time.Hour)
	js := 0
	for _, u := range a.active {
		day, phase := 3+a.r.IntN(25), a.r.IntN(12)
		for i := range 12 {
			at := clock(a.month(i).AddDate(0, 0, day-1), 8, 10+a.r.IntN(80))
			if at.Before(shipFrom) || at.Before(u.filed.Add(48*time.Hour)) || at.After(a.now.Add(-12*24*time.Hour)) {
				continue
			}
			// One trip per receiver; a load over the van's capacity goes in two.
			var order []string
			byTo := map[string][]*trip{}
			for _, w := range u.wastes {
				if (i+phase)%w.every != w.every-1 {
					continue
				}
				to, method := w.to, w.method
				if u == a.gen && w.code == "261-151-50" && js < 2 && at.After(a.approvalFrom.Add(72*time.Hour)) {
					to, method = "jiangsu", "R8"
					js++
				}
				for {
					ids, g := a.take(u, w.code, at.Add(-6*time.Hour), capacityG)
					if len(ids) == 0 {
						break
					}
					ts := byTo[to]
					if len(ts) == 0 || ts[len(ts)-1].load()+g > capacityG {
						if len(ts) == 0 {
							order = append(order, to)
						}
						t := &trip{from: u, to: a.receivers[to], legs: []*party{u.carrier}, plates: []string{u.plate},
							at: at.Add(time.Duration(len(ts)) * 40 * time.Minute), end: stCompleted, month: i}
						byTo[to] = append(ts, t)
						ts = byTo[to]
					}
					t := ts[len(ts)-1]
					t.lines, t.methods = append(t.lines, line(w, ids, g)), append(t.methods, method)
				}
			}
			for _, to := range order {
				for _, t := range byTo[to] {
					if to == "battery" {
						t.end = stReceived // a collector keeps it for onward transfer; no method to record
					}
					trips = append(trips, t)
				}
			}
		}
	}
	a.special(trips)
	trips = append(trips, a.recent()...)
	sort.SliceStable(trips, func(i, j int) bool { return trips[i].at.Before(trips[j].at) })
	for len(trips) > 0 && a.err == nil {
		t := trips[0]
		trips = trips[1:]
		// Refused waste moves on under a manifest raised a few days later.
		if next := a.run(t); next != nil {
			i := sort.Search(len(trips), func(i int) bool { return trips[i].at.After(next.at) })
			trips = slices.Insert(trips, i, next)
		}
	}
}

// load is what a trip carries.
func (t *trip) load() int64 {
	var g int64
	for _, l := range t.lines {
		g += int64(math.Round(l.QuantityT * 1e6))
	}
	return g
}

func (t *trip) has(code string) int {
	return slices.IndexFunc(t.lines, func(l manifest.LineInput) bool { return l.WasteCode == code })
}

// special marks the regular trips that go wrong or get corrected: a weight
// off the declared one, a partial refusal, a full refusal sent on under a
// new manifest, a weighing corrected by revision. Each takes the first trip
// that fits the first of its conditions that any trip meets: the later ones
// are looser, for early in the year, when there are few trips.
func (a *act) special(trips []*trip) {
	first := func(oks ...func(t *trip) bool) *trip {
		for _, ok := range oks {
			for _, t := range trips {
				if t.end == stCompleted && t.receipt == nil && !t.revise && !t.refused && ok(t) {
					return t
				}
			}
		}
		return nil
	}
	anyTrip := func(*trip) bool { return true }
	from := func(u *party) func(*trip) bool { return func(t *trip) bool { return t.from == u } }
	lineOf := func(t *trip, code string) int { return max(t.has(code), 0) }

	if t := first(func(t *trip) bool { return t.from == a.gen2 && t.has("900-214-08") >= 0 && t.month >= 4 },
		from(a.gen2), anyTrip); t != nil {
		n := lineOf(t, "900-214-08")
		t.receipt = weighed(a, func(i int, l manifest.Line, rl *manifest.ReceiptLine) {
			if i == n {
				rl.ReceivedT = kg(l.QuantityT * 0.92)
			}
		})
	}
	if t := first(func(t *trip) bool { return t.from == a.gen && t.has("252-002-11") >= 0 && t.month >= 6 },
		from(a.gen), anyTrip); t != nil {
		n := lineOf(t, "252-002-11")
		t.receipt = weighed(a, func(i int, l manifest.Line, rl *manifest.ReceiptLine) {
			if i == n {
				refused := kg(l.QuantityT * 0.12)
				acc := kg(rl.ReceivedT - refused)
				rl.AcceptedT, rl.RefusedT, rl.Reason = &acc, &refused, "部分吨袋破损、含水率明显超标，与联单申报形态不符，该部分拒收"
			}
		})
	}
	if t := first(func(t *trip) bool { return t.from == a.gen && t.has("900-249-08") >= 0 && t.month >= 5 },
		from(a.gen), anyTrip); t != nil {
		t.revise = true
	}
	// The refused waste goes on to the cement kiln, so it must be of a
	// category the kiln's licence covers.
	kiln := func(t *trip) bool {
		for _, l := range t.lines {
			if c := l.WasteCode[8:]; c != "49" && c != "11" && c != "18" {
				return false
			}
		}
		return t.to != a.receivers["cement"]
	}
	if t := first(func(t *trip) bool {
		return t.from != a.gen && t.from != a.gen2 && t.to == a.disposer && len(t.lines) == 1 &&
			t.lines[0].WasteCode == "900-041-49" && t.month >= 4
	}, kiln); t != nil {
		t.refused = true
		t.receipt = weighed(a, func(i int, l manifest.Line, rl *manifest.ReceiptLine) {
			zero := 0.0
			rl.AcceptedT, rl.RefusedT = &zero, &rl.ReceivedT
			rl.Reason = "包装破损、渗漏，标签与联单不符，全部拒收"
		})
	}
}

// weighed returns a receipt that weighs each line within half a percent of
// its declared weight and accepts it, then lets adjust change it.
func weighed(a *act, adjust func(i int, l manifest.Line, rl *manifest.ReceiptLine)) func([]manifest.Line) []manifest.ReceiptLine {
	return func(lines []manifest.Line) []manifest.ReceiptLine {
		out := make([]manifest.ReceiptLine, len(lines))
		for i, l := range lines {
			out[i] = manifest.ReceiptLine{LineNo: l.LineNo, ReceivedT: max(kg(l.QuantityT*(1+(a.r.Float64()-0.5)*0.01)), 0.001)}
			if adjust != nil {
				adjust(i, l, &out[i])
			}
		}
		return out
	}
}

// recent returns the manifests still under way now, and two cancelled ones.
func (a *act) recent() []*trip {
	var out []*trip
	hour := time.Hour
	dayD := 24 * hour
	bulk := func(w waste) manifest.LineInput {
		t := kg(max(w.yearT/12, 0.05))
		return manifest.LineInput{WasteCode: w.code, Name: w.name, QuantityT: t, Form: w.form, Packaging: w.pack,
			PackageCount: max(int(math.Round(t/w.each)), 1)}
	}
	// lines takes from the unit's stock what it sends to one receiver, a
	// vanload at most; with nothing in stock, a month's worth without
	// container ids.
	lines := func(u *party, to string, at time.Time) ([]manifest.LineInput, []string) {
		var ls []manifest.LineInput
		var ms []string
		var load int64
		for _, w := range u.wastes {
			if w.to != to || load >= capacityG {
				continue
			}
			if ids, g := a.take(u, w.code, at.Add(-6*hour), capacityG-load); len(ids) > 0 {
				ls, ms, load = append(ls, line(w, ids, g)), append(ms, w.method), load+g
			}
		}
		if len(ls) == 0 {
			for _, w := range u.wastes {
				if w.to == to {
					return []manifest.LineInput{bulk(w)}, []string{w.method}
				}
			}
		}
		return ls, ms
	}
	// add raises a manifest from u to the receiver named (by default the
	// receiver of its first waste) and takes it as far as end.
	add := func(u *party, to string, at time.Time, end stage) {
		if u == nil || a.err != nil {
			return
		}
		if to == "" {
			to = u.wastes[0].to
		}
		t := &trip{from: u, to: a.receivers[to], legs: []*party{u.carrier}, plates: []string{u.plate}, at: at, end: end}
		t.lines, t.methods = lines(u, to, at)
		out = append(out, t)
	}
	now := a.now
	add(a.generated(6), "", now.Add(-21*dayD), stDelivered) // arrived three weeks ago, receipt overdue
	add(a.gen, "disposer", now.Add(-6*dayD), stReceived)    // received, method not yet recorded
	add(a.generated(7), "", now.Add(-5*dayD), stReceived)
	add(a.gen, "cement", now.Add(-4*dayD), stReceived)
	add(a.gen2, "disposer", now.Add(-30*hour), stPickedUp)
	if u := a.generated(5); u != nil && len(a.carriers) > 1 {
		// Two carriers: the city's carrier hands over to a county one (联运).
		t := &trip{from: u, to: a.disposer, legs: []*party{a.carriers[0], a.carriers[1]},
			plates: []string{a.carriers[0].plate, a.carriers[1].plate}, at: now.Add(-40 * hour), end: stHandedOver,
			note: "联运：市区段安运物流，县区段转运"}
		t.lines, t.methods = lines(u, "disposer", t.at)
		out = append(out, t)
	}
	add(a.gen, "disposer", now.Add(-20*hour), stSubmitted)
	add(a.generated(4), "", now.Add(-2*dayD), stSubmitted)
	add(a.medicalUnit(), "medical", now.Add(-8*hour), stSubmitted)
	add(a.gen, "cement", now.Add(-26*hour), stDraft)
	add(a.gen2, "battery", now.Add(-3*hour), stDraft)
	add(a.generated(3), "", now.Add(-2*dayD), stDraft)
	// Cancelled: a draft raised to the wrong receiver, and a submitted
	// manifest whose vehicle broke down.
	mid := a.start.Add(time.Duration(a.now.Sub(a.start).Hours()/2) * time.Hour)
	w := a.gen2.wastes[0]
	out = append(out, &trip{from: a.gen2, to: a.disposer, legs: []*party{a.gen2.carrier}, plates: []string{a.gen2.plate},
		at: mid.Add(-30 * dayD), end: stCancelDraft, lines: []manifest.LineInput{bulk(w)}, methods: []string{w.method},
		note: "误选运输车辆，作废重开"})
	if u := a.generated(9); u != nil {
		w := u.wastes[0]
		out = append(out, &trip{from: u, to: a.receivers[w.to], legs: []*party{u.carrier}, plates: []string{u.plate},
			at: mid, end: stCancelSubmitted, lines: []manifest.LineInput{bulk(w)}, methods: []string{w.method}})
	}
	return out
}

// medicalUnit is the first active hospital or clinic.
func (a *act) medicalUnit() *party {
	for _, u := range a.active {
		if u.industry == "8411" || u.industry == "8421" {
			return u
		}
	}
	return nil
}

// emergency is the emergency measures a manifest names for its first line.
func emergency(form string) string {
	if form == "L" {
		return "车辆配备吸附棉、围堵沙袋、灭火器；发生泄漏立即围堵收集，报告当地生态环境部门"
	}
	return "车辆配备防渗托盘、灭火器和个人防护用品；包装破损立即收集转入备用包装，报告当地生态环境部门"
}

// run takes a trip through the manifest's steps, each written at its
// business time (see timeline): raised at t.at, submitted within the hour,
// picked up the next morning, delivered a few hours later, received and
// weighed, completed within days. A trip refused in full returns the one
// that sends its waste on.
func (a *act) run(t *trip) (next *trip) {
	if a.err != nil || len(t.lines) == 0 {
		return nil
	}
	// when is the context of the next step, stamped with its time.
	times := a.timeline(t)
	when := func() context.Context {
		at := times[0]
		if len(times) > 1 {
			times = times[1:]
		}
		return a.at(at)
	}
	in := manifest.Input{ReceiverUnitID: t.to.id, Lines: t.lines, EmergencyMeasures: emergency(t.lines[0].Form),
		Note: t.note, PreviousID: t.previous}
	if len(t.legs) == 1 {
		in.CarrierUnitID, in.VehiclePlate = t.legs[0].id, t.plates[0]
	} else {
		for i, c := range t.legs {
			in.Carriers = append(in.Carriers, manifest.LegInput{CarrierUnitID: c.id, VehiclePlate: t.plates[i]})
		}
	}
	m, err := a.man.Create(when(), t.from.p, in)
	a.fail("manifest of "+t.from.name, err)
	if err != nil {
		return nil
	}
	do := func(f func(ctx context.Context) (manifest.Manifest, error)) bool {
		if a.err != nil {
			return false
		}
		got, err := f(when())
		if err != nil {
			a.fail(fmt.Sprintf("manifest %s of %s", m.Number, t.from.name), err)
			return false
		}
		m = got
		return true
	}
	switch t.end {
	case stDraft:
		return nil
	case stCancelDraft:
		do(func(ctx context.Context) (manifest.Manifest, error) {
			return a.man.Cancel(ctx, t.from.p, m.ID, 0, t.note)
		})
		return nil
	}
	if !do(func(ctx context.Context) (manifest.Manifest, error) { return a.man.Submit(ctx, t.from.p, m.ID, 0) }) ||
		t.end == stSubmitted {
		return nil
	}
	if t.end == stCancelSubmitted {
		do(func(ctx context.Context) (manifest.Manifest, error) {
			return a.man.Cancel(ctx, t.from.p, m.ID, 0, "运输车辆故障，本次转移取消，另行安排")
		})
		return nil
	}
	if !do(func(ctx context.Context) (manifest.Manifest, error) { return a.man.Pickup(ctx, t.legs[0].p, m.ID, 0) }) {
		return nil
	}
	for _, c := range t.legs[1:] {
		if !do(func(ctx context.Context) (manifest.Manifest, error) { return a.man.Handover(ctx, c.p, m.ID, 0) }) {
			return nil
		}
	}
	if t.end <= stHandedOver {
		return nil
	}
	last := t.legs[len(t.legs)-1]
	if !do(func(ctx context.Context) (manifest.Manifest, error) { return a.man.Deliver(ctx, last.p, m.ID, 0) }) ||
		t.end == stDelivered {
		return nil
	}
	receipt := t.receipt
	if receipt == nil {
		receipt = weighed(a, nil)
		if t.revise {
			// A slip when weighing, which the receiver then corrects.
			receipt = weighed(a, func(i int, l manifest.Line, rl *manifest.ReceiptLine) {
				if i == 0 {
					rl.ReceivedT = kg(l.QuantityT * 0.975)
				}
			})
		}
	}
	received := times[0]
	if !do(func(ctx context.Context) (manifest.Manifest, error) {
		return a.man.Receive(ctx, t.to.p, m.ID, 0, receipt(m.Lines))
	}) {
		return nil
	}
	if t.refused {
		return a.sendOn(t, m)
	}
	if t.revise && a.err == nil {
		// Asked for the day after the weighing, approved a day later.
		decided := times[0]
		asked := earlier(later(received.Add(a.minutes(16*60, 22*60)), received.Add(time.Minute)), decided.Add(-time.Minute))
		right := kg(m.Lines[0].QuantityT * 1.002)
		zero := 0.0
		r, err := a.man.RequestRevision(a.at(asked), t.to.p, m.ID, "过磅单录入错误，按复磅结果更正实收量", manifest.Changes{
			Lines: []manifest.LineChange{{LineNo: 1, ReceivedT: &right, AcceptedT: &right, RefusedT: &zero}}})
		a.fail("revision of "+m.Number, err)
		do(func(ctx context.Context) (manifest.Manifest, error) {
			if _, err := a.man.DecideRevision(ctx, t.from.p, m.ID, r.ID, true, "已核对复磅单，同意更正"); err != nil {
				return m, err
			}
			return a.man.Get(ctx, t.from.p, m.ID)
		})
	}
	if t.end == stReceived || m.Status != manifest.Received {
		return nil
	}
	var cl []manifest.CompletionLine
	for i, l := range m.Lines {
		if l.AcceptedT != nil && *l.AcceptedT > 0 {
			cl = append(cl, manifest.CompletionLine{LineNo: l.LineNo, Method: t.methods[i]})
		}
	}
	do(func(ctx context.Context) (manifest.Manifest, error) { return a.man.Complete(ctx, t.to.p, m.ID, 0, cl) })
	return nil
}

// timeline is the business time of each step run will take a trip
// through, from its creation at t.at: the gaps between the steps drawn at
// random, then every time moved into this year and before now, in order,
// so that each step is written at its time in the first place.
func (a *act) timeline(t *trip) []time.Time {
	gaps := []time.Duration{0}
	step := func(lo, hi int) { gaps = append(gaps, a.minutes(lo, hi)) }
	switch t.end {
	case stDraft:
	case stCancelDraft:
		step(20, 90)
	default:
		step(20, 90) // submitted
		switch t.end {
		case stSubmitted:
		case stCancelSubmitted:
			step(18*60, 22*60)
		default:
			step(15*60, 18*60) // picked up
			for range t.legs[1:] {
				step(150, 240) // handed over
			}
			if t.end <= stHandedOver {
				break
			}
			if t.to == a.receivers["jiangsu"] {
				step(300, 480) // delivered across the province border
			} else {
				step(90, 240)
			}
			if t.end == stDelivered {
				break
			}
			step(60, 20*60) // received
			if t.refused {
				break
			}
			if t.revise {
				step(36*60, 44*60) // revised
			}
			if t.end == stCompleted {
				step(2*24*60, 8*24*60)
			}
		}
	}
	ts := make([]time.Time, len(gaps))
	at := t.at
	for i, g := range gaps {
		at = at.Add(g)
		ts[i] = at
	}
	// Every time lies in this year, before now, in order.
	lo, hi := a.start.Add(time.Hour), a.now.Add(-time.Minute)
	for i := range ts {
		ts[i] = later(ts[i], lo)
		if i > 0 && !ts[i].After(ts[i-1]) {
			ts[i] = ts[i-1].Add(time.Minute)
		}
	}
	for i := len(ts) - 1; i >= 0; i-- {
		ts[i] = earlier(ts[i], hi)
		if i < len(ts)-1 && !ts[i].Before(ts[i+1]) {
			ts[i] = ts[i+1].Add(-time.Minute)
		}
	}
	return ts
}

// sendOn is the trip that sends waste the receiver refused to the cement
// kiln under a new manifest that names the refused one, a few days later.
func (a *act) sendOn(t *trip, refused manifest.Manifest) *trip {
	next := &trip{from: t.from, to: a.receivers["cement"], legs: t.legs, plates: t.plates, end: stCompleted,
		at: t.at.Add(time.Duration(4*24+a.r.IntN(48)) * time.Hour), previous: refused.ID,
		note: "原联单 " + refused.Number + " 被全部拒收，经重新包装后转水泥窑协同处置"}
	for _, l := range refused.Lines {
		next.lines = append(next.lines, manifest.LineInput{WasteCode: l.WasteCode, Name: l.Name, QuantityT: *l.ReceivedT,
			Form: l.Form, Packaging: "吨袋（重新包装）", PackageCount: l.PackageCount})
		next.methods = append(next.methods, "C1")
	}
	return next
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// declare compiles and submits each active generator's declarations for
// the periods already due, last year's and this year's, from the ledger,
// each a few days before its due date; gen leaves its latest one overdue.
// Periods ended but not yet due get a draft, compiled now.
func (a *act) declare() {
	var left string
	for _, u := range a.active {
		for _, year := range []int{a.year - 1, a.year} {
			if a.err != nil {
				return
			}
			sc, err := a.plans.Schedule(a.ctx, u.p, u.id, year, a.now)
			a.fail("declaration schedule of "+u.name, err)
			for i := len(sc.Items) - 1; i >= 0 && a.err == nil; i-- {
				it := sc.Items[i]
				switch {
				case it.Status == plan.Overdue && u == a.gen && left == "" && it.Kind == plan.Monthly:
					left = it.Key // gen has not declared its latest month yet
				case it.Status == plan.Overdue:
					at := clock(it.DueAt.Add(-time.Duration(1+a.r.IntN(6))*24*time.Hour), 9+a.r.IntN(8), a.r.IntN(60))
					at = later(earlier(at, a.now.Add(-time.Hour)), it.To.Add(time.Hour))
					// Compiled within two hours before, once the period has ended.
					d, err := a.plans.Compile(a.at(later(at.Add(-2*time.Hour), it.To.Add(time.Minute))), u.p, u.id, it.Key)
					a.fail("declaration "+it.Key+" of "+u.name, err)
					if err != nil {
						return
					}
					_, err = a.plans.SubmitDeclaration(a.at(at), u.p, d.ID, d.Version)
					a.fail("submitting declaration "+it.Key+" of "+u.name, err)
				case it.Status == plan.Due:
					_, err := a.plans.Compile(a.ctx, u.p, u.id, it.Key)
					a.fail("draft declaration "+it.Key+" of "+u.name, err)
				}
			}
		}
	}
}

// checks runs the time-based rules once, as the scheduled jobs would: the
// receipt deadline, the storage age and limits, and the declaration dates.
func (a *act) checks() {
	now := store.Now()
	for _, c := range []struct {
		name string
		fn   func(context.Context, *store.DB, time.Time) (int, error)
	}{{"receipt_overdue", manifest.CheckOverdue}, {"storage_age", ledger.CheckStorage}, {"declaration_due", plan.CheckDue}} {
		if a.err != nil {
			return
		}
		_, err := c.fn(a.ctx, a.db, now)
		a.fail(c.name, err)
	}
}

// registeredAt sets the seeder's context to ctx stamped with when the i-th
// generated unit (i < 0: the fixed demo parties) was registered, or to ctx
// itself for a unit registered now.
func (s *seeder) registeredAt(ctx context.Context, i int, industry string, role registry.UnitRole) {
	s.ctx = ctx
	if s.registered == nil {
		return
	}
	if t, ok := s.registered(i, industry, role); ok {
		s.ctx = store.At(ctx, t)
	}
}
