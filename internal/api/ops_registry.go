package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"wufei/internal/auth"
	"wufei/internal/registry"
)

type PageQuery struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"500" doc:"每页条数，默认 50"`
	Cursor string `query:"cursor" maxLength:"100" doc:"上一页响应中的 next"`
}

type unitsInput struct {
	USCC   string `query:"uscc" maxLength:"18"`
	Role   string `query:"role" enum:"generator,collector,carrier,utiliser,disposer"`
	Region string `query:"region" maxLength:"12" doc:"县区或园区代码"`
	Q      string `query:"q" maxLength:"100" doc:"名称或信用代码的一部分"`
	PageQuery
}

type IDPath struct {
	ID string `path:"id" maxLength:"40"`
}

type out[T any] struct{ Body T }

// do runs a service call for an authenticated principal and wraps the result.
func do[T any](ctx context.Context, fn func(p auth.Principal) (T, error)) (*out[T], error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	v, err := fn(p)
	if err != nil {
		return nil, problemOf(err)
	}
	return &out[T]{Body: v}, nil
}

type items[T any] struct {
	Items []T `json:"items"`
}

func (h *handlers) registerRegistry(a huma.API) {
	reg := h.Registry
	tags := []string{"登记"}
	huma.Register(a, huma.Operation{OperationID: "list-regions", Method: http.MethodGet, Path: "/api/v1/regions",
		Summary: "行政区划与园区", Tags: tags},
		func(ctx context.Context, in *struct {
			Parent string `query:"parent" maxLength:"12"`
		}) (*out[items[registry.Region]], error) {
			return do(ctx, func(auth.Principal) (items[registry.Region], error) {
				r, err := reg.ListRegions(ctx, in.Parent)
				return items[registry.Region]{r}, err
			})
		})
	huma.Register(a, huma.Operation{OperationID: "list-departments", Method: http.MethodGet, Path: "/api/v1/departments",
		Summary: "部门", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*out[items[registry.Department]], error) {
			return do(ctx, func(auth.Principal) (items[registry.Department], error) {
				d, err := reg.ListDepartments(ctx)
				return items[registry.Department]{d}, err
			})
		})

	huma.Register(a, huma.Operation{OperationID: "list-units", Method: http.MethodGet, Path: "/api/v1/units",
		Summary: "单位列表", Description: "只返回调用者有权查看的单位。", Tags: tags},
		func(ctx context.Context, in *unitsInput) (*out[registry.Page[registry.Unit]], error) {
			return do(ctx, func(p auth.Principal) (registry.Page[registry.Unit], error) {
				return reg.ListUnits(ctx, p, registry.UnitFilter{USCC: in.USCC, Role: registry.UnitRole(in.Role),
					Region: in.Region, Query: in.Q, Limit: in.Limit, After: in.Cursor})
			})
		})
	huma.Register(a, huma.Operation{OperationID: "create-unit", Method: http.MethodPost, Path: "/api/v1/units",
		Summary: "登记单位", Tags: tags, DefaultStatus: 201},
		func(ctx context.Context, in *struct{ Body registry.NewUnit }) (*out[registry.Unit], error) {
			return do(ctx, func(p auth.Principal) (registry.Unit, error) { return reg.CreateUnit(ctx, p, in.Body) })
		})
	huma.Register(a, huma.Operation{OperationID: "get-unit", Method: http.MethodGet, Path: "/api/v1/units/{id}",
		Summary: "单位详情", Tags: tags},
		func(ctx context.Context, in *IDPath) (*out[registry.Unit], error) {
			return do(ctx, func(p auth.Principal) (registry.Unit, error) { return reg.GetUnit(ctx, p, in.ID) })
		})
	huma.Register(a, huma.Operation{OperationID: "update-unit", Method: http.MethodPatch, Path: "/api/v1/units/{id}",
		Summary: "修改单位", Description: "须带上读取时的 version；受监管字段只能由监管部门修改。", Tags: tags},
		func(ctx context.Context, in *struct {
			IDPath
			Body registry.UnitPatch
		}) (*out[registry.Unit], error) {
			return do(ctx, func(p auth.Principal) (registry.Unit, error) { return reg.UpdateUnit(ctx, p, in.ID, in.Body) })
		})

	huma.Register(a, huma.Operation{OperationID: "list-licences", Method: http.MethodGet, Path: "/api/v1/licences",
		Summary: "经营许可证列表", Tags: tags},
		func(ctx context.Context, in *struct {
			UnitID    string `query:"unit_id" maxLength:"40"`
			WasteCode string `query:"waste_code" maxLength:"10" doc:"只列覆盖该废物代码的许可证"`
			Method    string `query:"method" maxLength:"4"`
			PageQuery
		}) (*out[registry.Page[registry.Licence]], error) {
			return do(ctx, func(p auth.Principal) (registry.Page[registry.Licence], error) {
				return reg.ListLicences(ctx, p, registry.LicenceFilter{UnitID: in.UnitID, WasteCode: in.WasteCode,
					Method: in.Method, Limit: in.Limit, After: in.Cursor})
			})
		})
	huma.Register(a, huma.Operation{OperationID: "create-licence", Method: http.MethodPost, Path: "/api/v1/licences",
		Summary: "登记经营许可证", Tags: tags, DefaultStatus: 201},
		func(ctx context.Context, in *struct{ Body registry.NewLicence }) (*out[registry.Licence], error) {
			return do(ctx, func(p auth.Principal) (registry.Licence, error) { return reg.CreateLicence(ctx, p, in.Body) })
		})
	huma.Register(a, huma.Operation{OperationID: "get-licence", Method: http.MethodGet, Path: "/api/v1/licences/{id}",
		Summary: "许可证详情", Tags: tags},
		func(ctx context.Context, in *IDPath) (*out[registry.Licence], error) {
			return do(ctx, func(p auth.Principal) (registry.Licence, error) { return reg.GetLicence(ctx, p, in.ID) })
		})
	huma.Register(a, huma.Operation{OperationID: "update-licence", Method: http.MethodPatch, Path: "/api/v1/licences/{id}",
		Summary: "变更许可证", Tags: tags},
		func(ctx context.Context, in *struct {
			IDPath
			Body registry.LicencePatch
		}) (*out[registry.Licence], error) {
			return do(ctx, func(p auth.Principal) (registry.Licence, error) { return reg.UpdateLicence(ctx, p, in.ID, in.Body) })
		})

	huma.Register(a, huma.Operation{OperationID: "list-vehicles", Method: http.MethodGet, Path: "/api/v1/vehicles",
		Summary: "车辆列表", Tags: tags},
		func(ctx context.Context, in *struct {
			UnitID string `query:"unit_id" maxLength:"40"`
			Plate  string `query:"plate" maxLength:"10"`
			PageQuery
		}) (*out[registry.Page[registry.Vehicle]], error) {
			return do(ctx, func(p auth.Principal) (registry.Page[registry.Vehicle], error) {
				return reg.ListVehicles(ctx, p, registry.VehicleFilter{UnitID: in.UnitID, Plate: in.Plate, Limit: in.Limit, After: in.Cursor})
			})
		})
	huma.Register(a, huma.Operation{OperationID: "create-vehicle", Method: http.MethodPost, Path: "/api/v1/vehicles",
		Summary: "登记车辆", Tags: tags, DefaultStatus: 201},
		func(ctx context.Context, in *struct{ Body registry.NewVehicle }) (*out[registry.Vehicle], error) {
			return do(ctx, func(p auth.Principal) (registry.Vehicle, error) { return reg.CreateVehicle(ctx, p, in.Body) })
		})
	huma.Register(a, huma.Operation{OperationID: "get-vehicle", Method: http.MethodGet, Path: "/api/v1/vehicles/{id}",
		Summary: "车辆详情", Tags: tags},
		func(ctx context.Context, in *IDPath) (*out[registry.Vehicle], error) {
			return do(ctx, func(p auth.Principal) (registry.Vehicle, error) { return reg.GetVehicle(ctx, p, in.ID) })
		})
	huma.Register(a, huma.Operation{OperationID: "update-vehicle", Method: http.MethodPatch, Path: "/api/v1/vehicles/{id}",
		Summary: "修改车辆", Tags: tags},
		func(ctx context.Context, in *struct {
			IDPath
			Body registry.VehiclePatch
		}) (*out[registry.Vehicle], error) {
			return do(ctx, func(p auth.Principal) (registry.Vehicle, error) { return reg.UpdateVehicle(ctx, p, in.ID, in.Body) })
		})

	huma.Register(a, huma.Operation{OperationID: "list-facilities", Method: http.MethodGet, Path: "/api/v1/units/{id}/facilities",
		Summary: "单位的设施", Tags: tags},
		func(ctx context.Context, in *IDPath) (*out[items[registry.Facility]], error) {
			return do(ctx, func(p auth.Principal) (items[registry.Facility], error) {
				f, err := reg.ListFacilities(ctx, p, in.ID)
				return items[registry.Facility]{f}, err
			})
		})
	huma.Register(a, huma.Operation{OperationID: "create-facility", Method: http.MethodPost, Path: "/api/v1/facilities",
		Summary: "登记设施", Tags: tags, DefaultStatus: 201},
		func(ctx context.Context, in *struct{ Body registry.NewFacility }) (*out[registry.Facility], error) {
			return do(ctx, func(p auth.Principal) (registry.Facility, error) { return reg.CreateFacility(ctx, p, in.Body) })
		})
	huma.Register(a, huma.Operation{OperationID: "update-facility", Method: http.MethodPatch, Path: "/api/v1/facilities/{id}",
		Summary: "修改设施", Tags: tags},
		func(ctx context.Context, in *struct {
			IDPath
			Body registry.FacilityPatch
		}) (*out[registry.Facility], error) {
			return do(ctx, func(p auth.Principal) (registry.Facility, error) { return reg.UpdateFacility(ctx, p, in.ID, in.Body) })
		})
}
