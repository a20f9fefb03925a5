package indicator

import (
	"fmt"
	"testing"
	"time"
)

func TestAssess(t *testing.T) {
	y := func(v int) *int { return &v }
	v := func(f float64) *float64 { return &f }
	rate := Indicator{Unit: "%", Direction: Higher, Target: v(86), TargetYear: y(2027)}
	landfill := Indicator{Unit: "t", Direction: Lower, Target: v(0), TargetYear: y(2027)}
	intensity := Indicator{Unit: "t/万元", Direction: Lower, Target: v(0.013), TargetYear: y(2027),
		Baseline: v(0.02), BaselineYear: y(2023)}
	for _, c := range []struct {
		name      string
		in        Indicator
		values    map[int]float64
		year      int
		status    string
		projected string
	}{
		{"nothing", rate, nil, 2026, "no_data", "<nil>"},
		{"achieved", rate, map[int]float64{2025: 80, 2026: 87}, 2026, "achieved", "94"},
		// 80.5, 82.3, 84.1: +1.8 a year → 85.9 in 2027, 0.1 short: at risk.
		{"at risk", rate, map[int]float64{2024: 80.5, 2025: 82.3, 2026: 84.1}, 2026, "at_risk", "85.9"},
		{"on track", rate, map[int]float64{2024: 80, 2025: 83, 2026: 84}, 2026, "on_track", "86.333333"},
		{"off track", rate, map[int]float64{2024: 70, 2025: 72, 2026: 73}, 2026, "off_track", "74.666667"},
		// One point: flat.
		{"flat", rate, map[int]float64{2026: 78}, 2026, "at_risk", "78"},
		{"later years ignored", rate, map[int]float64{2025: 70, 2026: 90}, 2025, "off_track", "70"},
		// Clamped to 100.
		{"clamped", rate, map[int]float64{2025: 80, 2026: 85.9}, 2026, "on_track", "91.8"},
		{"zero target met", landfill, map[int]float64{2025: 0, 2026: 0}, 2026, "achieved", "0"},
		// 120 → 60: reaching 0 in 2027; the margin of a zero target is the first value's.
		{"zero target", landfill, map[int]float64{2025: 120, 2026: 60}, 2026, "on_track", "0"},
		{"zero target missed", landfill, map[int]float64{2025: 120, 2026: 100}, 2026, "off_track", "80"},
		// The baseline is the first point: 0.02 (2023), 0.015 (2026) → 0.013333 in 2027, within 10%.
		{"baseline", intensity, map[int]float64{2026: 0.015}, 2026, "at_risk", "0.013333"},
		{"baseline, far", intensity, map[int]float64{2026: 0.016}, 2026, "off_track", "0.014667"},
		{"no target", Indicator{Unit: "%", Direction: Higher}, map[int]float64{2026: 50}, 2026, "no_data", "<nil>"},
	} {
		st, p := assess(c.in, c.in.Target, series(c.in, c.values, c.year))
		got := "<nil>"
		if p != nil {
			got = fmt.Sprint(*p)
		}
		if st != c.status || got != c.projected {
			t.Errorf("%s: %s %s, want %s %s", c.name, st, got, c.status, c.projected)
		}
	}
}

func TestPeriods(t *testing.T) {
	for _, c := range []struct{ code, kind, from, to string }{
		{"2026", "year", "2025-12-31T16:00:00Z", "2026-12-31T16:00:00Z"},
		{"2026Q3", "quarter", "2026-06-30T16:00:00Z", "2026-09-30T16:00:00Z"},
		{"2026-09", "month", "2026-08-31T16:00:00Z", "2026-09-30T16:00:00Z"},
		{"2026-12", "month", "2026-11-30T16:00:00Z", "2026-12-31T16:00:00Z"},
	} {
		p, err := ParsePeriod("period", c.code)
		if err != nil || p.Kind != c.kind || p.From.Format(time.RFC3339) != c.from || p.To.Format(time.RFC3339) != c.to ||
			p.Year != 2026 {
			t.Errorf("%s: %+v %v", c.code, p, err)
		}
	}
	for _, bad := range []string{"", "26", "2026Q0", "2026-00", "2026-1", "1999", "2026q1", " 2026"} {
		if _, err := ParsePeriod("period", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
