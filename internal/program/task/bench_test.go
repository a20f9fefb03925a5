package task_test

import (
	"context"
	"testing"

	"wufei/internal/program/task"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// BenchmarkList compares reading the task list through the service (the
// tasks in plan order, then their departments in one query, grouped by role)
// with the same two queries run raw and scanned into rows, on the same
// engine, after the demo progress is written.
func BenchmarkList(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			ctx := context.Background()
			db, _ := e.Open(b)
			if err := db.Tx(ctx, func(tx *store.Tx) error {
				if err := registry.SeedReference(ctx, tx); err != nil {
					return err
				}
				return task.Seed(ctx, tx)
			}); err != nil {
				b.Fatal(err)
			}
			if err := task.SeedDemo(ctx, db); err != nil {
				b.Fatal(err)
			}
			b.Run("raw", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					var ts []task.Task
					if err := store.Select(ctx, db.Reader(), &ts, `SELECT t.id, t.code, t.kind, t.group_code, t.group_title,
						t.number, t.title, t.body, t.lead_text, t.supporting_text, t.target, t.deadline, t.region_code, t.progress,
						t.progress_date, t.position, t.created_at, t.updated_at, t.version FROM tasks t ORDER BY t.position`); err != nil {
						b.Fatal(err)
					}
					ids := make([]string, len(ts))
					for i, t := range ts {
						ids[i] = t.ID
					}
					q, args, _ := store.In(`SELECT task_id, role, name, department_code FROM task_departments
						WHERE task_id IN (?) ORDER BY task_id, role, position`, ids)
					var rows []struct {
						TaskID string `db:"task_id"`
						Role   string `db:"role"`
						Name   string `db:"name"`
						Code   string `db:"department_code"`
					}
					if err := store.Select(ctx, db.Reader(), &rows, q, args...); err != nil {
						b.Fatal(err)
					}
				}
			})
			svc := task.NewService(db)
			b.Run("service", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if ts, err := svc.List(ctx, admin, task.Filter{}); err != nil || len(ts) != 35 {
						b.Fatal(len(ts), err)
					}
				}
			})
		})
	}
}
