package plan_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"
	"wufei/internal/calendar"

	"wufei/internal/auth"
	"wufei/internal/catalog"
	"wufei/internal/errs"
	"wufei/internal/hw/ledger"
	"wufei/internal/hw/plan"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

var (
	admin   = auth.Principal{UserID: "u-admin", Username: "admin", Role: auth.Admin}
	cityReg = auth.Principal{UserID: "u-city", Username: "sthjj", Role: auth.Regulator, RegionCode: "340600"}
	xsReg   = auth.Principal{UserID: "u-xs", Username: "xsq", Role: auth.Regulator, RegionCode: "340603"}
	sxReg   = auth.Principal{UserID: "u-sx", Username: "sxx", Role: auth.Regulator, RegionCode: "340621"}
	parkReg = auth.Principal{UserID: "u-park", Username: "mhj", Role: auth.Regulator, RegionCode: "340621P01"}
)

func unitAdmin(u registry.Unit) auth.Principal {
	return auth.Principal{UserID: "ua-" + u.ID, Username: "ua", Role: auth.UnitAdmin, UnitID: u.ID}
}

func driver(u registry.Unit) auth.Principal {
	return auth.Principal{UserID: "dr-" + u.ID, Username: "dr", Role: auth.Driver, UnitID: u.ID}
}

// env is a migrated database with the reference data and the catalogue.
type env struct {
	t   testing.TB
	ctx context.Context
	db  *store.DB
	reg *registry.Service
	svc *plan.Service
	lg  *ledger.Service
	n   int
}

func newEnv(t testing.TB, db *store.DB) *env {
	t.Helper()
	ctx := context.Background()
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		if err := registry.SeedReference(ctx, tx); err != nil {
			return err
		}
		return catalog.Seed(ctx, tx)
	}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	return &env{t: t, ctx: ctx, db: db, reg: registry.NewService(db), svc: plan.NewService(db), lg: ledger.NewService(db)}
}

// unit registers a unit as the admin.
func (e *env) unit(name, region, park string, roles ...registry.UnitRole) registry.Unit {
	e.t.Helper()
	e.n++
	u, err := e.reg.CreateUnit(e.ctx, admin, registry.NewUnit{USCC: registry.MakeUSCC("91", region, fmt.Sprintf("MA%06d", e.n)),
		Name: name, Roles: roles, RegionCode: region, ParkCode: park, Address: "淮北市测试路 1 号", ContactName: "张三",
		ContactPhone: "0561-3000000"})
	if err != nil {
		e.t.Fatalf("create unit %s: %v", name, err)
	}
	return u
}

func (e *env) facility(u registry.Unit, code, kind, method string, capT float64) {
	e.t.Helper()
	if _, err := e.reg.CreateFacility(e.ctx, admin, registry.NewFacility{UnitID: u.ID, Code: code, Kind: kind,
		Name: code, Method: method, CapacityT: capT}); err != nil {
		e.t.Fatalf("facility %s: %v", code, err)
	}
}

// generator registers a coal-chemical generator in the 濉溪县 park with a
// storage facility.
func (e *env) generator(name string) registry.Unit {
	u := e.unit(name, "340621", "340621P01", registry.Generator)
	e.facility(u, "ZC001", "storage", "", 50)
	return u
}

func (e *env) disposer() registry.Unit {
	return e.unit("淮北绿源环境科技有限公司", "340604", "", registry.Utiliser, registry.Disposer)
}

// draft creates a plan generating tonnes of 900-249-08 in year.
func (e *env) draft(u registry.Unit, year int, tonnes float64) plan.Plan {
	e.t.Helper()
	p, err := e.svc.Create(e.ctx, unitAdmin(u), plan.NewPlan{Year: year,
		Generation:        []plan.GenerationLine{{WasteCode: "900-249-08", Name: "废机油", Form: "L", PlannedT: tonnes, Source: "设备维护"}},
		ReductionMeasures: "延长换油周期，油品在线监测"})
	if err != nil {
		e.t.Fatalf("create plan: %v", err)
	}
	return p
}

