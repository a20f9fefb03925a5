package plan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"wufei/internal/calendar"
	"wufei/internal/paging"

	"github.com/google/uuid"

	"wufei/internal/alerts"
	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/qty"
	"wufei/internal/store"
)

// NewPlan is what starting a plan takes; sections may be filled later.
type NewPlan struct {
	UnitID            string           `json:"unit_id,omitempty" maxLength:"40" doc:"单位；单位账号不填即本单位"`
	Year              int              `json:"year" minimum:"2000" maximum:"2100" doc:"计划年度"`
	Generation        []GenerationLine `json:"generation,omitempty" maxItems:"500"`
	Storage           []StorageLine    `json:"storage,omitempty" maxItems:"200"`
	InHouse           []InHouseLine    `json:"in_house,omitempty" maxItems:"200"`
	Transfers         []TransferLine   `json:"transfers,omitempty" maxItems:"500"`
	ReductionMeasures string           `json:"reduction_measures,omitempty" maxLength:"4000"`
}

// Patch changes a draft or returned plan. A section given replaces the
// whole section; one left out is kept. Version must be the version read.
type Patch struct {
	Version           int64            `json:"version" minimum:"1"`
	Generation        []GenerationLine `json:"generation,omitempty" maxItems:"500"`
	Storage           []StorageLine    `json:"storage,omitempty" maxItems:"200"`
	InHouse           []InHouseLine    `json:"in_house,omitempty" maxItems:"200"`
	Transfers         []TransferLine   `json:"transfers,omitempty" maxItems:"500"`
	ReductionMeasures *string          `json:"reduction_measures,omitempty" maxLength:"4000"`
}

// Filter narrows a plan list.
type Filter struct {
	UnitID string
	Year   int
	Status string
	Region string // a county or park code
	Limit  int
	After  string // cursor from the previous page
}

// planRow is one row of plans.
type planRow struct {
	ID                string     `db:"id"`
	UnitID            string     `db:"unit_id"`
	Year              int        `db:"year"`
	RegionCode        string     `db:"region_code"`
	Status            string     `db:"status"`
	FilingNumber      string     `db:"filing_number"`
	Class             string     `db:"class"`
	UnitInfo          string     `db:"unit_info"`
	Facilities        string     `db:"facilities"`
	ReductionMeasures string     `db:"reduction_measures"`
	ReturnReason      string     `db:"return_reason"`
	Late              bool       `db:"late"`
	SubmittedAt       *time.Time `db:"submitted_at"`
	FiledAt           *time.Time `db:"filed_at"`
	ReturnedAt        *time.Time `db:"returned_at"`
	CreatedAt         time.Time  `db:"created_at"`
	UpdatedAt         time.Time  `db:"updated_at"`
	Version           int64      `db:"version"`
}

const planColumns = `pl.id, pl.unit_id, pl.year, pl.region_code, pl.status, COALESCE(pl.filing_number, '') AS filing_number,
	pl.class, pl.unit_info, pl.facilities, pl.reduction_measures, pl.return_reason, pl.late, pl.submitted_at, pl.filed_at,
	pl.returned_at, pl.created_at, pl.updated_at, pl.version`

var errPlanNotFound = errs.E(errs.NotFound, "plan_not_found", "管理计划不存在或无权查看")

func conflict() error {
	return errs.E(errs.Conflict, "version_conflict", "该管理计划已被他人修改，请刷新后重试")
}

func wrongStatus(msg string) error { return errs.E(errs.Conflict, "wrong_status", msg) }

func checkYear(field string, year int) error {
	if year < 2000 || year > yearOf(time.Now())+1 {
		return errs.Field(field, "year_range", "年度须在 2000 年至明年之间")
	}
	return nil
}

