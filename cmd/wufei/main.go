// Command wufei runs the Zero-Waste City platform (无废城市“一张网”).
//
//	wufei serve [--addr 127.0.0.1:8080] [--db sqlite:./data/wufei.db] [--demo]
//	wufei migrate [--db …]
//	wufei admin create --username NAME [--db …] < password-file
//	wufei catalog import [--db …] FILE.csv
//	wufei audit verify [--db …] [--key FILE]
//	wufei import KIND FILE.xlsx [--db …] [--as USER] [--json]
//	wufei export KIND --year Y -o FILE.xlsx [--db …] [--as USER]
//	wufei demo generate --scale city|province|nation [--db …] [--seed N]
//	wufei version
//
// Every flag has a WUFEI_* environment equivalent (WUFEI_ADDR, WUFEI_DB, …).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"wufei/internal/audit"
	"wufei/internal/catalog"
	"wufei/internal/demo"
	"wufei/internal/server"
	"wufei/internal/store"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		var ex exitError
		if errors.As(err, &ex) {
			os.Exit(int(ex))
		}
		fmt.Fprintln(os.Stderr, "wufei:", err)
		os.Exit(1)
	}
}

// exitError is a non-zero exit whose message has already been printed.
type exitError int

func (e exitError) Error() string { return "exit " + strconv.Itoa(int(e)) }

