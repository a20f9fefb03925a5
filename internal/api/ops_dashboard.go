package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"wufei/internal/auth"
	"wufei/internal/dashboard"
)

type dashboardQuery struct {
	Region   string `query:"region" maxLength:"12" doc:"地区代码：340600 全市（默认）、县区或园区"`
	Period   string `query:"period" maxLength:"7" doc:"统计期：2026（年，默认今年）、2026Q3（季）或 2026-09（月）"`
	Category string `query:"category" maxLength:"4" doc:"危险废物类别，如 HW08"`
}

func (q dashboardQuery) filter() dashboard.Filter {
	return dashboard.Filter{Region: q.Region, Period: q.Period, Category: q.Category}
}

// dashboardOp registers one figure of the dashboard.
func dashboardOp[T any](a huma.API, id, path, summary, desc string, fn func(context.Context, auth.Principal, dashboard.Filter) (T, error)) {
	huma.Register(a, huma.Operation{OperationID: id, Method: http.MethodGet, Path: "/api/v1/dashboard/" + path,
		Summary: summary, Tags: []string{"驾驶舱"}, Description: desc + "数据范围以调用者可见为限：单位账号只见本单位，监管部门见其辖区。" +
			"每个数字附 url，指向其背后的记录。"},
		func(ctx context.Context, in *dashboardQuery) (*out[T], error) {
			return do(ctx, func(p auth.Principal) (T, error) { return fn(ctx, p, in.filter()) })
		})
}

func (h *handlers) registerDashboard(a huma.API) {
	d := h.Dashboard
	if d == nil { // an API assembled without the dashboard (some tests)
		return
	}
	dashboardOp(a, "dashboard-targets", "targets", "2027 年目标进展",
		"实施方案各项目标指标在所选地区、统计期的值、目标、状态与按趋势外推到目标年的预测值。", d.Targets)
	dashboardOp(a, "dashboard-flows", "flows", "危险废物产生、转移、利用、处置（按月、按类别）",
		"产生取自台账产生记录；转移取自已起运联单的申报量；利用、处置取自自行利用处置台账与已完成联单的接收量（按方式代码 R/D）。", d.Flows)
	dashboardOp(a, "dashboard-sankey", "sankey", "产生地区到接收单位的流向",
		"统计期内提交的联单（未作废、未整单拒收），由移出单位所在县区流向接受单位，单位吨；已接收的按实收量。", d.Sankey)
	dashboardOp(a, "dashboard-transit", "transit", "在途与逾期联单",
		"当前待起运、运输中与超过接收期限的联单；统计期不适用。",
		func(ctx context.Context, p auth.Principal, f dashboard.Filter) (dashboard.Transit, error) {
			return d.Transit(ctx, p, f, time.Now())
		})
	dashboardOp(a, "dashboard-alerts", "alerts", "未关闭预警（按规则、县区）", "当前未关闭的预警数；统计期与类别不适用。", d.Alerts)
	dashboardOp(a, "dashboard-regions", "regions", "县区对比", "各县区统计期内的产生、转移、利用、处置量与未关闭预警数。", d.Regions)
	dashboardOp(a, "dashboard-places", "places", "单位与设施分布", "有经纬度的在营单位及其角色、设施数。", d.Places)
	dashboardOp(a, "dashboard-capacity", "capacity", "许可能力与使用",
		"持有效许可证的接收单位的年许可能力合计，与统计年度联单已占用的量。",
		func(ctx context.Context, p auth.Principal, f dashboard.Filter) (dashboard.Capacities, error) {
			return d.Capacity(ctx, p, f, time.Now())
		})
	huma.Register(a, huma.Operation{OperationID: "get-workbench", Method: http.MethodGet, Path: "/api/v1/workbench",
		Summary: "工作台：当前待办", Tags: []string{"驾驶舱"},
		Description: "按调用者角色列出待办：产废单位的草稿联单与临近贮存期限的设施，运输单位待起运的联单，接受单位待确认接收（附期限）与待填写方式的联单，" +
			"监管部门的未关闭预警、待审核填报与更正申请，部门应报送的任务进展。每项附 url。"},
		func(ctx context.Context, in *struct{}) (*out[dashboard.Workbench], error) {
			return do(ctx, func(p auth.Principal) (dashboard.Workbench, error) { return d.Workbench(ctx, p, time.Now()) })
		})
}
