package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/streams/medical"
	"wufei/internal/streams/sheet"
)

// The records of the solid-waste streams other than hazardous waste: each
// record kind gets a list, create, get and update under
// /api/v1/streams/{kind}, with its OpenAPI schema written from the kind's
// fields. A body is read by the kind's own parser — the one the web form
// and the workbook import use — so that the three give the same messages
// and field paths.

// streamTags name the streams in the API reference.
var streamTags = map[string]string{"industrial": "一般工业固体废物", "sludge": "城镇污水处理厂污泥", "construction": "建筑垃圾",
	"medical": "医疗废物", "agri": "农业固体废物", "household": "生活领域固体废物"}

type streamListInput struct {
	Region string `query:"region" maxLength:"12" doc:"县区或园区代码；留空为调用者可见的全部"`
	Year   int    `query:"year" minimum:"0" maximum:"2100" doc:"年度；网点类记录为该年及以前建成的"`
	UnitID string `query:"unit_id" maxLength:"40" doc:"单位 id"`
	PageQuery
}

type streamPage struct {
	Items []map[string]any `json:"items"`
	Next  string           `json:"next,omitempty" doc:"下一页的游标；为空表示没有更多"`
}

type streamBody struct {
	RawBody []byte `contentType:"application/json"`
}

type streamPatch struct {
	IDPath
	RawBody []byte `contentType:"application/json"`
}

type coverageInput struct {
	Year   int    `query:"year" required:"true" minimum:"2000" maximum:"2100"`
	Region string `query:"region" maxLength:"12" doc:"县区或园区代码"`
}

// decodeObject reads a JSON object body into a kind's input.
func decodeObject(sp *sheet.Spec, body []byte) (sheet.Input, int64, error) {
	var obj map[string]any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&obj); err != nil || obj == nil {
		return nil, 0, errs.Field("body", "json_object", "请求体须为 JSON 对象")
	}
	return sp.ParseObject(obj)
}

func (h *handlers) registerStreams(a huma.API) {
	for _, svc := range h.Streams {
		sp := svc.Spec
		tags := []string{streamTags[sp.Group]}
		base := "/api/v1/streams/" + sp.Name
		id := func(verb string) string { return verb + "-" + strings.ReplaceAll(sp.Name, "_", "-") }
		who := "由监管部门填报辖区内的记录。"
		if sp.UnitWrites {
			who = "单位账号填报本单位的记录；监管部门填报辖区内的记录。"
		}
		huma.Register(a, huma.Operation{OperationID: id("list"), Method: http.MethodGet, Path: base,
			Summary: sp.Title + "列表", Description: "调用者可见范围内的记录，新的在前。", Tags: tags},
			func(ctx context.Context, in *streamListInput) (*out[streamPage], error) {
				return do(ctx, func(p auth.Principal) (streamPage, error) {
					pg, err := svc.List(ctx, p, sheet.Filter{Region: in.Region, Year: in.Year, UnitID: in.UnitID,
						Limit: in.Limit, After: in.Cursor})
					items := make([]map[string]any, len(pg.Items))
					for i, r := range pg.Items {
						items[i] = sp.Object(r)
					}
					return streamPage{items, pg.Next}, err
				})
			})
		huma.Register(a, huma.Operation{OperationID: id("create"), Method: http.MethodPost, Path: base,
			Summary: "填报" + sp.Title, Description: who + "同一键（" + keyNames(sp) + "）只能有一条记录。", Tags: tags,
			DefaultStatus: http.StatusCreated, SkipValidateBody: true},
			func(ctx context.Context, in *streamBody) (*out[map[string]any], error) {
				return do(ctx, func(p auth.Principal) (map[string]any, error) {
					input, _, err := decodeObject(sp, in.RawBody)
					if err != nil {
						return nil, err
					}
					r, err := svc.Create(ctx, p, input)
					return sp.Object(&r), err
				})
			})
		huma.Register(a, huma.Operation{OperationID: id("get"), Method: http.MethodGet, Path: base + "/{id}",
			Summary: sp.Title + "详情", Tags: tags},
			func(ctx context.Context, in *IDPath) (*out[map[string]any], error) {
				return do(ctx, func(p auth.Principal) (map[string]any, error) {
					r, err := svc.Get(ctx, p, in.ID)
					return sp.Object(&r), err
				})
			})
		huma.Register(a, huma.Operation{OperationID: id("update"), Method: http.MethodPatch, Path: base + "/{id}",
			Summary: "修改" + sp.Title, Description: "须带上读取时的 version，只提交要改的字段；他人已修改时返回 409。", Tags: tags,
			SkipValidateBody: true},
			func(ctx context.Context, in *streamPatch) (*out[map[string]any], error) {
				return do(ctx, func(p auth.Principal) (map[string]any, error) {
					input, version, err := decodeObject(sp, in.RawBody)
					if err == nil && version == 0 {
						err = errs.Field("version", "required", "须提供读取时的 version")
					}
					if err != nil {
						return nil, err
					}
					r, err := svc.Update(ctx, p, in.ID, version, input)
					return sp.Object(&r), err
				})
			})
		describeSheet(a.OpenAPI(), sp, base)
	}
	huma.Register(a, huma.Operation{OperationID: "medical-coverage", Method: http.MethodGet, Path: "/api/v1/streams/med_institution/coverage",
		Summary: "医疗废物收集覆盖率", Description: "纳入收集（转移联单或合同收集）的医疗机构数 ÷ 登记的医疗机构数。",
		Tags: []string{streamTags["medical"]}},
		func(ctx context.Context, in *coverageInput) (*out[medical.Coverage], error) {
			return do(ctx, func(p auth.Principal) (medical.Coverage, error) {
				return medical.CoverageOf(ctx, h.DB, p, in.Year, in.Region)
			})
		})
}

