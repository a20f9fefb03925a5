package indicator_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
	"wufei/internal/calendar"

	"github.com/google/uuid"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/catalog"
	"wufei/internal/errs"
	"wufei/internal/hw/volumes"
	"wufei/internal/program/indicator"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// planTargets are the 2027 targets of the plan, as MISSION.md lists them.
var planTargets = map[string]float64{
	"green_factories": 6, "gisw_utilization_rate": 86, "green_mine_rate": 65, "manure_facility_rate": 100,
	"straw_utilization_rate": 95, "ag_film_recovery_rate": 85, "pesticide_pack_recovery_rate": 85,
	"msw_recycling_rate": 40, "msw_landfill_raw": 0, "express_green_pack_rate": 95, "sludge_safe_rate": 100,
	"two_networks_coverage": 100, "zero_waste_cells": 50, "green_building_share": 100, "prefab_building_share": 40,
	"cdw_recycling_rate": 52, "ihw_generation_intensity": 0.013, "ihw_utilization_rate": 36,
	"medical_waste_treatment_rate": 100,
}

// env is a migrated database with the reference data, the catalogue and the
// indicator tree, and principals of the departments involved.
type env struct {
	t   *testing.T
	ctx context.Context
	db  *store.DB
	svc *indicator.Service
	n   int

	admin, sthjj, xsBranch, gxj, fgw, workTeam, xsq, viewer auth.Principal
}

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	ctx := context.Background()
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		if err := registry.SeedReference(ctx, tx); err != nil {
			return err
		}
		if err := catalog.Seed(ctx, tx); err != nil {
			return err
		}
		return indicator.Seed(ctx, tx)
	}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	e := &env{t: t, ctx: ctx, db: db, svc: indicator.NewService(db)}
	reg := func(name, dep, region string) auth.Principal {
		var id string
		if err := store.Get(ctx, db.Reader(), &id, `SELECT id FROM departments WHERE code = ?`, dep); err != nil {
			t.Fatalf("department %s: %v", dep, err)
		}
		return auth.Principal{UserID: "u-" + name, Username: name, Role: auth.Regulator, DepartmentID: id, RegionCode: region}
	}
	e.admin = auth.Principal{UserID: "u-admin", Username: "admin", Role: auth.Admin}
	e.sthjj = reg("sthjj", "sthjj", "340600")
	e.xsBranch = reg("sthjj-xs", "sthjj-xs", "340603")
	e.gxj = reg("gxj", "gxj", "340600")
	e.fgw = reg("fgw", "fgw", "340600")
	e.workTeam = reg("wfzb", "wfzb", "340600")
	e.xsq = reg("xsq", "xsq", "340603")
	e.viewer = auth.Principal{UserID: "u-viewer", Username: "viewer", Role: auth.Viewer}
	return e
}

func code(err error) string {
	var e *errs.Error
	if !errors.As(err, &e) {
		return fmt.Sprint(err)
	}
	if len(e.Fields) > 0 {
		return e.Fields[0].Field + ":" + e.Fields[0].Code
	}
	return e.Code
}

func f(v float64) *float64 { return &v }

func (e *env) list(p auth.Principal, region string, year int) map[string]indicator.Item {
	e.t.Helper()
	items, err := e.svc.List(e.ctx, p, indicator.ListFilter{Region: region, Year: year})
	if err != nil {
		e.t.Fatalf("list %s %d: %v", region, year, err)
	}
	out := map[string]indicator.Item{}
	for _, it := range items {
		out[it.ID] = it
	}
	return out
}

var pdf = []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

