package api

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"io"
	"mime"
	"mime/multipart"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/program/indicator"
)

type indicatorQuery struct {
	Region string `query:"region" maxLength:"12" doc:"地区代码：340600 全市（默认）、县区或园区"`
	Year   int    `query:"year" minimum:"2000" maximum:"2100" doc:"统计年度，默认今年"`
	Period string `query:"period" maxLength:"7" doc:"统计期：2026Q3（季）或 2026-09（月）；给出时取代 year"`
}

func (q indicatorQuery) filter() indicator.ListFilter {
	return indicator.ListFilter{Region: q.Region, Year: q.Year, Period: q.Period}
}

type ValuePath struct {
	IDPath
	ReportID string `path:"vid" maxLength:"40"`
}

type evidenceFile struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	ReprDigest         string `header:"Repr-Digest"`
	ETag               string `header:"ETag"`
	CacheControl       string `header:"Cache-Control"`
	Body               []byte
}

func (h *handlers) registerIndicators(a huma.API) {
	svc := h.Indicators
	tags := []string{"无废城市指标"}

	huma.Register(a, huma.Operation{OperationID: "list-indicators", Method: http.MethodGet, Path: "/api/v1/indicators",
		Summary: "指标体系与进展", Tags: tags,
		Description: "全部指标（一级、二级、三级）及其在某地区、某统计期的有效值、状态与按年度趋势外推到目标年的预测值。" +
			"状态：achieved 已达标，on_track 按趋势可达标，at_risk 预测差距在目标值 10% 以内，off_track 差距更大，no_data 无数据或无目标。" +
			"计算类指标由平台记录计算，填报类指标只计审核通过的值。"},
		func(ctx context.Context, in *indicatorQuery) (*out[items[indicator.Item]], error) {
			return do(ctx, func(p auth.Principal) (items[indicator.Item], error) {
				r, err := svc.List(ctx, p, in.filter())
				return items[indicator.Item]{r}, err
			})
		})
	huma.Register(a, huma.Operation{OperationID: "get-indicator", Method: http.MethodGet, Path: "/api/v1/indicators/{id}",
		Summary: "指标详情", Tags: tags,
		Description: "指标在某地区、某统计期的值、年度序列；计算类指标附分子、分母及其依据的台账记录、联单行、细胞（按调用者可见范围列出）。"},
		func(ctx context.Context, in *struct {
			IDPath
			indicatorQuery
		}) (*out[indicator.Detail], error) {
			return do(ctx, func(p auth.Principal) (indicator.Detail, error) { return svc.Get(ctx, p, in.ID, in.filter()) })
		})
	huma.Register(a, huma.Operation{OperationID: "update-indicator", Method: http.MethodPatch, Path: "/api/v1/indicators/{id}",
		Summary: "配置指标", Tags: tags,
		Description: "工作专班配置指标的目标值、目标年、基准值与是否必选；实施方案确定的目标值不可修改。须带上读取时的 version。"},
		func(ctx context.Context, in *struct {
			IDPath
			Body indicator.Patch
		}) (*out[indicator.Indicator], error) {
			return do(ctx, func(p auth.Principal) (indicator.Indicator, error) { return svc.Update(ctx, p, in.ID, in.Body) })
		})

	huma.Register(a, huma.Operation{OperationID: "list-indicator-values", Method: http.MethodGet,
		Path: "/api/v1/indicators/{id}/values", Summary: "填报历史", Tags: tags,
		Description: "某地区各版本的填报（新的在前，status 标明 pending 待审核、approved 有效、returned 已退回、superseded 已被取代），" +
			"及各统计期的有效值。待审核、已退回的版本与证明材料仅对该地区的监管部门可见。"},
		func(ctx context.Context, in *struct {
			IDPath
			Region string `query:"region" maxLength:"12" doc:"地区代码，默认 340600"`
		}) (*out[indicator.History], error) {
			return do(ctx, func(p auth.Principal) (indicator.History, error) { return svc.History(ctx, p, in.ID, in.Region) })
		})
	huma.Register(a, huma.Operation{OperationID: "report-indicator-value", Method: http.MethodPost,
		Path: "/api/v1/indicators/{id}/values", Summary: "填报指标值", Tags: tags, DefaultStatus: http.StatusCreated,
		Description: "牵头部门填报某地区、某统计期的值与说明，生成待审核版本；证明材料随后上传，审核通过后计入。"},
		func(ctx context.Context, in *struct {
			IDPath
			Body indicator.NewReport
		}) (*out[indicator.Report], error) {
			return do(ctx, func(p auth.Principal) (indicator.Report, error) { return svc.Submit(ctx, p, in.ID, in.Body) })
		})
	huma.Register(a, huma.Operation{OperationID: "approve-indicator-value", Method: http.MethodPost,
		Path: "/api/v1/indicators/{id}/values/{vid}/approve", Summary: "审核通过", Tags: tags,
		Description: "工作专班审核通过待审核版本（须已附证明材料）；该版本成为有效值，同期此前的有效版本标为 superseded。"},
		func(ctx context.Context, in *struct {
			ValuePath
			Body *indicator.Decision
		}) (*out[indicator.Report], error) {
			return do(ctx, func(p auth.Principal) (indicator.Report, error) {
				return svc.Approve(ctx, p, in.ID, in.ReportID, decision(in.Body))
			})
		})
	huma.Register(a, huma.Operation{OperationID: "return-indicator-value", Method: http.MethodPost,
		Path: "/api/v1/indicators/{id}/values/{vid}/return", Summary: "退回填报", Tags: tags,
		Description: "工作专班退回待审核版本并写明理由（note）；退回的版本保留，不计入。"},
		func(ctx context.Context, in *struct {
			ValuePath
			Body *indicator.Decision
		}) (*out[indicator.Report], error) {
			return do(ctx, func(p auth.Principal) (indicator.Report, error) {
				return svc.Return(ctx, p, in.ID, in.ReportID, decision(in.Body))
			})
		})
	huma.Register(a, huma.Operation{OperationID: "upload-indicator-evidence", Method: http.MethodPost,
		Path: "/api/v1/indicators/{id}/values/{vid}/evidence", Summary: "上传证明材料", Tags: tags,
		DefaultStatus: http.StatusCreated, MaxBodyBytes: MaxUploadBytes,
		Description: "multipart/form-data，字段 file，可重复（每版本最多 10 个）。接受 PDF、PNG、JPEG、XLSX、DOCX，内容须与扩展名一致；" +
			"单个文件不超过 5 MiB，整个请求不超过 16 MiB。文件连同 SHA-256 存入数据库。"},
		func(ctx context.Context, in *struct {
			ValuePath
			RawBody multipart.Form
		}) (*out[indicator.Report], error) {
			return do(ctx, func(p auth.Principal) (indicator.Report, error) {
				files, err := formFiles(in.RawBody.File["file"])
				if err != nil {
					return indicator.Report{}, err
				}
				return svc.AddEvidence(ctx, p, in.ID, in.ReportID, files)
			})
		})
	huma.Register(a, huma.Operation{OperationID: "get-indicator-evidence", Method: http.MethodGet,
		Path: "/api/v1/indicators/{id}/values/{vid}/evidence/{eid}", Summary: "下载证明材料", Tags: tags,
		Description: "原文件；Repr-Digest 头给出 SHA-256。仅该地区的监管部门可下载。",
		Responses: map[string]*huma.Response{"200": {Description: "证明材料",
			Content: map[string]*huma.MediaType{"application/octet-stream": {Schema: &huma.Schema{Type: "string", Format: "binary"}}}}}},
		func(ctx context.Context, in *struct {
			ValuePath
			EvidenceID string `path:"eid" maxLength:"40"`
		}) (*evidenceFile, error) {
			p, err := principal(ctx)
			if err != nil {
				return nil, err
			}
			f, err := svc.EvidenceContent(ctx, p, in.ID, in.ReportID, in.EvidenceID)
			if err != nil {
				return nil, problemOf(err)
			}
			sum, _ := hex.DecodeString(f.Info.SHA256)
			return &evidenceFile{ContentType: f.ContentType,
				ContentDisposition: mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}),
				ReprDigest:         "sha-256=:" + base64.StdEncoding.EncodeToString(sum) + ":",
				ETag:               `"` + f.Info.SHA256 + `"`, CacheControl: "private, no-cache", Body: f.Content}, nil
		})
}

func decision(d *indicator.Decision) indicator.Decision {
	if d == nil {
		return indicator.Decision{}
	}
	return *d
}

// formFiles reads uploaded files; the service checks them.
func formFiles(hs []*multipart.FileHeader) ([]indicator.EvidenceFile, error) {
	out := make([]indicator.EvidenceFile, 0, len(hs))
	for _, fh := range hs {
		if fh.Size > indicator.MaxEvidenceBytes {
			return nil, errs.Field("file", "evidence_too_large", "文件超过 5 MiB: "+fh.Filename)
		}
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(io.LimitReader(f, indicator.MaxEvidenceBytes+1))
		f.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, indicator.EvidenceFile{Name: fh.Filename, ContentType: fh.Header.Get("Content-Type"), Content: b})
	}
	return out, nil
}
