package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"wufei/internal/alerts"
	"wufei/internal/auth"
	"wufei/internal/calendar"
	"wufei/internal/registry"
	"wufei/internal/settings"
)

type alertAction struct {
	Version int64  `json:"version" minimum:"1" doc:"读取时的 version"`
	Note    string `json:"note,omitempty" maxLength:"1000" doc:"处理情况；关闭时必填"`
}

type calendarYear struct {
	Year  int            `json:"year"`
	Items []calendar.Day `json:"items" doc:"与周一至周五上班不同的日子（工作日放假、周末调休上班）及管理员调整"`
}

type DayPath struct {
	Day string `path:"day" maxLength:"10" doc:"YYYY-MM-DD"`
}

func (h *handlers) registerAlerts(a huma.API) {
	tags := []string{"预警"}
	huma.Register(a, huma.Operation{OperationID: "list-alerts", Method: http.MethodGet, Path: "/api/v1/alerts",
		Summary: "预警列表", Description: "最新的在前；只返回调用者有权查看的预警：相关单位、所在及相关单位所在县区或园区的监管部门。", Tags: tags},
		func(ctx context.Context, in *struct {
			Kind      string `query:"kind" maxLength:"60" doc:"规则，如 weight_discrepancy"`
			Status    string `query:"status" enum:"open,acknowledged,closed"`
			Subject   string `query:"subject" maxLength:"40" doc:"对象类型，如 manifest"`
			SubjectID string `query:"subject_id" maxLength:"80"`
			PageQuery
		}) (*out[registry.Page[alerts.Alert]], error) {
			return do(ctx, func(p auth.Principal) (registry.Page[alerts.Alert], error) {
				items, next, err := h.Alerts.List(ctx, p, alerts.Filter{Kind: in.Kind, Status: in.Status, Subject: in.Subject,
					SubjectID: in.SubjectID, Limit: in.Limit, After: in.Cursor})
				return registry.Page[alerts.Alert]{Items: items, Next: next}, err
			})
		})
	huma.Register(a, huma.Operation{OperationID: "get-alert", Method: http.MethodGet, Path: "/api/v1/alerts/{id}",
		Summary: "预警详情", Tags: tags},
		func(ctx context.Context, in *IDPath) (*out[alerts.Alert], error) {
			return do(ctx, func(p auth.Principal) (alerts.Alert, error) { return h.Alerts.Get(ctx, p, in.ID) })
		})
	for _, op := range []struct{ path, status, summary string }{
		{"acknowledge", "acknowledged", "确认预警：已知悉、正在处理"},
		{"close", "closed", "关闭预警：须写明处理情况"},
	} {
		huma.Register(a, huma.Operation{OperationID: op.path + "-alert", Method: http.MethodPost,
			Path: "/api/v1/alerts/{id}/" + op.path, Summary: op.summary, Description: "须带上读取时的 version；查看者不能处理。", Tags: tags},
			func(ctx context.Context, in *struct {
				IDPath
				Body alertAction
			}) (*out[alerts.Alert], error) {
				return do(ctx, func(p auth.Principal) (alerts.Alert, error) {
					return h.Alerts.Handle(ctx, p, in.ID, op.status, in.Body.Note, in.Body.Version)
				})
			})
	}

	tags = []string{"设置"}
	huma.Register(a, huma.Operation{OperationID: "get-settings", Method: http.MethodGet, Path: "/api/v1/settings",
		Summary: "规则设置", Description: "法规未明确或待核实（[R]）的规则取值；未修改的为默认值。", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*out[settings.Rules], error) {
			return do(ctx, func(auth.Principal) (settings.Rules, error) { return settings.Load(ctx, h.DB.Reader()) })
		})
	huma.Register(a, huma.Operation{OperationID: "update-settings", Method: http.MethodPut, Path: "/api/v1/settings",
		Summary: "修改规则设置", Description: "仅平台管理员；须提交全部规则。", Tags: tags},
		func(ctx context.Context, in *struct{ Body settings.Rules }) (*out[settings.Rules], error) {
			return do(ctx, func(p auth.Principal) (settings.Rules, error) { return settings.Save(ctx, h.DB, p, in.Body) })
		})
	huma.Register(a, huma.Operation{OperationID: "get-calendar", Method: http.MethodGet, Path: "/api/v1/calendar",
		Summary: "工作日历", Description: "一年中与周一至周五上班不同的日子：法定节假日、调休上班日及管理员调整。期限按工作日计算时以此为准。",
		Tags: tags},
		func(ctx context.Context, in *struct {
			Year int `query:"year" minimum:"2000" maximum:"2099" doc:"默认今年"`
		}) (*out[calendarYear], error) {
			return do(ctx, func(auth.Principal) (calendarYear, error) {
				year := in.Year
				if year == 0 {
					year = time.Now().In(calendar.Zone).Year()
				}
				days, err := h.Calendar.Year(ctx, year)
				return calendarYear{Year: year, Items: days}, err
			})
		})
	huma.Register(a, huma.Operation{OperationID: "set-calendar-day", Method: http.MethodPut, Path: "/api/v1/calendar/{day}",
		Summary: "调整工作日", Description: "仅平台管理员：把某日设为工作日或休息日，优先于内置的放假安排。", Tags: tags},
		func(ctx context.Context, in *struct {
			DayPath
			Body struct {
				Working bool   `json:"working"`
				Note    string `json:"note,omitempty" maxLength:"200"`
			}
		}) (*out[calendar.Day], error) {
			return do(ctx, func(p auth.Principal) (calendar.Day, error) {
				return h.Calendar.SetDay(ctx, p, in.Day, in.Body.Working, in.Body.Note)
			})
		})
	huma.Register(a, huma.Operation{OperationID: "clear-calendar-day", Method: http.MethodDelete, Path: "/api/v1/calendar/{day}",
		Summary: "撤销工作日调整", Description: "仅平台管理员：恢复内置的放假安排。", Tags: tags},
		func(ctx context.Context, in *DayPath) (*struct{}, error) {
			_, err := do(ctx, func(p auth.Principal) (struct{}, error) { return struct{}{}, h.Calendar.ClearDay(ctx, p, in.Day) })
			return nil, err
		})
}
