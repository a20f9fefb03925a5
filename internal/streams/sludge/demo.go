package sludge

import (
	"context"
	"errors"
	"math/rand/v2"

	"wufei/internal/auth"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/streams/sheet"
)

// demoPlants are Huaibei's municipal sewage plants in the demo, with their
// sludge a month (t at 80 % moisture), about.
var demoPlants = []struct {
	body, name, region string
	t                  float64
}{
	{"MA2W0001", "淮北市第一污水处理厂", "340603", 1500},
	{"MA2W0002", "淮北市第二污水处理厂", "340602", 900},
	{"MA2W0003", "淮北市龙华污水处理厂", "340604", 1100},
	{"MA2W0004", "濉溪县城污水处理厂", "340621", 700},
	{"MA2W0005", "淮北高新区污水处理厂", "340603", 400},
}

// Demo registers the demo's sewage plants and seeds two years of their
// monthly sludge records, all safely treated (the plan's 100 % is met).
func Demo(ctx context.Context, db *store.DB) error {
	reg := registry.NewService(db)
	r := rand.New(rand.NewPCG(340600, 2))
	var rows [][]string
	for _, pl := range demoPlants {
		uscc := registry.MakeUSCC("12", pl.region, pl.body)
		_, err := reg.CreateUnit(ctx, auth.System, registry.NewUnit{USCC: uscc, Name: pl.name, RegionCode: pl.region,
			Roles: []registry.UnitRole{registry.Generator}, IndustryCode: "4620", IndustryName: "污水处理及其再生利用"})
		if err != nil && !errors.Is(err, store.ErrExists) {
			return err
		}
		for _, m := range sheet.DemoMonths() {
			gen := float64(int(pl.t * (0.9 + 0.2*r.Float64())))
			inc := float64(int(gen * (0.55 + 0.1*r.Float64())))
			mat := float64(int(gen * 0.2))
			rows = append(rows, []string{uscc, m, sheet.T(gen), sheet.T(inc), sheet.T(mat), "0", sheet.T(gen - inc - mat), "0",
				"淮北市生活垃圾焚烧发电厂、淮北市新型建材厂", ""})
		}
	}
	return sheet.Seed(ctx, db, Ledger, rows)
}
