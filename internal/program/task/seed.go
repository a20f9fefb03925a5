package task

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/store"
)

// tasksTSV is the plan's task list as the project ships it, taken from the
// text of 淮环委〔2024〕1号 section 二 (32 tasks in six groups) and 三 (3
// safeguard measures): titles, text and targets verbatim; where a task names
// several responsibility clauses their departments are merged, a department
// that leads any clause being a lead.
//
//go:embed data/tasks.tsv
var tasksTSV []byte

// aliases resolves the names the plan uses for a department, where they
// differ from the registry's, to department codes. One name may stand for
// several departments.
var aliases = map[string][]string{
	"市发展改革委":           {"fgw"},
	"市城管局":             {"cgj"},
	"各县区人民政府":          {"djq", "xsq", "lsq", "sxx"},
	"“无废城市”工作专班成员单位":   {WorkTeam},
	"“无废城市”建设工作专班成员单位": {WorkTeam},
}

// localCodes are the county governments and park committees that, the
// plan says, carry out every task of section 二 besides the departments
// named (以下均需各县区人民政府、市高新区、煤化工基地管委会落实).
var localCodes = []string{"djq", "xsq", "lsq", "sxx", "gxq", "mhgjd"}

// Row is one line of the shipped task list.
type Row struct {
	Code, Kind, Group, GroupTitle string
	Number                        int
	Title, Lead, Supporting       string
	Target, Deadline, Text        string
}

// Rows parses the shipped task list.
func Rows() ([]Row, error) {
	sc := bufio.NewScanner(bytes.NewReader(tasksTSV))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var out []Row
	for n := 0; sc.Scan(); n++ {
		if n == 0 {
			continue // header
		}
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 11 {
			return nil, fmt.Errorf("task: tasks.tsv line %d: %d fields, want 11", n+1, len(f))
		}
		num, err := strconv.Atoi(f[4])
		if err != nil {
			return nil, fmt.Errorf("task: tasks.tsv line %d: number: %w", n+1, err)
		}
		out = append(out, Row{Code: f[0], Kind: f[1], Group: f[2], GroupTitle: f[3], Number: num, Title: f[5],
			Lead: f[6], Supporting: f[7], Target: f[8], Deadline: f[9], Text: f[10]})
	}
	return out, sc.Err()
}

// resolve turns the text's list of names (separated by 、) into
// departments, resolved against the registry's names and the aliases.
func resolve(text string, byName map[string]string, names map[string]string) []Department {
	var out []Department
	for _, name := range strings.Split(text, "、") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		bare := strings.TrimSuffix(name, "等") // "市商务局等" closes an open list
		if code, ok := byName[bare]; ok {
			out = append(out, Department{Name: bare, Code: code})
			continue
		}
		if codes, ok := aliases[bare]; ok {
			for _, c := range codes {
				n := names[c]
				if n == "" {
					n = bare
				}
				if len(codes) == 1 {
					n = bare // keep the text's wording where it names one department
				}
				out = append(out, Department{Name: n, Code: c})
			}
			continue
		}
		out = append(out, Department{Name: name})
	}
	return out
}

// Seed loads the shipped task list into an empty tasks table, resolving
// department names against the registry (seeded first), with one audit
// entry. It does nothing when tasks are present.
func Seed(ctx context.Context, tx *store.Tx) error {
	var n int
	if err := store.Get(ctx, tx, &n, `SELECT count(*) FROM tasks`); err != nil || n > 0 {
		return err
	}
	rows, err := Rows()
	if err != nil {
		return err
	}
	names, err := departmentNames(ctx, tx)
	if err != nil {
		return err
	}
	byName := make(map[string]string, len(names))
	for code, name := range names {
		byName[name] = code
	}
	for i, r := range rows {
		id := uuid.Must(uuid.NewV7()).String()
		if _, err := store.Exec(ctx, tx, `INSERT INTO tasks (id, code, kind, group_code, group_title, number, position, title,
			body, lead_text, supporting_text, target, deadline, region_code, progress, progress_date, created_at, updated_at,
			version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '', ?, ?, 1)`,
			id, r.Code, r.Kind, r.Group, r.GroupTitle, r.Number, i+1, r.Title, r.Text, r.Lead, r.Supporting, r.Target,
			r.Deadline, auth.CityCode, tx.Now, tx.Now); err != nil {
			return fmt.Errorf("task: seed %s: %w", r.Code, err)
		}
		lead, supporting := resolve(r.Lead, byName, names), resolve(r.Supporting, byName, names)
		var local []Department
		if r.Kind == KindTask {
			named := map[string]bool{}
			for _, d := range slices.Concat(lead, supporting) {
				named[d.Code] = true
			}
			for _, c := range localCodes {
				if !named[c] && names[c] != "" {
					local = append(local, Department{Name: names[c], Code: c})
				}
			}
		}
		for role, ds := range map[string][]Department{Lead: lead, Supporting: supporting, Local: local} {
			for pos, d := range ds {
				if _, err := store.Exec(ctx, tx, `INSERT INTO task_departments (task_id, role, position, name, department_code)
					VALUES (?, ?, ?, ?, ?)`, id, role, pos+1, d.Name, d.Code); err != nil {
					return fmt.Errorf("task: seed %s departments: %w", r.Code, err)
				}
			}
		}
	}
	_, err = audit.Append(ctx, tx, audit.System, audit.Record{Action: "task.seed", Entity: "task_list", EntityID: "huaibei-2024",
		RegionCode: auth.CityCode, Change: map[string]any{"source": "淮环委〔2024〕1号", "tasks": len(rows)}})
	return err
}
