// Package indicator is the Zero-Waste City indicator system (附件1 of the
// Huaibei plan): the three-level tree of indicators with the plan's 2027
// targets and the national framework's further indicators, their values per
// region and period, and each indicator's status against its target.
//
// # Values
//
// A computed indicator is a Go function over the platform's records for one
// region and period (see compute.go); it has no value (null) until those
// records exist. A reported indicator is submitted by its lead department
// with a comment and evidence files and counts only once the work team
// (工作专班) has approved it; every version is kept. The effective value of
// each indicator per region and period is kept in indicator_values:
// Refresh recomputes the computed ones, an approval writes the reported one,
// and the list reads that table only. A read notices records changed since
// the last refresh of its region and period (by the audit sequence number):
// it recounts changed cells at once, and sums changed ledgers and manifests
// again itself only when they were never summed or RecordsLag has passed;
// a scheduled rule refreshes recent periods of every region.
//
// # Status and projection
//
// The status of an indicator for a region and year is decided from its
// yearly values up to that year, with the baseline as the first point:
//
//   - no_data: no value yet, or no target to judge against;
//   - achieved: the latest value meets the target (≥ for higher-is-better,
//     ≤ for lower-is-better);
//   - otherwise the trend is projected to the target year by least squares
//     over the yearly points (one point: flat) and clamped to the unit's
//     range; on_track when the projection meets the target, at_risk when it
//     misses by at most AtRiskMargin of the target (of the first value when
//     the target is 0), off_track beyond that.
package indicator

import (
	"math"
	"time"

	"wufei/internal/store"
)

// Direction says which way an indicator improves.
type Direction string

const (
	Higher Direction = "higher" // higher is better
	Lower  Direction = "lower"  // lower is better
)

// Kind says where an indicator's values come from.
type Kind string

const (
	Computed Kind = "computed" // from the platform's records
	Reported Kind = "reported" // submitted by the lead department, approved by the work team
)

// Sources of an indicator definition.
const (
	SourcePlan      = "plan"                    // the Huaibei plan's targets
	SourceNational  = "national-reconstruction" // 《"无废城市"建设指标体系（2021年版）》, reconstructed ([R])
	SourceAuxiliary = "auxiliary"               // a denominator another indicator needs
)

// WorkTeamDepartment is the department code of the “无废城市”建设工作专班,
// whose regulators approve reported values and configure indicators.
const WorkTeamDepartment = "wfzb"

// cityCode is the region of the whole city.
const cityCode = "340600"

// Statuses of an indicator against its target.
const (
	statusNoData   = "no_data"
	statusAchieved = "achieved"
	statusOnTrack  = "on_track"
	statusAtRisk   = "at_risk"
	statusOffTrack = "off_track"
)

// Kinds of period, and where an effective value came from.
const (
	periodKindYear      = "year"
	periodKindQuarter   = "quarter"
	periodKindMonth     = "month"
	valueSourceComputed = "computed"
	valueSourceReported = "reported"
)

// Statuses lists every status an indicator may have.
var Statuses = []string{statusAchieved, statusOnTrack, statusAtRisk, statusOffTrack, statusNoData}

// AtRiskMargin is how far (as a share of the target) a projection may miss
// the target and still count as at risk rather than off track.
const AtRiskMargin = 0.10

// Report statuses.
const (
	Pending    = "pending"
	Approved   = "approved"
	Returned   = "returned"
	Superseded = "superseded" // approved, then replaced by a later approved version
)

// Indicator is one 三级 indicator with its place in the tree.
type Indicator struct {
	ID             string    `json:"id"`
	Position       int       `json:"position"`
	Level1         string    `json:"level1" doc:"一级指标"`
	Level2         string    `json:"level2" doc:"二级指标"`
	Name           string    `json:"name"`
	Unit           string    `json:"unit" doc:"%、t/万元、t、个、家、项、万元、亿元、kg/人·d、是/否"`
	Direction      Direction `json:"direction" enum:"higher,lower"`
	Kind           Kind      `json:"kind" enum:"computed,reported"`
	Formula        string    `json:"formula" doc:"计算公式或填报口径"`
	LeadDepartment string    `json:"lead_department" doc:"牵头部门代码"`
	CoDepartments  []string  `json:"co_departments"`
	Mandatory      bool      `json:"mandatory" doc:"国家指标体系必选（★）"`
	Source         string    `json:"source" enum:"plan,national-reconstruction,auxiliary"`
	BaselineYear   *int      `json:"baseline_year"`
	Baseline       *float64  `json:"baseline"`
	Target         *float64  `json:"target"`
	TargetYear     *int      `json:"target_year"`
	UpdatedAt      time.Time `json:"updated_at"`
	Version        int64     `json:"version"`
}

// row is an indicators row as stored.
type row struct {
	ID             string    `db:"id"`
	Position       int       `db:"position"`
	Level1         string    `db:"level1"`
	Level2         string    `db:"level2"`
	Name           string    `db:"name"`
	Unit           string    `db:"unit"`
	Direction      string    `db:"direction"`
	Kind           string    `db:"kind"`
	Formula        string    `db:"formula"`
	LeadDepartment string    `db:"lead_department"`
	CoDepartments  string    `db:"co_departments"`
	Mandatory      bool      `db:"mandatory"`
	Source         string    `db:"source"`
	BaselineYear   *int64    `db:"baseline_year"`
	BaselineE6     *int64    `db:"baseline_e6"`
	TargetE6       *int64    `db:"target_e6"`
	TargetYear     *int64    `db:"target_year"`
	UpdatedAt      time.Time `db:"updated_at"`
	Version        int64     `db:"version"`
}

const indicatorColumns = `id, position, level1, level2, name, unit, direction, kind, formula, lead_department,
	co_departments, mandatory, source, baseline_year, baseline_e6, target_e6, target_year, updated_at, version`

func (r row) indicator() Indicator {
	in := Indicator{ID: r.ID, Position: r.Position, Level1: r.Level1, Level2: r.Level2, Name: r.Name, Unit: r.Unit,
		Direction: Direction(r.Direction), Kind: Kind(r.Kind), Formula: r.Formula, LeadDepartment: r.LeadDepartment,
		CoDepartments: splitList(r.CoDepartments), Mandatory: r.Mandatory, Source: r.Source,
		Baseline: fromE6(r.BaselineE6), Target: fromE6(r.TargetE6), UpdatedAt: r.UpdatedAt, Version: r.Version}
	in.BaselineYear, in.TargetYear = intPtr(r.BaselineYear), intPtr(r.TargetYear)
	return in
}

// Service runs the indicator use cases.
type Service struct {
	db   *store.DB
	seen *checked

	// RecordsLag is how long a read leaves changed ledger and manifest
	// figures to the scheduled refresh before it recomputes them itself; 0
	// recomputes at every read that finds them changed.
	RecordsLag time.Duration
}

// NewService returns the indicator service on db.
func NewService(db *store.DB) *Service {
	return &Service{db: db, seen: &checked{seq: map[string]int64{}}, RecordsLag: DefaultRecordsLag}
}

// toE6 stores a value as millionths of its unit.
func toE6(v float64) int64 { return int64(math.Round(v * 1e6)) }

// fromE6 is the stored value as a number, or nil.
func fromE6(v *int64) *float64 {
	if v == nil {
		return nil
	}
	f := float64(*v) / 1e6
	return &f
}

func intPtr(v *int64) *int {
	if v == nil {
		return nil
	}
	i := int(*v)
	return &i
}

func splitList(s string) []string {
	out := []string{}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}
