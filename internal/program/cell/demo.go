package cell

import (
	"context"
	"fmt"
	"time"

	"wufei/internal/auth"
	"wufei/internal/program/task"
	"wufei/internal/store"
)

type demoCell struct {
	Type, Region, Name, State, Certified string // State: the status to leave it in
	Share                                float64
}

// demoCells are a dozen cells in every state, certified over 2024–2026. An
// empty name is the applicant unit's own (节约型企事业单位, 无废企业).
var demoCells = []demoCell{
	{"agency", "340621", "", Certified, "2024-11-20", 0.92},
	{"enterprise", "340604", "", Withdrawn, "2024-12-20", 0.82},
	{"school", "340603", "淮北市第一中学", Certified, "2025-04-22", 0.9},
	{"community", "340603", "相山区东山街道东山社区", Certified, "2025-06-05", 0.88},
	{"village", "340621", "濉溪县临涣镇海孜村", Certified, "2025-09-18", 0.86},
	{"enterprise", "340621", "", Certified, "2025-12-10", 0.85},
	{"hospital", "340603", "淮北市人民医院", Certified, "2026-03-15", 0.87},
	{"scenic_area", "340603", "相山风景区", Certified, "2026-06-05", 0.93},
	{"mall", "340603", "相山区淮海路商业综合体", Scored, "", 0.76},
	{"restaurant", "340602", "杜集区乐家餐厅", Applied, "", 0},
	{"express_outlet", "340604", "烈山区杨庄街道快递服务站", Applied, "", 0},
	{"community", "340602", "杜集区矿山集街道高岳社区", Returned, "", 0},
}

// SeedDemo writes a dozen cells in various states through the service —
// applied by units across the city's regions, scored by the work team,
// certified between 2024 and 2026, one returned and one withdrawn — unless
// cells exist. The reference data, the cell types and some units must be
// there.
func SeedDemo(ctx context.Context, db *store.DB) error {
	var n int
	if err := store.Get(ctx, db.Reader(), &n, `SELECT count(*) FROM cells`); err != nil || n > 0 {
		return err
	}
	type unit struct {
		ID     string `db:"id"`
		Name   string `db:"name"`
		Region string `db:"region_code"`
	}
	var units []unit
	if err := store.Select(ctx, db.Reader(), &units, `SELECT id, name, region_code FROM units WHERE status = 'active'
		ORDER BY id`); err != nil {
		return err
	}
	if len(units) == 0 {
		return nil
	}
	byRegion := map[string][]unit{}
	for _, u := range units {
		byRegion[u.Region] = append(byRegion[u.Region], u)
	}
	used := map[string]int{}
	// pick takes the region's units in turn, or any unit where it has none.
	pick := func(region string) unit {
		list := byRegion[region]
		if len(list) == 0 {
			list = units
		}
		u := list[used[region]%len(list)]
		used[region]++
		return u
	}
	var wfzb string
	if err := store.Get(ctx, db.Reader(), &wfzb, `SELECT id FROM departments WHERE code = ?`, task.WorkTeam); err != nil {
		return fmt.Errorf("cell: demo: %w", err)
	}
	team := auth.Principal{UserID: "demo-wfzb", Username: "wfzb", Role: auth.Regulator, DepartmentID: wfzb, RegionCode: auth.CityCode}
	svc := NewService(db)
	for _, c := range demoCells {
		u := pick(c.Region)
		if c.Name == "" {
			c.Name = u.Name
		}
		applicant := auth.Principal{UserID: "demo-" + u.ID, Username: "demo", Role: auth.UnitAdmin, UnitID: u.ID}
		d, err := svc.Apply(ctx, applicant, NewCell{Type: c.Type, Name: c.Name, Description: "按“无废细胞”评估标准开展创建，已完成自评。"})
		if err != nil {
			return fmt.Errorf("cell: demo %s: %w", c.Name, err)
		}
		switch c.State {
		case Applied:
			continue
		case Returned:
			if _, err := svc.Return(ctx, team, d.ID, "佐证材料不全，请补充垃圾分类台账和照片", 0); err != nil {
				return fmt.Errorf("cell: demo %s: %w", c.Name, err)
			}
			continue
		}
		var sheet Sheet
		for _, l := range d.Checklist {
			sheet.Scores = append(sheet.Scores, Entry{Criterion: l.Code, Score: l.MaxScore * c.Share})
		}
		if _, err := svc.Score(ctx, team, d.ID, sheet); err != nil {
			return fmt.Errorf("cell: demo %s: %w", c.Name, err)
		}
		if c.State == Scored {
			continue
		}
		if _, err := svc.Approve(ctx, team, d.ID, min(c.Certified, task.Today(time.Now())), 0); err != nil {
			return fmt.Errorf("cell: demo %s: %w", c.Name, err)
		}
		if c.State == Withdrawn {
			if _, err := svc.Withdraw(ctx, team, d.ID, "复查发现危险废物贮存不规范，撤销命名", 0); err != nil {
				return fmt.Errorf("cell: demo %s: %w", c.Name, err)
			}
		}
	}
	return nil
}
