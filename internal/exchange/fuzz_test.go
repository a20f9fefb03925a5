package exchange_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"wufei/internal/errs"
	"wufei/internal/exchange"
	"wufei/internal/store/storetest"
)

// Whatever bytes arrive as a workbook, the import answers with a result or
// a refusal that has a stable code — never a panic or an internal error —
// and a refused file stores nothing.
func FuzzImportWorkbook(f *testing.F) {
	seed := func(rows ...[]any) []byte {
		b, _ := io.ReadAll(book(f, rows...))
		return b
	}
	f.Add(seed([]any{"编码", "类别", "数量（吨）"}, []any{"A-1", "甲", "1.5"}))
	f.Add(seed([]any{"编码", "类别", "数量（吨）"}, []any{"A-1", "甲", "很多"}, []any{"A-2", "丙", "-1"}))
	f.Add(seed([]any{"code", "quantity_t"}, []any{"", ""}))
	f.Add(seed([]any{"备注"}))
	f.Add([]byte("PK\x03\x04 not really a zip"))
	f.Add([]byte("编码,数量\nA-1,1\n"))
	f.Add([]byte{})
	db, _ := storetest.SQLite(f)
	k := newItems(f, db, []string{"甲", "乙"})
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, file []byte) {
		before := count(t, db)
		res, err := exchange.Import(ctx, k, admin, bytes.NewReader(file))
		if err == nil {
			if res.Rows != res.Inserted+res.Updated+res.Unchanged {
				t.Fatalf("result does not add up: %+v", res)
			}
			return
		}
		var refused *exchange.Refusal
		if errs.KindOf(err) != errs.Invalid && !(errors.As(err, &refused) && refused.Total >= len(refused.Rows) && len(refused.Rows) > 0) {
			t.Fatalf("not a refusal with a code: %v", err)
		}
		if after := count(t, db); after != before {
			t.Fatalf("a refused file stored %d rows", after-before)
		}
	})
}
