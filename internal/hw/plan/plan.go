// Package plan holds a unit's yearly hazardous-waste management plan (管理计划,
// HJ 1259) and its filing (备案), the unit's management class (重点监管 /
// 简化管理 / 登记管理), and the declarations (申报) compiled from the ledger
// and tracked against their due dates.
package plan

import (
	"time"
	"wufei/internal/paging"

	"wufei/internal/store"
)

// Plan statuses. Submitting files the plan at once: the platform, like the
// national system, issues the filing number on submission, so "submitted" is
// the act (recorded with its time and audit entry) and "filed" the state.
const (
	Draft    = "draft"
	Filed    = "filed"
	Returned = "returned" // a regulator sent a filed plan back; the unit corrects and resubmits
)

// Sections of a plan, as stored in plan_lines.
const (
	secGeneration = "generation"
	secStorage    = "storage"
	secInHouse    = "inhouse"
	secTransfer   = "transfer"
)

// Forms are the physical forms of HJ 1259: solid, semi-solid, liquid, gas.
var Forms = []string{"S", "SS", "L", "G"}

// Characteristics are the hazard characteristics of the 名录.
var Characteristics = []string{"T", "C", "I", "R", "In"}

// UnitInfo is the plan's snapshot of the unit's basic information (单位基本信息).
type UnitInfo struct {
	Name         string `json:"name"`
	USCC         string `json:"uscc"`
	RegionCode   string `json:"region_code"`
	ParkCode     string `json:"park_code,omitempty"`
	Address      string `json:"address"`
	ContactName  string `json:"contact_name"`
	ContactPhone string `json:"contact_phone"`
	IndustryCode string `json:"industry_code"`
	IndustryName string `json:"industry_name"`
}

// FacilityInfo is the plan's snapshot of one of the unit's facilities (设施信息).
type FacilityInfo struct {
	Code      string  `json:"code"`
	Kind      string  `json:"kind" enum:"generation,storage,utilisation,disposal"`
	Name      string  `json:"name"`
	Method    string  `json:"method,omitempty"`
	CapacityT float64 `json:"capacity_t"`
}

// GenerationLine is one waste the unit expects to generate (危险废物产生情况).
type GenerationLine struct {
	WasteCode       string   `json:"waste_code" doc:"废物代码 ddd-ddd-dd"`
	Name            string   `json:"name,omitempty" maxLength:"100" doc:"行业俗称或单位内部名称"`
	Form            string   `json:"form" enum:"S,SS,L,G" doc:"物理性状：S 固态、SS 半固态、L 液态、G 气态"`
	Characteristics []string `json:"characteristics" required:"false" doc:"危险特性（T、C、I、R、In）；不填取名录所列"`
	PlannedT        float64  `json:"planned_t" doc:"本年度计划产生量（吨）"`
	LastYearT       float64  `json:"last_year_t" required:"false" doc:"上年度产生量（吨），默认 0"`
	Source          string   `json:"source,omitempty" maxLength:"200" doc:"来源及产生工序"`
}

// StorageLine is one storage facility the plan relies on (贮存情况).
type StorageLine struct {
	FacilityCode string  `json:"facility_code" doc:"贮存设施编码（须已登记）"`
	CapacityT    float64 `json:"capacity_t" doc:"贮存能力（吨）"`
}

// InHouseLine is planned in-house utilisation or disposal (自行利用/处置).
type InHouseLine struct {
	FacilityCode string  `json:"facility_code" doc:"利用/处置设施编码（须已登记）"`
	WasteCode    string  `json:"waste_code,omitempty" doc:"废物代码"`
	Method       string  `json:"method" doc:"利用/处置方式代码"`
	PlannedT     float64 `json:"planned_t" doc:"计划利用/处置量（吨）"`
}

// TransferLine is a planned transfer to a receiver (转移情况).
type TransferLine struct {
	WasteCode      string  `json:"waste_code" doc:"废物代码"`
	ReceiverUnitID string  `json:"receiver_unit_id,omitempty" doc:"接受单位（可不填）"`
	Method         string  `json:"method" doc:"利用/处置方式代码"`
	PlannedT       float64 `json:"planned_t" doc:"计划转移量（吨）"`
}

// Plan is a unit's management plan for one year.
type Plan struct {
	ID                string           `json:"id"`
	UnitID            string           `json:"unit_id"`
	Year              int              `json:"year"`
	Status            string           `json:"status" enum:"draft,filed,returned"`
	FilingNumber      string           `json:"filing_number,omitempty" doc:"备案编号：HWGL + 年份 + 单位所在市的前 4 位区划代码（淮北 3406）+ 5 位序号"`
	Class             string           `json:"class,omitempty" enum:"key,simplified,registered" doc:"备案时确定的管理类别"`
	Unit              UnitInfo         `json:"unit"`
	Facilities        []FacilityInfo   `json:"facilities"`
	Generation        []GenerationLine `json:"generation"`
	Storage           []StorageLine    `json:"storage"`
	InHouse           []InHouseLine    `json:"in_house"`
	Transfers         []TransferLine   `json:"transfers"`
	ReductionMeasures string           `json:"reduction_measures" doc:"减量化计划和措施（重点监管单位必填）"`
	ReturnReason      string           `json:"return_reason,omitempty" doc:"退回原因"`
	Late              bool             `json:"late" doc:"逾期备案"`
	DueAt             time.Time        `json:"due_at" doc:"备案截止时间"`
	SubmittedAt       *time.Time       `json:"submitted_at,omitempty"`
	FiledAt           *time.Time       `json:"filed_at,omitempty"`
	ReturnedAt        *time.Time       `json:"returned_at,omitempty"`
	CreatedAt         time.Time        `json:"created_at"`
	UpdatedAt         time.Time        `json:"updated_at"`
	Version           int64            `json:"version"`
}

// Summary is a plan as lists show it.
type Summary struct {
	ID           string     `db:"id" json:"id"`
	UnitID       string     `db:"unit_id" json:"unit_id"`
	UnitName     string     `db:"unit_name" json:"unit_name"`
	RegionCode   string     `db:"region_code" json:"region_code"`
	Year         int        `db:"year" json:"year"`
	Status       string     `db:"status" json:"status" enum:"draft,filed,returned"`
	FilingNumber string     `db:"filing_number" json:"filing_number,omitempty"`
	Class        string     `db:"class" json:"class,omitempty"`
	Late         bool       `db:"late" json:"late"`
	SubmittedAt  *time.Time `db:"submitted_at" json:"submitted_at,omitempty"`
	UpdatedAt    time.Time  `db:"updated_at" json:"updated_at"`
	Version      int64      `db:"version" json:"version"`
}

// Page is one page of a keyset-paged list.
type Page[T any] = paging.Page[T]

// Service runs the plan and declaration use cases.
type Service struct{ db *store.DB }

// NewService returns a Service on db.
func NewService(db *store.DB) *Service { return &Service{db: db} }
