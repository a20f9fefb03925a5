package agri

import (
	"context"
	"fmt"
	"math/rand/v2"

	"wufei/internal/calendar"
	"wufei/internal/store"
	"wufei/internal/streams/sheet"
)

// DemoTownships are the rural townships (镇) of each county, where the
// straw is.
var DemoTownships = map[string][]string{
	"340602": {"朔里镇", "石台镇", "段园镇"},
	"340603": {"渠沟镇"},
	"340604": {"烈山镇", "宋疃镇", "古饶镇"},
	"340621": {"濉溪镇", "韩村镇", "刘桥镇", "五沟镇", "临涣镇", "双堆集镇", "铁佛镇", "南坪镇", "百善镇", "孙疃镇", "四铺镇"},
}

// DemoCounties are the counties in a fixed order.
var DemoCounties = []string{"340602", "340603", "340604", "340621"}

// demoOffset is each county's offset from the city's rates (points).
var demoOffset = map[string]float64{"340602": -2.5, "340603": 1.5, "340604": 0.5, "340621": -1.0}

// DemoPeriod is what the demo covers: the previous full year and the
// current year up to the last full month, by the demo's clock (now).
func DemoPeriod() (prev, cur, curMonths int) {
	now := store.Now().In(calendar.Zone)
	return now.Year() - 1, now.Year(), int(now.Month()) - 1
}

// t writes tonnes for a cell, rounded to kilograms, the precision records
// keep; itoa writes a whole number.
var t, itoa = sheet.T, sheet.N

