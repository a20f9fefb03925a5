package construction

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"wufei/internal/store"
	"wufei/internal/streams/sheet"
)

var demoRegions = []struct{ code, name string }{
	{"340602", "杜集区"}, {"340603", "相山区"}, {"340604", "烈山区"}, {"340621", "濉溪县"},
}

// demoRecycling is the share recycled in the previous and the current year,
// on the plan's path to 52 % in 2027.
var demoRecycling = [2]float64{0.44, 0.48}

// Demo seeds two years of construction-waste records: sites with their
// monthly quantities, declarations, licensed vehicles and permits, and each
// county's new floor area.
func Demo(ctx context.Context, db *store.DB) error {
	r := rand.New(rand.NewPCG(340600, 3))
	years := sheet.DemoYears()
	sites := []struct {
		name, kind, region string
		capT, month        float64 // capacity a year, received a month
	}{
		{"淮北市建筑垃圾资源化利用厂", Recycler, "340603", 1_200_000, 52000},
		{"烈山区建筑垃圾再生骨料厂", Recycler, "340604", 600_000, 26000},
		{"濉溪县建筑垃圾资源化利用中心", Recycler, "340621", 500_000, 21000},
		{"杜集区建筑垃圾消纳场", Landfill, "340602", 800_000, 18000},
		{"濉溪县工程渣土消纳场", Landfill, "340621", 900_000, 22000},
	}
	var rows [][]string
	for _, y := range years {
		for _, s := range sites {
			rows = append(rows, []string{s.name, strconv.Itoa(y), s.kind, s.region, strings.TrimSuffix(s.name, "厂") + "运营公司", "", "",
				sheet.T(s.capT), "运行"})
		}
	}
	if err := sheet.Seed(ctx, db, Site, rows); err != nil {
		return err
	}
	// The recyclers take what the city recycles; the landfills none of it.
	var recv [2]float64
	for _, s := range sites {
		recv[0] += s.month
		if s.kind == Recycler {
			recv[1] += s.month
		}
	}
	rows = nil
	for _, m := range sheet.DemoMonths() {
		yi := 0
		if m[:4] == strconv.Itoa(years[1]) {
			yi = 1
		}
		share := demoRecycling[yi] * recv[0] / recv[1] // of what the recyclers receive
		for _, s := range sites {
			got := float64(int(s.month * (0.85 + 0.3*r.Float64())))
			rec := 0.0
			if s.kind == Recycler {
				rec = float64(int(got * min(share+0.04*(r.Float64()-0.5), 1)))
			}
			rows = append(rows, []string{s.name, m, sheet.T(got), sheet.T(rec), sheet.T(got - rec), ""})
		}
	}
	if err := sheet.Seed(ctx, db, SiteMonth, rows); err != nil {
		return err
	}
	// Vehicles, declarations and permits: a few per county and year.
	var vehicles, decls, permits [][]string
	for yi, y := range years {
		for ri, reg := range demoRegions {
			hauler := fmt.Sprintf("淮北市%s渣土运输有限公司", reg.name)
			var plates []string
			for v := range 4 {
				plate := fmt.Sprintf("皖F%c%04d", 'D'+rune(ri), 100*yi+v+1)
				plates = append(plates, plate)
				vehicles = append(vehicles, []string{plate, strconv.Itoa(y), hauler, "", reg.code, "自卸车", "18", "是", "是",
					strconv.Itoa(y) + "-12-31"})
			}
			for d := range 3 {
				no := fmt.Sprintf("JZLJ-%d-%s-%02d", y, reg.code, d+1)
				day := fmt.Sprintf("%d-%02d-%02d", y, 2+3*d, 5+ri)
				muck := float64(5000 + r.IntN(20000))
				decls = append(decls, []string{no, fmt.Sprintf("%s%d年第%d批城市更新项目", reg.name, y, d+1), reg.name + "建设路",
					reg.code, reg.name + "城市建设投资有限公司", "", day, sheet.T(muck), "0", sheet.T(muck / 5), "0", sheet.T(muck / 20),
					sites[ri%len(sites)].name})
				permits = append(permits, []string{fmt.Sprintf("ZY-%d-%s-%02d", y, reg.code, d+1), no,
					fmt.Sprintf("%s%d年第%d批城市更新项目", reg.name, y, d+1), hauler, "", reg.code, strings.Join(plates[:2+d%2], "；"),
					sites[ri%len(sites)].name, day, fmt.Sprintf("%d-12-31", y)})
			}
		}
	}
	for _, b := range []struct {
		spec *sheet.Spec
		rows [][]string
	}{{Vehicle, vehicles}, {Declaration, decls}, {Permit, permits}} {
		if err := sheet.Seed(ctx, db, b.spec, b.rows); err != nil {
			return err
		}
	}
	// New floor area: green buildings near all, prefabricated on the way to 40 %.
	rows = nil
	green, prefab := [2]float64{0.95, 0.98}, [2]float64{0.33, 0.35}
	for yi, y := range years {
		for _, reg := range demoRegions {
			area := 400_000 + r.IntN(800_000)
			started := area * 3 / 4
			rows = append(rows, []string{reg.code, strconv.Itoa(y), strconv.Itoa(area), strconv.Itoa(int(float64(area) * green[yi])),
				strconv.Itoa(started), strconv.Itoa(int(float64(started) * prefab[yi])), "市住建局竣工验收备案及施工许可统计"})
		}
	}
	return sheet.Seed(ctx, db, Buildings, rows)
}
