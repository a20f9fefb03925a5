package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"wufei/internal/auth"
	"wufei/internal/hw/plan"
)

// filingVersion optionally carries the version the client read.
type filingVersion struct {
	Version int64 `json:"version,omitempty" minimum:"1" doc:"读取时的 version；不填不校验"`
}

type returnBody struct {
	Reason  string `json:"reason" minLength:"1" maxLength:"1000" doc:"退回原因"`
	Version int64  `json:"version,omitempty" minimum:"1" doc:"读取时的 version；不填不校验"`
}

type compileBody struct {
	Period string `json:"period" maxLength:"7" doc:"申报期：2026-10（月）、2026-Q3（季）或 2026（年）"`
	UnitID string `json:"unit_id,omitempty" maxLength:"40" doc:"单位；单位账号不填即本单位"`
}

func (b *filingVersion) version() int64 {
	if b == nil {
		return 0
	}
	return b.Version
}

func (h *handlers) registerPlans(a huma.API) {
	svc := h.Plans
	tags := []string{"管理计划与申报"}

	huma.Register(a, huma.Operation{OperationID: "list-plans", Method: http.MethodGet, Path: "/api/v1/plans",
		Summary: "管理计划列表", Description: "只返回调用者有权查看的单位的计划。", Tags: tags},
		func(ctx context.Context, in *struct {
			UnitID string `query:"unit_id" maxLength:"40"`
			Year   int    `query:"year" minimum:"2000" maximum:"2100"`
			Status string `query:"status" enum:"draft,filed,returned"`
			Region string `query:"region" maxLength:"12" doc:"县区或园区代码"`
			PageQuery
		}) (*out[plan.Page[plan.Summary]], error) {
			return do(ctx, func(p auth.Principal) (plan.Page[plan.Summary], error) {
				return svc.List(ctx, p, plan.Filter{UnitID: in.UnitID, Year: in.Year, Status: in.Status, Region: in.Region,
					Limit: in.Limit, After: in.Cursor})
			})
		})
	huma.Register(a, huma.Operation{OperationID: "create-plan", Method: http.MethodPost, Path: "/api/v1/plans",
		Summary: "编制管理计划", Description: "为本单位新建某年度的管理计划草稿（每单位每年一份）。", Tags: tags, DefaultStatus: 201},
		func(ctx context.Context, in *struct{ Body plan.NewPlan }) (*out[plan.Plan], error) {
			return do(ctx, func(p auth.Principal) (plan.Plan, error) { return svc.Create(ctx, p, in.Body) })
		})
	huma.Register(a, huma.Operation{OperationID: "get-plan", Method: http.MethodGet, Path: "/api/v1/plans/{id}",
		Summary: "管理计划详情", Tags: tags},
		func(ctx context.Context, in *IDPath) (*out[plan.Plan], error) {
			return do(ctx, func(p auth.Principal) (plan.Plan, error) { return svc.Get(ctx, p, in.ID) })
		})
	huma.Register(a, huma.Operation{OperationID: "update-plan", Method: http.MethodPatch, Path: "/api/v1/plans/{id}",
		Summary: "修改管理计划", Description: "只能修改草稿或被退回的计划；须带上读取时的 version。给出的部分整体替换，未给出的保留。",
		Tags: tags},
		func(ctx context.Context, in *struct {
			IDPath
			Body plan.Patch
		}) (*out[plan.Plan], error) {
			return do(ctx, func(p auth.Principal) (plan.Plan, error) { return svc.Update(ctx, p, in.ID, in.Body) })
		})
	huma.Register(a, huma.Operation{OperationID: "submit-plan", Method: http.MethodPost, Path: "/api/v1/plans/{id}/submit",
		Summary: "提交备案", Description: "提交即备案：首次提交取得备案编号，退回后再提交沿用原编号；截止日后首次提交记为逾期并预警。",
		Tags: tags},
		func(ctx context.Context, in *struct {
			IDPath
			Body *filingVersion
		}) (*out[plan.Plan], error) {
			return do(ctx, func(p auth.Principal) (plan.Plan, error) { return svc.Submit(ctx, p, in.ID, in.Body.version()) })
		})
	huma.Register(a, huma.Operation{OperationID: "return-plan", Method: http.MethodPost, Path: "/api/v1/plans/{id}/return",
		Summary: "退回管理计划", Description: "监管部门退回已备案的计划并写明原因；单位修改后重新提交。", Tags: tags},
		func(ctx context.Context, in *struct {
			IDPath
			Body returnBody
		}) (*out[plan.Plan], error) {
			return do(ctx, func(p auth.Principal) (plan.Plan, error) {
				return svc.Return(ctx, p, in.ID, in.Body.Reason, in.Body.Version)
			})
		})
	huma.Register(a, huma.Operation{OperationID: "get-unit-class", Method: http.MethodGet, Path: "/api/v1/units/{id}/class",
		Summary: "单位管理类别", Description: "按 HJ 1259 判定重点监管、简化管理或登记管理，并给出依据。", Tags: tags},
		func(ctx context.Context, in *struct {
			IDPath
			Year int `query:"year" minimum:"2000" maximum:"2100" doc:"年度，默认今年"`
		}) (*out[plan.ClassResult], error) {
			return do(ctx, func(p auth.Principal) (plan.ClassResult, error) { return svc.UnitClass(ctx, p, in.ID, in.Year) })
		})

	huma.Register(a, huma.Operation{OperationID: "list-declarations", Method: http.MethodGet, Path: "/api/v1/declarations",
		Summary: "申报期与状态", Description: "单位某年应申报的各期（按管理类别）、截止日与状态：not_due、due、overdue、submitted、late。",
		Tags: tags},
		func(ctx context.Context, in *struct {
			UnitID string `query:"unit_id" maxLength:"40" doc:"单位；单位账号不填即本单位"`
			Year   int    `query:"year" minimum:"2000" maximum:"2100" doc:"年度，默认今年"`
		}) (*out[plan.Schedule], error) {
			return do(ctx, func(p auth.Principal) (plan.Schedule, error) {
				return svc.Schedule(ctx, p, in.UnitID, in.Year, time.Now())
			})
		})
	huma.Register(a, huma.Operation{OperationID: "compile-declaration", Method: http.MethodPost, Path: "/api/v1/declarations",
		Summary: "生成申报草稿", Description: "从管理台账汇总该期各废物代码的数量，生成（或重新生成）草稿。", Tags: tags, DefaultStatus: 201},
		func(ctx context.Context, in *struct{ Body compileBody }) (*out[plan.Declaration], error) {
			return do(ctx, func(p auth.Principal) (plan.Declaration, error) {
				return svc.Compile(ctx, p, in.Body.UnitID, in.Body.Period)
			})
		})
	huma.Register(a, huma.Operation{OperationID: "get-declaration", Method: http.MethodGet, Path: "/api/v1/declarations/{id}",
		Summary: "申报详情", Tags: tags},
		func(ctx context.Context, in *IDPath) (*out[plan.Declaration], error) {
			return do(ctx, func(p auth.Principal) (plan.Declaration, error) { return svc.GetDeclaration(ctx, p, in.ID) })
		})
	huma.Register(a, huma.Operation{OperationID: "submit-declaration", Method: http.MethodPost,
		Path: "/api/v1/declarations/{id}/submit", Summary: "提交申报",
		Description: "提交时按台账重新汇总；与草稿不一致须重新生成后再提交。提交后数据冻结。", Tags: tags},
		func(ctx context.Context, in *struct {
			IDPath
			Body *filingVersion
		}) (*out[plan.Declaration], error) {
			return do(ctx, func(p auth.Principal) (plan.Declaration, error) {
				return svc.SubmitDeclaration(ctx, p, in.ID, in.Body.version())
			})
		})

	huma.Register(a, huma.Operation{OperationID: "get-plan-settings", Method: http.MethodGet, Path: "/api/v1/settings/plans",
		Summary: "管理计划与申报的规则设置", Description: "分类门槛（HJ 1259）与备案、申报截止日（[R]）；未修改的为默认值。",
		Tags: []string{"设置"}},
		func(ctx context.Context, _ *struct{}) (*out[plan.Rules], error) {
			return do(ctx, func(auth.Principal) (plan.Rules, error) { return plan.LoadRules(ctx, h.DB.Reader()) })
		})
	huma.Register(a, huma.Operation{OperationID: "update-plan-settings", Method: http.MethodPut, Path: "/api/v1/settings/plans",
		Summary: "修改管理计划与申报的规则设置", Description: "仅平台管理员；须提交全部规则。", Tags: []string{"设置"}},
		func(ctx context.Context, in *struct{ Body plan.Rules }) (*out[plan.Rules], error) {
			return do(ctx, func(p auth.Principal) (plan.Rules, error) { return plan.SaveRules(ctx, h.DB, p, in.Body) })
		})
}
