package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"wufei/internal/bench"
)

const benchUsage = `用法 / usage:
  wufei bench [--quick] [--json] [--db URL] [--clients N] [--lifecycles N]
      manifest lifecycles over HTTP against a server in this process, beside the
      raw engine writing the same rows; then reads of what they wrote.
      Default database: a new SQLite file, removed afterwards.
  wufei bench --reads --db URL [--quick] [--json] [--key-file FILE] [--read-clients N]
      an existing database (city or province data) as it is: start-up, trace,
      manifest lists (city regulator and the busiest consignor), indicators,
      dashboard flows and audit proofs over HTTP against a 'wufei serve' process
      of its own, each beside the same SQL run raw; audit verification; Excel
      export of a year's ledger, and import into a scratch database; the
      server's memory under the reads and under --lifecycles lifecycles.
      It registers its own parties and bench-* accounts and writes those
      lifecycles: run it on a copy.
  wufei bench --soak 10m [--rate N] [--db URL] [--json] [--key-file FILE]
      lifecycles, each with its reads, started at a fixed rate against a
      'wufei serve' process; latency and server memory each minute. Exits
      non-zero on the first answer that is not 2xx.

flags:
`

// benchCmd measures the platform and prints each figure beside the raw
// engine's.
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, benchUsage)
		fs.PrintDefaults()
	}
	dbURL := fs.String("db", "", "database URL to run on; empty: a new SQLite file in a temporary folder, removed afterwards")
	quick := fs.Bool("quick", false, "a short run, under 45 seconds on 2 cores on a new database")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	clients := fs.Int("clients", 0, "concurrent HTTP clients walking lifecycles (default 128)")
	lifecycles := fs.Int("lifecycles", 0, "manifests walked from create to complete over HTTP (default 20000, --quick 6000; --reads 3000, --quick 1000)")
	reads := fs.Bool("reads", false, "measure the existing database given by --db (see above)")
	readClients := fs.Int("read-clients", 0, "callers reading at once in --reads (default: one per core)")
	soak := fs.Duration("soak", 0, "drive lifecycles and reads at --rate for this long, e.g. 10m")
	rate := fs.Float64("rate", 10*bench.CityPeakPerMinute, "lifecycles started per minute in --soak: ten times the city's peak of one a minute")
	keyFile := fs.String("key-file", "", "the audit signing key of the server process (--reads, --soak); default: as 'wufei serve' chooses")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return exitError(2)
	}
	if !*reads && *soak == 0 {
		// The server runs in this process; with --reads and --soak it is a
		// child process, which profiles itself.
		stopProfile, err := profileCPU()
		if err != nil {
			return err
		}
		defer stopProfile()
	}
	if fs.NArg() > 0 || (*reads && (*dbURL == "" || *soak > 0)) {
		fs.Usage()
		return exitError(2)
	}
	bin, err := os.Executable()
	if err != nil {
		return err
	}
	switch {
	case *soak > 0:
		s, err := bench.Soak(ctx, bench.SoakOptions{DB: *dbURL, Server: bin, KeyFile: *keyFile, Duration: *soak, Rate: *rate}, stderr)
		if perr := printSoak(stdout, s, *asJSON); err == nil {
			err = perr
		}
		return err
	case *reads:
		o := bench.FullReads
		if *quick {
			o = bench.QuickReads
		}
		o.DB, o.Server, o.KeyFile, o.ReadClients = *dbURL, bin, *keyFile, *readClients
		if *clients > 0 {
			o.Clients = *clients
		}
		if *lifecycles > 0 {
			o.Lifecycles = *lifecycles
		}
		s, err := bench.RunReads(ctx, o, stderr)
		if err != nil {
			return err
		}
		return printReads(stdout, s, *asJSON)
	}
	o := bench.Full
	if *quick {
		o = bench.Quick
	}
	o.DB = *dbURL
	if *clients > 0 {
		o.Clients = *clients
	}
	if *lifecycles > 0 {
		o.Lifecycles = *lifecycles
	}
	s, err := bench.Run(ctx, o, stderr)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, s)
	}
	fmt.Fprintf(stdout, `wufei bench — %s, %d cores, %d clients, %s
启动 / start-up               %8.1f ms
联单全流程 / lifecycles        %8.1f /s   (raw %.1f /s, ratio %.3f; %.0f µs CPU, %.1f statements each)
追溯 / trace                   p50 %6.2f ms   p99 %6.2f ms
联单列表 / manifest list       p50 %6.2f ms   p99 %6.2f ms
指标 / indicators              p50 %6.2f ms   p99 %6.2f ms
审计校验 / audit verify        %8.0f entries/s (%d entries); proof %.2f ms
内存峰值 / peak RSS            %8.1f MiB
用时 / took                    %8.1f s
`, s.Engine, s.Cores, s.Clients, s.At.Format("2006-01-02 15:04"), s.StartupMS, s.LifecyclesPerS, s.RawLifecyclesPerS,
		s.LifecycleRatio, s.CPUMicrosLifecycle, s.Statements, s.Trace.P50MS, s.Trace.P99MS, s.ManifestList.P50MS,
		s.ManifestList.P99MS, s.Indicators.P50MS, s.Indicators.P99MS, s.AuditVerifyPerS, s.AuditEntries, s.AuditProofMS,
		s.RSSMiB, s.Seconds)
	return nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printReads(w io.Writer, s bench.ReadsSummary, asJSON bool) error {
	if asJSON {
		return printJSON(w, s)
	}
	d := s.Data
	fmt.Fprintf(w, "wufei bench --reads — %s, %d cores, %d readers, %s\n", s.Engine, s.Cores, s.ReadClients, s.At.Format("2006-01-02 15:04"))
	fmt.Fprintf(w, "数据 / data: %d units, %d manifests, %d ledger records, %d audit entries, %d indicator values; year %d\n",
		d.Units, d.Manifests, d.LedgerRecords, d.AuditEntries, d.IndicatorValues, s.Year)
	fmt.Fprintf(w, "%-36s %8.1f ms   (raw %.1f ms, ratio %.2f)\n", "启动 / start-up", s.Startup.MS, s.Startup.RawMS, s.Startup.Ratio)
	fmt.Fprintf(w, "%-36s %21s   %21s   %s\n", "", "p50 / p99 ms", "raw p50 / p99 ms", "ratio")
	for _, r := range []struct {
		name string
		c    bench.Compared
	}{
		{"追溯 / trace", s.Trace},
		{"联单列表 / manifest list", s.ManifestList},
		{"  筛选 / filtered", s.ManifestListFiltered},
		{"单位联单列表 / unit's manifest list", s.UnitManifestList},
		{"  筛选 / filtered", s.UnitManifestListFiltered},
		{"指标 / indicators", s.Indicators},
		{"驾驶舱流向 / dashboard flows", s.DashboardFlows},
		{"包含证明 / audit proof", s.AuditProof},
	} {
		fmt.Fprintf(w, "%-36s %9.2f / %9.2f   %9.2f / %9.2f   %.2f / %.2f\n", r.name, r.c.P50MS, r.c.P99MS, r.c.Raw.P50MS,
			r.c.Raw.P99MS, r.c.P50Ratio, r.c.P99Ratio)
	}
	fmt.Fprintf(w, "%-36s %10.0f entries/s (raw %.0f, ratio %.2f; %d entries)\n", "审计校验 / audit verify",
		s.AuditVerify.PerS, s.AuditVerify.RawPerS, s.AuditVerify.Ratio, s.AuditVerify.N)
	for _, x := range []struct {
		name string
		t    bench.Transfer
	}{{"Excel 导出 / export", s.ExcelExport}, {"Excel 导入 / import", s.ExcelImport}} {
		fmt.Fprintf(w, "%-36s %10.0f rows/s (raw %.0f, ratio %.2f; %d rows, %.1f MiB, heap %.1f MiB, raw %.1f MiB, %s database)\n",
			x.name, x.t.PerS, x.t.RawPerS, x.t.Ratio, x.t.N, x.t.FileMiB, x.t.PeakHeapMiB, x.t.RawPeakHeapMiB, x.t.Database)
	}
	m := s.Memory
	fmt.Fprintf(w, "%-36s idle %.1f, reads peak %.1f, load peak %.1f, steady %.1f, high water %.1f MiB (%d lifecycles, %.0f /s)\n",
		"服务内存 / server RSS", m.IdleMiB, m.ReadsPeakMiB, m.LoadPeakMiB, m.LoadSteadyMiB, m.HighWaterMiB, m.Lifecycles, m.LifecyclesPerS)
	for _, t := range s.Targets {
		mark := "未达 / missed"
		if t.Met {
			mark = "达标 / met"
		}
		fmt.Fprintf(w, "目标 / target  %-44s %-10s %12.1f  %s\n", t.Figure, t.Limit, t.Value, mark)
	}
	fmt.Fprintf(w, "用时 / took %.1f s\n", s.Seconds)
	return nil
}

