// Package manifest runs electronic transfer manifests (电子转移联单): one per
// vehicle trip per consignor, from the consignor's draft through pickup,
// hand-overs between carriers, receipt with weighing and acceptance or
// refusal, to completion with the method used. Each step is a named
// transition with its own party; each is signed by the audit entry written
// in its transaction, and signed fields are never edited afterwards.
package manifest

import (
	"slices"
	"time"
)

// Status is where a manifest is in its life.
type Status string

const (
	Draft     Status = "draft"      // 草稿
	Submitted Status = "submitted"  // 已提交，待起运
	InTransit Status = "in_transit" // 运输中
	Received  Status = "received"   // 已接收
	Completed Status = "completed"  // 已完成利用处置
	Cancelled Status = "cancelled"  // 已作废（起运前）
	Refused   Status = "refused"    // 全部拒收
)

// Statuses are every status a manifest may have, in the order of its life.
var Statuses = []Status{Draft, Submitted, InTransit, Received, Completed, Cancelled, Refused}

// Party is who signs a step.
type Party string

const (
	Consignor Party = "consignor" // 移出人
	Carrier   Party = "carrier"   // 承运人
	Receiver  Party = "receiver"  // 接受人
)

// transition is one named step of the state machine: the statuses it may
// start from and the party who performs it. The step's own function decides
// the status it leads to (receive ends in received or refused).
type transition struct {
	from  []Status
	party Party
}

// machine is the manifest state machine.
var machine = map[string]transition{
	"submit":   {from: []Status{Draft}, party: Consignor},
	"cancel":   {from: []Status{Draft, Submitted}, party: Consignor},
	"pickup":   {from: []Status{Submitted}, party: Carrier},
	"handover": {from: []Status{InTransit}, party: Carrier},
	"deliver":  {from: []Status{InTransit}, party: Carrier},
	"receive":  {from: []Status{InTransit}, party: Receiver},
	"complete": {from: []Status{Received}, party: Receiver},
}

// allowed reports whether action may start from status.
func allowed(action string, s Status) bool {
	t, ok := machine[action]
	return ok && slices.Contains(t.from, s)
}

// Manifest is a transfer manifest as the API shows it.
type Manifest struct {
	ID                 string     `db:"id" json:"id"`
	Number             string     `db:"number" json:"number" doc:"联单编号：年份 + 3406 + 6 位流水号"`
	Year               int        `db:"year" json:"year"`
	Status             Status     `db:"status" json:"status" enum:"draft,submitted,in_transit,received,completed,cancelled,refused"`
	ConsignorUnitID    string     `db:"consignor_unit_id" json:"consignor_unit_id"`
	ConsignorName      string     `db:"consignor_name" json:"consignor_name"`
	ReceiverUnitID     string     `db:"receiver_unit_id" json:"receiver_unit_id"`
	ReceiverName       string     `db:"receiver_name" json:"receiver_name"`
	RegionCode         string     `db:"region_code" json:"region_code"`
	ReceiverRegionCode string     `db:"receiver_region_code" json:"receiver_region_code"`
	CrossProvince      bool       `db:"cross_province" json:"cross_province"`
	ApprovalID         string     `db:"approval_id" json:"approval_id,omitempty"`
	RouteID            string     `db:"route_id" json:"route_id,omitempty"`
	PreviousID         *string    `db:"previous_id" json:"previous_id,omitempty" doc:"拒收废物转出时引用的原联单"`
	EmergencyMeasures  string     `db:"emergency_measures" json:"emergency_measures"`
	Note               string     `db:"note" json:"note"`
	Warnings           []string   `db:"-" json:"warnings"`
	Carriers           []Leg      `db:"-" json:"carriers"`
	Lines              []Line     `db:"-" json:"lines"`
	Steps              []Step     `db:"-" json:"steps,omitempty"`
	SubmittedAt        *time.Time `db:"submitted_at" json:"submitted_at,omitempty"`
	PickedUpAt         *time.Time `db:"picked_up_at" json:"picked_up_at,omitempty"`
	ArrivedAt          *time.Time `db:"arrived_at" json:"arrived_at,omitempty"`
	ReceiptDueAt       *time.Time `db:"receipt_due_at" json:"receipt_due_at,omitempty" doc:"接受人确认接收的期限"`
	ReceivedAt         *time.Time `db:"received_at" json:"received_at,omitempty"`
	CompletedAt        *time.Time `db:"completed_at" json:"completed_at,omitempty"`
	ClosedAt           *time.Time `db:"closed_at" json:"closed_at,omitempty"`
	CreatedAt          time.Time  `db:"created_at" json:"created_at"`
	UpdatedAt          time.Time  `db:"updated_at" json:"updated_at"`
	Version            int64      `db:"version" json:"version"`
	WarningsText       string     `db:"warnings" json:"-"`
}

