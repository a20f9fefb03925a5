package plan

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"wufei/internal/calendar"

	"wufei/internal/auth"
	"wufei/internal/qty"
	"wufei/internal/store"
)

// Unit classes of HJ 1259.
const (
	Key        = "key"        // 危险废物环境重点监管单位
	Simplified = "simplified" // 简化管理单位
	Registered = "registered" // 登记管理单位
)

// ClassNames are the classes' Chinese names.
var ClassNames = map[string]string{Key: "重点监管单位", Simplified: "简化管理单位", Registered: "登记管理单位"}

// Reason codes, stable for machines; Reasons carries the same in Chinese.
const (
	ReasonPlanned   = "planned_generation"   // the year's plan reaches the threshold
	ReasonLastYear  = "last_year_generation" // last year's generation reaches it
	ReasonFacility  = "own_facility"         // own utilisation or disposal facilities
	ReasonLicence   = "licence"              // holds a 危险废物经营许可证
	ReasonBelow     = "below_threshold"      // none of the above
	ReasonNoFigures = "no_figures"           // no plan or declaration gives a quantity
)

// ClassResult is a unit's class for a year and why.
type ClassResult struct {
	UnitID      string   `json:"unit_id"`
	Year        int      `json:"year"`
	Class       string   `json:"class" enum:"key,simplified,registered"`
	ClassName   string   `json:"class_name"`
	Reasons     []string `json:"reasons" doc:"判定依据"`
	ReasonCodes []string `json:"reason_codes" doc:"判定依据代码：planned_generation、last_year_generation、own_facility、licence、below_threshold、no_figures"`
	PlannedT    float64  `json:"planned_t" doc:"本年度计划产生量（吨）"`
	LastYearT   float64  `json:"last_year_t" doc:"上年度产生量（吨）"`
}

// Class decides a unit's HJ 1259 class for year. 重点监管: the planned or last
// year's generation reaches the key threshold, or the unit has its own
// utilisation or disposal facilities, or holds a licence in force during the
// year; otherwise 简化管理 from the simplified threshold, else 登记管理.
// The planned quantity is the year's plan; last year's is the larger of what
// that plan states and the generation in the submitted yearly declaration
// for the year before.
func Class(ctx context.Context, q store.Querier, unitID string, year int) (ClassResult, error) {
	r := ClassResult{UnitID: unitID, Year: year, Reasons: []string{}, ReasonCodes: []string{}}
	rules, err := LoadRules(ctx, q)
	if err != nil {
		return r, err
	}
	var n int
	if err := store.Get(ctx, q, &n, `SELECT count(*) FROM units WHERE id = ?`, unitID); err != nil {
		return r, err
	}
	if n == 0 {
		return r, errUnitNotFound
	}
	var sums struct {
		Planned  int64 `db:"planned"`
		LastYear int64 `db:"last_year"`
		Lines    int   `db:"lines"`
	}
	if err := store.Get(ctx, q, &sums, `SELECT COALESCE(SUM(planned_g), 0) AS planned, COALESCE(SUM(last_year_g), 0) AS last_year,
		count(*) AS lines FROM plan_lines WHERE unit_id = ? AND year = ? AND section = ?`, unitID, year, secGeneration); err != nil {
		return r, err
	}
	var declared int64
	err = store.Get(ctx, q, &declared, `SELECT COALESCE(SUM(l.generated_g), 0) FROM declarations d
		JOIN declaration_lines l ON l.declaration_id = d.id
		WHERE d.unit_id = ? AND d.period = ? AND d.status = 'submitted'`, unitID, fmt.Sprint(year-1))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return r, err
	}
	lastYear := max(sums.LastYear, declared)
	r.PlannedT, r.LastYearT = qty.Tonnes(sums.Planned), qty.Tonnes(lastYear)

	keyG, simpleG := grams(rules.KeyThresholdT), grams(rules.SimplifiedThresholdT)
	reason := func(code, text string) {
		r.ReasonCodes = append(r.ReasonCodes, code)
		r.Reasons = append(r.Reasons, text)
	}
	if sums.Planned >= keyG {
		reason(ReasonPlanned, fmt.Sprintf("本年度计划产生量 %s 吨，不低于 %s 吨", tonnes(sums.Planned), tonnes(keyG)))
	}
	if lastYear >= keyG {
		reason(ReasonLastYear, fmt.Sprintf("上年度产生量 %s 吨，不低于 %s 吨", tonnes(lastYear), tonnes(keyG)))
	}
	var facilities []string
	if err := store.Select(ctx, q, &facilities, `SELECT code FROM facilities WHERE unit_id = ? AND status = 'active'
		AND kind IN ('utilisation', 'disposal') ORDER BY code`, unitID); err != nil {
		return r, err
	}
	if len(facilities) > 0 {
		reason(ReasonFacility, "自建危险废物利用/处置设施："+strings.Join(facilities, "、"))
	}
	start := time.Date(year, 1, 1, 0, 0, 0, 0, calendar.Zone).UTC()
	end := time.Date(year+1, 1, 1, 0, 0, 0, 0, calendar.Zone).UTC()
	var licences []string
	if err := store.Select(ctx, q, &licences, `SELECT number FROM licences WHERE unit_id = ? AND status = 'valid'
		AND valid_from < ? AND valid_to >= ? ORDER BY number`, unitID, end, start); err != nil {
		return r, err
	}
	if len(licences) > 0 {
		reason(ReasonLicence, "持有危险废物经营许可证："+strings.Join(licences, "、"))
	}
	most := max(sums.Planned, lastYear)
	switch {
	case len(r.ReasonCodes) > 0:
		r.Class = Key
	case most >= simpleG:
		r.Class = Simplified
		code := ReasonPlanned
		if sums.Planned < simpleG {
			code = ReasonLastYear
		}
		reason(code, fmt.Sprintf("年产生量 %s 吨，不低于 %s 吨、低于 %s 吨", tonnes(most), tonnes(simpleG), tonnes(keyG)))
	default:
		r.Class = Registered
		if sums.Lines == 0 && declared == 0 {
			reason(ReasonNoFigures, "尚无本年度管理计划或上年度申报，按登记管理")
		} else {
			reason(ReasonBelow, fmt.Sprintf("年产生量 %s 吨，低于 %s 吨", tonnes(most), tonnes(simpleG)))
		}
	}
	r.ClassName = ClassNames[r.Class]
	return r, nil
}

// UnitClass is Class for a unit the principal may see.
func (s *Service) UnitClass(ctx context.Context, p auth.Principal, unitID string, year int) (ClassResult, error) {
	if year == 0 {
		year = yearOf(time.Now())
	}
	if err := checkYear("year", year); err != nil {
		return ClassResult{}, err
	}
	if _, err := visibleUnit(ctx, s.db.Reader(), p, unitID); err != nil {
		return ClassResult{}, err
	}
	return Class(ctx, s.db.Reader(), unitID, year)
}

func grams(t float64) int64 { return int64(t*1e6 + 0.5) }

// tonnes formats grams as tonnes without trailing zeros.
func tonnes(g int64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.6f", qty.Tonnes(g)), "0"), ".")
}
