package synth

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/registry"
	"wufei/internal/store"
)

// regions places the scale's units: Huaibei's counties for a city; with
// Anhui's other cities for a province; with every other province for a
// nation. Cities the regions table lacks are added, as reference data.
func (g *gen) regions(ctx context.Context) (int, error) {
	prefs := huaibei
	switch g.opt.Scale.Name {
	case "province", "nation":
		prefs = append(append([]prefecture{}, huaibei...), anhui...)
	}
	if g.opt.Scale.Name == "nation" {
		var provinces []struct {
			Code string `db:"code"`
			Name string `db:"name"`
		}
		if err := store.Select(ctx, g.db.Reader(), &provinces, `SELECT code, name FROM regions
			WHERE level = 'province' AND code <> '340000' ORDER BY code`); err != nil {
			return 0, err
		}
		for _, p := range provinces {
			prefs = append(prefs, prefecture{p.Code, p.Name, 30})
		}
	}
	added := 0
	err := g.db.Tx(ctx, func(tx *store.Tx) error {
		for _, p := range prefs {
			if !strings.HasPrefix(p.code, "34") || strings.HasPrefix(p.code, "3406") {
				continue
			}
			n, err := store.Exec(ctx, tx, `INSERT INTO regions (code, name, level, parent_code, local)
				SELECT ?, ?, 'city', '340000', ? WHERE NOT EXISTS (SELECT 1 FROM regions WHERE code = ?)`, p.code, p.name, false, p.code)
			if err != nil {
				return err
			}
			added += int(n)
		}
		if added == 0 {
			return nil
		}
		_, err := audit.Append(ctx, tx, audit.System, audit.Record{Action: "reference.regions", Entity: "reference",
			EntityID: "anhui", RegionCode: "340000", Change: map[string]int{"cities": added}})
		return err
	})
	if err != nil {
		return 0, err
	}
	var parks []struct {
		Code   string `db:"code"`
		Parent string `db:"parent_code"`
	}
	if err := store.Select(ctx, g.db.Reader(), &parks, `SELECT code, parent_code FROM regions
		WHERE level IN ('park', 'township') ORDER BY code`); err != nil {
		return 0, err
	}
	for _, p := range prefs {
		pl := place{prefecture: p}
		for _, k := range parks {
			if k.Parent == p.code {
				pl.parks = append(pl.parks, k.Code)
			}
		}
		g.places = append(g.places, pl)
	}
	return len(g.places), nil
}

// accounts adds the platform administrator and the city's regulator.
func (g *gen) accounts(ctx context.Context) (int, error) {
	dep, err := g.reg.DepartmentByCode(ctx, "sthjj")
	if err != nil {
		return 0, err
	}
	for _, u := range []auth.NewUser{
		{Username: "admin", DisplayName: "平台管理员", Role: auth.Admin},
		{Username: "sthjj", DisplayName: "市生态环境局固废科", Role: auth.Regulator, DepartmentID: dep.ID, RegionCode: auth.CityCode},
	} {
		u.Password = Password
		if _, err := g.auth.CreateUser(ctx, auth.System, u); err != nil {
			return 0, err
		}
	}
	return 2, nil
}

// role is what a generated unit does.
type role int

const (
	generates role = iota
	carries
	receives
)

// spec is a generated unit, derived from its index and the seed alone.
type spec struct {
	i        int
	role     role
	industry int // generators: an index of industries
	kind     int // receivers: an index of receiverKinds
	place    *place
	park     string
	yearT    float64 // generators: tonnes a year
	name     string
	uscc     string
	contact  string
}

// orgChars are the characters of a USCC's organisation body.
const orgChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

func encode(n int, alphabet string, width int) string {
	b := make([]byte, width)
	for i := width - 1; i >= 0; i-- {
		b[i] = alphabet[n%len(alphabet)]
		n /= len(alphabet)
	}
	return string(b)
}