// Leg is one carrier's part of the journey, in order.
type Leg struct {
	Leg           int        `db:"leg" json:"leg"`
	CarrierUnitID string     `db:"carrier_unit_id" json:"carrier_unit_id"`
	CarrierName   string     `db:"carrier_name" json:"carrier_name"`
	VehiclePlate  string     `db:"vehicle_plate" json:"vehicle_plate"`
	PickedUpAt    *time.Time `db:"picked_up_at" json:"picked_up_at,omitempty"`
}

// Line is one waste on the manifest.
type Line struct {
	LineNo          int      `db:"line_no" json:"line_no"`
	WasteCode       string   `db:"waste_code" json:"waste_code"`
	Category        string   `db:"category" json:"category"`
	Name            string   `db:"name" json:"name" doc:"单位内部名称"`
	OfficialName    string   `db:"official_name" json:"official_name" doc:"名录名称"`
	QuantityT       float64  `db:"-" json:"quantity_t" doc:"申报数量（吨）"`
	Form            string   `db:"form" json:"form" enum:"S,SS,L,G" doc:"物理性状"`
	Characteristics []string `db:"-" json:"characteristics"`
	Packaging       string   `db:"packaging" json:"packaging"`
	PackageCount    int      `db:"package_count" json:"package_count"`
	ContainerIDs    []string `db:"-" json:"container_ids"`
	ReceivedT       *float64 `db:"-" json:"received_t,omitempty"`
	AcceptedT       *float64 `db:"-" json:"accepted_t,omitempty"`
	RefusedT        *float64 `db:"-" json:"refused_t,omitempty"`
	RefusalReason   string   `db:"refusal_reason" json:"refusal_reason,omitempty"`
	Method          string   `db:"method" json:"method,omitempty" doc:"利用/处置方式"`
	ApprovalID      string   `db:"approval_id" json:"approval_id,omitempty" doc:"该行使用的跨省转移审批"`

	QuantityG           int64  `db:"quantity_g" json:"-"`
	ReceivedG           *int64 `db:"received_g" json:"-"`
	AcceptedG           *int64 `db:"accepted_g" json:"-"`
	RefusedG            *int64 `db:"refused_g" json:"-"`
	CharacteristicsText string `db:"characteristics" json:"-"`
	ContainerIDsText    string `db:"container_ids" json:"-"`
}

// Step is one signed step, with the audit entry that records it.
type Step struct {
	Step          int       `db:"step" json:"step"`
	Action        string    `db:"action" json:"action"`
	Status        Status    `db:"status" json:"status"`
	At            time.Time `db:"at" json:"at"`
	ActorUserID   string    `db:"actor_user_id" json:"actor_user_id"`
	ActorUsername string    `db:"actor_username" json:"actor_username"`
	ActorUnitID   string    `db:"actor_unit_id" json:"actor_unit_id"`
	AuditSeq      int64     `db:"audit_seq" json:"audit_seq"`
}
