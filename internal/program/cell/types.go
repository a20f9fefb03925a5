package cell

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/program/task"
	"wufei/internal/store"
)

// Criterion is one line of a type's checklist: a score from 0 to MaxScore
// counts for Weight of the 100 points.
type Criterion struct {
	Code        string  `db:"code" json:"code" pattern:"^[a-z][a-z0-9_]{0,39}$"`
	Title       string  `db:"title" json:"title" maxLength:"100"`
	Description string  `db:"description" json:"description,omitempty" maxLength:"1000"`
	Weight      float64 `db:"weight" json:"weight" doc:"权重；同一类型的权重合计 100"`
	MaxScore    float64 `db:"max_score" json:"max_score" doc:"该项满分"`
	TypeCode    string  `db:"type_code" json:"-"`
}

// Type is a kind of zero-waste cell with its checklist and pass mark.
type Type struct {
	Code               string      `db:"code" json:"code"`
	Name               string      `db:"name" json:"name"`
	LeadDepartmentCode string      `db:"lead_department_code" json:"lead_department_code" doc:"牵头评估的部门；为空则由工作专班评估"`
	LeadDepartmentName string      `db:"lead_department_name" json:"lead_department_name"`
	PassMark           float64     `db:"pass_mark" json:"pass_mark" doc:"达标分（百分制）"`
	Criteria           []Criterion `db:"-" json:"criteria"`
	Position           int         `db:"position" json:"-"`
	UpdatedAt          time.Time   `db:"updated_at" json:"updated_at"`
	Version            int64       `db:"version" json:"version"`
}

// TypeInput is what defining or replacing a type takes.
type TypeInput struct {
	Name               string      `json:"name" maxLength:"100"`
	LeadDepartmentCode string      `json:"lead_department_code,omitempty" maxLength:"40"`
	PassMark           float64     `json:"pass_mark" doc:"达标分（百分制，0–100）"`
	Criteria           []Criterion `json:"criteria" maxItems:"40"`
	Version            int64       `json:"version,omitempty" doc:"读取时的 version；不填不校验"`
}

//go:embed data/types.json
var typesJSON []byte

type shippedType struct {
	Code string `json:"code"`
	TypeInput
}

// SeedTypes loads the shipped types and checklists into an empty table,
// with one audit entry. The types are those the plan names in 二(三)8
// (节约型机关（企事业单位）、无废景区、绿色学校、无废社区（村）) plus the
// enterprises, hospitals, malls, restaurants and express outlets zero-waste
// cities commonly add; the criteria follow the common structure of local
// 无废细胞 evaluation standards and are data the work team edits.
func SeedTypes(ctx context.Context, tx *store.Tx) error {
	var n int
	if err := store.Get(ctx, tx, &n, `SELECT count(*) FROM cell_types`); err != nil || n > 0 {
		return err
	}
	var ts []shippedType
	if err := json.Unmarshal(typesJSON, &ts); err != nil {
		return fmt.Errorf("cell: types.json: %w", err)
	}
	for i, t := range ts {
		if err := validateType(t.Code, t.TypeInput, nil); err != nil {
			return fmt.Errorf("cell: types.json %s: %w", t.Code, err)
		}
		if err := insertType(ctx, tx, t.Code, t.TypeInput, i+1, 1); err != nil {
			return err
		}
	}
	_, err := audit.Append(ctx, tx, audit.System, audit.Record{Action: "cell_type.seed", Entity: "cell_type", EntityID: "default",
		RegionCode: auth.CityCode, Change: map[string]any{"types": len(ts)}})
	return err
}

