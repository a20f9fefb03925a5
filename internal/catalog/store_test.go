package catalog_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"wufei/internal/audit"
	"wufei/internal/catalog"
	"wufei/internal/errs"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

func seed(t testing.TB, db *store.DB) {
	t.Helper()
	if err := db.Tx(context.Background(), func(tx *store.Tx) error { return catalog.Seed(context.Background(), tx) }); err != nil {
		t.Fatalf("seed: %v", err)
	}
}

func count(t testing.TB, db *store.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := store.Get(context.Background(), db.Reader(), &n, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func auditChanges(t testing.TB, db *store.DB, action string) []map[string]any {
	t.Helper()
	var changes []string
	if err := store.Select(context.Background(), db.Reader(), &changes, `SELECT change FROM audit_entries WHERE action = ? ORDER BY seq`, action); err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, c := range changes {
		var m map[string]any
		if err := json.Unmarshal([]byte(c), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func TestSeed(t *testing.T) {
	_, rows := readCSV(t, "data/waste_codes.csv")
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seed(t, db)
		seed(t, db) // idempotent: nothing is empty the second time
		want := map[string]int{"hw_categories": 46, "waste_codes": len(rows), "methods": 22, "exemptions": 17, "gisw_categories": 17}
		for table, n := range want {
			if got := count(t, db, `SELECT count(*) FROM `+table); got != n {
				t.Errorf("%s: %d rows, want %d", table, got, n)
			}
		}
		if n := count(t, db, `SELECT count(*) FROM waste_codes WHERE edition <> ?`, catalog.EditionSubset); n != 0 {
			t.Errorf("%d seeded codes are not marked %s", n, catalog.EditionSubset)
		}
		changes := auditChanges(t, db, "catalog.seed")
		if len(changes) != 1 {
			t.Fatalf("%d catalog.seed audit entries, want 1", len(changes))
		}
		for table, n := range want {
			if changes[0][table] != float64(n) {
				t.Errorf("audit change %v: %s = %v, want %d", changes[0], table, changes[0][table], n)
			}
		}
		if n := count(t, db, `SELECT count(*) FROM audit_entries WHERE action = 'catalog.seed' AND entity = 'catalog' AND entity_id = 'embedded' AND actor_user_id = 'system'`); n != 1 {
			t.Errorf("seed audit entry does not name entity catalog/embedded by the system actor")
		}

		methods, err := catalog.ListMethods(ctx, db.Reader())
		if err != nil {
			t.Fatal(err)
		}
		var codes []string
		for _, m := range methods {
			codes = append(codes, m.Code)
			if m.Local != (m.Kind == catalog.KindMedical) {
				t.Errorf("method %s: local = %v", m.Code, m.Local)
			}
		}
		wantCodes := []string{"R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "R15", "D1", "D9", "D10", "D16",
			"C1", "C2", "C3", "Y10", "Y11", "Y12", "Y13", "Y16"}
		if !slices.Equal(codes, wantCodes) {
			t.Errorf("methods = %v, want %v", codes, wantCodes)
		}

		cats, err := catalog.ListCategories(ctx, db.Reader())
		if err != nil || len(cats) != 46 || cats[0].Code != "HW01" || cats[45].Code != "HW50" {
			t.Errorf("categories = %v, %v", cats, err)
		}
		ex, err := catalog.ListExemptions(ctx, db.Reader())
		if err != nil || len(ex) != 17 || ex[0].No != 1 {
			t.Errorf("exemptions = %d, %v", len(ex), err)
		}
		gisw, err := catalog.ListGISWCategories(ctx, db.Reader())
		if err != nil || len(gisw) != 17 || gisw[0].Code != "SW01" {
			t.Errorf("gisw categories = %d, %v", len(gisw), err)
		}

		w, err := catalog.GetWasteCode(ctx, db.Reader(), "900-041-49")
		if err != nil || w.Category != "HW49" || !slices.Equal(w.Characteristics, catalog.Characteristics{"T", "In"}) {
			t.Errorf("GetWasteCode(900-041-49) = %+v, %v", w, err)
		}
		_, err = catalog.GetWasteCode(ctx, db.Reader(), "900-001-41")
		if errs.KindOf(err) != errs.NotFound || !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unlisted code: %v, want NotFound", err)
		}
		if _, err = catalog.GetWasteCode(ctx, db.Reader(), "900-1-41"); errs.KindOf(err) != errs.Invalid {
			t.Errorf("malformed code: %v, want Invalid", err)
		}
	})
}

// goodFile is a small catalogue file in the official table's shape: Chinese
// headings in the table's order, a serial-number column, a BOM, merged
// cells (empty category and industry), and characteristics written T/I.
const goodFile = "\uFEFF序号,废物类别,行业来源,废物代码,危险废物,危险特性\r\n" +
	"1,HW08 废矿物油与含矿物油废物,石油开采,071-001-08,石油开采和联合站贮存产生的油泥和油脚,T/I\r\n" +
	"2,,非特定行业,900-214-08,车辆、轮船及其它机械维修过程中产生的废发动机油、制动器油、自动变速器油、齿轮油等废润滑油,\"T,I\"\r\n" +
	"3,HW08,,900-249-08,\"其他生产、销售、使用过程中产生的废矿物油及沾染矿物油的废弃包装物\",T，I\r\n"

func TestImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seed(t, db)
		subset := count(t, db, `SELECT count(*) FROM waste_codes`)
		actor := audit.Actor{UserID: "u1", Username: "admin", Role: "admin"}

		rep, err := catalog.Import(ctx, db, strings.NewReader(goodFile), actor)
		if err != nil {
			t.Fatalf("import: %v (%+v)", err, rep.Problems)
		}
		sum := sha256.Sum256([]byte(goodFile))
		want := catalog.Report{Rows: 3, Inserted: 1, Updated: 2, Kept: subset - 2, SHA256: hex.EncodeToString(sum[:])}
		if rep.Rows != want.Rows || rep.Inserted != want.Inserted || rep.Updated != want.Updated || rep.Kept != want.Kept || rep.SHA256 != want.SHA256 {
			t.Errorf("report = %+v, want %+v", rep, want)
		}
		if got := count(t, db, `SELECT count(*) FROM waste_codes`); got != subset+1 {
			t.Errorf("%d codes after import, want %d", got, subset+1)
		}
		w, err := catalog.GetWasteCode(ctx, db.Reader(), "900-249-08")
		if err != nil || w.Edition != catalog.Edition || w.Industry != "非特定行业" || w.Category != "HW08" ||
			!strings.HasPrefix(w.Description, "其他生产") || !slices.Equal(w.Characteristics, catalog.Characteristics{"T", "I"}) {
			t.Errorf("900-249-08 after import = %+v, %v", w, err)
		}
		if w, _ := catalog.GetWasteCode(ctx, db.Reader(), "071-001-08"); w.Edition != catalog.Edition || w.Industry != "石油开采" {
			t.Errorf("071-001-08 = %+v", w)
		}
		if n := count(t, db, `SELECT count(*) FROM waste_codes WHERE edition = ?`, catalog.EditionSubset); n != subset-2 {
			t.Errorf("%d subset rows left, want %d", n, subset-2)
		}
		changes := auditChanges(t, db, "catalog.import")
		if len(changes) != 1 {
			t.Fatalf("%d catalog.import audit entries, want 1", len(changes))
		}
		c := changes[0]
		if c["sha256"] != want.SHA256 || c["rows"] != 3.0 || c["inserted"] != 1.0 || c["updated"] != 2.0 || c["edition"] != "2025" {
			t.Errorf("audit change = %v", c)
		}
		if n := count(t, db, `SELECT count(*) FROM audit_entries WHERE action = 'catalog.import' AND actor_user_id = 'u1'`); n != 1 {
			t.Errorf("import audit entry does not name the actor")
		}

		// Importing the same file again changes nothing but is recorded.
		rep, err = catalog.Import(ctx, db, strings.NewReader(goodFile), actor)
		if err != nil || rep.Inserted != 0 || rep.Updated != 3 {
			t.Errorf("second import = %+v, %v", rep, err)
		}
	})
}