// Create starts a unit's plan for a year as a draft.
func (s *Service) Create(ctx context.Context, p auth.Principal, in NewPlan) (Plan, error) {
	unitID := in.UnitID
	if unitID == "" {
		unitID = p.UnitID
	}
	if unitID == "" {
		return Plan{}, errs.Field("unit_id", "required", "请指定单位")
	}
	if err := checkYear("year", in.Year); err != nil {
		return Plan{}, err
	}
	var out Plan
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		u, err := visibleUnit(ctx, tx, p, unitID)
		if err != nil {
			return err
		}
		if !canFile(p, unitID) {
			return errs.E(errs.Forbidden, "forbidden", "管理计划由单位自行编制")
		}
		c := content{Generation: in.Generation, Storage: in.Storage, InHouse: in.InHouse, Transfers: in.Transfers,
			ReductionMeasures: in.ReductionMeasures}
		rows, err := validate(ctx, tx, unitID, &c)
		if err != nil {
			return err
		}
		facilities, err := facilitySnapshot(ctx, tx, unitID)
		if err != nil {
			return err
		}
		r := planRow{ID: uuid.Must(uuid.NewV7()).String(), UnitID: unitID, Year: in.Year, RegionCode: u.RegionCode,
			Status: Draft, UnitInfo: mustJSON(u.info()), Facilities: mustJSON(facilities),
			ReductionMeasures: c.ReductionMeasures, CreatedAt: tx.Now, UpdatedAt: tx.Now, Version: 1}
		_, err = store.Exec(ctx, tx, `INSERT INTO plans (id, unit_id, year, region_code, status, unit_info, facilities,
			reduction_measures, late, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
			r.ID, r.UnitID, r.Year, r.RegionCode, r.Status, r.UnitInfo, r.Facilities, r.ReductionMeasures, false,
			r.CreatedAt, r.UpdatedAt)
		if errors.Is(err, store.ErrExists) {
			return errs.E(errs.Conflict, "plan_exists", fmt.Sprintf("该单位已有 %d 年度管理计划", in.Year))
		}
		if err != nil {
			return err
		}
		if err := writeLines(ctx, tx, r, rows); err != nil {
			return err
		}
		if out, err = s.build(ctx, tx, r, rows); err != nil {
			return err
		}
		return s.audit(ctx, tx, p.Actor(), "plan.create", r, out)
	})
	return out, err
}

// Update changes a draft or returned plan.
func (s *Service) Update(ctx context.Context, p auth.Principal, id string, in Patch) (Plan, error) {
	var out Plan
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		r, rows, err := s.load(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if !canFile(p, r.UnitID) {
			return errs.E(errs.Forbidden, "forbidden", "管理计划由单位自行编制")
		}
		if r.Status != Draft && r.Status != Returned {
			return wrongStatus("已备案的管理计划不能修改；须由监管部门退回后再改")
		}
		if r.Version != in.Version {
			return conflict()
		}
		before, err := s.build(ctx, tx, r, rows)
		if err != nil {
			return err
		}
		c := content{Generation: before.Generation, Storage: before.Storage, InHouse: before.InHouse,
			Transfers: before.Transfers, ReductionMeasures: r.ReductionMeasures}
		if in.Generation != nil {
			c.Generation = in.Generation
		}
		if in.Storage != nil {
			c.Storage = in.Storage
		}
		if in.InHouse != nil {
			c.InHouse = in.InHouse
		}
		if in.Transfers != nil {
			c.Transfers = in.Transfers
		}
		if in.ReductionMeasures != nil {
			c.ReductionMeasures = *in.ReductionMeasures
		}
		if rows, err = validate(ctx, tx, r.UnitID, &c); err != nil {
			return err
		}
		r.ReductionMeasures, r.UpdatedAt, r.Version = c.ReductionMeasures, tx.Now, r.Version+1
		n, err := store.Exec(ctx, tx, `UPDATE plans SET reduction_measures = ?, updated_at = ?, version = ?
			WHERE id = ? AND version = ?`, r.ReductionMeasures, r.UpdatedAt, r.Version, r.ID, in.Version)
		if err != nil {
			return err
		}
		if n != 1 {
			return conflict()
		}
		if err := writeLines(ctx, tx, r, rows); err != nil {
			return err
		}
		if out, err = s.build(ctx, tx, r, rows); err != nil {
			return err
		}
		return s.audit(ctx, tx, p.Actor(), "plan.update", r, map[string]any{"before": before, "after": out})
	})
	return out, err
}

// Submit submits a draft or returned plan, and the platform files it: a
// first submission is given the next filing number of the plan's year, a
// resubmission keeps its number. The unit basic information and facilities
// are snapshotted again, the class is fixed, and a first submission after
// the deadline is marked late and raises plan_late for the unit and its
// regulators. version 0 skips the version check.
func (s *Service) Submit(ctx context.Context, p auth.Principal, id string, version int64) (Plan, error) {
	var out Plan
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		r, rows, err := s.load(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if !canFile(p, r.UnitID) {
			return errs.E(errs.Forbidden, "forbidden", "管理计划由单位自行提交")
		}
		if r.Status != Draft && r.Status != Returned {
			return wrongStatus("该管理计划已备案，不能重复提交")
		}
		if version != 0 && r.Version != version {
			return conflict()
		}
		rules, err := LoadRules(ctx, tx)
		if err != nil {
			return err
		}
		class, err := Class(ctx, tx, r.UnitID, r.Year)
		if err != nil {
			return err
		}
		var v errs.Validation
		if countSection(rows, secGeneration) == 0 {
			v.Add("generation", "required", "须填写至少一种危险废物的产生情况")
		}
		if class.Class == Key && strings.TrimSpace(r.ReductionMeasures) == "" {
			v.Add("reduction_measures", "required_for_key", "重点监管单位须填写危险废物减量化计划和措施")
		}
		if err := v.Err(); err != nil {
			return err
		}
		u, err := visibleUnit(ctx, tx, auth.Principal{Role: auth.Admin}, r.UnitID)
		if err != nil {
			return err
		}
		facilities, err := facilitySnapshot(ctx, tx, r.UnitID)
		if err != nil {
			return err
		}
		first := r.FilingNumber == ""
		if first {
			if r.FilingNumber, err = nextFilingNumber(ctx, tx, r.Year, u.RegionCode); err != nil {
				return err
			}
			r.Late = !tx.Now.Before(rules.PlanDue(r.Year))
		}
		r.Status, r.Class, r.UnitInfo, r.Facilities = Filed, class.Class, mustJSON(u.info()), mustJSON(facilities)
		r.SubmittedAt, r.FiledAt, r.UpdatedAt, r.Version = &tx.Now, &tx.Now, tx.Now, r.Version+1
		n, err := store.Exec(ctx, tx, `UPDATE plans SET status = ?, filing_number = ?, class = ?, unit_info = ?,
			facilities = ?, late = ?, submitted_at = ?, filed_at = ?, updated_at = ?, version = ? WHERE id = ? AND version = ?`,
			r.Status, r.FilingNumber, r.Class, r.UnitInfo, r.Facilities, r.Late, r.SubmittedAt, r.FiledAt, r.UpdatedAt,
			r.Version, r.ID, r.Version-1)
		if err != nil {
			return err
		}
		if n != 1 {
			return conflict()
		}
		if out, err = s.build(ctx, tx, r, rows); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, p.Actor(), "plan.submit", r, out); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, audit.System, "plan.file", r, map[string]any{"filing_number": r.FilingNumber,
			"class": r.Class, "late": r.Late, "resubmission": !first}); err != nil {
			return err
		}
		if first && r.Late {
			due := rules.PlanDue(r.Year)
			_, err = alerts.Raise(ctx, tx, alerts.Alert{Kind: "plan_late", Severity: alerts.Warning,
				Title: fmt.Sprintf("%d 年度危险废物管理计划逾期备案", r.Year),
				Detail: fmt.Sprintf("%s 的 %d 年度管理计划于 %s 提交备案，晚于截止日 %s。", u.Name, r.Year,
					tx.Now.In(calendar.Zone).Format("2006-01-02"), due.Add(-time.Second).In(calendar.Zone).Format("2006-01-02")),
				Subject: "plan", SubjectID: r.ID, SubjectRef: r.FilingNumber, RegionCode: u.RegionCode,
				UnitIDs: []string{r.UnitID}})
		}
		return err
	})
	return out, err
}

// Return sends a filed plan back to the unit with a reason. Only the
// regulators who oversee the unit (and admins) may return it; the unit then
// corrects and resubmits it under the same filing number.
func (s *Service) Return(ctx context.Context, p auth.Principal, id, reason string, version int64) (Plan, error) {
	reason = strings.TrimSpace(reason)
	var out Plan
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		r, rows, err := s.load(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if !canRegulate(p) {
			return errs.E(errs.Forbidden, "forbidden", "只有监管部门可以退回管理计划")
		}
		switch {
		case r.Status != Filed:
			return wrongStatus("只能退回已备案的管理计划")
		case version != 0 && r.Version != version:
			return conflict()
		case reason == "":
			return errs.Field("reason", "required", "须写明退回原因")
		case utf8.RuneCountInString(reason) > 1000:
			return errs.Field("reason", "too_long", "退回原因最多 1000 个字")
		}
		r.Status, r.ReturnReason, r.ReturnedAt, r.UpdatedAt, r.Version = Returned, reason, &tx.Now, tx.Now, r.Version+1
		n, err := store.Exec(ctx, tx, `UPDATE plans SET status = ?, return_reason = ?, returned_at = ?, updated_at = ?,
			version = ? WHERE id = ? AND version = ?`, r.Status, r.ReturnReason, r.ReturnedAt, r.UpdatedAt, r.Version,
			r.ID, r.Version-1)
		if err != nil {
			return err
		}
		if n != 1 {
			return conflict()
		}
		if out, err = s.build(ctx, tx, r, rows); err != nil {
			return err
		}
		return s.audit(ctx, tx, p.Actor(), "plan.return", r, map[string]any{"reason": reason,
			"filing_number": r.FilingNumber})
	})
	return out, err
}

// Get returns a plan the principal may see.
func (s *Service) Get(ctx context.Context, p auth.Principal, id string) (Plan, error) {
	r, rows, err := s.load(ctx, s.db.Reader(), p, id)
	if err != nil {
		return Plan{}, err
	}
	return s.build(ctx, s.db.Reader(), r, rows)
}

// List returns the plans the principal may see, filtered and paged by id.
func (s *Service) List(ctx context.Context, p auth.Principal, f Filter) (Page[Summary], error) {
	cond, args := unitScope(p)
	where := []string{cond}
	if f.UnitID != "" {
		where, args = append(where, "pl.unit_id = ?"), append(args, f.UnitID)
	}
	if f.Year != 0 {
		where, args = append(where, "pl.year = ?"), append(args, f.Year)
	}
	if f.Status != "" {
		where, args = append(where, "pl.status = ?"), append(args, f.Status)
	}
	if f.Region != "" {
		where, args = append(where, "(u.region_code = ? OR u.park_code = ?)"), append(args, f.Region, f.Region)
	}
	limit, after, err := paging.Args(f.Limit, f.After)
	if err != nil {
		return Page[Summary]{}, err
	}
	if after != "" {
		where, args = append(where, "pl.id > ?"), append(args, after)
	}
	var items []Summary
	if err := store.Select(ctx, s.db.Reader(), &items, `SELECT pl.id, pl.unit_id, u.name AS unit_name, pl.region_code, pl.year,
		pl.status, COALESCE(pl.filing_number, '') AS filing_number, pl.class, pl.late, pl.submitted_at, pl.updated_at, pl.version
		FROM plans pl JOIN units u ON u.id = pl.unit_id WHERE `+strings.Join(where, " AND ")+
		` ORDER BY pl.id LIMIT `+strconv.Itoa(limit+1), args...); err != nil {
		return Page[Summary]{}, err
	}
	return paging.Of(items, limit, func(s Summary) string { return s.ID }), nil
}

// load reads a plan the principal may see, with its lines.
func (s *Service) load(ctx context.Context, q store.Querier, p auth.Principal, id string) (planRow, []lineRow, error) {
	cond, args := unitScope(p)
	var r planRow
	err := store.Get(ctx, q, &r, `SELECT `+planColumns+` FROM plans pl JOIN units u ON u.id = pl.unit_id
		WHERE pl.id = ? AND `+cond, append([]any{id}, args...)...)
	if errors.Is(err, store.ErrNotFound) {
		return r, nil, errPlanNotFound
	}
	if err != nil {
		return r, nil, err
	}
	var rows []lineRow
	err = store.Select(ctx, q, &rows, `SELECT section, line_no, waste_code, name, form, characteristics, source, facility_code,
		method, receiver_unit_id, planned_g, last_year_g, capacity_g FROM plan_lines WHERE plan_id = ? ORDER BY section, line_no`, id)
	return r, rows, err
}

// build turns stored rows into the API's plan.
func (s *Service) build(ctx context.Context, q store.Querier, r planRow, rows []lineRow) (Plan, error) {
	rules, err := LoadRules(ctx, q)
	if err != nil {
		return Plan{}, err
	}
	p := Plan{ID: r.ID, UnitID: r.UnitID, Year: r.Year, Status: r.Status, FilingNumber: r.FilingNumber, Class: r.Class,
		ReductionMeasures: r.ReductionMeasures, ReturnReason: r.ReturnReason, Late: r.Late, DueAt: rules.PlanDue(r.Year),
		SubmittedAt: r.SubmittedAt, FiledAt: r.FiledAt, ReturnedAt: r.ReturnedAt, CreatedAt: r.CreatedAt,
		UpdatedAt: r.UpdatedAt, Version: r.Version}
	if err := json.Unmarshal([]byte(r.UnitInfo), &p.Unit); err != nil {
		return p, fmt.Errorf("plan: unit snapshot: %w", err)
	}
	if err := json.Unmarshal([]byte(r.Facilities), &p.Facilities); err != nil {
		return p, fmt.Errorf("plan: facility snapshot: %w", err)
	}
	if p.Facilities == nil {
		p.Facilities = []FacilityInfo{}
	}
	fromRows(&p, rows)
	return p, nil
}

func writeLines(ctx context.Context, tx *store.Tx, r planRow, rows []lineRow) error {
	if _, err := store.Exec(ctx, tx, `DELETE FROM plan_lines WHERE plan_id = ?`, r.ID); err != nil {
		return err
	}
	for _, l := range rows {
		if _, err := store.Exec(ctx, tx, `INSERT INTO plan_lines (plan_id, section, line_no, unit_id, year, region_code,
			waste_code, name, form, characteristics, source, facility_code, method, receiver_unit_id, planned_g, last_year_g,
			capacity_g) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, l.Section, l.LineNo, r.UnitID, r.Year, r.RegionCode, l.WasteCode, l.Name, l.Form, l.Characteristics,
			l.Source, l.FacilityCode, l.Method, l.ReceiverUnitID, l.PlannedG, l.LastYearG, l.CapacityG); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) audit(ctx context.Context, tx *store.Tx, actor audit.Actor, action string, r planRow, change any) error {
	_, err := audit.Append(ctx, tx, actor, audit.Record{Action: action, Entity: "plan", EntityID: r.ID,
		UnitID: r.UnitID, RegionCode: r.RegionCode, Change: change})
	return err
}

