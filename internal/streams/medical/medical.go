// Package medical keeps the records of medical waste (医疗废物, HW01) that
// the hazardous-waste manifests do not: the medical institutions with their
// level, beds and how their waste is collected; what each generates and
// hands over per month by waste code; and each treatment facility's daily
// capacity with its emergency reserve (平战结合).
//
// Where an institution is a registered unit, its waste leaves on
// hazardous-waste manifests and the quantity handed over is read from the
// manifest lines of category HW01 (never typed twice); the institution's
// own monthly record then holds only what it generated. Small clinics that
// are not registered units hand their waste to the collector under a
// contract, without manifests, and their record holds the quantity handed
// over as well.
package medical

import (
	"context"
	"time"

	"wufei/internal/auth"
	"wufei/internal/calendar"
	"wufei/internal/errs"
	"wufei/internal/store"
	"wufei/internal/streams/sheet"
)

// Codes are the medical-waste codes of the 2025 national list (HW01).
var Codes = []struct{ Code, Name string }{
	{"841-001-01", "感染性废物"}, {"841-002-01", "损伤性废物"}, {"841-003-01", "病理性废物"},
	{"841-004-01", "化学性废物"}, {"841-005-01", "药物性废物"},
}

// Collection modes; the first two count as covered by collection.
const (
	ByManifest = "集中处置单位收集（转移联单）"
	ByContract = "小型机构合同收集"
	OnSite     = "自行处置"
	Uncovered  = "未纳入收集"
)

// Covered reports whether a collection mode counts as covered.
func Covered(mode string) bool { return mode == ByManifest || mode == ByContract }

// Institution is a medical institution in a year.
var Institution = &sheet.Spec{Name: "med_institution", Title: "医疗机构", TitleEN: "Medical institutions",
	Group: "medical", Lead: "市卫健委、市生态环境局", Table: "med_institutions", Key: []string{"uscc", "year"},
	Period: "year", UnitWrites: true, Fields: []sheet.Field{
		{Key: "uscc", Header: "机构统一社会信用代码", EN: "Institution (USCC)", Type: sheet.Link, Required: true, Max: 18,
			Note: "已在平台登记的机构，其交接量取自转移联单", Example: "12340600MB0000001X"},
		{Key: "year", Header: "年度", EN: "Year", Type: sheet.Year, Required: true, Example: "2026"},
		{Key: "name", Header: "机构名称", EN: "Name", Type: sheet.Text, Required: true, Max: 100, Example: "淮北市某社区卫生服务站"},
		{Key: "region", Header: "所在县区代码", EN: "Region", Type: sheet.Region, Required: true, Example: "340603"},
		{Key: "level", Header: "机构级别", EN: "Level", Type: sheet.Choice, Required: true,
			Choices: []string{"三级医院", "二级医院", "一级医院", "基层医疗卫生机构", "诊所及村卫生室", "其他"}, Example: "诊所及村卫生室"},
		{Key: "beds", Header: "床位数", EN: "Beds", Type: sheet.Int, Example: "0"},
		{Key: "collection", Header: "收集方式", EN: "Collection", Type: sheet.Choice, Required: true,
			Choices: []string{ByManifest, ByContract, OnSite, Uncovered}, Example: ByContract},
		{Key: "collector", Header: "收集处置单位", EN: "Collector", Type: sheet.Text, Max: 100, Example: "淮北市医疗废物集中处置中心"},
	}, Check: checkInstitution}

func checkInstitution(_ context.Context, _ store.Querier, r *sheet.Record, v *errs.Validation) error {
	if Covered(r.Str("collection")) && r.Str("collector") == "" {
		v.Add("collector", "required", "纳入收集的机构须填写收集处置单位")
	}
	if r.UnitID != "" && r.Str("collection") == ByContract {
		v.Add("collection", "registered_by_manifest", "已在平台登记的机构以转移联单交接，收集方式应为"+ByManifest)
	}
	return nil
}

