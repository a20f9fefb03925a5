package registry

import (
	"context"
	"embed"
	"encoding/csv"
	"fmt"

	"github.com/google/uuid"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/store"
)

// data holds Huaibei's regions (GB/T 2260 and the 2023 township codes, plus
// local codes for the two parks that have none) and the departments the
// plan names.
//
//go:embed data/*.csv
var data embed.FS

func readCSV(name string) ([][]string, error) {
	f, err := data.Open("data/" + name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) == 0 {
		return nil, fmt.Errorf("registry: %s: %v", name, err)
	}
	return rows[1:], nil
}

// SeedReference loads the regions and departments into an empty database.
// It does nothing when regions are already present.
func SeedReference(ctx context.Context, tx *store.Tx) error {
	var n int
	if err := store.Get(ctx, tx, &n, `SELECT count(*) FROM regions`); err != nil || n > 0 {
		return err
	}
	regions, err := readCSV("regions.csv")
	if err != nil {
		return err
	}
	for _, r := range regions { // parents come before children in the file
		if _, err := store.Exec(ctx, tx, `INSERT INTO regions (code, name, level, parent_code, local) VALUES (?, ?, ?, ?, ?)`,
			r[0], r[1], r[2], nullIfEmpty(r[3]), r[4] == "1"); err != nil {
			return fmt.Errorf("registry: region %s: %w", r[0], err)
		}
	}
	deps, err := readCSV("departments.csv")
	if err != nil {
		return err
	}
	for _, d := range deps {
		if _, err := store.Exec(ctx, tx, `INSERT INTO departments (id, code, name, region_code, created_at) VALUES (?, ?, ?, ?, ?)`,
			uuid.Must(uuid.NewV7()).String(), d[0], d[1], d[2], tx.Now); err != nil {
			return fmt.Errorf("registry: department %s: %w", d[0], err)
		}
	}
	_, err = audit.Append(ctx, tx, audit.System, audit.Record{Action: "reference.seed", Entity: "reference", EntityID: "huaibei",
		RegionCode: auth.CityCode, Change: map[string]int{"regions": len(regions), "departments": len(deps)}})
	return err
}

// ListRegions lists regions, optionally the children of one.
func (s *Service) ListRegions(ctx context.Context, parent string) ([]Region, error) {
	q := `SELECT code, name, level, COALESCE(parent_code, '') AS parent_code, local FROM regions`
	var args []any
	if parent != "" {
		q += ` WHERE parent_code = ?`
		args = append(args, parent)
	}
	var out []Region
	err := store.Select(ctx, s.db.Reader(), &out, q+` ORDER BY code`, args...)
	return out, err
}

// ListDepartments lists the departments.
func (s *Service) ListDepartments(ctx context.Context) ([]Department, error) {
	var out []Department
	err := store.Select(ctx, s.db.Reader(), &out, `SELECT id, code, name, region_code FROM departments ORDER BY code`)
	return out, err
}

// DepartmentByCode returns one department.
func (s *Service) DepartmentByCode(ctx context.Context, code string) (Department, error) {
	var d Department
	err := store.Get(ctx, s.db.Reader(), &d, `SELECT id, code, name, region_code FROM departments WHERE code = ?`, code)
	return d, err
}