func TestTree(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		tree, err := indicator.Builtin()
		if err != nil {
			t.Fatal(err)
		}
		level1 := []string{"固体废物源头减量", "资源化利用", "最终处置", "保障能力", "群众获得感"}
		var deps []string
		if err := store.Select(e.ctx, db.Reader(), &deps, `SELECT code FROM departments`); err != nil {
			t.Fatal(err)
		}
		ids, plan, national := map[string]bool{}, 0, 0
		for _, in := range tree {
			if ids[in.ID] {
				t.Errorf("%s twice", in.ID)
			}
			ids[in.ID] = true
			if !slices.Contains(level1, in.Level1) || in.Level2 == "" || in.Formula == "" || in.Unit == "" {
				t.Errorf("%s: incomplete: %+v", in.ID, in)
			}
			for _, d := range append([]string{in.LeadDepartment}, in.CoDepartments...) {
				if !slices.Contains(deps, d) {
					t.Errorf("%s: department %q is not registered", in.ID, d)
				}
			}
			switch in.Source {
			case indicator.SourcePlan:
				plan++
			case indicator.SourceNational:
				national++
			}
		}
		if plan != len(planTargets) || national < 20 {
			t.Errorf("%d plan and %d national indicators", plan, national)
		}
		got := e.list(e.viewer, "", 2026)
		if len(got) != len(tree) {
			t.Fatalf("list has %d of %d indicators", len(got), len(tree))
		}
		for id, target := range planTargets {
			it, ok := got[id]
			switch {
			case !ok:
				t.Errorf("%s missing", id)
			case it.Target == nil || *it.Target != target || it.TargetYear == nil || *it.TargetYear != 2027 ||
				it.Source != indicator.SourcePlan:
				t.Errorf("%s: target %v in %v from %s, want %v in 2027", id, it.Target, it.TargetYear, it.Source, target)
			case it.Value != nil || it.Period != "2026" || it.Region != "340600":
				t.Errorf("%s on an empty platform: %+v", id, it)
			case id == "msw_landfill_raw" && it.Status != "achieved": // the plan's baseline: 零填埋 since 2023
				t.Errorf("%s: %s", id, it.Status)
			case id != "msw_landfill_raw" && it.Status != "no_data":
				t.Errorf("%s on an empty platform: %s", id, it.Status)
			}
		}
		for id, kind := range map[string]indicator.Kind{"ihw_utilization_rate": indicator.Computed,
			"ihw_generation_intensity": indicator.Computed, "medical_waste_treatment_rate": indicator.Computed,
			"zero_waste_cells": indicator.Computed, "industrial_output_value": indicator.Reported,
			"gisw_utilization_rate": indicator.Computed, "straw_utilization_rate": indicator.Computed,
			"sludge_safe_rate": indicator.Computed, "cdw_recycling_rate": indicator.Computed,
			"green_building_share": indicator.Reported, "msw_landfill_raw": indicator.Computed,
			"two_networks_coverage": indicator.Computed} {
			if got[id].Kind != kind {
				t.Errorf("%s is %s, want %s", id, got[id].Kind, kind)
			}
		}
		if got["ihw_generation_intensity"].Direction != indicator.Lower || got["msw_landfill_raw"].Direction != indicator.Lower {
			t.Error("intensity and landfill should be lower-is-better")
		}

		// Seeding again adds nothing and writes no audit entry.
		var before, after int64
		_ = store.Get(e.ctx, db.Reader(), &before, `SELECT seq FROM audit_head`)
		if err := db.Tx(e.ctx, func(tx *store.Tx) error { return indicator.Seed(e.ctx, tx) }); err != nil {
			t.Fatal(err)
		}
		_ = store.Get(e.ctx, db.Reader(), &after, `SELECT seq FROM audit_head`)
		if after != before {
			t.Errorf("second seed wrote %d audit entries", after-before)
		}

		// Counts and amounts carry the city's target only; rates every region's.
		county := e.list(e.viewer, "340621", 2026)
		if county["zero_waste_cells"].Target != nil || county["green_factories"].Target != nil ||
			county["gisw_utilization_rate"].Target == nil || county["msw_landfill_raw"].Target == nil {
			t.Errorf("county targets: cells %v, factories %v, gisw %v, landfill %v", county["zero_waste_cells"].Target,
				county["green_factories"].Target, county["gisw_utilization_rate"].Target, county["msw_landfill_raw"].Target)
		}
		for _, bad := range []indicator.ListFilter{{Region: "999999"}, {Region: "340621100"}, {Period: "2026Q5"},
			{Period: "2026-13"}, {Year: 1900}} {
			if _, err := e.svc.List(e.ctx, e.viewer, bad); errs.KindOf(err) != errs.Invalid {
				t.Errorf("list %+v: %v", bad, err)
			}
		}
		if _, err := e.svc.List(e.ctx, auth.Principal{}, indicator.ListFilter{}); errs.KindOf(err) != errs.Unauthorized {
			t.Errorf("anonymous list: %v", err)
		}
	})
}

func TestConfigure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		got := e.list(e.viewer, "", 2026)
		sat := got["public_satisfaction"]
		if sat.Source != indicator.SourceNational || sat.Target != nil || !sat.Mandatory {
			t.Fatalf("public_satisfaction: %+v", sat)
		}
		patch := indicator.Patch{Version: sat.Version, Target: f(90), TargetYear: ptr(2027), Baseline: f(80),
			BaselineYear: ptr(2023)}
		if _, err := e.svc.Update(e.ctx, e.sthjj, sat.ID, patch); code(err) != "not_work_team" {
			t.Fatalf("sthjj configures: %v", err)
		}
		if _, err := e.svc.Update(e.ctx, e.workTeam, sat.ID, indicator.Patch{Version: sat.Version, Target: f(120),
			TargetYear: ptr(2027)}); code(err) != "target:value_percent_range" {
			t.Fatalf("target 120%%: %v", err)
		}
		if _, err := e.svc.Update(e.ctx, e.workTeam, sat.ID, indicator.Patch{Version: sat.Version, Target: f(90)}); code(err) != "target_year:target_pair" {
			t.Fatalf("target without a year: %v", err)
		}
		if _, err := e.svc.Update(e.ctx, e.workTeam, "gisw_utilization_rate", indicator.Patch{Version: 1, Target: f(80),
			TargetYear: ptr(2027)}); code(err) != "target:target_from_plan" {
			t.Fatalf("plan target changed: %v", err)
		}
		in, err := e.svc.Update(e.ctx, e.workTeam, sat.ID, patch)
		if err != nil || *in.Target != 90 || *in.Baseline != 80 || in.Version != sat.Version+1 {
			t.Fatalf("configure: %+v %v", in, err)
		}
		if _, err := e.svc.Update(e.ctx, e.workTeam, sat.ID, patch); code(err) != "version_conflict" {
			t.Fatalf("stale patch: %v", err)
		}
		// The baseline alone is a point: flat projection, short of the target.
		it := e.list(e.viewer, "", 2026)[sat.ID]
		if it.Status != "off_track" || it.Projected == nil || *it.Projected != 80 {
			t.Fatalf("configured: %s %v", it.Status, it.Projected)
		}
	})
}

func ptr(i int) *int { return &i }

