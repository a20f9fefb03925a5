package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"wufei/internal/auth"
	"wufei/internal/hw/matching"
	"wufei/internal/hw/trace"
)

func (h *handlers) registerTrace(a huma.API) {
	tags := []string{"追溯与匹配"}
	huma.Register(a, huma.Operation{OperationID: "trace", Method: http.MethodGet, Path: "/api/v1/trace/{ref}",
		Summary: "全链条追溯", Description: "ref 可以是 14 位联单编号、37 位数字识别码或台账批次编码。每一步带审计序号；" +
			"proofs=true 时附包含证明，可离线验证（见 docs/audit.md）。", Tags: tags},
		func(ctx context.Context, in *struct {
			Ref    string `path:"ref" maxLength:"40"`
			Proofs bool   `query:"proofs" doc:"附上每一步审计记录的包含证明"`
		}) (*out[trace.Trace], error) {
			return do(ctx, func(p auth.Principal) (trace.Trace, error) { return h.Trace.Trace(ctx, p, in.Ref, in.Proofs) })
		})
	huma.Register(a, huma.Operation{OperationID: "mass-balance", Method: http.MethodGet, Path: "/api/v1/units/{id}/balance",
		Summary: "物料平衡", Description: "按废物代码核对台账与联单：产生、库存、自行利用处置、转移、实收、利用处置完成，列出每一处差额。", Tags: tags},
		func(ctx context.Context, in *struct {
			IDPath
			From time.Time `query:"from" doc:"起始时间（含），RFC 3339"`
			To   time.Time `query:"to" doc:"截止时间（不含），RFC 3339"`
		}) (*out[items[trace.Balance]], error) {
			return do(ctx, func(p auth.Principal) (items[trace.Balance], error) {
				b, err := h.Trace.Balances(ctx, p, in.ID, in.From, in.To)
				return items[trace.Balance]{b}, err
			})
		})
	huma.Register(a, huma.Operation{OperationID: "matching", Method: http.MethodGet, Path: "/api/v1/matching",
		Summary: "供需匹配：可接收该废物的持证单位", Description: "许可证覆盖该代码、本年度仍有能力的接受单位；省内优先、能力足够优先、距离近优先。", Tags: tags},
		func(ctx context.Context, in *struct {
			WasteCode string  `query:"waste_code" required:"true" pattern:"^[0-9]{3}-[0-9]{3}-[0-9]{2}$"`
			QuantityT float64 `query:"quantity_t" minimum:"0" maximum:"100000"`
			UnitID    string  `query:"unit_id" maxLength:"40" doc:"移出单位；单位用户缺省为本单位"`
		}) (*out[items[matching.Candidate]], error) {
			return do(ctx, func(p auth.Principal) (items[matching.Candidate], error) {
				c, err := h.Matching.Match(ctx, p, matching.Query{WasteCode: in.WasteCode, QuantityT: in.QuantityT, UnitID: in.UnitID})
				return items[matching.Candidate]{c}, err
			})
		})
}
