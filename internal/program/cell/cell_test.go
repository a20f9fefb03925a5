package cell_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"wufei/internal/auth"
	"wufei/internal/calendar"
	"wufei/internal/errs"
	"wufei/internal/program/cell"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

var admin = auth.Principal{UserID: "u-admin", Username: "admin", Role: auth.Admin}

type env struct {
	t    *testing.T
	ctx  context.Context
	db   *store.DB
	svc  *cell.Service
	reg  *registry.Service
	dept map[string]string
	n    int
}

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	ctx := context.Background()
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		if err := registry.SeedReference(ctx, tx); err != nil {
			return err
		}
		return cell.SeedTypes(ctx, tx)
	}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	e := &env{t: t, ctx: ctx, db: db, svc: cell.NewService(db), reg: registry.NewService(db), dept: map[string]string{}}
	deps, err := e.reg.ListDepartments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range deps {
		e.dept[d.Code] = d.ID
	}
	return e
}

func (e *env) regulator(code, region string) auth.Principal {
	return auth.Principal{UserID: "u-" + code + region, Username: code, Role: auth.Regulator, DepartmentID: e.dept[code],
		RegionCode: region}
}

func (e *env) unit(name, region, park string) (registry.Unit, auth.Principal) {
	e.t.Helper()
	e.n++
	u, err := e.reg.CreateUnit(e.ctx, admin, registry.NewUnit{USCC: registry.MakeUSCC("12", region, "MB00000"+string(rune('0'+e.n))),
		Name: name, Roles: []registry.UnitRole{registry.Generator}, RegionCode: region, ParkCode: park, Address: "淮北市测试路 1 号"})
	if err != nil {
		e.t.Fatalf("unit %s: %v", name, err)
	}
	return u, auth.Principal{UserID: "ua-" + u.ID, Username: "ua" + u.ID[:4], Role: auth.UnitAdmin, UnitID: u.ID}
}

func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := store.Get(e.ctx, e.db.Reader(), &n, query, args...); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func wantErr(t *testing.T, err error, kind errs.Kind, code string, fields ...string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want %s", err, code)
	}
	if e.Kind != kind || e.Code != code {
		t.Fatalf("got kind %d code %s (%v), want kind %d code %s", e.Kind, e.Code, e, kind, code)
	}
	for _, f := range fields {
		if !slices.ContainsFunc(e.Fields, func(x errs.FieldError) bool { return x.Field == f }) {
			t.Fatalf("error %v does not name field %s", e, f)
		}
	}
}

// full scores every criterion of a checklist at share of its maximum.
func full(d cell.Detail, share float64) cell.Sheet {
	var s cell.Sheet
	for _, l := range d.Checklist {
		s.Scores = append(s.Scores, cell.Entry{Criterion: l.Code, Score: l.MaxScore * share})
	}
	return s
}

