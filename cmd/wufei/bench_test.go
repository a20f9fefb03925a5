package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"testing"

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
