// Package approval keeps cross-province transfer approvals (跨省转移审批) and
// the Yangtze-Delta whitelist of pre-approved utilisation routes (白名单):
// who may move which waste codes from one province to another, how much, and
// until when. Manifests ask it whether a transfer is covered (Covering) and
// draw on an approval's quantity as they are submitted (Use, Release).
package approval

import (
	"time"

	"wufei/internal/store"
)

// Statuses of an approval or a route. Revoked and expired are final.
const (
	Valid     = "valid"
	Suspended = "suspended"
	Revoked   = "revoked"
	Expired   = "expired"
)

// Statuses lists every status.
var Statuses = []string{Valid, Suspended, Revoked, Expired}

// TransferApproval is a provincial decision allowing a consignor to move waste to a
// receiver in another province (固废法 Art. 82; 转移管理办法 §1.6).
type TransferApproval struct {
	ID           string         `db:"id" json:"id"`
	Number       string         `db:"number" json:"number" doc:"省级生态环境部门审批决定文号"`
	FromProvince string         `db:"from_province" json:"from_province" doc:"移出地省级代码（前两位），安徽为 34"`
	ToProvince   string         `db:"to_province" json:"to_province" doc:"接受地省级代码（前两位）"`
	ConsignorID  string         `db:"consignor_unit_id" json:"consignor_unit_id" doc:"移出人"`
	ReceiverID   string         `db:"receiver_unit_id" json:"receiver_unit_id" doc:"接受人"`
	Method       string         `db:"method" json:"method" doc:"利用处置方式代码"`
	Issuer       string         `db:"issuer" json:"issuer" doc:"审批机关"`
	ValidFrom    string         `db:"valid_from" json:"valid_from" doc:"有效期起（YYYY-MM-DD，北京时间，含当日）"`
	ValidTo      string         `db:"valid_to" json:"valid_to" doc:"有效期止（YYYY-MM-DD，含当日）"`
	Status       string         `db:"status" json:"status" enum:"valid,suspended,revoked,expired"`
	RaisedCap    bool           `db:"raised_cap" json:"raised_inbound_cap" doc:"环评批复原料主要来自省外的项目：省外转入上限按较高比例（默认 60%）计"`
	RegionCode   string         `db:"region_code" json:"region_code" doc:"本市一方所在县区"`
	Note         string         `db:"note" json:"note"`
	Items        []ApprovalItem `db:"-" json:"items"`
	CreatedAt    time.Time      `db:"created_at" json:"created_at"`
	UpdatedAt    time.Time      `db:"updated_at" json:"updated_at"`
	Version      int64          `db:"version" json:"version"`
}

// ApprovalItem is one waste code of an approval: its cap and what manifests have
// used of it.
type ApprovalItem struct {
	WasteCode string  `db:"waste_code" json:"waste_code"`
	Category  string  `db:"category" json:"category"`
	QuantityT float64 `db:"-" json:"quantity_t" doc:"批准数量（吨）"`
	UsedT     float64 `db:"-" json:"used_t" doc:"已由联单使用的数量（吨）"`
	LeftT     float64 `db:"-" json:"left_t" doc:"剩余数量（吨）"`
	QuantityG int64   `db:"quantity_g" json:"-"`
	UsedG     int64   `db:"used_g" json:"-"`
}

func (it *ApprovalItem) finish() {
	it.QuantityT, it.UsedT = tonnes(it.QuantityG), tonnes(it.UsedG)
	it.LeftT = tonnes(it.QuantityG - it.UsedG)
}

// NewTransferApproval is what recording an approval takes. The provinces follow
// from the parties' regions.
type NewTransferApproval struct {
	Number      string            `json:"number" minLength:"1" maxLength:"100" doc:"审批决定文号"`
	ConsignorID string            `json:"consignor_unit_id" maxLength:"40"`
	ReceiverID  string            `json:"receiver_unit_id" maxLength:"40"`
	Method      string            `json:"method" maxLength:"4"`
	Issuer      string            `json:"issuer,omitempty" maxLength:"100"`
	ValidFrom   string            `json:"valid_from" maxLength:"10" doc:"YYYY-MM-DD"`
	ValidTo     string            `json:"valid_to" maxLength:"10" doc:"YYYY-MM-DD"`
	RaisedCap   bool              `json:"raised_inbound_cap,omitempty"`
	Note        string            `json:"note,omitempty" maxLength:"500"`
	Items       []NewApprovalItem `json:"items" minItems:"1" maxItems:"200"`
}