func TestTypes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ts, err := e.svc.Types(e.ctx, admin)
		if err != nil {
			t.Fatal(err)
		}
		var codes []string
		for _, x := range ts {
			codes = append(codes, x.Code)
			total := 0.0
			for _, c := range x.Criteria {
				total += c.Weight
			}
			if total != 100 || x.PassMark != 80 || len(x.Criteria) < 5 {
				t.Errorf("%s: weights %g pass mark %g criteria %d", x.Code, total, x.PassMark, len(x.Criteria))
			}
		}
		want := []string{"agency", "scenic_area", "school", "community", "village", "enterprise", "hospital", "mall",
			"restaurant", "express_outlet"}
		if !slices.Equal(codes, want) {
			t.Fatalf("types %v", codes)
		}
		if ts[3].LeadDepartmentName != "市城市管理局" || ts[0].Name != "节约型机关（企事业单位）" {
			t.Fatalf("community lead %q, agency %q", ts[3].LeadDepartmentName, ts[0].Name)
		}
		if err := db.Tx(e.ctx, func(tx *store.Tx) error { return cell.SeedTypes(e.ctx, tx) }); err != nil {
			t.Fatal(err)
		}
		if n := e.count(`SELECT count(*) FROM audit_entries WHERE action = 'cell_type.seed'`); n != 1 {
			t.Fatalf("%d seed entries", n)
		}

		// Only the work team edits the checklists; bad definitions name the field.
		in := cell.TypeInput{Name: "无废社区", LeadDepartmentCode: "cgj", PassMark: 85, Criteria: []cell.Criterion{
			{Code: "sorting", Title: "分类投放", Weight: 60, MaxScore: 10},
			{Code: "recycling", Title: "两网融合", Weight: 40, MaxScore: 5}}}
		_, u := e.unit("测试社区居委会", "340603", "")
		for _, p := range []auth.Principal{u, e.regulator("cgj", auth.CityCode), e.regulator("sthjj", auth.CityCode)} {
			_, err := e.svc.PutType(e.ctx, p, "community", in)
			wantErr(t, err, errs.Forbidden, "forbidden")
		}
		wfzb := e.regulator("wfzb", auth.CityCode)
		bad := in
		bad.Criteria = []cell.Criterion{{Code: "Sorting", Title: "", Weight: 60, MaxScore: 0}, {Code: "x", Title: "x", Weight: 30, MaxScore: 1}}
		bad.LeadDepartmentCode, bad.PassMark = "nope", 120
		_, err = e.svc.PutType(e.ctx, wfzb, "community", bad)
		wantErr(t, err, errs.Invalid, "validation_failed", "lead_department_code", "pass_mark", "criteria[0].code",
			"criteria[0].title", "criteria[0].max_score")
		bad = in
		bad.Criteria = []cell.Criterion{in.Criteria[0], {Code: "sorting", Title: "重复", Weight: 40, MaxScore: 5}}
		_, err = e.svc.PutType(e.ctx, wfzb, "community", bad)
		wantErr(t, err, errs.Invalid, "validation_failed", "criteria[1].code")
		bad.Criteria = []cell.Criterion{in.Criteria[0], {Code: "other", Title: "其他", Weight: 30, MaxScore: 5}}
		_, err = e.svc.PutType(e.ctx, wfzb, "community", bad)
		wantErr(t, err, errs.Invalid, "validation_failed", "criteria")

		got, err := e.svc.PutType(e.ctx, wfzb, "community", in)
		if err != nil || got.Version != 2 || got.PassMark != 85 || len(got.Criteria) != 2 || got.Criteria[1].MaxScore != 5 {
			t.Fatalf("put: %+v %v", got, err)
		}
		in.Version = 1
		_, err = e.svc.PutType(e.ctx, wfzb, "community", in)
		wantErr(t, err, errs.Conflict, "version_conflict")
		in.Version = 0
		in.Name = "无废园区"
		if got, err := e.svc.PutType(e.ctx, admin, "park", in); err != nil || got.Version != 1 || got.Code != "park" {
			t.Fatalf("new type: %+v %v", got, err)
		}
		if ts, _ := e.svc.Types(e.ctx, u); len(ts) != 11 || ts[10].Code != "park" {
			t.Fatalf("%d types after adding one", len(ts))
		}
		if n := e.count(`SELECT count(*) FROM audit_entries WHERE entity = 'cell_type'`); n != 3 {
			t.Fatalf("%d type audit entries, want 3", n)
		}
	})
}