// nextFilingNumber issues the next filing number of year in the unit's
// city: HWGL, the year, the province and city digits of its region code
// (3406 for Huaibei) and a 5-digit serial. The serial row is only ever
// incremented, so a number is never issued twice.
func nextFilingNumber(ctx context.Context, tx *store.Tx, year int, region string) (string, error) {
	prefix := fmt.Sprintf("%04d%s", year, region[:4])
	serial, err := store.Next(ctx, tx, "plan_filing_serials", "prefix", prefix, 1)
	if err != nil {
		return "", err
	}
	if serial > 99999 {
		return "", errs.E(errs.Conflict, "plan_filing_numbers_exhausted", "本年度本市管理计划备案编号已用完")
	}
	return fmt.Sprintf("HWGL%s%05d", prefix, serial), nil
}

// facilitySnapshot reads the unit's facilities in use from the registry.
func facilitySnapshot(ctx context.Context, q store.Querier, unitID string) ([]FacilityInfo, error) {
	var rows []struct {
		Code      string `db:"code"`
		Kind      string `db:"kind"`
		Name      string `db:"name"`
		Method    string `db:"method"`
		CapacityG int64  `db:"capacity_g"`
	}
	if err := store.Select(ctx, q, &rows, `SELECT code, kind, name, method, capacity_g FROM facilities
		WHERE unit_id = ? AND status = 'active' ORDER BY code`, unitID); err != nil {
		return nil, err
	}
	out := make([]FacilityInfo, len(rows))
	for i, f := range rows {
		out[i] = FacilityInfo{Code: f.Code, Kind: f.Kind, Name: f.Name, Method: f.Method, CapacityT: qty.Tonnes(f.CapacityG)}
	}
	return out, nil
}

func countSection(rows []lineRow, section string) int {
	n := 0
	for _, r := range rows {
		if r.Section == section {
			n++
		}
	}
	return n
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
