package medical

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"

	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/streams/sheet"
)

// Demo seeds two years of medical-waste records: the generated hospitals
// and clinics of the registry (their waste leaves on manifests) and a
// number of small clinics and village health rooms collected under
// contract, their monthly waste by code, and the treatment centre's
// capacity with its emergency reserve.
func Demo(ctx context.Context, db *store.DB) error {
	var units []struct {
		ID       string `db:"id"`
		USCC     string `db:"uscc"`
		Name     string `db:"name"`
		Region   string `db:"region_code"`
		Industry string `db:"industry_code"`
	}
	if err := store.Select(ctx, db.Reader(), &units, `SELECT id, uscc, name, region_code, industry_code FROM units
		WHERE industry_code IN ('8411', '8421') AND region_code LIKE ? ORDER BY uscc`,
		sheet.InCity); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(340600, 4))
	regions := []string{"340602", "340603", "340604", "340621"}
	type inst struct {
		unitID                    string // registered ones
		uscc, name, region, level string
		beds                      int
		registered                bool
		mode                      string
		month                     float64 // infectious waste a month (t)
	}
	var insts []inst
	for _, u := range units {
		level, beds, t := "二级医院", 300+r.IntN(500), 6.0
		if u.Industry == "8421" {
			level, beds, t = "基层医疗卫生机构", 20+r.IntN(40), 0.4
		}
		insts = append(insts, inst{u.ID, u.USCC, u.Name, u.Region, level, beds, true, ByManifest, t})
	}
	for i := range 40 {
		reg := regions[i%len(regions)]
		mode := ByContract
		switch i {
		case 37:
			mode = OnSite
		case 39:
			mode = Uncovered
		}
		insts = append(insts, inst{"", registry.MakeUSCC("52", reg, fmt.Sprintf("MB3X%04d", i)),
			fmt.Sprintf("淮北市%s第%d诊所", map[string]string{"340602": "杜集", "340603": "相山", "340604": "烈山", "340621": "濉溪"}[reg], i+1),
			reg, "诊所及村卫生室", 0, false, mode, 0.02 + 0.03*r.Float64()})
	}
	var rows [][]string
	for _, y := range sheet.DemoYears() {
		for _, in := range insts {
			collector := "淮北市医疗废物集中处置中心"
			if !Covered(in.mode) {
				collector = ""
			}
			rows = append(rows, []string{in.uscc, strconv.Itoa(y), in.name, in.region, in.level, strconv.Itoa(in.beds), in.mode, collector})
		}
	}
	if err := sheet.Seed(ctx, db, Institution, rows); err != nil {
		return err
	}
	rows = nil
	for _, m := range sheet.DemoMonths() {
		for _, in := range insts {
			gen := in.month * (0.9 + 0.2*r.Float64())
			// Collected under contract, or — for a registered institution in
			// a month it shipped nothing on manifests, before the platform —
			// handed over as the centre's books say.
			handed := func(code string, g float64) (string, error) {
				if in.mode == ByContract {
					return sheet.T(g), nil
				}
				if !in.registered {
					return "", nil
				}
				shipped, err := shippedG(ctx, db.Reader(), in.unitID, code, m)
				if err != nil || shipped > 0 {
					return "", err
				}
				return sheet.T(g * (0.97 + 0.03*r.Float64())), nil
			}
			h, err := handed(Codes[0].Code, gen)
			if err != nil {
				return err
			}
			rows = append(rows, []string{in.uscc, m, Codes[0].Code, sheet.T(gen), h, ""})
			if in.registered {
				if h, err = handed(Codes[1].Code, gen/20); err != nil {
					return err
				}
				rows = append(rows, []string{in.uscc, m, Codes[1].Code, sheet.T(gen / 20), h, ""})
			}
		}
	}
	if err := sheet.Seed(ctx, db, Waste, rows); err != nil {
		return err
	}
	// The treatment centre: the unit licensed for HW01, if the demo has one.
	var centre []string
	if err := store.Select(ctx, db.Reader(), &centre, `SELECT DISTINCT u.uscc FROM units u JOIN licences l ON l.unit_id = u.id
		JOIN licence_scopes s ON s.licence_id = l.id WHERE s.category = 'HW01' AND u.region_code LIKE ? ORDER BY u.uscc`,
		sheet.InCity); err != nil {
		return err
	}
	rows = nil
	for _, uscc := range centre {
		for i, y := range sheet.DemoYears() {
			rows = append(rows, []string{uscc, strconv.Itoa(y), "高温蒸汽处理线", "高温蒸汽", "30", "0", "", sheet.T(6100 + 300*float64(i))},
				[]string{uscc, strconv.Itoa(y), "应急焚烧协同处置", "生活垃圾焚烧协同", "0", "20", "淮北市生活垃圾焚烧发电厂（平战结合）", "0"})
		}
	}
	return sheet.Seed(ctx, db, Facility, rows)
}
