// Package ledger keeps a unit's hazardous-waste containers and its 管理台账
// (HJ 1259-2022): generation, into storage, out of storage, in-house
// utilisation/disposal and outsourced records, each with a batch code that
// links it to the stage before, and the containers with their HJ 1276
// digital ids. Records are never edited: a correction is a further record
// (调整 or 撤销) that points at the one it corrects, so totals are sums.
//
// The manifest package calls CheckContainers, Ship and RecordOutsourced
// inside its own transactions, so outsourced records are written from
// manifests and never typed twice.
package ledger

import (
	"time"
	"wufei/internal/calendar"
	"wufei/internal/paging"

	"wufei/internal/catalog"
	"wufei/internal/hw/label"
	"wufei/internal/qty"
	"wufei/internal/store"
)

// Kind is the kind of a ledger record.
type Kind string

// The five HJ 1259 record kinds and the two corrections.
const (
	KindGeneration   Kind = "generation"   // 产生
	KindStorageIn    Kind = "storage_in"   // 入库
	KindStorageOut   Kind = "storage_out"  // 出库
	KindInHouse      Kind = "in_house"     // 自行利用/处置
	KindOutsourced   Kind = "outsourced"   // 委托利用/处置
	KindAdjustment   Kind = "adjustment"   // 调整
	KindCancellation Kind = "cancellation" // 撤销
)

// Kinds lists every record kind.
var Kinds = []Kind{KindGeneration, KindStorageIn, KindStorageOut, KindInHouse, KindOutsourced, KindAdjustment, KindCancellation}

// prefix is the batch-code prefix of each kind. The standard fixes the
// fields, not the numbering; these follow the convention seen in
// implementations (CS20260106000001).
var prefix = map[Kind]string{KindGeneration: "CS", KindStorageIn: "RK", KindStorageOut: "CK", KindInHouse: "ZX", KindOutsourced: "WW",
	KindAdjustment: "TZ", KindCancellation: "CX"}

// Container statuses. A container is generated, may be stored and taken
// out of storage (withdrawn) for in-house use, and leaves on a manifest
// (shipped) until the receiver has it (received); in-house use ends it
// (treated); cancelling its generation record voids it (cancelled).
const (
	StatusGenerated = "generated"
	StatusStored    = "stored"
	StatusWithdrawn = "withdrawn"
	StatusShipped   = "shipped"
	StatusReceived  = "received"
	StatusTreated   = "treated"
	StatusCancelled = "cancelled"
)

// Statuses lists every container status.
var Statuses = []string{StatusGenerated, StatusStored, StatusWithdrawn, StatusShipped, StatusReceived, StatusTreated,
	StatusCancelled}

// Forms are the physical forms (物理性状) of HJ 1259.
var Forms = []string{"S", "SS", "L", "G"}

// Container is one container or package of hazardous waste with its digital id.
type Container struct {
	ID                  string                  `db:"id" json:"id"`
	DigitalID           string                  `db:"digital_id" json:"digital_id" doc:"HJ 1276 数字识别码（37 位）"`
	UnitID              string                  `db:"unit_id" json:"unit_id"`
	RegionCode          string                  `db:"region_code" json:"region_code"`
	WasteCode           string                  `db:"waste_code" json:"waste_code"`
	Category            string                  `db:"category" json:"category"`
	Name                string                  `db:"name" json:"name" doc:"单位内部名称"`
	OfficialName        string                  `db:"official_name" json:"official_name" doc:"名录名称"`
	Form                string                  `db:"form" json:"form" enum:"S,SS,L,G"`
	Characteristics     catalog.Characteristics `db:"characteristics" json:"characteristics"`
	Components          string                  `db:"components" json:"components" doc:"主要成分"`
	HazardousComponents string                  `db:"hazardous_components" json:"hazardous_components" doc:"有害成分"`
	Precautions         string                  `db:"precautions" json:"precautions" doc:"注意事项"`
	Packaging           string                  `db:"packaging" json:"packaging" doc:"容器/包装类型"`
	VolumeL             float64                 `db:"volume_l" json:"volume_l" doc:"容积（升），决定标签尺寸"`
	QuantityT           float64                 `db:"-" json:"quantity_t"`
	LabelMM             int                     `db:"-" json:"label_mm" doc:"标签边长（毫米），按容积：100、150 或 200"`
	Labels              int                     `db:"-" json:"labels" doc:"应贴标签数：容积大于 450 升的容器贴两张"`
	GeneratedAt         time.Time               `db:"generated_at" json:"generated_at"`
	FacilityCode        string                  `db:"facility_code" json:"facility_code,omitempty" doc:"产生设施编码"`
	Status              string                  `db:"status" json:"status" enum:"generated,stored,withdrawn,shipped,received,treated,cancelled"`
	GenerationBatch     string                  `db:"generation_batch" json:"generation_batch" doc:"产生批次编码"`
	StorageBatch        string                  `db:"storage_batch" json:"storage_batch,omitempty" doc:"入库批次编码"`
	StorageFacility     string                  `db:"storage_facility" json:"storage_facility,omitempty" doc:"贮存设施编码"`
	StoredAt            *time.Time              `db:"stored_at" json:"stored_at,omitempty"`
	OutBatch            string                  `db:"out_batch" json:"out_batch,omitempty" doc:"出库批次编码"`
	ManifestID          string                  `db:"manifest_id" json:"manifest_id,omitempty"`
	Remark              string                  `db:"remark" json:"remark,omitempty"`
	AuditSeq            int64                   `db:"audit_seq" json:"audit_seq"`
	UpdatedAt           time.Time               `db:"updated_at" json:"updated_at"`
	Version             int64                   `db:"version" json:"version"`
	QuantityG           int64                   `db:"quantity_g" json:"-"`
}

