package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"wufei/internal/auth"
	"wufei/internal/catalog"
)

// catalogPage is a page of waste codes.
type catalogPage struct {
	Items []catalog.WasteCode `json:"items"`
	Next  string              `json:"next,omitempty"`
}

func (h *handlers) registerCatalog(a huma.API) {
	tags := []string{"名录"}
	q := h.DB.Reader()
	huma.Register(a, huma.Operation{OperationID: "list-categories", Method: http.MethodGet, Path: "/api/v1/catalog/categories",
		Summary: "危险废物类别（46 类）", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*out[items[catalog.Category]], error) {
			return do(ctx, func(auth.Principal) (items[catalog.Category], error) {
				c, err := catalog.ListCategories(ctx, q)
				return items[catalog.Category]{c}, err
			})
		})
	huma.Register(a, huma.Operation{OperationID: "list-waste-codes", Method: http.MethodGet, Path: "/api/v1/catalog/waste-codes",
		Summary: "危险废物代码", Description: "按类别或关键词（代码、描述）查询，按代码分页。", Tags: tags},
		func(ctx context.Context, in *struct {
			Category string `query:"category" pattern:"^HW[0-9]{2}$"`
			Q        string `query:"q" maxLength:"100"`
			PageQuery
		}) (*out[catalogPage], error) {
			return do(ctx, func(auth.Principal) (catalogPage, error) {
				codes, next, err := catalog.ListWasteCodes(ctx, q, catalog.Filter{Category: in.Category, Query: in.Q,
					Limit: in.Limit, After: in.Cursor})
				return catalogPage{codes, next}, err
			})
		})
	huma.Register(a, huma.Operation{OperationID: "get-waste-code", Method: http.MethodGet, Path: "/api/v1/catalog/waste-codes/{code}",
		Summary: "一个废物代码", Tags: tags},
		func(ctx context.Context, in *struct {
			Code string `path:"code" pattern:"^[0-9]{3}-[0-9]{3}-[0-9]{2}$"`
		}) (*out[catalog.WasteCode], error) {
			return do(ctx, func(auth.Principal) (catalog.WasteCode, error) { return catalog.GetWasteCode(ctx, q, in.Code) })
		})
	huma.Register(a, huma.Operation{OperationID: "list-methods", Method: http.MethodGet, Path: "/api/v1/catalog/methods",
		Summary: "利用/处置方式代码", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*out[items[catalog.Method]], error) {
			return do(ctx, func(auth.Principal) (items[catalog.Method], error) {
				m, err := catalog.ListMethods(ctx, q)
				return items[catalog.Method]{m}, err
			})
		})
	huma.Register(a, huma.Operation{OperationID: "list-exemptions", Method: http.MethodGet, Path: "/api/v1/catalog/exemptions",
		Summary: "危险废物豁免管理清单", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*out[items[catalog.Exemption]], error) {
			return do(ctx, func(auth.Principal) (items[catalog.Exemption], error) {
				e, err := catalog.ListExemptions(ctx, q)
				return items[catalog.Exemption]{e}, err
			})
		})
	huma.Register(a, huma.Operation{OperationID: "list-gisw-categories", Method: http.MethodGet, Path: "/api/v1/catalog/gisw-categories",
		Summary: "一般工业固体废物类别", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*out[items[catalog.GISWCategory]], error) {
			return do(ctx, func(auth.Principal) (items[catalog.GISWCategory], error) {
				g, err := catalog.ListGISWCategories(ctx, q)
				return items[catalog.GISWCategory]{g}, err
			})
		})
}
