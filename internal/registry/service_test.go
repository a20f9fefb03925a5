package registry_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/catalog"
	"wufei/internal/errs"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// Principals used throughout. Regions: 340603 相山区, 340621 濉溪县, 340604 烈山区,
// 340602 杜集区; 340621P01 is the coal-chemical park inside 濉溪县.
var (
	admin    = auth.Principal{UserID: "u-admin", Username: "admin", Role: auth.Admin}
	cityReg  = auth.Principal{UserID: "u-city", Username: "sthjj", Role: auth.Regulator, RegionCode: "340600"}
	xsReg    = auth.Principal{UserID: "u-xs", Username: "xsq", Role: auth.Regulator, RegionCode: "340603"}
	sxReg    = auth.Principal{UserID: "u-sx", Username: "sxx", Role: auth.Regulator, RegionCode: "340621"}
	parkReg  = auth.Principal{UserID: "u-park", Username: "mhj", Role: auth.Regulator, RegionCode: "340621P01"}
	xsViewer = auth.Principal{UserID: "u-xsv", Username: "xsv", Role: auth.Viewer, RegionCode: "340603"}
	viewer   = auth.Principal{UserID: "u-v", Username: "public", Role: auth.Viewer}
)

func unitAdmin(u registry.Unit) auth.Principal {
	return auth.Principal{UserID: "ua-" + u.ID, Username: "ua", Role: auth.UnitAdmin, UnitID: u.ID}
}

func member(u registry.Unit) auth.Principal {
	return auth.Principal{UserID: "um-" + u.ID, Username: "um", Role: auth.UnitMember, UnitID: u.ID}
}

func driver(u registry.Unit) auth.Principal {
	return auth.Principal{UserID: "dr-" + u.ID, Username: "dr", Role: auth.Driver, UnitID: u.ID}
}

// env is a migrated database with the reference data and the catalogue.
type env struct {
	t   *testing.T
	ctx context.Context
	db  *store.DB
	svc *registry.Service
	n   int // for unique USCC bodies
}

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	ctx := context.Background()
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		if err := registry.SeedReference(ctx, tx); err != nil {
			return err
		}
		return catalog.Seed(ctx, tx)
	}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	return &env{t: t, ctx: ctx, db: db, svc: registry.NewService(db)}
}

// uscc returns a fresh valid code registered in region.
func (e *env) uscc(region string) string {
	e.n++
	return registry.MakeUSCC("91", region, fmt.Sprintf("MA%06d", e.n))
}

func (e *env) newUnit(name, region string, roles ...registry.UnitRole) registry.NewUnit {
	return registry.NewUnit{USCC: e.uscc(region), Name: name, Roles: roles, RegionCode: region,
		Address: "淮北市测试路 1 号", ContactName: "张三", ContactPhone: "0561-3000000"}
}

// unit registers a unit as the admin and fails the test if that fails.
func (e *env) unit(name, region, park string, roles ...registry.UnitRole) registry.Unit {
	e.t.Helper()
	in := e.newUnit(name, region, roles...)
	in.ParkCode = park
	u, err := e.svc.CreateUnit(e.ctx, admin, in)
	if err != nil {
		e.t.Fatalf("create unit %s: %v", name, err)
	}
	return u
}

// count returns the number of rows in a table.
func (e *env) count(table string) int {
	e.t.Helper()
	var n int
	if err := store.Get(e.ctx, e.db.Reader(), &n, `SELECT count(*) FROM `+table); err != nil {
		e.t.Fatalf("count %s: %v", table, err)
	}
	return n
}

var kindNames = map[errs.Kind]string{errs.Internal: "Internal", errs.Invalid: "Invalid", errs.NotFound: "NotFound",
	errs.Conflict: "Conflict", errs.Unauthorized: "Unauthorized", errs.Forbidden: "Forbidden", errs.TooMany: "TooMany"}

// wantErr fails unless err is a domain error of kind with code.
func wantErr(t *testing.T, err error, kind errs.Kind, code string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want %s %s", err, kindNames[kind], code)
	}
	if e.Kind != kind || e.Code != code {
		t.Fatalf("got %s %s (%v), want %s %s", kindNames[e.Kind], e.Code, err, kindNames[kind], code)
	}
}

// wantFields fails unless err is a validation error naming exactly these
// field=code pairs, in any order.
func wantFields(t *testing.T, err error, pairs ...string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.Invalid {
		t.Fatalf("got %v, want a validation error %v", err, pairs)
	}
	var got []string
	for _, f := range e.Fields {
		got = append(got, f.Field+"="+f.Code)
		if f.Message == "" {
			t.Errorf("field %s (%s) has no message", f.Field, f.Code)
		}
	}
	slices.Sort(got)
	want := slices.Clone(pairs)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("fields %v, want %v", got, want)
	}
}

func ptr[T any](v T) *T { return &v }

func ids(us []registry.Unit) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	slices.Sort(out)
	return out
}

// listAll walks every page of ListUnits and fails if a unit comes twice.
func (e *env) listAll(p auth.Principal, f registry.UnitFilter) []registry.Unit {
	e.t.Helper()
	var out []registry.Unit
	seen := map[string]bool{}
	for range 1000 {
		page, err := e.svc.ListUnits(e.ctx, p, f)
		if err != nil {
			e.t.Fatalf("list units: %v", err)
		}
		for _, u := range page.Items {
			if seen[u.ID] {
				e.t.Fatalf("unit %s (%s) on two pages", u.ID, u.Name)
			}
			seen[u.ID] = true
			out = append(out, u)
		}
		if page.Next == "" {
			return out
		}
		f.After = page.Next
	}
	e.t.Fatal("pagination does not end")
	return nil
}

