package industrial

import (
	"context"
	"math/rand/v2"
	"strconv"

	"wufei/internal/store"
	"wufei/internal/streams/sheet"
)

// demoMix is what each demo industry generates a month, about (t), by
// category, and how it is mostly utilised (the Ways index).
var demoMix = map[string][]struct {
	cat  string
	t    float64
	ways []int
}{
	"0610": {{"SW04", 42000, []int{0, 1, 2}}},                                                 // coal mining: gangue to bricks, backfill, land
	"4411": {{"SW02", 9000, []int{0, 3}}, {"SW03", 2500, []int{0}}, {"SW06", 3200, []int{0}}}, // power: fly ash, slag, gypsum
	"2520": {{"SW03", 1500, []int{0, 4}}},                                                     // coking: slag
	"3011": {{"SW59", 600, []int{3}}},                                                         // cement: kiln waste back to the kiln
	"2614": {{"SW16", 900, []int{4}}},                                                         // chemicals
}

// demoRate is the city's utilisation in the previous and current year,
// near the plan's path to 86 % in 2027.
var demoRate = [2]float64{0.823, 0.841}

// Demo seeds two years of monthly ledgers for the generated generators of
// Huaibei's mining, power, coking, cement and chemical industries, the
// utilisation bases and the stockpile survey.
func Demo(ctx context.Context, db *store.DB) error {
	var units []struct {
		USCC     string `db:"uscc"`
		Industry string `db:"industry_code"`
	}
	if err := store.Select(ctx, db.Reader(), &units, `SELECT uscc, industry_code FROM units
		WHERE industry_code IN ('0610', '4411', '2520', '3011', '2614') AND region_code LIKE ? ORDER BY uscc`,
		sheet.InCity); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(340600, 1))
	months, years := sheet.DemoMonths(), sheet.DemoYears()
	var rows [][]string
	for _, u := range units {
		for _, m := range demoMix[u.Industry] {
			size := 0.5 + r.Float64()
			opening := m.t * size * 0.8
			for _, month := range months {
				y := 0
				if month[:4] == strconv.Itoa(years[1]) {
					y = 1
				}
				gen := float64(int(m.t * size * (0.9 + 0.2*r.Float64())))
				prior := float64(int(min(opening, gen*0.03)))
				used := float64(int(min((demoRate[y]+0.04*(r.Float64()-0.5))*(gen+prior), opening+gen)))
				disposed := float64(int(min(gen*0.04, opening+gen-used)))
				closing := opening + gen - used - disposed
				cells := make([]string, len(Ledger.Fields))
				cells[0], cells[1], cells[2], cells[3], cells[4] = u.USCC, month, m.cat, sheet.T(opening), sheet.T(gen)
				for i := range Ways {
					cells[5+i] = "0"
				}
				share := used
				for i, w := range m.ways {
					part := float64(int(used / float64(len(m.ways))))
					if i == len(m.ways)-1 {
						part = share
					}
					cells[5+w] = sheet.T(part)
					share -= part
				}
				cells[10], cells[11], cells[12] = sheet.T(prior), sheet.T(disposed), sheet.T(closing)
				rows = append(rows, cells)
				opening = closing
			}
		}
	}
	if err := sheet.Seed(ctx, db, Ledger, rows); err != nil {
		return err
	}
	rows = nil
	bases := []struct {
		name, region, operator, ways, cats string
		capT                               float64
	}{
		{"淮北市煤矸石综合利用基地", "340604", "淮北矿业集团", "建材；回填；生态修复", "SW04", 6_000_000},
		{"濉溪县粉煤灰和脱硫石膏综合利用基地", "340621", "濉溪县新型建材产业园", "建材；水泥窑协同", "SW02；SW06；SW03", 2_500_000},
		{"杜集区采煤塌陷区生态修复基地", "340602", "杜集区城投公司", "回填；生态修复", "SW04；SW02", 3_000_000},
		{"煤化工基地工业固废资源化中心", "340621P01", "临涣工业园管委会", "建材；其他", "SW03；SW16", 800_000},
	}
	for _, y := range years {
		for i, b := range bases {
			status := "运行"
			if i == 3 && y == years[0] {
				status = "在建"
			}
			rows = append(rows, []string{b.name, strconv.Itoa(y), b.region, b.operator, b.ways, b.cats, sheet.T(b.capT), status})
		}
	}
	if err := sheet.Seed(ctx, db, Base, rows); err != nil {
		return err
	}
	rows = nil
	sites := []struct {
		site, region, loc, cat, found string
		t                             float64
	}{
		{"朔里镇南山矸石山", "340602", "朔里镇南山村东侧", "SW04", "2024-04-12", 320000},
		{"石台镇废弃矸石堆", "340602", "石台镇石台村", "SW04", "2024-05-08", 85000},
		{"烈山镇粉煤灰堆场", "340604", "烈山镇榴园村", "SW02", "2024-06-20", 46000},
		{"宋疃镇冶炼渣堆放点", "340604", "宋疃镇宋疃村", "SW01", "2024-09-03", 12000},
		{"临涣镇炉渣堆场", "340621", "临涣镇海孜村", "SW03", "2024-07-15", 30000},
		{"刘桥镇矸石堆", "340621", "刘桥镇王集村", "SW04", "2025-03-10", 150000},
		{"相山区北山脚下建材废料点", "340603", "相山区北山路", "SW59", "2025-05-22", 4000},
	}
	for yi, y := range years {
		for i, s := range sites {
			if s.found[:4] > strconv.Itoa(y) {
				continue
			}
			// Half the sites are done by the previous year, most by now.
			status, done, closed := NotStarted, "", ""
			switch {
			case i < 2+2*yi:
				first := years[0]
				if i >= 2 {
					first = y
				}
				status, done = Remediated, strconv.Itoa(first)+"-09-30"
				if i == 0 {
					status, closed = Closed, strconv.Itoa(first)+"-11-15"
				}
			case i < 5+yi:
				status = InProgress
			}
			rows = append(rows, []string{s.site, strconv.Itoa(y), s.region, s.loc, s.cat, sheet.T(s.t), status, s.found, done, closed,
				"属地县区人民政府", ""})
		}
	}
	return sheet.Seed(ctx, db, Stockpile, rows)
}
