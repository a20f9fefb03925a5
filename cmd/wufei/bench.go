package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"wufei/internal/bench"
)

// benchCmd drives a real server over loopback with concurrent clients and
// prints what it measured, each figure beside the raw engine's.
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbURL := fs.String("db", "", "database URL to run on; empty: a new SQLite file in a temporary folder, removed afterwards")
	quick := fs.Bool("quick", false, "a short run, under 45 seconds on 2 cores")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	clients := fs.Int("clients", 0, "concurrent HTTP clients (default 128)")
	lifecycles := fs.Int("lifecycles", 0, "manifests walked from create to complete over HTTP")
	if err := fs.Parse(args); err != nil {
		return exitError(2)
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
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
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
