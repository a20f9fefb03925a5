package exchange_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/exchange"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// items is a small kind over a table of its own: a code (the key), a
// category from a list, a quantity in tonnes.
type items struct {
	db      *store.DB
	choices []string
}

func (k *items) Name() string  { return "test_items" }
func (k *items) Title() string { return "测试物品" }
func (k *items) Columns(ctx context.Context) ([]exchange.Column, error) {
	return []exchange.Column{
		{Key: "code", Header: "编码", Required: true, Example: "A-001"},
		{Key: "category", Header: "类别", Choices: k.choices, Example: k.choices[0]},
		{Key: "quantity_t", Header: "数量（吨）", Required: true, Example: "1.5", Note: "吨"},
		{Key: "note", Header: "备注"},
	}, nil
}

func (k *items) Import(ctx context.Context, p auth.Principal, rows iter.Seq2[exchange.Row, error]) (exchange.Result, []exchange.RowError, error) {
	cols, _ := k.Columns(ctx)
	return exchange.Apply(ctx, k.db, k.Name(), rows, nil, func(ctx context.Context, tx *store.Tx, r exchange.Row) (exchange.Outcome, error) {
		c := exchange.ByKey(cols, r)
		var v errs.Validation
		g, ok := exchange.ParseTonnes(c.Get("quantity_t"))
		if !ok {
			v.Add("quantity_t", "quantity_format", "数量应为吨数")
		}
		cat := c.Get("category")
		if cat != "" && !contains(k.choices, cat) {
			v.Add("category", "category_unknown", "未知类别")
		}
		if err := v.Err(); err != nil {
			return 0, err
		}
		var old struct {
			Category string `db:"category"`
			QtyG     int64  `db:"qty_g"`
			Note     string `db:"note"`
		}
		err := store.Get(ctx, tx, &old, `SELECT category, qty_g, note FROM exchange_test_items WHERE code = ?`, c.Get("code"))
		switch {
		case errors.Is(err, store.ErrNotFound):
			_, err := store.Exec(ctx, tx, `INSERT INTO exchange_test_items (code, category, qty_g, note) VALUES (?, ?, ?, ?)`,
				c.Get("code"), cat, g, c.Get("note"))
			return exchange.Inserted, err
		case err != nil:
			return 0, err
		case old.Category == cat && old.QtyG == g && old.Note == c.Get("note"):
			return exchange.Unchanged, nil
		}
		_, err = store.Exec(ctx, tx, `UPDATE exchange_test_items SET category = ?, qty_g = ?, note = ? WHERE code = ?`,
			cat, g, c.Get("note"), c.Get("code"))
		return exchange.Updated, err
	})
}

