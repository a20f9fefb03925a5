package publication

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"wufei/internal/errs"
	"wufei/internal/hw/volumes"
	"wufei/internal/qty"
	"wufei/internal/store"
)

// Report is the city's annual solid-waste publication for one year: for
// each kind of solid waste the quantities generated, utilised and disposed,
// and the capacity to take them, each table saying which records its
// figures come from.
type Report struct {
	Year        int
	GeneratedAt time.Time
	Tables      []Table
}

// Table is one part of the publication. Label heads the first column, Note
// (when not empty) a second column of text, Columns the figures.
type Table struct {
	Key     string // hazardous, hazardous_capacity, gisw, household, sludge, construction, medical
	Title   string
	Source  string // the records the figures are computed from
	Label   string
	Note    string
	Columns []string
	Rows    []Row
	Total   *Row
	Notes   []string // further figures, one sentence each
}

// Row is one line of a table; Values are tonnes unless the column says
// otherwise.
type Row struct {
	Label, Note string
	Values      []float64
}

// Years a publication may be asked for.
const (
	FirstYear = 2000
	LastYear  = 2100
)

// Annual compiles the publication for a year from the records.
func Annual(ctx context.Context, q store.Querier, year int) (Report, error) {
	if year < FirstYear || year > LastYear {
		return Report{}, errs.Field("year", "year_range", "年份须在 2000 至 2100 之间")
	}
	r := Report{Year: year, GeneratedAt: store.Now()}
	names, err := regionNames(ctx, q)
	if err != nil {
		return r, err
	}
	for _, build := range []func(context.Context, store.Querier, int, map[string]string) (Table, error){
		hazardous, hazardousCapacity, gisw, household, sludge, construction, medical} {
		t, err := build(ctx, q, year, names)
		if err != nil {
			return r, err
		}
		r.Tables = append(r.Tables, t)
	}
	return r, nil
}

func regionNames(ctx context.Context, q store.Querier) (map[string]string, error) {
	var rs []struct {
		Code string `db:"code"`
		Name string `db:"name"`
	}
	if err := store.Select(ctx, q, &rs, `SELECT code, name FROM regions`); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(rs))
	for _, r := range rs {
		out[r.Code] = r.Name
	}
	return out, nil
}

// sums is a row of sums in grams, keyed by k.
type sums struct {
	K string  `db:"k"`
	A int64   `db:"a"`
	B int64   `db:"b"`
	C int64   `db:"c"`
	D int64   `db:"d"`
	E int64   `db:"e"`
	F int64   `db:"f"`
	G int64   `db:"g"`
	X float64 `db:"x"` // a figure that is not a mass
}

func (s sums) tonnes(n int) []float64 {
	all := []int64{s.A, s.B, s.C, s.D, s.E, s.F, s.G}
	out := make([]float64, n)
	for i := range out {
		out[i] = round(qty.Tonnes(all[i]))
	}
	return out
}

// round keeps three decimals: kilograms.
func round(t float64) float64 { return math.Round(t*1000) / 1000 }

// total adds up the rows of a table.
func total(rows []Row, n int) *Row {
	t := &Row{Label: "合计", Values: make([]float64, n)}
	for _, r := range rows {
		for i := range n {
			t.Values[i] = round(t.Values[i] + r.Values[i])
		}
	}
	return t
}

// The hazardous-waste tables are read from the monthly totals kept with the
// records (hw_volumes, decision 0014). HazardousLedgerQuery and
// HazardousManifestQuery are the same figures summed from the records
// themselves: benchmarks compare Annual against them, and tests check the
// totals against them.

