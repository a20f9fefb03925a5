// Package cell is the zero-waste cells (无废细胞) of plan 二(三)8: an
// applicant unit applies for a type (a 节约型机关, 无废景区, 绿色学校, 无废社区
// …), an evaluator of the work team or of the type's lead department scores it
// against the type's checklist, and it is certified with a certificate date
// when the weighted score reaches the type's pass mark, or returned with
// reasons; a certification can be withdrawn. Certified cells by region and
// year are the zero_waste_cells indicator.
package cell

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/paging"
	"wufei/internal/program/task"
	"wufei/internal/store"
)

// Statuses of a cell.
const (
	Applied   = "applied"   // 已申报
	Scored    = "scored"    // 已评分
	Certified = "certified" // 已命名
	Returned  = "returned"  // 已退回
	Withdrawn = "withdrawn" // 已撤销
)

// Statuses lists every status.
var Statuses = []string{Applied, Scored, Certified, Returned, Withdrawn}

// Cell is one application for, or holder of, a zero-waste cell title.
type Cell struct {
	ID          string     `db:"id" json:"id"`
	Type        string     `db:"type" json:"type"`
	TypeName    string     `db:"type_name" json:"type_name"`
	Name        string     `db:"name" json:"name"`
	UnitID      string     `db:"unit_id" json:"unit_id"`
	UnitName    string     `db:"unit_name" json:"unit_name"`
	RegionCode  string     `db:"region_code" json:"region_code"`
	ParkCode    string     `db:"park_code" json:"park_code,omitempty"`
	Address     string     `db:"address" json:"address"`
	Description string     `db:"description" json:"description"`
	Status      string     `db:"status" json:"status" enum:"applied,scored,certified,returned,withdrawn"`
	Score       *float64   `db:"score" json:"score,omitempty" doc:"加权总分（百分制）"`
	PassMark    float64    `db:"pass_mark" json:"pass_mark"`
	Reason      string     `db:"reason" json:"reason" doc:"退回或撤销的原因"`
	AppliedAt   time.Time  `db:"applied_at" json:"applied_at"`
	ScoredAt    *time.Time `db:"scored_at" json:"scored_at,omitempty"`
	CertifiedAt *time.Time `db:"certified_at" json:"certified_at,omitempty" doc:"命名日期（UTC 零点）"`
	Certificate string     `db:"-" json:"certificate_date,omitempty" doc:"命名日期 YYYY-MM-DD"`
	WithdrawnAt *time.Time `db:"withdrawn_at" json:"withdrawn_at,omitempty"`
	CreatedAt   time.Time  `db:"created_at" json:"created_at"`
	UpdatedAt   time.Time  `db:"updated_at" json:"updated_at"`
	Version     int64      `db:"version" json:"version"`
}

// Line is one criterion of a cell's checklist with the score it was given.
type Line struct {
	Criterion
	Score    *float64   `json:"score,omitempty"`
	Note     string     `json:"note,omitempty"`
	ScoredBy string     `json:"scored_by,omitempty"`
	ScoredAt *time.Time `json:"scored_at,omitempty"`
}

// Detail is a cell with its type's checklist and the scores given.
type Detail struct {
	Cell
	Checklist []Line `json:"checklist"`
}

// NewCell is what an application takes.
type NewCell struct {
	Type        string `json:"type" maxLength:"40" doc:"类型代码，见 /api/v1/cell-types"`
	Name        string `json:"name" maxLength:"200" doc:"创建对象名称，如某某社区"`
	UnitID      string `json:"unit_id,omitempty" maxLength:"40" doc:"申报单位；单位账号不填即本单位"`
	Address     string `json:"address,omitempty" maxLength:"200"`
	Description string `json:"description,omitempty" maxLength:"2000" doc:"创建情况"`
}

// Entry is one score an evaluator gives.
type Entry struct {
	Criterion string  `json:"criterion" maxLength:"40" doc:"细则代码"`
	Score     float64 `json:"score" doc:"得分，0 至该项满分"`
	Note      string  `json:"note,omitempty" maxLength:"500"`
}