func (g *gen) spec(i int) spec {
	r := g.rng(i, 0)
	s := spec{i: i}
	// The first units are one receiver of each kind and a carrier, so that
	// even a small set can move every waste.
	switch x := r.Float64(); {
	case i < len(receiverKinds):
		s.role, s.kind = receives, i
	case i == len(receiverKinds):
		s.role = carries
	case x < receiverShare:
		s.role = receives
	case x < receiverShare+carrierShare:
		s.role = carries
	}
	s.place = &g.places[pick(r, g.places, func(p place) int { return p.weight })]
	if len(s.place.parks) > 0 && r.IntN(2) == 0 {
		s.park = s.place.parks[r.IntN(len(s.place.parks))]
	}
	adj := []string{"恒", "盛", "华", "宏", "鑫", "泰", "瑞", "安", "丰", "远"}[r.IntN(10)]
	suffix := []string{"有限公司", "有限责任公司", "股份有限公司"}[r.IntN(3)]
	switch s.role {
	case generates:
		s.industry = pick(r, industries, func(ind industry) int { return ind.weight })
		ind := industries[s.industry]
		s.yearT = math.Round(ind.medianT*math.Exp(0.8*r.NormFloat64())*1000) / 1000
		stem := ind.stems[r.IntN(len(ind.stems))]
		s.name = fmt.Sprintf("%s%s%s第%d%s", s.place.name, adj, stem, i+1, suffix)
		if ind.code == "8411" || ind.code == "8421" {
			s.name = fmt.Sprintf("%s%s（第%d）", s.place.name, stem, i+1)
		}
	case carries:
		s.name = fmt.Sprintf("%s%s危险货物运输第%d%s", s.place.name, adj, i+1, suffix)
	case receives:
		if i >= len(receiverKinds) {
			s.kind = pick(r, receiverKinds, func(k receiverKind) int { return k.share })
		}
		s.name = fmt.Sprintf("%s%s%s第%d%s", s.place.name, adj, receiverKinds[s.kind].name, i+1, suffix)
	}
	s.uscc = registry.MakeUSCC("91", s.place.code, "MA9"+encode(i, orgChars, 5))
	s.contact = []string{"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"}[r.IntN(10)] +
		[]string{"建国", "明", "磊", "静", "伟", "芳", "强", "敏", "军", "洋"}[r.IntN(10)]
	return s
}

// pick draws an index of xs, each as likely as its weight.
func pick[T any](r *rand.Rand, xs []T, weight func(T) int) int {
	total := 0
	for _, x := range xs {
		total += weight(x)
	}
	w := r.IntN(total)
	for k, x := range xs {
		if w < weight(x) {
			return k
		}
		w -= weight(x)
	}
	return len(xs) - 1
}

func (s spec) username() string { return "u" + strings.ToLower(s.uscc) }

// plate is the k-th vehicle of carrier i: unique across the whole set.
func (s spec) plate(k int) string {
	letter := "A"
	if strings.HasPrefix(s.place.code, "3406") {
		letter = "F"
	}
	return plateLetter[s.place.code[:2]] + letter + encode(s.i*4+k, "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ", 5)
}

// units registers every unit with what its role needs, and its account.
func (g *gen) units(ctx context.Context) (int, error) {
	n := g.opt.Scale.Units
	g.refs = make([]ref, n)
	hash, err := auth.HashPassword(Password)
	if err != nil {
		return 0, err
	}
	err = g.parallel(ctx, "units", n, func(ctx context.Context, i int) error {
		return g.unit(ctx, i, hash)
	})
	if err != nil {
		return 0, err
	}
	g.index()
	return n, nil
}

func (g *gen) unit(ctx context.Context, i int, hash string) error {
	s := g.spec(i)
	r := g.rng(i, 1)
	// Registered a year or two before the year of activity.
	ctx = store.At(ctx, g.start.AddDate(-1, 0, -r.IntN(365)).Add(time.Duration(9+r.IntN(8))*time.Hour))
	in := registry.NewUnit{USCC: s.uscc, Name: s.name, RegionCode: s.place.code, ParkCode: s.park,
		Address: s.place.name + "产业园区" + fmt.Sprint(1+r.IntN(300)) + "号", ContactName: s.contact,
		ContactPhone: fmt.Sprintf("139%08d", i)}
	if strings.HasPrefix(s.place.code, "3406") {
		lon, lat := 116.60+r.Float64()*0.45, 33.40+r.Float64()*0.70
		in.Longitude, in.Latitude = &lon, &lat
	}
	switch s.role {
	case generates:
		ind := industries[s.industry]
		in.Roles, in.IndustryCode, in.IndustryName = []registry.UnitRole{registry.Generator}, ind.code, ind.name
	case carries:
		in.Roles, in.IndustryCode, in.IndustryName = []registry.UnitRole{registry.Carrier}, "5430", "道路货物运输"
	case receives:
		in.Roles, in.IndustryCode, in.IndustryName = receiverKinds[s.kind].roles, "7724", "危险废物治理"
	}
	u, err := g.reg.CreateUnit(ctx, auth.System, in)
	if err != nil {
		return fmt.Errorf("unit %d: %w", i, err)
	}
	facility := func(code, kind, name, method string, capT float64) error {
		_, err := g.reg.CreateFacility(ctx, auth.System, registry.NewFacility{UnitID: u.ID, Code: code, Kind: kind, Name: name,
			Method: method, CapacityT: capT})
		return err
	}
	switch s.role {
	case generates:
		err = facility("ZC001", "storage", "危险废物贮存库", "", math.Ceil(s.yearT/4)+1)
	case carries:
		valid := time.Date(g.year+2, 12, 31, 0, 0, 0, 0, time.UTC)
		for k := range 2 + r.IntN(3) {
			if _, err = g.reg.CreateVehicle(ctx, auth.System, registry.NewVehicle{UnitID: u.ID, Plate: s.plate(k),
				PermitNo: fmt.Sprintf("道路危险货物运输许可%s%06d-%d", s.place.code, i, k), Kind: []string{"厢式货车", "罐式货车"}[k%2],
				CapacityT: 30, PermitValidTo: &valid}); err != nil {
				break
			}
		}
	case receives:
		err = g.licence(ctx, u, s, r.Float64())
	}
	if err != nil {
		return fmt.Errorf("unit %d: %w", i, err)
	}
	user, err := g.auth.CreateUserHashed(ctx, auth.System, auth.NewUser{Username: s.username(), DisplayName: s.contact,
		Role: auth.UnitAdmin, UnitID: u.ID}, hash)
	if err != nil {
		return fmt.Errorf("unit %d account: %w", i, err)
	}
	g.refs[i] = ref{unit: uuid.MustParse(u.ID), user: uuid.MustParse(user.ID)}
	return nil
}