// hazardousLedgerTotals sums the ledgers' monthly totals by category for a
// year (arguments: its first month three times, its last): generated,
// treated in-house by utilisation (R, C) and by other methods, and in
// storage at its end.
const hazardousLedgerTotals = `SELECT category AS k,
		COALESCE(SUM(CASE WHEN kind = 'generation' AND month >= ? THEN g ELSE 0 END), 0) AS a,
		COALESCE(SUM(CASE WHEN kind = 'in_house' AND month >= ? AND method IN ('R', 'C') THEN g ELSE 0 END), 0) AS b,
		COALESCE(SUM(CASE WHEN kind = 'in_house' AND month >= ? AND method NOT IN ('', 'R', 'C') THEN g ELSE 0 END), 0) AS c,
		COALESCE(SUM(CASE WHEN kind = 'storage_in' THEN g WHEN kind = 'storage_out' THEN -g ELSE 0 END), 0) AS g
		FROM hw_volumes WHERE kind IN ('generation', 'in_house', 'storage_in', 'storage_out') AND category <> 'HW01' AND month <= ?
		GROUP BY category`

// hazardousManifestTotals sums the manifests' monthly totals by category
// for a year (arguments: its first and last month): transferred (shipped),
// and accepted for utilisation and for disposal on those since completed
// (delivered), all by the month of pickup.
const hazardousManifestTotals = `SELECT category AS k,
		COALESCE(SUM(CASE WHEN kind = 'shipped' THEN g ELSE 0 END), 0) AS d,
		COALESCE(SUM(CASE WHEN kind = 'delivered' AND method IN ('R', 'C') THEN g ELSE 0 END), 0) AS e,
		COALESCE(SUM(CASE WHEN kind = 'delivered' AND method NOT IN ('', 'R', 'C') THEN g ELSE 0 END), 0) AS f
		FROM hw_volumes WHERE kind IN ('shipped', 'delivered') AND category <> 'HW01' AND month >= ? AND month <= ?
		GROUP BY category`

// receiverTotals sums by receiver what each accepted on manifests received
// in a year (arguments: its first and last month) and since completed: in
// all, for utilisation (R, C) and for disposal.
const receiverTotals = `SELECT unit_id AS k, COALESCE(SUM(g), 0) AS a,
		COALESCE(SUM(CASE WHEN method IN ('R', 'C') THEN g ELSE 0 END), 0) AS b,
		COALESCE(SUM(CASE WHEN method NOT IN ('', 'R', 'C') THEN g ELSE 0 END), 0) AS c
		FROM hw_volumes WHERE kind = 'received' AND month >= ? AND month <= ? GROUP BY unit_id`

// HazardousLedgerQuery sums the ledgers by category for a year (arguments:
// the year's start three times, its end): generated, treated in-house by
// utilisation (R, C) and by other methods, and in storage at its end.
const HazardousLedgerQuery = `SELECT r.category AS k,
		COALESCE(SUM(CASE WHEN r.effect_kind = 'generation' AND r.occurred_at >= ? THEN r.delta_g ELSE 0 END), 0) AS a,
		COALESCE(SUM(CASE WHEN r.effect_kind = 'in_house' AND r.occurred_at >= ? AND (r.method LIKE 'R%' OR r.method LIKE 'C%')
			THEN r.delta_g ELSE 0 END), 0) AS b,
		COALESCE(SUM(CASE WHEN r.effect_kind = 'in_house' AND r.occurred_at >= ? AND r.method <> '' AND r.method NOT LIKE 'R%' AND r.method NOT LIKE 'C%' THEN r.delta_g ELSE 0 END), 0) AS c,
		COALESCE(SUM(CASE WHEN r.effect_kind = 'storage_in' THEN r.delta_g WHEN r.effect_kind = 'storage_out' THEN -r.delta_g
			ELSE 0 END), 0) AS g
		FROM ledger_records r WHERE r.category <> 'HW01' AND r.occurred_at < ? GROUP BY r.category`

// HazardousManifestQuery sums the manifests picked up in a year by category
// (arguments: the year's start and end): transferred, and accepted for
// utilisation and for disposal on those completed. Benchmarks compare
// Annual against these two reads.
const HazardousManifestQuery = `SELECT l.category AS k,
		COALESCE(SUM(CASE WHEN m.previous_id IS NULL THEN l.quantity_g ELSE 0 END), 0) AS d,
		COALESCE(SUM(CASE WHEN m.status = 'completed' AND (l.method LIKE 'R%' OR l.method LIKE 'C%') THEN COALESCE(l.accepted_g, 0)
			ELSE 0 END), 0) AS e,
		COALESCE(SUM(CASE WHEN m.status = 'completed' AND l.method <> '' AND l.method NOT LIKE 'R%' AND l.method NOT LIKE 'C%' THEN COALESCE(l.accepted_g, 0) ELSE 0 END), 0) AS f
		FROM manifests m JOIN manifest_lines l ON l.manifest_id = m.id
		WHERE l.category <> 'HW01' AND m.picked_up_at >= ? AND m.picked_up_at < ?
		AND m.status NOT IN ('draft', 'submitted', 'cancelled') GROUP BY l.category`

