// Package storetest opens real, migrated databases for tests: a temporary
// SQLite file always, and a fresh PostgreSQL database per test when
// WUFEI_TEST_POSTGRES names a server.
package storetest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"wufei/internal/store"
)

// EnvPostgres names the environment variable with the PostgreSQL server URL.
const EnvPostgres = "WUFEI_TEST_POSTGRES"

// Engine is one database engine a test can run on.
type Engine struct {
	Name string
	// Open returns a new, empty, migrated database and its URL; both are
	// removed when the test ends.
	Open func(t testing.TB) (*store.DB, string)
}

// Engines lists SQLite and, when configured, PostgreSQL.
func Engines() []Engine {
	e := []Engine{{Name: "sqlite", Open: SQLite}}
	if os.Getenv(EnvPostgres) != "" {
		e = append(e, Engine{Name: "postgres", Open: Postgres})
	}
	return e
}

// Each runs fn as a subtest on every engine.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	for _, e := range Engines() {
		t.Run(e.Name, func(t *testing.T) {
			db, _ := e.Open(t)
			fn(t, db)
		})
	}
}

// SQLite opens a migrated database in a temporary file.
func SQLite(t testing.TB) (*store.DB, string) {
	t.Helper()
	u := "sqlite:" + filepath.Join(t.TempDir(), "wufei.db")
	return open(t, u)
}

// Postgres creates a database for this test from a migrated template and
// opens it. The test is skipped when WUFEI_TEST_POSTGRES is unset.
func Postgres(t testing.TB) (*store.DB, string) {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		t.Skip(EnvPostgres + " is not set")
	}
	tmpl, err := template(base)
	if err != nil {
		t.Fatalf("postgres template: %v", err)
	}
	name := fmt.Sprintf("wufei_t_%d_%d", os.Getpid(), time.Now().UnixNano())
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, tmpl)); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	db, u := open(t, withDB(base, name))
	return db, u
}

func open(t testing.TB, u string) (*store.DB, string) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, u)
	if err != nil {
		t.Fatalf("open %s: %v", u, err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db, u
}

var (
	tmplOnce sync.Once
	tmplName string
	tmplErr  error
)

// template creates, once per schema version, a migrated database that test
// databases are copied from; copying is much faster than migrating.
func template(base string) (string, error) {
	tmplOnce.Do(func() {
		tmplName = "wufei_tmpl_" + migrationsHash()
		ctx := context.Background()
		admin, err := sql.Open("pgx", base)
		if err != nil {
			tmplErr = err
			return
		}
		defer admin.Close()
		conn, err := admin.Conn(ctx)
		if err != nil {
			tmplErr = err
			return
		}
		defer conn.Close()
		// Test binaries of several packages run at once: one builds the template.
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(740600)"); err != nil {
			tmplErr = err
			return
		}
		defer conn.ExecContext(ctx, "SELECT pg_advisory_unlock(740600)")
		var n int
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", tmplName).Scan(&n); err != nil {
			tmplErr = err
			return
		}
		if n > 0 {
			return
		}
		building := tmplName + "_build"
		_, _ = conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)")
		if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+building); err != nil {
			tmplErr = err
			return
		}
		db, err := store.Open(ctx, withDB(base, building))
		if err != nil {
			tmplErr = err
			return
		}
		err = db.Migrate(ctx)
		db.Close()
		if err != nil {
			tmplErr = err
			return
		}
		_, tmplErr = conn.ExecContext(ctx, "ALTER DATABASE "+building+" RENAME TO "+tmplName)
	})
	return tmplName, tmplErr
}

func migrationsHash() string {
	h := sha256.New()
	_ = fs.WalkDir(store.Migrations, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(store.Migrations, p)
		h.Write([]byte(p))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func withDB(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	u.Path = "/" + strings.TrimPrefix(name, "/")
	return u.String()
}