func TestImportBeforeSeed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		rep, err := catalog.Import(context.Background(), db, strings.NewReader(goodFile), audit.System)
		if err != nil || rep.Inserted != 3 {
			t.Fatalf("import into an empty catalogue = %+v, %v", rep, err)
		}
		if n := count(t, db, `SELECT count(*) FROM hw_categories`); n != 46 {
			t.Errorf("%d categories, want 46", n)
		}
	})
}

func TestImportRejectsBadFile(t *testing.T) {
	// English headings in another order; lines 3–10 are each wrong in one way.
	const file = "code,description,characteristics,category,industry\n" +
		"900-249-08,废矿物油,\"T,I\",HW08,非特定行业\n" + // 2: good
		"900-24-08,废矿物油,\"T,I\",HW08,非特定行业\n" + // 3: code format
		"900-214-08,废润滑油,\"T,I\",HW09,非特定行业\n" + // 4: category ≠ digits 7–8
		"900-217-08,废润滑油,\"T,X\",HW08,非特定行业\n" + // 5: characteristic
		"900-218-08,,\"T,I\",HW08,非特定行业\n" + // 6: description
		"900-249-08,废矿物油,\"T,I\",HW08,非特定行业\n" + // 7: duplicate of line 2
		"900-219-08,废冷冻机油,\"T,I\",HW08\n" + // 8: column count
		"900-001-41,不存在的类别,T,HW41,非特定行业\n" + // 9: category not in the 名录
		"900-220-08,废变压器油,,HW08,非特定行业\n" // 10: no characteristics
	want := []catalog.Problem{
		{Line: 3, Column: "code", Code: "waste_code_format"},
		{Line: 4, Column: "category", Code: "waste_code_category"},
		{Line: 5, Column: "characteristics", Code: "characteristic_unknown"},
		{Line: 6, Column: "description", Code: "description_missing"},
		{Line: 7, Column: "code", Code: "waste_code_duplicate"},
		{Line: 8, Column: "", Code: "column_count"},
		{Line: 9, Column: "category", Code: "category_unknown"},
		{Line: 10, Column: "characteristics", Code: "characteristic_missing"},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seed(t, db)
		before := count(t, db, `SELECT count(*) FROM waste_codes`)
		beforeEdition := count(t, db, `SELECT count(*) FROM waste_codes WHERE edition = ?`, catalog.EditionSubset)
		beforeAudit := count(t, db, `SELECT count(*) FROM audit_entries`)

		rep, err := catalog.Import(ctx, db, strings.NewReader(file), audit.System)
		var e *errs.Error
		if !errors.As(err, &e) || e.Code != "catalog_file_invalid" || e.Kind != errs.Invalid || len(e.Fields) != len(want) {
			t.Fatalf("err = %v, want catalog_file_invalid with %d fields", err, len(want))
		}
		if rep.Rows != 9 || rep.ProblemCount != len(want) || len(rep.Problems) != len(want) {
			t.Errorf("report: rows %d, %d problems: %+v", rep.Rows, rep.ProblemCount, rep.Problems)
		}
		for i, p := range rep.Problems {
			if i >= len(want) {
				break
			}
			if p.Line != want[i].Line || p.Column != want[i].Column || p.Code != want[i].Code || p.Message == "" {
				t.Errorf("problem %d = %+v, want %+v", i, p, want[i])
			}
		}
		if e.Fields[0].Field != "3:code" || e.Fields[0].Code != "waste_code_format" {
			t.Errorf("first field = %+v", e.Fields[0])
		}
		if n := count(t, db, `SELECT count(*) FROM waste_codes`); n != before {
			t.Errorf("%d codes after a rejected import, want %d", n, before)
		}
		if n := count(t, db, `SELECT count(*) FROM waste_codes WHERE edition = ?`, catalog.EditionSubset); n != beforeEdition {
			t.Errorf("a rejected import changed %d rows", beforeEdition-n)
		}
		if n := count(t, db, `SELECT count(*) FROM audit_entries`); n != beforeAudit {
			t.Errorf("a rejected import wrote %d audit entries", n-beforeAudit)
		}
	})
}

