package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"wufei/internal/audit"
	"wufei/internal/auth"
)

type keyOutput struct {
	Body struct {
		Verifier string `json:"verifier" doc:"golang.org/x/mod/sumdb/note 验证密钥"`
	}
}

func (h *handlers) registerAudit(a huma.API) {
	tags := []string{"审计"}
	public := []map[string][]string{}
	huma.Register(a, huma.Operation{OperationID: "audit-checkpoint", Method: http.MethodGet, Path: "/api/v1/audit/checkpoint",
		Summary: "签名检查点", Description: "审计日志 Merkle 树的大小与根哈希，由平台密钥签名。无需登录。", Tags: tags, Security: public},
		func(ctx context.Context, _ *struct{}) (*out[audit.Checkpoint], error) {
			c, err := h.Audit.Checkpoint(ctx)
			if err != nil {
				return nil, problemOf(err)
			}
			return &out[audit.Checkpoint]{Body: c}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "audit-key", Method: http.MethodGet, Path: "/api/v1/audit/key",
		Summary: "检查点验证密钥", Tags: tags, Security: public},
		func(ctx context.Context, _ *struct{}) (*keyOutput, error) {
			o := &keyOutput{}
			o.Body.Verifier = h.Audit.VerifierKey()
			return o, nil
		})
	huma.Register(a, huma.Operation{OperationID: "audit-entry", Method: http.MethodGet, Path: "/api/v1/audit/entries/{seq}",
		Summary: "审计记录及其包含证明", Description: "可离线验证：见 docs/audit.md。", Tags: tags},
		func(ctx context.Context, in *struct {
			Seq int64 `path:"seq" minimum:"1"`
		}) (*out[audit.Proof], error) {
			return do(ctx, func(p auth.Principal) (audit.Proof, error) {
				if err := h.Registry.CanSeeEntry(ctx, p, in.Seq); err != nil {
					return audit.Proof{}, err
				}
				return h.Audit.Entry(ctx, in.Seq)
			})
		})
	huma.Register(a, huma.Operation{OperationID: "events", Method: http.MethodGet, Path: "/api/v1/events",
		Summary: "变更流", Description: "按序号返回调用者有权关注的变更；下次以最后一条的 seq 作为 after 继续拉取。", Tags: tags},
		func(ctx context.Context, in *struct {
			After int64 `query:"after" minimum:"0" doc:"只返回序号大于此值的记录"`
			Limit int   `query:"limit" minimum:"1" maximum:"1000"`
		}) (*out[items[audit.Entry]], error) {
			return do(ctx, func(p auth.Principal) (items[audit.Entry], error) {
				es, err := h.Registry.Events(ctx, p, in.After, in.Limit)
				return items[audit.Entry]{es}, err
			})
		})
	for _, e := range []struct{ path, entity string }{{"units", "unit"}, {"licences", "licence"}} {
		huma.Register(a, huma.Operation{OperationID: e.entity + "-history", Method: http.MethodGet,
			Path: "/api/v1/" + e.path + "/{id}/history", Summary: "变更历史：谁在何时把什么改成了什么", Tags: tags},
			func(ctx context.Context, in *IDPath) (*out[items[audit.Entry]], error) {
				return do(ctx, func(p auth.Principal) (items[audit.Entry], error) {
					es, err := h.Registry.History(ctx, p, e.entity, in.ID)
					return items[audit.Entry]{es}, err
				})
			})
	}
}