func TestCreateUnit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)

		t.Run("stores a valid unit with normalised fields", func(t *testing.T) {
			in := e.newUnit("  淮北绿色化工有限公司 ", "340621", registry.Utiliser, registry.Generator, registry.Utiliser)
			in.USCC = " " + strings.ToLower(in.USCC) + " "
			in.ParkCode = "340621P01"
			in.Longitude, in.Latitude = ptr(116.79), ptr(33.95)
			u, err := e.svc.CreateUnit(e.ctx, admin, in)
			if err != nil {
				t.Fatal(err)
			}
			if u.USCC != strings.ToUpper(strings.TrimSpace(in.USCC)) || u.Name != "淮北绿色化工有限公司" ||
				u.Status != "active" || u.Version != 1 || u.ID == "" || u.CreatedAt.IsZero() {
				t.Fatalf("created %+v", u)
			}
			if !slices.Equal(u.Roles, []registry.UnitRole{registry.Generator, registry.Utiliser}) {
				t.Fatalf("roles %v, want sorted and without duplicates", u.Roles)
			}
			got, err := e.svc.GetUnit(e.ctx, admin, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.USCC != u.USCC || got.Name != u.Name || got.ParkCode != "340621P01" || got.RegionCode != "340621" ||
				!slices.Equal(got.Roles, u.Roles) || got.Longitude == nil || *got.Longitude != 116.79 ||
				got.Latitude == nil || *got.Latitude != 33.95 || !got.CreatedAt.Equal(u.CreatedAt) {
				t.Fatalf("read back %+v, created %+v", got, u)
			}
			hist, err := e.svc.History(e.ctx, admin, "unit", u.ID)
			if err != nil || len(hist) != 1 || hist[0].Action != "unit.create" || hist[0].UnitID != u.ID ||
				hist[0].RegionCode != "340621" || hist[0].ActorUsername != "admin" {
				t.Fatalf("history %v %+v", err, hist)
			}
		})

		t.Run("each rule names its field and code", func(t *testing.T) {
			good := registry.MakeUSCC("91", "340604", "MA2N0001")
			badCheck := good[:17] + map[bool]string{true: "1", false: "2"}[good[17] != '1']
			for _, c := range []struct {
				name   string
				change func(*registry.NewUnit)
				field  string
				code   string
			}{
				{"check character", func(u *registry.NewUnit) { u.USCC = badCheck }, "uscc", "uscc_check"},
				{"short code", func(u *registry.NewUnit) { u.USCC = good[:16] }, "uscc", "uscc_length"},
				{"empty code", func(u *registry.NewUnit) { u.USCC = "" }, "uscc", "uscc_length"},
				{"unknown region", func(u *registry.NewUnit) { u.RegionCode = "340699" }, "region_code", "region_unknown"},
				{"city is not a county", func(u *registry.NewUnit) { u.RegionCode = "340600" }, "region_code", "region_unknown"},
				{"park is not a county", func(u *registry.NewUnit) { u.RegionCode = "340621P01" }, "region_code", "region_unknown"},
				{"township is not a county", func(u *registry.NewUnit) { u.RegionCode = "340621100" }, "region_code", "region_unknown"},
				{"unknown park", func(u *registry.NewUnit) { u.ParkCode = "340621P99" }, "park_code", "region_unknown"},
				{"a city outside Huaibei", func(u *registry.NewUnit) { u.RegionCode = "320100" }, "region_code", "region_unknown"},
				{"park in another county", func(u *registry.NewUnit) { u.ParkCode = "340621P01" }, "park_code", "park_outside_region"},
				{"county as park", func(u *registry.NewUnit) { u.ParkCode = "340621" }, "park_code", "region_unknown"},
				{"unknown role", func(u *registry.NewUnit) {
					u.Roles = []registry.UnitRole{registry.Generator, "smelter"}
				}, "roles[1]", "role_unknown"},
				{"no role", func(u *registry.NewUnit) { u.Roles = nil }, "roles", "required"},
				{"blank name", func(u *registry.NewUnit) { u.Name = "   " }, "name", "required"},
				{"longitude alone", func(u *registry.NewUnit) { u.Longitude = ptr(116.8) }, "longitude", "coordinates_pair"},
				{"latitude alone", func(u *registry.NewUnit) { u.Latitude = ptr(33.9) }, "longitude", "coordinates_pair"},
				{"outside China", func(u *registry.NewUnit) { u.Longitude, u.Latitude = ptr(0.0), ptr(0.0) }, "longitude", "coordinates_range"},
				{"latitude out of range", func(u *registry.NewUnit) { u.Longitude, u.Latitude = ptr(116.8), ptr(60.0) }, "longitude", "coordinates_range"},
				{"phone", func(u *registry.NewUnit) { u.ContactPhone = "call me" }, "contact_phone", "phone_format"},
			} {
				t.Run(c.name, func(t *testing.T) {
					units, entries := e.count("units"), e.count("audit_entries")
					in := registry.NewUnit{USCC: good, Name: "淮北测试化工有限公司", Roles: []registry.UnitRole{registry.Generator},
						RegionCode: "340604", ContactPhone: "13800000000"}
					c.change(&in)
					_, err := e.svc.CreateUnit(e.ctx, admin, in)
					wantFields(t, err, c.field+"="+c.code)
					if e.count("units") != units || e.count("audit_entries") != entries {
						t.Fatal("a rejected unit left rows behind")
					}
				})
			}
			// The code itself was fine all along.
			if _, err := e.svc.CreateUnit(e.ctx, admin, registry.NewUnit{USCC: good, Name: "淮北测试化工有限公司",
				Roles: []registry.UnitRole{registry.Generator}, RegionCode: "340604"}); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("several errors are reported together", func(t *testing.T) {
			units := e.count("units")
			_, err := e.svc.CreateUnit(e.ctx, admin, registry.NewUnit{USCC: "91340600MA2N00", Name: "",
				Roles: []registry.UnitRole{"smelter"}, RegionCode: "999999", Longitude: ptr(116.8), ContactPhone: "x"})
			wantFields(t, err, "uscc=uscc_length", "name=required", "roles[0]=role_unknown", "region_code=region_unknown",
				"longitude=coordinates_pair", "contact_phone=phone_format")
			if e.count("units") != units {
				t.Fatal("a rejected unit was stored")
			}
		})

		t.Run("a USCC is registered once", func(t *testing.T) {
			in := e.newUnit("淮北重复测试有限公司", "340602", registry.Generator)
			first, err := e.svc.CreateUnit(e.ctx, admin, in)
			if err != nil {
				t.Fatal(err)
			}
			units, roles, entries := e.count("units"), e.count("unit_roles"), e.count("audit_entries")
			in.Name = "另一家公司"
			in.USCC = strings.ToLower(in.USCC) // the same code, however written
			_, err = e.svc.CreateUnit(e.ctx, cityReg, in)
			wantFields(t, err, "uscc=uscc_taken")
			if e.count("units") != units || e.count("unit_roles") != roles || e.count("audit_entries") != entries {
				t.Fatal("the duplicate left rows behind")
			}
			if got, _ := e.svc.GetUnit(e.ctx, admin, first.ID); got.Name != "淮北重复测试有限公司" {
				t.Fatalf("the first unit changed: %+v", got)
			}
		})

		t.Run("who may register where", func(t *testing.T) {
			for _, c := range []struct {
				who    string
				p      auth.Principal
				region string
				park   string
				ok     bool
			}{
				{"admin", admin, "340621", "", true},
				{"admin in another county", admin, "340602", "", true},
				{"city-wide regulator", cityReg, "340621", "", true},
				{"city-wide regulator elsewhere", cityReg, "340603", "", true},
				{"regulator without a region is city-wide", auth.Principal{UserID: "r", Role: auth.Regulator}, "340604", "", true},
				{"regional regulator in its region", xsReg, "340603", "", true},
				{"regional regulator outside", xsReg, "340621", "", false},
				{"park regulator in its park", parkReg, "340621", "340621P01", true},
				{"park regulator outside its park", parkReg, "340621", "", false},
				{"unit admin", unitAdmin(registry.Unit{ID: "x"}), "340603", "", false},
				{"unit member", member(registry.Unit{ID: "x"}), "340603", "", false},
				{"driver", driver(registry.Unit{ID: "x"}), "340603", "", false},
				{"viewer of the region", xsViewer, "340603", "", false},
				{"viewer", viewer, "340603", "", false},
			} {
				t.Run(c.who, func(t *testing.T) {
					units := e.count("units")
					in := e.newUnit("淮北权限测试有限公司", c.region, registry.Generator)
					in.ParkCode = c.park
					u, err := e.svc.CreateUnit(e.ctx, c.p, in)
					if c.ok {
						if err != nil || u.RegionCode != c.region {
							t.Fatalf("%v %+v", err, u)
						}
						if e.count("units") != units+1 {
							t.Fatal("not stored")
						}
						return
					}
					wantErr(t, err, errs.Forbidden, "forbidden")
					if e.count("units") != units {
						t.Fatal("a forbidden unit was stored")
					}
				})
			}
		})
	})
}

// world is one unit of each kind, spread over the city.
type world struct {
	genXS     registry.Unit // generator, 相山区
	genPark   registry.Unit // generator, 濉溪县, in the coal-chemical park
	genLS     registry.Unit // generator, 烈山区
	carrier   registry.Unit // carrier, 杜集区
	disposer  registry.Unit // disposer and utiliser, 濉溪县
	collector registry.Unit // collector, 相山区
	mixed     registry.Unit // generator and collector, 烈山区
}

func (e *env) world() world {
	return world{
		genXS:     e.unit("相山产废单位", "340603", "", registry.Generator),
		genPark:   e.unit("基地产废单位", "340621", "340621P01", registry.Generator),
		genLS:     e.unit("烈山产废单位", "340604", "", registry.Generator),
		carrier:   e.unit("杜集运输公司", "340602", "", registry.Carrier),
		disposer:  e.unit("濉溪处置中心", "340621", "", registry.Disposer, registry.Utiliser),
		collector: e.unit("相山收集站", "340603", "", registry.Collector),
		mixed:     e.unit("烈山综合公司", "340604", "", registry.Generator, registry.Collector),
	}
}

func (w world) all() []registry.Unit {
	return []registry.Unit{w.genXS, w.genPark, w.genLS, w.carrier, w.disposer, w.collector, w.mixed}
}

// directory is what every unit and every viewer may look up.
func (w world) directory() []registry.Unit {
	return []registry.Unit{w.carrier, w.disposer, w.collector, w.mixed}
}

