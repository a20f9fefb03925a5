package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"wufei/internal/calendar"
	"wufei/internal/server"
	"wufei/internal/store/storetest"
)

// TestImportExportCommands imports a ledger workbook as a unit's account,
// exports the year as the administrator and imports the export again:
// nothing changes. A bad row makes the command fail and name the row.
func TestImportExportCommands(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			db, url := e.Open(t)
			db.Close()
			app, err := server.Open(ctx, server.Config{DB: url, Demo: true, DemoUnits: 3, KeyFile: filepath.Join(t.TempDir(), "k")})
			if err != nil {
				t.Fatal(err)
			}
			app.DB.Close()
			dir := t.TempDir()
			at := time.Now().Add(-time.Hour).In(calendar.Zone)
			write := func(name string, rows ...[]any) string {
				f := excelize.NewFile()
				for i, r := range rows {
					cell, _ := excelize.CoordinatesToCellName(1, i+1)
					f.SetSheetRow("Sheet1", cell, &r)
				}
				path := filepath.Join(dir, name)
				if err := f.SaveAs(path); err != nil {
					t.Fatal(err)
				}
				return path
			}
			header := []any{"ref", "kind", "occurred_at", "waste_code", "form", "quantity_t", "packaging"}
			good := write("good.xlsx", header, []any{"CLI-1", "产生", at.Format("2006-01-02 15:04"), "900-249-08", "L", 0.75, "铁桶"})

			var out, errb bytes.Buffer
			if err := run(ctx, []string{"import", "hw_ledger", good, "--db", url, "--as", "gen"}, &out, &errb); err != nil {
				t.Fatalf("import: %v %s", err, errb.String())
			}
			if !strings.Contains(out.String(), "共 1 行，新增 1，更新 0，未变 0") {
				t.Fatalf("import said %q", out.String())
			}

			export := filepath.Join(dir, "export.xlsx")
			out.Reset()
			errb.Reset()
			if err := run(ctx, []string{"export", "hw_ledger", "--db", url, "--year", fmt.Sprint(at.Year()), "-o", export}, &out, &errb); err != nil {
				t.Fatalf("export: %v %s", err, errb.String())
			}
			out.Reset()
			if err := run(ctx, []string{"import", "--db", url, "--json", "hw_ledger", export}, &out, &errb); err != nil {
				t.Fatalf("re-import: %v %s", err, errb.String())
			}
			var res struct{ Rows, Inserted, Updated, Unchanged int }
			if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.Rows < 1 || res.Unchanged != res.Rows {
				t.Fatalf("re-import of the export: %q %v", out.String(), err)
			}

			bad := write("bad.xlsx", header, []any{"CLI-2", "产生", at.Format("2006-01-02 15:04"), "900-249-08", "L", 1, "铁桶"},
				[]any{"CLI-3", "产生", at.Format("2006-01-02 15:04"), "900-249-08", "X", 1, "铁桶"})
			out.Reset()
			errb.Reset()
			err = run(ctx, []string{"import", "hw_ledger", bad, "--db", url, "--as", "gen"}, &out, &errb)
			if !errors.As(err, new(exitError)) || !strings.Contains(errb.String(), "第 3 行 物理性状（form）") ||
				!strings.Contains(errb.String(), "未导入任何数据") {
				t.Fatalf("bad row: %v %q", err, errb.String())
			}
			notBook := filepath.Join(dir, "notes.xlsx")
			os.WriteFile(notBook, []byte("not a workbook"), 0o600)
			if err := run(ctx, []string{"import", "hw_ledger", notBook, "--db", url}, &out, &errb); !errors.As(err, new(exitError)) ||
				!strings.Contains(errb.String(), "not_a_workbook") {
				t.Fatalf("not a workbook: %v %q", err, errb.String())
			}
			if err := run(ctx, []string{"import", "nothing", good, "--db", url}, &out, &errb); err == nil || !strings.Contains(err.Error(), "hw_ledger") {
				t.Fatalf("unknown kind: %v", err)
			}
		})
	}
}