func TestWorkflow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		unit, applicant := e.unit("相山区人民路街道东山社区居委会", "340603", "")
		_, other := e.unit("杜集区矿山集街道居委会", "340602", "")
		cgj, wfzb := e.regulator("cgj", auth.CityCode), e.regulator("wfzb", auth.CityCode)

		_, err := e.svc.Apply(e.ctx, applicant, cell.NewCell{Type: "nope", Name: " "})
		wantErr(t, err, errs.Invalid, "validation_failed", "type", "name")
		_, err = e.svc.Apply(e.ctx, applicant, cell.NewCell{Type: "community", Name: "东山社区", UnitID: "another"})
		wantErr(t, err, errs.Invalid, "validation_failed", "unit_id")
		_, err = e.svc.Apply(e.ctx, cgj, cell.NewCell{Type: "community", Name: "东山社区"})
		wantErr(t, err, errs.Forbidden, "forbidden")
		d, err := e.svc.Apply(e.ctx, applicant, cell.NewCell{Type: "community", Name: "东山社区", Description: "垃圾分类全覆盖"})
		if err != nil || d.Status != cell.Applied || d.UnitID != unit.ID || d.RegionCode != "340603" || d.UnitName != unit.Name ||
			len(d.Checklist) != 6 || d.Address != unit.Address || d.PassMark != 80 {
			t.Fatalf("apply: %+v %v", d, err)
		}

		// Scope: another unit and another region's regulator do not see it.
		for _, p := range []auth.Principal{other, e.regulator("sthjj-dj", "340602")} {
			_, err := e.svc.Get(e.ctx, p, d.ID)
			wantErr(t, err, errs.NotFound, "cell_not_found")
		}
		for _, p := range []auth.Principal{applicant, e.regulator("sthjj-xs", "340603"), cgj} {
			if _, err := e.svc.Get(e.ctx, p, d.ID); err != nil {
				t.Fatalf("%s cannot see the cell: %v", p.Username, err)
			}
		}
		if page, _ := e.svc.List(e.ctx, other, cell.Filter{}); len(page.Items) != 0 {
			t.Fatalf("another unit lists %d cells", len(page.Items))
		}

		// Only evaluators score; a bad sheet saves nothing.
		for _, p := range []auth.Principal{applicant, e.regulator("sthjj", auth.CityCode), e.regulator("sthjj-xs", "340603")} {
			_, err := e.svc.Score(e.ctx, p, d.ID, full(d, 1))
			wantErr(t, err, errs.Forbidden, "forbidden")
		}
		_, err = e.svc.Score(e.ctx, cgj, d.ID, cell.Sheet{Scores: []cell.Entry{{Criterion: "sorting", Score: 11},
			{Criterion: "paperless", Score: 5}, {Criterion: "bulky", Score: -1}, {Criterion: "hazardous", Score: 10}}})
		wantErr(t, err, errs.Invalid, "validation_failed", "scores[0].score", "scores[1].criterion", "scores[2].score")
		if n := e.count(`SELECT count(*) FROM cell_scores`); n != 0 {
			t.Fatalf("a refused sheet saved %d scores", n)
		}
		if d2, _ := e.svc.Get(e.ctx, cgj, d.ID); d2.Status != cell.Applied || d2.Version != 1 {
			t.Fatalf("a refused sheet changed the cell: %s v%d", d2.Status, d2.Version)
		}

		d, err = e.svc.Score(e.ctx, cgj, d.ID, cell.Sheet{Scores: []cell.Entry{{Criterion: "sorting", Score: 9, Note: "分类准确"}}})
		if err != nil || d.Status != cell.Scored || d.Score == nil || *d.Score != 22.5 || *d.Checklist[1].Score != 9 ||
			d.Checklist[1].ScoredBy != "cgj" {
			t.Fatalf("score: %+v %v", d, err)
		}
		_, err = e.svc.Approve(e.ctx, cgj, d.ID, "", 0)
		wantErr(t, err, errs.Invalid, "validation_failed", "scores")
		d, err = e.svc.Score(e.ctx, cgj, d.ID, full(d, 0.7))
		if err != nil || *d.Score != 70 {
			t.Fatalf("rescore: %v %v", d.Score, err)
		}
		_, err = e.svc.Approve(e.ctx, wfzb, d.ID, "", 0)
		wantErr(t, err, errs.Invalid, "validation_failed", "score")
		d, err = e.svc.Score(e.ctx, wfzb, d.ID, full(d, 0.85))
		if err != nil || *d.Score != 85 {
			t.Fatalf("rescore: %v %v", d.Score, err)
		}
		// Yesterday in China: its UTC midnight, where the certificate counts
		// from, has passed at any hour of the day the test runs.
		yesterday := time.Now().In(calendar.Zone).AddDate(0, 0, -1).Format(time.DateOnly)
		for day, field := range map[string]string{"2026-02-30": "certificate_date", "2099-01-01": "certificate_date",
			"2023-12-31": "certificate_date"} {
			_, err := e.svc.Approve(e.ctx, wfzb, d.ID, day, 0)
			wantErr(t, err, errs.Invalid, "validation_failed", field)
		}
		_, err = e.svc.Approve(e.ctx, wfzb, d.ID, "", d.Version-1)
		wantErr(t, err, errs.Conflict, "version_conflict")
		d, err = e.svc.Approve(e.ctx, wfzb, d.ID, yesterday, d.Version)
		if err != nil || d.Status != cell.Certified || d.CertifiedAt == nil || d.Certificate == "" ||
			!d.CertifiedAt.Equal(time.Date(d.CertifiedAt.Year(), d.CertifiedAt.Month(), d.CertifiedAt.Day(), 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("approve: %+v %v", d, err)
		}
		if d.Certificate != yesterday {
			t.Fatalf("certificate date %s", d.Certificate)
		}
		_, err = e.svc.Score(e.ctx, wfzb, d.ID, full(d, 1))
		wantErr(t, err, errs.Conflict, "cell_not_open")
		if page, _ := e.svc.List(e.ctx, e.regulator("sthjj-xs", "340603"), cell.Filter{Status: cell.Certified}); len(page.Items) != 1 {
			t.Fatalf("certified cells in 相山区: %d", len(page.Items))
		}
		counts, err := cell.CertifiedAt(e.ctx, db.Reader(), time.Now().Add(24*time.Hour))
		if err != nil || counts["340603"] != 1 || counts["340602"] != 0 {
			t.Fatalf("counts %v %v", counts, err)
		}

		// Withdrawal needs reasons, and ends the count from then on.
		_, err = e.svc.Withdraw(e.ctx, wfzb, d.ID, "", 0)
		wantErr(t, err, errs.Invalid, "validation_failed", "reason")
		before := time.Now()
		time.Sleep(2 * time.Millisecond)
		d, err = e.svc.Withdraw(e.ctx, cgj, d.ID, "复查不达标", 0)
		if err != nil || d.Status != cell.Withdrawn || d.Reason != "复查不达标" || d.WithdrawnAt == nil {
			t.Fatalf("withdraw: %+v %v", d, err)
		}
		if counts, _ := cell.CertifiedAt(e.ctx, db.Reader(), before); counts["340603"] != 1 {
			t.Fatalf("count before the withdrawal: %v", counts)
		}
		if counts, _ := cell.CertifiedAt(e.ctx, db.Reader(), time.Now().Add(24*time.Hour)); counts["340603"] != 0 {
			t.Fatalf("count after the withdrawal: %v", counts)
		}
		_, err = e.svc.Withdraw(e.ctx, cgj, d.ID, "again", 0)
		wantErr(t, err, errs.Conflict, "cell_status")

		// Return.
		r, err := e.svc.Apply(e.ctx, admin, cell.NewCell{Type: "school", Name: "淮北市第一中学", UnitID: unit.ID})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Return(e.ctx, cgj, r.ID, "材料不全", 0) // cgj does not lead schools
		wantErr(t, err, errs.Forbidden, "forbidden")
		r, err = e.svc.Return(e.ctx, wfzb, r.ID, "佐证材料不全", 0)
		if err != nil || r.Status != cell.Returned || r.Reason != "佐证材料不全" {
			t.Fatalf("return: %+v %v", r, err)
		}
		_, err = e.svc.Approve(e.ctx, wfzb, r.ID, "", 0)
		wantErr(t, err, errs.Conflict, "cell_not_scored")
		if n := e.count(`SELECT count(*) FROM audit_entries WHERE entity = 'cell'`); n != 8 {
			t.Fatalf("%d cell audit entries, want 8", n)
		}
	})
}