// hazardous is industrial hazardous waste by category: generated, treated
// in-house and kept in storage from the ledgers, transferred and utilised
// or disposed by receivers from the manifests. Medical waste (HW01) has a
// table of its own.
func hazardous(ctx context.Context, q store.Querier, year int, _ map[string]string) (Table, error) {
	first, last := volumes.Months(yearSpan(year))
	t := Table{Key: "hazardous", Title: "一、工业危险废物产生、利用和处置情况", Label: "废物类别",
		Columns: []string{"产生量（吨）", "自行利用量（吨）", "自行处置量（吨）", "转移量（吨）", "委托利用量（吨）", "委托处置量（吨）", "年末贮存量（吨）"},
		Source: "产生量、自行利用处置量、年末贮存量取自产废单位危险废物管理台账（产生、自行利用处置、入库和出库记录）；" +
			"转移量取自本年起运的电子转移联单（不含退回后再转移的联单）；委托利用、处置量取自本年起运并已完成接收的联单所载接受量及利用处置方式（R、C 类计利用，D 类及医疗废物处置方式计处置）。"}
	var led []sums
	if err := store.Select(ctx, q, &led, hazardousLedgerTotals, first, first, first, last); err != nil {
		return t, err
	}
	var man []sums
	if err := store.Select(ctx, q, &man, hazardousManifestTotals, first, last); err != nil {
		return t, err
	}
	by := map[string]*sums{}
	var keys []string
	for _, list := range [][]sums{led, man} {
		for _, s := range list {
			if by[s.K] == nil {
				by[s.K] = &sums{K: s.K}
				keys = append(keys, s.K)
			}
			b := by[s.K]
			b.A, b.B, b.C, b.D, b.E, b.F, b.G = b.A+s.A, b.B+s.B, b.C+s.C, b.D+s.D, b.E+s.E, b.F+s.F, b.G+s.G
		}
	}
	cats, err := categoryNames(ctx, q)
	if err != nil {
		return t, err
	}
	slices.Sort(keys)
	for _, k := range keys {
		s := *by[k]
		s.G = max(s.G, 0)
		t.Rows = append(t.Rows, Row{Label: strings.TrimSpace(k + " " + cats[k]), Values: s.tonnes(7)})
	}
	t.Total = total(t.Rows, 7)
	return t, nil
}

func categoryNames(ctx context.Context, q store.Querier) (map[string]string, error) {
	var rs []struct {
		Code string `db:"code"`
		Name string `db:"name"`
	}
	if err := store.Select(ctx, q, &rs, `SELECT code, name FROM hw_categories`); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(rs))
	for _, r := range rs {
		out[r.Code] = r.Name
	}
	return out, nil
}

