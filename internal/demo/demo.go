// Package demo seeds a realistic Huaibei data set into an empty database:
// the demo log-ins, the units behind them, and a few hundred further units
// across the city's regions so lists and maps are not empty. Every record is
// written through the domain services, so the demo exercises the same rules
// and audit trail as real use.
package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"wufei/internal/auth"
	"wufei/internal/program/cell"
	"wufei/internal/program/indicator"
	"wufei/internal/program/task"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/streams/agri"
	"wufei/internal/streams/construction"
	"wufei/internal/streams/household"
	"wufei/internal/streams/industrial"
	"wufei/internal/streams/medical"
	"wufei/internal/streams/sludge"
)

// Password is the password of every demo log-in.
const Password = "wufei-demo"

// Login is one demo account.
type Login struct {
	Username, Role, Description string
}

// Logins lists the demo accounts, for the start-up banner and the docs.
var Logins = []Login{
	{"admin", "admin", "平台管理员"},
	{"sthjj", "regulator", "市生态环境局（全市）"},
	{"xsq", "regulator", "市生态环境局相山分局（仅相山区）"},
	{"gen", "unit_admin", "产废单位：濉溪县煤化工企业"},
	{"gen2", "unit_admin", "产废单位：相山区汽车维修企业"},
	{"carrier", "unit_admin", "危险废物运输单位（两辆车）"},
	{"driver", "driver", "危险废物运输驾驶员（皖F3A721）"},
	{"disposer", "unit_admin", "烈山区利用处置单位（HW08/HW49/HW50）"},
}

// ActivityLogins are the further receivers' accounts a full demo (at least
// ActivityMinUnits extra units) adds with its year of activity.
var ActivityLogins = []Login{
	{"medwaste", "unit_admin", "医疗废物集中处置中心（HW01，Y10/D10）"},
	{"cement", "unit_admin", "水泥窑协同处置（HW11/HW18/HW49，C1）"},
	{"battery", "unit_admin", "废铅蓄电池收集单位"},
	{"solvent", "unit_admin", "废有机溶剂利用单位（HW06，R2）"},
	{"xzrecycle", "unit_admin", "江苏省的利用单位（跨省转移）"},
}

// Seeded reports whether the database already holds accounts, in which case
// Seed leaves it alone.
func Seeded(ctx context.Context, db *store.DB) (bool, error) {
	var n int
	err := store.Get(ctx, db.Reader(), &n, `SELECT count(*) FROM users`)
	return n > 0, err
}