// Sheet is a set of scores given at once.
type Sheet struct {
	Scores  []Entry `json:"scores" minItems:"1" maxItems:"40"`
	Version int64   `json:"version,omitempty" minimum:"1" doc:"读取时的 version；不填不校验"`
}

// Service runs the cells' use cases.
type Service struct{ db *store.DB }

// NewService returns a Service on db.
func NewService(db *store.DB) *Service { return &Service{db: db} }

// Page is one page of cells.
type Page = paging.Page[Cell]

// scope limits cells to those p may see, as units are limited: everything
// for admins and city-wide regulators, a region's or park's cells for its
// regulators, a unit's own cells for its accounts.
func scope(p auth.Principal) (string, []any) {
	switch {
	case p.SeesAllRegions():
		return "1 = 1", nil
	case p.Role == auth.Regulator || (p.Role == auth.Viewer && p.RegionCode != ""):
		return "(c.region_code = ? OR c.park_code = ?)", []any{p.RegionCode, p.RegionCode}
	case p.Role.BoundToUnit():
		return "c.unit_id = ?", []any{p.UnitID}
	}
	return "1 = 0", nil
}

const cellColumns = `c.id, c.type, ct.name AS type_name, c.name, c.unit_id, u.name AS unit_name, c.region_code,
	COALESCE(c.park_code, '') AS park_code, c.address, c.description, c.status, c.score, ct.pass_mark, c.reason,
	c.applied_at, c.scored_at, c.certified_at, c.withdrawn_at, c.created_at, c.updated_at, c.version`

const cellFrom = ` FROM cells c JOIN cell_types ct ON ct.code = c.type JOIN units u ON u.id = c.unit_id`

func (c *Cell) derive() {
	if c.CertifiedAt != nil {
		c.Certificate = c.CertifiedAt.UTC().Format(time.DateOnly)
	}
}

// Filter narrows the list of cells.
type Filter struct {
	Status string
	Type   string
	Region string // a county or park code
	UnitID string
	Limit  int
	After  string // cursor
}

// List lists the cells p may see in the order they were filed (by id, which
// is time-ordered), a page at a time.
func (s *Service) List(ctx context.Context, p auth.Principal, f Filter) (Page, error) {
	cond, args := scope(p)
	where := []string{cond}
	if f.Status != "" {
		where = append(where, "c.status = ?")
		args = append(args, f.Status)
	}
	if f.Type != "" {
		where = append(where, "c.type = ?")
		args = append(args, f.Type)
	}
	if f.Region != "" {
		where = append(where, "(c.region_code = ? OR c.park_code = ?)")
		args = append(args, f.Region, f.Region)
	}
	if f.UnitID != "" {
		where = append(where, "c.unit_id = ?")
		args = append(args, f.UnitID)
	}
	limit, after, err := paging.Args(f.Limit, f.After)
	if err != nil {
		return Page{}, err
	}
	if after != "" {
		where = append(where, "c.id > ?")
		args = append(args, after)
	}
	var items []Cell
	if err := store.Select(ctx, s.db.Reader(), &items, `SELECT `+cellColumns+cellFrom+` WHERE `+strings.Join(where, " AND ")+
		` ORDER BY c.id LIMIT `+strconv.Itoa(limit+1), args...); err != nil {
		return Page{}, err
	}
	for i := range items {
		items[i].derive()
	}
	return paging.Of(items, limit, func(c Cell) string { return c.ID }), nil
}

// getCell reads a cell p may see; one outside p's scope is not found.
func getCell(ctx context.Context, q store.Querier, p auth.Principal, id string) (Cell, error) {
	cond, args := scope(p)
	var c Cell
	err := store.Get(ctx, q, &c, `SELECT `+cellColumns+cellFrom+` WHERE c.id = ? AND `+cond, append([]any{id}, args...)...)
	if errors.Is(err, store.ErrNotFound) {
		return c, errs.E(errs.NotFound, "cell_not_found", "无废细胞不存在")
	}
	c.derive()
	return c, err
}

