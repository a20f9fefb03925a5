package plan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"wufei/internal/calendar"

	"github.com/google/uuid"

	"wufei/internal/alerts"
	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/hw/ledger"
	"wufei/internal/qty"
	"wufei/internal/store"
)

// Declaration statuses as stored.
const (
	DeclDraft     = "draft"
	DeclSubmitted = "submitted"
)

// Period statuses in a unit's declaration schedule.
const (
	NotDue    = "not_due"   // the period has not ended
	Due       = "due"       // ended, due date not passed, nothing submitted
	Overdue   = "overdue"   // due date passed, nothing submitted
	Submitted = "submitted" // submitted by the due date
	Late      = "late"      // submitted after it
)

// DeclarationLine is one waste code's figures for the period, in tonnes.
type DeclarationLine struct {
	WasteCode   string  `json:"waste_code"`
	OpeningT    float64 `json:"opening_t" doc:"期初贮存量"`
	GeneratedT  float64 `json:"generated_t" doc:"产生量"`
	StoredInT   float64 `json:"stored_in_t" doc:"入库量"`
	StoredOutT  float64 `json:"stored_out_t" doc:"出库量"`
	InHouseT    float64 `json:"in_house_t" doc:"自行利用/处置量"`
	OutsourcedT float64 `json:"outsourced_t" doc:"委外利用/处置量"`
	ClosingT    float64 `json:"closing_t" doc:"期末贮存量"`
}

