package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"wufei/internal/auth"
	"wufei/internal/hw/manifest"
)

type manifestPage struct {
	Items []manifest.Manifest `json:"items"`
	Next  string              `json:"next,omitempty"`
}

// VersionBody (exported, so that huma sees its field when it is embedded)
// optionally carries the version the client read; without it
// the step is not version-checked (the status check still applies).
type VersionBody struct {
	Version int64 `json:"version,omitempty" minimum:"1"`
}

func versionOf(b *VersionBody) int64 {
	if b == nil {
		return 0
	}
	return b.Version
}

func (h *handlers) registerManifests(a huma.API) {
	svc := h.Manifests
	tags := []string{"转移联单"}
	huma.Register(a, huma.Operation{OperationID: "list-manifests", Method: http.MethodGet, Path: "/api/v1/manifests",
		Summary: "联单列表", Description: "调用者可见的联单，新的在前。草稿只对移出单位可见。", Tags: tags},
		func(ctx context.Context, in *struct {
			Status    string `query:"status" enum:"draft,submitted,in_transit,received,completed,cancelled,refused"`
			Number    string `query:"number" maxLength:"14"`
			WasteCode string `query:"waste_code" maxLength:"10"`
			Role      string `query:"role" enum:"consignor,carrier,receiver" doc:"只列本单位作为该方的联单"`
			Year      int    `query:"year" minimum:"2000" maximum:"2100"`
			PageQuery
		}) (*out[manifestPage], error) {
			return do(ctx, func(p auth.Principal) (manifestPage, error) {
				ms, next, err := svc.List(ctx, p, manifest.Filter{Status: in.Status, Number: in.Number, WasteCode: in.WasteCode,
					Role: in.Role, Year: in.Year, Limit: in.Limit, After: in.Cursor})
				return manifestPage{ms, next}, err
			})
		})
	huma.Register(a, huma.Operation{OperationID: "create-manifest", Method: http.MethodPost, Path: "/api/v1/manifests",
		Summary: "填写联单（草稿）", Description: "由移出单位填写；创建即分配联单编号，编号永不复用。", Tags: tags, DefaultStatus: 201},
		func(ctx context.Context, in *struct{ Body manifest.Input }) (*out[manifest.Manifest], error) {
			return do(ctx, func(p auth.Principal) (manifest.Manifest, error) { return svc.Create(ctx, p, in.Body) })
		})
	huma.Register(a, huma.Operation{OperationID: "get-manifest", Method: http.MethodGet, Path: "/api/v1/manifests/{id}",
		Summary: "联单详情", Description: "id 可以是联单 id 或 14 位联单编号。", Tags: tags},
		func(ctx context.Context, in *IDPath) (*out[manifest.Manifest], error) {
			return do(ctx, func(p auth.Principal) (manifest.Manifest, error) {
				if len(in.ID) == 14 {
					return svc.GetByNumber(ctx, p, in.ID)
				}
				return svc.Get(ctx, p, in.ID)
			})
		})
	huma.Register(a, huma.Operation{OperationID: "update-manifest", Method: http.MethodPatch, Path: "/api/v1/manifests/{id}",
		Summary: "修改草稿", Description: "只有草稿可改；须带 version。", Tags: tags},
		func(ctx context.Context, in *struct {
			IDPath
			Body struct {
				Version int64 `json:"version" minimum:"1"`
				manifest.Input
			}
		}) (*out[manifest.Manifest], error) {
			return do(ctx, func(p auth.Principal) (manifest.Manifest, error) {
				return svc.Update(ctx, p, in.ID, in.Body.Version, in.Body.Input)
			})
		})

	type simpleStep func(context.Context, auth.Principal, string, int64) (manifest.Manifest, error)
	for _, st := range []struct {
		action, summary, description string
		run                          simpleStep
	}{
		{"submit", "提交联单", "移出单位提交；检查接受单位许可证范围与剩余能力、承运车辆、管理计划和跨省审批。", svc.Submit},
		{"pickup", "起运", "第一程承运单位确认接运；废物出库。", svc.Pickup},
		{"handover", "联运交接", "下一程承运单位确认接运。", svc.Handover},
		{"deliver", "运抵", "最后一程承运单位报告运抵；接收确认期限自此起算。", svc.Deliver},
	} {
		huma.Register(a, huma.Operation{OperationID: st.action + "-manifest", Method: http.MethodPost,
			Path: "/api/v1/manifests/{id}/" + st.action, Summary: st.summary, Description: st.description, Tags: tags,
			Errors: []int{403, 404, 409, 422}},
			func(ctx context.Context, in *struct {
				IDPath
				Body *VersionBody
			}) (*out[manifest.Manifest], error) {
				return do(ctx, func(p auth.Principal) (manifest.Manifest, error) { return st.run(ctx, p, in.ID, versionOf(in.Body)) })
			})
	}
	huma.Register(a, huma.Operation{OperationID: "cancel-manifest", Method: http.MethodPost, Path: "/api/v1/manifests/{id}/cancel",
		Summary: "作废联单", Description: "起运前由移出单位作废；编号不再使用。", Tags: tags},
		func(ctx context.Context, in *struct {
			IDPath
			Body struct {
				VersionBody
				Reason string `json:"reason" minLength:"1" maxLength:"500"`
			}
		}) (*out[manifest.Manifest], error) {
			return do(ctx, func(p auth.Principal) (manifest.Manifest, error) {
				return svc.Cancel(ctx, p, in.ID, in.Body.Version, in.Body.Reason)
			})
		})
	huma.Register(a, huma.Operation{OperationID: "receive-manifest", Method: http.MethodPost, Path: "/api/v1/manifests/{id}/receive",
		Summary: "接收（过磅、接受或拒收）", Description: "接受单位逐行填写实收量；可部分或全部拒收（须说明原因）。", Tags: tags},
		func(ctx context.Context, in *struct {
			IDPath
			Body struct {
				VersionBody
				Lines []manifest.ReceiptLine `json:"lines" minItems:"1" maxItems:"50"`
			}
		}) (*out[manifest.Manifest], error) {
			return do(ctx, func(p auth.Principal) (manifest.Manifest, error) {
				return svc.Receive(ctx, p, in.ID, in.Body.Version, in.Body.Lines)
			})
		})
	huma.Register(a, huma.Operation{OperationID: "complete-manifest", Method: http.MethodPost, Path: "/api/v1/manifests/{id}/complete",
		Summary: "利用处置完成", Description: "接受单位逐行填写许可范围内的利用/处置方式。", Tags: tags},
		func(ctx context.Context, in *struct {
			IDPath
			Body struct {
				VersionBody
				Lines []manifest.CompletionLine `json:"lines" minItems:"1" maxItems:"50"`
			}
		}) (*out[manifest.Manifest], error) {
			return do(ctx, func(p auth.Principal) (manifest.Manifest, error) {
				return svc.Complete(ctx, p, in.ID, in.Body.Version, in.Body.Lines)
			})
		})
	huma.Register(a, huma.Operation{OperationID: "list-manifest-revisions", Method: http.MethodGet,
		Path: "/api/v1/manifests/{id}/revisions", Summary: "更正申请列表", Tags: tags},
		func(ctx context.Context, in *IDPath) (*out[items[manifest.Revision]], error) {
			return do(ctx, func(p auth.Principal) (items[manifest.Revision], error) {
				rs, err := svc.Revisions(ctx, p, in.ID)
				return items[manifest.Revision]{rs}, err
			})
		})
	huma.Register(a, huma.Operation{OperationID: "request-manifest-revision", Method: http.MethodPost,
		Path: "/api/v1/manifests/{id}/revisions", Summary: "申请更正", Tags: tags, DefaultStatus: 201,
		Description: "已签名的联单不能直接修改：由一方提出更正，其余各方（移出人、接受人）全部同意后生效；任何一方拒绝即终止。"},
		func(ctx context.Context, in *struct {
			IDPath
			Body struct {
				Reason  string           `json:"reason" minLength:"1" maxLength:"500"`
				Changes manifest.Changes `json:"changes"`
			}
		}) (*out[manifest.Revision], error) {
			return do(ctx, func(p auth.Principal) (manifest.Revision, error) {
				return svc.RequestRevision(ctx, p, in.ID, in.Body.Reason, in.Body.Changes)
			})
		})
	for _, d := range []struct {
		action  string
		approve bool
		summary string
	}{{"approve", true, "同意更正"}, {"refuse", false, "拒绝更正"}} {
		huma.Register(a, huma.Operation{OperationID: d.action + "-manifest-revision", Method: http.MethodPost,
			Path: "/api/v1/manifests/{id}/revisions/{revision_id}/" + d.action, Summary: d.summary, Tags: tags},
			func(ctx context.Context, in *struct {
				IDPath
				RevisionID string `path:"revision_id" maxLength:"40"`
				Body       *struct {
					Comment string `json:"comment,omitempty" maxLength:"500"`
				}
			}) (*out[manifest.Revision], error) {
				comment := ""
				if in.Body != nil {
					comment = in.Body.Comment
				}
				return do(ctx, func(p auth.Principal) (manifest.Revision, error) {
					return svc.DecideRevision(ctx, p, in.ID, in.RevisionID, d.approve, comment)
				})
			})
	}
}