func (e *env) filed(u registry.Unit, year int, tonnes float64) plan.Plan {
	e.t.Helper()
	p := e.draft(u, year, tonnes)
	p, err := e.svc.Submit(e.ctx, unitAdmin(u), p.ID, p.Version)
	if err != nil {
		e.t.Fatalf("submit: %v", err)
	}
	return p
}

func (e *env) setting(key, value string) {
	e.t.Helper()
	if err := e.db.Tx(e.ctx, func(tx *store.Tx) error {
		store.Changed(tx, "settings")
		_, err := store.Exec(e.ctx, tx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value, tx.Now)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
}

var kindNames = map[errs.Kind]string{errs.Internal: "Internal", errs.Invalid: "Invalid", errs.NotFound: "NotFound",
	errs.Conflict: "Conflict", errs.Unauthorized: "Unauthorized", errs.Forbidden: "Forbidden", errs.TooMany: "TooMany"}

func wantErr(t *testing.T, err error, kind errs.Kind, code string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want %s %s", err, kindNames[kind], code)
	}
	if e.Kind != kind || e.Code != code {
		t.Fatalf("got %s %s (%v), want %s %s", kindNames[e.Kind], e.Code, err, kindNames[kind], code)
	}
}

// wantFields fails unless err is a validation error naming exactly these
// field=code pairs, in any order.
func wantFields(t *testing.T, err error, pairs ...string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.Invalid {
		t.Fatalf("got %v, want a validation error", err)
	}
	var got []string
	for _, f := range e.Fields {
		got = append(got, f.Field+"="+f.Code)
	}
	slices.Sort(got)
	slices.Sort(pairs)
	if !slices.Equal(got, pairs) {
		t.Fatalf("fields %v, want %v", got, pairs)
	}
}

func thisYear() int { return time.Now().In(calendar.Zone).Year() }

func TestClass(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		y := thisYear()
		class := func(u registry.Unit, year int) plan.ClassResult {
			t.Helper()
			c, err := plan.Class(e.ctx, db.Reader(), u.ID, year)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		want := func(c plan.ClassResult, class string, codes ...string) {
			t.Helper()
			if c.Class != class || !slices.Equal(c.ReasonCodes, codes) || len(c.Reasons) != len(codes) || c.ClassName == "" {
				t.Fatalf("class %s %v %v, want %s %v", c.Class, c.ReasonCodes, c.Reasons, class, codes)
			}
		}

		none := e.generator("无计划单位")
		want(class(none, y), plan.Registered, plan.ReasonNoFigures)

		for _, c := range []struct {
			tonnes float64
			class  string
			code   string
		}{
			{9.999999, plan.Registered, plan.ReasonBelow},
			{10, plan.Simplified, plan.ReasonPlanned},
			{99.999999, plan.Simplified, plan.ReasonPlanned},
			{100, plan.Key, plan.ReasonPlanned},
		} {
			u := e.generator(fmt.Sprintf("产废单位 %g 吨", c.tonnes))
			e.draft(u, y, c.tonnes)
			r := class(u, y)
			want(r, c.class, c.code)
			if r.PlannedT != c.tonnes {
				t.Fatalf("planned %v, want %v", r.PlannedT, c.tonnes)
			}
			if other := class(u, y-1); other.Class != plan.Registered {
				t.Fatalf("another year's class: %s", other.Class)
			}
		}

		// Last year's generation as the plan states it.
		last := e.generator("上年度产废多的单位")
		p, err := e.svc.Create(e.ctx, unitAdmin(last), plan.NewPlan{Year: y, Generation: []plan.GenerationLine{
			{WasteCode: "900-249-08", Form: "L", PlannedT: 20, LastYearT: 60},
			{WasteCode: "900-041-49", Form: "S", PlannedT: 20, LastYearT: 60}}})
		if err != nil {
			t.Fatal(err)
		}
		want(class(last, y), plan.Key, plan.ReasonLastYear)
		if p.Generation[1].Characteristics == nil || p.Generation[0].Characteristics[0] != "I" {
			t.Fatalf("characteristics not taken from the catalogue: %+v", p.Generation)
		}

		// Own disposal facility, or a licence: key whatever the tonnage.
		d := e.disposer()
		e.facility(d, "CZ001", "disposal", "D10", 1000)
		want(class(d, y), plan.Key, plan.ReasonFacility)
		lic := e.unit("收集单位", "340602", "", registry.Collector)
		if _, err := e.reg.CreateLicence(e.ctx, admin, registry.NewLicence{UnitID: lic.ID, Number: "皖危废收许字0001号",
			Kinds: []registry.LicenceKind{registry.Collect, registry.Store}, CapacityT: 3000,
			ValidFrom: time.Date(y-1, 1, 1, 0, 0, 0, 0, time.UTC), ValidTo: time.Date(y+2, 1, 1, 0, 0, 0, 0, time.UTC),
			Scopes: []registry.LicenceScope{{Category: "HW08"}}}); err != nil {
			t.Fatal(err)
		}
		want(class(lic, y), plan.Key, plan.ReasonLicence)
		if c := class(lic, y+3); c.Class != plan.Registered {
			t.Fatalf("licence expired by then, class %s", c.Class)
		}

		// Thresholds are settings.
		mid := e.generator("六十吨单位")
		e.draft(mid, y, 60)
		want(class(mid, y), plan.Simplified, plan.ReasonPlanned)
		e.setting("class_key_threshold_t", "50")
		want(class(mid, y), plan.Key, plan.ReasonPlanned)

		if _, err := plan.Class(e.ctx, db.Reader(), "no-such-unit", y); err == nil {
			t.Fatal("class of a missing unit")
		}
		// Through the service: scoped.
		if _, err := e.svc.UnitClass(e.ctx, unitAdmin(none), mid.ID, y); err == nil {
			t.Fatal("a unit reads another unit's class")
		} else {
			wantErr(t, err, errs.NotFound, "unit_not_found")
		}
		if _, err := e.svc.UnitClass(e.ctx, xsReg, mid.ID, y); err == nil {
			t.Fatal("相山 regulator reads a 濉溪 unit's class")
		}
		if c, err := e.svc.UnitClass(e.ctx, parkReg, mid.ID, y); err != nil || c.Class != plan.Key {
			t.Fatalf("park regulator: %v %v", c, err)
		}
	})
}

