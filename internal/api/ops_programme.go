package api

import (
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"wufei/internal/auth"
	"wufei/internal/program/bulletin"
	"wufei/internal/program/cell"
	"wufei/internal/program/indicator"
	"wufei/internal/program/task"
)

// download is a file in a response body.
type download struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	CacheControl       string `header:"Cache-Control"`
	Body               []byte
}

// evidenceDownload is an evidence file with its checksum.
type evidenceDownload struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	CacheControl       string `header:"Cache-Control"`
	Checksum           string `header:"X-Checksum-SHA256" doc:"文件的 SHA-256（十六进制）"`
	Body               []byte
}

func attachment(name string) string {
	return mime.FormatMediaType("attachment", map[string]string{"filename": name})
}

type TaskPath struct {
	ID string `path:"id" maxLength:"40" doc:"任务 id"`
}

type TaskItemPath struct {
	TaskPath
	Item string `path:"item" maxLength:"40"`
}

type reviewBody struct {
	Note    string `json:"note,omitempty" maxLength:"1000" doc:"审核意见"`
	Version int64  `json:"version,omitempty" minimum:"1" doc:"读取时的 version；不填不校验"`
}

type milestoneDoneBody struct {
	Note    string `json:"note,omitempty" maxLength:"2000" doc:"办结说明"`
	Version int64  `json:"version,omitempty" minimum:"1" doc:"读取时的 version；不填不校验"`
}

type approveBody struct {
	CertificateDate string `json:"certificate_date,omitempty" maxLength:"10" doc:"命名日期 YYYY-MM-DD，默认今天"`
	Version         int64  `json:"version,omitempty" minimum:"1" doc:"读取时的 version；不填不校验"`
}

type bulletinPath struct {
	File string `path:"file" pattern:"^[0-9]{4}Q[1-4](\\.xlsx|\\.json)?$" doc:"通报期加格式，如 2026Q3.xlsx（Excel 工作簿）或 2026Q3.json"`
}