// Seed writes the demo data set. The reference data and catalogue must
// already be loaded. extra is the number of further generated units.
func Seed(ctx context.Context, db *store.DB, extra int) error {
	reg := registry.NewService(db)
	as := auth.NewService(db)
	s := seeder{ctx: ctx, reg: reg, auth: as}
	if extra >= ActivityMinUnits {
		s.registered = registration(store.Now())
	}
	s.registeredAt(ctx, -1, "", "")

	gen := s.unit(registry.NewUnit{USCC: registry.MakeUSCC("91", "340621", "MA2N8C01"), Name: "淮北濉溪临涣煤化有限公司",
		Roles: []registry.UnitRole{registry.Generator}, RegionCode: "340621", ParkCode: "340621P01",
		Address: "濉溪县临涣镇煤化工基地纬二路 8 号", Longitude: ptr(116.571), Latitude: ptr(33.692),
		ContactName: "王建国", ContactPhone: "0561-6012345", IndustryCode: "2520", IndustryName: "炼焦"})
	s.facility(gen, "SC001", "generation", "焦油渣产生工段（焦炉煤气净化）", "", 0)
	s.facility(gen, "SC002", "generation", "废催化剂产生工段（甲醇合成）", "", 0)
	s.facility(gen, "ZC001", "storage", "危险废物贮存库 1 号", "", 300)

	gen2 := s.unit(registry.NewUnit{USCC: registry.MakeUSCC("91", "340603", "MA2P4D02"), Name: "淮北市相山区顺达汽车维修服务有限公司",
		Roles: []registry.UnitRole{registry.Generator}, RegionCode: "340603", ParkCode: "340603001",
		Address: "相山区人民中路 217 号", Longitude: ptr(116.794), Latitude: ptr(33.956),
		ContactName: "李明", ContactPhone: "13905610001", IndustryCode: "8111", IndustryName: "汽车修理与维护"})
	s.facility(gen2, "ZC001", "storage", "危废暂存间", "", 3)

	carrier := s.unit(registry.NewUnit{USCC: registry.MakeUSCC("91", "340602", "MA2Q7E03"), Name: "淮北安运危险货物运输有限公司",
		Roles: []registry.UnitRole{registry.Carrier}, RegionCode: "340602", ParkCode: "340602400",
		Address: "杜集区杜集经济开发区物流园 3 号", Longitude: ptr(116.832), Latitude: ptr(34.008),
		ContactName: "张磊", ContactPhone: "0561-3098765", IndustryCode: "5430", IndustryName: "道路货物运输"})
	s.vehicle(carrier, "皖F3A721", "皖交运管许可淮字340602000123号", "厢式货车", 10)
	s.vehicle(carrier, "皖F5B208", "皖交运管许可淮字340602000124号", "罐式货车", 18)

	disposer := s.unit(registry.NewUnit{USCC: registry.MakeUSCC("91", "340604", "MA2R2F04"), Name: "淮北绿源环境科技有限公司",
		Roles: []registry.UnitRole{registry.Utiliser, registry.Disposer}, RegionCode: "340604", ParkCode: "340604400",
		Address: "烈山区烈山工业园纬三路 12 号", Longitude: ptr(116.861), Latitude: ptr(33.889),
		ContactName: "陈静", ContactPhone: "0561-3123456", IndustryCode: "7724", IndustryName: "危险废物治理"})
	s.licence(registry.NewLicence{UnitID: disposer.ID, Number: "皖危废经许字3406040001号", Issuer: "安徽省生态环境厅",
		Kinds: []registry.LicenceKind{registry.Collect, registry.Store, registry.Utilise, registry.Dispose}, CapacityT: 20000,
		ValidFrom: day(2024, 6, 1), ValidTo: day(2029, 5, 31),
		Scopes: []registry.LicenceScope{{Category: "HW08", Method: "R9"}, {Category: "HW08", Method: "D10"},
			{Category: "HW49", Method: "D10"}, {Category: "HW50", Method: "R8"}}})
	s.facility(disposer, "CZ001", "disposal", "回转窑焚烧线", "D10", 12000)
	s.facility(disposer, "LY001", "utilisation", "废矿物油再生装置", "R9", 5000)
	s.facility(disposer, "LY002", "utilisation", "废催化剂金属回收线", "R8", 3000)
	s.facility(disposer, "ZC001", "storage", "甲类危废仓库", "", 800)

	sthjj, xsDep := s.department("sthjj"), s.department("sthjj-xs")
	s.user(auth.NewUser{Username: "admin", DisplayName: "平台管理员", Role: auth.Admin})
	s.user(auth.NewUser{Username: "sthjj", DisplayName: "市生态环境局固废科", Role: auth.Regulator,
		DepartmentID: sthjj.ID, RegionCode: auth.CityCode})
	s.user(auth.NewUser{Username: "xsq", DisplayName: "相山分局监管员", Role: auth.Regulator,
		DepartmentID: xsDep.ID, RegionCode: "340603"})
	s.user(auth.NewUser{Username: "gen", DisplayName: "王建国", Role: auth.UnitAdmin, UnitID: gen.ID})
	s.user(auth.NewUser{Username: "gen2", DisplayName: "李明", Role: auth.UnitAdmin, UnitID: gen2.ID})
	s.user(auth.NewUser{Username: "carrier", DisplayName: "张磊", Role: auth.UnitAdmin, UnitID: carrier.ID})
	s.user(auth.NewUser{Username: "driver", DisplayName: "刘师傅", Role: auth.Driver, UnitID: carrier.ID})
	s.user(auth.NewUser{Username: "disposer", DisplayName: "陈静", Role: auth.UnitAdmin, UnitID: disposer.ID})
	if s.err != nil {
		return s.err
	}
	s.ctx = ctx
	if err := s.more(extra); err != nil {
		return err
	}
	if err := activity(ctx, db, extra); err != nil {
		return err
	}
	return programme(ctx, db, extra)
}

// seeder carries the first error through a sequence of calls, so the seed
// reads as a list of records.
type seeder struct {
	ctx  context.Context
	reg  *registry.Service
	auth *auth.Service
	err  error
	// registered, for a full demo, is when a unit taking part in the year of
	// activity was registered (see registration); nil registers all now.
	registered func(i int, industry string, role registry.UnitRole) (time.Time, bool)
}