func TestReportWorkflow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		const id = "hw_standardisation_pass_rate" // lead 市生态环境局
		report := indicator.NewReport{Region: "340600", Period: "2026", Value: f(84.2), Comment: "依据 2026 年规范化环境管理评估结果"}

		// Only the lead department (or its branch for its own region) reports.
		for _, p := range []auth.Principal{e.gxj, e.xsq, e.viewer, e.workTeam,
			{UserID: "u-gen", Username: "gen", Role: auth.UnitAdmin, UnitID: "x"}} {
			if _, err := e.svc.Submit(e.ctx, p, id, report); code(err) != "not_lead_department" {
				t.Errorf("%s reports: %v", p.Username, err)
			}
		}
		branch := report
		branch.Region = "340604"
		if _, err := e.svc.Submit(e.ctx, e.xsBranch, id, branch); code(err) != "not_lead_department" {
			t.Errorf("相山分局 reports for 烈山区: %v", err)
		}
		if _, err := e.svc.Submit(e.ctx, e.sthjj, "ihw_utilization_rate", report); code(err) != "indicator_computed" {
			t.Errorf("report of a computed indicator: %v", err)
		}
		if _, err := e.svc.Submit(e.ctx, e.sthjj, "nope", report); code(err) != "indicator_not_found" {
			t.Errorf("unknown indicator: %v", err)
		}

		// Validation names the field; nothing is saved.
		for _, c := range []struct {
			id   string
			in   indicator.NewReport
			want string
		}{
			{id, indicator.NewReport{Region: "340600", Period: "2026", Value: f(120), Comment: "x"}, "value:value_percent_range"},
			{id, indicator.NewReport{Region: "340600", Period: "2026", Value: f(-1), Comment: "x"}, "value:value_negative"},
			{id, indicator.NewReport{Region: "340600", Period: "2026", Comment: "x"}, "value:required"},
			{id, indicator.NewReport{Region: "340600", Period: "2026", Value: f(80), Comment: " "}, "comment:comment_required"},
			{id, indicator.NewReport{Region: "340600", Period: "2026年", Value: f(80), Comment: "x"}, "period:period_format"},
			{id, indicator.NewReport{Region: "3406", Period: "2026", Value: f(80), Comment: "x"}, "region:region_unknown"},
			{id, indicator.NewReport{Region: "340600", Period: "2026", Value: f(80.1234567), Comment: "x"}, "value:value_precision"},
			{"green_factories", indicator.NewReport{Region: "340600", Period: "2026", Value: f(6.5), Comment: "x"}, "value:value_integer"},
			{"coordination_mechanism", indicator.NewReport{Region: "340600", Period: "2026", Value: f(2), Comment: "x"}, "value:value_boolean"},
			{id, indicator.NewReport{Region: "340600", Period: "2026", Value: f(80), Comment: "x",
				Evidence: []indicator.EvidenceFile{{Name: "a.pdf", Content: []byte("not a pdf")}}}, "evidence[0]:evidence_type"},
		} {
			p := e.sthjj
			if c.id == "green_factories" {
				p = e.admin
			}
			if c.id == "coordination_mechanism" {
				p = e.workTeam
			}
			if _, err := e.svc.Submit(e.ctx, p, c.id, c.in); code(err) != c.want {
				t.Errorf("%s %+v: %v, want %s", c.id, c.in.Value, err, c.want)
			}
		}
		var n int
		if err := store.Get(e.ctx, db.Reader(), &n, `SELECT count(*) FROM indicator_reports`); err != nil || n != 0 {
			t.Fatalf("refused reports saved: %d %v", n, err)
		}

		r1, err := e.svc.Submit(e.ctx, e.sthjj, id, report)
		if err != nil || r1.Status != indicator.Pending || r1.Seq != 1 || r1.Counts || r1.Department != "sthjj" {
			t.Fatalf("submit: %+v %v", r1, err)
		}
		if _, err := e.svc.Submit(e.ctx, e.sthjj, id, report); code(err) != "report_pending" {
			t.Errorf("second pending: %v", err)
		}
		if v := e.list(e.viewer, "", 2026)[id].Value; v != nil {
			t.Errorf("pending value counts: %v", *v)
		}
		// Who sees the pending version.
		for p, want := range map[*auth.Principal]int{&e.viewer: 0, &e.xsq: 0, &e.sthjj: 1, &e.workTeam: 1} {
			h, err := e.svc.History(e.ctx, *p, id, "340600")
			if err != nil || len(h.Items) != want {
				t.Errorf("%s sees %d versions, want %d (%v)", p.Username, len(h.Items), want, err)
			}
		}

		// Approval: by the work team only, with evidence.
		if _, err := e.svc.Approve(e.ctx, e.sthjj, id, r1.ID, indicator.Decision{}); code(err) != "not_work_team" {
			t.Errorf("sthjj approves: %v", err)
		}
		if _, err := e.svc.Approve(e.ctx, e.workTeam, id, r1.ID, indicator.Decision{}); code(err) != "evidence_required" {
			t.Errorf("approve without evidence: %v", err)
		}
		if _, err := e.svc.AddEvidence(e.ctx, e.gxj, id, r1.ID, []indicator.EvidenceFile{{Name: "a.pdf", Content: pdf}}); code(err) != "not_lead_department" {
			t.Errorf("gxj adds evidence: %v", err)
		}
		if _, err := e.svc.AddEvidence(e.ctx, e.sthjj, id, r1.ID, []indicator.EvidenceFile{{Name: "a.pdf", Content: pdf},
			{Name: "b.png", Content: pdf}}); code(err) != "file[1]:evidence_type" {
			t.Errorf("png that is a pdf: %v", err)
		}
		if _, err := e.svc.AddEvidence(e.ctx, e.sthjj, id, r1.ID, []indicator.EvidenceFile{{Name: "big.pdf",
			Content: append(slices.Clone(pdf), make([]byte, indicator.MaxEvidenceBytes)...)}}); code(err) != "file[0]:evidence_too_large" {
			t.Errorf("too large: %v", err)
		}
		r1, err = e.svc.AddEvidence(e.ctx, e.sthjj, id, r1.ID, []indicator.EvidenceFile{{Name: `C:\报表\2026年申报汇总.pdf`,
			ContentType: "application/pdf", Content: pdf}})
		if err != nil || len(r1.Evidence) != 1 || r1.Evidence[0].Name != "2026年申报汇总.pdf" || r1.Evidence[0].Size != int64(len(pdf)) {
			t.Fatalf("evidence: %+v %v", r1.Evidence, err)
		}
		if _, err := e.svc.Approve(e.ctx, e.workTeam, id, r1.ID, indicator.Decision{Version: r1.Version + 1}); code(err) != "version_conflict" {
			t.Errorf("stale approval: %v", err)
		}
		r1, err = e.svc.Approve(e.ctx, e.workTeam, id, r1.ID, indicator.Decision{Version: r1.Version, Note: "数据核实无误"})
		if err != nil || r1.Status != indicator.Approved || !r1.Counts || r1.DecidedBy != "wfzb" {
			t.Fatalf("approve: %+v %v", r1, err)
		}
		if _, err := e.svc.Approve(e.ctx, e.workTeam, id, r1.ID, indicator.Decision{}); code(err) != "wrong_status" {
			t.Errorf("approve twice: %v", err)
		}
		it := e.list(e.viewer, "", 2026)[id]
		if it.Value == nil || *it.Value != 84.2 || it.ValueSource != "reported" {
			t.Fatalf("approved value: %+v", it)
		}
		// The evidence, byte for byte, for those who oversee the region.
		ev := r1.Evidence[0]
		got, err := e.svc.EvidenceContent(e.ctx, e.workTeam, id, r1.ID, ev.ID)
		if err != nil || string(got.Content) != string(pdf) || got.Info.SHA256 != ev.SHA256 || got.ContentType != "application/pdf" {
			t.Fatalf("download: %+v %v", got.Info, err)
		}
		if _, err := e.svc.EvidenceContent(e.ctx, e.viewer, id, r1.ID, ev.ID); code(err) != "evidence_not_found" {
			t.Errorf("viewer downloads: %v", err)
		}

		// A second version, returned: kept, never counts.
		report.Value = f(85)
		r2, err := e.svc.Submit(e.ctx, e.sthjj, id, report)
		if err != nil || r2.Seq != 2 {
			t.Fatalf("second version: %+v %v", r2, err)
		}
		if _, err := e.svc.Return(e.ctx, e.workTeam, id, r2.ID, indicator.Decision{}); code(err) != "note:note_required" {
			t.Errorf("return without a reason: %v", err)
		}
		if r2, err = e.svc.Return(e.ctx, e.workTeam, id, r2.ID, indicator.Decision{Note: "口径与申报数据不一致"}); err != nil ||
			r2.Status != indicator.Returned {
			t.Fatalf("return: %+v %v", r2, err)
		}
		if v := e.list(e.viewer, "", 2026)[id].Value; v == nil || *v != 84.2 {
			t.Errorf("returned version counts: %v", v)
		}
		// A third, approved: the first is superseded.
		report.Value = f(84.6)
		report.Evidence = []indicator.EvidenceFile{{Name: "修订.pdf", Content: pdf}}
		r3, err := e.svc.Submit(e.ctx, e.sthjj, id, report)
		if err != nil || len(r3.Evidence) != 1 {
			t.Fatalf("third: %+v %v", r3, err)
		}
		if _, err := e.svc.Approve(e.ctx, e.admin, id, r3.ID, indicator.Decision{}); err != nil {
			t.Fatal(err)
		}
		h, err := e.svc.History(e.ctx, e.sthjj, id, "340600")
		if err != nil || len(h.Items) != 3 {
			t.Fatalf("history: %+v %v", h, err)
		}
		var statuses []string
		for _, r := range h.Items {
			statuses = append(statuses, fmt.Sprintf("%d:%s", r.Seq, r.Status))
		}
		if fmt.Sprint(statuses) != "[3:approved 2:returned 1:superseded]" {
			t.Errorf("versions: %v", statuses)
		}
		if len(h.Effective) != 1 || *h.Effective[0].Value != 84.6 || h.Effective[0].ReportID != r3.ID {
			t.Errorf("effective: %+v", h.Effective)
		}
		h, _ = e.svc.History(e.ctx, e.viewer, id, "340600")
		if len(h.Items) != 2 || len(h.Items[0].Evidence) != 0 {
			t.Errorf("viewer's history: %+v", h.Items)
		}

		// The county branch reports for its own county; the city's regulator may too.
		rb, err := e.svc.Submit(e.ctx, e.xsBranch, id, indicator.NewReport{Region: "340603", Period: "2026Q3", Value: f(81),
			Comment: "相山区三季度"})
		if err != nil || rb.Region != "340603" || rb.Department != "sthjj-xs" {
			t.Fatalf("branch: %+v %v", rb, err)
		}
		if _, err := e.svc.History(e.ctx, e.xsq, id, "340603"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := func() (int, int, error) {
			h, err := e.svc.History(e.ctx, e.xsq, id, "340603")
			if err == nil && len(h.Items) != 1 {
				err = fmt.Errorf("xsq sees %d versions of 相山区", len(h.Items))
			}
			return 0, 0, err
		}(); err != nil {
			t.Error(err)
		}

		// Every step is in the audit log.
		var actions []string
		if err := store.Select(e.ctx, db.Reader(), &actions, `SELECT action FROM audit_entries
			WHERE entity = 'indicator_report' ORDER BY seq`); err != nil {
			t.Fatal(err)
		}
		want := []string{"indicator_report.submit", "indicator_report.evidence", "indicator_report.approve",
			"indicator_report.submit", "indicator_report.return", "indicator_report.submit", "indicator_report.approve",
			"indicator_report.submit"}
		if !slices.Equal(actions, want) {
			t.Errorf("audit: %v", actions)
		}
	})
}

