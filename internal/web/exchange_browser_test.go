package web_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"wufei/internal/calendar"
	"wufei/internal/server"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// TestExchangeBrowser uploads a ledger workbook through the exchange page
// as a generator's account, then one with a bad row, whose refusal lists
// the row in a table and stores nothing.
func TestExchangeBrowser(t *testing.T) {
	ctx, problems := browser(t)
	db, _ := storetest.SQLite(t)
	app, err := server.New(context.Background(), db, server.Config{Demo: true, DemoUnits: 3, Version: "test",
		KeyFile: filepath.Join(t.TempDir(), "audit.key")})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler)
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	at := time.Now().Add(-time.Hour).In(calendar.Zone).Format("2006-01-02 15:04")
	book := func(name string, rows ...[]any) string {
		f := excelize.NewFile()
		for i, r := range rows {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			f.SetSheetRow("Sheet1", cell, &r)
		}
		p := filepath.Join(dir, name)
		if err := f.SaveAs(p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	header := []any{"自编号", "记录类型", "发生时间", "废物代码", "物理性状", "数量（吨）", "容器/包装类型", "设施编码"}
	good := book("good.xlsx", header, []any{"WEB-1", "产生", at, "900-249-08", "L", 1.2, "铁桶", "SC001"})
	bad := book("bad.xlsx", header, []any{"WEB-2", "产生", at, "900-249-08", "L", 0.5, "铁桶", "SC001"},
		[]any{"WEB-3", "产生", at, "900-249-08", "液体", 0.5, "铁桶", "SC001"})

	step(t, ctx, "log in",
		chromedp.Navigate(srv.URL+"/login?next=/exchange"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "gen"),
		chromedp.SendKeys(chromedp.CSS("#password"), "wufei-demo"),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#exchange-hw_ledger")),
	)
	if h := text(t, ctx, "h1"); h != "数据交换" {
		t.Fatalf("heading %q", h)
	}
	if s := text(t, ctx, "#exchange-hw_ledger"); !strings.Contains(s, "危险废物管理台账") || !strings.Contains(s, "下载导入模板") {
		t.Fatalf("ledger section %q", s)
	}

	step(t, ctx, "upload a good workbook",
		chromedp.SetUploadFiles(chromedp.CSS("#file-hw_ledger"), []string{good}),
		chromedp.Click(chromedp.CSS(`#exchange-hw_ledger form[enctype] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#import-result")),
	)
	if s := text(t, ctx, "#import-result"); !strings.Contains(s, "共 1 行，新增 1") {
		t.Fatalf("result %q", s)
	}

	step(t, ctx, "upload a workbook with a bad row",
		chromedp.SetUploadFiles(chromedp.CSS("#file-hw_ledger"), []string{bad}),
		chromedp.Click(chromedp.CSS(`#exchange-hw_ledger form[enctype] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#import-refused table")),
	)
	screenshot(t, ctx, "exchange-refused")
	if s := text(t, ctx, "#import-refused tbody"); !strings.Contains(s, "3") || !strings.Contains(s, "物理性状") ||
		!strings.Contains(s, "form_unknown") {
		t.Fatalf("refusal table %q", s)
	}
	var n int
	if err := store.Get(context.Background(), db.Reader(), &n, `SELECT count(*) FROM exchange_refs WHERE ref IN ('WEB-1', 'WEB-2')`); err != nil || n != 1 {
		t.Fatalf("stored references: %d %v, want WEB-1 only", n, err)
	}

	step(t, ctx, "upload the good workbook again",
		chromedp.SetUploadFiles(chromedp.CSS("#file-hw_ledger"), []string{good}),
		chromedp.Click(chromedp.CSS(`#exchange-hw_ledger form[enctype] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#import-result")),
	)
	if s := text(t, ctx, "#import-result"); !strings.Contains(s, "新增 0，更新 0，未变 1") {
		t.Fatalf("second import %q", s)
	}
	// The refused upload answers 422 on purpose; Chromium logs that.
	for _, p := range problems() {
		if !strings.Contains(p, "status of 422") {
			t.Errorf("browser console error: %v", p)
		}
	}
}