// Get returns a cell with its checklist and scores.
func (s *Service) Get(ctx context.Context, p auth.Principal, id string) (Detail, error) {
	return detail(ctx, s.db.Reader(), p, id)
}

func detail(ctx context.Context, q store.Querier, p auth.Principal, id string) (Detail, error) {
	c, err := getCell(ctx, q, p, id)
	if err != nil {
		return Detail{}, err
	}
	t, err := getType(ctx, q, c.Type)
	if err != nil {
		return Detail{}, err
	}
	var scores []struct {
		Criterion string    `db:"criterion_code"`
		Score     float64   `db:"score"`
		Note      string    `db:"note"`
		ScoredBy  string    `db:"scored_by"`
		ScoredAt  time.Time `db:"scored_at"`
	}
	if err := store.Select(ctx, q, &scores, `SELECT criterion_code, score, note, scored_by, scored_at FROM cell_scores
		WHERE cell_id = ?`, id); err != nil {
		return Detail{}, err
	}
	d := Detail{Cell: c, Checklist: make([]Line, len(t.Criteria))}
	for i, cr := range t.Criteria {
		d.Checklist[i] = Line{Criterion: cr}
		for _, sc := range scores {
			if sc.Criterion == cr.Code {
				sc := sc
				d.Checklist[i].Score, d.Checklist[i].Note, d.Checklist[i].ScoredBy = &sc.Score, sc.Note, sc.ScoredBy
				d.Checklist[i].ScoredAt = &sc.ScoredAt
			}
		}
	}
	return d, nil
}

// Apply files an application for a unit: by its unit admin, or by an admin
// naming the unit.
func (s *Service) Apply(ctx context.Context, p auth.Principal, in NewCell) (Detail, error) {
	var out Detail
	in.Name, in.Address, in.Description = strings.TrimSpace(in.Name), strings.TrimSpace(in.Address), strings.TrimSpace(in.Description)
	unitID := strings.TrimSpace(in.UnitID)
	switch {
	case p.Role == auth.UnitAdmin && (unitID == "" || unitID == p.UnitID):
		unitID = p.UnitID
	case p.Role == auth.UnitAdmin:
		return out, errs.Field("unit_id", "unit_not_own", "只能为本单位申报")
	case p.Role == auth.Admin:
		if unitID == "" {
			return out, errs.Field("unit_id", "unit_required", "请指定申报单位")
		}
	default:
		return out, errs.E(errs.Forbidden, "forbidden", "只有单位管理员可以申报无废细胞")
	}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var v errs.Validation
		if _, err := getType(ctx, tx, in.Type); err != nil {
			if errs.KindOf(err) != errs.NotFound {
				return err
			}
			v.Add("type", "cell_type_unknown", "无废细胞类型不存在")
		}
		if in.Name == "" || utf8.RuneCountInString(in.Name) > 200 {
			v.Add("name", "name_length", "请填写创建对象名称（不超过 200 字）")
		}
		if utf8.RuneCountInString(in.Address) > 200 {
			v.Add("address", "address_length", "地址不超过 200 字")
		}
		if utf8.RuneCountInString(in.Description) > 2000 {
			v.Add("description", "description_length", "创建情况不超过 2000 字")
		}
		var u struct {
			Region string `db:"region_code"`
			Park   string `db:"park_code"`
			Status string `db:"status"`
			Addr   string `db:"address"`
		}
		err := store.Get(ctx, tx, &u, `SELECT region_code, COALESCE(park_code, '') AS park_code, status, address FROM units
			WHERE id = ?`, unitID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			v.Add("unit_id", "unit_not_found", "单位不存在")
		case err != nil:
			return err
		case u.Status != "active":
			v.Add("unit_id", "unit_inactive", "单位不是正常状态")
		}
		if err := v.Err(); err != nil {
			return err
		}
		if in.Address == "" {
			in.Address = u.Addr
		}
		id := uuid.Must(uuid.NewV7()).String()
		var park any
		if u.Park != "" {
			park = u.Park
		}
		if _, err := store.Exec(ctx, tx, `INSERT INTO cells (id, type, name, unit_id, region_code, park_code, address,
			description, status, reason, applied_at, created_at, updated_at, version)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, 1)`, id, in.Type, in.Name, unitID, u.Region, park, in.Address,
			in.Description, Applied, tx.Now, tx.Now, tx.Now); err != nil {
			return err
		}
		if out, err = detail(ctx, tx, auth.Principal{Role: auth.Admin}, id); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, p.Actor(), audit.Record{Action: "cell.apply", Entity: "cell", EntityID: id,
			UnitID: unitID, RegionCode: u.Region, Change: out.Cell})
		return err
	})
	return out, err
}

