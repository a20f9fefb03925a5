package api

import (
	"bytes"
	"context"
	"net/http"
	"time"
	"wufei/internal/calendar"

	"github.com/danielgtaylor/huma/v2"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/hw/label"
	"wufei/internal/hw/ledger"
)

type containersInput struct {
	Status    string `query:"status" enum:"generated,stored,withdrawn,shipped,received,treated,cancelled"`
	WasteCode string `query:"waste_code" maxLength:"10"`
	UnitID    string `query:"unit_id" maxLength:"40" doc:"监管部门按单位筛选"`
	Batch     string `query:"batch" maxLength:"40" doc:"产生、入库或出库批次编码"`
	PageQuery
}

type DigitalIDPath struct {
	DigitalID string `path:"digital_id" maxLength:"40" doc:"数字识别码"`
}

// labelInput is a label request; the QR code points at the host the
// request reached.
type labelInput struct {
	DigitalIDPath
	base string
}

func (in *labelInput) Resolve(ctx huma.Context) []error {
	in.base = label.Base(ctx.Host(), ctx.TLS() != nil, ctx.Header("X-Forwarded-Proto"))
	return nil
}

type labelImage struct {
	ContentType  string `header:"Content-Type"`
	CacheControl string `header:"Cache-Control"`
	Body         []byte
}

type recordsInput struct {
	Kind         string `query:"kind" enum:"generation,storage_in,storage_out,in_house,outsourced,adjustment,cancellation"`
	WasteCode    string `query:"waste_code" maxLength:"10"`
	UnitID       string `query:"unit_id" maxLength:"40"`
	Batch        string `query:"batch" maxLength:"40" doc:"本环节或上一环节的批次编码"`
	FacilityCode string `query:"facility_code" maxLength:"40"`
	From         string `query:"from" maxLength:"10" doc:"起始日期 YYYY-MM-DD（含）"`
	To           string `query:"to" maxLength:"10" doc:"截止日期 YYYY-MM-DD（含）"`
	PageQuery
}

// ledgerPost is one ledger record of the kind named; each kind reads the
// fields it needs.
type ledgerPost struct {
	Kind                string     `json:"kind" enum:"generation,storage_in,storage_out,in_house,adjustment,cancellation" doc:"产生、入库、出库、自行利用处置、调整、撤销；委外记录由联单生成"`
	WasteCode           string     `json:"waste_code,omitempty" maxLength:"10" doc:"产生：废物代码"`
	Name                string     `json:"name,omitempty" maxLength:"100" doc:"产生：单位内部名称"`
	Form                string     `json:"form,omitempty" enum:"S,SS,L,G" doc:"产生：物理性状"`
	Characteristics     []string   `json:"characteristics,omitempty" maxItems:"5"`
	Components          string     `json:"components,omitempty" maxLength:"200"`
	HazardousComponents string     `json:"hazardous_components,omitempty" maxLength:"200"`
	Precautions         string     `json:"precautions,omitempty" maxLength:"200"`
	Packaging           string     `json:"packaging,omitempty" maxLength:"40"`
	VolumeL             float64    `json:"volume_l,omitempty" minimum:"0" maximum:"100000"`
	Count               int        `json:"count,omitempty" minimum:"0" maximum:"999" doc:"产生：容器数；0 为整批"`
	QuantitiesT         []float64  `json:"quantities_t,omitempty" maxItems:"999"`
	QuantityT           *float64   `json:"quantity_t,omitempty" doc:"数量（吨）；调整：更正后的数量"`
	PrevBatch           string     `json:"prev_batch,omitempty" maxLength:"40" doc:"上一环节批次编码"`
	ContainerIDs        []string   `json:"container_ids,omitempty" maxItems:"999"`
	FacilityCode        string     `json:"facility_code,omitempty" maxLength:"40"`
	Method              string     `json:"method,omitempty" maxLength:"4"`
	Handler             string     `json:"handler,omitempty" maxLength:"100" doc:"经办人"`
	Destination         string     `json:"destination,omitempty" maxLength:"200" doc:"去向"`
	Note                string     `json:"note,omitempty" maxLength:"500" doc:"备注；产生记录的备注印在标签上"`
	OccurredAt          *time.Time `json:"occurred_at,omitempty"`
	RecordID            string     `json:"record_id,omitempty" maxLength:"40" doc:"调整、撤销：原记录 id"`
	Reason              string     `json:"reason,omitempty" maxLength:"500" doc:"调整、撤销：原因"`
}