func TestVisibility(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		w := e.world()
		for _, c := range []struct {
			who  string
			p    auth.Principal
			sees []registry.Unit
		}{
			{"admin", admin, w.all()},
			{"city-wide regulator", cityReg, w.all()},
			{"regulator of 相山区", xsReg, []registry.Unit{w.genXS, w.collector}},
			{"regulator of 濉溪县 sees its park too", sxReg, []registry.Unit{w.genPark, w.disposer}},
			{"regulator of the park", parkReg, []registry.Unit{w.genPark}},
			{"viewer of 相山区", xsViewer, []registry.Unit{w.genXS, w.collector}},
			{"viewer without a region", viewer, w.directory()},
			{"generator's admin", unitAdmin(w.genXS), append(w.directory(), w.genXS)},
			{"generator's member", member(w.genXS), append(w.directory(), w.genXS)},
			{"park generator's driver", driver(w.genPark), append(w.directory(), w.genPark)},
			{"carrier's driver", driver(w.carrier), w.directory()},
			{"mixed unit's admin", unitAdmin(w.mixed), w.directory()},
			{"no role", auth.Principal{UserID: "nobody"}, nil},
		} {
			t.Run(c.who, func(t *testing.T) {
				got := ids(e.listAll(c.p, registry.UnitFilter{Limit: 500}))
				want := ids(c.sees)
				if !slices.Equal(got, want) {
					t.Fatalf("sees %d units %v, want %d %v", len(got), got, len(want), want)
				}
				for _, u := range w.all() {
					visible := slices.Contains(want, u.ID)
					got, err := e.svc.GetUnit(e.ctx, c.p, u.ID)
					switch {
					case visible && err != nil:
						t.Errorf("GetUnit(%s): %v", u.Name, err)
					case visible && (got.ID != u.ID || !slices.Equal(got.Roles, u.Roles)):
						t.Errorf("GetUnit(%s) = %+v", u.Name, got)
					case !visible:
						wantErr(t, err, errs.NotFound, "unit_not_found")
					}
				}
			})
		}

		t.Run("a unit that does not exist looks like an invisible one", func(t *testing.T) {
			_, err := e.svc.GetUnit(e.ctx, admin, "0190f5c4-0000-7000-8000-000000000000")
			wantErr(t, err, errs.NotFound, "unit_not_found")
		})

		t.Run("filters narrow within the scope", func(t *testing.T) {
			for _, c := range []struct {
				name string
				p    auth.Principal
				f    registry.UnitFilter
				want []registry.Unit
			}{
				{"park", cityReg, registry.UnitFilter{Region: "340621P01"}, []registry.Unit{w.genPark}},
				{"county", cityReg, registry.UnitFilter{Region: "340621"}, []registry.Unit{w.genPark, w.disposer}},
				{"role", cityReg, registry.UnitFilter{Role: registry.Collector}, []registry.Unit{w.collector, w.mixed}},
				{"role in scope", xsReg, registry.UnitFilter{Role: registry.Collector}, []registry.Unit{w.collector}},
				{"uscc", admin, registry.UnitFilter{USCC: strings.ToLower(w.carrier.USCC)}, []registry.Unit{w.carrier}},
				{"name", admin, registry.UnitFilter{Query: "处置"}, []registry.Unit{w.disposer}},
				{"uscc part", admin, registry.UnitFilter{Query: strings.ToLower(w.genLS.USCC[8:])}, []registry.Unit{w.genLS}},
				{"wildcards are literal", admin, registry.UnitFilter{Query: "%"}, nil},
				{"generator outside the directory", unitAdmin(w.genXS), registry.UnitFilter{Role: registry.Generator},
					[]registry.Unit{w.genXS, w.mixed}},
			} {
				t.Run(c.name, func(t *testing.T) {
					if got, want := ids(e.listAll(c.p, c.f)), ids(c.want); !slices.Equal(got, want) {
						t.Fatalf("got %v, want %v", got, want)
					}
				})
			}
		})
	})
}

func TestListUnitsPagination(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		w := e.world()
		extra := []registry.Unit{}
		for i := range 9 {
			extra = append(extra, e.unit(fmt.Sprintf("相山分页测试%02d", i), "340603", "", registry.Generator))
		}
		everyone := append(w.all(), extra...)
		for _, c := range []struct {
			who  string
			p    auth.Principal
			want []registry.Unit
		}{
			{"admin", admin, everyone},
			{"regulator of 相山区", xsReg, append([]registry.Unit{w.genXS, w.collector}, extra...)},
			{"generator's admin", unitAdmin(w.genXS), append(w.directory(), w.genXS)},
		} {
			for _, limit := range []int{1, 2, 3, 4, 7, 16, 500} {
				t.Run(fmt.Sprintf("%s limit %d", c.who, limit), func(t *testing.T) {
					f := registry.UnitFilter{Limit: limit}
					var got []string
					pages := 0
					for {
						page, err := e.svc.ListUnits(e.ctx, c.p, f)
						if err != nil {
							t.Fatal(err)
						}
						pages++
						if len(page.Items) > limit || (page.Next != "" && len(page.Items) != limit) {
							t.Fatalf("page %d has %d items with limit %d, next %q", pages, len(page.Items), limit, page.Next)
						}
						for _, u := range page.Items {
							got = append(got, u.ID)
						}
						if page.Next == "" {
							break
						}
						if pages > len(c.want)+1 {
							t.Fatal("pagination does not end")
						}
						f.After = page.Next
					}
					if !slices.IsSorted(got) {
						t.Fatal("pages are not in id order")
					}
					if want := ids(c.want); !slices.Equal(got, want) {
						t.Fatalf("visited %d units %v, want each of %d once", len(got), got, len(want))
					}
					if want := (len(c.want) + limit - 1) / limit; pages != max(want, 1) {
						t.Fatalf("%d pages, want %d", pages, want)
					}
				})
			}
		}

		t.Run("out-of-range limits are clamped", func(t *testing.T) {
			for _, limit := range []int{0, -5, 501, 1 << 20} {
				page, err := e.svc.ListUnits(e.ctx, admin, registry.UnitFilter{Limit: limit})
				if err != nil || len(page.Items) != len(everyone) || page.Next != "" {
					t.Fatalf("limit %d: %v, %d items, next %q", limit, err, len(page.Items), page.Next)
				}
			}
		})

		t.Run("a garbage cursor is refused", func(t *testing.T) {
			for _, cursor := range []string{
				"***",
				"not a cursor!",
				"====",
				base64.RawURLEncoding.EncodeToString([]byte{0xff, 0xfe, 0x00}), // not text
				base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("x", 65))),
			} {
				_, err := e.svc.ListUnits(e.ctx, admin, registry.UnitFilter{After: cursor})
				wantFields(t, err, "cursor=cursor_invalid")
				_, err = e.svc.ListLicences(e.ctx, admin, registry.LicenceFilter{After: cursor})
				wantFields(t, err, "cursor=cursor_invalid")
				_, err = e.svc.ListVehicles(e.ctx, admin, registry.VehicleFilter{After: cursor})
				wantFields(t, err, "cursor=cursor_invalid")
			}
		})
	})
}