// NewApprovalItem is one waste code and its cap.
type NewApprovalItem struct {
	WasteCode string  `json:"waste_code" maxLength:"10" doc:"废物代码 ddd-ddd-dd"`
	QuantityT float64 `json:"quantity_t" doc:"批准数量（吨）"`
}

// TransferApprovalPatch corrects an approval or changes its status. The parties
// cannot change: a new receiver needs a new application. Items, when given,
// replace the list; a code already drawn on stays, with a cap not below what
// was used.
type TransferApprovalPatch struct {
	Version   int64             `json:"version" minimum:"1"`
	Number    *string           `json:"number,omitempty" maxLength:"100"`
	Method    *string           `json:"method,omitempty" maxLength:"4"`
	Issuer    *string           `json:"issuer,omitempty" maxLength:"100"`
	ValidFrom *string           `json:"valid_from,omitempty" maxLength:"10"`
	ValidTo   *string           `json:"valid_to,omitempty" maxLength:"10"`
	Status    *string           `json:"status,omitempty" enum:"valid,suspended,revoked,expired"`
	RaisedCap *bool             `json:"raised_inbound_cap,omitempty"`
	Note      *string           `json:"note,omitempty" maxLength:"500"`
	Items     []NewApprovalItem `json:"items,omitempty" maxItems:"200"`
}

// Filter narrows a list of approvals or routes.
type Filter struct {
	ConsignorID string
	ReceiverID  string
	WasteCode   string
	Status      string
	ValidOn     string // YYYY-MM-DD: in force on that day
	Limit       int
	After       string // cursor from the previous page
}

// WhitelistRoute is a whitelist route: a consignor may send these codes to this
// receiver in another province for utilisation without a per-transfer
// approval.
type WhitelistRoute struct {
	ID           string    `db:"id" json:"id"`
	Reference    string    `db:"reference" json:"reference" doc:"白名单文件或批次"`
	FromProvince string    `db:"from_province" json:"from_province"`
	ToProvince   string    `db:"to_province" json:"to_province"`
	ConsignorID  string    `db:"consignor_unit_id" json:"consignor_unit_id"`
	ReceiverID   string    `db:"receiver_unit_id" json:"receiver_unit_id"`
	WasteCodes   []string  `db:"-" json:"waste_codes"`
	ValidFrom    string    `db:"valid_from" json:"valid_from"`
	ValidTo      string    `db:"valid_to" json:"valid_to"`
	Status       string    `db:"status" json:"status" enum:"valid,suspended,revoked,expired"`
	RegionCode   string    `db:"region_code" json:"region_code"`
	Note         string    `db:"note" json:"note"`
	CreatedAt    time.Time `db:"created_at" json:"created_at"`
	UpdatedAt    time.Time `db:"updated_at" json:"updated_at"`
	Version      int64     `db:"version" json:"version"`
}

// NewWhitelistRoute is what recording a whitelist route takes.
type NewWhitelistRoute struct {
	Reference   string   `json:"reference,omitempty" maxLength:"200"`
	ConsignorID string   `json:"consignor_unit_id" maxLength:"40"`
	ReceiverID  string   `json:"receiver_unit_id" maxLength:"40"`
	WasteCodes  []string `json:"waste_codes" minItems:"1" maxItems:"200"`
	ValidFrom   string   `json:"valid_from" maxLength:"10"`
	ValidTo     string   `json:"valid_to" maxLength:"10"`
	Note        string   `json:"note,omitempty" maxLength:"500"`
}

// WhitelistRoutePatch changes a route; the parties stay.
type WhitelistRoutePatch struct {
	Version    int64    `json:"version" minimum:"1"`
	Reference  *string  `json:"reference,omitempty" maxLength:"200"`
	WasteCodes []string `json:"waste_codes,omitempty" maxItems:"200"`
	ValidFrom  *string  `json:"valid_from,omitempty" maxLength:"10"`
	ValidTo    *string  `json:"valid_to,omitempty" maxLength:"10"`
	Status     *string  `json:"status,omitempty" enum:"valid,suspended,revoked,expired"`
	Note       *string  `json:"note,omitempty" maxLength:"500"`
}

// Service runs the approval and whitelist use cases.
type Service struct{ db *store.DB }

// NewService returns a Service on db.
func NewService(db *store.DB) *Service { return &Service{db: db} }
