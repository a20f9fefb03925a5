package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"wufei/internal/auth"
	"wufei/internal/calendar"
	"wufei/internal/errs"
	"wufei/internal/exchange"
	"wufei/internal/server"
	"wufei/internal/store"
)

// parseInterleaved parses flags that may come before, between or after
// the positional arguments (wufei import KIND FILE --db URL).
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// exchangeSetup opens the database and finds the kind and the account the
// command acts as: --as USERNAME, else the platform administrator.
func exchangeSetup(ctx context.Context, dbURL, kindName, as string) (*store.DB, exchange.Kind, auth.Principal, error) {
	db, err := openPrepared(ctx, dbURL)
	if err != nil {
		return nil, nil, auth.Principal{}, err
	}
	fail := func(err error) (*store.DB, exchange.Kind, auth.Principal, error) {
		db.Close()
		return nil, nil, auth.Principal{}, err
	}
	var kind exchange.Kind
	var names []string
	for _, k := range server.ExchangeKinds(db) {
		names = append(names, k.Name())
		if k.Name() == kindName {
			kind = k
		}
	}
	if kind == nil {
		return fail(fmt.Errorf("没有数据交换类型 %q；可用的类型：%s", kindName, strings.Join(names, ", ")))
	}
	var id string
	if as != "" {
		err = store.Get(ctx, db.Reader(), &id, `SELECT id FROM users WHERE username = ?`, as)
	} else {
		err = store.Get(ctx, db.Reader(), &id, `SELECT id FROM users WHERE role = 'admin' AND disabled = ? ORDER BY created_at LIMIT 1`, false)
	}
	if errors.Is(err, store.ErrNotFound) {
		if as != "" {
			return fail(fmt.Errorf("没有用户 %q", as))
		}
		return fail(errors.New("数据库中没有平台管理员账号；请先用 wufei admin create 创建，或用 --as 指定以哪个用户的身份导入或导出"))
	}
	if err != nil {
		return fail(err)
	}
	u, err := auth.NewService(db).GetUser(ctx, id)
	if err != nil {
		return fail(err)
	}
	if u.Disabled {
		return fail(fmt.Errorf("用户 %q 已停用", u.Username))
	}
	return db, kind, u.Principal(), nil
}

func importCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dbURL := dbFlags("import", stderr)
	as := fs.String("as", "", "act as this user (default: the platform administrator)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := parseInterleaved(fs, args)
	if err != nil || len(pos) != 2 {
		fmt.Fprintln(stderr, "usage: wufei import KIND FILE.xlsx [--db URL] [--as USERNAME] [--json]")
		return exitError(2)
	}
	f, err := os.Open(pos[1])
	if err != nil {
		return err
	}
	defer f.Close()
	db, kind, p, err := exchangeSetup(ctx, *dbURL, pos[0], *as)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := exchange.Import(ctx, kind, p, f)
	var refusal *exchange.Refusal
	var e *errs.Error
	switch {
	case errors.As(err, &refusal):
		if *asJSON {
			_ = json.NewEncoder(stdout).Encode(map[string]any{"code": "rows_invalid", "detail": refusal.Message(),
				"rows": refusal.Rows, "total_errors": refusal.Total})
		} else {
			for _, r := range refusal.Rows {
				col := r.Header
				if r.Column != "" {
					col += "（" + r.Column + "）"
				}
				fmt.Fprintf(stderr, "第 %d 行 %s：%s [%s]\n", r.Row, col, r.Reason, r.Code)
			}
			fmt.Fprintln(stderr, refusal.Message())
		}
		return exitError(1)
	case errors.As(err, &e) && e.Kind != errs.Internal:
		if *asJSON {
			_ = json.NewEncoder(stdout).Encode(map[string]any{"code": e.Code, "detail": e.Message, "errors": e.Fields})
		} else {
			fmt.Fprintf(stderr, "%s [%s]\n", e.Message, e.Code)
		}
		return exitError(1)
	case err != nil:
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "导入 %s：共 %d 行，新增 %d，更新 %d，未变 %d\n", res.Kind, res.Rows, res.Inserted, res.Updated, res.Unchanged)
	return nil
}

func exportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dbURL := dbFlags("export", stderr)
	as := fs.String("as", "", "act as this user (default: the platform administrator)")
	year := fs.Int("year", time.Now().In(calendar.Zone).Year(), "the year to export (Beijing time)")
	out := fs.String("o", "", "the workbook to write (- for standard output)")
	pos, err := parseInterleaved(fs, args)
	if err != nil || len(pos) != 1 || *out == "" {
		fmt.Fprintln(stderr, "usage: wufei export KIND --year YEAR -o FILE.xlsx [--db URL] [--as USERNAME]")
		return exitError(2)
	}
	db, kind, p, err := exchangeSetup(ctx, *dbURL, pos[0], *as)
	if err != nil {
		return err
	}
	defer db.Close()
	if *out == "-" {
		return exchange.WriteExport(ctx, kind, p, *year, stdout)
	}
	// Write beside the target and rename, so a failed export leaves no
	// half-written workbook.
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".wufei-export-*.xlsx")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := exchange.WriteExport(ctx, kind, p, *year, tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "已导出 %s %d 年的记录到 %s\n", kind.Name(), *year, *out)
	return nil
}