func TestFilingNumbers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		y := thisYear()
		re := regexp.MustCompile(fmt.Sprintf(`^HWGL%d3406\d{5}$`, y))
		var numbers []string
		units := []registry.Unit{e.generator("甲"), e.generator("乙"), e.generator("丙")}
		for _, u := range units {
			p := e.filed(u, y, 120)
			if p.Status != plan.Filed || !re.MatchString(p.FilingNumber) || p.FiledAt == nil || p.Class != plan.Key {
				t.Fatalf("filed plan: %+v", p)
			}
			numbers = append(numbers, p.FilingNumber)
		}
		for i, n := range numbers {
			if want := fmt.Sprintf("HWGL%d3406%05d", y, i+1); n != want {
				t.Fatalf("number %d is %s, want %s", i, n, want)
			}
		}
		// Returned and resubmitted: the same number; the next plan goes on.
		p, err := e.svc.List(e.ctx, admin, plan.Filter{UnitID: units[1].ID})
		if err != nil || len(p.Items) != 1 {
			t.Fatalf("list: %v %v", p, err)
		}
		ret, err := e.svc.Return(e.ctx, sxReg, p.Items[0].ID, "贮存能力填写有误", 0)
		if err != nil || ret.Status != plan.Returned || ret.ReturnReason == "" || ret.FilingNumber != numbers[1] {
			t.Fatalf("return: %+v %v", ret, err)
		}
		again, err := e.svc.Submit(e.ctx, unitAdmin(units[1]), ret.ID, ret.Version)
		if err != nil || again.FilingNumber != numbers[1] || again.Status != plan.Filed {
			t.Fatalf("resubmit: %+v %v", again, err)
		}
		if n := e.filed(e.generator("丁"), y, 5).FilingNumber; n != fmt.Sprintf("HWGL%d3406%05d", y, 4) {
			t.Fatalf("after a resubmission: %s", n)
		}
		// Each year has its own serials.
		if n := e.filed(units[0], y+1, 5).FilingNumber; n != fmt.Sprintf("HWGL%d3406%05d", y+1, 1) {
			t.Fatalf("next year: %s", n)
		}
		// Submitted at once, plans still get distinct consecutive numbers.
		var drafts []plan.Plan
		var owners []registry.Unit
		for i := range 8 {
			u := e.generator(fmt.Sprintf("并发单位%d", i))
			drafts, owners = append(drafts, e.draft(u, y+1, 1)), append(owners, u)
		}
		got := make(chan string, len(drafts))
		var wg sync.WaitGroup
		for i, d := range drafts {
			wg.Go(func() {
				p, err := e.svc.Submit(e.ctx, unitAdmin(owners[i]), d.ID, 0)
				if err != nil {
					t.Error(err)
				}
				got <- p.FilingNumber
			})
		}
		wg.Wait()
		close(got)
		var concurrent []string
		for n := range got {
			concurrent = append(concurrent, n)
		}
		slices.Sort(concurrent)
		for i, n := range concurrent {
			if want := fmt.Sprintf("HWGL%d3406%05d", y+1, i+2); n != want {
				t.Fatalf("concurrent numbers %v", concurrent)
			}
		}
		var distinct int
		if err := store.Get(e.ctx, db.Reader(), &distinct, `SELECT count(DISTINCT filing_number) FROM plans WHERE filing_number IS NOT NULL`); err != nil || distinct != 13 {
			t.Fatalf("distinct numbers: %d %v", distinct, err)
		}
		// A unit of another city files under that city's digits, on serials
		// of its own; Huaibei's go on where they were.
		if err := db.Tx(e.ctx, func(tx *store.Tx) error {
			_, err := store.Exec(e.ctx, tx, `INSERT INTO regions (code, name, level, parent_code, local)
				VALUES ('340100', '合肥市', 'city', '340000', ?)`, false)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		hefei := e.unit("合肥测试化工有限公司", "340100", "", registry.Generator)
		e.facility(hefei, "ZC001", "storage", "", 50)
		if n := e.filed(hefei, y, 5).FilingNumber; n != fmt.Sprintf("HWGL%d3401%05d", y, 1) {
			t.Fatalf("a Hefei unit's number: %s", n)
		}
		if n := e.filed(e.generator("戊"), y, 5).FilingNumber; n != fmt.Sprintf("HWGL%d3406%05d", y, 5) {
			t.Fatalf("Huaibei's after Hefei's: %s", n)
		}
		// A city's serials of a year run out at 99,999: a conflict, and the
		// plan stays a draft.
		if err := db.Tx(e.ctx, func(tx *store.Tx) error {
			_, err := store.Exec(e.ctx, tx, `UPDATE plan_filing_serials SET last = 99999 WHERE prefix = ?`, fmt.Sprintf("%d3401", y))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		d := e.draft(hefei, y+1, 5)
		d2 := e.draft(e.unit("合肥测试材料有限公司", "340100", "", registry.Generator), y, 5)
		_, err = e.svc.Submit(e.ctx, admin, d2.ID, d2.Version)
		wantErr(t, err, errs.Conflict, "plan_filing_numbers_exhausted")
		if p, err := e.svc.Get(e.ctx, admin, d2.ID); err != nil || p.Status != plan.Draft || p.FilingNumber != "" {
			t.Fatalf("after the refusal: %+v %v", p, err)
		}
		if p, err := e.svc.Submit(e.ctx, unitAdmin(hefei), d.ID, d.Version); err != nil || p.FilingNumber != fmt.Sprintf("HWGL%d3401%05d", y+1, 1) {
			t.Fatalf("the next year's first: %+v %v", p, err)
		}
	})
}

func TestStatusMachine(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		y := thisYear()
		gen := e.generator("临涣煤化")
		other := e.unit("相山汽修", "340603", "", registry.Generator)
		ua := unitAdmin(gen)

		// One plan per unit and year.
		p := e.draft(gen, y, 120)
		if _, err := e.svc.Create(e.ctx, ua, plan.NewPlan{Year: y}); err == nil {
			t.Fatal("second plan for the year")
		} else {
			wantErr(t, err, errs.Conflict, "plan_exists")
		}
		if p.Status != plan.Draft || p.FilingNumber != "" || len(p.Facilities) != 1 || p.Unit.Name != "临涣煤化" ||
			p.DueAt.IsZero() {
			t.Fatalf("draft: %+v", p)
		}

		// Who may do what.
		for _, c := range []struct {
			who  auth.Principal
			kind errs.Kind
			code string
		}{
			{unitAdmin(other), errs.NotFound, "plan_not_found"},
			{xsReg, errs.NotFound, "plan_not_found"},
			{cityReg, errs.Forbidden, "forbidden"},
			{parkReg, errs.Forbidden, "forbidden"},
			{driver(gen), errs.Forbidden, "forbidden"},
		} {
			_, err := e.svc.Update(e.ctx, c.who, p.ID, plan.Patch{Version: p.Version})
			wantErr(t, err, c.kind, c.code)
			_, err = e.svc.Submit(e.ctx, c.who, p.ID, 0)
			wantErr(t, err, c.kind, c.code)
		}
		if _, err := e.svc.Create(e.ctx, ua, plan.NewPlan{UnitID: other.ID, Year: y}); err == nil {
			t.Fatal("a unit starts another unit's plan")
		} else {
			wantErr(t, err, errs.NotFound, "unit_not_found")
		}
		if _, err := e.svc.Create(e.ctx, cityReg, plan.NewPlan{UnitID: other.ID, Year: y}); err == nil {
			t.Fatal("a regulator starts a plan")
		} else {
			wantErr(t, err, errs.Forbidden, "forbidden")
		}
		for _, who := range []auth.Principal{ua, driver(gen), cityReg, sxReg, parkReg, admin} {
			if _, err := e.svc.Get(e.ctx, who, p.ID); err != nil {
				t.Fatalf("%s reads: %v", who.Username, err)
			}
		}

		// Wrong order.
		_, err := e.svc.Return(e.ctx, sxReg, p.ID, "原因", 0)
		wantErr(t, err, errs.Conflict, "wrong_status")

		// Update: version-checked, sections replaced, others kept.
		measures := ""
		_, err = e.svc.Update(e.ctx, ua, p.ID, plan.Patch{Version: p.Version + 1, ReductionMeasures: &measures})
		wantErr(t, err, errs.Conflict, "version_conflict")
		p, err = e.svc.Update(e.ctx, ua, p.ID, plan.Patch{Version: p.Version, ReductionMeasures: &measures,
			Storage:   []plan.StorageLine{{FacilityCode: "ZC001", CapacityT: 50}},
			Transfers: []plan.TransferLine{{WasteCode: "900-041-49", Method: "D10", PlannedT: 3}}})
		if err != nil || p.Version != 2 || len(p.Generation) != 1 || len(p.Storage) != 1 || len(p.Transfers) != 1 {
			t.Fatalf("update: %+v %v", p, err)
		}
		// A key unit needs reduction measures.
		_, err = e.svc.Submit(e.ctx, ua, p.ID, p.Version)
		wantFields(t, err, "reduction_measures=required_for_key")
		measures = "源头减量"
		if p, err = e.svc.Update(e.ctx, ua, p.ID, plan.Patch{Version: p.Version, ReductionMeasures: &measures}); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Submit(e.ctx, ua, p.ID, p.Version+5)
		wantErr(t, err, errs.Conflict, "version_conflict")
		if p, err = e.svc.Submit(e.ctx, ua, p.ID, p.Version); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Submit(e.ctx, ua, p.ID, 0)
		wantErr(t, err, errs.Conflict, "wrong_status")
		_, err = e.svc.Update(e.ctx, ua, p.ID, plan.Patch{Version: p.Version})
		wantErr(t, err, errs.Conflict, "wrong_status")

		// Return: a regulator who oversees the unit, with a reason.
		_, err = e.svc.Return(e.ctx, ua, p.ID, "自己退回", 0)
		wantErr(t, err, errs.Forbidden, "forbidden")
		_, err = e.svc.Return(e.ctx, xsReg, p.ID, "越权退回", 0)
		wantErr(t, err, errs.NotFound, "plan_not_found")
		_, err = e.svc.Return(e.ctx, parkReg, p.ID, "  ", 0)
		wantFields(t, err, "reason=required")
		if p, err = e.svc.Return(e.ctx, parkReg, p.ID, "转移去向未填接受单位", p.Version); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Return(e.ctx, cityReg, p.ID, "再退", 0)
		wantErr(t, err, errs.Conflict, "wrong_status")
		// The unit corrects and resubmits.
		if p, err = e.svc.Update(e.ctx, ua, p.ID, plan.Patch{Version: p.Version, Transfers: []plan.TransferLine{}}); err != nil ||
			len(p.Transfers) != 0 || p.Status != plan.Returned {
			t.Fatalf("correct returned plan: %+v %v", p, err)
		}
		if p, err = e.svc.Submit(e.ctx, ua, p.ID, p.Version); err != nil || p.Status != plan.Filed {
			t.Fatalf("resubmit: %v", err)
		}

		// Every step audited.
		var actions []string
		if err := store.Select(e.ctx, db.Reader(), &actions, `SELECT action FROM audit_entries WHERE entity = 'plan'
			AND entity_id = ? ORDER BY seq`, p.ID); err != nil {
			t.Fatal(err)
		}
		want := []string{"plan.create", "plan.update", "plan.update", "plan.submit", "plan.file", "plan.return",
			"plan.update", "plan.submit", "plan.file"}
		if !slices.Equal(actions, want) {
			t.Fatalf("audit %v, want %v", actions, want)
		}

		// Lists are scoped and filtered.
		e.draft(other, y, 1)
		count := func(who auth.Principal, f plan.Filter) int {
			t.Helper()
			page, err := e.svc.List(e.ctx, who, f)
			if err != nil {
				t.Fatal(err)
			}
			return len(page.Items)
		}
		for _, c := range []struct {
			who  auth.Principal
			f    plan.Filter
			want int
		}{
			{cityReg, plan.Filter{}, 2}, {xsReg, plan.Filter{}, 1}, {sxReg, plan.Filter{}, 1}, {ua, plan.Filter{}, 1},
			{cityReg, plan.Filter{Status: plan.Filed}, 1}, {cityReg, plan.Filter{Year: y + 1}, 0},
			{cityReg, plan.Filter{Region: "340603"}, 1}, {admin, plan.Filter{Region: "340621P01"}, 1},
		} {
			if n := count(c.who, c.f); n != c.want {
				t.Fatalf("%s %+v sees %d plans, want %d", c.who.Username, c.f, n, c.want)
			}
		}
		page, err := e.svc.List(e.ctx, admin, plan.Filter{Limit: 1})
		if err != nil || len(page.Items) != 1 || page.Next == "" {
			t.Fatalf("page 1: %+v %v", page, err)
		}
		page2, err := e.svc.List(e.ctx, admin, plan.Filter{Limit: 1, After: page.Next})
		if err != nil || len(page2.Items) != 1 || page2.Next != "" || page2.Items[0].ID == page.Items[0].ID {
			t.Fatalf("page 2: %+v %v", page2, err)
		}
		_, err = e.svc.List(e.ctx, admin, plan.Filter{After: "!!"})
		wantFields(t, err, "cursor=cursor_invalid")
	})
}

func TestValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		y := thisYear()
		gen := e.generator("临涣煤化")
		gen2 := e.generator("另一个产废单位")
		d := e.disposer()
		ua := unitAdmin(gen)
		_, err := e.svc.Create(e.ctx, ua, plan.NewPlan{Year: y,
			Generation: []plan.GenerationLine{
				{WasteCode: "999-999-99", Form: "L", PlannedT: 1},
				{WasteCode: "900-249-8", Form: "X", PlannedT: -1, Characteristics: []string{"T", "Z"}},
			},
			Storage:   []plan.StorageLine{{FacilityCode: "ZC009", CapacityT: 1}},
			InHouse:   []plan.InHouseLine{{FacilityCode: "ZC001", Method: "R99", PlannedT: 0.0000001}},
			Transfers: []plan.TransferLine{{WasteCode: "900-249-08", ReceiverUnitID: gen2.ID, Method: "R9", PlannedT: 1}},
		})
		wantFields(t, err, "generation[0].waste_code=waste_code_unknown", "generation[1].waste_code=waste_code_format",
			"generation[1].form=form_unknown", "generation[1].planned_t=quantity_range",
			"generation[1].characteristics[1]=characteristic_unknown", "storage[0].facility_code=facility_unknown",
			"in_house[0].facility_code=facility_unknown", "in_house[0].method=method_unknown",
			"in_house[0].planned_t=quantity_precision", "transfers[0].receiver_unit_id=receiver_unknown")
		_, err = e.svc.Create(e.ctx, ua, plan.NewPlan{Year: 1999})
		wantFields(t, err, "year=year_range")
		// Nothing was written by the failed attempts.
		var n int
		if err := store.Get(e.ctx, db.Reader(), &n, `SELECT count(*) FROM plans`); err != nil || n != 0 {
			t.Fatalf("plans after failures: %d %v", n, err)
		}
		p, err := e.svc.Create(e.ctx, ua, plan.NewPlan{Year: y,
			Transfers: []plan.TransferLine{{WasteCode: "900-249-08", ReceiverUnitID: d.ID, Method: "R9", PlannedT: 1.5}}})
		if err != nil || p.Transfers[0].ReceiverUnitID != d.ID || p.Transfers[0].PlannedT != 1.5 {
			t.Fatalf("valid transfer: %+v %v", p, err)
		}
		_, err = e.svc.Submit(e.ctx, ua, p.ID, 0)
		wantFields(t, err, "generation=required")
	})
}

