package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"wufei/internal/auth"
	"wufei/internal/calendar"
	"wufei/internal/errs"
	"wufei/internal/exchange"
)

// MaxImportBytes bounds a workbook upload, raw or in a form: the upload
// bound of every multipart request. A 100,000-row ledger workbook is about
// 4 MiB (docs/exchange.md), so it fits with room to spare; larger files go
// through `wufei import`, which has no bound.
const MaxImportBytes = MaxUploadBytes

// importLimit is the body limit of a workbook upload, through the API or
// the web page, and 0 for any other request: a raw xlsx body would
// otherwise get the 1 MiB of a JSON body.
func importLimit(r *http.Request) int64 {
	if r.Method == http.MethodPost && (strings.HasPrefix(r.URL.Path, "/api/v1/import/") || strings.HasPrefix(r.URL.Path, "/exchange/import/")) {
		return MaxImportBytes
	}
	return 0
}

// ExchangeKind is a kind as GET /api/v1/import/kinds lists it.
type ExchangeKind struct {
	Name    string            `json:"name" doc:"类型名，用于模板、导入和导出的地址"`
	Title   string            `json:"title"`
	Columns []exchange.Column `json:"columns"`
}

// importProblem is a refused import: every bad row with its column and
// reason, at most exchange.MaxRowErrors of them, and how many in all.
type importProblem struct {
	Problem
	Rows        []exchange.RowError `json:"rows"`
	TotalErrors int                 `json:"total_errors" doc:"错误总数；rows 最多列出 1000 处"`
}

// ImportProblem is the problem for an import error: a refusal lists its
// rows; anything else is an ordinary problem.
func ImportProblem(err error) error {
	var r *exchange.Refusal
	if !errors.As(err, &r) {
		return problemOf(err)
	}
	p := &importProblem{Problem: *newProblem(http.StatusUnprocessableEntity, "rows_invalid", r.Message()), Rows: r.Rows,
		TotalErrors: r.Total}
	for _, e := range r.Rows {
		p.Errors = append(p.Errors, errs.FieldError{Field: fmt.Sprintf("rows[%d].%s", e.Row, e.Column), Code: e.Code, Message: e.Reason})
	}
	return p
}

func (p *importProblem) Error() string                { return p.Problem.Error() }
func (p *importProblem) GetStatus() int               { return p.Status }
func (p *importProblem) ContentType(ct string) string { return "application/problem+json" }

// exchangeKind finds a kind by name, or a 404 problem.
func (h *handlers) exchangeKind(name string) (exchange.Kind, error) {
	for _, k := range h.Exchange {
		if k.Name() == name {
			return k, nil
		}
	}
	return nil, problemOf(errs.E(errs.NotFound, "kind_not_found", "没有名为 "+clip(name)+" 的数据交换类型"))
}

func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

// workbookFile is a path segment naming a kind's workbook: kind.xlsx.
type workbookFile struct {
	File string `path:"file" pattern:"^[a-z0-9_]{1,40}\\.xlsx$" doc:"类型名加 .xlsx，如 hw_ledger.xlsx"`
}

func (w workbookFile) kind() string { return strings.TrimSuffix(w.File, ".xlsx") }

type exportInput struct {
	File string `path:"file" pattern:"^[a-z0-9_]{1,40}\\.xlsx$" doc:"类型名加 .xlsx，如 hw_ledger.xlsx"`
	Year int    `query:"year" minimum:"2000" maximum:"2100" doc:"年份（北京时间）；缺省为今年"`
}

func (in exportInput) kind() string { return strings.TrimSuffix(in.File, ".xlsx") }