func TestDemo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		for i, r := range []string{"340602", "340603", "340604", "340621", "340621"} {
			e.unit("演示单位"+string(rune('A'+i)), r, "")
		}
		if err := cell.SeedDemo(e.ctx, db); err != nil {
			t.Fatal(err)
		}
		byStatus := map[string]int{}
		page, err := e.svc.List(e.ctx, admin, cell.Filter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		years := map[int]int{}
		for _, c := range page.Items {
			byStatus[c.Status]++
			if c.Status == cell.Certified {
				years[c.CertifiedAt.Year()]++
			}
		}
		if len(page.Items) != 12 || byStatus[cell.Certified] != 7 || byStatus[cell.Withdrawn] != 1 || byStatus[cell.Returned] != 1 ||
			byStatus[cell.Scored] != 1 || byStatus[cell.Applied] != 2 {
			t.Fatalf("demo cells by status: %v", byStatus)
		}
		if years[2024] != 1 || years[2025] != 4 || years[2026] != 2 {
			t.Fatalf("certified by year: %v", years)
		}
		counts, _ := cell.CertifiedAt(e.ctx, db.Reader(), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		total := 0
		for _, r := range []string{"340602", "340603", "340604", "340621"} {
			total += counts[r]
		}
		if total != 6 { // two certified in 2024 (one withdrawn only now) and four in 2025
			t.Fatalf("certified at the start of 2026: %v", counts)
		}
		if err := cell.SeedDemo(e.ctx, db); err != nil || e.count(`SELECT count(*) FROM cells`) != 12 {
			t.Fatalf("second demo seed: %v", err)
		}
	})
}
