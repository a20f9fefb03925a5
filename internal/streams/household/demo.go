package household

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"wufei/internal/store"
	"wufei/internal/streams/agri"
	"wufei/internal/streams/sheet"
)

// demoCounty is a county's share of the city's household waste and its
// offset from the city's recycling rate (points).
var demoCounty = map[string]struct {
	name          string
	share, offset float64
}{
	"340602": {"杜集区", 0.15, -2.5}, "340603": {"相山区", 0.30, 1.5}, "340604": {"烈山区", 0.20, 0.5}, "340621": {"濉溪县", 0.35, -1.0},
}

// t writes tonnes for a cell, rounded to kilograms, the precision records
// keep; itoa writes a whole number.
var t, itoa = sheet.T, sheet.N

// Demo seeds two years of household records across Huaibei's counties:
// monthly waste by stream (recycling about 36.5 % and 38 %, nothing raw
// landfilled), two kitchen-waste plants, the "两网融合" points (相山区
// joined from 2024, 杜集区 from the previous year, 烈山区 this year,
// 濉溪县 not yet), express packaging, plastic-ban inspections and the
// hospitals' recyclables. It does nothing when records exist.
func Demo(ctx context.Context, db *store.DB) error {
	if done, err := sheet.Seeded(ctx, db, Waste); err != nil || done {
		return err
	}
	rows := map[*sheet.Spec][][]string{}
	add := func(k *sheet.Spec, in sheet.Input) { rows[k] = append(rows[k], k.Cells(in)) }
	r := rand.New(rand.NewPCG(340600, 2203))
	prev, cur, curMonths := agri.DemoPeriod()
	years := []struct {
		y, months int
		recycling float64
		green     float64
	}{{prev, 12, 36.5, 89}, {cur, curMonths, 38, 92.5}}

	for _, county := range agri.DemoCounties {
		c := demoCounty[county]
		for _, y := range years {
			for m := 1; m <= y.months; m++ {
				total := 52000 * c.share * (0.95 + r.Float64()*0.1)
				// Recyclables are 20 % and nearly all recycled; kitchen waste is 30 % and utilised at the
				// rate that brings the whole to the year's figure.
				k := ((y.recycling+c.offset)/100 - 0.2*0.95) / 0.3
				for _, w := range []sheet.Input{
					{"stream": "可回收物", "collected_t": t(total * 0.2), "recycled_t": t(total * 0.2 * 0.95),
						"incinerated_t": t(total * 0.2 * 0.04)},
					{"stream": "厨余垃圾", "collected_t": t(total * 0.3), "recycled_t": t(total * 0.3 * k),
						"incinerated_t": t(total * 0.3 * (1 - k) * 0.9)},
					{"stream": "有害垃圾", "collected_t": t(total * 0.003), "incinerated_t": t(total * 0.003), "note": "交危险废物经营单位处置"},
					{"stream": "其他垃圾", "collected_t": t(total * 0.497), "incinerated_t": t(total * 0.497)},
				} {
					w["region_code"], w["year"], w["month"] = county, itoa(y.y), itoa(m)
					add(Waste, w)
				}
			}
			add(Express, sheet.Input{"region_code": county, "year": itoa(y.y),
				"parcels": itoa(int(60_000_000 * c.share * float64(y.months) / 12)), "recyclable_boxes": itoa(2000 + r.IntN(8000)),
				"green_parcels": itoa(int(60_000_000 * c.share * float64(y.months) / 12 * (y.green + c.offset/2) / 100))})
		}
	}

	// Kitchen-waste plants: the city's in 烈山区 and 濉溪县's station.
	for _, plant := range []struct {
		region, name string
		size         float64
	}{{"340604", "淮北市餐厨废弃物资源化利用项目", 3100}, {"340621", "濉溪县厨余垃圾处理站", 900}} {
		for _, y := range years {
			for m := 1; m <= y.months; m++ {
				in := plant.size * (0.92 + r.Float64()*0.16)
				add(Kitchen, sheet.Input{"region_code": plant.region, "facility": plant.name, "year": itoa(y.y), "month": itoa(m),
					"received_t": t(in), "treated_t": t(in * 0.98), "oil_t": t(in * 0.03), "biogas_m3": itoa(int(in * 62)),
					"digestate_t": t(in * 0.13), "residue_t": t(in * 0.08)})
			}
		}
	}

	// "两网融合": drop-off points, transfer stations and sorting centres.
	type pt struct {
		region, kind, name string
		year               int
		counties           []string
	}
	points := []pt{
		{"340603", "中转站", "相山区再生资源中转站", prev - 2, []string{"340603"}},
		{"340603", "分拣中心", "淮北市再生资源分拣中心", prev - 1, []string{"340603", "340602"}},
		{"340602", "中转站", "杜集区再生资源中转站", prev, []string{"340602"}},
		{"340604", "中转站", "烈山区再生资源中转站", cur, []string{"340604"}},
		{"340604", "分拣中心", "烈山区再生资源分拣中心", cur, []string{"340604"}},
		{"340621", "中转站", "濉溪县再生资源中转站", cur, []string{"340621"}},
	}
	drops := map[string][]int{"340603": {prev - 2, prev - 2, prev - 1, prev - 1, prev, prev}, "340602": {prev, prev, prev},
		"340604": {cur, cur, cur}, "340621": {prev - 1, prev, prev, cur, cur}}
	for _, county := range agri.DemoCounties {
		for i, y := range drops[county] {
			points = append(points, pt{county, "交投点", fmt.Sprintf("%s第%d再生资源交投点", demoCounty[county].name, i+1), y,
				[]string{county}})
		}
	}
	for i, p := range points {
		add(Point, sheet.Input{"region_code": p.region, "kind": p.kind, "name": p.name,
			"address": fmt.Sprintf("%s%d号", demoCounty[p.region].name, 10+i*7), "operator": "淮北市供销再生资源有限公司",
			"longitude": t(116.6 + r.Float64()*0.4), "latitude": t(33.5 + r.Float64()*0.5),
			"capacity_t": map[string]string{"交投点": "2", "中转站": "30", "分拣中心": "120"}[p.kind],
			"counties":   strings.Join(p.counties, ","), "year": itoa(p.year), "status": "运行"})
	}

	// Plastic-ban inspections: a few a quarter.
	places := []string{"农贸市场", "大型商超", "餐饮集中街区", "外卖平台配送站", "快递网点", "宾馆酒店"}
	inspected := map[string]bool{}
	findings := []string{"未发现违规使用不可降解塑料袋", "个别摊位使用不可降解塑料袋", "提供一次性塑料吸管", "使用一次性发泡餐具"}
	for _, y := range years {
		for q := range (y.months + 2) / 3 {
			for range 3 {
				county := agri.DemoCounties[r.IntN(len(agri.DemoCounties))]
				on := time.Date(y.y, time.Month(q*3+1+r.IntN(3)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
				if on.Year() == cur && int(on.Month()) > curMonths {
					continue
				}
				f := r.IntN(len(findings))
				in := sheet.Input{"region_code": county, "inspected_on": on.Format(time.DateOnly),
					"place": demoCounty[county].name + places[r.IntN(len(places))], "inspector": "市市场监管局、市发改委",
					"findings": findings[f], "violations": itoa(f * (1 + r.IntN(3)))}
				if f > 0 {
					in["action"] = "现场责令整改，限期复查"
				}
				// Two random inspections of one place on one day are one.
				if key := county + in["inspected_on"] + in["place"]; !inspected[key] {
					inspected[key] = true
					add(Inspection, in)
				}
			}
		}
	}

	// Medical institutions' recyclables.
	hospitals := []struct{ region, name string }{{"340603", "淮北市人民医院"}, {"340603", "淮北市中医医院"},
		{"340603", "淮北市妇幼保健院"}, {"340602", "杜集区人民医院"}, {"340604", "烈山区人民医院"}, {"340621", "濉溪县医院"},
		{"340621", "濉溪县中医医院"}}
	for _, h := range hospitals {
		for _, y := range years {
			for m := 1; m <= y.months; m++ {
				add(Medical, sheet.Input{"region_code": h.region, "institution": h.name, "year": itoa(y.y), "month": itoa(m),
					"bottles_t": t(1 + r.Float64()*4), "bags_t": t(0.5 + r.Float64()*2), "recycler": "淮北市医用可回收物综合利用有限公司"})
			}
		}
	}
	for _, k := range Specs {
		if err := sheet.Seed(ctx, db, k, rows[k]); err != nil {
			return err
		}
	}
	return nil
}