func TestUpdateUnit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		w := e.world()
		read := func(id string) registry.Unit {
			t.Helper()
			u, err := e.svc.GetUnit(e.ctx, admin, id)
			if err != nil {
				t.Fatal(err)
			}
			return u
		}

		t.Run("the unit's admin keeps its contact details", func(t *testing.T) {
			u, err := e.svc.UpdateUnit(e.ctx, unitAdmin(w.genXS), w.genXS.ID, registry.UnitPatch{Version: 1,
				Address: ptr("淮北市相山区新址 8 号"), ContactName: ptr("李四"), ContactPhone: ptr("+86 138 0000 0001"),
				Longitude: ptr(116.80), Latitude: ptr(33.96)})
			if err != nil {
				t.Fatal(err)
			}
			got := read(w.genXS.ID)
			if u.Version != 2 || got.Version != 2 || got.Address != "淮北市相山区新址 8 号" || got.ContactName != "李四" ||
				got.ContactPhone != "+86 138 0000 0001" || *got.Longitude != 116.80 || *got.Latitude != 33.96 ||
				got.Name != w.genXS.Name || !slices.Equal(got.Roles, w.genXS.Roles) {
				t.Fatalf("after update %+v", got)
			}
			if !got.UpdatedAt.Equal(u.UpdatedAt) || got.UpdatedAt.Before(got.CreatedAt) || !got.CreatedAt.Equal(w.genXS.CreatedAt) {
				t.Fatalf("updated_at %v (returned %v), created_at %v", got.UpdatedAt, u.UpdatedAt, got.CreatedAt)
			}
		})

		t.Run("but not its regulated fields", func(t *testing.T) {
			for name, patch := range map[string]registry.UnitPatch{
				"name":     {Name: ptr("改名公司")},
				"roles":    {Roles: []registry.UnitRole{registry.Generator, registry.Disposer}},
				"region":   {RegionCode: ptr("340621")},
				"park":     {ParkCode: ptr("340621P01")},
				"status":   {Status: ptr("closed")},
				"industry": {IndustryCode: ptr("2520")},
				"mixed":    {Address: ptr("x"), Name: ptr("改名公司")},
			} {
				t.Run(name, func(t *testing.T) {
					before := read(w.genXS.ID)
					patch.Version = before.Version
					_, err := e.svc.UpdateUnit(e.ctx, unitAdmin(w.genXS), w.genXS.ID, patch)
					wantErr(t, err, errs.Forbidden, "forbidden")
					if after := read(w.genXS.ID); after.Version != before.Version || after.Address != before.Address {
						t.Fatalf("a forbidden change was stored: %+v", after)
					}
				})
			}
		})

		t.Run("others may not keep it", func(t *testing.T) {
			v := read(w.genXS.ID).Version
			patch := registry.UnitPatch{Version: v, Address: ptr("别处")}
			_, err := e.svc.UpdateUnit(e.ctx, member(w.genXS), w.genXS.ID, patch)
			wantErr(t, err, errs.Forbidden, "forbidden")
			_, err = e.svc.UpdateUnit(e.ctx, xsViewer, w.genXS.ID, patch)
			wantErr(t, err, errs.Forbidden, "forbidden")
			// Visible in the directory but not its own: forbidden.
			_, err = e.svc.UpdateUnit(e.ctx, unitAdmin(w.genXS), w.carrier.ID, registry.UnitPatch{Version: 1, Address: ptr("x")})
			wantErr(t, err, errs.Forbidden, "forbidden")
			// Not visible at all: not found.
			_, err = e.svc.UpdateUnit(e.ctx, unitAdmin(w.genXS), w.genLS.ID, registry.UnitPatch{Version: 1, Address: ptr("x")})
			wantErr(t, err, errs.NotFound, "unit_not_found")
			_, err = e.svc.UpdateUnit(e.ctx, xsReg, w.genPark.ID, registry.UnitPatch{Version: 1, Name: ptr("x")})
			wantErr(t, err, errs.NotFound, "unit_not_found")
			if read(w.genXS.ID).Version != v || read(w.carrier.ID).Version != 1 || read(w.genLS.ID).Version != 1 {
				t.Fatal("a refused change was stored")
			}
		})

		t.Run("a stale version is a conflict and stores nothing", func(t *testing.T) {
			before := read(w.genXS.ID)
			entries := e.count("audit_entries")
			_, err := e.svc.UpdateUnit(e.ctx, unitAdmin(w.genXS), w.genXS.ID, registry.UnitPatch{Version: before.Version - 1,
				Address: ptr("过期的修改")})
			wantErr(t, err, errs.Conflict, "version_conflict")
			_, err = e.svc.UpdateUnit(e.ctx, xsReg, w.genXS.ID, registry.UnitPatch{Version: before.Version + 1, Name: ptr("未来")})
			wantErr(t, err, errs.Conflict, "version_conflict")
			after := read(w.genXS.ID)
			if after.Version != before.Version || after.Address != before.Address || after.Name != before.Name ||
				e.count("audit_entries") != entries {
				t.Fatalf("a conflicting change was stored: %+v", after)
			}
		})

		t.Run("validation applies to patches", func(t *testing.T) {
			before := read(w.genXS.ID)
			_, err := e.svc.UpdateUnit(e.ctx, unitAdmin(w.genXS), w.genXS.ID, registry.UnitPatch{Version: before.Version,
				ContactPhone: ptr("电话"), Longitude: ptr(200.0), Latitude: ptr(33.0)})
			wantFields(t, err, "contact_phone=phone_format", "longitude=coordinates_range")
			_, err = e.svc.UpdateUnit(e.ctx, admin, w.genXS.ID, registry.UnitPatch{Version: before.Version,
				Roles: []registry.UnitRole{"trader"}, Status: ptr("dormant"), RegionCode: ptr("340600")})
			wantFields(t, err, "roles[0]=role_unknown", "status=status_unknown", "region_code=region_unknown")
			if read(w.genXS.ID).Version != before.Version {
				t.Fatal("an invalid change was stored")
			}
		})

		t.Run("a regional regulator changes its units but cannot move them away", func(t *testing.T) {
			before := read(w.genXS.ID)
			u, err := e.svc.UpdateUnit(e.ctx, xsReg, w.genXS.ID, registry.UnitPatch{Version: before.Version,
				Name: ptr("相山产废单位（更名）"), Roles: []registry.UnitRole{registry.Generator, registry.Collector},
				Status: ptr("suspended")})
			if err != nil {
				t.Fatal(err)
			}
			if u.Version != before.Version+1 || u.Status != "suspended" ||
				!slices.Equal(read(w.genXS.ID).Roles, []registry.UnitRole{registry.Collector, registry.Generator}) {
				t.Fatalf("after regulator's update %+v", read(w.genXS.ID))
			}
			entries := e.count("audit_entries")
			_, err = e.svc.UpdateUnit(e.ctx, xsReg, w.genXS.ID, registry.UnitPatch{Version: u.Version, RegionCode: ptr("340621")})
			wantFields(t, err, "region_code=forbidden_region")
			if got := read(w.genXS.ID); got.RegionCode != "340603" || got.Version != u.Version || e.count("audit_entries") != entries {
				t.Fatalf("the unit moved: %+v", got)
			}
			// The city-wide regulator may move it; then 相山区 no longer sees it.
			moved, err := e.svc.UpdateUnit(e.ctx, cityReg, w.genXS.ID, registry.UnitPatch{Version: u.Version, RegionCode: ptr("340621")})
			if err != nil || moved.RegionCode != "340621" {
				t.Fatalf("city moves the unit: %v %+v", err, moved)
			}
			_, err = e.svc.GetUnit(e.ctx, xsReg, w.genXS.ID)
			wantErr(t, err, errs.NotFound, "unit_not_found")
			if _, err := e.svc.GetUnit(e.ctx, sxReg, w.genXS.ID); err != nil {
				t.Fatalf("濉溪县 does not see the unit moved in: %v", err)
			}
		})

		t.Run("history records who changed what from what to what", func(t *testing.T) {
			hist, err := e.svc.History(e.ctx, cityReg, "unit", w.genXS.ID)
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, h := range hist {
				actions = append(actions, h.Action+"/"+h.ActorUsername)
				if h.Entity != "unit" || h.EntityID != w.genXS.ID || h.UnitID != w.genXS.ID {
					t.Fatalf("entry about something else: %+v", h)
				}
			}
			want := []string{"unit.create/admin", "unit.update/ua", "unit.update/xsq", "unit.update/sthjj"}
			if !slices.Equal(actions, want) {
				t.Fatalf("history %v, want %v", actions, want)
			}
			var change struct{ Before, After registry.Unit }
			if err := json.Unmarshal([]byte(hist[1].Change), &change); err != nil {
				t.Fatal(err)
			}
			if change.Before.Address != "淮北市测试路 1 号" || change.After.Address != "淮北市相山区新址 8 号" ||
				change.Before.Version != 1 || change.After.Version != 2 || change.After.ContactName != "李四" {
				t.Fatalf("change %+v", change)
			}
			if err := json.Unmarshal([]byte(hist[3].Change), &change); err != nil {
				t.Fatal(err)
			}
			if change.Before.RegionCode != "340603" || change.After.RegionCode != "340621" || hist[3].RegionCode != "340621" {
				t.Fatalf("move recorded as %+v in region %s", change, hist[3].RegionCode)
			}
			_, err = e.svc.History(e.ctx, xsReg, "unit", w.genPark.ID)
			wantErr(t, err, errs.NotFound, "unit_not_found")
			_, err = e.svc.History(e.ctx, admin, "vehicle", w.genPark.ID)
			wantFields(t, err, "entity=entity_unknown")
		})

		t.Run("history follows the audit scope", func(t *testing.T) {
			// A unit's own accounts read its whole history.
			own, err := e.svc.History(e.ctx, unitAdmin(w.carrier), "unit", w.carrier.ID)
			if err != nil || len(own) != 1 || own[0].Action != "unit.create" {
				t.Fatalf("carrier's own history: %v %+v", err, own)
			}
			// Another unit may look the carrier up in the directory, but the
			// audit trail is only for the carrier's own accounts.
			for _, p := range []auth.Principal{unitAdmin(w.genLS), member(w.mixed), viewer} {
				if _, err := e.svc.GetUnit(e.ctx, p, w.carrier.ID); err != nil {
					t.Fatalf("%s cannot see the carrier: %v", p.Role, err)
				}
				hist, err := e.svc.History(e.ctx, p, "unit", w.carrier.ID)
				if err != nil || len(hist) != 0 {
					t.Fatalf("%s reads the carrier's audit trail: %v %+v", p.Role, err, hist)
				}
			}
		})
	})
}