func (h *handlers) registerLedger(a huma.API) {
	lg := h.Ledger
	tags := []string{"台账与容器"}
	huma.Register(a, huma.Operation{OperationID: "list-containers", Method: http.MethodGet, Path: "/api/v1/containers",
		Summary: "容器列表", Description: "本单位的容器；监管部门看辖区内的。新的在前。", Tags: tags},
		func(ctx context.Context, in *containersInput) (*out[ledger.Page[ledger.Container]], error) {
			return do(ctx, func(p auth.Principal) (ledger.Page[ledger.Container], error) {
				return lg.ListContainers(ctx, p, ledger.ContainerFilter{Status: in.Status, WasteCode: in.WasteCode,
					UnitID: in.UnitID, Batch: in.Batch, Limit: in.Limit, After: in.Cursor})
			})
		})
	huma.Register(a, huma.Operation{OperationID: "generate-containers", Method: http.MethodPost, Path: "/api/v1/containers",
		Summary: "产生危险废物并生成容器", Description: "写入产生环节台账，并为每个容器生成 HJ 1276 数字识别码。只能由本单位账号操作。",
		Tags: tags, DefaultStatus: 201},
		func(ctx context.Context, in *struct{ Body ledger.NewGeneration }) (*out[ledger.Generated], error) {
			return do(ctx, func(p auth.Principal) (ledger.Generated, error) {
				if in.Body.Count == 0 && len(in.Body.QuantitiesT) == 0 {
					in.Body.Count = 1 // this endpoint always makes containers
				}
				return lg.RecordGeneration(ctx, p, in.Body)
			})
		})
	huma.Register(a, huma.Operation{OperationID: "get-container", Method: http.MethodGet, Path: "/api/v1/containers/{digital_id}",
		Summary: "容器详情", Tags: tags},
		func(ctx context.Context, in *DigitalIDPath) (*out[ledger.LabelFacts], error) {
			return do(ctx, func(p auth.Principal) (ledger.LabelFacts, error) { return lg.Facts(ctx, p, in.DigitalID) })
		})
	for _, f := range []struct {
		ext, mime, summary string
		draw               func(*bytes.Buffer, label.Label) error
	}{
		{"svg", "image/svg+xml", "危险废物标签（SVG，中文文字）", func(b *bytes.Buffer, l label.Label) error { return label.SVG(b, l) }},
		{"png", "image/png", "危险废物标签（PNG，300 dpi）", func(b *bytes.Buffer, l label.Label) error { return label.PNG(b, l) }},
	} {
		huma.Register(a, huma.Operation{OperationID: "container-label-" + f.ext, Method: http.MethodGet,
			Path: "/api/v1/containers/{digital_id}/label." + f.ext, Summary: f.summary,
			Description: "按 HJ 1276 的尺寸：容积 ≤50 L 为 100×100 mm，50–450 L 为 150×150 mm，≥450 L 为 200×200 mm（>450 L 贴两张）。二维码指向 /l/{digital_id}。",
			Tags:        tags,
			Responses: map[string]*huma.Response{"200": {Description: "标签图片",
				Content: map[string]*huma.MediaType{f.mime: {Schema: &huma.Schema{Type: "string", Format: "binary"}}}}}},
			func(ctx context.Context, in *labelInput) (*labelImage, error) {
				p, err := principal(ctx)
				if err != nil {
					return nil, err
				}
				facts, err := lg.Facts(ctx, p, in.DigitalID)
				if err != nil {
					return nil, problemOf(err)
				}
				var b bytes.Buffer
				if err := f.draw(&b, facts.Label(in.base)); err != nil {
					return nil, problemOf(err)
				}
				return &labelImage{ContentType: f.mime, CacheControl: "private, no-cache", Body: b.Bytes()}, nil
			})
	}

	huma.Register(a, huma.Operation{OperationID: "list-ledger", Method: http.MethodGet, Path: "/api/v1/ledger",
		Summary: "管理台账", Description: "HJ 1259 台账记录，新的在前；可按类型、废物代码、批次与日期筛选。", Tags: tags},
		func(ctx context.Context, in *recordsInput) (*out[ledger.Page[ledger.Record]], error) {
			return do(ctx, func(p auth.Principal) (ledger.Page[ledger.Record], error) {
				from, err := ledgerDate("from", in.From, false)
				if err != nil {
					return ledger.Page[ledger.Record]{}, err
				}
				to, err := ledgerDate("to", in.To, true)
				if err != nil {
					return ledger.Page[ledger.Record]{}, err
				}
				return lg.ListRecords(ctx, p, ledger.RecordFilter{Kind: in.Kind, WasteCode: in.WasteCode, UnitID: in.UnitID,
					Batch: in.Batch, FacilityCode: in.FacilityCode, From: from, To: to, Limit: in.Limit, After: in.Cursor})
			})
		})
	huma.Register(a, huma.Operation{OperationID: "record-ledger", Method: http.MethodPost, Path: "/api/v1/ledger",
		Summary: "填写台账", Description: "kind 为 generation（产生）、storage_in（入库）、storage_out（出库）、in_house（自行利用/处置）、" +
			"adjustment（调整，须 record_id、quantity_t、reason）或 cancellation（撤销，须 record_id、reason）。" +
			"记录从不修改，更正以新记录表示。委外记录由转移联单自动生成。",
		Tags: tags, DefaultStatus: 201},
		func(ctx context.Context, in *struct{ Body ledgerPost }) (*out[ledger.Record], error) {
			return do(ctx, func(p auth.Principal) (ledger.Record, error) { return h.postLedger(ctx, p, in.Body) })
		})
	huma.Register(a, huma.Operation{OperationID: "ledger-stock", Method: http.MethodGet, Path: "/api/v1/ledger/stock",
		Summary: "贮存设施库存", Description: "各贮存设施当前的贮存量与最早一批的入库时间。", Tags: tags},
		func(ctx context.Context, in *struct {
			UnitID string `query:"unit_id" maxLength:"40"`
		}) (*out[items[ledger.FacilityStock]], error) {
			return do(ctx, func(p auth.Principal) (items[ledger.FacilityStock], error) {
				fs, err := lg.Stock(ctx, p, in.UnitID, time.Now())
				return items[ledger.FacilityStock]{fs}, err
			})
		})
}