const usage = `wufei — 淮北市“无废城市”一张网

用法 / usage:
  wufei serve [--addr ADDR] [--db URL] [--demo]   run the platform
  wufei migrate [--db URL]                        bring the schema up to date
  wufei admin create --username NAME [--db URL]   add a platform administrator (password on stdin)
  wufei catalog import [--db URL] FILE.csv        load the full national HW list
  wufei audit verify [--db URL] [--key FILE]      check the audit log
  wufei import KIND FILE.xlsx [--db URL] [--as USER] [--json]
                                                  import a workbook, all rows or none
  wufei export KIND --year Y -o FILE.xlsx [--db URL] [--as USER]
                                                  export a year's records as a workbook
  wufei demo generate --scale city|province|nation [--db URL] [--seed N]
                                                  a synthetic data set through the services
  wufei bench [--quick] [--json] [--db URL] [--reads | --soak 10m]
                                                  measure a real server over loopback against the raw engine
  wufei backup --db sqlite:PATH --to FILE         a consistent copy of a running SQLite database
  wufei restore --from FILE --db sqlite:PATH      put a backup in place (server stopped)
  wufei version                                   print the version

Database URLs: sqlite:PATH (default sqlite:./data/wufei.db) or postgres://…
Every flag may be set by environment: WUFEI_ADDR, WUFEI_DB, WUFEI_DEMO, WUFEI_KEY_FILE, …
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError(2)
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case "migrate":
		fs, dbURL := dbFlags("migrate", stderr)
		if err := fs.Parse(args[1:]); err != nil {
			return exitError(2)
		}
		db, err := openPrepared(ctx, *dbURL)
		if err != nil {
			return err
		}
		defer db.Close()
		fmt.Fprintln(stdout, "schema up to date")
		return nil
	case "admin":
		if len(args) < 2 || args[1] != "create" {
			fmt.Fprint(stderr, usage)
			return exitError(2)
		}
		return adminCreateCmd(ctx, args[2:], stdout, stderr)
	case "catalog":
		if len(args) < 2 || args[1] != "import" {
			fmt.Fprint(stderr, usage)
			return exitError(2)
		}
		return catalogImport(ctx, args[2:], stdout, stderr)
	case "audit":
		if len(args) < 2 || args[1] != "verify" {
			fmt.Fprint(stderr, usage)
			return exitError(2)
		}
		return auditVerify(ctx, args[2:], stdout, stderr)
	case "import":
		return importCmd(ctx, args[1:], stdout, stderr)
	case "bench":
		return benchCmd(ctx, args[1:], stdout, stderr)
	case "demo":
		if len(args) < 2 || args[1] != "generate" {
			fmt.Fprint(stderr, usage)
			return exitError(2)
		}
		return generateCmd(ctx, args[2:], stdout, stderr)
	case "backup":
		return backupCmd(ctx, args[1:], stdout, stderr)
	case "restore":
		return restoreCmd(ctx, args[1:], stdout, stderr)
	case "export":
		return exportCmd(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "wufei", Version())
		return nil
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "unknown command %q\n\n%s", args[0], usage)
	return exitError(2)
}

// Version is the build's version: the -X value, else the module build info.
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if rev != "" {
			if len(rev) > 12 {
				rev = rev[:12]
			}
			if dirty {
				rev += "-dirty"
			}
			return "0.1.0+" + rev
		}
	}
	return "0.1.0-dev"
}

// openPrepared opens a database and brings its schema and reference data up
// to date, as serve does.
func openPrepared(ctx context.Context, dbURL string) (*store.DB, error) {
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	if err := server.Prepare(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func envBool(name string) bool {
	b, _ := strconv.ParseBool(os.Getenv(name))
	return b
}

func dbFlags(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbURL := fs.String("db", env("WUFEI_DB", "sqlite:./data/wufei.db"), "database URL: sqlite:PATH or postgres://… (WUFEI_DB)")
	return fs, dbURL
}

// profileCPU starts a CPU profile of the whole run into the file
// WUFEI_CPU_PROFILE names, if it does; stop writes it (go tool pprof FILE).
func profileCPU() (stop func(), err error) {
	path := os.Getenv("WUFEI_CPU_PROFILE")
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dbURL := dbFlags("serve", stderr)
	addr := fs.String("addr", env("WUFEI_ADDR", "127.0.0.1:8080"), "listen address (WUFEI_ADDR)")
	demoMode := fs.Bool("demo", envBool("WUFEI_DEMO"), "seed the demo data set into an empty database (WUFEI_DEMO)")
	demoUnits := fs.Int("demo-units", 300, "further generated units in demo mode")
	keyFile := fs.String("key-file", env("WUFEI_KEY_FILE", ""), "audit signing key file, created if missing (WUFEI_KEY_FILE)")
	secure := fs.Bool("secure-cookie", envBool("WUFEI_SECURE_COOKIE"), "mark the session cookie Secure, behind TLS (WUFEI_SECURE_COOKIE)")
	tlsCert := fs.String("tls-cert", env("WUFEI_TLS_CERT", ""), "serve HTTPS with this PEM certificate (chain) file (WUFEI_TLS_CERT)")
	tlsKey := fs.String("tls-key", env("WUFEI_TLS_KEY", ""), "the certificate's PEM private key file (WUFEI_TLS_KEY)")
	if err := fs.Parse(args); err != nil {
		return exitError(2)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(stderr, nil)))
	server.TuneGC()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	stopProfile, err := profileCPU()
	if err != nil {
		return err
	}
	defer stopProfile()

	cfg := server.Config{Addr: *addr, DB: *dbURL, Demo: *demoMode, DemoUnits: *demoUnits, KeyFile: *keyFile,
		SecureCookie: *secure || *tlsCert != "", Version: Version(), TLSCert: *tlsCert, TLSKey: *tlsKey}
	start := time.Now()
	app, err := server.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer app.DB.Close()
	return app.Serve(ctx, cfg, func(addr string) {
		slog.Info("wufei serving", "addr", addr, "db", app.DB.Dialect, "startup", time.Since(start).Round(time.Millisecond))
		scheme := "http"
		if cfg.TLSCert != "" {
			scheme = "https"
		}
		fmt.Fprintf(stdout, "wufei %s 已启动 / listening: %s://%s/\n", cfg.Version, scheme, addr)
		if cfg.Demo {
			fmt.Fprintf(stdout, "演示账号 / demo log-ins (password %q):\n", demo.Password)
			logins := demo.Logins
			if cfg.DemoUnits >= demo.ActivityMinUnits {
				logins = append(slices.Clone(logins), demo.ActivityLogins...)
			}
			for _, l := range logins {
				fmt.Fprintf(stdout, "  %-9s %-11s %s\n", l.Username, l.Role, l.Description)
			}
		}
	})
}

func catalogImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dbURL := dbFlags("catalog import", stderr)
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: wufei catalog import [--db URL] FILE.csv")
		return exitError(2)
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	db, err := openPrepared(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	rep, err := catalog.Import(ctx, db, f, audit.System)
	if len(rep.Problems) > 0 {
		for _, p := range rep.Problems {
			fmt.Fprintf(stderr, "line %d, %s: %s (%s)\n", p.Line, p.Column, p.Message, p.Code)
		}
		fmt.Fprintf(stderr, "%d bad rows; nothing was loaded\n", rep.ProblemCount)
		return exitError(1)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "loaded %d waste codes (%d new, %d updated, %d subset rows kept); sha256 %s\n",
		rep.Rows, rep.Inserted, rep.Updated, rep.Kept, rep.SHA256)
	return nil
}

func auditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dbURL := dbFlags("audit verify", stderr)
	key := fs.String("key", env("WUFEI_AUDIT_VERIFIER", ""), "verifier key text or a file holding it; default: the key recorded in the database")
	if err := fs.Parse(args); err != nil {
		return exitError(2)
	}
	vkey := *key
	if b, err := os.ReadFile(vkey); vkey != "" && err == nil {
		vkey = strings.TrimSpace(string(b))
	}
	db, err := store.Open(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	rep, err := audit.Verify(ctx, db, vkey)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, rep)
	if !rep.OK {
		return exitError(1)
	}
	return nil
}