func (h *handlers) registerExchange(a huma.API) {
	tags := []string{"数据交换"}
	xlsx := map[string]*huma.Response{"200": {Description: "Excel 工作簿",
		Content: map[string]*huma.MediaType{exchange.ContentType: {Schema: &huma.Schema{Type: "string", Format: "binary"}}}}}

	huma.Register(a, huma.Operation{OperationID: "list-exchange-kinds", Method: http.MethodGet, Path: "/api/v1/import/kinds",
		Summary: "可导入导出的记录类型", Tags: tags,
		Description: "每种类型的名称、标题和列（中文表头、英文键、是否必填、可选值、示例、说明）。"},
		func(ctx context.Context, in *struct{}) (*out[items[ExchangeKind]], error) {
			return do(ctx, func(p auth.Principal) (items[ExchangeKind], error) {
				out := items[ExchangeKind]{Items: []ExchangeKind{}}
				for _, k := range h.Exchange {
					cols, err := k.Columns(ctx)
					if err != nil {
						return out, err
					}
					out.Items = append(out.Items, ExchangeKind{Name: k.Name(), Title: k.Title(), Columns: cols})
				}
				return out, nil
			})
		})

	huma.Register(a, huma.Operation{OperationID: "get-import-template", Method: http.MethodGet, Path: "/api/v1/import/templates/{file}",
		Summary: "下载导入模板", Tags: tags, Responses: xlsx,
		Description: "第一个工作表为中文表头（批注中给出英文键与填写说明），代码类列有下拉选项；" +
			"“填写说明”工作表列出每列的要求和示例行。未改动的模板导入时不会写入任何数据。"},
		func(ctx context.Context, in *workbookFile) (*download, error) {
			if _, err := principal(ctx); err != nil {
				return nil, err
			}
			k, err := h.exchangeKind(in.kind())
			if err != nil {
				return nil, err
			}
			var b bytes.Buffer
			if err := exchange.WriteTemplate(ctx, k, &b); err != nil {
				return nil, problemOf(err)
			}
			return &download{ContentType: exchange.ContentType, ContentDisposition: attachment(k.Title() + "-导入模板.xlsx"),
				CacheControl: "private, no-cache", Body: b.Bytes()}, nil
		})

	huma.Register(a, huma.Operation{OperationID: "import-workbook", Method: http.MethodPost, Path: "/api/v1/import/{kind}",
		Summary: "导入工作簿", Tags: tags, MaxBodyBytes: MaxImportBytes, BodyReadTimeout: -1,
		Description: "请求体为 xlsx 工作簿本身（Content-Type: " + exchange.ContentType + "），或 multipart/form-data 的 file 字段；" +
			"不超过 16 MiB（约 40 万行台账；更大的文件请用 wufei import）。按表头（中文或英文键）对应列，逐行检查：全部无误才在一个事务中写入，否则返回 422 rows_invalid，" +
			"列出每个出错的行号、列和原因（最多 1000 处，total_errors 为总数），不写入任何数据。" +
			"不是工作簿返回 422 not_a_workbook，缺少必填列返回 422 headers_missing。" +
			"每行有其键，再次导入同样的行全部计为 unchanged。"},
		func(ctx context.Context, in *struct {
			Kind        string `path:"kind" pattern:"^[a-z0-9_]{1,40}$"`
			ContentType string `header:"Content-Type"`
			RawBody     []byte `contentType:"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"`
		}) (*out[exchange.Result], error) {
			p, err := principal(ctx)
			if err != nil {
				return nil, err
			}
			k, err := h.exchangeKind(in.Kind)
			if err != nil {
				return nil, err
			}
			file, err := uploadedFile(in.ContentType, in.RawBody)
			if err != nil {
				return nil, problemOf(err)
			}
			res, err := exchange.Import(ctx, k, p, file)
			if err != nil {
				return nil, ImportProblem(err)
			}
			return &out[exchange.Result]{Body: res}, nil
		})

	// The form is documented after registration: declared before, huma
	// would try to decode the body as a form itself.
	if op := a.OpenAPI().Paths["/api/v1/import/{kind}"]; op != nil && op.Post != nil && op.Post.RequestBody != nil {
		op.Post.RequestBody.Content["multipart/form-data"] = &huma.MediaType{Schema: &huma.Schema{Type: "object",
			Properties: map[string]*huma.Schema{"file": {Type: "string", Format: "binary", Description: "xlsx 工作簿"}}}}
	}

	huma.Register(a, huma.Operation{OperationID: "export-workbook", Method: http.MethodGet, Path: "/api/v1/export/{file}",
		Summary: "导出工作簿", Tags: tags, Responses: xlsx,
		Description: "导出调用者可见的某年记录，列与模板相同，导出的文件可原样再导入（结果全部为 unchanged）。" +
			"边查询边写入，内存占用不随行数增长。"},
		func(ctx context.Context, in *exportInput) (*huma.StreamResponse, error) {
			p, err := principal(ctx)
			if err != nil {
				return nil, err
			}
			k, err := h.exchangeKind(in.kind())
			if err != nil {
				return nil, err
			}
			year := in.Year
			if year == 0 {
				year = time.Now().In(calendar.Zone).Year()
			}
			return &huma.StreamResponse{Body: func(hc huma.Context) {
				w := &lazyXLSX{hc: hc, name: fmt.Sprintf("%s-%d.xlsx", k.Title(), year)}
				if err := exchange.WriteExport(hc.Context(), k, p, year, w); err != nil && !w.started {
					pr := problemOf(err).(*Problem)
					hc.SetHeader("Content-Type", "application/problem+json")
					hc.SetStatus(pr.Status)
					_ = json.NewEncoder(hc.BodyWriter()).Encode(pr)
				}
			}}, nil
		})
}

// lazyXLSX sends the workbook's headers with its first bytes, so that an
// export that fails before then can still answer with a problem.
type lazyXLSX struct {
	hc      huma.Context
	name    string
	started bool
}

func (w *lazyXLSX) Write(b []byte) (int, error) {
	if !w.started {
		w.started = true
		w.hc.SetHeader("Content-Type", exchange.ContentType)
		w.hc.SetHeader("Content-Disposition", attachment(w.name))
		w.hc.SetHeader("Cache-Control", "private, no-cache")
		w.hc.SetStatus(http.StatusOK)
	}
	return w.hc.BodyWriter().Write(b)
}

// uploadedFile is the workbook in a request body: the body itself, or the
// "file" part of a multipart form.
func uploadedFile(contentType string, body []byte) (io.Reader, error) {
	mt, params, _ := mime.ParseMediaType(contentType)
	if mt != "multipart/form-data" {
		return bytes.NewReader(body), nil
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, errs.Field("file", "required", "请选择要导入的 xlsx 文件（表单字段 file）")
		}
		if err != nil {
			return nil, errs.Field("file", "malformed_multipart", "上传的表单无法读取")
		}
		if part.FormName() == "file" {
			return part, nil
		}
	}
}
