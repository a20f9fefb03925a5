package indicator

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/store"
)

// Report is one submitted version of a reported value.
type Report struct {
	ID           string     `json:"id"`
	IndicatorID  string     `json:"indicator_id"`
	Region       string     `json:"region"`
	Period       string     `json:"period"`
	Seq          int        `json:"seq" doc:"同一指标、地区、统计期的第几版"`
	Value        float64    `json:"value"`
	Comment      string     `json:"comment"`
	Status       string     `json:"status" enum:"pending,approved,returned,superseded"`
	Counts       bool       `json:"counts" doc:"是否为当前计入的有效值"`
	Department   string     `json:"department" doc:"填报部门代码"`
	Submitter    string     `json:"submitter"`
	SubmittedAt  time.Time  `json:"submitted_at"`
	DecidedBy    string     `json:"decided_by,omitempty"`
	DecidedAt    *time.Time `json:"decided_at,omitempty"`
	DecisionNote string     `json:"decision_note,omitempty"`
	Evidence     []Evidence `json:"evidence"`
	Version      int64      `json:"version"`
}

type reportRow struct {
	ID           string     `db:"id"`
	IndicatorID  string     `db:"indicator_id"`
	Region       string     `db:"region_code"`
	Period       string     `db:"period"`
	Seq          int        `db:"seq"`
	Value        int64      `db:"value_e6"`
	Comment      string     `db:"comment"`
	Status       string     `db:"status"`
	Department   string     `db:"department"`
	Submitter    string     `db:"submitter"`
	SubmittedAt  time.Time  `db:"submitted_at"`
	DecidedBy    string     `db:"decided_by"`
	DecidedAt    *time.Time `db:"decided_at"`
	DecisionNote string     `db:"decision_note"`
	Version      int64      `db:"version"`
}

const reportColumns = `id, indicator_id, region_code, period, seq, value_e6, comment, status, department, submitter,
	submitted_at, decided_by, decided_at, decision_note, version`

func (r reportRow) report() Report {
	out := Report{ID: r.ID, IndicatorID: r.IndicatorID, Region: r.Region, Period: r.Period, Seq: r.Seq,
		Value: float64(r.Value) / 1e6, Comment: r.Comment, Status: r.Status, Counts: r.Status == Approved,
		Department: r.Department, Submitter: r.Submitter, SubmittedAt: r.SubmittedAt.UTC(), DecidedBy: r.DecidedBy,
		DecisionNote: r.DecisionNote, Evidence: []Evidence{}, Version: r.Version}
	if r.DecidedAt != nil {
		t := r.DecidedAt.UTC()
		out.DecidedAt = &t
	}
	return out
}

// NewReport is what submitting a value takes. The web form sends its
// evidence files with it; the API attaches them afterwards.
type NewReport struct {
	Region   string         `json:"region" maxLength:"12" doc:"地区代码：340600 全市、县区或园区"`
	Period   string         `json:"period" maxLength:"7" doc:"统计期：2026、2026Q3 或 2026-09"`
	Value    *float64       `json:"value" doc:"数值，单位同指标"`
	Comment  string         `json:"comment" maxLength:"2000" doc:"填报说明：数据来源、口径"`
	Evidence []EvidenceFile `json:"-"`
}

// Decision is the work team's approval or return of a version.
type Decision struct {
	Version int64  `json:"version,omitempty" doc:"读取时的 version；省略则不比对"`
	Note    string `json:"note,omitempty" maxLength:"1000" doc:"审核意见；退回时必填"`
}

// History is the versions of an indicator's reported values for a region,
// newest first, and its effective value per period.
type History struct {
	Items     []Report     `json:"items"`
	Effective []PeriodItem `json:"effective"`
}

// PeriodItem is the effective value of one period.
type PeriodItem struct {
	Period      string    `json:"period"`
	Value       *float64  `json:"value"`
	Numerator   *float64  `json:"numerator"`
	Denominator *float64  `json:"denominator"`
	Source      string    `json:"source" enum:"computed,reported"`
	ReportID    string    `json:"report_id,omitempty"`
	ComputedAt  time.Time `json:"computed_at"`
}