// hazardousCapacity is each unit licensed during the year with its yearly
// capacity and what it accepted on manifests received in the year.
func hazardousCapacity(ctx context.Context, q store.Querier, year int, names map[string]string) (Table, error) {
	from, to := yearSpan(year)
	t := Table{Key: "hazardous_capacity", Title: "二、危险废物经营单位利用处置能力", Label: "经营单位", Note: "许可证编号（所在地区）",
		Columns: []string{"核准经营规模（吨/年）", "本年接收量（吨）", "其中利用（吨）", "其中处置（吨）", "负荷率（%）"},
		Source:  "核准经营规模取自本年内有效的危险废物经营许可证登记；接收量取自本年完成接收的电子转移联单所载接受量，按联单所载利用处置方式分为利用（R、C 类）和处置（D 类及医疗废物处置方式）。"}
	var ls []struct {
		UnitID string `db:"unit_id"`
		Name   string `db:"name"`
		Region string `db:"region_code"`
		Number string `db:"number"`
		G      int64  `db:"capacity_g"`
	}
	if err := store.Select(ctx, q, &ls, `SELECT l.unit_id, u.name, u.region_code, l.number, l.capacity_g
		FROM licences l JOIN units u ON u.id = l.unit_id
		WHERE l.status <> 'revoked' AND l.valid_from < ? AND l.valid_to >= ? AND u.region_code LIKE '`+CityPrefix+`%' ORDER BY u.name, l.unit_id, l.number`,
		to, from); err != nil {
		return t, err
	}
	first, last := volumes.Months(from, to)
	var got []sums
	if err := store.Select(ctx, q, &got, receiverTotals, first, last); err != nil {
		return t, err
	}
	accepted := map[string]sums{}
	for _, s := range got {
		accepted[s.K] = s
	}
	var capG int64
	for i := 0; i < len(ls); {
		j, row := i, Row{Label: ls[i].Name}
		var g int64
		var numbers []string
		for ; j < len(ls) && ls[j].UnitID == ls[i].UnitID; j++ {
			g += ls[j].G
			numbers = append(numbers, ls[j].Number)
		}
		row.Note = strings.Join(numbers, "、") + "（" + names[ls[i].Region] + "）"
		a := accepted[ls[i].UnitID]
		row.Values = append([]float64{round(qty.Tonnes(g))}, a.tonnes(3)...)
		row.Values = append(row.Values, percent(a.A, g))
		t.Rows = append(t.Rows, row)
		capG += g
		i = j
	}
	t.Total = total(t.Rows, 4)
	var acc int64
	for _, r := range t.Rows {
		acc += int64(math.Round(r.Values[1] * 1e6))
	}
	t.Total.Values = append(t.Total.Values, percent(acc, capG))
	t.Notes = append(t.Notes, fmt.Sprintf("本年内持有有效经营许可证的单位 %d 家。", len(t.Rows)))
	return t, nil
}

// percent is a ÷ b × 100 to one decimal, 0 when b is 0.
func percent(a, b int64) float64 {
	if b <= 0 {
		return 0
	}
	return math.Round(float64(a)/float64(b)*1000) / 10
}

// gisw is general industrial solid waste by category, from the
// generators' ledgers, with the utilisation bases' capacity.
func gisw(ctx context.Context, q store.Querier, year int, _ map[string]string) (Table, error) {
	t := Table{Key: "gisw", Title: "三、一般工业固体废物产生、利用和处置情况", Label: "废物类别",
		Columns: []string{"产生量（吨）", "综合利用量（吨）", "其中利用往年贮存量（吨）", "处置量（吨）"},
		Source:  "取自产废单位一般工业固体废物管理台账（月度、年度记录）；综合利用量为建材、回填、生态修复、水泥窑协同及其他利用量之和；利用能力取自一般工业固体废物综合利用基地登记。"}
	var rs []sums
	if err := store.Select(ctx, q, &rs, `SELECT g.category AS k, COALESCE(SUM(g.generated_g), 0) AS a,
		COALESCE(SUM(g.util_materials_g + g.util_backfill_g + g.util_restoration_g + g.util_kiln_g + g.util_other_g), 0) AS b,
		COALESCE(SUM(g.util_prior_g), 0) AS c, COALESCE(SUM(g.disposed_g), 0) AS d
		FROM gisw_ledgers g WHERE g.year = ? GROUP BY g.category ORDER BY g.category`, year); err != nil {
		return t, err
	}
	var cats []struct {
		Code string `db:"code"`
		Name string `db:"name"`
	}
	if err := store.Select(ctx, q, &cats, `SELECT code, name FROM gisw_categories`); err != nil {
		return t, err
	}
	name := map[string]string{}
	for _, c := range cats {
		name[c.Code] = c.Name
	}
	t.fill(rs, name)
	var bases sums
	if err := store.Get(ctx, q, &bases, `SELECT '' AS k, COUNT(*) AS a, COALESCE(SUM(capacity_g), 0) AS b FROM gisw_bases
		WHERE year = ?`, year); err != nil {
		return t, err
	}
	if bases.A > 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("一般工业固体废物综合利用基地 %d 个，设计利用能力合计 %s 吨/年。", bases.A,
			figure(qty.Tonnes(bases.B))))
	}
	return t, nil
}

