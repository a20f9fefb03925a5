package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"wufei/internal/calendar"
	"wufei/internal/catalog"

	"rsc.io/qr"

	"wufei/internal/auth"
	"wufei/internal/errs"
)

// This file holds what the hazardous-waste pages share: the one-time flash
// message after an action, the errors a refused form shows beside its
// fields, form parsing, times and the QR code.

// flashCookie carries a message key across the redirect that follows a
// successful action (post/redirect/get), so a reload does not repeat it.
const flashCookie = "wufei_flash"

var flashRe = regexp.MustCompile(`^[a-z_]+\.[a-z_.]+$`)

// done redirects after a successful action, with a message for the page it
// lands on.
func (s *server) done(w http.ResponseWriter, r *http.Request, to, flashKey string) {
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: flashKey, Path: "/", MaxAge: 60, HttpOnly: true,
		Secure: s.SecureCookie, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// flash returns the pending message key, once. Only a well-formed key is
// accepted, so the cookie cannot carry text of its own onto the page.
func (s *server) flash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.SecureCookie,
		SameSite: http.SameSiteLaxMode})
	if !flashRe.MatchString(c.Value) {
		return ""
	}
	return c.Value
}

// formError is what a refused form or action shows: the service's message
// on top and each field's message beside the field.
type formError struct {
	Message string
	Fields  []errs.FieldError
}

// Any reports whether there is an error to show.
func (e formError) Any() bool { return e.Message != "" || len(e.Fields) > 0 }

// Field is the message for one field path, or "".
func (e formError) Field(path string) string {
	for _, f := range e.Fields {
		if f.Field == path {
			return f.Message
		}
	}
	return ""
}

// Under is the first message for a field path or anything below it
// ("lines[0]" matches "lines[0].waste_code" and "lines[0].container_ids[1]").
func (e formError) Under(prefix string) string {
	for _, f := range e.Fields {
		if f.Field == prefix || strings.HasPrefix(f.Field, prefix+".") || strings.HasPrefix(f.Field, prefix+"[") {
			return f.Message
		}
	}
	return ""
}

// ID is the element id of a field path, for the summary's links.
func (e formError) ID(path string) string { return fieldID(path) }

var (
	fieldIDRe  = regexp.MustCompile(`[^a-z0-9_]+`)
	itemPathRe = regexp.MustCompile(`\.[a-z_]+(\[[0-9]+\])$`)
)

// fieldID turns a field path into an element id: lines[0].waste_code →
// f-lines-0-waste_code. One item of a list typed in one box
// (lines[0].container_ids[2]) is that box.
func fieldID(path string) string {
	if m := itemPathRe.FindStringSubmatchIndex(path); m != nil {
		path = path[:m[2]]
	}
	return "f-" + strings.Trim(fieldIDRe.ReplaceAllString(path, "-"), "-")
}

// userError turns what the service refused into a formError and its status.
// Anything else (not found, internal) is not the form's to show.
func userError(err error) (formError, int, bool) {
	var e *errs.Error
	if !errors.As(err, &e) {
		return formError{}, 0, false
	}
	switch e.Kind {
	case errs.Invalid, errs.Conflict, errs.Forbidden:
	default:
		return formError{}, 0, false
	}
	return formError{Message: e.Message, Fields: e.Fields}, statusOf(e.Kind), true
}

// remapRows renames the list items the service was sent (list[k]) to the
// form rows they came from, since the form skips its empty rows.
func (e formError) remapRows(list string, rowOf []int) {
	prefix := list + "["
	for i, f := range e.Fields {
		rest, ok := strings.CutPrefix(f.Field, prefix)
		if !ok {
			continue
		}
		end := strings.IndexByte(rest, ']')
		k, err := strconv.Atoi(rest[:max(end, 0)])
		if end < 0 || err != nil || k >= len(rowOf) {
			continue
		}
		e.Fields[i].Field = prefix + strconv.Itoa(rowOf[k]) + rest[end:]
	}
}

// parseTonnes reads an optional decimal quantity (tonnes, litres) from a form.
// A value that is not a number is a field error under field.
func parseTonnes(v *errs.Validation, field, s string) *float64 {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		v.Add(field, "number", "请填写不小于 0 的数字")
		return nil
	}
	return &f
}

// parseCount reads an optional whole number from a form.
func parseCount(v *errs.Validation, field, s string) int {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		v.Add(field, "number", "请填写整数")
		return 0
	}
	return n
}

// splitIDs reads a list typed or pasted into one box: commas, spaces and
// line breaks separate.
func splitIDs(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == '，' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t'
	})
}

// formValue returns the i-th value of a repeated form field, or "".
func formValue(r *http.Request, name string, i int) string {
	if vs := r.PostForm[name]; i < len(vs) {
		return strings.TrimSpace(vs[i])
	}
	return ""
}

// postVersion reads the version a form carries; without one the service
// skips its check (the status check still applies).
func postVersion(r *http.Request) int64 {
	n, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	return max(n, 0)
}

// minute formats a time to the minute in China Standard Time.
func minute(t time.Time) string { return t.In(calendar.Zone).Format("2006-01-02 15:04") }

// minuteOf is minute for an optional time.
func minuteOf(t *time.Time) string {
	if t == nil {
		return ""
	}
	return minute(*t)
}

// signer reports whether p works for a unit and may sign for it; drivers
// only carry.
func signer(p auth.Principal) bool {
	return p.UnitID != "" && (p.Role == auth.UnitAdmin || p.Role == auth.UnitMember)
}

// regulates reports whether p oversees units rather than working for one.
func regulates(p auth.Principal) bool { return p.Role == auth.Admin || p.Role == auth.Regulator }

// qrSVG draws text as a QR code in inline SVG, one path, with the quiet
// zone the standard asks for, so it prints sharp at any size.
func qrSVG(text, label string) (template.HTML, error) {
	c, err := qr.Encode(text, qr.M)
	if err != nil {
		return "", err
	}
	const quiet = 4
	n := c.Size + 2*quiet
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" class="qr" role="img" aria-label="%s" shape-rendering="crispEdges">`,
		n, n, template.HTMLEscapeString(label))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y := range c.Size {
		for x := range c.Size {
			if c.Black(x, y) {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	b.WriteString(`"/></svg>`)
	return template.HTML(b.String()), nil // built here from numbers and escaped text
}

// wasteCodes is the whole catalogue, for the code datalists of the forms.
func (s *server) wasteCodes(ctx context.Context) ([]catalog.WasteCode, error) {
	var all []catalog.WasteCode
	after := ""
	for {
		page, next, err := catalog.ListWasteCodes(ctx, s.DB.Reader(), catalog.Filter{Limit: catalog.MaxLimit, After: after})
		if err != nil || next == "" {
			return append(all, page...), err
		}
		all, after = append(all, page...), next
	}
}