func TestParseCodesFileFaults(t *testing.T) {
	for name, tc := range map[string]struct {
		file string
		code string
		line int
	}{
		"empty":           {"", "header_missing", 1},
		"header only":     {"code,category,industry,description,characteristics\n", "rows_missing", 2},
		"missing column":  {"code,category,industry,description\n900-249-08,HW08,非特定行业,废矿物油\n", "column_missing", 1},
		"duplicate head":  {"code,废物代码,category,industry,description,characteristics\n", "column_duplicate", 1},
		"gbk":             {"code,category,industry,description,characteristics\n900-249-08,HW08,\xb7\xc7\xcc\xd8,x,T\n", "encoding_invalid", 2},
		"bare quote":      {"code,category,industry,description,characteristics\n900-249-08,HW08,a,b\"c,T\n", "csv_syntax", 2},
		"bad category":    {"code,category,industry,description,characteristics\n900-249-08,H08,a,b,T\n", "category_format", 2},
		"first industry":  {"code,category,industry,description,characteristics\n900-249-08,HW08,,b,T\n", "industry_missing", 2},
		"blank rows only": {"code,category,industry,description,characteristics\n,,,,\n", "rows_missing", 2},
	} {
		t.Run(name, func(t *testing.T) {
			codes, rep, err := catalog.ParseCodes(strings.NewReader(tc.file), catalog.Edition)
			if err == nil || codes != nil || len(rep.Problems) == 0 {
				t.Fatalf("ParseCodes = %v, %+v, %v; want a fault", codes, rep, err)
			}
			if p := rep.Problems[0]; p.Code != tc.code || p.Line != tc.line {
				t.Errorf("problem = %+v, want %s on line %d", p, tc.code, tc.line)
			}
		})
	}
}