func TestLicences(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		w := e.world()
		from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		to := time.Date(2029, 12, 31, 0, 0, 0, 0, time.UTC)
		number := 0
		licence := func(unit registry.Unit, kinds []registry.LicenceKind, scopes ...registry.LicenceScope) registry.NewLicence {
			number++
			return registry.NewLicence{UnitID: unit.ID, Number: fmt.Sprintf("皖危废经字第%03d号", number), Kinds: kinds,
				Issuer: "安徽省生态环境厅", CapacityT: 20000, ValidFrom: from, ValidTo: to, Scopes: scopes}
		}
		treat := []registry.LicenceKind{registry.Dispose, registry.Utilise} // as stored: sorted
		collect := []registry.LicenceKind{registry.Collect, registry.Store}

		var disposerLicence, collectorLicence registry.Licence

		t.Run("records a licence for a receiver", func(t *testing.T) {
			in := licence(w.disposer, []registry.LicenceKind{registry.Dispose, registry.Utilise, registry.Dispose},
				registry.LicenceScope{Category: "HW08", Method: "R9"},
				registry.LicenceScope{Category: "HW49", WasteCode: "900-041-49", Method: "D10"})
			in.Number = "  " + in.Number + " "
			l, err := e.svc.CreateLicence(e.ctx, sxReg, in)
			if err != nil {
				t.Fatal(err)
			}
			if l.Number != strings.TrimSpace(in.Number) || l.Status != "valid" || l.Version != 1 || l.CapacityT != 20000 ||
				!slices.Equal(l.Kinds, treat) || len(l.Scopes) != 2 {
				t.Fatalf("created %+v", l)
			}
			got, err := e.svc.GetLicence(e.ctx, admin, l.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.UnitID != w.disposer.ID || !slices.Equal(got.Kinds, treat) || got.CapacityT != 20000 ||
				!got.ValidFrom.Equal(from) || !got.ValidTo.Equal(to) || len(got.Scopes) != 2 ||
				got.Scopes[0] != (registry.LicenceScope{Category: "HW08", Method: "R9"}) ||
				got.Scopes[1] != (registry.LicenceScope{Category: "HW49", WasteCode: "900-041-49", Method: "D10"}) {
				t.Fatalf("read back %+v", got)
			}
			disposerLicence = got

			// A collection-and-storage licence names no method.
			collectorLicence, err = e.svc.CreateLicence(e.ctx, admin, licence(w.collector, collect,
				registry.LicenceScope{Category: "HW08", WasteCode: "900-214-08"}))
			if err != nil {
				t.Fatal(err)
			}
		})

		t.Run("only receivers hold licences", func(t *testing.T) {
			scope := registry.LicenceScope{Category: "HW08", Method: "R9"}
			for _, u := range []registry.Unit{w.genLS, w.carrier} {
				_, err := e.svc.CreateLicence(e.ctx, admin, licence(u, treat, scope))
				wantFields(t, err, "unit_id=unit_not_receiver")
			}
			// A generator that also collects may (HW17, so the lists below are not affected).
			if _, err := e.svc.CreateLicence(e.ctx, admin, licence(w.mixed, collect, registry.LicenceScope{Category: "HW17"})); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("only admins and regulators over the unit record licences", func(t *testing.T) {
			licences := e.count("licences")
			in := licence(w.disposer, treat, registry.LicenceScope{Category: "HW08", Method: "R9"})
			for _, p := range []auth.Principal{unitAdmin(w.disposer), member(w.disposer), unitAdmin(w.genXS), viewer} {
				_, err := e.svc.CreateLicence(e.ctx, p, in)
				wantErr(t, err, errs.Forbidden, "forbidden")
			}
			// A regulator of another region does not even see the unit.
			_, err := e.svc.CreateLicence(e.ctx, xsReg, in)
			wantErr(t, err, errs.NotFound, "unit_not_found")
			_, err = e.svc.CreateLicence(e.ctx, admin, registry.NewLicence{UnitID: "missing", Number: "x", Kinds: treat,
				CapacityT: 1, ValidFrom: from, ValidTo: to})
			wantErr(t, err, errs.NotFound, "unit_not_found")
			if e.count("licences") != licences {
				t.Fatal("a refused licence was stored")
			}
		})

		t.Run("each rule names its field and code", func(t *testing.T) {
			for _, c := range []struct {
				name   string
				change func(*registry.NewLicence)
				want   []string
			}{
				{"unknown category", func(l *registry.NewLicence) { l.Scopes[0].Category = "HW99" }, []string{"scopes[0].category=category_unknown"}},
				{"malformed category", func(l *registry.NewLicence) { l.Scopes[0].Category = "hw08" }, []string{"scopes[0].category=category_unknown"}},
				{"malformed code", func(l *registry.NewLicence) { l.Scopes[0].WasteCode = "900-249-8" }, []string{"scopes[0].waste_code=waste_code_format"}},
				{"code of another category", func(l *registry.NewLicence) { l.Scopes[0].WasteCode = "900-041-49" }, []string{"scopes[0].waste_code=waste_code_category"}},
				{"unknown method", func(l *registry.NewLicence) { l.Scopes[0].Method = "R99" }, []string{"scopes[0].method=method_unknown"}},
				{"treatment without method", func(l *registry.NewLicence) { l.Scopes[0].Method = "" }, []string{"scopes[0].method=method_required"}},
				{"duplicate scope", func(l *registry.NewLicence) { l.Scopes = append(l.Scopes, l.Scopes[0]) }, []string{"scopes[1]=scope_duplicate"}},
				{"validity reversed", func(l *registry.NewLicence) { l.ValidTo = from.AddDate(0, 0, -1) }, []string{"valid_to=validity_order"}},
				{"validity empty", func(l *registry.NewLicence) { l.ValidTo = from }, []string{"valid_to=validity_order"}},
				{"zero capacity", func(l *registry.NewLicence) { l.CapacityT = 0 }, []string{"capacity_t=capacity_positive"}},
				{"negative capacity", func(l *registry.NewLicence) { l.CapacityT = -1 }, []string{"capacity_t=quantity_range"}},
				{"no number", func(l *registry.NewLicence) { l.Number = " " }, []string{"number=required"}},
				{"unknown kind", func(l *registry.NewLicence) { l.Kinds = []registry.LicenceKind{"trade"} }, []string{"kinds[0]=kind_unknown"}},
				{"everything at once", func(l *registry.NewLicence) {
					l.CapacityT = 0
					l.ValidTo = from
					l.Scopes = []registry.LicenceScope{{Category: "HW99", Method: "R99"}, {Category: "HW08", WasteCode: "900-041-49"}}
				}, []string{"capacity_t=capacity_positive", "valid_to=validity_order", "scopes[0].category=category_unknown",
					"scopes[0].method=method_unknown", "scopes[1].waste_code=waste_code_category", "scopes[1].method=method_required"}},
			} {
				t.Run(c.name, func(t *testing.T) {
					licences, scopes := e.count("licences"), e.count("licence_scopes")
					in := licence(w.disposer, treat, registry.LicenceScope{Category: "HW08", WasteCode: "900-249-08", Method: "R9"})
					c.change(&in)
					_, err := e.svc.CreateLicence(e.ctx, admin, in)
					wantFields(t, err, c.want...)
					if e.count("licences") != licences || e.count("licence_scopes") != scopes {
						t.Fatal("a rejected licence left rows behind")
					}
				})
			}
		})

		t.Run("a licence number is recorded once", func(t *testing.T) {
			in := licence(w.disposer, treat, registry.LicenceScope{Category: "HW08", Method: "R9"})
			in.Number = collectorLicence.Number
			licences := e.count("licences")
			_, err := e.svc.CreateLicence(e.ctx, admin, in)
			wantFields(t, err, "number=licence_number_taken")
			if e.count("licences") != licences {
				t.Fatal("a duplicate licence was stored")
			}
		})

		t.Run("lists by the code and method it covers", func(t *testing.T) {
			numbers := func(p auth.Principal, f registry.LicenceFilter) []string {
				t.Helper()
				page, err := e.svc.ListLicences(e.ctx, p, f)
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, l := range page.Items {
					out = append(out, l.Number)
					if len(l.Scopes) == 0 || len(l.Kinds) == 0 {
						t.Fatalf("listed licence without scopes or kinds: %+v", l)
					}
				}
				slices.Sort(out)
				return out
			}
			d, c := disposerLicence.Number, collectorLicence.Number
			for _, tc := range []struct {
				name string
				p    auth.Principal
				f    registry.LicenceFilter
				want []string
			}{
				{"whole category covers a code", admin, registry.LicenceFilter{WasteCode: "900-249-08"}, []string{d}},
				{"category and single code", admin, registry.LicenceFilter{WasteCode: "900-214-08"}, []string{c, d}},
				{"with the method", admin, registry.LicenceFilter{WasteCode: "900-214-08", Method: "R9"}, []string{d}},
				{"with another method", admin, registry.LicenceFilter{WasteCode: "900-214-08", Method: "D10"}, nil},
				{"single code", admin, registry.LicenceFilter{WasteCode: "900-041-49", Method: "D10"}, []string{d}},
				{"another code of the category", admin, registry.LicenceFilter{WasteCode: "900-039-49"}, nil},
				{"uncovered category", admin, registry.LicenceFilter{WasteCode: "841-001-01"}, nil},
				{"method alone", admin, registry.LicenceFilter{Method: "D10"}, []string{d}},
				{"unit", admin, registry.LicenceFilter{UnitID: w.collector.ID}, []string{c}},
				{"scoped to the regulator's region", xsReg, registry.LicenceFilter{WasteCode: "900-214-08"}, []string{c}},
				{"units see the directory's licences", unitAdmin(w.genXS), registry.LicenceFilter{WasteCode: "900-214-08"}, []string{c, d}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					slices.Sort(tc.want)
					if got := numbers(tc.p, tc.f); !slices.Equal(got, tc.want) {
						t.Fatalf("got %v, want %v", got, tc.want)
					}
				})
			}
			_, err := e.svc.ListLicences(e.ctx, admin, registry.LicenceFilter{WasteCode: "HW08"})
			wantFields(t, err, "waste_code=waste_code_format")
			_, err = e.svc.GetLicence(e.ctx, xsReg, disposerLicence.ID)
			wantErr(t, err, errs.NotFound, "licence_not_found")
		})

		t.Run("update checks the version and replaces the scope", func(t *testing.T) {
			id := disposerLicence.ID
			_, err := e.svc.UpdateLicence(e.ctx, unitAdmin(w.disposer), id, registry.LicencePatch{Version: 1, Status: ptr("suspended")})
			wantErr(t, err, errs.Forbidden, "forbidden")
			_, err = e.svc.UpdateLicence(e.ctx, xsReg, id, registry.LicencePatch{Version: 1, Status: ptr("suspended")})
			wantErr(t, err, errs.NotFound, "licence_not_found")

			newScopes := []registry.LicenceScope{{Category: "HW49", Method: "D10"}, {Category: "HW08", WasteCode: "900-249-08", Method: "R9"}}
			l, err := e.svc.UpdateLicence(e.ctx, sxReg, id, registry.LicencePatch{Version: 1, Scopes: newScopes, CapacityT: ptr(25000.5)})
			if err != nil {
				t.Fatal(err)
			}
			if l.Version != 2 || l.CapacityT != 25000.5 || !slices.Equal(l.Scopes, newScopes) || !slices.Equal(l.Kinds, treat) {
				t.Fatalf("updated %+v", l)
			}
			got, err := e.svc.GetLicence(e.ctx, admin, id)
			if err != nil {
				t.Fatal(err)
			}
			wantScopes := []registry.LicenceScope{{Category: "HW08", WasteCode: "900-249-08", Method: "R9"}, {Category: "HW49", Method: "D10"}}
			if got.Version != 2 || got.CapacityT != 25000.5 || !slices.Equal(got.Scopes, wantScopes) {
				t.Fatalf("read back %+v", got)
			}
			day := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
			if got.Covers("900-214-08", "R9", day) || !got.Covers("900-249-08", "R9", day) || !got.Covers("900-039-49", "D10", day) {
				t.Fatalf("scopes not replaced: %+v", got.Scopes)
			}

			// Stale: nothing changes.
			scopes := e.count("licence_scopes")
			_, err = e.svc.UpdateLicence(e.ctx, admin, id, registry.LicencePatch{Version: 1, Status: ptr("revoked"),
				Scopes: []registry.LicenceScope{{Category: "HW01", Method: "Y10"}}})
			wantErr(t, err, errs.Conflict, "version_conflict")
			// Invalid: nothing changes either.
			_, err = e.svc.UpdateLicence(e.ctx, admin, id, registry.LicencePatch{Version: 2,
				Scopes: []registry.LicenceScope{{Category: "HW08"}}})
			wantFields(t, err, "scopes[0].method=method_required")
			_, err = e.svc.UpdateLicence(e.ctx, admin, id, registry.LicencePatch{Version: 2, ValidTo: ptr(from)})
			wantFields(t, err, "valid_to=validity_order")
			if again, _ := e.svc.GetLicence(e.ctx, admin, id); again.Version != 2 || again.Status != "valid" ||
				!slices.Equal(again.Scopes, wantScopes) || e.count("licence_scopes") != scopes {
				t.Fatalf("a refused update was stored: %+v", again)
			}

			// Suspending leaves the scope but ends the cover.
			l, err = e.svc.UpdateLicence(e.ctx, cityReg, id, registry.LicencePatch{Version: 2, Status: ptr("suspended")})
			if err != nil || l.Status != "suspended" || l.Version != 3 || !slices.Equal(l.Scopes, wantScopes) {
				t.Fatalf("suspend: %v %+v", err, l)
			}
			if l.Covers("900-249-08", "R9", day) {
				t.Fatal("a suspended licence covers")
			}

			hist, err := e.svc.History(e.ctx, admin, "licence", id)
			if err != nil || len(hist) != 3 || hist[0].Action != "licence.create" || hist[2].Action != "licence.update" ||
				hist[2].ActorUsername != "sthjj" || hist[2].UnitID != w.disposer.ID {
				t.Fatalf("history %v %+v", err, hist)
			}
			var change struct{ Before, After registry.Licence }
			if err := json.Unmarshal([]byte(hist[1].Change), &change); err != nil {
				t.Fatal(err)
			}
			if change.Before.CapacityT != 20000 || change.After.CapacityT != 25000.5 || len(change.Before.Scopes) != 2 ||
				!slices.Equal(change.After.Scopes, newScopes) {
				t.Fatalf("change %+v", change)
			}
			// The disposer's own admin reads its licence's history.
			if h, err := e.svc.History(e.ctx, unitAdmin(w.disposer), "licence", id); err != nil || len(h) != 3 {
				t.Fatalf("disposer's licence history: %v %d", err, len(h))
			}
			_, err = e.svc.History(e.ctx, xsReg, "licence", id)
			wantErr(t, err, errs.NotFound, "licence_not_found")
		})
	})
}