// postLedger hands a posted record to the use case of its kind.
func (h *handlers) postLedger(ctx context.Context, p auth.Principal, b ledgerPost) (ledger.Record, error) {
	lg := h.Ledger
	m := ledger.Movement{PrevBatch: b.PrevBatch, ContainerIDs: b.ContainerIDs, QuantityT: b.QuantityT,
		FacilityCode: b.FacilityCode, Method: b.Method, Handler: b.Handler, Destination: b.Destination, Note: b.Note,
		OccurredAt: b.OccurredAt}
	switch ledger.Kind(b.Kind) {
	case ledger.KindGeneration:
		g := ledger.NewGeneration{WasteCode: b.WasteCode, Name: b.Name, Form: b.Form, Characteristics: b.Characteristics,
			Components: b.Components, HazardousComponents: b.HazardousComponents, Precautions: b.Precautions,
			Packaging: b.Packaging, VolumeL: b.VolumeL, Count: b.Count, QuantitiesT: b.QuantitiesT,
			FacilityCode: b.FacilityCode, Handler: b.Handler, Destination: b.Destination, Remark: b.Note,
			OccurredAt: b.OccurredAt}
		if b.QuantityT != nil {
			g.QuantityT = *b.QuantityT
		}
		r, err := lg.RecordGeneration(ctx, p, g)
		return r.Record, err
	case ledger.KindStorageIn:
		return lg.StoreIn(ctx, p, m)
	case ledger.KindStorageOut:
		return lg.StoreOut(ctx, p, m)
	case ledger.KindInHouse:
		return lg.InHouse(ctx, p, m)
	case ledger.KindAdjustment:
		if b.QuantityT == nil {
			return ledger.Record{}, errs.Field("quantity_t", "required", "调整须填写更正后的数量")
		}
		return lg.Correct(ctx, p, b.RecordID, ledger.Correction{QuantityT: *b.QuantityT, Reason: b.Reason})
	case ledger.KindCancellation:
		return lg.Cancel(ctx, p, b.RecordID, b.Reason)
	}
	return ledger.Record{}, errs.Field("kind", "kind_unknown", "未知台账类型")
}

// ledgerDate reads a YYYY-MM-DD query date as the start of that day in
// Shanghai, or of the next day for an inclusive end.
func ledgerDate(field, s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(time.DateOnly, s, calendar.Zone)
	if err != nil {
		return t, errs.Field(field, "date_format", "日期格式应为 YYYY-MM-DD")
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}