// licence gives a receiver its permit, one facility per method and a store.
func (g *gen) licence(ctx context.Context, u registry.Unit, s spec, x float64) error {
	k := receiverKinds[s.kind]
	capT := math.Round(20_000 + 80_000*x)
	_, err := g.reg.CreateLicence(ctx, auth.System, registry.NewLicence{UnitID: u.ID,
		Number: fmt.Sprintf("%s危废经许字%s%06d号", plateLetter[s.place.code[:2]], s.place.code, s.i), Issuer: "省级生态环境主管部门",
		Kinds: k.kinds, CapacityT: capT, Scopes: k.scopes,
		ValidFrom: time.Date(g.year-1, 1, 1, 0, 0, 0, 0, time.UTC), ValidTo: time.Date(g.year+4, 12, 31, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, sc := range k.scopes {
		if sc.Method == "" || seen[sc.Method] {
			continue
		}
		seen[sc.Method] = true
		kind := "disposal"
		if sc.Method[0] == 'R' {
			kind = "utilisation"
		}
		if _, err := g.reg.CreateFacility(ctx, auth.System, registry.NewFacility{UnitID: u.ID, Code: "CZ" + sc.Method, Kind: kind,
			Name: k.name + "设施（" + sc.Method + "）", Method: sc.Method, CapacityT: capT}); err != nil {
			return err
		}
	}
	_, err = g.reg.CreateFacility(ctx, auth.System, registry.NewFacility{UnitID: u.ID, Code: "ZC001", Kind: "storage",
		Name: "危险废物贮存库", CapacityT: math.Round(capT / 20)})
	return err
}

// pool is the units of one kind, by prefecture and by province, so a
// generator's waste goes to a receiver near it.
type pool struct {
	byPlace, byProvince map[string][]int
	all                 []int
}

func (p *pool) add(i int, s spec) {
	p.byPlace[s.place.code] = append(p.byPlace[s.place.code], i)
	p.byProvince[s.place.code[:2]] = append(p.byProvince[s.place.code[:2]], i)
	p.all = append(p.all, i)
}

// near picks, with x in [0,1), a unit in s's prefecture, else its
// province; -1 if there is none.
func (p *pool) near(s spec, x float64) int {
	for _, c := range [][]int{p.byPlace[s.place.code], p.byProvince[s.place.code[:2]]} {
		if len(c) > 0 {
			return c[int(x*float64(len(c)))]
		}
	}
	return -1
}

func newPool() *pool { return &pool{byPlace: map[string][]int{}, byProvince: map[string][]int{}} }

// index sorts the units into receivers and carriers, and weighs the
// generators for their share of the manifests.
func (g *gen) index() {
	g.receivers, g.carriers = map[string]*pool{}, newPool()
	for _, k := range receiverKinds {
		g.receivers[k.key] = newPool()
	}
	for i := range g.opt.Scale.Units {
		s := g.spec(i)
		switch s.role {
		case receives:
			g.receivers[receiverKinds[s.kind].key].add(i, s)
		case carries:
			g.carriers.add(i, s)
		default:
			g.weightSum += weight(s)
		}
	}
}

// weight is a generator's share of the manifests: more waste, more
// shipments, but a plant with a hundred times the waste sends it in
// bigger loads rather than a hundred times as often.
func weight(s spec) float64 { return math.Sqrt(s.yearT) }