func TestLicenceCovers(t *testing.T) {
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2027, 12, 31, 0, 0, 0, 0, time.UTC)
	l := registry.Licence{Status: "valid", ValidFrom: from, ValidTo: to, Scopes: []registry.LicenceScope{
		{Category: "HW08", Method: "R9"},                           // the whole category
		{Category: "HW49", WasteCode: "900-041-49", Method: "D10"}, // one code
		{Category: "HW17"},                                         // collection only, no method
	}}
	day := time.Date(2026, 3, 15, 8, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name         string
		code, method string
		day          time.Time
		want         bool
	}{
		{"code in a whole-category scope", "900-249-08", "R9", day, true},
		{"another code of that category", "900-214-08", "R9", day, true},
		{"wrong method", "900-249-08", "D10", day, false},
		{"no method where one is licensed", "900-249-08", "", day, false},
		{"the single code", "900-041-49", "D10", day, true},
		{"another code of the single-code category", "900-039-49", "D10", day, false},
		{"collection scope without method", "336-064-17", "", day, true},
		{"collection scope asked with a method", "336-064-17", "D10", day, false},
		{"uncovered category", "841-001-01", "D10", day, false},
		{"malformed code", "HW08", "R9", day, false},
		{"first day", "900-249-08", "R9", from, true},
		{"last day", "900-249-08", "R9", to, true},
		{"before validity", "900-249-08", "R9", from.Add(-time.Second), false},
		{"expired", "900-249-08", "R9", to.Add(time.Second), false},
		{"long expired", "900-249-08", "R9", to.AddDate(2, 0, 0), false},
	} {
		if got := l.Covers(c.code, c.method, c.day); got != c.want {
			t.Errorf("%s: Covers(%s, %q, %s) = %v, want %v", c.name, c.code, c.method, c.day.Format(time.DateOnly), got, c.want)
		}
	}
	for _, status := range []string{"suspended", "revoked", "expired", ""} {
		s := l
		s.Status = status
		if s.Covers("900-249-08", "R9", day) {
			t.Errorf("a %q licence covers", status)
		}
	}
}

