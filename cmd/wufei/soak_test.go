package main

import (
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/bench"
	"wufei/internal/settings"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// buildWufei builds the command, for tests that run it as its own process.
func buildWufei(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "wufei")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// soakJSON runs `wufei bench --soak … --json` and decodes what it printed.
func soakJSON(t *testing.T, bin string, args ...string) (bench.SoakSummary, error) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"bench", "--json"}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var s bench.SoakSummary
	if jerr := json.Unmarshal(out, &s); jerr != nil {
		t.Fatalf("%v: %v (%v)\n%s\n%s", args, jerr, err, out, stderr.String())
	}
	return s, err
}

// A short soak drives its rate against a server process of its own: every
// lifecycle it started finished with its reads, each window has its
// requests, latency and the server's memory, and the database holds exactly
// those manifests, completed, with an audit log that verifies — on every
// engine.
func TestSoakShort(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a server process for 20 s")
	}
	bin := buildWufei(t)
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			db, url := e.Open(t)
			// 240 a minute for 20 s: one every 250 ms, 80 in all.
			s, err := soakJSON(t, bin, "--soak", "20s", "--rate", "240", "--db", url,
				"--key-file", filepath.Join(t.TempDir(), "audit.key"))
			if err != nil || s.Errors != 0 || s.Error != "" {
				t.Fatalf("soak: %v, %d errors: %s", err, s.Errors, s.Error)
			}
			const want = 80
			if s.Lifecycles != want || s.Requests != want*(5+bench.SoakReads) {
				t.Errorf("%d lifecycles and %d requests, want %d and %d", s.Lifecycles, s.Requests, want, want*(5+bench.SoakReads))
			}
			if len(s.Windows) < 4 || s.WindowS != 5 {
				t.Fatalf("%d windows of %v s: %+v", len(s.Windows), s.WindowS, s.Windows)
			}
			lifecycles, requests := 0, 0
			for i, w := range s.Windows {
				lifecycles, requests = lifecycles+w.Lifecycles, requests+w.Requests
				if w.Requests == 0 || w.P50MS <= 0 || w.P99MS < w.P50MS || w.RSSMiB <= 0 || w.PeakRSSMiB < w.RSSMiB {
					t.Errorf("window %d: %+v", i, w)
				}
			}
			if lifecycles != s.Lifecycles || requests != s.Requests {
				t.Errorf("windows hold %d lifecycles and %d requests of %d and %d", lifecycles, requests, s.Lifecycles, s.Requests)
			}
			if s.StartupMS <= 0 || s.PeakRSSMiB <= 0 {
				t.Errorf("start-up %v ms, peak RSS %v MiB", s.StartupMS, s.PeakRSSMiB)
			}
			ctx := context.Background()
			var n struct {
				All       int `db:"a"`
				Completed int `db:"c"`
			}
			if err := store.Get(ctx, db.Reader(), &n, `SELECT count(*) AS a,
				COALESCE(SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END), 0) AS c FROM manifests`); err != nil {
				t.Fatal(err)
			}
			if n.All != want || n.Completed != want {
				t.Errorf("the database holds %d manifests, %d completed; want %d", n.All, n.Completed, want)
			}
			if rep, err := audit.Verify(ctx, db, ""); err != nil || !rep.OK {
				t.Errorf("audit verify: %v %v", rep, err)
			}
		})
	}
}

// A soak ends at the first answer that is not 2xx, exits non-zero and
// prints what went wrong: here the city refuses manifests of a consignor
// without a filed plan, and the bench's generator has none.
func TestSoakFailsOnBadAnswer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a server process")
	}
	bin := buildWufei(t)
	db, url := storetest.SQLite(t)
	ctx := context.Background()
	r, err := settings.Load(ctx, db.Reader())
	if err != nil {
		t.Fatal(err)
	}
	r.PlanCheck = "block"
	if _, err := settings.Save(ctx, db, auth.Principal{UserID: "test", Username: "test", Role: auth.Admin}, r); err != nil {
		t.Fatal(err)
	}
	s, err := soakJSON(t, bin, "--soak", "5s", "--rate", "600", "--db", url, "--key-file", filepath.Join(t.TempDir(), "k"))
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit: %v", err)
	}
	if s.Errors != 1 || !strings.Contains(s.Error, "422") || !strings.Contains(s.Error, "plan_missing") || s.Lifecycles != 0 {
		t.Errorf("errors %d, lifecycles %d: %s", s.Errors, s.Lifecycles, s.Error)
	}
}