// Declaration is a unit's declaration (申报) for one period.
type Declaration struct {
	ID          string            `json:"id"`
	UnitID      string            `json:"unit_id"`
	Period      string            `json:"period"`
	Kind        string            `json:"kind" enum:"monthly,quarterly,yearly"`
	Year        int               `json:"year"`
	From        time.Time         `json:"from"`
	To          time.Time         `json:"to"`
	DueDate     string            `json:"due_date" doc:"截止日（YYYY-MM-DD，北京时间）"`
	DueAt       time.Time         `json:"due_at"`
	Status      string            `json:"status" enum:"draft,submitted"`
	Late        bool              `json:"late"`
	Lines       []DeclarationLine `json:"lines"`
	CompiledAt  time.Time         `json:"compiled_at"`
	SubmittedAt *time.Time        `json:"submitted_at,omitempty"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
	Version     int64             `json:"version"`
}

// PeriodStatus is one period of a unit's declaration schedule.
type PeriodStatus struct {
	Period
	DueDate       string     `json:"due_date" doc:"截止日（YYYY-MM-DD，北京时间）"`
	DueAt         time.Time  `json:"due_at"`
	Status        string     `json:"status" enum:"not_due,due,overdue,submitted,late"`
	DeclarationID string     `json:"declaration_id,omitempty"`
	Draft         bool       `json:"draft" doc:"已生成草稿尚未提交"`
	SubmittedAt   *time.Time `json:"submitted_at,omitempty"`
}

// Schedule is what a unit owes for a year and where each declaration stands.
type Schedule struct {
	UnitID    string         `json:"unit_id"`
	Year      int            `json:"year"`
	Class     string         `json:"class" enum:"key,simplified,registered"`
	ClassName string         `json:"class_name"`
	Items     []PeriodStatus `json:"items"`
}

type declRow struct {
	ID          string     `db:"id"`
	UnitID      string     `db:"unit_id"`
	RegionCode  string     `db:"region_code"`
	Period      string     `db:"period"`
	Kind        string     `db:"kind"`
	Year        int        `db:"year"`
	From        time.Time  `db:"period_from"`
	To          time.Time  `db:"period_to"`
	DueAt       time.Time  `db:"due_at"`
	Status      string     `db:"status"`
	Late        bool       `db:"late"`
	CompiledAt  time.Time  `db:"compiled_at"`
	SubmittedAt *time.Time `db:"submitted_at"`
	CreatedAt   time.Time  `db:"created_at"`
	UpdatedAt   time.Time  `db:"updated_at"`
	Version     int64      `db:"version"`
}

const declColumns = `d.id, d.unit_id, d.region_code, d.period, d.kind, d.year, d.period_from, d.period_to, d.due_at,
	d.status, d.late, d.compiled_at, d.submitted_at, d.created_at, d.updated_at, d.version`

type totalsRow struct {
	WasteCode   string `db:"waste_code"`
	OpeningG    int64  `db:"opening_g"`
	GeneratedG  int64  `db:"generated_g"`
	StoredInG   int64  `db:"stored_in_g"`
	StoredOutG  int64  `db:"stored_out_g"`
	InHouseG    int64  `db:"in_house_g"`
	OutsourcedG int64  `db:"outsourced_g"`
	ClosingG    int64  `db:"closing_g"`
}

var errDeclNotFound = errs.E(errs.NotFound, "declaration_not_found", "申报不存在或无权查看")

// Compile compiles the declaration of a unit (the caller's own by default)
// for an ended period from the ledger, as a draft. Compiling again replaces
// the draft's figures; a submitted declaration is not compiled again.
func (s *Service) Compile(ctx context.Context, p auth.Principal, unitID, period string) (Declaration, error) {
	per, err := ParsePeriod(period)
	if err != nil {
		return Declaration{}, err
	}
	if unitID == "" {
		unitID = p.UnitID
	}
	if unitID == "" {
		return Declaration{}, errs.Field("unit_id", "required", "请指定单位")
	}
	var out Declaration
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		u, err := visibleUnit(ctx, tx, p, unitID)
		if err != nil {
			return err
		}
		if !canFile(p, unitID) {
			return errs.E(errs.Forbidden, "forbidden", "申报由单位自行填报")
		}
		if tx.Now.Before(per.To) {
			return errs.Field("period", "period_not_ended", "申报期尚未结束")
		}
		rules, err := LoadRules(ctx, tx)
		if err != nil {
			return err
		}
		lines, err := s.compile(ctx, tx, unitID, per)
		if err != nil {
			return err
		}
		var r declRow
		err = store.Get(ctx, tx, &r, `SELECT `+declColumns+` FROM declarations d WHERE d.unit_id = ? AND d.period = ?`,
			unitID, per.Key)
		switch {
		case errors.Is(err, store.ErrNotFound):
			r = declRow{ID: uuid.Must(uuid.NewV7()).String(), UnitID: unitID, RegionCode: u.RegionCode, Period: per.Key,
				Kind: per.Kind, Year: per.Year, From: per.From, To: per.To, DueAt: rules.Due(per), Status: DeclDraft,
				CompiledAt: tx.Now, CreatedAt: tx.Now, UpdatedAt: tx.Now, Version: 1}
			_, err = store.Exec(ctx, tx, `INSERT INTO declarations (id, unit_id, region_code, period, kind, year, period_from,
				period_to, due_at, status, late, compiled_at, created_at, updated_at, version)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`, r.ID, r.UnitID, r.RegionCode, r.Period, r.Kind, r.Year,
				r.From, r.To, r.DueAt, r.Status, false, r.CompiledAt, r.CreatedAt, r.UpdatedAt)
			if errors.Is(err, store.ErrExists) { // compiled at the same moment by another account of the unit
				err = errs.E(errs.Conflict, "version_conflict", "该期申报正由他人生成，请刷新后重试")
			}
		case err != nil:
		case r.Status == DeclSubmitted:
			return errs.E(errs.Conflict, "declaration_submitted", "该期申报已提交，不能重新生成")
		default:
			r.DueAt, r.CompiledAt, r.UpdatedAt, r.Version = rules.Due(per), tx.Now, tx.Now, r.Version+1
			var n int64
			n, err = store.Exec(ctx, tx, `UPDATE declarations SET due_at = ?, compiled_at = ?, updated_at = ?, version = ?
				WHERE id = ? AND version = ?`, r.DueAt, r.CompiledAt, r.UpdatedAt, r.Version, r.ID, r.Version-1)
			if err == nil && n != 1 {
				err = errs.E(errs.Conflict, "version_conflict", "该申报已被他人修改，请刷新后重试")
			}
		}
		if err != nil {
			return err
		}
		if err := writeDeclLines(ctx, tx, r.ID, lines); err != nil {
			return err
		}
		out = r.build(lines)
		_, err = audit.Append(ctx, tx, p.Actor(), audit.Record{Action: "declaration.compile", Entity: "declaration",
			EntityID: r.ID, UnitID: r.UnitID, RegionCode: r.RegionCode, Change: out})
		return err
	})
	return out, err
}

// SubmitDeclaration submits a draft declaration. Its figures are compiled
// again from the ledger: if they no longer match the draft the unit reviewed,
// it must compile again first, so what is submitted is both reviewed and
// current. The submitted figures are frozen; after the due date the
// declaration is marked late, and its declaration_overdue alert, if any, is
// closed. version 0 skips the version check.
func (s *Service) SubmitDeclaration(ctx context.Context, p auth.Principal, id string, version int64) (Declaration, error) {
	var out Declaration
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		r, lines, err := loadDecl(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if !canFile(p, r.UnitID) {
			return errs.E(errs.Forbidden, "forbidden", "申报由单位自行提交")
		}
		switch {
		case r.Status != DeclDraft:
			return wrongStatus("该期申报已提交")
		case version != 0 && version != r.Version:
			return errs.E(errs.Conflict, "version_conflict", "该申报已被他人修改，请刷新后重试")
		}
		per, err := ParsePeriod(r.Period)
		if err != nil {
			return err
		}
		current, err := s.compile(ctx, tx, r.UnitID, per)
		if err != nil {
			return err
		}
		if !slices.Equal(current, lines) {
			return errs.E(errs.Conflict, "declaration_stale", "台账已有变化，请重新生成申报草稿、核对后再提交")
		}
		r.Status, r.SubmittedAt, r.Late = DeclSubmitted, &tx.Now, !tx.Now.Before(r.DueAt)
		r.UpdatedAt, r.Version = tx.Now, r.Version+1
		n, err := store.Exec(ctx, tx, `UPDATE declarations SET status = ?, submitted_at = ?, late = ?, updated_at = ?,
			version = ? WHERE id = ? AND version = ?`, r.Status, r.SubmittedAt, r.Late, r.UpdatedAt, r.Version, r.ID, r.Version-1)
		if err != nil {
			return err
		}
		if n != 1 {
			return errs.E(errs.Conflict, "version_conflict", "该申报已被他人修改，请刷新后重试")
		}
		note := "已提交申报"
		if r.Late {
			note = "已逾期提交申报"
		}
		if _, err := alerts.Resolve(ctx, tx, "declaration_overdue", "declaration", r.UnitID+"/"+r.Period, note); err != nil {
			return err
		}
		out = r.build(lines)
		_, err = audit.Append(ctx, tx, p.Actor(), audit.Record{Action: "declaration.submit", Entity: "declaration",
			EntityID: r.ID, UnitID: r.UnitID, RegionCode: r.RegionCode, Change: out})
		return err
	})
	return out, err
}

// GetDeclaration returns a declaration the principal may see.
func (s *Service) GetDeclaration(ctx context.Context, p auth.Principal, id string) (Declaration, error) {
	r, lines, err := loadDecl(ctx, s.db.Reader(), p, id)
	if err != nil {
		return Declaration{}, err
	}
	return r.build(lines), nil
}

// Schedule lists the periods a unit (the caller's own by default) owes
// declarations for in year, by its class for that year, with their due dates
// and where each stands at now. Declarations made for other periods are
// listed too.
func (s *Service) Schedule(ctx context.Context, p auth.Principal, unitID string, year int, now time.Time) (Schedule, error) {
	if unitID == "" {
		unitID = p.UnitID
	}
	if unitID == "" {
		return Schedule{}, errs.Field("unit_id", "required", "请指定单位")
	}
	if year == 0 {
		year = yearOf(now)
	}
	if err := checkYear("year", year); err != nil {
		return Schedule{}, err
	}
	q := s.db.Reader()
	if _, err := visibleUnit(ctx, q, p, unitID); err != nil {
		return Schedule{}, err
	}
	class, err := Class(ctx, q, unitID, year)
	if err != nil {
		return Schedule{}, err
	}
	rules, err := LoadRules(ctx, q)
	if err != nil {
		return Schedule{}, err
	}
	var made []declRow
	if err := store.Select(ctx, q, &made, `SELECT `+declColumns+` FROM declarations d WHERE d.unit_id = ? AND d.year = ?`,
		unitID, year); err != nil {
		return Schedule{}, err
	}
	byKey := map[string]declRow{}
	for _, d := range made {
		byKey[d.Period] = d
	}
	periods := Periods(class.Class, year)
	for _, d := range made {
		if !slices.ContainsFunc(periods, func(p Period) bool { return p.Key == d.Period }) {
			if per, err := ParsePeriod(d.Period); err == nil {
				periods = append(periods, per)
			}
		}
	}
	slices.SortStableFunc(periods, func(a, b Period) int {
		if c := a.To.Compare(b.To); c != 0 {
			return c
		}
		return b.From.Compare(a.From) // a month before its quarter, a quarter before its year
	})
	sc := Schedule{UnitID: unitID, Year: year, Class: class.Class, ClassName: class.ClassName, Items: []PeriodStatus{}}
	for _, per := range periods {
		ps := PeriodStatus{Period: per, DueDate: rules.DueDate(per), DueAt: rules.Due(per)}
		d, ok := byKey[per.Key]
		if ok {
			ps.DeclarationID, ps.Draft, ps.DueAt, ps.SubmittedAt = d.ID, d.Status == DeclDraft, d.DueAt, d.SubmittedAt
			ps.DueDate = d.DueAt.Add(-time.Nanosecond).In(calendar.Zone).Format(time.DateOnly)
		}
		switch {
		case ok && d.Status == DeclSubmitted && d.Late:
			ps.Status = Late
		case ok && d.Status == DeclSubmitted:
			ps.Status = Submitted
		case now.Before(per.To):
			ps.Status = NotDue
		case now.Before(ps.DueAt):
			ps.Status = Due
		default:
			ps.Status = Overdue
		}
		sc.Items = append(sc.Items, ps)
	}
	return sc, nil
}

// CheckDue is the time-based rule for declarations: for every active unit
// with the generator role, each period of this year and last (since the unit
// was registered) whose due date has passed at now without a submitted
// declaration raises declaration_overdue for the unit and its regulators.
// A period is alerted once, even after the alert is closed. It returns how
// many alerts it raised.
func CheckDue(ctx context.Context, db *store.DB, now time.Time) (int, error) {
	q := db.Reader()
	rules, err := LoadRules(ctx, q)
	if err != nil {
		return 0, err
	}
	var units []struct {
		ID         string    `db:"id"`
		Name       string    `db:"name"`
		RegionCode string    `db:"region_code"`
		CreatedAt  time.Time `db:"created_at"`
	}
	if err := store.Select(ctx, q, &units, `SELECT u.id, u.name, u.region_code, u.created_at FROM units u
		WHERE u.status = 'active' AND EXISTS (SELECT 1 FROM unit_roles r WHERE r.unit_id = u.id AND r.role = 'generator')
		ORDER BY u.id`); err != nil {
		return 0, err
	}
	thisYear := yearOf(now)
	var done []struct {
		UnitID string `db:"unit_id"`
		Period string `db:"period"`
	}
	if err := store.Select(ctx, q, &done, `SELECT unit_id, period FROM declarations WHERE status = ? AND year >= ?`,
		DeclSubmitted, thisYear-1); err != nil {
		return 0, err
	}
	var alerted []string
	if err := store.Select(ctx, q, &alerted, `SELECT subject_id FROM alerts WHERE kind = 'declaration_overdue'
		AND subject = 'declaration'`); err != nil {
		return 0, err
	}
	skip := map[string]bool{}
	for _, d := range done {
		skip[d.UnitID+"/"+d.Period] = true
	}
	for _, a := range alerted {
		skip[a] = true
	}
	raised := 0
	for _, u := range units {
		var owed []Period
		for year := max(thisYear-1, yearOf(u.CreatedAt)); year <= thisYear; year++ {
			class, err := Class(ctx, q, u.ID, year)
			if err != nil {
				return raised, err
			}
			for _, per := range Periods(class.Class, year) {
				if per.To.After(u.CreatedAt) && !now.Before(rules.Due(per)) && !skip[u.ID+"/"+per.Key] {
					owed = append(owed, per)
				}
			}
		}
		if len(owed) == 0 {
			continue
		}
		err := db.Tx(ctx, func(tx *store.Tx) error {
			for _, per := range owed {
				due := rules.Due(per)
				if _, err := alerts.Raise(ctx, tx, alerts.Alert{Kind: "declaration_overdue", Severity: alerts.Warning,
					Title: fmt.Sprintf("危险废物%s逾期未提交：%s", kindNames[per.Kind], per.Key),
					Detail: fmt.Sprintf("%s 的 %s %s截止日为 %s，至今未提交。", u.Name, per.Key, kindNames[per.Kind],
						rules.DueDate(per)),
					Subject: "declaration", SubjectID: u.ID + "/" + per.Key, SubjectRef: per.Key, RegionCode: u.RegionCode,
					UnitIDs: []string{u.ID}, DueAt: &due}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return raised, err
		}
		raised += len(owed)
	}
	return raised, nil
}

var kindNames = map[string]string{Monthly: "月度申报", Quarterly: "季度申报", Yearly: "年度申报"}

// compile reads the ledger totals for the period and turns them into lines,
// ordered by waste code, leaving out codes with nothing to report.
func (s *Service) compile(ctx context.Context, tx *store.Tx, unitID string, per Period) ([]totalsRow, error) {
	ts, err := ledger.PeriodTotals(ctx, tx, unitID, per.From, per.To)
	if err != nil {
		return nil, err
	}
	rows := []totalsRow{}
	for _, t := range ts {
		r := totalsRow{WasteCode: t.WasteCode, OpeningG: t.OpeningG, GeneratedG: t.GeneratedG, StoredInG: t.StoredInG,
			StoredOutG: t.StoredOutG, InHouseG: t.InHouseG, OutsourcedG: t.OutsourcedG, ClosingG: t.ClosingG}
		if r == (totalsRow{WasteCode: r.WasteCode}) {
			continue
		}
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b totalsRow) int { return strings.Compare(a.WasteCode, b.WasteCode) })
	return rows, nil
}

func writeDeclLines(ctx context.Context, tx *store.Tx, id string, lines []totalsRow) error {
	if _, err := store.Exec(ctx, tx, `DELETE FROM declaration_lines WHERE declaration_id = ?`, id); err != nil {
		return err
	}
	for _, l := range lines {
		if _, err := store.Exec(ctx, tx, `INSERT INTO declaration_lines (declaration_id, waste_code, opening_g, generated_g,
			stored_in_g, stored_out_g, in_house_g, outsourced_g, closing_g) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, l.WasteCode, l.OpeningG, l.GeneratedG, l.StoredInG, l.StoredOutG, l.InHouseG, l.OutsourcedG, l.ClosingG); err != nil {
			if errors.Is(err, store.ErrExists) {
				return fmt.Errorf("plan: ledger totals name %s twice", l.WasteCode)
			}
			return err
		}
	}
	return nil
}