func (s *seeder) fail(what string, err error) {
	if err != nil && s.err == nil {
		s.err = fmt.Errorf("demo: %s: %w", what, err)
	}
}

func (s *seeder) unit(in registry.NewUnit) registry.Unit {
	if s.err != nil {
		return registry.Unit{}
	}
	u, err := s.reg.CreateUnit(s.ctx, auth.System, in)
	s.fail(in.Name, err)
	return u
}

func (s *seeder) facility(u registry.Unit, code, kind, name, method string, capT float64) {
	if s.err != nil {
		return
	}
	_, err := s.reg.CreateFacility(s.ctx, auth.System, registry.NewFacility{UnitID: u.ID, Code: code, Kind: kind, Name: name,
		Method: method, CapacityT: capT})
	s.fail(name, err)
}

func (s *seeder) vehicle(u registry.Unit, plate, permit, kind string, capT float64) {
	if s.err != nil {
		return
	}
	valid := day(2028, 12, 31)
	_, err := s.reg.CreateVehicle(s.ctx, auth.System, registry.NewVehicle{UnitID: u.ID, Plate: plate, PermitNo: permit, Kind: kind,
		CapacityT: capT, PermitValidTo: &valid})
	s.fail(plate, err)
}

func (s *seeder) licence(in registry.NewLicence) {
	if s.err != nil {
		return
	}
	_, err := s.reg.CreateLicence(s.ctx, auth.System, in)
	s.fail(in.Number, err)
}

func (s *seeder) department(code string) registry.Department {
	if s.err != nil {
		return registry.Department{}
	}
	d, err := s.reg.DepartmentByCode(s.ctx, code)
	s.fail("department "+code, err)
	return d
}

func (s *seeder) user(in auth.NewUser) {
	if s.err != nil {
		return
	}
	in.Password = Password
	_, err := s.auth.CreateUser(s.ctx, auth.System, in)
	s.fail(in.Username, err)
}

// industry is a kind of unit the generated set draws from.
type industry struct {
	code, name string
	roles      []registry.UnitRole
	names      []string // name stems
	weight     int
}

var industries = []industry{
	{"0610", "烟煤和无烟煤开采洗选", []registry.UnitRole{registry.Generator}, []string{"煤矿", "选煤厂", "矿业"}, 10},
	{"2520", "炼焦", []registry.UnitRole{registry.Generator}, []string{"焦化", "煤化"}, 4},
	{"2614", "有机化学原料制造", []registry.UnitRole{registry.Generator}, []string{"化工", "新材料", "精细化工"}, 8},
	{"4411", "火力发电", []registry.UnitRole{registry.Generator}, []string{"发电", "热电"}, 4},
	{"3011", "水泥制造", []registry.UnitRole{registry.Generator}, []string{"水泥", "建材"}, 5},
	{"3360", "金属表面处理及热处理加工", []registry.UnitRole{registry.Generator}, []string{"电镀", "表面处理"}, 4},
	{"3670", "汽车零部件及配件制造", []registry.UnitRole{registry.Generator}, []string{"汽车零部件", "机械"}, 8},
	{"8111", "汽车修理与维护", []registry.UnitRole{registry.Generator}, []string{"汽车维修", "汽修", "汽车服务"}, 25},
	{"8411", "综合医院", []registry.UnitRole{registry.Generator}, []string{"医院", "人民医院"}, 6},
	{"8421", "社区卫生服务中心（站）", []registry.UnitRole{registry.Generator}, []string{"社区卫生服务中心", "诊所"}, 10},
	{"7320", "工程和技术研究和试验发展", []registry.UnitRole{registry.Generator}, []string{"检测", "实验室", "研究院"}, 5},
	{"5430", "道路货物运输", []registry.UnitRole{registry.Carrier}, []string{"物流", "危险货物运输"}, 4},
	{"7724", "危险废物治理", []registry.UnitRole{registry.Collector}, []string{"环保", "再生资源"}, 3},
}

var places = []struct{ region, park, name string }{
	{"340602", "340602400", "杜集"}, {"340602", "340602100", "朔里"}, {"340602", "340602101", "石台"},
	{"340603", "340603400", "相山"}, {"340603", "340603001", "相南"}, {"340603", "340603010", "曲阳"}, {"340603", "340600P01", "高新"},
	{"340604", "340604400", "烈山"}, {"340604", "340604101", "宋疃"}, {"340604", "340604102", "古饶"},
	{"340621", "340621400", "濉溪"}, {"340621", "340621104", "临涣"}, {"340621", "340621102", "刘桥"},
	{"340621", "340621P01", "煤化工基地"}, {"340621", "340621109", "孙疃"}, {"340621", "340621105", "双堆集"},
}