// evaluator loads the cell for a change by an evaluator: the work team, or
// a regulator of the type's lead department who can see the cell.
func evaluator(ctx context.Context, tx *store.Tx, p auth.Principal, id string, version int64) (Cell, Type, error) {
	c, err := getCell(ctx, tx, p, id)
	if err != nil {
		return c, Type{}, err
	}
	t, err := getType(ctx, tx, c.Type)
	if err != nil {
		return c, t, err
	}
	dept, err := task.DepartmentOf(ctx, tx, p)
	if err != nil {
		return c, t, err
	}
	if !task.IsWorkTeam(p, dept) && !(p.Role == auth.Regulator && dept != "" && dept == t.LeadDepartmentCode) {
		return c, t, errs.E(errs.Forbidden, "forbidden", "只有工作专班或该类型的牵头部门可以评估")
	}
	if version > 0 && version != c.Version {
		return c, t, errs.E(errs.Conflict, "version_conflict", "数据已被他人修改，请刷新后重试")
	}
	return c, t, nil
}

// finish writes a cell's new state with its version check and the audit
// entry, and returns the cell as it now is.
func finish(ctx context.Context, tx *store.Tx, p auth.Principal, c Cell, action string, change any, set string, args ...any) (Detail, error) {
	n, err := store.Exec(ctx, tx, `UPDATE cells SET `+set+`, updated_at = ?, version = version + 1 WHERE id = ? AND version = ?`,
		append(args, tx.Now, c.ID, c.Version)...)
	if err != nil {
		return Detail{}, err
	}
	if n == 0 {
		return Detail{}, errs.E(errs.Conflict, "version_conflict", "数据已被他人修改，请刷新后重试")
	}
	if _, err := audit.Append(ctx, tx, p.Actor(), audit.Record{Action: action, Entity: "cell", EntityID: c.ID,
		UnitID: c.UnitID, RegionCode: c.RegionCode, Change: change}); err != nil {
		return Detail{}, err
	}
	return detail(ctx, tx, auth.Principal{Role: auth.Admin}, c.ID)
}

