package server_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"wufei/internal/program/task"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// progRaw sends a request and returns the status, body and headers, for
// pages and files.
func (c client) progRaw(method, path string) (int, []byte, http.Header) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, nil)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b, res.Header
}

// progFields lists a problem's "field=code" pairs.
func progFields(m map[string]any) []string {
	var out []string
	es, _ := m["errors"].([]any)
	for _, e := range es {
		f := e.(map[string]any)
		out = append(out, fmt.Sprint(f["field"], "=", f["code"]))
	}
	return out
}

func TestProgramme(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		anon := newServer(t, db)
		admin, sthjj, gen, gen2 := anon.login("admin"), anon.login("sthjj"), anon.login("gen"), anon.login("gen2")

		// A work-team account: a city-wide regulator of department wfzb.
		_, deps, _ := admin.do("GET", "/api/v1/departments", nil)
		wfzbID := ""
		for _, d := range list(deps) {
			if d["code"] == "wfzb" {
				wfzbID = d["id"].(string)
			}
		}
		if st, m, _ := admin.do("POST", "/api/v1/users", map[string]any{"username": "zhuanban", "display_name": "工作专班",
			"password": "wufei-demo", "role": "regulator", "department_id": wfzbID, "region_code": "340600"}); st != 201 {
			t.Fatalf("create work-team user: %d %v", st, m)
		}
		team := anon.login("zhuanban")

		// The task list: 35 entries with their departments.
		st, m, _ := gen.do("GET", "/api/v1/tasks", nil)
		tasks := list(m)
		if st != 200 || len(tasks) < 35 {
			t.Fatalf("tasks: %d, %d items", st, len(tasks))
		}
		byCode := map[string]map[string]any{}
		for _, x := range tasks {
			byCode[x["code"].(string)] = x
			leads, _ := x["lead_departments"].([]any)
			if x["group"] == "" || x["title"] == "" || len(leads) == 0 || x["deadline"] != "2027-12-31" ||
				x["supporting_departments"] == nil || x["target"] == nil || x["progress"] == nil || x["number"] == nil {
				t.Fatalf("task lacks fields: %v", x)
			}
		}
		hw := byCode["二(五)2"]
		if hw["title"] != "提高危险废物利用处置水平" || hw["target"] != "到2027年，工业危险废物综合利用率达到36%。" ||
			hw["lead_departments"].([]any)[0].(map[string]any)["code"] != "sthjj" ||
			hw["supporting_departments"].([]any)[0].(map[string]any)["name"] != "市发改委" {
			t.Fatalf("二(五)2: %v", hw)
		}
		hwID := hw["id"].(string)

		// The responsibility list of 市生态环境局.
		st, m, _ = sthjj.do("GET", "/api/v1/departments/sthjj/tasks", nil)
		if st != 200 || m["department"].(map[string]any)["name"] != "市生态环境局" || len(list(m)) < 15 {
			t.Fatalf("sthjj responsibilities: %d %v", st, m["department"])
		}
		for _, x := range list(m) {
			if x["role"] != "lead" && x["role"] != "supporting" {
				t.Fatalf("role %v on %v", x["role"], x["code"])
			}
		}
		if st, m, _ := sthjj.do("GET", "/api/v1/departments/nope/tasks", nil); st != 404 {
			t.Fatalf("unknown department: %d %v", st, m)
		}

		// Reports: the department that owns the task, with evidence.
		pdf := []byte("%PDF-1.4 危险废物利用处置进展")
		sum := sha256.Sum256(pdf)
		report := map[string]any{"percent": 45, "text": "小微企业收集试点扩至三个园区", "evidence": []map[string]any{
			{"name": "试点方案.pdf", "content_type": "application/pdf", "data": base64.StdEncoding.EncodeToString(pdf)}}}
		st, m, _ = sthjj.do("POST", "/api/v1/tasks/"+byCode["二(二)1"]["id"].(string)+"/reports", report)
		if st != 403 || !slices.Contains(progFields(m), "department_code=task_not_owned") {
			t.Fatalf("report on another department's task: %d %v", st, m)
		}
		st, m, _ = sthjj.do("POST", "/api/v1/tasks/"+hwID+"/reports", map[string]any{"percent": 120, "text": "x",
			"report_date": "2099-01-01"})
		if st != 422 || !slices.Contains(progFields(m), "percent=percent_range") ||
			!slices.Contains(progFields(m), "report_date=date_future") {
			t.Fatalf("bad report: %d %v", st, m)
		}
		if st, m, _ := gen.do("POST", "/api/v1/tasks/"+hwID+"/reports", report); st != 403 {
			t.Fatalf("a unit reports: %d %v", st, m)
		}
		st, m, _ = sthjj.do("POST", "/api/v1/tasks/"+hwID+"/reports", report)
		if st != 201 || m["status"] != "submitted" || m["department_code"] != "sthjj" {
			t.Fatalf("report: %d %v", st, m)
		}
		rid := m["id"].(string)
		ev := m["evidence"].([]any)[0].(map[string]any)
		if ev["sha256"] != hex.EncodeToString(sum[:]) || ev["size"].(float64) != float64(len(pdf)) {
			t.Fatalf("evidence %v", ev)
		}
		st, body, hdr := sthjj.progRaw("GET", "/api/v1/tasks/"+hwID+"/reports/"+rid+"/evidence/"+ev["id"].(string))
		if st != 200 || !bytes.Equal(body, pdf) || hdr.Get("X-Checksum-SHA256") != ev["sha256"] ||
			hdr.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(hdr.Get("Content-Disposition"), "attachment") {
			t.Fatalf("evidence download: %d %q %v", st, body, hdr)
		}
		if st, _, _ := gen.progRaw("GET", "/api/v1/tasks/"+hwID+"/reports/"+rid+"/evidence/"+ev["id"].(string)); st != 404 {
			t.Fatalf("a unit downloads evidence: %d", st)
		}

		// Review by the work team only; the accepted percent is the task's progress.
		if st, m, _ := sthjj.do("POST", "/api/v1/tasks/"+hwID+"/reports/"+rid+"/accept", nil); st != 403 {
			t.Fatalf("department accepts its own report: %d %v", st, m)
		}
		if st, m, _ := team.do("POST", "/api/v1/tasks/"+hwID+"/reports/"+rid+"/return", map[string]any{"reason": ""}); st != 422 {
			t.Fatalf("return without reason: %d %v", st, m)
		}
		if st, m, _ := team.do("POST", "/api/v1/tasks/"+hwID+"/reports/"+rid+"/accept", map[string]any{"note": "同意"}); st != 200 ||
			m["status"] != "accepted" || m["reviewed_by"] != "zhuanban" {
			t.Fatalf("accept: %d %v", st, m)
		}
		_, m, _ = sthjj.do("GET", "/api/v1/tasks/"+hwID, nil)
		if m["progress"].(float64) != 45 || len(m["reports"].([]any)) != 1 {
			t.Fatalf("task after review: %v %v", m["progress"], m["reports"])
		}
		if _, m, _ := gen.do("GET", "/api/v1/tasks/"+hwID, nil); len(m["reports"].([]any)) != 0 {
			t.Fatal("a unit sees the reports")
		}

		// Milestones.
		st, m, _ = sthjj.do("POST", "/api/v1/tasks/"+hwID+"/milestones", map[string]any{"title": "园区收集贮存转运中心建成",
			"due_date": "2027-06-30"})
		if st != 201 || m["department_code"] != "sthjj" || m["status"] != "open" {
			t.Fatalf("milestone: %d %v", st, m)
		}
		mid := m["id"].(string)
		if st, m, _ := team.do("POST", "/api/v1/tasks/"+hwID+"/milestones", map[string]any{"title": "x", "due_date": "2027-06-30"}); st != 422 ||
			!slices.Contains(progFields(m), "department_code=department_required") {
			t.Fatalf("work-team milestone without a department: %d %v", st, m)
		}
		if st, m, _ := sthjj.do("POST", "/api/v1/tasks/"+hwID+"/milestones/"+mid+"/done", map[string]any{"note": "已建成"}); st != 200 ||
			m["status"] != "done" {
			t.Fatalf("milestone done: %d %v", st, m)
		}

		// Cells: applied for by a unit, scored, approved; the indicator counts it.
		year := time.Now().In(time.FixedZone("CST", 8*3600)).Year()
		cellsOf := func() float64 {
			_, m, _ := gen2.do("GET", fmt.Sprintf("/api/v1/indicators?year=%d&region=340603", year), nil)
			for _, it := range list(m) {
				if it["id"] == "zero_waste_cells" {
					v, _ := it["value"].(float64)
					return v
				}
			}
			t.Fatal("no zero_waste_cells indicator")
			return 0
		}
		before := cellsOf()
		st, m, _ = gen.do("GET", "/api/v1/cell-types", nil)
		types := list(m)
		if st != 200 || len(types) < 10 || len(types[0]["criteria"].([]any)) == 0 {
			t.Fatalf("cell types: %d %d", st, len(types))
		}
		st, m, _ = gen2.do("POST", "/api/v1/cells", map[string]any{"type": "community", "name": "相山区东山社区"})
		if st != 201 || m["status"] != "applied" || m["region_code"] != "340603" {
			t.Fatalf("apply: %d %v", st, m)
		}
		cid := m["id"].(string)
		var sheet []map[string]any
		for _, l := range m["checklist"].([]any) {
			c := l.(map[string]any)
			sheet = append(sheet, map[string]any{"criterion": c["code"], "score": c["max_score"].(float64) * 0.9})
		}
		if st, _, _ := gen.do("GET", "/api/v1/cells/"+cid, nil); st != 404 {
			t.Fatalf("another unit sees the cell: %d", st)
		}
		if st, _, _ := gen2.do("POST", "/api/v1/cells/"+cid+"/scores", map[string]any{"scores": sheet}); st != 403 {
			t.Fatalf("the applicant scores: %d", st)
		}
		bad := []map[string]any{{"criterion": "sorting", "score": 11}, {"criterion": "canteen", "score": 5}}
		st, m, _ = team.do("POST", "/api/v1/cells/"+cid+"/scores", map[string]any{"scores": bad})
		if st != 422 || !slices.Equal(progFields(m), []string{"scores[0].score=score_range", "scores[1].criterion=criterion_unknown"}) {
			t.Fatalf("bad scores: %d %v", st, m)
		}
		if _, m, _ := team.do("GET", "/api/v1/cells/"+cid, nil); m["status"] != "applied" || m["score"] != nil {
			t.Fatalf("a refused sheet changed the cell: %v %v", m["status"], m["score"])
		}
		st, m, _ = team.do("POST", "/api/v1/cells/"+cid+"/scores", map[string]any{"scores": sheet})
		if st != 200 || m["status"] != "scored" || m["score"].(float64) != 90 {
			t.Fatalf("scores: %d %v", st, m)
		}
		st, m, _ = team.do("POST", "/api/v1/cells/"+cid+"/approve", nil)
		if st != 200 || m["status"] != "certified" || m["certificate_date"] != task.Today(time.Now()) {
			t.Fatalf("approve: %d %v", st, m)
		}
		if after := cellsOf(); after != before+1 {
			t.Fatalf("zero_waste_cells for 340603 went from %v to %v", before, after)
		}
		community := map[string]any{"name": types[3]["name"], "lead_department_code": "cgj", "pass_mark": 85,
			"criteria": types[3]["criteria"]}
		if st, m, _ := gen.do("PUT", "/api/v1/cell-types/community", community); st != 403 {
			t.Fatalf("a unit edits the checklist: %d %v", st, m)
		}
		if st, m, _ := team.do("PUT", "/api/v1/cell-types/community", community); st != 200 || m["pass_mark"].(float64) != 85 ||
			m["version"].(float64) != 2 {
			t.Fatalf("the work team edits the checklist: %d %v", st, m)
		}

		// The bulletin workbook.
		period := task.Rules{ReportEvery: "quarter"}.PeriodOf(task.Today(time.Now())).Prev().String()
		st, body, hdr = team.progRaw("GET", "/api/v1/bulletins/"+period+".xlsx")
		if st != 200 || !strings.Contains(hdr.Get("Content-Type"), "spreadsheetml") {
			t.Fatalf("bulletin: %d %s %.200s", st, hdr.Get("Content-Type"), body)
		}
		f, err := excelize.OpenReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("open workbook: %v", err)
		}
		if got := f.GetSheetList(); !slices.Equal(got, []string{"指标", "任务", "地区排名", "逾期事项"}) {
			t.Fatalf("sheets %v", got)
		}
		rows, _ := f.GetRows("任务")
		if len(rows) != 3+len(tasks) {
			t.Fatalf("task sheet has %d rows", len(rows))
		}
		if rows, _ := f.GetRows("指标"); len(rows) < 3+19 {
			t.Fatalf("indicator sheet has %d rows", len(rows))
		}
		f.Close()
		if st, m, _ := gen.do("GET", "/api/v1/bulletins/"+period+".xlsx", nil); st != 403 {
			t.Fatalf("a unit gets the bulletin: %d %v", st, m)
		}
		if st, m, _ := team.do("GET", "/api/v1/bulletins/2026Q5.xlsx", nil); st != 422 || !strings.HasPrefix(progFields(m)[0], "file=") {
			t.Fatalf("bad period: %d %v", st, m)
		}
		if st, m, _ := sthjj.do("GET", "/api/v1/bulletins/"+period, nil); st != 200 || len(m["tasks"].([]any)) != len(tasks) {
			t.Fatalf("bulletin JSON: %d", st)
		}

		// The pages.
		for _, pg := range []struct {
			c    client
			path string
			want []string
		}{
			{gen, "/tasks", []string{"二(五)2", "提高危险废物利用处置水平", "<progress"}},
			{sthjj, "/tasks?department=sthjj", []string{"责任单位", "季度通报"}},
			{sthjj, "/tasks/" + hwID, []string{"园区收集贮存转运中心建成", "试点方案.pdf", "报送进展"}},
			{team, "/tasks/" + hwID, []string{"已通过"}},
			{gen2, "/cells", []string{"相山区东山社区", "申报无废细胞"}},
			{team, "/cells/" + cid, []string{"相山区东山社区", "撤销命名", "90"}},
			{team, "/bulletins/" + period, []string{"工作进展通报", "地区排名", "下载 Excel 工作簿"}},
		} {
			st, body, _ := pg.c.progRaw("GET", pg.path)
			if st != 200 {
				t.Fatalf("GET %s: %d\n%.500s", pg.path, st, body)
			}
			for _, w := range pg.want {
				if !bytes.Contains(body, []byte(w)) {
					t.Errorf("GET %s lacks %q", pg.path, w)
				}
			}
		}
		if st, _, _ := gen.progRaw("GET", "/bulletins/"+period); st != 403 {
			t.Fatalf("a unit opens the bulletin page: %d", st)
		}
	})
}