// more generates n further units with a fixed seed, so every demo database
// holds the same set.
func (s *seeder) more(n int) error {
	r := rand.New(rand.NewPCG(340600, 2024))
	total := 0
	for _, ind := range industries {
		total += ind.weight
	}
	suffixes := []string{"有限公司", "有限责任公司", "股份有限公司"}
	base := s.ctx
	defer func() { s.ctx = base }()
	for i := range n {
		w, ind := r.IntN(total), industries[0]
		for _, x := range industries {
			if w < x.weight {
				ind = x
				break
			}
			w -= x.weight
		}
		pl := places[r.IntN(len(places))]
		stem := ind.names[r.IntN(len(ind.names))]
		name := fmt.Sprintf("淮北市%s%s%s第%d%s", pl.name, []string{"恒", "盛", "华", "宏", "鑫", "泰", "瑞", "安"}[r.IntN(8)], stem,
			i+1, suffixes[r.IntN(len(suffixes))])
		if ind.code == "8411" || ind.code == "8421" {
			name = fmt.Sprintf("淮北市%s%s（第%d）", pl.name, stem, i+1)
		}
		s.registeredAt(base, i, ind.code, ind.roles[0])
		u := s.unit(registry.NewUnit{USCC: registry.MakeUSCC("91", pl.region, fmt.Sprintf("MA2X%04d", i)), Name: name,
			Roles: ind.roles, RegionCode: pl.region, ParkCode: pl.park, Address: pl.name + "片区",
			Longitude: ptr(116.60 + r.Float64()*0.45), Latitude: ptr(33.40 + r.Float64()*0.70),
			ContactName: "联系人", ContactPhone: fmt.Sprintf("1390561%04d", i), IndustryCode: ind.code, IndustryName: ind.name})
		if s.err != nil {
			return s.err
		}
		switch {
		case ind.roles[0] == registry.Carrier:
			s.vehicle(u, fmt.Sprintf("皖F%s%04d", string(rune('C'+i%5)), 1000+i), fmt.Sprintf("皖交运管许可淮字%s%06d号", pl.region, i),
				"厢式货车", 8)
		case ind.roles[0] == registry.Collector:
			s.licence(registry.NewLicence{UnitID: u.ID, Number: fmt.Sprintf("皖危废收许字%s%04d号", pl.region, i),
				Issuer: "淮北市生态环境局", Kinds: []registry.LicenceKind{registry.Collect, registry.Store}, CapacityT: 3000,
				ValidFrom: day(2025, 1, 1), ValidTo: day(2030, 12, 31),
				Scopes: []registry.LicenceScope{{Category: "HW08"}, {Category: "HW49", WasteCode: "900-041-49"},
					{Category: "HW31", WasteCode: "900-052-31"}}})
		default:
			s.facility(u, "ZC001", "storage", "危险废物贮存间", "", float64(1+r.IntN(50)))
		}
		if s.err != nil {
			return s.err
		}
	}
	return nil
}

func ptr(f float64) *float64 { return &f }

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// programme seeds the Zero-Waste City programme's progress: task reports and
// milestones, zero-waste cells in every state and reported indicator values
// for 2024–2026, alongside the year of activity (and, like it, only for a
// full demo).
func programme(ctx context.Context, db *store.DB, extra int) error {
	if extra < ActivityMinUnits {
		return nil
	}
	return Programme(ctx, db)
}

// Programme seeds the stream records of the units the database holds and
// the city's programme — task reports, zero-waste cells, indicator values —
// into a database with hazardous-waste activity (the demo's or a generated
// one).
func Programme(ctx context.Context, db *store.DB) error {
	for _, seed := range []func(context.Context, *store.DB) error{industrial.Demo, sludge.Demo, construction.Demo, medical.Demo,
		agri.Demo, household.Demo, task.SeedDemo, cell.SeedDemo, indicator.SeedDemo} {
		if err := seed(ctx, db); err != nil {
			return fmt.Errorf("demo: programme: %w", err)
		}
	}
	return nil
}