// derive sets what is computed from the stored fields.
func (c *Container) derive() {
	c.QuantityT = qty.Tonnes(c.QuantityG)
	c.LabelMM, c.Labels = label.Size(c.VolumeL)
}

// Record is one ledger record.
type Record struct {
	ID             string    `db:"id" json:"id"`
	UnitID         string    `db:"unit_id" json:"unit_id"`
	RegionCode     string    `db:"region_code" json:"region_code"`
	Kind           Kind      `db:"kind" json:"kind" enum:"generation,storage_in,storage_out,in_house,outsourced,adjustment,cancellation"`
	BatchCode      string    `db:"batch_code" json:"batch_code" doc:"本环节批次编码"`
	PrevBatch      string    `db:"prev_batch" json:"prev_batch,omitempty" doc:"上一环节批次编码"`
	CorrectsID     string    `db:"-" json:"corrects_id,omitempty" doc:"调整、撤销所针对的记录"`
	CorrectsBatch  string    `db:"corrects_batch" json:"corrects_batch,omitempty"`
	OccurredAt     time.Time `db:"occurred_at" json:"occurred_at"`
	WasteCode      string    `db:"waste_code" json:"waste_code"`
	Category       string    `db:"category" json:"category"`
	Name           string    `db:"name" json:"name"`
	OfficialName   string    `db:"official_name" json:"official_name"`
	QuantityT      float64   `db:"-" json:"quantity_t"`
	EffectiveT     float64   `db:"-" json:"effective_t" doc:"计入调整、撤销后的数量"`
	Status         string    `db:"-" json:"status" enum:"active,adjusted,cancelled" doc:"是否已被调整或撤销"`
	ContainerIDs   []string  `db:"-" json:"container_ids"`
	Packaging      string    `db:"packaging" json:"packaging,omitempty"`
	FacilityCode   string    `db:"facility_code" json:"facility_code,omitempty"`
	Handler        string    `db:"handler" json:"handler,omitempty" doc:"经办人"`
	Method         string    `db:"method" json:"method,omitempty"`
	ReceiverUnitID string    `db:"receiver_unit_id" json:"receiver_unit_id,omitempty"`
	ReceiverName   string    `db:"receiver_name" json:"receiver_name,omitempty"`
	LicenceNumber  string    `db:"licence_number" json:"licence_number,omitempty"`
	ManifestID     string    `db:"manifest_id" json:"manifest_id,omitempty"`
	ManifestNumber string    `db:"manifest_number" json:"manifest_number,omitempty"`
	LineNo         int       `db:"line_no" json:"line_no,omitempty"`
	Destination    string    `db:"destination" json:"destination,omitempty" doc:"去向"`
	Note           string    `db:"note" json:"note,omitempty"`
	AuditSeq       int64     `db:"audit_seq" json:"audit_seq"`
	CreatedAt      time.Time `db:"created_at" json:"created_at"`
	OriginID       string    `db:"origin_id" json:"-"`
	EffectKind     Kind      `db:"effect_kind" json:"-"`
	QuantityG      int64     `db:"quantity_g" json:"-"`
	DeltaG         int64     `db:"delta_g" json:"-"`
	EffectiveG     int64     `db:"effective_g" json:"-"`
	Corrections    int       `db:"corrections" json:"-"`
	Cancelled      int       `db:"cancelled" json:"-"`
}

// Page is one page of a keyset-paged list.
type Page[T any] = paging.Page[T]

// Service runs the ledger's use cases.
type Service struct{ db *store.DB }

// NewService returns a Service on db.
func NewService(db *store.DB) *Service { return &Service{db: db} }

// day is the local date of t as YYYYMMDD.
func day(t time.Time) string { return t.In(calendar.Zone).Format("20060102") }