// Submit records a reported value as a pending version, with the evidence
// files it carries, in one transaction.
func (s *Service) Submit(ctx context.Context, p auth.Principal, id string, in NewReport) (Report, error) {
	var out Report
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		ind, err := getIndicator(ctx, tx, id)
		if err != nil {
			return err
		}
		a, err := LoadArea(ctx, tx, "region", strings.TrimSpace(in.Region))
		if err != nil {
			return err
		}
		if ind.Kind == Computed {
			return errs.E(errs.Conflict, "indicator_computed", "该指标由平台根据台账、联单等记录自动计算，无需填报")
		}
		ok, err := mayReport(ctx, tx, p, ind, a)
		if err != nil {
			return err
		}
		if !ok {
			return errs.E(errs.Forbidden, "not_lead_department", "该指标由牵头部门填报")
		}
		var v errs.Validation
		per, perr := ParsePeriod("period", strings.TrimSpace(in.Period))
		if e := fieldsOf(perr); e != nil {
			v.Add(e.Field, e.Code, e.Message)
		}
		if in.Value == nil {
			v.Add("value", "required", "请填写数值")
		} else {
			checkValue(&v, "value", ind.Unit, *in.Value)
		}
		comment := strings.TrimSpace(in.Comment)
		switch {
		case comment == "":
			v.Add("comment", "comment_required", "请填写填报说明（数据来源与口径）")
		case utf8.RuneCountInString(comment) > 2000:
			v.Add("comment", "comment_length", "填报说明最多 2000 字")
		}
		files := checkFiles(&v, "evidence", in.Evidence, 0)
		if err := v.Err(); err != nil {
			return err
		}
		var pending int
		if err := store.Get(ctx, tx, &pending, `SELECT count(*) FROM indicator_reports WHERE indicator_id = ?
			AND region_code = ? AND period = ? AND status = ?`, id, a.Code, per.Code, Pending); err != nil {
			return err
		}
		if pending > 0 {
			return errs.E(errs.Conflict, "report_pending", "该统计期已有待审核的填报，请待专班审核后再报")
		}
		var seq int
		if err := store.Get(ctx, tx, &seq, `SELECT COALESCE(MAX(seq), 0) + 1 FROM indicator_reports
			WHERE indicator_id = ? AND region_code = ? AND period = ?`, id, a.Code, per.Code); err != nil {
			return err
		}
		dep, err := department(ctx, tx, p)
		if err != nil {
			return err
		}
		if dep == "" {
			dep = string(p.Role)
		}
		r := reportRow{ID: uuid.Must(uuid.NewV7()).String(), IndicatorID: id, Region: a.Code, Period: per.Code, Seq: seq,
			Value: toE6(*in.Value), Comment: comment, Status: Pending, Department: dep, Submitter: p.Username,
			SubmittedAt: tx.Now, Version: 1}
		_, err = store.Exec(ctx, tx, `INSERT INTO indicator_reports (id, indicator_id, region_code, period, seq, value_e6,
			comment, status, department, submitted_by, submitter, submitted_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
			r.ID, r.IndicatorID, r.Region, r.Period, r.Seq, r.Value, r.Comment, r.Status, r.Department, p.UserID,
			r.Submitter, tx.Now)
		if errors.Is(err, store.ErrExists) { // another submission took this seq first
			return errs.E(errs.Conflict, "report_pending", "该统计期已有待审核的填报，请待专班审核后再报")
		}
		if err != nil {
			return err
		}
		out = r.report()
		if out.Evidence, err = insertEvidence(ctx, tx, p, r, files); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, p.Actor(), audit.Record{Action: "indicator_report.submit", Entity: "indicator_report",
			EntityID: r.ID, RegionCode: a.Code, Change: out})
		return err
	})
	return out, err
}

func fieldsOf(err error) *errs.FieldError {
	var e *errs.Error
	if errors.As(err, &e) && len(e.Fields) > 0 {
		return &e.Fields[0]
	}
	return nil
}

// Approve makes a pending version the effective value: it counts from now
// on, an earlier approved version of the same period is superseded, and the
// computed indicators that read it are recomputed.
func (s *Service) Approve(ctx context.Context, p auth.Principal, id, reportID string, d Decision) (Report, error) {
	return s.decide(ctx, p, id, reportID, d, Approved)
}

// Return sends a pending version back to its department with the work
// team's reasons; it never counts. The department may submit again.
func (s *Service) Return(ctx context.Context, p auth.Principal, id, reportID string, d Decision) (Report, error) {
	return s.decide(ctx, p, id, reportID, d, Returned)
}

func (s *Service) decide(ctx context.Context, p auth.Principal, id, reportID string, d Decision, to string) (Report, error) {
	var out Report
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		r, a, err := s.visibleReport(ctx, tx, p, id, reportID)
		if err != nil {
			return err
		}
		ok, err := workTeam(ctx, tx, p)
		if err != nil {
			return err
		}
		if !ok {
			return errs.E(errs.Forbidden, "not_work_team", "填报数据由“无废城市”建设工作专班审核")
		}
		note := strings.TrimSpace(d.Note)
		switch {
		case to == Returned && note == "":
			return errs.Field("note", "note_required", "退回须写明理由")
		case utf8.RuneCountInString(note) > 1000:
			return errs.Field("note", "note_length", "审核意见最多 1000 字")
		case r.Status != Pending:
			return errs.E(errs.Conflict, "wrong_status", "只有待审核的填报可以审核")
		case d.Version > 0 && d.Version != r.Version:
			return errs.E(errs.Conflict, "version_conflict", "填报已被他人处理，请刷新后重试")
		}
		evidence, err := listEvidence(ctx, tx, r.ID)
		if err != nil {
			return err
		}
		if to == Approved && len(evidence) == 0 {
			return errs.E(errs.Conflict, "evidence_required", "须附证明材料后方可审核通过")
		}
		n, err := store.Exec(ctx, tx, `UPDATE indicator_reports SET status = ?, decided_by = ?, decided_at = ?,
			decision_note = ?, version = version + 1 WHERE id = ? AND version = ? AND status = ?`,
			to, p.Username, tx.Now, note, r.ID, r.Version, Pending)
		if err != nil {
			return err
		}
		if n == 0 {
			return errs.E(errs.Conflict, "version_conflict", "填报已被他人处理，请刷新后重试")
		}
		r.Status, r.DecidedBy, r.DecidedAt, r.DecisionNote, r.Version = to, p.Username, &tx.Now, note, r.Version+1
		if to == Approved {
			if err := s.makeEffective(ctx, tx, r, a); err != nil {
				return err
			}
		}
		out = r.report()
		out.Evidence = evidence
		action := "indicator_report.approve"
		if to == Returned {
			action = "indicator_report.return"
		}
		_, err = audit.Append(ctx, tx, p.Actor(), audit.Record{Action: action, Entity: "indicator_report", EntityID: r.ID,
			RegionCode: r.Region, Change: map[string]any{"status": to, "note": note, "value": out.Value, "period": r.Period}})
		return err
	})
	return out, err
}

// makeEffective writes an approved version into indicator_values.
func (s *Service) makeEffective(ctx context.Context, tx *store.Tx, r reportRow, a Area) error {
	if _, err := store.Exec(ctx, tx, `UPDATE indicator_reports SET status = ?, version = version + 1
		WHERE indicator_id = ? AND region_code = ? AND period = ? AND status = ? AND id <> ?`,
		Superseded, r.IndicatorID, r.Region, r.Period, Approved, r.ID); err != nil {
		return err
	}
	per, err := ParsePeriod("period", r.Period)
	if err != nil {
		return err
	}
	if _, err := store.Exec(ctx, tx, `INSERT INTO indicator_values (indicator_id, region_code, period, period_kind, year,
		value_e6, numerator_e6, denominator_e6, source, report_id, computed_at) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?, ?)
		ON CONFLICT (indicator_id, region_code, period) DO UPDATE SET value_e6 = excluded.value_e6,
		numerator_e6 = NULL, denominator_e6 = NULL, source = excluded.source, report_id = excluded.report_id,
		computed_at = excluded.computed_at`,
		r.IndicatorID, r.Region, r.Period, per.Kind, per.Year, r.Value, valueSourceReported, r.ID, tx.Now); err != nil {
		return err
	}
	if r.IndicatorID == "industrial_output_value" {
		return refreshTx(ctx, tx, a, per, "ihw_generation_intensity")
	}
	return nil
}

// visibleReport reads a version the principal may see: the approved ones
// for everyone, the others for those who oversee its region.
func (s *Service) visibleReport(ctx context.Context, q store.Querier, p auth.Principal, id, reportID string) (reportRow, Area, error) {
	var r reportRow
	err := store.Get(ctx, q, &r, `SELECT `+reportColumns+` FROM indicator_reports WHERE id = ? AND indicator_id = ?`,
		reportID, id)
	notFound := errs.E(errs.NotFound, "report_not_found", "填报记录不存在或无权查看")
	if errors.Is(err, store.ErrNotFound) {
		return r, Area{}, notFound
	}
	if err != nil {
		return r, Area{}, err
	}
	a, err := LoadArea(ctx, q, "region", r.Region)
	if err != nil {
		return r, Area{}, err
	}
	ok, err := oversees(ctx, q, p, a)
	if err != nil {
		return r, Area{}, err
	}
	if !ok && r.Status != Approved && r.Status != Superseded {
		return r, Area{}, notFound
	}
	return r, a, nil
}

// History lists an indicator's versions for a region, newest first, and its
// effective value per period. Pending and returned versions and evidence
// are listed for those who oversee the region.
func (s *Service) History(ctx context.Context, p auth.Principal, id, region string) (History, error) {
	q := s.db.Reader()
	if !p.Role.Valid() {
		return History{}, errs.E(errs.Unauthorized, "unauthenticated", "请先登录")
	}
	if _, err := getIndicator(ctx, q, id); err != nil {
		return History{}, err
	}
	if region == "" {
		region = cityCode
	}
	a, err := LoadArea(ctx, q, "region", region)
	if err != nil {
		return History{}, err
	}
	full, err := oversees(ctx, q, p, a)
	if err != nil {
		return History{}, err
	}
	query := `SELECT ` + reportColumns + ` FROM indicator_reports WHERE indicator_id = ? AND region_code = ?`
	args := []any{id, a.Code}
	if !full {
		query += ` AND status IN (?, ?)`
		args = append(args, Approved, Superseded)
	}
	var rows []reportRow
	if err := store.Select(ctx, q, &rows, query+` ORDER BY submitted_at DESC, id DESC`, args...); err != nil {
		return History{}, err
	}
	h := History{Items: make([]Report, len(rows)), Effective: []PeriodItem{}}
	for i, r := range rows {
		h.Items[i] = r.report()
		if full {
			if h.Items[i].Evidence, err = listEvidence(ctx, q, r.ID); err != nil {
				return History{}, err
			}
		}
	}
	var vs []struct {
		storedValue
		ReportID string `db:"report_id"`
	}
	if err := store.Select(ctx, q, &vs, `SELECT indicator_id, period, period_kind, year, value_e6, numerator_e6,
		denominator_e6, source, computed_at, report_id FROM indicator_values WHERE indicator_id = ? AND region_code = ?
		ORDER BY year DESC, period DESC`, id, a.Code); err != nil {
		return History{}, err
	}
	for _, v := range vs {
		h.Effective = append(h.Effective, PeriodItem{Period: v.Period, Value: fromE6(v.Value), Numerator: fromE6(v.Numerator),
			Denominator: fromE6(v.Denominator), Source: v.Source, ReportID: v.ReportID, ComputedAt: v.ComputedAt.UTC()})
	}
	return h, nil
}
