package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"wufei/internal/exchange"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// upload posts a workbook to an import route: as a multipart form when
// form is set, else as the raw body.
func (c client) upload(path string, book []byte, form bool) (int, map[string]any) {
	c.t.Helper()
	var body bytes.Buffer
	ct := exchange.ContentType
	if form {
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("file", "book.xlsx")
		fw.Write(book)
		mw.Close()
		ct = mw.FormDataContentType()
	} else {
		body.Write(book)
	}
	req, _ := http.NewRequest("POST", c.base+path, &body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		c.t.Fatalf("POST %s: %d %q", path, res.StatusCode, raw)
	}
	if res.StatusCode >= 400 && res.Header.Get("Content-Type") != "application/problem+json" {
		c.t.Errorf("POST %s: %d with %q", path, res.StatusCode, res.Header.Get("Content-Type"))
	}
	return res.StatusCode, m
}

// workbook builds a workbook with a header row and data rows.
func workbook(t *testing.T, rows ...[]any) []byte {
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
	return b.Bytes()
}

// sheet reads the first sheet of a workbook.
func sheet(t *testing.T, book []byte) [][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(book))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows(f.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// rebook writes rows back as a workbook, changing nothing else.
func rebook(t *testing.T, rows [][]string) []byte {
	t.Helper()
	var out [][]any
	for _, r := range rows {
		var a []any
		for _, v := range r {
			a = append(a, v)
		}
		out = append(out, a)
	}
	return workbook(t, out...)
}

func result(t *testing.T, st int, m map[string]any, rows, inserted, updated, unchanged int) {
	t.Helper()
	if st != 200 || m["rows"] != float64(rows) || m["inserted"] != float64(inserted) || m["updated"] != float64(updated) ||
		m["unchanged"] != float64(unchanged) {
		t.Fatalf("import: %d %v; want rows %d inserted %d updated %d unchanged %d", st, m, rows, inserted, updated, unchanged)
	}
}

// rowErrors lists the refused rows of a problem as "row:column:code".
func rowErrors(m map[string]any) []string {
	var out []string
	rows, _ := m["rows"].([]any)
	for _, r := range rows {
		e := r.(map[string]any)
		out = append(out, fmt.Sprintf("%v:%v:%v", e["row"], e["column"], e["code"]))
	}
	return out
}

func TestExchangeHTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		anon := newServer(t, db)
		gen, gen2, sthjj := anon.login("gen"), anon.login("gen2"), anon.login("sthjj")
		carrier, disposer := anon.login("carrier"), anon.login("disposer")
		year := time.Now().In(time.FixedZone("CST", 8*3600)).Year()
		day := time.Now().Add(-48 * time.Hour).In(time.FixedZone("CST", 8*3600))
		at := func(h int) string { return day.Add(time.Duration(h) * time.Minute).Format("2006-01-02 15:04") }
		usccOf := func(c client) string {
			_, me, _ := c.do("GET", "/api/v1/me", nil)
			_, u, _ := c.do("GET", "/api/v1/units/"+me["unit_id"].(string), nil)
			return u["uscc"].(string)
		}
		genUSCC, carrierUSCC, disposerUSCC := usccOf(gen), usccOf(carrier), usccOf(disposer)

		t.Run("the kinds are listed with their columns", func(t *testing.T) {
			st, m, _ := gen.do("GET", "/api/v1/import/kinds", nil)
			names := map[string]bool{}
			for _, k := range list(m) {
				names[k["name"].(string)] = len(k["columns"].([]any)) > 5
			}
			if st != 200 || !names["hw_ledger"] || !names["hw_manifest"] {
				t.Fatalf("kinds: %d %v", st, m)
			}
			if st, _, _ := anon.do("GET", "/api/v1/import/kinds", nil); st != 401 {
				t.Fatalf("anonymous: %d", st)
			}
		})

		t.Run("templates download and import as nothing", func(t *testing.T) {
			for _, kind := range []string{"hw_ledger", "hw_manifest"} {
				st, ct, b := gen.fetch("/api/v1/import/templates/" + kind + ".xlsx")
				if st != 200 || ct != exchange.ContentType {
					t.Fatalf("%s template: %d %q", kind, st, ct)
				}
				f, err := excelize.OpenReader(bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				dvs, _ := f.GetDataValidations(f.GetSheetList()[0])
				if len(dvs) < 2 {
					t.Fatalf("%s: drop-downs %v", kind, dvs)
				}
				st, m := gen.upload("/api/v1/import/"+kind, b, true)
				result(t, st, m, 0, 0, 0, 0)
			}
			if st, _, _ := gen.do("GET", "/api/v1/import/templates/nothing.xlsx", nil); st != 404 {
				t.Fatalf("unknown kind: %d", st)
			}
		})

		t.Run("a file that is not a workbook is refused", func(t *testing.T) {
			st, m := gen.upload("/api/v1/import/hw_ledger", []byte("batch_code,kind\n"), false)
			if st != 422 || m["code"] != "not_a_workbook" {
				t.Fatalf("%d %v", st, m)
			}
			st, m = gen.upload("/api/v1/import/hw_ledger", workbook(t, []any{"批次编码", "备注"}, []any{"", "x"}), true)
			if st != 422 || m["code"] != "headers_missing" || !strings.Contains(m["detail"].(string), "记录类型") {
				t.Fatalf("%d %v", st, m)
			}
		})

		header := []any{"自编号", "记录类型", "发生时间", "上一环节批次", "废物代码", "物理性状", "数量（吨）", "容器/包装类型", "设施编码", "经办人"}
		ledger := workbook(t, header,
			[]any{"L1", "产生", at(0), "", "900-249-08", "L", 2, "铁桶", "SC001", "王建国"},
			[]any{"L2", "入库", at(30), "L1", "", "", "2", "", "ZC001", "王建国"},
			[]any{"L3", "出库", at(60), "L2", "900-249-08", "", 0.5, "", "", ""})

		t.Run("the ledger imports all rows, and again changes nothing", func(t *testing.T) {
			st, m := gen.upload("/api/v1/import/hw_ledger", ledger, true)
			result(t, st, m, 3, 3, 0, 0)
			st, m = gen.upload("/api/v1/import/hw_ledger", ledger, false)
			result(t, st, m, 3, 0, 0, 3)
			_, m, _ = gen.do("GET", "/api/v1/ledger?kind=storage_out", nil)
			if items := list(m); len(items) != 1 || items[0]["quantity_t"] != 0.5 || !strings.HasPrefix(items[0]["prev_batch"].(string), "RK") {
				t.Fatalf("out of storage: %v", m)
			}
		})

		t.Run("one bad row among good ones refuses them all, naming each", func(t *testing.T) {
			_, before, _ := gen.do("GET", "/api/v1/ledger?limit=200", nil)
			st, m := gen.upload("/api/v1/import/hw_ledger", workbook(t, header,
				[]any{"L4", "产生", at(90), "", "900-249-08", "L", 1, "铁桶", "SC001", ""},
				[]any{"L5", "产生", at(95), "", "900-249-08", "L", "很多", "铁桶", "", ""},
				[]any{"L6", "入库", at(99), "L4", "", "", 1, "", "NOPE", ""},
				[]any{"L7", "委托利用处置", at(99), "L4", "", "", 1, "", "", ""},
				[]any{"L8", "出库", at(99), "L2", "", "", 5, "", "", ""}), true)
			got := rowErrors(m)
			want := []string{"3:quantity_t:quantity_positive", "4:facility_code:facility_unknown", "5:kind:kind_export_only",
				"6:quantity_t:quantity_exceeds_batch"}
			if st != 422 || m["code"] != "rows_invalid" || m["total_errors"] != 4.0 || strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("%d %v\ngot  %v\nwant %v", st, m, got, want)
			}
			if rows := m["rows"].([]any); rows[0].(map[string]any)["header"] != "数量（吨）" || rows[0].(map[string]any)["reason"] == "" {
				t.Fatalf("row error %v", rows[0])
			}
			_, after, _ := gen.do("GET", "/api/v1/ledger?limit=200", nil)
			if len(list(after)) != len(list(before)) {
				t.Fatalf("a refused import stored records: %d then %d", len(list(before)), len(list(after)))
			}
		})

		t.Run("the export re-imports with zero changes; a change to a record is refused", func(t *testing.T) {
			st, ct, b := gen.fetch(fmt.Sprintf("/api/v1/export/hw_ledger.xlsx?year=%d", year))
			if st != 200 || ct != exchange.ContentType {
				t.Fatalf("export: %d %q %.300s", st, ct, b)
			}
			rows := sheet(t, b)
			if st != 200 || ct != exchange.ContentType || len(rows) != 4 || rows[0][0] != "批次编码" || rows[1][1] != "L1" ||
				rows[1][2] != genUSCC || !strings.HasPrefix(rows[1][0], "CS") || rows[3][5] != rows[2][0] {
				t.Fatalf("export: %d %q %q", st, ct, rows)
			}
			st, m := gen.upload("/api/v1/import/hw_ledger", b, false)
			result(t, st, m, 3, 0, 0, 3)
			// The city regulator sees the unit's rows and re-imports them unchanged.
			_, _, all := sthjj.fetch(fmt.Sprintf("/api/v1/export/hw_ledger.xlsx?year=%d", year))
			st, m = sthjj.upload("/api/v1/import/hw_ledger", all, true)
			if st != 200 || m["unchanged"] != m["rows"] || m["rows"].(float64) < 3 {
				t.Fatalf("regulator re-import: %d %v", st, m)
			}
			rows[3][9] = "0.4"
			st, m = gen.upload("/api/v1/import/hw_ledger", rebook(t, rows), true)
			if st != 422 || strings.Join(rowErrors(m), " ") != "4:quantity_t:record_immutable" {
				t.Fatalf("changed record: %d %v", st, m)
			}
			// Another unit neither sees these rows nor may import them.
			_, _, other := gen2.fetch(fmt.Sprintf("/api/v1/export/hw_ledger.xlsx?year=%d", year))
			if len(sheet(t, other)) != 1 {
				t.Fatalf("gen2 sees gen's ledger: %q", sheet(t, other))
			}
			st, m = gen2.upload("/api/v1/import/hw_ledger", b, true)
			if st != 422 || !strings.HasPrefix(strings.Join(rowErrors(m), " "), "2:unit_uscc:unit_not_own") {
				t.Fatalf("gen2 import: %d %v", st, m)
			}
		})

		mheader := []any{"自编号", "接受单位统一社会信用代码", "承运单位统一社会信用代码", "车牌号", "废物代码", "数量（吨）", "物理性状", "包装方式", "包装数量"}
		manifests := func(q1 any) []byte {
			return workbook(t, mheader,
				[]any{"M1", disposerUSCC, carrierUSCC, "皖F3A721", "900-249-08", q1, "L", "铁桶", 5},
				[]any{"M2", disposerUSCC, carrierUSCC, "皖F3A721", "900-041-49", 0.3, "S", "吨袋", 1},
				[]any{"M1", disposerUSCC, carrierUSCC, "皖F3A721", "900-041-49", 0.2, "S", "吨袋", 1})
		}

		t.Run("manifests import as drafts; a signed one is never altered", func(t *testing.T) {
			st, m := gen.upload("/api/v1/import/hw_manifest", manifests(1.5), true)
			result(t, st, m, 3, 3, 0, 0)
			st, m = gen.upload("/api/v1/import/hw_manifest", manifests(1.5), false)
			result(t, st, m, 3, 0, 0, 3)
			st, m = gen.upload("/api/v1/import/hw_manifest", manifests("1.6"), true)
			result(t, st, m, 3, 0, 2, 1)

			_, b, _ := gen.do("GET", "/api/v1/manifests?status=draft&limit=100", nil)
			var m1 map[string]any
			for _, it := range list(b) {
				if lines := it["lines"].([]any); len(lines) == 2 && lines[0].(map[string]any)["quantity_t"] == 1.6 {
					m1 = it
				}
			}
			if m1 == nil {
				t.Fatalf("no draft with two lines and 1.6 t: %v", b)
			}
			if st, r, _ := gen.do("POST", "/api/v1/manifests/"+m1["id"].(string)+"/submit", nil); st != 200 {
				t.Fatalf("submit: %d %v", st, r)
			}
			st, m = gen.upload("/api/v1/import/hw_manifest", manifests("1.7"), true)
			if st != 422 || strings.Join(rowErrors(m), " ") != "2:quantity_t:manifest_signed" ||
				!strings.Contains(fmt.Sprint(m["rows"]), m1["number"].(string)) {
				t.Fatalf("signed: %d %v", st, m)
			}

			st, ct, x := gen.fetch(fmt.Sprintf("/api/v1/export/hw_manifest.xlsx?year=%d", year))
			rows := sheet(t, x)
			if st != 200 || ct != exchange.ContentType || len(rows) < 4 || !strings.Contains(fmt.Sprint(rows), m1["number"].(string)) {
				t.Fatalf("export: %d %q", st, rows)
			}
			st, m = gen.upload("/api/v1/import/hw_manifest", x, true)
			if st != 200 || m["unchanged"] != m["rows"] || m["inserted"] != 0.0 {
				t.Fatalf("re-import of the export: %d %v", st, m)
			}
			// The receiver sees the submitted manifest, not the draft, and
			// re-imports what it sees unchanged.
			_, _, rx := disposer.fetch(fmt.Sprintf("/api/v1/export/hw_manifest.xlsx?year=%d", year))
			if got := sheet(t, rx); strings.Contains(fmt.Sprint(got), "M2") {
				t.Fatalf("the receiver sees a draft: %q", got)
			}
			st, m = disposer.upload("/api/v1/import/hw_manifest", rx, true)
			if st != 200 || m["unchanged"] != m["rows"] {
				t.Fatalf("receiver re-import: %d %v", st, m)
			}
		})

		t.Run("a new manifest with a bad line is refused on that line's row", func(t *testing.T) {
			st, m := gen.upload("/api/v1/import/hw_manifest", workbook(t, mheader,
				[]any{"M3", disposerUSCC, carrierUSCC, "皖F3A721", "900-249-08", 1, "L", "铁桶", 2},
				[]any{"M3", disposerUSCC, carrierUSCC, "皖F3A721", "999-999-99", 1, "L", "铁桶", 2},
				[]any{"M4", "91340000000000000X", carrierUSCC, "皖F3A721", "900-249-08", 1, "L", "铁桶", 0}), true)
			got := strings.Join(rowErrors(m), " ")
			if st != 422 || got != "3:waste_code:waste_code_unknown 4:receiver_uscc:unit_unknown 4:package_count:package_count_positive" {
				t.Fatalf("%d %v", st, got)
			}
		})
	})
}