func loadDecl(ctx context.Context, q store.Querier, p auth.Principal, id string) (declRow, []totalsRow, error) {
	cond, args := unitScope(p)
	var r declRow
	err := store.Get(ctx, q, &r, `SELECT `+declColumns+` FROM declarations d JOIN units u ON u.id = d.unit_id
		WHERE d.id = ? AND `+cond, append([]any{id}, args...)...)
	if errors.Is(err, store.ErrNotFound) {
		return r, nil, errDeclNotFound
	}
	if err != nil {
		return r, nil, err
	}
	lines := []totalsRow{}
	err = store.Select(ctx, q, &lines, `SELECT waste_code, opening_g, generated_g, stored_in_g, stored_out_g, in_house_g,
		outsourced_g, closing_g FROM declaration_lines WHERE declaration_id = ? ORDER BY waste_code`, id)
	return r, lines, err
}

func (r declRow) build(lines []totalsRow) Declaration {
	d := Declaration{ID: r.ID, UnitID: r.UnitID, Period: r.Period, Kind: r.Kind, Year: r.Year, From: r.From, To: r.To,
		DueDate: r.DueAt.Add(-time.Nanosecond).In(calendar.Zone).Format(time.DateOnly), DueAt: r.DueAt, Status: r.Status,
		Late: r.Late, Lines: make([]DeclarationLine, len(lines)), CompiledAt: r.CompiledAt, SubmittedAt: r.SubmittedAt,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Version: r.Version}
	for i, l := range lines {
		d.Lines[i] = DeclarationLine{WasteCode: l.WasteCode, OpeningT: qty.Tonnes(l.OpeningG), GeneratedT: qty.Tonnes(l.GeneratedG),
			StoredInT: qty.Tonnes(l.StoredInG), StoredOutT: qty.Tonnes(l.StoredOutG), InHouseT: qty.Tonnes(l.InHouseG),
			OutsourcedT: qty.Tonnes(l.OutsourcedG), ClosingT: qty.Tonnes(l.ClosingG)}
	}
	return d
}