func (k *items) Export(ctx context.Context, p auth.Principal, year int, emit func([]string) error) error {
	rows, err := k.db.Reader().QueryxContext(ctx, `SELECT code, category, qty_g, note FROM exchange_test_items ORDER BY code`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var code, cat, note string
		var g int64
		if err := rows.Scan(&code, &cat, &g, &note); err != nil {
			return err
		}
		if err := emit([]string{code, cat, exchange.Tonnes(g), note}); err != nil {
			return err
		}
	}
	return rows.Err()
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func newItems(t testing.TB, db *store.DB, choices []string) *items {
	t.Helper()
	if _, err := store.Exec(context.Background(), db.Writer(), `CREATE TABLE exchange_test_items (code TEXT PRIMARY KEY,
		category TEXT NOT NULL, qty_g BIGINT NOT NULL, note TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return &items{db: db, choices: choices}
}

func count(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := store.Get(context.Background(), db.Reader(), &n, `SELECT count(*) FROM exchange_test_items`); err != nil {
		t.Fatal(err)
	}
	return n
}

// book builds a workbook whose first sheet holds rows.
func book(t testing.TB, rows ...[]any) *bytes.Reader {
	t.Helper()
	f := excelize.NewFile()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	b, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(b.Bytes())
}

var admin = auth.Principal{UserID: "u1", Username: "admin", Role: auth.Admin}

func TestImportExport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		k := newItems(t, db, []string{"甲", "乙", "丙"})

		t.Run("an untouched template stores nothing", func(t *testing.T) {
			var b bytes.Buffer
			if err := exchange.WriteTemplate(ctx, k, &b); err != nil {
				t.Fatal(err)
			}
			f, err := excelize.OpenReader(bytes.NewReader(b.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if got := f.GetSheetList(); len(got) != 2 || got[0] != "测试物品" || got[1] != exchange.GuideSheet {
				t.Fatalf("sheets %v", got)
			}
			rows, _ := f.GetRows("测试物品")
			if len(rows) != 1 || strings.Join(rows[0], ",") != "编码,类别,数量（吨）,备注" {
				t.Fatalf("data sheet %q", rows)
			}
			dvs, _ := f.GetDataValidations("测试物品")
			if len(dvs) != 1 || dvs[0].Sqref != "B2:B1048576" || !strings.Contains(dvs[0].Formula1, "甲,乙,丙") {
				t.Fatalf("drop-downs %+v", dvs)
			}
			comments, _ := f.GetComments("测试物品")
			if len(comments) != 4 || !strings.Contains(comments[0].Paragraph[0].Text, "code") {
				t.Fatalf("header notes %+v", comments)
			}
			guide, _ := f.GetRows(exchange.GuideSheet)
			if !strings.Contains(fmt.Sprint(guide), "A-001") {
				t.Fatalf("the guide has no example row: %q", guide)
			}
			res, err := exchange.Import(ctx, k, admin, bytes.NewReader(b.Bytes()))
			if err != nil || res.Rows != 0 || res.Inserted != 0 || count(t, db) != 0 {
				t.Fatalf("untouched template: %+v %v, %d stored", res, err, count(t, db))
			}
		})

		t.Run("headers match by Chinese header or English key, in any order", func(t *testing.T) {
			res, err := exchange.Import(ctx, k, admin, book(t,
				[]any{"数量(吨)", "其他", "code", " 类别 "},
				[]any{1.5, "x", "A-1", "甲"},
				[]any{nil, nil, nil, nil},
				[]any{"0.25", "", "A-2", ""}))
			if err != nil || res.Rows != 2 || res.Inserted != 2 || count(t, db) != 2 {
				t.Fatalf("import: %+v %v", res, err)
			}
		})

		t.Run("bad rows are each named and nothing is stored", func(t *testing.T) {
			before := count(t, db)
			_, err := exchange.Import(ctx, k, admin, book(t,
				[]any{"编码", "类别", "数量（吨）"},
				[]any{"B-1", "甲", 1},
				[]any{"B-2", "丁", 2},
				[]any{"B-3", "乙", "很多"},
				[]any{"B-4", "丙", 4}))
			var r *exchange.Refusal
			if !errors.As(err, &r) || r.Total != 2 || len(r.Rows) != 2 {
				t.Fatalf("want a refusal of two rows, got %v", err)
			}
			if e := r.Rows[0]; e.Row != 3 || e.Column != "category" || e.Header != "类别" || e.Code != "category_unknown" || e.Reason == "" {
				t.Fatalf("first error %+v", e)
			}
			if e := r.Rows[1]; e.Row != 4 || e.Column != "quantity_t" || e.Header != "数量（吨）" {
				t.Fatalf("second error %+v", e)
			}
			if count(t, db) != before {
				t.Fatal("a refused import stored rows")
			}
		})

		t.Run("missing required headers are named", func(t *testing.T) {
			_, err := exchange.Import(ctx, k, admin, book(t, []any{"类别", "备注"}, []any{"甲", ""}))
			var e *errs.Error
			if !errors.As(err, &e) || e.Code != "headers_missing" || !strings.Contains(e.Message, "编码") ||
				!strings.Contains(e.Message, "数量（吨）") || len(e.Fields) != 2 {
				t.Fatalf("got %v", err)
			}
		})

		t.Run("a file that is not a workbook is refused", func(t *testing.T) {
			for _, body := range []string{"", "code,quantity_t\nA,1\n", "PK\x03\x04 not really a zip"} {
				_, err := exchange.Import(ctx, k, admin, strings.NewReader(body))
				var e *errs.Error
				if !errors.As(err, &e) || e.Code != "not_a_workbook" || e.Kind != errs.Invalid {
					t.Fatalf("%q: got %v", body, err)
				}
			}
		})

		t.Run("an export re-imports with zero changes", func(t *testing.T) {
			if _, err := exchange.Import(ctx, k, admin, book(t, []any{"编码", "数量（吨）", "备注"},
				[]any{"C-1", "0.1", "第一"}, []any{"C-2", 1234567.123456, ""}, []any{"C-3", "0.30000000000000004", "x"})); err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := exchange.WriteExport(ctx, k, admin, 2026, &b); err != nil {
				t.Fatal(err)
			}
			res, err := exchange.Import(ctx, k, admin, bytes.NewReader(b.Bytes()))
			if err != nil || res.Rows != count(t, db) || res.Unchanged != res.Rows || res.Inserted+res.Updated != 0 {
				t.Fatalf("re-import: %+v %v", res, err)
			}
			// Numbers stay numbers in the export.
			f, _ := excelize.OpenReader(bytes.NewReader(b.Bytes()))
			// (a number cell carries no type attribute: unset means number)
			if typ, _ := f.GetCellType("测试物品", "C2"); typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
				t.Fatalf("quantity cell type %v", typ)
			}
			if typ, _ := f.GetCellType("测试物品", "A2"); typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString {
				t.Fatalf("code cell type %v", typ)
			}
			// A changed row is an update, the others unchanged.
			res, err = exchange.Import(ctx, k, admin, book(t, []any{"编码", "数量（吨）", "备注"}, []any{"C-1", "0.2", "第一"}, []any{"C-2", "1234567.123456", ""}))
			if err != nil || res.Updated != 1 || res.Unchanged != 1 {
				t.Fatalf("update: %+v %v", res, err)
			}
		})

		t.Run("an export beyond a sheet's rows goes on over further sheets", func(t *testing.T) {
			defer func(n int) { exchange.SheetRows = n }(exchange.SheetRows)
			exchange.SheetRows = 2 // the header and one row a sheet
			var b bytes.Buffer
			if err := exchange.WriteExport(ctx, k, admin, 2026, &b); err != nil {
				t.Fatal(err)
			}
			f, _ := excelize.OpenReader(bytes.NewReader(b.Bytes()))
			n := count(t, db)
			var codes []string
			for i := 1; i <= n; i++ {
				sheet := "测试物品"
				if i > 1 {
					sheet = fmt.Sprintf("测试物品 (%d)", i)
				}
				rows, err := f.GetRows(sheet)
				if err != nil || len(rows) != 2 || rows[0][0] != "编码" {
					t.Fatalf("sheet %s: %v %v", sheet, rows, err)
				}
				codes = append(codes, rows[1][0])
			}
			idx, _ := f.GetSheetIndex(fmt.Sprintf("测试物品 (%d)", n+1))
			if n < 3 || len(slices.Compact(slices.Sorted(slices.Values(codes)))) != n || idx >= 0 {
				t.Fatalf("%d rows over sheets %v: %v", n, f.GetSheetList(), codes)
			}
		})

		t.Run("long choice lists go to a hidden sheet", func(t *testing.T) {
			var many []string
			for i := range 300 {
				many = append(many, fmt.Sprintf("类别%03d", i))
			}
			var b bytes.Buffer
			if err := exchange.WriteTemplate(ctx, &items{db: db, choices: many}, &b); err != nil {
				t.Fatal(err)
			}
			f, _ := excelize.OpenReader(bytes.NewReader(b.Bytes()))
			if v, _ := f.GetSheetVisible("选项"); v {
				t.Fatal("the choices sheet is visible")
			}
			dvs, _ := f.GetDataValidations("测试物品")
			if len(dvs) != 1 || !strings.Contains(dvs[0].Formula1, "选项") {
				t.Fatalf("drop-down %+v", dvs)
			}
			if v, _ := f.GetCellValue("选项", "A301"); v != "类别299" {
				t.Fatalf("last choice %q", v)
			}
		})
	})
}

func TestParse(t *testing.T) {
	for in, want := range map[string]int64{"1": 1e6, "0.000001": 1, "0.30000000000000004": 300000, "1,234.5": 1234500000} {
		if g, ok := exchange.ParseTonnes(in); !ok || g != want {
			t.Errorf("ParseTonnes(%q) = %d %v, want %d", in, g, ok, want)
		}
	}
	for _, in := range []string{"", "-1", "abc", "0.0000001", "1e20"} {
		if _, ok := exchange.ParseTonnes(in); ok {
			t.Errorf("ParseTonnes(%q) accepted", in)
		}
	}
	for in, want := range map[string]string{"2026-01-06": "2026-01-06 00:00:00", "2026/1/6 9:30": "2026-01-06 09:30:00",
		"46028": "2026-01-06 00:00:00", "46028.5": "2026-01-06 12:00:00", "2026-01-06 09:30:15": "2026-01-06 09:30:15"} {
		if tm, ok := exchange.ParseTime(in); !ok || exchange.Time(tm) != want {
			t.Errorf("ParseTime(%q) = %v %v, want %s", in, exchange.Time(tm), ok, want)
		}
	}
}