func TestVehicles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		w := e.world()
		other := e.unit("烈山运输公司", "340604", "", registry.Carrier)
		vehicle := func(unit registry.Unit, plate string) registry.NewVehicle {
			return registry.NewVehicle{UnitID: unit.ID, Plate: plate, PermitNo: "皖交运管许可淮字340600000001号",
				Kind: "厢式货车", CapacityT: 9.5}
		}

		t.Run("plate formats", func(t *testing.T) {
			for _, c := range []struct{ in, stored string }{
				{"皖F12345", "皖F12345"},
				{"皖FD12345", "皖FD12345"}, // new energy
				{"皖F1234挂", "皖F1234挂"},   // trailer
				{"皖fa5678", "皖FA5678"},   // lower case is normalised
				{" 皖F 13579 ", "皖F13579"},
				{"苏A0000A", "苏A0000A"},
			} {
				v, err := e.svc.CreateVehicle(e.ctx, admin, vehicle(w.carrier, c.in))
				if err != nil {
					t.Fatalf("%q: %v", c.in, err)
				}
				if v.Plate != c.stored || v.Version != 1 || v.Status != "active" || v.CapacityT != 9.5 {
					t.Fatalf("%q stored as %+v", c.in, v)
				}
			}
			vehicles := e.count("vehicles")
			for _, bad := range []string{"皖I12345", "皖O12345", "AB12345", "皖F123", "皖F1234567", "皖F12345挂挂", "京12345",
				"X F12345", "皖F1234O", ""} {
				_, err := e.svc.CreateVehicle(e.ctx, admin, vehicle(w.carrier, bad))
				if err == nil {
					t.Errorf("%q accepted", bad)
					continue
				}
				wantFields(t, err, "plate=plate_format")
			}
			if e.count("vehicles") != vehicles {
				t.Fatal("a bad plate was stored")
			}
			in := vehicle(w.carrier, "皖F24680")
			in.PermitNo, in.CapacityT = " ", 0
			_, err := e.svc.CreateVehicle(e.ctx, admin, in)
			wantFields(t, err, "permit_no=required", "capacity_t=capacity_positive")
		})

		t.Run("a plate is registered once", func(t *testing.T) {
			_, err := e.svc.CreateVehicle(e.ctx, admin, vehicle(other, "皖f12345"))
			wantFields(t, err, "plate=plate_taken")
		})

		t.Run("only carriers have vehicles", func(t *testing.T) {
			for _, u := range []registry.Unit{w.genXS, w.disposer, w.collector} {
				_, err := e.svc.CreateVehicle(e.ctx, admin, vehicle(u, "皖F99999"))
				wantFields(t, err, "unit_id=unit_not_carrier")
			}
		})

		t.Run("a carrier's admin keeps its own vehicles only", func(t *testing.T) {
			v, err := e.svc.CreateVehicle(e.ctx, unitAdmin(w.carrier), vehicle(w.carrier, "皖F11111"))
			if err != nil || v.UnitID != w.carrier.ID {
				t.Fatalf("own vehicle: %v %+v", err, v)
			}
			vehicles := e.count("vehicles")
			for _, p := range []auth.Principal{unitAdmin(other), member(w.carrier), driver(w.carrier), unitAdmin(w.genXS), viewer} {
				_, err := e.svc.CreateVehicle(e.ctx, p, vehicle(w.carrier, "皖F22222"))
				wantErr(t, err, errs.Forbidden, "forbidden")
			}
			_, err = e.svc.CreateVehicle(e.ctx, xsReg, vehicle(w.carrier, "皖F22222"))
			wantErr(t, err, errs.NotFound, "unit_not_found")
			if e.count("vehicles") != vehicles {
				t.Fatal("a refused vehicle was stored")
			}
			// Regulators over the carrier's region may.
			if _, err := e.svc.CreateVehicle(e.ctx, auth.Principal{UserID: "dj", Role: auth.Regulator, RegionCode: "340602"},
				vehicle(w.carrier, "皖F22222")); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("update checks the version", func(t *testing.T) {
			page, err := e.svc.ListVehicles(e.ctx, unitAdmin(w.carrier), registry.VehicleFilter{Plate: "皖f11111"})
			if err != nil || len(page.Items) != 1 {
				t.Fatalf("list by plate: %v %+v", err, page)
			}
			v := page.Items[0]
			u, err := e.svc.UpdateVehicle(e.ctx, unitAdmin(w.carrier), v.ID, registry.VehiclePatch{Version: 1,
				CapacityT: ptr(12.25), Status: ptr("suspended")})
			if err != nil || u.Version != 2 || u.CapacityT != 12.25 || u.Status != "suspended" || u.Plate != v.Plate {
				t.Fatalf("update: %v %+v", err, u)
			}
			entries := e.count("audit_entries")
			_, err = e.svc.UpdateVehicle(e.ctx, unitAdmin(w.carrier), v.ID, registry.VehiclePatch{Version: 1, Status: ptr("retired")})
			wantErr(t, err, errs.Conflict, "version_conflict")
			_, err = e.svc.UpdateVehicle(e.ctx, unitAdmin(other), v.ID, registry.VehiclePatch{Version: 2, Status: ptr("retired")})
			wantErr(t, err, errs.Forbidden, "forbidden")
			_, err = e.svc.UpdateVehicle(e.ctx, unitAdmin(w.carrier), v.ID, registry.VehiclePatch{Version: 2, Status: ptr("lost")})
			wantFields(t, err, "status=status_unknown")
			page, _ = e.svc.ListVehicles(e.ctx, admin, registry.VehicleFilter{UnitID: w.carrier.ID, Plate: v.Plate})
			if len(page.Items) != 1 || page.Items[0].Version != 2 || page.Items[0].Status != "suspended" ||
				page.Items[0].CapacityT != 12.25 || e.count("audit_entries") != entries {
				t.Fatalf("a refused update was stored: %+v", page.Items)
			}
		})

		t.Run("vehicles are listed within the scope", func(t *testing.T) {
			all, err := e.svc.ListVehicles(e.ctx, admin, registry.VehicleFilter{Limit: 500})
			if err != nil || len(all.Items) != e.count("vehicles") {
				t.Fatalf("admin: %v %d", err, len(all.Items))
			}
			xs, err := e.svc.ListVehicles(e.ctx, xsReg, registry.VehicleFilter{})
			if err != nil || len(xs.Items) != 0 {
				t.Fatalf("相山区 sees vehicles of 杜集区: %v %+v", err, xs.Items)
			}
			var walked int
			f := registry.VehicleFilter{Limit: 2}
			for {
				page, err := e.svc.ListVehicles(e.ctx, admin, f)
				if err != nil {
					t.Fatal(err)
				}
				walked += len(page.Items)
				if page.Next == "" {
					break
				}
				f.After = page.Next
			}
			if walked != len(all.Items) {
				t.Fatalf("walked %d of %d vehicles", walked, len(all.Items))
			}
		})
	})
}