func printSoak(w io.Writer, s bench.SoakSummary, asJSON bool) error {
	if asJSON {
		return printJSON(w, s)
	}
	fmt.Fprintf(w, "wufei bench --soak — %s, %d cores, %s, %.0f s at %.4g lifecycles a minute (%d reads each)\n",
		s.Engine, s.Cores, s.At.Format("2006-01-02 15:04"), s.Seconds, s.RatePerMin, s.ReadsPerLifecycle)
	fmt.Fprintf(w, "%8s %11s %9s %9s %9s %9s %9s\n", "end s", "lifecycles", "requests", "p50 ms", "p99 ms", "RSS MiB", "peak MiB")
	for _, x := range s.Windows {
		fmt.Fprintf(w, "%8.0f %11d %9d %9.2f %9.2f %9.1f %9.1f\n", x.EndS, x.Lifecycles, x.Requests, x.P50MS, x.P99MS, x.RSSMiB, x.PeakRSSMiB)
	}
	fmt.Fprintf(w, "%d lifecycles, %d requests, %d errors; p50 %.2f ms, p99 %.2f ms; RSS growth %.1f MiB, peak %.1f MiB\n",
		s.Lifecycles, s.Requests, s.Errors, s.P50MS, s.P99MS, s.RSSGrowthMiB, s.PeakRSSMiB)
	if s.Error != "" {
		fmt.Fprintln(w, "错误 / error:", strings.TrimSpace(s.Error))
	}
	return nil
}