// records are raw platform records for the computed indicators, each with
// the audit entry its service would append.
type records struct {
	*env
}

func (e *env) unit(region, park string) string {
	e.t.Helper()
	e.n++
	id := uuid.Must(uuid.NewV7()).String()
	now := store.Now()
	var parkArg any
	if park != "" {
		parkArg = park
	}
	if _, err := store.Exec(e.ctx, e.db.Writer(), `INSERT INTO units (id, uscc, name, region_code, park_code, created_at,
		updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`, id, fmt.Sprintf("91340600MA%08d", e.n), fmt.Sprintf("测试单位%d", e.n),
		region, parkArg, now, now); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// ledger writes one ledger record of kind for unit at t.
func (e *env) ledger(unit, region, kind, category, method string, tonnes float64, at time.Time) string {
	e.t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	g := int64(tonnes * 1e6)
	code := "900-249-08"
	if category == "HW01" {
		code = "841-001-01"
	}
	err := e.db.Tx(e.ctx, func(tx *store.Tx) error {
		e.n++
		if _, err := store.Exec(e.ctx, tx, `INSERT INTO ledger_records (id, origin_id, unit_id, region_code, kind,
			effect_kind, batch_code, occurred_at, waste_code, category, name, official_name, quantity_g, delta_g, method,
			audit_seq, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '废物', '废物', ?, ?, ?, 0, ?)`,
			id, id, unit, region, kind, kind, fmt.Sprintf("CS%s%06d", at.In(calendar.Zone).Format("20060102"), e.n), at.UTC(), code,
			category, g, g, method, tx.Now); err != nil {
			return err
		}
		volumes.Ledger(e.ctx, tx, kind, at, region, category, method, g) // as the ledger's own writes do
		_, err := audit.Append(e.ctx, tx, audit.System, audit.Record{Action: "ledger." + kind, Entity: "ledger_record",
			EntityID: id, UnitID: unit, RegionCode: region})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// manifest writes a manifest of one line shipped at pickedUp, in status.
func (e *env) manifest(consignor, receiver, region, status, category, method string, tonnes, accepted float64, pickedUp time.Time) string {
	e.t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	code := "900-249-08"
	if category == "HW01" {
		code = "841-001-01"
	}
	err := e.db.Tx(e.ctx, func(tx *store.Tx) error {
		e.n++
		var completed any
		if status == "completed" {
			completed = pickedUp.Add(48 * time.Hour).UTC()
		}
		if _, err := store.Exec(e.ctx, tx, `INSERT INTO manifests (id, number, year, status, consignor_unit_id,
			receiver_unit_id, region_code, receiver_region_code, picked_up_at, completed_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, '340604', ?, ?, ?, ?)`, id, fmt.Sprintf("%d3406%06d", pickedUp.Year(), e.n),
			pickedUp.Year(), status, consignor, receiver, region, pickedUp.UTC(), completed, tx.Now, tx.Now); err != nil {
			return err
		}
		if _, err := store.Exec(e.ctx, tx, `INSERT INTO manifest_lines (manifest_id, line_no, waste_code, category, name,
			official_name, quantity_g, form, characteristics, packaging, package_count, accepted_g, method)
			VALUES (?, 1, ?, ?, '废物', '废物', ?, 'L', 'T', '桶', 1, ?, ?)`,
			id, code, category, int64(tonnes*1e6), int64(accepted*1e6), method); err != nil {
			return err
		}
		// The monthly totals, as the manifest steps keep them.
		acc := int64(accepted * 1e6)
		after := volumes.Manifest{Status: status, Region: region, ReceiverRegion: "340604", ReceiverUnit: receiver,
			PickedUpAt: &pickedUp, Lines: []volumes.Line{{Category: category, Method: method, QuantityG: int64(tonnes * 1e6), AcceptedG: &acc}}}
		if status == "completed" {
			done := pickedUp.Add(48 * time.Hour)
			after.CompletedAt = &done
		}
		volumes.Moved(e.ctx, tx, volumes.Manifest{}, after)
		_, err := audit.Append(e.ctx, tx, audit.System, audit.Record{Action: "manifest." + status, Entity: "manifest",
			EntityID: id, UnitID: consignor, RegionCode: region})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// cell writes a certified zero-waste cell, creating a minimal cells table
// when the programme migration has not made one.
func (e *env) cell(unit, region string, certified time.Time) string {
	e.t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	now := store.Now()
	var n int
	if err := store.Get(e.ctx, e.db.Reader(), &n, `SELECT count(*) FROM cells`); err != nil {
		if _, err := store.Exec(e.ctx, e.db.Writer(), `CREATE TABLE cells (id TEXT PRIMARY KEY, type TEXT NOT NULL,
			name TEXT NOT NULL, unit_id TEXT NOT NULL, region_code TEXT NOT NULL, status TEXT NOT NULL,
			applied_at TIMESTAMP NOT NULL, certified_at TIMESTAMP, created_at TIMESTAMP NOT NULL,
			updated_at TIMESTAMP NOT NULL)`); err != nil {
			e.t.Fatal(err)
		}
	} else if _, err := store.Exec(e.ctx, e.db.Writer(), `INSERT INTO cell_types (code, name, pass_mark, position,
		created_at, updated_at) VALUES ('community', '无废社区', 80, 1, ?, ?) ON CONFLICT (code) DO NOTHING`, now, now); err != nil {
		e.t.Fatal(err)
	}
	err := e.db.Tx(e.ctx, func(tx *store.Tx) error {
		if _, err := store.Exec(e.ctx, tx, `INSERT INTO cells (id, type, name, unit_id, region_code, status, applied_at,
			certified_at, created_at, updated_at) VALUES (?, 'community', '测试社区', ?, ?, 'certified', ?, ?, ?, ?)`,
			id, unit, region, now, certified.UTC(), now, now); err != nil {
			return err
		}
		_, err := audit.Append(e.ctx, tx, audit.System, audit.Record{Action: "cell.certify", Entity: "cell", EntityID: id,
			UnitID: unit, RegionCode: region})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func TestComputed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.svc.RecordsLag = 0 // every read sees new records
		computed := []string{"ihw_utilization_rate", "ihw_generation_intensity", "medical_waste_treatment_rate", "zero_waste_cells"}
		for _, region := range []string{"340600", "340621", "340621P01"} {
			got := e.list(e.viewer, region, 2026)
			for _, id := range computed {
				if got[id].Value != nil || got[id].Status != "no_data" {
					t.Errorf("%s %s without records: %v %s", region, id, *got[id].Value, got[id].Status)
				}
			}
		}

		at := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 10, 0, 0, 0, calendar.Zone) }
		gen := e.unit("340621", "340621P01") // coal-chemical park
		gen2 := e.unit("340603", "")         // 相山区
		clinic := e.unit("340603", "")
		disposer := e.unit("340604", "")

		// 2025: 20 t stored, 10 t of it still in store at the year's end.
		e.ledger(gen, "340621", "generation", "HW08", "", 20, at(2025, 5, 1))
		e.ledger(gen, "340621", "storage_in", "HW08", "", 20, at(2025, 5, 1))
		e.ledger(gen, "340621", "storage_out", "HW08", "", 10, at(2025, 9, 1))
		// 2026: 90 t generated; 15 t utilised in house (R9), 5 t incinerated in house (D10, not counted);
		// 30 t shipped to R9 and completed, 10 t to D10 completed, 8 t to R9 still in transit.
		g1 := e.ledger(gen, "340621", "generation", "HW08", "", 60, at(2026, 3, 1))
		e.ledger(gen2, "340603", "generation", "HW08", "", 30, at(2026, 4, 1))
		ih := e.ledger(gen, "340621", "in_house", "HW08", "R9", 15, at(2026, 3, 2))
		e.ledger(gen, "340621", "in_house", "HW08", "D10", 5, at(2026, 3, 2))
		m1 := e.manifest(gen, disposer, "340621", "completed", "HW08", "R9", 30, 30, at(2026, 6, 1))
		e.manifest(gen2, disposer, "340603", "completed", "HW08", "D10", 10, 10, at(2026, 6, 2))
		e.manifest(gen, disposer, "340621", "in_transit", "HW08", "R9", 8, 0, at(2026, 7, 1))
		// Medical waste is left out of the industrial figures: 4 t shipped, 3 t completed.
		e.ledger(clinic, "340603", "generation", "HW01", "", 4, at(2026, 2, 1))
		e.manifest(clinic, disposer, "340603", "completed", "HW01", "D10", 3, 3, at(2026, 2, 2))
		e.manifest(clinic, disposer, "340603", "received", "HW01", "D10", 1, 1, at(2026, 2, 3))
		e.manifest(clinic, disposer, "340603", "cancelled", "HW01", "D10", 9, 0, at(2026, 2, 3))

		// No refresh called: the list sees the new records itself.
		city := e.list(e.viewer, "340600", 2026)
		// (15 + 30) ÷ (90 + 10 in store) = 45%.
		if v := city["ihw_utilization_rate"]; v.Value == nil || *v.Value != 45 || *v.Numerator != 45 || *v.Denominator != 100 {
			t.Fatalf("utilisation: %+v", v)
		}
		if v := city["medical_waste_treatment_rate"].Value; v == nil || *v != 75 {
			t.Errorf("medical: %v", v)
		}
		if v := city["ihw_generation_intensity"].Value; v != nil {
			t.Errorf("intensity without an output value: %v", *v)
		}
		// 濉溪县: (15 + 30) ÷ (60 + 10) = 64.285714%; the park holds the same units.
		for _, region := range []string{"340621", "340621P01"} {
			if v := e.list(e.viewer, region, 2026)["ihw_utilization_rate"].Value; v == nil || *v != 64.285714 {
				t.Errorf("%s utilisation: %v", region, v)
			}
		}
		if v := e.list(e.viewer, "340603", 2026)["ihw_utilization_rate"].Value; v == nil || *v != 0 {
			t.Errorf("相山区 utilisation: %v", v)
		}
		if v := e.list(e.viewer, "340602", 2026)["ihw_utilization_rate"].Value; v != nil {
			t.Errorf("杜集区 has no records: %v", *v)
		}
		// A quarter: Q1 2026 holds 60 + 10 in store, 15 utilised in house.
		items, err := e.svc.List(e.ctx, e.viewer, indicator.ListFilter{Region: "340621", Period: "2026Q1"})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.ID == "ihw_utilization_rate" && (it.Value == nil || *it.Value != 21.428571 || it.Period != "2026Q1") {
				t.Errorf("Q1: %+v", it)
			}
		}

		// Drill-down, as far as the caller sees.
		d, err := e.svc.Get(e.ctx, e.sthjj, "ihw_utilization_rate", indicator.ListFilter{Region: "340600", Year: 2026})
		if err != nil || d.Drill == nil {
			t.Fatalf("detail: %+v %v", d, err)
		}
		parts := map[string]float64{}
		ids := map[string]bool{}
		for _, r := range d.Drill.Rows {
			parts[r.Part] += r.Quantity
			ids[r.ID] = true
		}
		if parts["numerator"] != 45 || parts["denominator"] != 100 || !ids[g1] || !ids[ih] || !ids[m1] || d.HiddenRows != 0 {
			t.Errorf("drill: %v %+v", parts, d.Drill.Rows)
		}
		d, err = e.svc.Get(e.ctx, e.xsq, "ihw_utilization_rate", indicator.ListFilter{Region: "340600", Year: 2026})
		if err != nil || len(d.Drill.Rows) != 1 || d.Drill.Rows[0].RegionCode != "340603" || d.HiddenRows == 0 ||
			*d.Drill.Value != 45 {
			t.Errorf("xsq's drill: %+v %v", d.Drill, err)
		}
		d, _ = e.svc.Get(e.ctx, e.viewer, "ihw_utilization_rate", indicator.ListFilter{Region: "340600", Year: 2026})
		if len(d.Drill.Rows) != 0 {
			t.Errorf("viewer sees %d rows", len(d.Drill.Rows))
		}
		if _, err := e.svc.Get(e.ctx, e.viewer, "nope", indicator.ListFilter{}); code(err) != "indicator_not_found" {
			t.Errorf("unknown: %v", err)
		}

		// The intensity once the output value is approved: 90 t ÷ 1,000,000 万元.
		r, err := e.svc.Submit(e.ctx, e.fgw, "industrial_output_value", indicator.NewReport{Region: "340600", Period: "2026",
			Value: f(1_000_000), Comment: "统计快报", Evidence: []indicator.EvidenceFile{{Name: "快报.pdf", Content: pdf}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Approve(e.ctx, e.workTeam, "industrial_output_value", r.ID, indicator.Decision{}); err != nil {
			t.Fatal(err)
		}
		if v := e.list(e.viewer, "340600", 2026)["ihw_generation_intensity"]; v.Value == nil || *v.Value != 0.00009 ||
			v.Status != "achieved" || *v.Denominator != 1_000_000 {
			t.Errorf("intensity: %+v", v)
		}

		// Zero-waste cells: certified by the end of the period, in the area.
		if v := e.list(e.viewer, "340603", 2026)["zero_waste_cells"].Value; v != nil {
			t.Errorf("cells before any: %v", *v)
		}
		e.cell(gen2, "340603", time.Date(2026, 9, 15, 0, 0, 0, 0, time.UTC))
		e.cell(gen, "340621", time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC))
		e.cell(gen, "340621", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
		for region, want := range map[string]float64{"340600": 2, "340603": 1, "340621": 1, "340621P01": 1} {
			if v := e.list(e.viewer, region, 2026)["zero_waste_cells"].Value; v == nil || *v != want {
				t.Errorf("cells in %s: %v, want %v", region, v, want)
			}
		}
		if v := e.list(e.viewer, "340600", 2025)["zero_waste_cells"].Value; v == nil || *v != 1 {
			t.Errorf("cells 2025: %v", v)
		}
	})
}

func TestRefresh(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		gen := e.unit("340602", "")
		e.ledger(gen, "340602", "generation", "HW08", "", 10, time.Date(2026, 9, 3, 0, 0, 0, 0, calendar.Zone))
		e.ledger(gen, "340602", "in_house", "HW08", "C1", 4, time.Date(2026, 9, 4, 0, 0, 0, 0, calendar.Zone))
		if err := indicator.Refresh(e.ctx, db, "340602", "2026-09"); err != nil {
			t.Fatal(err)
		}
		var v *int64
		if err := store.Get(e.ctx, db.Reader(), &v, `SELECT value_e6 FROM indicator_values
			WHERE indicator_id = 'ihw_utilization_rate' AND region_code = '340602' AND period = '2026-09'`); err != nil ||
			v == nil || *v != 40_000_000 {
			t.Fatalf("refreshed value: %v %v", v, err)
		}
		if err := indicator.Refresh(e.ctx, db, "340602", "2026-13"); code(err) != "period:period_format" {
			t.Errorf("bad period: %v", err)
		}
		now := time.Date(2026, 10, 5, 12, 0, 0, 0, calendar.Zone)
		if got := indicator.RecentPeriods(now); fmt.Sprint(got) != "[2026 2025 2026Q4 2026Q3 2026-10 2026-09]" {
			t.Errorf("recent: %v", got)
		}
		n, err := indicator.RefreshRecent(e.ctx, db, now)
		areas, _ := indicator.Areas(e.ctx, db.Reader())
		// Everything but 杜集区's September, refreshed above.
		if err != nil || n != 6*len(areas)-1 || len(areas) < 7 {
			t.Fatalf("refresh recent: %d over %d areas, %v", n, len(areas), err)
		}
		if n, err := indicator.RefreshRecent(e.ctx, db, now); err != nil || n != 0 {
			t.Fatalf("nothing changed, yet %d refreshed: %v", n, err)
		}
		// A record in 杜集区: its periods, the city's and the parks' are refreshed, not the other counties'.
		e.ledger(gen, "340602", "generation", "HW08", "", 10, time.Date(2026, 9, 5, 0, 0, 0, 0, calendar.Zone))
		n, err = indicator.RefreshRecent(e.ctx, db, now)
		if err != nil || n == 0 || n >= 6*len(areas)-6*3 {
			t.Fatalf("after a record in 杜集区: %d refreshed, %v", n, err)
		}
		if err := store.Get(e.ctx, db.Reader(), &v, `SELECT value_e6 FROM indicator_values
			WHERE indicator_id = 'ihw_utilization_rate' AND region_code = '340600' AND period = '2026'`); err != nil ||
			v == nil || *v != 20_000_000 {
			t.Fatalf("city value after the refresh: %v %v", v, err)
		}
		var rows, computed int
		_ = store.Get(e.ctx, db.Reader(), &rows, `SELECT count(*) FROM indicator_values WHERE period = '2026Q3'`)
		_ = store.Get(e.ctx, db.Reader(), &computed, `SELECT count(*) FROM indicators WHERE kind = 'computed'`)
		if rows != computed*len(areas) || computed < 4 {
			t.Errorf("%d computed rows for 2026Q3", rows)
		}
		// The refresh appends no audit entry; the marks record what it saw.
		var head, mark int64
		_ = store.Get(e.ctx, db.Reader(), &head, `SELECT seq FROM audit_head`)
		_ = store.Get(e.ctx, db.Reader(), &mark, `SELECT audit_seq FROM indicator_marks WHERE region_code = '340600' AND period = '2026'`)
		if mark != head {
			t.Errorf("mark %d, head %d", mark, head)
		}
		// A read sees new cells at once and leaves new ledger records to the
		// scheduled refresh for RecordsLag once a value exists.
		svc := indicator.NewService(db)
		read := func(id string) float64 {
			items, err := svc.List(e.ctx, e.viewer, indicator.ListFilter{Region: "340602", Period: "2026-09"})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				if it.ID == id && it.Value != nil {
					return *it.Value
				}
			}
			return -1
		}
		if got := read("ihw_utilization_rate"); got != 20 {
			t.Fatalf("before: %v", got)
		}
		e.ledger(gen, "340602", "in_house", "HW08", "R9", 2, time.Date(2026, 9, 6, 0, 0, 0, 0, calendar.Zone))
		e.cell(gen, "340602", time.Date(2026, 9, 7, 0, 0, 0, 0, time.UTC))
		if got := read("ihw_utilization_rate"); got != 20 {
			t.Errorf("records recomputed on read within the lag: %v", got)
		}
		if got := read("zero_waste_cells"); got != 1 {
			t.Errorf("cells not counted at once: %v", got)
		}
		if _, err := indicator.RefreshRecent(e.ctx, db, now); err != nil {
			t.Fatal(err)
		}
		if got := read("ihw_utilization_rate"); got != 30 {
			t.Errorf("after the scheduled refresh: %v", got)
		}

		rule := indicator.RefreshRule(db, time.Minute)
		if rule.Name != "indicator_refresh" || rule.Run(e.ctx, store.Now()) != nil {
			t.Error("rule")
		}
	})
}

func TestSeedDemo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		if err := indicator.SeedDemo(e.ctx, db); err != nil {
			t.Fatal(err)
		}
		if err := indicator.SeedDemo(e.ctx, db); err != nil {
			t.Fatal(err)
		}
		var n int
		_ = store.Get(e.ctx, db.Reader(), &n, `SELECT count(*) FROM indicator_reports WHERE status = 'approved'`)
		if n == 0 || n%15 != 0 {
			t.Fatalf("%d demo values", n)
		}
		got := e.list(e.viewer, "340600", 2026)
		seen := map[string]bool{}
		for _, it := range got {
			seen[it.Status] = true
		}
		for _, s := range []string{"achieved", "on_track", "at_risk", "off_track", "no_data"} {
			if !seen[s] {
				t.Errorf("no indicator %s in the demo", s)
			}
		}
		// 30, 33, 35 from 2024: the least-squares line reaches 32.67 + 2 × 2.5 in 2027, short of 40.
		if it := got["prefab_building_share"]; it.Status != "at_risk" || it.Projected == nil || *it.Projected != 37.666667 ||
			*it.Value != 35 {
			t.Errorf("prefab: %s %v %v", it.Status, it.Projected, it.Value)
		}
		if it := e.list(e.viewer, "340621", 2025)["manure_utilization_rate"]; it.Value == nil || *it.Value != 89 {
			t.Errorf("濉溪县 manure utilisation 2025: %v", it.Value)
		}
	})
}