// Score records scores against the cell's checklist and computes its
// weighted total. A score for a criterion outside the checklist, or out of
// its range, refuses the whole sheet.
func (s *Service) Score(ctx context.Context, p auth.Principal, id string, in Sheet) (Detail, error) {
	var out Detail
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		c, t, err := evaluator(ctx, tx, p, id, in.Version)
		if err != nil {
			return err
		}
		if c.Status != Applied && c.Status != Scored {
			return errs.E(errs.Conflict, "cell_not_open", "只能为已申报或已评分的无废细胞评分")
		}
		byCode := map[string]Criterion{}
		for _, cr := range t.Criteria {
			byCode[cr.Code] = cr
		}
		var v errs.Validation
		if len(in.Scores) == 0 {
			v.Add("scores", "scores_required", "请至少填写一项得分")
		}
		seen := map[string]bool{}
		for i, e := range in.Scores {
			path := "scores[" + strconv.Itoa(i) + "]"
			cr, ok := byCode[e.Criterion]
			switch {
			case !ok:
				v.Add(path+".criterion", "criterion_unknown", "该类型的评估细则中没有这一项")
			case seen[e.Criterion]:
				v.Add(path+".criterion", "criterion_duplicate", "同一细则只能评一次分")
			case math.IsNaN(e.Score) || e.Score < 0 || e.Score > cr.MaxScore:
				v.Add(path+".score", "score_range", "得分须在 0 至 "+strconv.FormatFloat(cr.MaxScore, 'f', -1, 64)+" 之间")
			}
			seen[e.Criterion] = true
			if utf8.RuneCountInString(e.Note) > 500 {
				v.Add(path+".note", "note_length", "说明不超过 500 字")
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		for _, e := range in.Scores {
			if _, err := store.Exec(ctx, tx, `INSERT INTO cell_scores (cell_id, criterion_code, score, note, scored_by, scored_at)
				VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (cell_id, criterion_code) DO UPDATE SET score = excluded.score,
				note = excluded.note, scored_by = excluded.scored_by, scored_at = excluded.scored_at`,
				c.ID, e.Criterion, e.Score, strings.TrimSpace(e.Note), p.Username, tx.Now); err != nil {
				return err
			}
		}
		total, err := weighted(ctx, tx, c.ID, t)
		if err != nil {
			return err
		}
		out, err = finish(ctx, tx, p, c, "cell.score", map[string]any{"scores": in.Scores, "score": total},
			`status = ?, score = ?, scored_at = ?`, Scored, total, tx.Now)
		return err
	})
	return out, err
}

// weighted is the cell's total of 100: each criterion of the checklist
// counts its weight times the share of its maximum it scored; a criterion
// not scored counts nothing.
func weighted(ctx context.Context, q store.Querier, cellID string, t Type) (float64, error) {
	var rows []struct {
		Code  string  `db:"criterion_code"`
		Score float64 `db:"score"`
	}
	if err := store.Select(ctx, q, &rows, `SELECT criterion_code, score FROM cell_scores WHERE cell_id = ?`, cellID); err != nil {
		return 0, err
	}
	got := map[string]float64{}
	for _, r := range rows {
		got[r.Code] = r.Score
	}
	total := 0.0
	for _, cr := range t.Criteria {
		total += cr.Weight * got[cr.Code] / cr.MaxScore
	}
	return math.Round(total*100) / 100, nil
}

// Approve certifies a scored cell whose every criterion is scored and whose
// total reaches the pass mark. The certificate date is day (YYYY-MM-DD) or,
// when empty, today in China; it is kept as that date's UTC midnight, so the
// year it counts in is the date's own.
func (s *Service) Approve(ctx context.Context, p auth.Principal, id, day string, version int64) (Detail, error) {
	var out Detail
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		c, t, err := evaluator(ctx, tx, p, id, version)
		if err != nil {
			return err
		}
		if c.Status != Scored {
			return errs.E(errs.Conflict, "cell_not_scored", "只能命名已评分的无废细胞")
		}
		today := task.Today(tx.Now)
		if day = strings.TrimSpace(day); day == "" {
			day = today
		}
		d, err := time.Parse(time.DateOnly, day)
		var v errs.Validation
		switch {
		case err != nil:
			v.Add("certificate_date", "date_format", "日期格式应为 YYYY-MM-DD")
		case day > today:
			v.Add("certificate_date", "date_future", "命名日期不能晚于今天")
		case day < "2024-01-01": // a title given on paper since the plan began may be entered later
			v.Add("certificate_date", "date_before_plan", "命名日期不能早于方案实施（2024-01-01）")
		}
		var scored int
		if err := store.Get(ctx, tx, &scored, `SELECT count(*) FROM cell_scores s JOIN cell_criteria cr
			ON cr.type_code = ? AND cr.code = s.criterion_code WHERE s.cell_id = ?`, t.Code, c.ID); err != nil {
			return err
		}
		total, err := weighted(ctx, tx, c.ID, t)
		if err != nil {
			return err
		}
		switch {
		case scored < len(t.Criteria):
			v.Add("scores", "checklist_incomplete", "评估细则尚未全部评分")
		case total < t.PassMark:
			v.Add("score", "below_pass_mark", "总分 "+strconv.FormatFloat(total, 'f', -1, 64)+" 未达到达标分 "+
				strconv.FormatFloat(t.PassMark, 'f', -1, 64))
		}
		if err := v.Err(); err != nil {
			return err
		}
		out, err = finish(ctx, tx, p, c, "cell.certify", map[string]any{"status": Certified, "certificate_date": day, "score": total},
			`status = ?, score = ?, certified_at = ?, reason = ''`, Certified, total, d.UTC())
		return err
	})
	return out, err
}