// household is household waste by stream (sorted kinds), from the monthly
// records of collection and treatment.
func household(ctx context.Context, q store.Querier, year int, _ map[string]string) (Table, error) {
	t := Table{Key: "household", Title: "四、生活垃圾清运和处理情况", Label: "垃圾类别",
		Columns: []string{"清运量（吨）", "回收利用量（吨）", "焚烧处理量（吨）", "原生垃圾填埋量（吨）"},
		Source:  "取自各县区生活垃圾分类收集清运和处理月度记录；厨余垃圾处理量取自厨余垃圾处理设施月度记录；回收网点取自“两网融合”点位登记。"}
	var rs []sums
	if err := store.Select(ctx, q, &rs, `SELECT stream AS k, COALESCE(SUM(collected_g), 0) AS a, COALESCE(SUM(recycled_g), 0) AS b,
		COALESCE(SUM(incinerated_g), 0) AS c, COALESCE(SUM(landfilled_g), 0) AS d
		FROM msw_monthly WHERE year = ? GROUP BY stream ORDER BY stream`, year); err != nil {
		return t, err
	}
	t.fill(rs, nil)
	var k sums
	if err := store.Get(ctx, q, &k, `SELECT '' AS k, COALESCE(SUM(received_g), 0) AS a, COALESCE(SUM(treated_g), 0) AS b
		FROM kitchen_waste WHERE year = ?`, year); err != nil {
		return t, err
	}
	if k.A > 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("厨余垃圾处理设施接收 %s 吨，处理 %s 吨。", figure(qty.Tonnes(k.A)), figure(qty.Tonnes(k.B))))
	}
	var pts sums
	if err := store.Get(ctx, q, &pts, `SELECT '' AS k, COUNT(*) AS a FROM recycling_points WHERE year <= ?`, year); err != nil {
		return t, err
	}
	if pts.A > 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("截至年末建成“两网融合”回收网点、中转站和分拣中心 %d 个。", pts.A))
	}
	return t, nil
}

// sludge is municipal sewage sludge by region, from the treatment plants'
// monthly ledgers.
func sludge(ctx context.Context, q store.Querier, year int, names map[string]string) (Table, error) {
	t := Table{Key: "sludge", Title: "五、城镇污水处理厂污泥产生和处置情况", Label: "地区",
		Columns: []string{"产生量（吨）", "焚烧（吨）", "建材利用（吨）", "土地利用（吨）", "卫生填埋（吨）", "其他（吨）"},
		Source:  "取自城镇污水处理厂污泥台账（月度记录），按含水率 80% 折算。"}
	var rs []sums
	if err := store.Select(ctx, q, &rs, `SELECT region_code AS k, COALESCE(SUM(generated_g), 0) AS a,
		COALESCE(SUM(incinerated_g), 0) AS b, COALESCE(SUM(materials_g), 0) AS c, COALESCE(SUM(land_g), 0) AS d,
		COALESCE(SUM(landfill_g), 0) AS e, COALESCE(SUM(other_g), 0) AS f
		FROM sludge_ledgers WHERE year = ? GROUP BY region_code ORDER BY region_code`, year); err != nil {
		return t, err
	}
	t.fill(rs, names)
	return t, nil
}