func (h *handlers) registerProgramme(a huma.API) {
	tasks, cells := task.NewService(h.DB), cell.NewService(h.DB)
	ind := h.Indicators
	if ind == nil {
		ind = indicator.NewService(h.DB)
	}
	bulletins := bulletin.NewService(h.DB, ind)

	tags := []string{"任务清单"}
	huma.Register(a, huma.Operation{OperationID: "list-tasks", Method: http.MethodGet, Path: "/api/v1/tasks",
		Summary: "任务清单", Tags: tags,
		Description: "方案“二、主要任务”的 32 项任务和“三、保障措施”3 项，按方案顺序：分组、编号、标题、原文、责任单位与配合单位" +
			"（原文及对应的登记部门代码）、所带目标、完成期限与最近一次通过审核的进度。"},
		func(ctx context.Context, in *struct {
			Department string `query:"department" maxLength:"40" doc:"部门代码：只列该部门负责、配合或属地落实的任务"`
			Group      string `query:"group" maxLength:"10" doc:"分组，如 二(一)、三"`
		}) (*out[items[task.Task]], error) {
			return do(ctx, func(p auth.Principal) (items[task.Task], error) {
				ts, err := tasks.List(ctx, p, task.Filter{Department: in.Department, Group: in.Group})
				return items[task.Task]{ts}, err
			})
		})
	huma.Register(a, huma.Operation{OperationID: "get-task", Method: http.MethodGet, Path: "/api/v1/tasks/{id}",
		Summary: "任务详情", Description: "含工作节点；部门账号还可见进展报告与佐证材料。", Tags: tags},
		func(ctx context.Context, in *TaskPath) (*out[task.Detail], error) {
			return do(ctx, func(p auth.Principal) (task.Detail, error) { return tasks.Get(ctx, p, in.ID) })
		})
	huma.Register(a, huma.Operation{OperationID: "create-task-milestone", Method: http.MethodPost,
		Path: "/api/v1/tasks/{id}/milestones", Summary: "添加工作节点", DefaultStatus: 201, Tags: tags,
		Description: "任务的责任单位或配合单位为本部门添加节点；工作专班可为其中任一部门添加。到期未办结的节点预警。"},
		func(ctx context.Context, in *struct {
			TaskPath
			Body task.NewMilestone
		}) (*out[task.Milestone], error) {
			return do(ctx, func(p auth.Principal) (task.Milestone, error) { return tasks.AddMilestone(ctx, p, in.ID, in.Body) })
		})
	huma.Register(a, huma.Operation{OperationID: "complete-task-milestone", Method: http.MethodPost,
		Path: "/api/v1/tasks/{id}/milestones/{item}/done", Summary: "办结工作节点", Tags: tags},
		func(ctx context.Context, in *struct {
			TaskItemPath
			Body *milestoneDoneBody
		}) (*out[task.Milestone], error) {
			return do(ctx, func(p auth.Principal) (task.Milestone, error) {
				var b milestoneDoneBody
				if in.Body != nil {
					b = *in.Body
				}
				return tasks.CompleteMilestone(ctx, p, in.ID, in.Item, b.Note, b.Version)
			})
		})
	huma.Register(a, huma.Operation{OperationID: "submit-task-report", Method: http.MethodPost,
		Path: "/api/v1/tasks/{id}/reports", Summary: "报送进展", DefaultStatus: 201, Tags: tags,
		Description: "任务的责任单位或配合单位报送本部门进展（进度 0–100、进展情况、日期与佐证材料 base64），由工作专班审核。" +
			"责任单位每季度报送一次，季度结束后 10 日内（可在设置中修改），逾期预警。非本部门任务返回 403，errors[].field 为 department_code。"},
		func(ctx context.Context, in *struct {
			TaskPath
			Body task.NewReport
		}) (*out[task.Report], error) {
			return do(ctx, func(p auth.Principal) (task.Report, error) { return tasks.SubmitReport(ctx, p, in.ID, in.Body) })
		})
	huma.Register(a, huma.Operation{OperationID: "accept-task-report", Method: http.MethodPost,
		Path: "/api/v1/tasks/{id}/reports/{item}/accept", Summary: "通过进展报告",
		Description: "工作专班审核通过；任务进度取最近日期的已通过报告。", Tags: tags},
		func(ctx context.Context, in *struct {
			TaskItemPath
			Body *reviewBody
		}) (*out[task.Report], error) {
			return do(ctx, func(p auth.Principal) (task.Report, error) {
				var b reviewBody
				if in.Body != nil {
					b = *in.Body
				}
				return tasks.Accept(ctx, p, in.ID, in.Item, b.Note, b.Version)
			})
		})
	huma.Register(a, huma.Operation{OperationID: "return-task-report", Method: http.MethodPost,
		Path: "/api/v1/tasks/{id}/reports/{item}/return", Summary: "退回进展报告", Description: "工作专班退回并写明原因。", Tags: tags},
		func(ctx context.Context, in *struct {
			TaskItemPath
			Body returnBody
		}) (*out[task.Report], error) {
			return do(ctx, func(p auth.Principal) (task.Report, error) {
				return tasks.Return(ctx, p, in.ID, in.Item, in.Body.Reason, in.Body.Version)
			})
		})
	huma.Register(a, huma.Operation{OperationID: "get-task-evidence", Method: http.MethodGet,
		Path: "/api/v1/tasks/{id}/reports/{item}/evidence/{evidence}", Summary: "下载佐证材料",
		Description: "响应头 X-Checksum-SHA256 给出文件的 SHA-256。", Tags: tags,
		Responses: map[string]*huma.Response{"200": {Description: "佐证材料",
			Content: map[string]*huma.MediaType{"application/octet-stream": {Schema: &huma.Schema{Type: "string", Format: "binary"}}}}}},
		func(ctx context.Context, in *struct {
			TaskItemPath
			Evidence string `path:"evidence" maxLength:"40"`
		}) (*evidenceDownload, error) {
			p, err := principal(ctx)
			if err != nil {
				return nil, err
			}
			f, e, err := tasks.EvidenceFile(ctx, p, in.ID, in.Item, in.Evidence)
			if err != nil {
				return nil, problemOf(err)
			}
			return &evidenceDownload{ContentType: f.ContentType, ContentDisposition: attachment(f.Name),
				CacheControl: "private, no-cache", Checksum: e.SHA256, Body: f.Data}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "list-department-tasks", Method: http.MethodGet,
		Path: "/api/v1/departments/{code}/tasks", Summary: "部门责任清单",
		Description: "某部门负责（lead）、配合（supporting）或属地落实（local）的任务，与任务清单同源。", Tags: tags},
		func(ctx context.Context, in *struct {
			Code string `path:"code" maxLength:"40" doc:"部门代码，如 sthjj"`
		}) (*out[task.Responsibilities], error) {
			return do(ctx, func(p auth.Principal) (task.Responsibilities, error) { return tasks.DepartmentTasks(ctx, p, in.Code) })
		})
	huma.Register(a, huma.Operation{OperationID: "get-task-settings", Method: http.MethodGet, Path: "/api/v1/settings/tasks",
		Summary: "进展报送规则设置", Description: "报送周期、报送期限与佐证材料限制；未修改的为默认值。", Tags: []string{"设置"}},
		func(ctx context.Context, _ *struct{}) (*out[task.Rules], error) {
			return do(ctx, func(auth.Principal) (task.Rules, error) { return task.LoadRules(ctx, h.DB.Reader()) })
		})
	huma.Register(a, huma.Operation{OperationID: "update-task-settings", Method: http.MethodPut, Path: "/api/v1/settings/tasks",
		Summary: "修改进展报送规则设置", Description: "平台管理员或工作专班；须提交全部规则。", Tags: []string{"设置"}},
		func(ctx context.Context, in *struct{ Body task.Rules }) (*out[task.Rules], error) {
			return do(ctx, func(p auth.Principal) (task.Rules, error) { return task.SaveRules(ctx, h.DB, p, in.Body) })
		})

	tags = []string{"无废细胞"}
	huma.Register(a, huma.Operation{OperationID: "list-cells", Method: http.MethodGet, Path: "/api/v1/cells",
		Summary: "无废细胞列表", Description: "只返回调用者有权查看的：单位看本单位的，监管部门看本地区的。", Tags: tags},
		func(ctx context.Context, in *struct {
			Status string `query:"status" enum:"applied,scored,certified,returned,withdrawn"`
			Type   string `query:"type" maxLength:"40"`
			Region string `query:"region" maxLength:"12" doc:"县区或园区代码"`
			UnitID string `query:"unit_id" maxLength:"40"`
			PageQuery
		}) (*out[cell.Page], error) {
			return do(ctx, func(p auth.Principal) (cell.Page, error) {
				return cells.List(ctx, p, cell.Filter{Status: in.Status, Type: in.Type, Region: in.Region, UnitID: in.UnitID,
					Limit: in.Limit, After: in.Cursor})
			})
		})
	huma.Register(a, huma.Operation{OperationID: "apply-cell", Method: http.MethodPost, Path: "/api/v1/cells",
		Summary: "申报无废细胞", Description: "单位管理员为本单位申报；平台管理员须指定 unit_id。", Tags: tags, DefaultStatus: 201},
		func(ctx context.Context, in *struct{ Body cell.NewCell }) (*out[cell.Detail], error) {
			return do(ctx, func(p auth.Principal) (cell.Detail, error) { return cells.Apply(ctx, p, in.Body) })
		})
	huma.Register(a, huma.Operation{OperationID: "get-cell", Method: http.MethodGet, Path: "/api/v1/cells/{id}",
		Summary: "无废细胞详情", Description: "含该类型的评估细则与各项得分。", Tags: tags},
		func(ctx context.Context, in *IDPath) (*out[cell.Detail], error) {
			return do(ctx, func(p auth.Principal) (cell.Detail, error) { return cells.Get(ctx, p, in.ID) })
		})
	huma.Register(a, huma.Operation{OperationID: "score-cell", Method: http.MethodPost, Path: "/api/v1/cells/{id}/scores",
		Summary: "评分", Tags: tags,
		Description: "工作专班或该类型的牵头部门按评估细则评分（可分次），自动计算加权总分（百分制）。" +
			"不在细则中的项目或超出 0 至满分的得分返回 422，errors[].field 指明 scores[i].criterion 或 scores[i].score，整张评分表不保存。"},
		func(ctx context.Context, in *struct {
			IDPath
			Body cell.Sheet
		}) (*out[cell.Detail], error) {
			return do(ctx, func(p auth.Principal) (cell.Detail, error) { return cells.Score(ctx, p, in.ID, in.Body) })
		})
	huma.Register(a, huma.Operation{OperationID: "approve-cell", Method: http.MethodPost, Path: "/api/v1/cells/{id}/approve",
		Summary: "命名", Description: "全部细则已评分且总分达到该类型达标分时命名，记命名日期。", Tags: tags},
		func(ctx context.Context, in *struct {
			IDPath
			Body *approveBody
		}) (*out[cell.Detail], error) {
			return do(ctx, func(p auth.Principal) (cell.Detail, error) {
				var b approveBody
				if in.Body != nil {
					b = *in.Body
				}
				return cells.Approve(ctx, p, in.ID, b.CertificateDate, b.Version)
			})
		})
	huma.Register(a, huma.Operation{OperationID: "return-cell", Method: http.MethodPost, Path: "/api/v1/cells/{id}/return",
		Summary: "退回申报", Description: "写明原因。", Tags: tags},
		func(ctx context.Context, in *struct {
			IDPath
			Body returnBody
		}) (*out[cell.Detail], error) {
			return do(ctx, func(p auth.Principal) (cell.Detail, error) {
				return cells.Return(ctx, p, in.ID, in.Body.Reason, in.Body.Version)
			})
		})
	huma.Register(a, huma.Operation{OperationID: "withdraw-cell", Method: http.MethodPost, Path: "/api/v1/cells/{id}/withdraw",
		Summary: "撤销命名", Description: "写明原因；撤销后不再计入“无废细胞”指标。", Tags: tags},
		func(ctx context.Context, in *struct {
			IDPath
			Body returnBody
		}) (*out[cell.Detail], error) {
			return do(ctx, func(p auth.Principal) (cell.Detail, error) {
				return cells.Withdraw(ctx, p, in.ID, in.Body.Reason, in.Body.Version)
			})
		})
	huma.Register(a, huma.Operation{OperationID: "list-cell-types", Method: http.MethodGet, Path: "/api/v1/cell-types",
		Summary: "无废细胞类型与评估细则", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*out[items[cell.Type]], error) {
			return do(ctx, func(p auth.Principal) (items[cell.Type], error) {
				ts, err := cells.Types(ctx, p)
				return items[cell.Type]{ts}, err
			})
		})
	huma.Register(a, huma.Operation{OperationID: "put-cell-type", Method: http.MethodPut, Path: "/api/v1/cell-types/{code}",
		Summary: "新增或修改无废细胞类型", Tags: tags,
		Description: "工作专班维护类型名称、牵头部门、达标分与评估细则（权重合计 100）；修改留痕。"},
		func(ctx context.Context, in *struct {
			Code string `path:"code" maxLength:"40"`
			Body cell.TypeInput
		}) (*out[cell.Type], error) {
			return do(ctx, func(p auth.Principal) (cell.Type, error) { return cells.PutType(ctx, p, in.Code, in.Body) })
		})

	huma.Register(a, huma.Operation{OperationID: "get-bulletin", Method: http.MethodGet, Path: "/api/v1/bulletins/{file}",
		Summary: "季度工作进展通报", Tags: []string{"通报"},
		Description: "工作专班的季度通报：2026Q3.xlsx 为 Excel 工作簿（工作表：指标、任务、地区排名、逾期事项），" +
			"2026Q3 或 2026Q3.json 为同样内容的 JSON。工作专班、平台管理员和市级部门可取。",
		Responses: map[string]*huma.Response{"200": {Description: "通报",
			Content: map[string]*huma.MediaType{
				"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {Schema: &huma.Schema{Type: "string", Format: "binary"}},
				"application/json": {}}}}},
		func(ctx context.Context, in *bulletinPath) (*download, error) {
			p, err := principal(ctx)
			if err != nil {
				return nil, err
			}
			period, ext, _ := strings.Cut(in.File, ".")
			b, err := bulletins.Build(ctx, p, period, time.Now())
			if err != nil {
				return nil, problemOf(err)
			}
			if ext == "xlsx" {
				raw, err := bulletin.Workbook(b)
				if err != nil {
					return nil, problemOf(err)
				}
				return &download{ContentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
					ContentDisposition: attachment("无废城市工作进展通报-" + b.Period + ".xlsx"), CacheControl: "private, no-cache",
					Body: raw}, nil
			}
			raw, err := json.Marshal(b)
			if err != nil {
				return nil, problemOf(err)
			}
			return &download{ContentType: "application/json", CacheControl: "private, no-cache", Body: raw}, nil
		})
}