func TestFacilities(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		w := e.world()
		facility := func(u registry.Unit, code, kind, method string) registry.NewFacility {
			return registry.NewFacility{UnitID: u.ID, Code: code, Kind: kind, Name: "设施 " + code, Method: method, CapacityT: 500}
		}

		t.Run("method rules by kind", func(t *testing.T) {
			for _, c := range []struct {
				kind, method string
				want         string // field=code, or "" for accepted
			}{
				{"utilisation", "R9", ""},
				{"disposal", "D10", ""},
				{"storage", "", ""},
				{"generation", "", ""},
				{"utilisation", "", "method=method_unknown"},
				{"disposal", "", "method=method_unknown"},
				{"disposal", "D99", "method=method_unknown"},
				{"storage", "R9", "method=method_not_allowed"},
				{"generation", "D10", "method=method_not_allowed"},
				{"incineration", "", "kind=kind_unknown"},
			} {
				t.Run(c.kind+"/"+c.method, func(t *testing.T) {
					facilities := e.count("facilities")
					f, err := e.svc.CreateFacility(e.ctx, unitAdmin(w.disposer), facility(w.disposer, "F-"+c.kind+"-"+c.method, c.kind, c.method))
					if c.want == "" {
						if err != nil || f.Kind != c.kind || f.Method != c.method || f.CapacityT != 500 || f.Version != 1 {
							t.Fatalf("%v %+v", err, f)
						}
						return
					}
					wantFields(t, err, c.want)
					if e.count("facilities") != facilities {
						t.Fatal("a rejected facility was stored")
					}
				})
			}
		})

		t.Run("codes are unique within a unit", func(t *testing.T) {
			if _, err := e.svc.CreateFacility(e.ctx, admin, facility(w.disposer, "TS001", "storage", "")); err != nil {
				t.Fatal(err)
			}
			_, err := e.svc.CreateFacility(e.ctx, admin, facility(w.disposer, " TS001 ", "storage", ""))
			wantFields(t, err, "code=facility_code_taken")
			if _, err := e.svc.CreateFacility(e.ctx, admin, facility(w.collector, "TS001", "storage", "")); err != nil {
				t.Fatalf("the same code in another unit: %v", err)
			}
			got, err := e.svc.ListFacilities(e.ctx, unitAdmin(w.collector), w.collector.ID)
			if err != nil || len(got) != 1 || got[0].Code != "TS001" || got[0].UnitID != w.collector.ID {
				t.Fatalf("collector's facilities: %v %+v", err, got)
			}
		})

		t.Run("who keeps facilities", func(t *testing.T) {
			for _, p := range []auth.Principal{unitAdmin(w.genXS), member(w.disposer), viewer} {
				_, err := e.svc.CreateFacility(e.ctx, p, facility(w.disposer, "X1", "storage", ""))
				wantErr(t, err, errs.Forbidden, "forbidden")
			}
			_, err := e.svc.CreateFacility(e.ctx, unitAdmin(w.genXS), facility(w.genLS, "X1", "storage", ""))
			wantErr(t, err, errs.NotFound, "unit_not_found")
			if _, err := e.svc.CreateFacility(e.ctx, unitAdmin(w.genXS), facility(w.genXS, "X1", "generation", "")); err != nil {
				t.Fatalf("own facility: %v", err)
			}
			if _, err := e.svc.CreateFacility(e.ctx, xsReg, facility(w.genXS, "X2", "storage", "")); err != nil {
				t.Fatalf("regulator: %v", err)
			}
			// Another generator's unit is hidden, its facilities with it.
			_, err = e.svc.ListFacilities(e.ctx, unitAdmin(w.genLS), w.genXS.ID)
			wantErr(t, err, errs.NotFound, "unit_not_found")
		})
	})
}

func TestEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		w := e.world()
		if _, err := e.svc.UpdateUnit(e.ctx, unitAdmin(w.genXS), w.genXS.ID, registry.UnitPatch{Version: 1, Address: ptr("新址")}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.CreateVehicle(e.ctx, unitAdmin(w.carrier), registry.NewVehicle{UnitID: w.carrier.ID, Plate: "皖F12345",
			PermitNo: "p", CapacityT: 5}); err != nil {
			t.Fatal(err)
		}
		feed := func(p auth.Principal) []audit.Entry {
			t.Helper()
			es, err := e.svc.Events(e.ctx, p, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			return es
		}
		everything := feed(admin)
		if len(everything) != e.count("audit_entries") || everything[0].Seq != 1 || everything[0].Action != "reference.seed" {
			t.Fatalf("admin's feed has %d of %d entries, first %+v", len(everything), e.count("audit_entries"), everything[0])
		}
		if len(feed(cityReg)) != len(everything) {
			t.Fatal("the city-wide regulator does not see everything")
		}
		seqOf := func(action, entityID string) int64 {
			for _, en := range everything {
				if en.Action == action && en.EntityID == entityID {
					return en.Seq
				}
			}
			t.Fatalf("no %s of %s", action, entityID)
			return 0
		}

		t.Run("a unit's feed is its own entries", func(t *testing.T) {
			es := feed(member(w.genXS))
			var actions []string
			for _, en := range es {
				if en.UnitID != w.genXS.ID {
					t.Fatalf("entry of unit %q in genXS's feed: %+v", en.UnitID, en)
				}
				actions = append(actions, en.Action)
			}
			if !slices.Equal(actions, []string{"unit.create", "unit.update"}) {
				t.Fatalf("genXS's feed %v", actions)
			}
			es = feed(driver(w.carrier))
			if len(es) != 2 || es[1].Action != "vehicle.create" || es[1].UnitID != w.carrier.ID {
				t.Fatalf("carrier's feed %+v", es)
			}
		})

		t.Run("a regional regulator's feed is its region's", func(t *testing.T) {
			es := feed(xsReg)
			if len(es) != 3 { // genXS created and updated, collector created
				t.Fatalf("相山区's feed has %d entries: %+v", len(es), es)
			}
			for _, en := range es {
				if en.RegionCode != "340603" {
					t.Fatalf("entry of region %q in 相山区's feed", en.RegionCode)
				}
			}
			for _, en := range feed(xsViewer) {
				if en.RegionCode != "340603" {
					t.Fatalf("entry of region %q in 相山区 viewer's feed", en.RegionCode)
				}
			}
			es = feed(parkReg)
			if len(es) != 1 || es[0].UnitID != w.genPark.ID {
				t.Fatalf("the park's feed %+v", es)
			}
			if es := feed(viewer); len(es) != 0 {
				t.Fatalf("a viewer without a region follows %d entries", len(es))
			}
		})

		t.Run("the feed pages by seq", func(t *testing.T) {
			var seqs []int64
			for after := int64(0); ; {
				es, err := e.svc.Events(e.ctx, admin, after, 3)
				if err != nil {
					t.Fatal(err)
				}
				if len(es) == 0 {
					break
				}
				for _, en := range es {
					seqs = append(seqs, en.Seq)
				}
				after = es[len(es)-1].Seq
			}
			if len(seqs) != len(everything) || seqs[0] != 1 || seqs[len(seqs)-1] != int64(len(everything)) || !slices.IsSorted(seqs) {
				t.Fatalf("paged seqs %v", seqs)
			}
		})

		t.Run("CanSeeEntry applies the same scope", func(t *testing.T) {
			genXSCreate, genParkCreate := seqOf("unit.create", w.genXS.ID), seqOf("unit.create", w.genPark.ID)
			for _, c := range []struct {
				who string
				p   auth.Principal
				seq int64
				ok  bool
			}{
				{"admin, the seed", admin, 1, true},
				{"city, another region", cityReg, genParkCreate, true},
				{"own unit", unitAdmin(w.genXS), genXSCreate, true},
				{"another unit", unitAdmin(w.genXS), genParkCreate, false},
				{"unit, the seed", member(w.genXS), 1, false},
				{"region's entry", xsReg, genXSCreate, true},
				{"another region's entry", xsReg, genParkCreate, false},
				{"region, the seed", xsReg, 1, false},
				{"park's entry", parkReg, genParkCreate, true},
				{"outside the park", parkReg, seqOf("unit.create", w.disposer.ID), false},
				{"viewer", viewer, genXSCreate, false},
				{"no such entry", admin, 1 << 40, false},
			} {
				err := e.svc.CanSeeEntry(e.ctx, c.p, c.seq)
				if c.ok && err != nil {
					t.Errorf("%s: %v", c.who, err)
				}
				if !c.ok {
					t.Run(c.who, func(t *testing.T) { wantErr(t, err, errs.NotFound, "audit_entry_not_found") })
				}
			}
		})
	})
}

// A receiver outside Huaibei is registered with its province's code.
func TestUnitOutsideHuaibei(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		for _, region := range []string{"320000", "340000"} {
			in := e.newUnit("外省利用处置有限公司", region, registry.Utiliser)
			u, err := e.svc.CreateUnit(e.ctx, admin, in)
			if err != nil || u.RegionCode != region {
				t.Fatalf("%s: %v %v", region, u.RegionCode, err)
			}
		}
	})
}