// Waste is what an institution generated and handed over in a month, by
// waste code.
var Waste = func() *sheet.Spec {
	codes := make([]string, len(Codes))
	for i, c := range Codes {
		codes[i] = c.Code
	}
	return &sheet.Spec{Name: "med_waste", Title: "医疗废物产生与交接（月）", TitleEN: "Medical waste generated and handed over (monthly)",
		Group: "medical", Lead: "市卫健委、市生态环境局", Table: "med_wastes", Key: []string{"uscc", "month", "code"},
		Period: "month", UnitWrites: true, Fields: []sheet.Field{
			{Key: "uscc", Header: "机构统一社会信用代码", EN: "Institution (USCC)", Type: sheet.Link, Required: true, Max: 18,
				Note: "本年度已登记的医疗机构", Example: "12340600MB0000001X"},
			sheet.MonthlyField,
			{Key: "code", Header: "废物代码", EN: "Waste code", Type: sheet.Choice, Required: true, Choices: codes,
				Note: "841-001-01 感染性；841-002-01 损伤性；841-003-01 病理性；841-004-01 化学性；841-005-01 药物性", Example: "841-001-01"},
			{Key: "generated_t", Header: "产生量（吨）", EN: "Generated (t)", Type: sheet.Tonnes, Required: true, Example: "0.12"},
			{Key: "handed_over_t", Header: "合同收集交接量（吨）", EN: "Handed over under contract (t)", Type: sheet.Tonnes,
				Note: "仅限不使用转移联单的小型机构；使用联单的机构由联单计算，不填", Example: "0.12"},
			sheet.NoteField,
		}, Check: checkWaste, Derive: fromManifests,
		DerivedFields: []sheet.Field{{Key: "manifest_t", Header: "联单交接量（吨）", EN: "Handed over on manifests (t)"},
			{Key: "handed_over_total_t", Header: "交接量合计（吨）", EN: "Handed over in all (t)"}}}
}()

func checkWaste(ctx context.Context, q store.Querier, r *sheet.Record, v *errs.Validation) error {
	found, err := sheet.Adopt(ctx, q, r, "med_institutions", "uscc = ? AND year = ?", r.Str("uscc"), r.Year)
	if err != nil || !found {
		v.Add("uscc", "institution_unknown", "本年度没有登记该医疗机构，请先登记")
		return err
	}
	if r.Num("handed_over_t") > r.Num("generated_t") {
		v.Add("handed_over_t", "exceeds_generated", "交接量不能超过产生量")
	}
	if r.UnitID == "" || r.Num("handed_over_t") == 0 {
		return nil
	}
	// A registered institution's hand-over comes from its manifests; it types
	// one only for a month it shipped none (before it worked on the
	// platform), or the month would be counted twice.
	g, err := shippedG(ctx, q, r.UnitID, r.Str("code"), r.Str("month"))
	if err == nil && g > 0 {
		v.Add("handed_over_t", "handed_over_from_manifest", "该机构本月已以转移联单交接，交接量取自联单，不需填写")
	}
	return err
}

// monthRange is the month's first instant and the next month's, in China.
func monthRange(month string) (time.Time, time.Time, bool) {
	t, err := time.ParseInLocation("2006-01", month, calendar.Zone)
	if err != nil {
		return time.Time{}, time.Time{}, false
	}
	return t.UTC(), t.AddDate(0, 1, 0).UTC(), true
}

// fromManifests adds, to the records of registered institutions, the
// HW01 quantity of that code they shipped in that month on manifests that
// left (not drafts, cancelled or wholly refused); the hand-over in all is
// that and what was typed for a month without manifests.
func fromManifests(ctx context.Context, q store.Querier, rs []*sheet.Record) error {
	// One read for the whole page: the registered institutions' HW01 lines
	// over the months the records span, summed here by unit, code and month.
	var units []string
	var from, to time.Time
	for _, r := range rs {
		if f, t, ok := monthRange(r.Str("month")); ok && r.UnitID != "" {
			units = append(units, r.UnitID)
			if from.IsZero() || f.Before(from) {
				from = f
			}
			if t.After(to) {
				to = t
			}
		}
	}
	shipped := map[string]int64{}
	if len(units) > 0 {
		query, args, err := store.In(`SELECT m.consignor_unit_id AS unit_id, l.waste_code, m.picked_up_at, l.quantity_g
			FROM manifests m JOIN manifest_lines l ON l.manifest_id = m.id
			WHERE m.consignor_unit_id IN (?) AND l.category = 'HW01' AND m.picked_up_at >= ? AND m.picked_up_at < ?
			AND m.status NOT IN ('draft', 'cancelled', 'refused')`, units, from, to)
		if err != nil {
			return err
		}
		var lines []struct {
			UnitID string    `db:"unit_id"`
			Code   string    `db:"waste_code"`
			At     time.Time `db:"picked_up_at"`
			G      int64     `db:"quantity_g"`
		}
		if err := store.Select(ctx, q, &lines, query, args...); err != nil {
			return err
		}
		for _, l := range lines {
			shipped[l.UnitID+" "+l.Code+" "+l.At.In(calendar.Zone).Format("2006-01")] += l.G
		}
	}
	for _, r := range rs {
		typed := r.Tonnes("handed_over_t")
		g := float64(0)
		if r.UnitID != "" {
			g = float64(shipped[r.UnitID+" "+r.Str("code")+" "+r.Str("month")]) / 1e6
		}
		r.Derived = map[string]float64{"manifest_t": g, "handed_over_total_t": typed + g}
	}
	return nil
}

