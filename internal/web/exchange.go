package web

import (
	"errors"
	"net/http"
	"time"

	"wufei/internal/auth"
	"wufei/internal/calendar"
	"wufei/internal/errs"
	"wufei/internal/exchange"
)

type exchangeKindView struct {
	Name, Title string
	Columns     []exchange.Column
	Required    int
}

type exchangeData struct {
	Kinds   []exchangeKindView
	Year    int
	Years   []int
	Kind    string           // the kind just imported
	Result  *exchange.Result // what a successful import did
	Refused *exchange.Refusal
	Err     string // a file that could not be read
}

func (s *server) exchangeRoutes(mux *routeMux) {
	mux.HandleFunc("GET /exchange", s.authed(s.exchangePage))
	mux.HandleFunc("POST /exchange/import/{kind}", s.authed(s.exchangeImport))
}

// exchangePage lists the kinds with their template, upload and export.
func (s *server) exchangePage(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	s.renderExchange(w, r, http.StatusOK, exchangeData{})
}

func (s *server) renderExchange(w http.ResponseWriter, r *http.Request, status int, d exchangeData) {
	d.Year = time.Now().In(calendar.Zone).Year()
	for y := d.Year; y > d.Year-5; y-- {
		d.Years = append(d.Years, y)
	}
	for _, k := range s.Exchange {
		cols, err := k.Columns(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v := exchangeKindView{Name: k.Name(), Title: k.Title(), Columns: cols}
		for _, c := range cols {
			if c.Required {
				v.Required++
			}
		}
		d.Kinds = append(d.Kinds, v)
	}
	s.page(w, r, status, "exchange_page", "content", s.view(r, "exchange", d))
}

// exchangeImport takes an uploaded workbook and shows what the import did,
// or every bad row.
func (s *server) exchangeImport(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	var kind exchange.Kind
	for _, k := range s.Exchange {
		if k.Name() == r.PathValue("kind") {
			kind = k
		}
	}
	if kind == nil {
		s.fail(w, r, errs.E(errs.NotFound, "kind_not_found", "没有这种数据交换类型"))
		return
	}
	d := exchangeData{Kind: kind.Name()}
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		d.Err = "上传的文件过大或表单无法读取（不超过 16 MiB）"
		s.renderExchange(w, r, http.StatusUnprocessableEntity, d)
		return
	}
	defer r.MultipartForm.RemoveAll()
	f, _, err := r.FormFile("file")
	if err != nil {
		d.Err = "请选择要导入的 xlsx 文件"
		s.renderExchange(w, r, http.StatusUnprocessableEntity, d)
		return
	}
	defer f.Close()
	res, err := exchange.Import(r.Context(), kind, p, f)
	var e *errs.Error
	switch {
	case errors.As(err, &d.Refused):
		s.renderExchange(w, r, http.StatusUnprocessableEntity, d)
	case errors.As(err, &e) && e.Kind != errs.Internal:
		d.Err = e.Message
		s.renderExchange(w, r, statusOf(e.Kind), d)
	case err != nil:
		s.fail(w, r, err)
	default:
		d.Result = &res
		s.renderExchange(w, r, http.StatusOK, d)
	}
}
