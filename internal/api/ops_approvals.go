package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"wufei/internal/auth"
	"wufei/internal/hw/approval"
	"wufei/internal/registry"
)

// approvalsQuery filters approval and whitelist lists.
type approvalsQuery struct {
	ConsignorID string `query:"consignor_unit_id" maxLength:"40" doc:"移出人"`
	ReceiverID  string `query:"receiver_unit_id" maxLength:"40" doc:"接受人"`
	WasteCode   string `query:"waste_code" maxLength:"10" doc:"含该废物代码"`
	Status      string `query:"status" enum:"valid,suspended,revoked,expired"`
	ValidOn     string `query:"valid_on" maxLength:"10" doc:"在该日（YYYY-MM-DD）有效"`
	PageQuery
}

func (q approvalsQuery) filter() approval.Filter {
	return approval.Filter{ConsignorID: q.ConsignorID, ReceiverID: q.ReceiverID, WasteCode: q.WasteCode, Status: q.Status,
		ValidOn: q.ValidOn, Limit: q.Limit, After: q.Cursor}
}

func (h *handlers) registerApprovals(a huma.API) {
	svc := h.Approvals
	tags := []string{"跨省转移"}
	huma.Register(a, huma.Operation{OperationID: "list-approvals", Method: http.MethodGet, Path: "/api/v1/approvals",
		Summary: "跨省转移审批列表", Description: "监管部门看辖区内移出人或接受人的审批，单位只看自己作为一方的审批。", Tags: tags},
		func(ctx context.Context, in *approvalsQuery) (*out[registry.Page[approval.TransferApproval]], error) {
			return do(ctx, func(p auth.Principal) (registry.Page[approval.TransferApproval], error) {
				return svc.List(ctx, p, in.filter())
			})
		})
	huma.Register(a, huma.Operation{OperationID: "create-approval", Method: http.MethodPost, Path: "/api/v1/approvals",
		Summary: "登记跨省转移审批", Description: "有效期不超过 12 个月（可配置）且不超过接受人经营许可证有效期；" +
			"转入安徽的审批不得用于焚烧、填埋、物理化学处理，总量不超过接受人许可能力的 30%（标记后 60%）。",
		Tags: tags, DefaultStatus: 201},
		func(ctx context.Context, in *struct{ Body approval.NewTransferApproval }) (*out[approval.TransferApproval], error) {
			return do(ctx, func(p auth.Principal) (approval.TransferApproval, error) { return svc.Create(ctx, p, in.Body) })
		})
	huma.Register(a, huma.Operation{OperationID: "get-approval", Method: http.MethodGet, Path: "/api/v1/approvals/{id}",
		Summary: "跨省转移审批详情", Description: "含各废物代码的批准数量、已用数量与剩余数量。", Tags: tags},
		func(ctx context.Context, in *IDPath) (*out[approval.TransferApproval], error) {
			return do(ctx, func(p auth.Principal) (approval.TransferApproval, error) { return svc.Get(ctx, p, in.ID) })
		})
	huma.Register(a, huma.Operation{OperationID: "update-approval", Method: http.MethodPatch, Path: "/api/v1/approvals/{id}",
		Summary: "变更跨省转移审批", Description: "须带上读取时的 version。可更正、暂停、恢复、撤销；移出人与接受人不能变更。",
		Tags: tags},
		func(ctx context.Context, in *struct {
			IDPath
			Body approval.TransferApprovalPatch
		}) (*out[approval.TransferApproval], error) {
			return do(ctx, func(p auth.Principal) (approval.TransferApproval, error) { return svc.Update(ctx, p, in.ID, in.Body) })
		})

	huma.Register(a, huma.Operation{OperationID: "list-whitelist", Method: http.MethodGet, Path: "/api/v1/whitelist",
		Summary: "白名单路线列表", Tags: tags},
		func(ctx context.Context, in *approvalsQuery) (*out[registry.Page[approval.WhitelistRoute]], error) {
			return do(ctx, func(p auth.Principal) (registry.Page[approval.WhitelistRoute], error) {
				return svc.ListRoutes(ctx, p, in.filter())
			})
		})
	huma.Register(a, huma.Operation{OperationID: "create-whitelist-route", Method: http.MethodPost, Path: "/api/v1/whitelist",
		Summary: "登记白名单路线", Description: "长三角跨省转移利用白名单：移出人、接受人、废物代码与有效期。",
		Tags: tags, DefaultStatus: 201},
		func(ctx context.Context, in *struct{ Body approval.NewWhitelistRoute }) (*out[approval.WhitelistRoute], error) {
			return do(ctx, func(p auth.Principal) (approval.WhitelistRoute, error) { return svc.CreateRoute(ctx, p, in.Body) })
		})
	huma.Register(a, huma.Operation{OperationID: "get-whitelist-route", Method: http.MethodGet, Path: "/api/v1/whitelist/{id}",
		Summary: "白名单路线详情", Tags: tags},
		func(ctx context.Context, in *IDPath) (*out[approval.WhitelistRoute], error) {
			return do(ctx, func(p auth.Principal) (approval.WhitelistRoute, error) { return svc.GetRoute(ctx, p, in.ID) })
		})
	huma.Register(a, huma.Operation{OperationID: "update-whitelist-route", Method: http.MethodPatch, Path: "/api/v1/whitelist/{id}",
		Summary: "变更白名单路线", Description: "须带上读取时的 version。", Tags: tags},
		func(ctx context.Context, in *struct {
			IDPath
			Body approval.WhitelistRoutePatch
		}) (*out[approval.WhitelistRoute], error) {
			return do(ctx, func(p auth.Principal) (approval.WhitelistRoute, error) {
				return svc.UpdateRoute(ctx, p, in.ID, in.Body)
			})
		})
}