// Demo seeds two years of agricultural records across Huaibei's counties,
// with rates near the programme's demo figures: straw utilisation about
// 95.6 % and 96.1 %, film recovery about 82 % and 83.5 %, pesticide
// packaging about 72 % and 73 %. It does nothing when records exist.
func Demo(ctx context.Context, db *store.DB) error {
	if done, err := sheet.Seeded(ctx, db, StrawTownship); err != nil || done {
		return err
	}
	var sites, straw, recovery, farmRows [][]string
	r := rand.New(rand.NewPCG(340600, 2202))
	prev, cur, curMonths := DemoPeriod()
	years := []struct {
		y, months       int
		straw, film, pp float64
		unfitted        int // farms still without manure facilities
	}{{prev, 12, 95.6, 82, 72, 3}, {cur, curMonths, 96.1, 83.5, 73, 2}}

	for _, county := range DemoCounties {
		off := demoOffset[county]
		for i, town := range DemoTownships[county] {
			// The "1+X" network: a centre per township and two or three village points.
			sites = append(sites, StrawSite.Cells(sheet.Input{"region_code": county, "township": town,
				"name": town + "秸秆标准化收储中心", "kind": "乡镇收储中心", "capacity_t": itoa(15000 + 1000*r.IntN(15)),
				"operator": town + "农业综合服务有限公司", "year": itoa(prev - 1 - i%2)}))
			for v := range 2 + r.IntN(2) {
				sites = append(sites, StrawSite.Cells(sheet.Input{"region_code": county, "township": town,
					"name": fmt.Sprintf("%s第%d村级收储点", town, v+1), "kind": "村级收储点", "capacity_t": itoa(2000 + 500*r.IntN(6)),
					"operator": fmt.Sprintf("%s第%d村股份经济合作社", town, v+1), "year": itoa(prev - 1 + r.IntN(3))}))
			}
			for _, y := range years {
				for _, season := range []string{"夏季", "秋季"} {
					if y.y == cur && y.months < Seasons[season] {
						continue
					}
					gen := float64(6000 + r.IntN(14000))
					if season == "秋季" {
						gen *= 1.3
					}
					rate := (y.straw + off*0.3 + (r.Float64()-0.5)*0.8) / 100
					usedKg := int64(gen * rate * 1000)
					parts := []int64{usedKg * 62 / 100, usedKg * 14 / 100, usedKg * 12 / 100, usedKg * 5 / 100}
					rest := usedKg - parts[0] - parts[1] - parts[2] - parts[3]
					straw = append(straw, StrawTownship.Cells(sheet.Input{"region_code": county, "township": town,
						"year": itoa(y.y), "season": season, "generated_t": t(gen), "fertiliser_t": t(float64(parts[0]) / 1000),
						"feed_t": t(float64(parts[1]) / 1000), "fuel_t": t(float64(parts[2]) / 1000),
						"base_t": t(float64(parts[3]) / 1000), "material_t": t(float64(rest) / 1000)}))
				}
			}
		}

		// The recovery ledger: two recyclers per county, both kinds, every month.
		name := map[string]string{"340602": "杜集区", "340603": "相山区", "340604": "烈山区", "340621": "濉溪县"}[county]
		recyclers := []string{name + "供销社农资废弃物回收站", name + "绿环再生资源回收有限公司"}
		for _, rc := range recyclers {
			for _, y := range years {
				for m := 1; m <= y.months; m++ {
					for _, kind := range []string{"农膜", "农药包装废弃物"} {
						used, rate, dest := float64(15+r.IntN(30)), y.film, "淮北市再生资源利用有限公司（再生造粒）"
						if kind == "农药包装废弃物" {
							used, rate, dest = float64(2+r.IntN(4)), y.pp, "淮北绿源环境科技有限公司（焚烧处置）"
						}
						rec := used * (rate + off + (r.Float64()-0.5)*2) / 100
						recovery = append(recovery, FarmRecovery.Cells(sheet.Input{"region_code": county, "recycler": rc,
							"year": itoa(y.y), "month": itoa(m), "kind": kind, "used_t": t(used), "recovered_t": t(rec),
							"stored_t": t(rec * 0.1), "destination": dest}))
					}
				}
			}
		}
	}

	// Scale livestock farms, mostly in 濉溪县 (the 种养结合 county).
	farms := map[string]int{"340602": 4, "340603": 2, "340604": 5, "340621": 12}
	species := []string{"生猪", "生猪", "生猪", "奶牛", "肉牛", "羊", "蛋鸡", "肉鸡"}
	k := 0
	for _, county := range DemoCounties {
		ts := DemoTownships[county]
		for i := range farms[county] {
			k++
			town, sp := ts[i%len(ts)], species[r.IntN(len(species))]
			head := map[string]int{"生猪": 5000, "奶牛": 800, "肉牛": 600, "羊": 2000, "蛋鸡": 100000, "肉鸡": 150000}[sp]
			perHead := map[string]float64{"生猪": 2.2, "奶牛": 18, "肉牛": 12, "羊": 0.8, "蛋鸡": 0.04, "肉鸡": 0.03}[sp]
			head = head/2 + r.IntN(head)
			for j, y := range years {
				facility := "配套"
				if k <= y.unfitted {
					facility = "未配套"
				}
				gen := float64(head) * perHead * float64(max(y.months, 1)) / 12
				used := gen * (0.86 + 0.02*float64(j) + r.Float64()*0.08)
				if facility == "未配套" {
					used = gen * 0.6
				}
				farmRows = append(farmRows, LivestockFarm.Cells(sheet.Input{"region_code": county, "township": town,
					"farm": fmt.Sprintf("淮北%s%s养殖场（%d号）", town, sp, k), "year": itoa(y.y), "species": sp, "head": itoa(head),
					"facility": facility, "manure_generated_t": t(gen), "manure_used_t": t(used), "land_area_mu": itoa(int(used / 4))}))
			}
		}
	}
	for _, k := range []struct {
		spec *sheet.Spec
		rows [][]string
	}{{StrawSite, sites}, {StrawTownship, straw}, {FarmRecovery, recovery}, {LivestockFarm, farmRows}} {
		if err := sheet.Seed(ctx, db, k.spec, k.rows); err != nil {
			return err
		}
	}
	return nil
}
