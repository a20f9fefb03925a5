package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"wufei/internal/auth"
	"wufei/internal/server"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out, &out); err != nil || !strings.HasPrefix(out.String(), "wufei ") {
		t.Fatalf("version: %v %q", err, out.String())
	}
	if err := run(context.Background(), []string{"nope"}, &out, &out); !errors.As(err, new(exitError)) {
		t.Fatalf("unknown command: %v", err)
	}
}

// TestAuditVerifyFindsTampering runs the command as an operator would: a
// clean log verifies; after one entry's content is changed directly in the
// database, verify exits non-zero and names that entry.
func TestAuditVerifyFindsTampering(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			db, url := e.Open(t)
			db.Close()
			app, err := server.Open(ctx, server.Config{DB: url, Demo: true, DemoUnits: 3,
				KeyFile: filepath.Join(t.TempDir(), "k")})
			if err != nil {
				t.Fatal(err)
			}
			app.DB.Close()

			var out, errb bytes.Buffer
			if err := run(ctx, []string{"audit", "verify", "--db", url}, &out, &errb); err != nil {
				t.Fatalf("clean log: %v\n%s%s", err, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), "OK") {
				t.Fatalf("clean log: %s", out.String())
			}

			raw := rawDB(t, url)
			defer raw.Close()
			drop := []string{"DROP TRIGGER audit_entries_no_update", "DROP TRIGGER audit_entries_no_delete"}
			if strings.HasPrefix(url, "postgres") {
				drop = []string{"DROP TRIGGER audit_entries_append_only ON audit_entries"}
			}
			for _, q := range drop {
				if _, err := raw.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := raw.Exec(`UPDATE audit_entries SET change = '{"name":"改过的名字"}' WHERE seq = 7`); err != nil {
				t.Fatal(err)
			}
			out.Reset()
			err = run(ctx, []string{"audit", "verify", "--db", url}, &out, &errb)
			var code exitError
			if !errors.As(err, &code) || code == 0 {
				t.Fatalf("tampered log: err %v, output %s", err, out.String())
			}
			if !strings.Contains(out.String(), "entry 7:") {
				t.Fatalf("verify does not name entry 7: %s", out.String())
			}
		})
	}
}

func rawDB(t *testing.T, url string) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", url
	if p, ok := strings.CutPrefix(url, "sqlite:"); ok {
		driver, dsn = "sqlite", p
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestCatalogImportCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	url := "sqlite:" + filepath.Join(dir, "w.db")
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("code,category,industry,description,characteristics\n"+
		"900-249-08,HW08,非特定行业,其他废矿物油,\"T,I\"\n"+
		"900-249-09,HW08,非特定行业,代码与类别不符,T\n"+
		"900-999-49,HW49,非特定行业,特性错误,X\n"), 0o600)
	var out, errb bytes.Buffer
	err := run(ctx, []string{"catalog", "import", "--db", url, bad}, &out, &errb)
	if !errors.As(err, new(exitError)) || !strings.Contains(errb.String(), "line 3") || !strings.Contains(errb.String(), "line 4") {
		t.Fatalf("bad file: %v\n%s", err, errb.String())
	}
	good := filepath.Join(dir, "good.csv")
	os.WriteFile(good, []byte("code,category,industry,description,characteristics\n"+
		"900-249-08,HW08,非特定行业,其他生产、销售、使用过程中产生的废矿物油及沾染废矿物油的废弃包装物,\"T,I\"\n"), 0o600)
	out.Reset()
	if err := run(ctx, []string{"catalog", "import", "--db", url, good}, &out, &errb); err != nil || !strings.Contains(out.String(), "loaded 1") {
		t.Fatalf("good file: %v %s %s", err, out.String(), errb.String())
	}
}

// A new deployment's first administrator comes from the console: the
// password on standard input, the account audited, and the log-in works.
func TestAdminCreate(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			db, url := e.Open(t)
			defer func(r io.Reader) { stdin = r }(stdin)
			var out, errb bytes.Buffer
			stdin = strings.NewReader("short\n")
			if err := run(ctx, []string{"admin", "create", "--db", url, "--username", "ops"}, &out, &errb); err == nil ||
				!strings.Contains(err.Error(), "password_short") {
				t.Fatalf("a short password: %v", err)
			}
			stdin = strings.NewReader("a long enough secret\n")
			if err := run(ctx, []string{"admin", "create", "--db", url, "--username", "o p"}, &out, &errb); err == nil ||
				!strings.Contains(err.Error(), "username_invalid") {
				t.Fatalf("a bad user name: %v", err)
			}
			stdin = strings.NewReader("a long enough secret\n")
			if err := run(ctx, []string{"admin", "create", "--db", url, "--username", "ops"}, &out, &errb); err != nil {
				t.Fatalf("create: %v %s", err, errb.String())
			}
			s, err := auth.NewService(db).Login(ctx, "ops", "a long enough secret")
			if err != nil || s.User.Role != auth.Admin {
				t.Fatalf("log-in as the new administrator: %+v %v", s.User, err)
			}
			var actor string
			if err := store.Get(ctx, db.Reader(), &actor, `SELECT actor_username FROM audit_entries
				WHERE action = 'user.create' AND entity_id = ?`, s.User.ID); err != nil || actor != "system" {
				t.Fatalf("audit entry: %q %v", actor, err)
			}
			stdin = strings.NewReader("a long enough secret\n")
			if err := run(ctx, []string{"admin", "create", "--db", url, "--username", "OPS"}, &out, &errb); err == nil ||
				!strings.Contains(err.Error(), "username_taken") {
				t.Fatalf("the same name again: %v", err)
			}
		})
	}
}