// construction is construction waste by region, from the disposal and
// recycling sites' monthly records, with the sites' capacity.
func construction(ctx context.Context, q store.Querier, year int, names map[string]string) (Table, error) {
	t := Table{Key: "construction", Title: "六、建筑垃圾消纳和资源化利用情况", Label: "地区",
		Columns: []string{"进场量（吨）", "资源化利用量（吨）", "填埋或堆存量（吨）"},
		Source:  "取自建筑垃圾消纳和资源化利用场所月度进场、利用记录；处理能力取自场所登记。"}
	var rs []sums
	if err := store.Select(ctx, q, &rs, `SELECT region_code AS k, COALESCE(SUM(received_g), 0) AS a,
		COALESCE(SUM(recycled_g), 0) AS b, COALESCE(SUM(landfilled_g), 0) AS c
		FROM cdw_site_months WHERE year = ? GROUP BY region_code ORDER BY region_code`, year); err != nil {
		return t, err
	}
	t.fill(rs, names)
	var sites sums
	if err := store.Get(ctx, q, &sites, `SELECT '' AS k, COUNT(*) AS a, COALESCE(SUM(capacity_g), 0) AS b FROM cdw_sites
		WHERE year = ?`, year); err != nil {
		return t, err
	}
	if sites.A > 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("建筑垃圾消纳和资源化利用场所 %d 个，设计能力合计 %s 吨/年。", sites.A,
			figure(qty.Tonnes(sites.B))))
	}
	return t, nil
}

// medical is medical waste by region, from the institutions' monthly
// records, with the disposal facilities' capacity and what was received
// on manifests.
func medical(ctx context.Context, q store.Querier, year int, names map[string]string) (Table, error) {
	first, last := volumes.Months(yearSpan(year))
	t := Table{Key: "medical", Title: "七、医疗废物产生和处置情况", Label: "地区",
		Columns: []string{"产生量（吨）", "收集处置交接量（吨）"},
		Source:  "取自医疗机构医疗废物产生与交接月度记录；处置能力和处置量取自医疗废物处置设施登记；联单接收量取自本年完成接收的医疗废物（HW01）电子转移联单。"}
	var rs []sums
	if err := store.Select(ctx, q, &rs, `SELECT region_code AS k, COALESCE(SUM(generated_g), 0) AS a,
		COALESCE(SUM(handed_over_g), 0) AS b FROM med_wastes WHERE year = ? GROUP BY region_code ORDER BY region_code`,
		year); err != nil {
		return t, err
	}
	t.fill(rs, names)
	var fac sums
	if err := store.Get(ctx, q, &fac, `SELECT '' AS k, COUNT(*) AS a, COALESCE(SUM(capacity_g), 0) AS b,
		COALESCE(SUM(reserve_g), 0) AS c, COALESCE(SUM(treated_g), 0) AS d FROM med_facilities WHERE year = ?`, year); err != nil {
		return t, err
	}
	if fac.A > 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("医疗废物处置设施 %d 处，处置能力合计 %s 吨/日，应急储备能力 %s 吨/日，本年处置 %s 吨。",
			fac.A, figure(qty.Tonnes(fac.B)), figure(qty.Tonnes(fac.C)), figure(qty.Tonnes(fac.D))))
	}
	var man sums
	if err := store.Get(ctx, q, &man, `SELECT '' AS k, COALESCE(SUM(g), 0) AS a FROM hw_volumes
		WHERE kind = 'received' AND category = 'HW01' AND month >= ? AND month <= ?`, first, last); err != nil {
		return t, err
	}
	if man.A > 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("经电子转移联单完成接收的医疗废物 %s 吨。", figure(qty.Tonnes(man.A))))
	}
	return t, nil
}

// figure writes tonnes for a sentence: at most three decimals.
func figure(t float64) string { return strconv.FormatFloat(round(t), 'f', -1, 64) }

// fill adds a row a sum, labelled with its key's name (or the key), and
// the total; each row has a value per column.
func (t *Table) fill(rs []sums, names map[string]string) {
	for _, s := range rs {
		t.Rows = append(t.Rows, Row{Label: orElse(names[s.K], s.K), Values: s.tonnes(len(t.Columns))})
	}
	t.Total = total(t.Rows, len(t.Columns))
}

func orElse(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Figures are the row's values as the page writes them: plain decimals,
// never in exponent form.
func (r Row) Figures() []string {
	out := make([]string, len(r.Values))
	for i, v := range r.Values {
		out[i] = strconv.FormatFloat(v, 'f', -1, 64)
	}
	return out
}