func keyNames(sp *sheet.Spec) string {
	names := make([]string, len(sp.Key))
	for i, k := range sp.Key {
		f, _ := sp.Field(k)
		names[i] = f.Header
	}
	return strings.Join(names, "、")
}

// fieldSchema is the JSON schema of a field's value.
func fieldSchema(f sheet.Field) *huma.Schema {
	s := &huma.Schema{Type: "string", Title: f.Header, Description: f.Note}
	switch f.Type {
	case sheet.Tonnes:
		s.Type, s.Description = "number", strings.TrimSuffix("吨，最多 3 位小数。"+f.Note, "。")
		s.Minimum = new(float64)
	case sheet.Int, sheet.Year:
		s.Type, s.Minimum = "integer", new(float64)
	case sheet.MonthNum:
		lo, hi := 1.0, 12.0
		s.Type, s.Minimum, s.Maximum = "integer", &lo, &hi
	case sheet.Decimal:
		s.Type = "number"
		if f.Top != 0 {
			lo, hi := f.Min, f.Top
			s.Minimum, s.Maximum = &lo, &hi
		}
	case sheet.Month:
		s.Pattern = `^[0-9]{4}-[0-9]{2}$`
	case sheet.Date:
		s.Format = "date"
	case sheet.Choice:
		for _, c := range f.Choices {
			s.Enum = append(s.Enum, c)
		}
	case sheet.Regions:
		s.Type, s.Items = "array", &huma.Schema{Type: "string", Description: "县区代码"}
	case sheet.Unit, sheet.Link:
		s.Description = strings.TrimSpace("统一社会信用代码。" + f.Note)
	case sheet.Text, sheet.Township:
		if f.Max > 0 {
			s.MaxLength = &f.Max
		}
	}
	if f.Example != "" {
		s.Examples = []any{f.Example}
	}
	return s
}

// describeSheet writes the kind's record schema into the operations'
// request and response bodies.
func describeSheet(o *huma.OpenAPI, sp *sheet.Spec, base string) {
	fields := map[string]*huma.Schema{}
	var required []string
	for _, f := range sp.Fields {
		fields[f.Key] = fieldSchema(f)
		if f.Required && f.Type != sheet.Unit {
			required = append(required, f.Key)
		}
	}
	in := &huma.Schema{Type: "object", Title: sp.Title, Properties: fields, Required: required}
	patch := &huma.Schema{Type: "object", Title: sp.Title, Properties: map[string]*huma.Schema{
		"version": {Type: "integer", Description: "读取时的版本"}}, Required: []string{"version"}}
	rec := &huma.Schema{Type: "object", Title: sp.Title, Properties: map[string]*huma.Schema{
		"id": {Type: "string"}, "version": {Type: "integer"}, "unit_id": {Type: "string"}, "unit_name": {Type: "string"},
		"region_code": {Type: "string"}, "year": {Type: "integer"}, "created_at": {Type: "string", Format: "date-time"},
		"updated_at": {Type: "string", Format: "date-time"}}}
	for k, s := range fields {
		patch.Properties[k], rec.Properties[k] = s, s
	}
	for _, f := range sp.DerivedFields {
		rec.Properties[f.Key] = &huma.Schema{Type: "number", Title: f.Header, ReadOnly: true}
	}
	page := &huma.Schema{Type: "object", Properties: map[string]*huma.Schema{
		"items": {Type: "array", Items: rec}, "next": {Type: "string"}}}
	set := func(op *huma.Operation, body, resp *huma.Schema) {
		if op == nil {
			return
		}
		if body != nil && op.RequestBody != nil {
			op.RequestBody.Required = true
			op.RequestBody.Content = map[string]*huma.MediaType{"application/json": {Schema: body}}
		}
		for code, r := range op.Responses {
			if len(code) == 3 && code[0] == '2' && r.Content != nil {
				r.Content = map[string]*huma.MediaType{"application/json": {Schema: resp}}
			}
		}
	}
	if p := o.Paths[base]; p != nil {
		set(p.Get, nil, page)
		set(p.Post, in, rec)
	}
	if p := o.Paths[base+"/{id}"]; p != nil {
		set(p.Get, nil, rec)
		set(p.Patch, patch, rec)
	}
}