func TestNames(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		y := thisYear()
		gen, gen2 := e.generator("甲"), e.generator("乙")
		names := func(u registry.Unit, year int, code string) bool {
			t.Helper()
			ok, err := plan.Names(e.ctx, db.Reader(), u.ID, year, code)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		p, err := e.svc.Create(e.ctx, unitAdmin(gen), plan.NewPlan{Year: y, ReductionMeasures: "措施",
			Generation: []plan.GenerationLine{{WasteCode: "900-249-08", Form: "L", PlannedT: 5}},
			Transfers:  []plan.TransferLine{{WasteCode: "900-041-49", Method: "D10", PlannedT: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		if names(gen, y, "900-249-08") {
			t.Fatal("a draft names its codes")
		}
		if p, err = e.svc.Submit(e.ctx, unitAdmin(gen), p.ID, 0); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			u    registry.Unit
			year int
			code string
			want bool
		}{
			{gen, y, "900-249-08", true}, {gen, y, "900-041-49", true}, {gen, y, "900-039-49", false},
			{gen, y - 1, "900-249-08", false}, {gen2, y, "900-249-08", false},
		} {
			if got := names(c.u, c.year, c.code); got != c.want {
				t.Fatalf("Names(%s, %d, %s) = %v", c.u.Name, c.year, c.code, got)
			}
		}
		if _, err := e.svc.Return(e.ctx, cityReg, p.ID, "退回", 0); err != nil {
			t.Fatal(err)
		}
		if names(gen, y, "900-249-08") {
			t.Fatal("a returned plan names its codes")
		}
	})
}

func TestLatePlan(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		y := thisYear()
		gen := e.generator("临涣煤化")
		late := e.filed(gen, y-1, 5) // last year's plan: its deadline has passed
		onTime := e.filed(gen, y+1, 5)
		if !late.Late || onTime.Late {
			t.Fatalf("late %v, on time %v", late.Late, onTime.Late)
		}
		type row struct {
			Kind      string `db:"kind"`
			SubjectID string `db:"subject_id"`
			Region    string `db:"region_code"`
			Unit      string `db:"unit_id"`
		}
		var rows []row
		if err := store.Select(e.ctx, db.Reader(), &rows, `SELECT a.kind, a.subject_id, a.region_code, p.unit_id
			FROM alerts a JOIN alert_parties p ON p.alert_id = a.id`); err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0] != (row{"plan_late", late.ID, "340621", gen.ID}) {
			t.Fatalf("alerts %+v", rows)
		}
		// Resubmitting after a return raises nothing more.
		p, err := e.svc.Return(e.ctx, cityReg, late.ID, "补充", 0)
		if err != nil {
			t.Fatal(err)
		}
		if p, err = e.svc.Submit(e.ctx, unitAdmin(gen), p.ID, 0); err != nil || !p.Late {
			t.Fatalf("resubmit: %+v %v", p, err)
		}
		var n int
		if err := store.Get(e.ctx, db.Reader(), &n, `SELECT count(*) FROM alerts`); err != nil || n != 1 {
			t.Fatalf("alerts after resubmission: %d %v", n, err)
		}
		// The deadline is a setting.
		e.setting("plan_deadline", `"12-31"`)
		if r, _ := plan.LoadRules(e.ctx, db.Reader()); r.PlanDue(y) != time.Date(y+1, 1, 1, 0, 0, 0, 0, time.FixedZone("", 8*3600)).UTC() {
			t.Fatalf("deadline setting: %v", r.PlanDue(y))
		}
	})
}

func TestRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		r := plan.Defaults
		r.KeyThresholdT, r.PlanDeadline = 80, "04-30"
		_, err := plan.SaveRules(e.ctx, db, cityReg, r)
		wantErr(t, err, errs.Forbidden, "forbidden")
		bad := r
		bad.SimplifiedThresholdT, bad.MonthlyDueDay, bad.YearlyDue = 90, 31, "02-29"
		_, err = plan.SaveRules(e.ctx, db, admin, bad)
		wantFields(t, err, "class_simplified_threshold_t=threshold_order", "declaration_monthly_due_day=day_range",
			"declaration_yearly_due=month_day")
		saved, err := plan.SaveRules(e.ctx, db, admin, r)
		if err != nil || saved != r {
			t.Fatalf("save: %+v %v", saved, err)
		}
		var keys []string
		if err := store.Select(e.ctx, db.Reader(), &keys, `SELECT key FROM settings ORDER BY key`); err != nil ||
			!slices.Equal(keys, []string{"class_key_threshold_t", "plan_deadline"}) {
			t.Fatalf("rows %v %v", keys, err)
		}
		if got, err := plan.LoadRules(e.ctx, db.Reader()); err != nil || got != r {
			t.Fatalf("load: %+v %v", got, err)
		}
		if saved, err = plan.SaveRules(e.ctx, db, admin, plan.Defaults); err != nil || saved != plan.Defaults {
			t.Fatalf("back to defaults: %+v %v", saved, err)
		}
		var n int
		if err := store.Get(e.ctx, db.Reader(), &n, `SELECT count(*) FROM audit_entries WHERE action = 'settings.update'`); err != nil || n != 2 {
			t.Fatalf("audited %d %v", n, err)
		}
	})
}
