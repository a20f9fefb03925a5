// Package registry is the 登记: regions, departments, units with their roles,
// licences, vehicles and facilities. Its service decides what each principal
// may see and change; handlers only translate.
package registry

import (
	"time"
)

// UnitRole is a part a unit plays in the waste chain; a unit may hold several.
type UnitRole string

const (
	Generator UnitRole = "generator" // 产废单位
	Collector UnitRole = "collector" // 收集单位
	Carrier   UnitRole = "carrier"   // 承运人
	Utiliser  UnitRole = "utiliser"  // 利用单位
	Disposer  UnitRole = "disposer"  // 处置单位
)

// UnitRoles lists every unit role.
var UnitRoles = []UnitRole{Generator, Collector, Carrier, Utiliser, Disposer}

// partnerRoles are the roles whose holders form the directory every unit may
// read when it looks for a carrier or receiver.
var partnerRoles = []string{string(Collector), string(Carrier), string(Utiliser), string(Disposer)}

// LicenceKind is one of the operations a 危险废物经营许可证 authorises.
type LicenceKind string

const (
	Collect LicenceKind = "collect" // 收集
	Store   LicenceKind = "store"   // 贮存
	Utilise LicenceKind = "utilise" // 利用
	Dispose LicenceKind = "dispose" // 处置
)

// LicenceKinds lists every licence kind.
var LicenceKinds = []LicenceKind{Collect, Store, Utilise, Dispose}

// FacilityKind is what a facility does.
type FacilityKind string

// FacilityKinds lists every facility kind.
var FacilityKinds = []FacilityKind{"generation", "storage", "utilisation", "disposal"}

// Region is an administrative division or park.
type Region struct {
	Code       string `db:"code" json:"code"`
	Name       string `db:"name" json:"name"`
	Level      string `db:"level" json:"level" enum:"province,city,county,township,park"`
	ParentCode string `db:"parent_code" json:"parent_code,omitempty"`
	Local      bool   `db:"local" json:"local"`
}

// Department is a government department.
type Department struct {
	ID         string `db:"id" json:"id"`
	Code       string `db:"code" json:"code"`
	Name       string `db:"name" json:"name"`
	RegionCode string `db:"region_code" json:"region_code"`
}

// Unit is a registered organisation: an enterprise, clinic, carrier or
// licensed facility.
type Unit struct {
	ID           string     `db:"id" json:"id"`
	USCC         string     `db:"uscc" json:"uscc" doc:"统一社会信用代码"`
	Name         string     `db:"name" json:"name"`
	Roles        []UnitRole `db:"-" json:"roles"`
	RegionCode   string     `db:"region_code" json:"region_code"`
	ParkCode     string     `db:"park_code" json:"park_code,omitempty"`
	Address      string     `db:"address" json:"address"`
	Longitude    *float64   `db:"longitude" json:"longitude,omitempty"`
	Latitude     *float64   `db:"latitude" json:"latitude,omitempty"`
	ContactName  string     `db:"contact_name" json:"contact_name"`
	ContactPhone string     `db:"contact_phone" json:"contact_phone"`
	IndustryCode string     `db:"industry_code" json:"industry_code" doc:"GB/T 4754 行业代码"`
	IndustryName string     `db:"industry_name" json:"industry_name"`
	Status       string     `db:"status" json:"status"`
	CreatedAt    time.Time  `db:"created_at" json:"created_at"`
	UpdatedAt    time.Time  `db:"updated_at" json:"updated_at"`
	Version      int64      `db:"version" json:"version"`
}

// HasRole reports whether the unit holds r.
func (u Unit) HasRole(r UnitRole) bool {
	for _, x := range u.Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Licence is a 危险废物经营许可证.
type Licence struct {
	ID        string         `db:"id" json:"id"`
	UnitID    string         `db:"unit_id" json:"unit_id"`
	Number    string         `db:"number" json:"number"`
	Kinds     []LicenceKind  `db:"-" json:"kinds"`
	Issuer    string         `db:"issuer" json:"issuer"`
	CapacityT float64        `db:"-" json:"capacity_t" doc:"年经营规模（吨）"`
	ValidFrom time.Time      `db:"valid_from" json:"valid_from"`
	ValidTo   time.Time      `db:"valid_to" json:"valid_to"`
	Status    string         `db:"status" json:"status"`
	Scopes    []LicenceScope `db:"-" json:"scopes"`
	CreatedAt time.Time      `db:"created_at" json:"created_at"`
	UpdatedAt time.Time      `db:"updated_at" json:"updated_at"`
	Version   int64          `db:"version" json:"version"`
	KindsText string         `db:"kinds" json:"-"`
	CapacityG int64          `db:"capacity_g" json:"-"`
}

// LicenceScope is one line of what a licence covers: a category, or one
// code within it, by one method.
type LicenceScope struct {
	Category  string `db:"category" json:"category" pattern:"^HW[0-9]{2}$"`
	WasteCode string `db:"waste_code" json:"waste_code,omitempty" doc:"空表示整个类别"`
	Method    string `db:"method" json:"method,omitempty" doc:"利用处置方式；仅收集贮存的许可可为空"`
}

// Covers reports whether the licence, on day, covers waste code with method.
func (l Licence) Covers(code, method string, day time.Time) bool {
	if l.Status != "valid" || day.Before(l.ValidFrom) || day.After(l.ValidTo) {
		return false
	}
	cat := ""
	if len(code) == 10 {
		cat = "HW" + code[8:]
	}
	for _, s := range l.Scopes {
		if s.Method == method && s.Category == cat && (s.WasteCode == "" || s.WasteCode == code) {
			return true
		}
	}
	return false
}

// Vehicle is a carrier's vehicle.
type Vehicle struct {
	ID            string     `db:"id" json:"id"`
	UnitID        string     `db:"unit_id" json:"unit_id"`
	Plate         string     `db:"plate" json:"plate"`
	PermitNo      string     `db:"permit_no" json:"permit_no" doc:"道路危险货物运输许可证/道路运输证号"`
	Kind          string     `db:"kind" json:"kind"`
	CapacityT     float64    `db:"-" json:"capacity_t"`
	PermitValidTo *time.Time `db:"permit_valid_to" json:"permit_valid_to,omitempty"`
	Status        string     `db:"status" json:"status"`
	CreatedAt     time.Time  `db:"created_at" json:"created_at"`
	UpdatedAt     time.Time  `db:"updated_at" json:"updated_at"`
	Version       int64      `db:"version" json:"version"`
	CapacityG     int64      `db:"capacity_g" json:"-"`
}

// Facility is a generation, storage, utilisation or disposal facility.
type Facility struct {
	ID        string    `db:"id" json:"id"`
	UnitID    string    `db:"unit_id" json:"unit_id"`
	Code      string    `db:"code" json:"code"`
	Kind      string    `db:"kind" json:"kind"`
	Name      string    `db:"name" json:"name"`
	Method    string    `db:"method" json:"method,omitempty"`
	CapacityT float64   `db:"-" json:"capacity_t"`
	Status    string    `db:"status" json:"status"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
	UpdatedAt time.Time `db:"updated_at" json:"updated_at"`
	Version   int64     `db:"version" json:"version"`
	CapacityG int64     `db:"capacity_g" json:"-"`
}