// Return sends an application back with the reasons.
func (s *Service) Return(ctx context.Context, p auth.Principal, id, reason string, version int64) (Detail, error) {
	return s.close(ctx, p, id, reason, version, []string{Applied, Scored}, Returned, "cell.return", "只能退回已申报或已评分的无废细胞")
}

// Withdraw withdraws a certification with the reasons.
func (s *Service) Withdraw(ctx context.Context, p auth.Principal, id, reason string, version int64) (Detail, error) {
	return s.close(ctx, p, id, reason, version, []string{Certified}, Withdrawn, "cell.withdraw", "只能撤销已命名的无废细胞")
}

func (s *Service) close(ctx context.Context, p auth.Principal, id, reason string, version int64, from []string, to, action, wrong string) (Detail, error) {
	var out Detail
	reason = strings.TrimSpace(reason)
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		c, _, err := evaluator(ctx, tx, p, id, version)
		if err != nil {
			return err
		}
		ok := false
		for _, f := range from {
			ok = ok || c.Status == f
		}
		if !ok {
			return errs.E(errs.Conflict, "cell_status", wrong)
		}
		if reason == "" || utf8.RuneCountInString(reason) > 1000 {
			return errs.Field("reason", "reason_required", "请填写原因（不超过 1000 字）")
		}
		set, args := `status = ?, reason = ?`, []any{to, reason}
		if to == Withdrawn {
			set, args = set+`, withdrawn_at = ?`, append(args, tx.Now)
		}
		out, err = finish(ctx, tx, p, c, action, map[string]any{"status": to, "reason": reason}, set, args...)
		return err
	})
	return out, err
}

// CertifiedAt counts the cells that held a certificate at the instant at,
// by county and by park.
func CertifiedAt(ctx context.Context, q store.Querier, at time.Time) (map[string]int, error) {
	var rows []struct {
		Region string `db:"region_code"`
		Park   string `db:"park_code"`
		N      int    `db:"n"`
	}
	if err := store.Select(ctx, q, &rows, `SELECT region_code, COALESCE(park_code, '') AS park_code, count(*) AS n FROM cells
		WHERE certified_at < ? AND (status = 'certified' OR (status = 'withdrawn' AND withdrawn_at >= ?))
		GROUP BY region_code, park_code`, at, at); err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.Region] += r.N
		if r.Park != "" {
			out[r.Park] += r.N
		}
	}
	return out, nil
}

// Evaluates reports whether p scores and decides cells of the type: the
// work team (and admins), or a regulator of the type's lead department.
func (s *Service) Evaluates(ctx context.Context, p auth.Principal, typeCode string) (bool, error) {
	t, err := getType(ctx, s.db.Reader(), typeCode)
	if err != nil {
		return false, err
	}
	dept, err := task.DepartmentOf(ctx, s.db.Reader(), p)
	if err != nil {
		return false, err
	}
	return task.IsWorkTeam(p, dept) || (p.Role == auth.Regulator && dept != "" && dept == t.LeadDepartmentCode), nil
}
