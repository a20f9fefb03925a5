package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"wufei/internal/audit"
	"wufei/internal/bench"
	"wufei/internal/demo"
	"wufei/internal/exchange"
	"wufei/internal/server"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// `wufei bench --json` runs on a fresh SQLite database (and on the test
// PostgreSQL when there is one) and prints the lifecycle rate beside the raw
// engine's, their ratio, and the read latencies.
func TestBenchCommand(t *testing.T) {
	args := [][]string{{"bench", "--quick", "--json", "--lifecycles", "60", "--clients", "8"}}
	for _, e := range storetest.Engines() {
		if e.Name != "sqlite" {
			_, url := e.Open(t)
			args = append(args, []string{"bench", "--quick", "--json", "--lifecycles", "30", "--clients", "4", "--db", url})
		}
	}
	for _, a := range args {
		var out, log bytes.Buffer
		if err := run(context.Background(), a, &out, &log); err != nil {
			t.Fatalf("%v: %v\n%s", a, err, log.String())
		}
		var s map[string]any
		if err := json.Unmarshal(out.Bytes(), &s); err != nil {
			t.Fatalf("%v: %v\n%s", a, err, out.String())
		}
		rate, raw, ratio := s["lifecycles_per_s"].(float64), s["raw_lifecycles_per_s"].(float64), s["lifecycle_ratio"].(float64)
		if rate <= 0 || raw <= 0 || math.Abs(ratio-rate/raw) > 0.002 {
			t.Errorf("%v: rate %v, raw %v, ratio %v", a, rate, raw, ratio)
		}
		for _, k := range []string{"trace", "manifest_list", "indicators"} {
			if l, ok := s[k].(map[string]any); !ok || l["p99_ms"].(float64) <= 0 {
				t.Errorf("%v: %s = %v", a, k, s[k])
			}
		}
		if s["audit_verify_per_s"].(float64) <= 0 || s["lifecycles"].(float64) == 0 {
			t.Errorf("%v: %s", a, out.String())
		}
	}
}

// `wufei bench --reads` measures a database it did not make — a demo city
// with a year of activity — through a server process of its own: every read
// figure beside its raw figure and their ratio, the audit log, an export of
// the whole year's ledger, an import into a scratch database, and the
// server's memory under its lifecycles, which are the only manifests it adds.
func TestBenchReads(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a server process")
	}
	bin := buildWufei(t)
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			db, url := e.Open(t)
			if err := server.Prepare(ctx, db); err != nil {
				t.Fatal(err)
			}
			if err := demo.Seed(ctx, db, demo.ActivityMinUnits); err != nil {
				t.Fatal(err)
			}
			count := func(query string, args ...any) int {
				var n int
				if err := store.Get(ctx, db.Reader(), &n, query, args...); err != nil {
					t.Fatal(err)
				}
				return n
			}
			manifests, completed := count(`SELECT count(*) FROM manifests`), count(`SELECT count(*) FROM manifests WHERE status = 'completed'`)
			const lifecycles = 200
			cmd := exec.Command(bin, "bench", "--reads", "--quick", "--json", "--db", url, "--lifecycles", fmt.Sprint(lifecycles),
				"--clients", "8", "--key-file", filepath.Join(t.TempDir(), "audit.key"))
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr.String())
			}
			var s bench.ReadsSummary
			if err := json.Unmarshal(out, &s); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if s.Data.Manifests != int64(manifests) || s.Data.Units < demo.ActivityMinUnits {
				t.Errorf("data %+v, want %d manifests", s.Data, manifests)
			}
			reads := bench.QuickReads.Reads
			for name, c := range map[string]bench.Compared{"trace": s.Trace, "manifest_list": s.ManifestList,
				"manifest_list_filtered": s.ManifestListFiltered, "manifest_list_rare": s.ManifestListRare,
				"unit_manifest_list":          s.UnitManifestList,
				"unit_manifest_list_filtered": s.UnitManifestListFiltered, "indicators": s.Indicators,
				"dashboard_flows": s.DashboardFlows, "audit_proof": s.AuditProof} {
				if c.N != reads || c.Raw.N != reads || c.P50MS <= 0 || c.P99MS < c.P50MS || c.Raw.P50MS <= 0 || c.Raw.P99MS < c.Raw.P50MS ||
					math.Abs(c.P99Ratio-c.P99MS/c.Raw.P99MS) > 0.01*c.P99Ratio+0.002 {
					t.Errorf("%s: %+v", name, c)
				}
			}
			if len(s.Startup.Runs) != 3 || s.Startup.MS <= 0 || s.Startup.RawMS <= 0 || s.Startup.SettleMS < 250 {
				t.Errorf("start-up %+v", s.Startup)
			}
			if v := s.AuditVerify; v.N < s.Data.AuditEntries || v.PerS <= 0 || v.RawPerS <= 0 {
				t.Errorf("audit verify %+v of %d entries", v, s.Data.AuditEntries)
			}
			from, to := exchange.Year(s.Year)
			if x, rows := s.ExcelExport, count(`SELECT count(*) FROM ledger_records WHERE occurred_at >= ? AND occurred_at < ?`, from, to); x.N != int64(rows) || rows == 0 ||
				x.FileMiB <= 0 || x.PerS <= 0 || x.RawPerS <= 0 || x.Database != "given" {
				t.Errorf("export %+v, the year has %d ledger records", x, rows)
			}
			if x := s.ExcelImport; x.N != int64(bench.QuickReads.ImportRows) || x.PerS <= 0 || x.RawPerS <= 0 || x.Database != "scratch" {
				t.Errorf("import %+v", x)
			}
			if m := s.Memory; m.Lifecycles != lifecycles || m.IdleMiB <= 0 || m.ReadsPeakMiB < m.IdleMiB || m.LoadSteadyMiB <= 0 ||
				m.LoadPeakMiB < m.LoadSteadyMiB || m.HighWaterMiB < m.LoadPeakMiB {
				t.Errorf("server memory %+v", m)
			}
			if len(s.Targets) != 6 {
				t.Errorf("targets %+v", s.Targets)
			}
			// The reads wrote no manifest; the load wrote its lifecycles, whole.
			if n, c := count(`SELECT count(*) FROM manifests`), count(`SELECT count(*) FROM manifests WHERE status = 'completed'`); n != manifests+lifecycles || c != completed+lifecycles {
				t.Errorf("%d manifests, %d completed; want %d and %d", n, c, manifests+lifecycles, completed+lifecycles)
			}
			if rep, err := audit.Verify(ctx, db, ""); err != nil || !rep.OK {
				t.Errorf("audit verify: %v %v", rep, err)
			}
		})
	}
}