// shippedG is the grams of one HW01 code a unit shipped in a month
// (YYYY-MM) on manifests that left.
func shippedG(ctx context.Context, q store.Querier, unitID, code, month string) (int64, error) {
	from, to, ok := monthRange(month)
	if !ok {
		return 0, nil
	}
	var g int64
	err := store.Get(ctx, q, &g, `SELECT COALESCE(SUM(l.quantity_g), 0) FROM manifests m
		JOIN manifest_lines l ON l.manifest_id = m.id
		WHERE m.consignor_unit_id = ? AND l.category = 'HW01' AND l.waste_code = ? AND m.picked_up_at >= ?
		AND m.picked_up_at < ? AND m.status NOT IN ('draft', 'cancelled', 'refused')`, unitID, code, from, to)
	return g, err
}

// Facility is a treatment facility's capacity in a year, with the reserve
// kept for emergencies (平战结合: a household-waste incinerator or cement
// kiln ready to take medical waste in an epidemic).
var Facility = &sheet.Spec{Name: "med_facility", Title: "医疗废物处置设施能力", TitleEN: "Treatment capacity and emergency reserve",
	Group: "medical", Lead: "市卫健委、市生态环境局", Table: "med_facilities", Key: []string{"unit_uscc", "year", "facility"},
	Period: "year", UnitWrites: true, Fields: []sheet.Field{
		{Key: "unit_uscc", Header: "处置单位统一社会信用代码", EN: "Operator (USCC)", Type: sheet.Unit, Required: true,
			Note: "平台已登记的单位；单位账号填报时可留空"},
		{Key: "year", Header: "年度", EN: "Year", Type: sheet.Year, Required: true, Example: "2026"},
		{Key: "facility", Header: "设施名称", EN: "Facility", Type: sheet.Text, Required: true, Max: 100, Example: "高温蒸汽处理线"},
		{Key: "method", Header: "处置工艺", EN: "Method", Type: sheet.Choice, Required: true,
			Choices: []string{"高温蒸汽", "化学消毒", "微波消毒", "高温焚烧", "水泥窑协同", "生活垃圾焚烧协同", "其他"}, Example: "高温蒸汽"},
		{Key: "capacity_t", Header: "处置能力（吨/日）", EN: "Capacity (t/d)", Type: sheet.Tonnes, Required: true, Example: "30"},
		{Key: "reserve_t", Header: "应急储备能力（吨/日）", EN: "Emergency reserve (t/d)", Type: sheet.Tonnes,
			Note: "平战结合：疫情等应急时可启用的能力", Example: "20"},
		{Key: "reserve_plan", Header: "应急储备方式", EN: "Reserve arrangement", Type: sheet.Text, Max: 200,
			Example: "淮北市生活垃圾焚烧发电厂协同处置"},
		{Key: "treated_t", Header: "本年处置量（吨）", EN: "Treated this year (t)", Type: sheet.Tonnes, Example: "6200"},
	}}

// Specs are the package's record kinds, in the order they depend on each
// other.
var Specs = []*sheet.Spec{Institution, Waste, Facility}

// Sheets returns the services of the package's record kinds.
func Sheets(db *store.DB) []*sheet.Service { return sheet.All(db, Specs) }

// Coverage is the share of a year's medical institutions whose waste is
// collected (by manifest or under contract): 医疗废物收集覆盖率.
type Coverage struct {
	Year         int      `json:"year"`
	Region       string   `json:"region,omitempty"`
	Institutions int      `json:"institutions" doc:"登记的医疗机构数"`
	Covered      int      `json:"covered" doc:"纳入收集的机构数"`
	Rate         *float64 `json:"rate" doc:"覆盖率（%）；没有机构时为空"`
}

// CoverageOf counts the institutions p may see in a year (and region).
func CoverageOf(ctx context.Context, db *store.DB, p auth.Principal, year int, region string) (Coverage, error) {
	c := Coverage{Year: year, Region: region}
	cond, args := sheet.Scope(p)
	where := "t.year = ? AND " + cond
	args = append([]any{year}, args...)
	if region != "" {
		where += " AND (t.region_code = ? OR t.region_code IN (SELECT code FROM regions WHERE parent_code = ?))"
		args = append(args, region, region)
	}
	var n struct {
		All     int `db:"n"`
		Covered int `db:"covered"`
	}
	if err := store.Get(ctx, db.Reader(), &n, `SELECT count(*) AS n,
		COALESCE(SUM(CASE WHEN t.collection IN (?, ?) THEN 1 ELSE 0 END), 0) AS covered
		FROM med_institutions t WHERE `+where, append([]any{ByManifest, ByContract}, args...)...); err != nil {
		return c, err
	}
	c.Institutions, c.Covered = n.All, n.Covered
	if n.All > 0 {
		r := float64(int64(float64(n.Covered)/float64(n.All)*1000+0.5)) / 10
		c.Rate = &r
	}
	return c, nil
}
