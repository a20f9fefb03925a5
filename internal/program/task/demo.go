package task

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"time"

	"wufei/internal/auth"
	"wufei/internal/store"
)

var demoTexts = []string{
	"已召开专题推进会，细化年度工作方案，相关项目按计划推进。",
	"重点项目完成阶段性建设内容，配套制度已印发执行。",
	"开展专项检查与督导，发现问题已整改到位。",
	"会同县区和园区推进落实，本期完成既定节点。",
	"完成数据统计与台账更新，指标较上期稳步提升。",
}

// SeedDemo writes progress for the task list through the service, unless
// reports exist: each task's first lead department reports every period
// from 2024 to the last period now due, its progress rising toward the
// 2027 deadline; in that last period every lead department reports except
// on a few tasks, which are then overdue; the work team accepts the reports,
// leaves a few of the last period pending and returns one. A third of the
// tasks get milestones, a few of them overdue.
func SeedDemo(ctx context.Context, db *store.DB) error {
	var n int
	if err := store.Get(ctx, db.Reader(), &n, `SELECT count(*) FROM task_reports`); err != nil || n > 0 {
		return err
	}
	ids := map[string]string{}
	var deps []struct {
		ID   string `db:"id"`
		Code string `db:"code"`
	}
	if err := store.Select(ctx, db.Reader(), &deps, `SELECT id, code FROM departments`); err != nil {
		return err
	}
	for _, d := range deps {
		ids[d.Code] = d.ID
	}
	as := func(code string) auth.Principal {
		return auth.Principal{UserID: "demo-" + code, Username: code, Role: auth.Regulator, DepartmentID: ids[code],
			RegionCode: auth.CityCode}
	}
	team := as(WorkTeam)
	svc := NewService(db)
	tasks, err := svc.List(ctx, team, Filter{})
	if err != nil {
		return err
	}
	rules, err := LoadRules(ctx, db.Reader())
	if err != nil {
		return err
	}
	today := Today(time.Now())
	last := rules.LastDue(today)
	var periods []Period
	for p := rules.PeriodOf(firstDay); p.Start() <= last.Start(); p = p.Next() {
		periods = append(periods, p)
	}
	total := 0.0 // periods in the plan's term
	for p := rules.PeriodOf(firstDay); p.Start() <= "2027-12-31"; p = p.Next() {
		total++
	}
	for i, t := range tasks {
		var leads []string
		for _, d := range t.Lead {
			if d.Code != "" && ids[d.Code] != "" {
				leads = append(leads, d.Code)
			}
		}
		if len(leads) == 0 {
			continue
		}
		h := fnv.New32a()
		h.Write([]byte(t.Code))
		pace := 0.8 + float64(h.Sum32()%8)*0.05 // 0.80 … 1.15 of an even pace
		for k, p := range periods {
			who := leads[:1]
			final := k == len(periods)-1
			if final {
				who = leads
				if i%7 == 3 {
					continue // these tasks' last reports are owed
				}
			}
			percent := int(math.Min(100, math.Round(100*pace*float64(k+1)/total)))
			date := min(time.Date(p.last().Year(), p.last().Month(), p.last().Day()+5, 0, 0, 0, 0, time.UTC).
				Format(time.DateOnly), today)
			for j, code := range who {
				r, err := svc.SubmitReport(ctx, as(code), t.ID, NewReport{Period: p.String(), Percent: percent,
					Text: p.String() + "：" + demoTexts[(i+k+j)%len(demoTexts)], ReportDate: date})
				if err != nil {
					return fmt.Errorf("task: demo %s %s: %w", t.Code, p, err)
				}
				switch {
				case final && i%5 == 1:
					continue // pending review
				case final && i == 2 && j == 0:
					_, err = svc.Return(ctx, team, t.ID, r.ID, "请补充项目进度佐证材料", 0)
				default:
					_, err = svc.Accept(ctx, team, t.ID, r.ID, "", 0)
				}
				if err != nil {
					return fmt.Errorf("task: demo review %s %s: %w", t.Code, p, err)
				}
			}
		}
		if i%3 != 0 {
			continue
		}
		done, err := svc.AddMilestone(ctx, as(leads[0]), t.ID, NewMilestone{Title: "编制 2027 年度实施方案", DueDate: "2026-12-31"})
		if err == nil {
			_, err = svc.CompleteMilestone(ctx, as(leads[0]), t.ID, done.ID, "已印发", 0)
		}
		due := "2027-06-30"
		if i%9 == 0 {
			due = "2026-08-31" // past, and not done
		}
		if err == nil {
			_, err = svc.AddMilestone(ctx, as(leads[0]), t.ID, NewMilestone{Title: "重点项目竣工验收", DueDate: due})
		}
		if err != nil {
			return fmt.Errorf("task: demo milestones %s: %w", t.Code, err)
		}
	}
	return nil
}