func insertType(ctx context.Context, tx *store.Tx, code string, in TypeInput, position int, version int64) error {
	if _, err := store.Exec(ctx, tx, `INSERT INTO cell_types (code, name, lead_department_code, pass_mark, position,
		created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, code, strings.TrimSpace(in.Name),
		in.LeadDepartmentCode, in.PassMark, position, tx.Now, tx.Now, version); err != nil {
		return err
	}
	return insertCriteria(ctx, tx, code, in.Criteria)
}

func insertCriteria(ctx context.Context, tx *store.Tx, code string, cs []Criterion) error {
	for i, c := range cs {
		if _, err := store.Exec(ctx, tx, `INSERT INTO cell_criteria (type_code, code, position, title, description, weight,
			max_score) VALUES (?, ?, ?, ?, ?, ?, ?)`, code, c.Code, i+1, strings.TrimSpace(c.Title),
			strings.TrimSpace(c.Description), c.Weight, c.MaxScore); err != nil {
			return err
		}
	}
	return nil
}

var codeRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// validateType checks a type definition; depts, when given, are the
// department codes a lead may name.
func validateType(code string, in TypeInput, depts map[string]bool) error {
	var v errs.Validation
	if !codeRe.MatchString(code) {
		v.Add("code", "code_format", "类型代码须为小写字母开头的字母、数字和下划线")
	}
	if name := strings.TrimSpace(in.Name); name == "" || utf8.RuneCountInString(name) > 100 {
		v.Add("name", "name_length", "请填写类型名称（不超过 100 字）")
	}
	if depts != nil && in.LeadDepartmentCode != "" && !depts[in.LeadDepartmentCode] {
		v.Add("lead_department_code", "department_unknown", "部门不存在")
	}
	if math.IsNaN(in.PassMark) || in.PassMark <= 0 || in.PassMark > 100 {
		v.Add("pass_mark", "pass_mark_range", "达标分须大于 0、不超过 100")
	}
	if len(in.Criteria) == 0 || len(in.Criteria) > 40 {
		v.Add("criteria", "criteria_count", "评估细则须有 1 至 40 项")
	}
	seen := map[string]bool{}
	total := 0.0
	for i, c := range in.Criteria {
		path := "criteria[" + strconv.Itoa(i) + "]"
		switch {
		case !codeRe.MatchString(c.Code):
			v.Add(path+".code", "code_format", "细则代码须为小写字母开头的字母、数字和下划线")
		case seen[c.Code]:
			v.Add(path+".code", "code_duplicate", "细则代码重复")
		}
		seen[c.Code] = true
		if t := strings.TrimSpace(c.Title); t == "" || utf8.RuneCountInString(t) > 100 {
			v.Add(path+".title", "title_length", "请填写细则名称（不超过 100 字）")
		}
		if utf8.RuneCountInString(c.Description) > 1000 {
			v.Add(path+".description", "description_length", "说明不超过 1000 字")
		}
		if math.IsNaN(c.Weight) || c.Weight <= 0 || c.Weight > 100 {
			v.Add(path+".weight", "weight_range", "权重须大于 0、不超过 100")
		} else {
			total += c.Weight
		}
		if math.IsNaN(c.MaxScore) || c.MaxScore <= 0 || c.MaxScore > 1000 {
			v.Add(path+".max_score", "max_score_range", "满分须大于 0、不超过 1000")
		}
	}
	if v.Err() == nil && math.Abs(total-100) > 1e-6 {
		v.Add("criteria", "weights_total", fmt.Sprintf("权重合计须为 100（现为 %g）", total))
	}
	return v.Err()
}

const typeColumns = `ct.code, ct.name, ct.lead_department_code, COALESCE(d.name, '') AS lead_department_name, ct.pass_mark,
	ct.position, ct.updated_at, ct.version`

// listTypes reads the types with their checklists, in order.
func listTypes(ctx context.Context, q store.Querier, code string) ([]Type, error) {
	query := `SELECT ` + typeColumns + ` FROM cell_types ct LEFT JOIN departments d ON d.code = ct.lead_department_code`
	var args []any
	if code != "" {
		query += ` WHERE ct.code = ?`
		args = append(args, code)
	}
	var ts []Type
	if err := store.Select(ctx, q, &ts, query+` ORDER BY ct.position, ct.code`, args...); err != nil {
		return nil, err
	}
	cq := `SELECT type_code, code, title, description, weight, max_score FROM cell_criteria`
	if code != "" {
		cq += ` WHERE type_code = ?`
	}
	var cs []Criterion
	if err := store.Select(ctx, q, &cs, cq+` ORDER BY type_code, position`, args...); err != nil {
		return nil, err
	}
	idx := map[string]int{}
	for i := range ts {
		idx[ts[i].Code] = i
		ts[i].Criteria = []Criterion{}
	}
	for _, c := range cs {
		if i, ok := idx[c.TypeCode]; ok {
			ts[i].Criteria = append(ts[i].Criteria, c)
		}
	}
	return ts, nil
}

func getType(ctx context.Context, q store.Querier, code string) (Type, error) {
	ts, err := listTypes(ctx, q, code)
	if err != nil {
		return Type{}, err
	}
	if len(ts) == 0 {
		return Type{}, errs.E(errs.NotFound, "cell_type_not_found", "无废细胞类型不存在")
	}
	return ts[0], nil
}

// Types lists the cell types with their checklists. Every signed-in
// account may read them: they are the published standards.
func (s *Service) Types(ctx context.Context, p auth.Principal) ([]Type, error) {
	if !p.Role.Valid() {
		return nil, errs.E(errs.Forbidden, "forbidden", "无权查看")
	}
	return listTypes(ctx, s.db.Reader(), "")
}

// PutType defines a type or replaces its name, lead department, pass mark
// and checklist. Only the work team (and admins) may; the change is audited
// with the type before and after. Scores already given under criteria that
// are dropped stay on their cells; a cell not yet approved is scored again
// against the new checklist before it can be approved.
func (s *Service) PutType(ctx context.Context, p auth.Principal, code string, in TypeInput) (Type, error) {
	var out Type
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		dept, err := task.DepartmentOf(ctx, tx, p)
		if err != nil {
			return err
		}
		if !task.IsWorkTeam(p, dept) {
			return errs.E(errs.Forbidden, "forbidden", "只有工作专班可以修改无废细胞评估标准")
		}
		depts := map[string]bool{}
		var codes []string
		if err := store.Select(ctx, tx, &codes, `SELECT code FROM departments`); err != nil {
			return err
		}
		for _, c := range codes {
			depts[c] = true
		}
		in.Name = strings.TrimSpace(in.Name)
		if err := validateType(code, in, depts); err != nil {
			return err
		}
		before, err := getType(ctx, tx, code)
		exists := err == nil
		if err != nil && errs.KindOf(err) != errs.NotFound {
			return err
		}
		if exists {
			if in.Version > 0 && in.Version != before.Version {
				return errs.E(errs.Conflict, "version_conflict", "数据已被他人修改，请刷新后重试")
			}
			n, err := store.Exec(ctx, tx, `UPDATE cell_types SET name = ?, lead_department_code = ?, pass_mark = ?,
				updated_at = ?, version = version + 1 WHERE code = ? AND version = ?`,
				in.Name, in.LeadDepartmentCode, in.PassMark, tx.Now, code, before.Version)
			if err != nil {
				return err
			}
			if n == 0 {
				return errs.E(errs.Conflict, "version_conflict", "数据已被他人修改，请刷新后重试")
			}
			if _, err := store.Exec(ctx, tx, `DELETE FROM cell_criteria WHERE type_code = ?`, code); err != nil {
				return err
			}
			if err := insertCriteria(ctx, tx, code, in.Criteria); err != nil {
				return err
			}
		} else {
			var position int
			if err := store.Get(ctx, tx, &position, `SELECT COALESCE(MAX(position), 0) + 1 FROM cell_types`); err != nil {
				return err
			}
			if err := insertType(ctx, tx, code, in, position, 1); err != nil {
				return err
			}
		}
		if out, err = getType(ctx, tx, code); err != nil {
			return err
		}
		change := map[string]any{"after": out}
		action := "cell_type.create"
		if exists {
			change["before"], action = before, "cell_type.update"
		}
		_, err = audit.Append(ctx, tx, p.Actor(), audit.Record{Action: action, Entity: "cell_type", EntityID: code,
			RegionCode: auth.CityCode, Change: change})
		return err
	})
	return out, err
}