func TestListWasteCodes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seed(t, db)

		hw08, next, err := catalog.ListWasteCodes(ctx, db.Reader(), catalog.Filter{Category: "HW08", Limit: 500})
		if err != nil || next != "" {
			t.Fatalf("HW08: next %q, %v", next, err)
		}
		found := false
		for _, w := range hw08 {
			if w.Category != "HW08" {
				t.Errorf("HW08 filter returned %s", w.Code)
			}
			found = found || w.Code == "900-249-08"
		}
		if !found || len(hw08) != count(t, db, `SELECT count(*) FROM waste_codes WHERE category = 'HW08'`) {
			t.Errorf("HW08 filter: %d codes, 900-249-08 found: %v", len(hw08), found)
		}

		for q, want := range map[string]string{
			"vocs":    "900-039-49", // the description says VOCs: case is ignored on both engines
			"249-08":  "900-249-08",
			"飞灰":      "772-002-18",
			"废铅蓄电池拆解": "900-052-31",
		} {
			got, _, err := catalog.ListWasteCodes(ctx, db.Reader(), catalog.Filter{Query: q})
			if err != nil || !slices.ContainsFunc(got, func(w catalog.WasteCode) bool { return w.Code == want }) {
				t.Errorf("query %q: %d codes, %v; want %s among them", q, len(got), err, want)
			}
		}
		for _, q := range []string{"%", "_", `\`} {
			if got, _, err := catalog.ListWasteCodes(ctx, db.Reader(), catalog.Filter{Query: q}); err != nil || len(got) != 0 {
				t.Errorf("query %q matched %d codes, %v; LIKE wildcards must be literal", q, len(got), err)
			}
		}
		if _, _, err := catalog.ListWasteCodes(ctx, db.Reader(), catalog.Filter{Limit: -1}); errs.KindOf(err) != errs.Invalid {
			t.Errorf("negative limit: %v", err)
		}
	})
}

func TestListWasteCodesPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seed(t, db)
		total := count(t, db, `SELECT count(*) FROM waste_codes`)
		for _, f := range []catalog.Filter{{Limit: 7}, {Limit: 1}, {Limit: total}, {Category: "HW49", Limit: 3}, {Query: "废", Limit: 10}} {
			var all []string
			seen := map[string]bool{}
			pages := 0
			for {
				page, next, err := catalog.ListWasteCodes(ctx, db.Reader(), f)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				if len(page) > f.Limit || (next != "" && len(page) != f.Limit) {
					t.Fatalf("filter %+v: page of %d, next %q", f, len(page), next)
				}
				for _, w := range page {
					if seen[w.Code] {
						t.Fatalf("filter %+v: %s returned twice", f, w.Code)
					}
					seen[w.Code] = true
					all = append(all, w.Code)
				}
				if next == "" {
					break
				}
				f.After = next
				if pages > total+1 {
					t.Fatal("pagination does not end")
				}
			}
			want := total
			switch {
			case f.Category != "":
				want = count(t, db, `SELECT count(*) FROM waste_codes WHERE category = ?`, f.Category)
			case f.Query != "":
				want = count(t, db, `SELECT count(*) FROM waste_codes WHERE description LIKE ?`, "%"+f.Query+"%")
			}
			if len(all) != want || !slices.IsSorted(all) {
				t.Errorf("filter %+v: walked %d codes in order %v, want %d", f, len(all), slices.IsSorted(all), want)
			}
		}
	})
}
