package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"wufei/internal/errs"
)

// Problem is an RFC 9457 problem detail with a stable machine code and the
// fields at fault.
type Problem struct {
	Type   string            `json:"type" doc:"问题类型 URI"`
	Title  string            `json:"title"`
	Status int               `json:"status"`
	Detail string            `json:"detail,omitempty"`
	Code   string            `json:"code" doc:"稳定的错误代码，如 validation_failed、uscc_check"`
	Errors []errs.FieldError `json:"errors,omitempty"`
}

func (p *Problem) Error() string                { return p.Code + ": " + p.Detail }
func (p *Problem) GetStatus() int               { return p.Status }
func (p *Problem) ContentType(ct string) string { return "application/problem+json" }

func newProblem(status int, code, detail string, fields ...errs.FieldError) *Problem {
	return &Problem{Type: "urn:wufei:problem:" + code, Title: http.StatusText(status), Status: status,
		Detail: detail, Code: code, Errors: fields}
}

// statusCodes are the codes for errors huma raises itself, by status.
var statusCodes = map[int]string{
	http.StatusBadRequest:            "bad_request",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "not_found",
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusNotAcceptable:         "not_acceptable",
	http.StatusConflict:              "conflict",
	http.StatusPreconditionFailed:    "precondition_failed",
	http.StatusRequestEntityTooLarge: "body_too_large",
	http.StatusUnsupportedMediaType:  "unsupported_media_type",
	http.StatusUnprocessableEntity:   "validation_failed",
	http.StatusTooManyRequests:       "too_many_requests",
	http.StatusInternalServerError:   "internal",
}

func init() {
	// huma builds every error it raises (validation, malformed bodies,
	// oversize bodies) through NewError; make them our problems.
	huma.NewError = func(status int, msg string, es ...error) huma.StatusError {
		code := statusCodes[status]
		if code == "" {
			code = "error"
		}
		var fields []errs.FieldError
		for _, e := range es {
			var d *huma.ErrorDetail
			if !errors.As(e, &d) {
				if e != nil {
					fields = append(fields, errs.FieldError{Code: code, Message: e.Error()})
				}
				continue
			}
			field := fieldOf(d.Location)
			// huma reports a missing property at its parent; name the property.
			if name, ok := requiredProperty(d.Message); ok {
				field = strings.TrimPrefix(field+"."+name, ".")
			}
			fields = append(fields, errs.FieldError{Field: field, Code: detailCode(d.Message), Message: d.Message})
		}
		if status == http.StatusBadRequest && strings.Contains(strings.ToLower(msg), "body") {
			code = "malformed_body"
		}
		if status == http.StatusRequestEntityTooLarge || strings.Contains(msg, "too large") {
			status, code = http.StatusRequestEntityTooLarge, "body_too_large"
		}
		return newProblem(status, code, msg, fields...)
	}
}

// fieldOf turns huma's location ("body.uscc", "query.limit") into the field
// path a client sent ("uscc", "limit").
func fieldOf(loc string) string {
	for _, p := range []string{"body.", "query.", "path.", "header."} {
		if strings.HasPrefix(loc, p) {
			return strings.TrimPrefix(loc, p)
		}
	}
	if loc == "body" {
		return ""
	}
	return loc
}

// requiredProperty extracts X from huma's "expected required property X to
// be present".
func requiredProperty(msg string) (string, bool) {
	rest, ok := strings.CutPrefix(msg, "expected required property ")
	if !ok {
		return "", false
	}
	name, _, ok := strings.Cut(rest, " ")
	return name, ok
}

// detailCode gives huma's schema messages stable codes.
func detailCode(msg string) string {
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "required property"):
		return "required"
	case strings.Contains(m, "unexpected property"):
		return "unknown_field"
	case strings.HasPrefix(m, "expected ") && (strings.Contains(m, "string") || strings.Contains(m, "number") ||
		strings.Contains(m, "integer") || strings.Contains(m, "boolean") || strings.Contains(m, "object") ||
		strings.Contains(m, "array")) && !strings.Contains(m, "length") && !strings.Contains(m, "items"):
		return "type"
	case strings.Contains(m, "length"):
		return "length"
	case strings.Contains(m, "pattern"):
		return "pattern"
	case strings.Contains(m, "one of"):
		return "enum"
	case strings.Contains(m, "items"):
		return "items"
	case strings.Contains(m, "minimum") || strings.Contains(m, "maximum") || strings.Contains(m, "greater") || strings.Contains(m, "less"):
		return "range"
	case strings.Contains(m, "format") || strings.Contains(m, "date-time") || strings.Contains(m, "invalid"):
		return "format"
	}
	return "invalid"
}

var kindStatus = map[errs.Kind]int{
	errs.Invalid:      http.StatusUnprocessableEntity,
	errs.NotFound:     http.StatusNotFound,
	errs.Conflict:     http.StatusConflict,
	errs.Unauthorized: http.StatusUnauthorized,
	errs.Forbidden:    http.StatusForbidden,
	errs.TooMany:      http.StatusTooManyRequests,
}

// problemOf translates a domain error into a problem; anything that is not
// a domain error is logged and hidden behind a 500.
func problemOf(err error) error {
	if err == nil {
		return nil
	}
	var e *errs.Error
	if errors.As(err, &e) {
		if status, ok := kindStatus[e.Kind]; ok {
			return newProblem(status, e.Code, e.Message, e.Fields...)
		}
	}
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	slog.Error("internal error", "err", err)
	return newProblem(http.StatusInternalServerError, "internal", "服务器内部错误")
}
