package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"wufei/internal/demo"
	"wufei/internal/hw/ledger"
	"wufei/internal/hw/manifest"
	"wufei/internal/hw/plan"
	"wufei/internal/registry"
	"wufei/internal/server"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
	"wufei/internal/streams/agri"
	"wufei/internal/streams/construction"
	"wufei/internal/streams/household"
	"wufei/internal/streams/industrial"
	"wufei/internal/streams/medical"
	streamsheet "wufei/internal/streams/sheet"
	"wufei/internal/streams/sludge"
)

// The access-control matrix: every route the live server registers is asked
// by every role, about an object of the caller's own unit, of another unit
// in the same region and of another region, and each answer is held against
// the written policy in testdata/access-policy.txt (docs/access-policy.md
// explains it). A route without a policy line fails, and so does a line
// whose route is gone.

const policyFile = "testdata/access-policy.txt"

// accessRoles are the policy's columns, in order, and the accounts that play
// them: the demo's admin, city-wide and 相山区 regulators and gen2's unit
// admin; the member, driver and viewer are made for the test. The own unit
// is gen2's, in 相山区.
var accessRoles = []struct{ name, user string }{
	{"anon", ""}, {"admin", "admin"}, {"city", "sthjj"}, {"county", "xsq"}, {"uadmin", "gen2"},
	{"member", "acl-member"}, {"driver", "acl-driver"}, {"viewer", "acl-viewer"},
}

// accessRelations are how an object stands to the caller: the own unit's,
// another unit's in the own unit's region, or a unit's in another region.
var accessRelations = []string{"own", "other", "far"}

// fixedKinds are what a route names that belongs to no unit, so one of each
// is asked about: the programme's indicators and tasks, and the requests
// made a way of their own — a fresh session to sign out of, the role's own
// credentials to sign in with, a workbook to import.
var fixedKinds = map[string]bool{"indicator": true, "task": true, "milestone": true, "task-evidence": true,
	"session": true, "login": true, "workbook": true}

var policyOutcomes = map[string]bool{"ok": true, "login": true, "401": true, "403": true, "404": true, "409": true,
	"422": true}

// policyRule is one line of the policy: a route, the kind of object its
// path or body names, and for each role the outcome for each relation.
type policyRule struct {
	line   int
	route  string            // method and pattern as registered; ANY where the pattern has no method
	object string            // fixture kind, "" for none
	params map[string]string // literal path values
	expect [][3]string       // by role, then relation
}

func (r *policyRule) relational() bool { return r.object != "" && !fixedKinds[r.object] }

// policyCell expands a cell into the outcomes for own, other and far.
func policyCell(s string) ([3]string, error) {
	switch s {
	case "own":
		return [3]string{"ok", "404", "404"}, nil
	case "region":
		return [3]string{"ok", "ok", "404"}, nil
	}
	parts := strings.Split(s, "/")
	if len(parts) == 1 {
		parts = []string{s, s, s}
	}
	if len(parts) != 3 {
		return [3]string{}, fmt.Errorf("cell %q: want one outcome or own/other/far", s)
	}
	for _, p := range parts {
		if !policyOutcomes[p] {
			return [3]string{}, fmt.Errorf("cell %q: unknown outcome %q", s, p)
		}
	}
	return [3]string(parts), nil
}

func readPolicy(t *testing.T) map[string]*policyRule {
	t.Helper()
	f, err := os.Open(policyFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rules := map[string]*policyRule{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fs := strings.Fields(line)
		if len(fs) == 0 {
			continue
		}
		if len(fs) != 3+len(accessRoles) {
			t.Fatalf("%s:%d: want method, pattern, object and %d roles, got %d fields", policyFile, n, len(accessRoles), len(fs))
		}
		r := &policyRule{line: n, route: fs[0] + " " + fs[1], params: map[string]string{}}
		for i, kv := range strings.Split(fs[2], ",") {
			k, v, ok := strings.Cut(kv, "=")
			switch {
			case ok:
				r.params[k] = v
			case i == 0 && kv != "-":
				r.object = kv
			case kv != "-":
				t.Fatalf("%s:%d: object %q: the kind comes first, then name=value", policyFile, n, fs[2])
			}
		}
		for _, c := range fs[3:] {
			e, err := policyCell(c)
			if err != nil {
				t.Fatalf("%s:%d: %v", policyFile, n, err)
			}
			if !r.relational() && (e[0] != e[1] || e[1] != e[2]) {
				t.Fatalf("%s:%d: %q: a route without a unit's object has one outcome per role", policyFile, n, c)
			}
			r.expect = append(r.expect, e)
		}
		if prev, ok := rules[r.route]; ok {
			t.Fatalf("%s:%d: %s again (first at line %d)", policyFile, n, r.route, prev.line)
		}
		rules[r.route] = r
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rules
}

// TestAccessMatrix checks every route × role × relation against the policy.
func TestAccessMatrix(t *testing.T) {
	rules := readPolicy(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		app, err := server.New(context.Background(), db, server.Config{Demo: true, DemoUnits: demo.ActivityMinUnits,
			Version: "test", KeyFile: filepath.Join(t.TempDir(), "audit.key")})
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(app.Handler)
		t.Cleanup(ts.Close)
		m := &matrix{t: t, db: db, base: ts.URL}
		m.openapi = m.document()
		live := m.liveRoutes(app.Routes())
		if !covered(t, rules, live) {
			return
		}
		m.signIn()
		m.raiseAlerts()
		m.findFixtures()
		m.makeFixtures()
		requests, missing := 0, 0
		for _, route := range live {
			r, s := m.check(rules[route])
			requests, missing = requests+r, missing+s
		}
		t.Logf("%d endpoints × %d roles × up to %d relations = %d requests checked", len(live), len(accessRoles),
			len(accessRelations), requests)
		if missing > 0 {
			t.Logf("%d role × relation cases have no object to ask about: a county's stream record has no own unit, "+
				"the own unit (a generator) no vehicle or licence, a county's indicator value no other unit", missing)
		}
	})
}

// matrix is one run of the matrix against a server.
type matrix struct {
	t       *testing.T
	db      *store.DB
	base    string
	openapi map[string]any
	tokens  []string // by role; "" for anonymous
	units   struct{ own, other, far, region, farRegion string }
	fx      map[string]fixture // by kind
	book    map[string][]byte  // import templates, by kind
}

// fixture holds, for each relation, the values of a request: its path
// wildcards by name and, for a write, fields of its body or form.
type fixture [3]map[string]string

func (m *matrix) document() map[string]any {
	res, err := http.Get(m.base + "/openapi.json")
	if err != nil {
		m.t.Fatal(err)
	}
	defer res.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		m.t.Fatal(err)
	}
	return doc
}

// liveRoutes is the server's own list of its routes, as the policy names
// them; it must hold every operation of the OpenAPI document.
func (m *matrix) liveRoutes(patterns []string) []string {
	var live []string
	for _, p := range patterns {
		k := p
		if strings.HasPrefix(p, "/") {
			k = "ANY " + p
		}
		if slices.Contains(live, k) {
			m.t.Errorf("route %s registered twice", k)
		}
		live = append(live, k)
	}
	for path, item := range m.openapi["paths"].(map[string]any) {
		for method := range item.(map[string]any) {
			if k := strings.ToUpper(method) + " " + path; !slices.Contains(live, k) {
				m.t.Errorf("OpenAPI operation %s is not among the server's routes", k)
			}
		}
	}
	return live
}

// covered reports whether the policy and the live routes name the same set.
func covered(t *testing.T, rules map[string]*policyRule, live []string) bool {
	ok := true
	for _, r := range live {
		if rules[r] == nil {
			t.Errorf("route %s has no line in %s", r, policyFile)
			ok = false
		}
	}
	for k, r := range rules {
		if !slices.Contains(live, k) {
			t.Errorf("%s:%d: %s is not a route of the server", policyFile, r.line, k)
			ok = false
		}
	}
	return ok
}

// raiseAlerts runs the time-based rules a year ahead, as the scheduler will,
// so that alerts stand in every county and the matrix has one in each
// relation.
func (m *matrix) raiseAlerts() {
	for _, check := range []func(context.Context, *store.DB, time.Time) (int, error){manifest.CheckOverdue,
		ledger.CheckStorage, plan.CheckDue} {
		if _, err := check(context.Background(), m.db, time.Now().AddDate(1, 0, 0)); err != nil {
			m.t.Fatal(err)
		}
	}
}

// signIn logs every role in. The own unit's admin makes its member and
// driver; the admin makes the viewer.
func (m *matrix) signIn() {
	m.tokens = make([]string, len(accessRoles))
	var unit string
	m.get(&unit, `SELECT unit_id FROM users WHERE username = 'gen2'`)
	for i, r := range accessRoles {
		switch r.name {
		case "anon":
			continue
		case "member", "driver":
			role := map[string]string{"member": "unit_member", "driver": "driver"}[r.name]
			m.must(m.role("uadmin"), "POST", "/api/v1/users", map[string]any{"username": r.user,
				"password": demo.Password, "role": role, "unit_id": unit})
		case "viewer":
			m.must(m.role("admin"), "POST", "/api/v1/users", map[string]any{"username": r.user,
				"password": demo.Password, "role": "viewer"})
		}
		m.tokens[i] = m.login(r.user)
	}
}

// role returns the session of a role signed in.
func (m *matrix) role(name string) string {
	return m.tokens[slices.IndexFunc(accessRoles, func(r struct{ name, user string }) bool { return r.name == name })]
}

func (m *matrix) login(user string) string {
	var s struct{ Token string }
	m.decode(m.must("", "POST", "/api/v1/auth/login", map[string]string{"username": user, "password": demo.Password}), &s)
	return s.Token
}

// call makes an API request with a JSON body.
func (m *matrix) call(token, method, path string, body any) (int, []byte) {
	m.t.Helper()
	var r io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		r = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, m.base+path, r)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		m.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// must makes an API request that has to succeed.
func (m *matrix) must(token, method, path string, body any) []byte {
	m.t.Helper()
	st, b := m.call(token, method, path, body)
	if st >= 300 {
		m.t.Fatalf("%s %s: %d %s", method, path, st, b)
	}
	return b
}

func (m *matrix) decode(b []byte, v any) {
	m.t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		m.t.Fatalf("%v: %s", err, b)
	}
}

func (m *matrix) get(dest any, q string, args ...any) {
	m.t.Helper()
	if err := store.Get(context.Background(), m.db.Reader(), dest, q, args...); err != nil {
		m.t.Fatalf("%s: %v", q, err)
	}
}

// first returns the first column of the first row, or "" for none.
func (m *matrix) first(q string, args ...any) string {
	m.t.Helper()
	var out []string
	if err := store.Select(context.Background(), m.db.Reader(), &out, q+` LIMIT 1`, args...); err != nil {
		m.t.Fatalf("%s: %v", q, err)
	}
	if len(out) == 0 {
		return ""
	}
	return out[0]
}

// auditHead is the sequence number of the latest audit entry: a write that
// is refused must leave it where it was.
func (m *matrix) auditHead() int64 {
	var n int64
	m.get(&n, `SELECT COALESCE(MAX(seq), 0) FROM audit_entries`)
	return n
}

// check asks one route of every role in every relation; it returns the
// number of requests made and of cases the data has no object for.
func (m *matrix) check(r *policyRule) (requests, missing int) {
	for ri := range accessRoles {
		for rel := range accessRelations {
			if !r.relational() && rel > 0 {
				break
			}
			if m.ask(r, ri, rel) {
				requests++
			} else {
				missing++
			}
		}
	}
	return requests, missing
}

// ask makes one request of the matrix and holds its answer to the policy;
// it reports false if no object stands in the relation.
func (m *matrix) ask(r *policyRule, ri, rel int) bool {
	method, pattern, _ := strings.Cut(r.route, " ")
	role, relation := accessRoles[ri], accessRelations[rel]
	values := map[string]string{}
	if r.object != "" {
		fx, ok := m.fx[r.object]
		if !ok {
			m.t.Fatalf("%s:%d: no objects of kind %q", policyFile, r.line, r.object)
		}
		if fx[rel] == nil {
			return false
		}
		maps.Copy(values, fx[rel])
	}
	maps.Copy(values, r.params)
	if !r.relational() {
		relation = "-"
	}
	path, err := fillPath(pattern, values)
	if err != nil {
		m.t.Fatalf("%s:%d: %v", policyFile, r.line, err)
	}
	token := m.tokens[ri]
	if r.object == "session" && token != "" { // signing out ends the session it is made with
		token = m.login(role.user)
	}
	want := r.expect[ri][rel]
	before := m.auditHead()
	st, loc, detail := m.request(r, role.user, token, method, pattern, path, values)
	got := accessOutcome(st, loc)
	switch { // a refusal of the request rather than of the caller, where the policy says so
	case want == "422" && (st == http.StatusBadRequest || st == http.StatusUnprocessableEntity),
		want == "409" && st == http.StatusConflict:
		got = want
	}
	where := fmt.Sprintf("%s:%d: %s %s as %s (%s)", policyFile, r.line, method, path, role.name, relation)
	switch {
	case st >= 500:
		m.t.Errorf("%s: %d %s", where, st, detail)
	case got != want:
		m.t.Errorf("%s: %s (%s), policy says %s", where, got, strings.TrimSpace(strconv.Itoa(st)+" "+detail), want)
	case method != http.MethodGet && want != "ok" && m.auditHead() != before:
		m.t.Errorf("%s: refused, yet the audit log grew", where)
	}
	return true
}

// accessOutcome is the policy's word for an answer: refusals by their
// status, a page's redirect to the log-in, and anything else that is not a
// refusal "ok" — for a write, a 400, 409 or 422 about its made-up body too.
func accessOutcome(status int, location string) string {
	switch {
	case status >= 300 && status < 400 && strings.HasPrefix(location, "/login"):
		return "login"
	case status == http.StatusUnauthorized, status == http.StatusForbidden, status == http.StatusNotFound:
		return strconv.Itoa(status)
	}
	return "ok"
}

var patternWildcard = regexp.MustCompile(`\{([a-z_]*|\$)(\.\.\.)?\}`)

// fillPath puts values into a pattern's wildcards; a pattern ending in a
// slash matches any path below it and takes the value "rest".
func fillPath(pattern string, values map[string]string) (string, error) {
	var missing []string
	path := patternWildcard.ReplaceAllStringFunc(pattern, func(w string) string {
		name := patternWildcard.FindStringSubmatch(w)[1]
		if name == "$" {
			return ""
		}
		v, ok := values[name]
		if !ok {
			missing = append(missing, name)
		}
		return url.PathEscape(v)
	})
	if strings.HasSuffix(path, "/") {
		path += values["rest"]
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("%s: no value for %s", pattern, strings.Join(missing, ", "))
	}
	return path, nil
}

// request sends one request of the matrix: to the API with a bearer token,
// to a page with the session cookie. It returns the status, the redirect
// and a problem's code.
func (m *matrix) request(r *policyRule, user, token, method, pattern, path string, values map[string]string) (int, string, string) {
	api := strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/openapi")
	var body []byte
	var ct string
	switch {
	case method == http.MethodGet || method == "ANY":
		method = http.MethodGet
	case api:
		body, ct = m.apiBody(r, user, pattern, method, values)
	default:
		body, ct = m.form(r, user, values)
	}
	req, _ := http.NewRequest(method, m.base+path, bytes.NewReader(body))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		if api {
			req.Header.Set("Authorization", "Bearer "+token)
		} else {
			req.AddCookie(&http.Cookie{Name: server.SessionCookie, Value: token})
		}
	}
	res, err := noRedirect.Do(req)
	if err != nil {
		m.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var p struct{ Code string }
	_ = json.Unmarshal(b, &p)
	return res.StatusCode, res.Header.Get("Location"), p.Code
}

// credentials are what a log-in sends: the role's own, and for anonymous a
// password that is wrong.
func credentials(user string) (string, string) {
	if user == "" {
		return "admin", "not-the-password"
	}
	return user, demo.Password
}

// apiBody makes an operation's body: from its schema, the required
// properties with the least values it accepts, so that the request passes
// validation and reaches the rule the matrix asks about; with the object's
// fields where the schema has them. A file upload sends a workbook or a PDF.
func (m *matrix) apiBody(r *policyRule, user, pattern, method string, values map[string]string) ([]byte, string) {
	op, _ := m.openapi["paths"].(map[string]any)[pattern].(map[string]any)[strings.ToLower(method)].(map[string]any)
	rb, _ := op["requestBody"].(map[string]any)
	content, _ := rb["content"].(map[string]any)
	if r.object == "login" {
		u, p := credentials(user)
		b, _ := json.Marshal(map[string]string{"username": u, "password": p})
		return b, "application/json"
	}
	if _, ok := content["multipart/form-data"]; ok {
		return m.upload(r, values, nil)
	}
	js, ok := content["application/json"].(map[string]any)
	if !ok {
		return nil, ""
	}
	body := m.sample(js["schema"], 0)
	if obj, ok := body.(map[string]any); ok {
		props, _ := m.resolve(js["schema"])["properties"].(map[string]any)
		for k, v := range values {
			if _, ok := props[k]; ok && !strings.Contains(pattern, "{"+k+"}") {
				obj[k] = v
			}
		}
		if rec, ok := values["_json"]; ok { // a whole record to create, typed
			m.decode([]byte(rec), &obj)
		}
	}
	b, _ := json.Marshal(body)
	return b, "application/json"
}

// form makes a page's form: the object's fields, the role's credentials
// for the log-in, a workbook for an import.
func (m *matrix) form(r *policyRule, user string, values map[string]string) ([]byte, string) {
	f := url.Values{}
	for k, v := range formDefaults {
		f.Set(k, v)
	}
	for k, v := range values {
		if k != "_json" {
			f.Set(k, v)
		}
	}
	switch r.object {
	case "login":
		u, p := credentials(user)
		f.Set("username", u)
		f.Set("password", p)
	case "workbook":
		return m.upload(r, values, f)
	}
	return []byte(f.Encode()), "application/x-www-form-urlencoded"
}

// upload makes a multipart body with a file under "file": the import
// template of the kind for a workbook, a small PDF for evidence.
func (m *matrix) upload(r *policyRule, values map[string]string, fields url.Values) ([]byte, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, vs := range fields {
		for _, v := range vs {
			_ = w.WriteField(k, v)
		}
	}
	name, content := "evidence.pdf", minimalPDF
	if r.object == "workbook" {
		name, content = values["kind"]+".xlsx", m.book[values["kind"]]
		if content == nil {
			m.t.Fatalf("%s:%d: no import template for %q", policyFile, r.line, values["kind"])
		}
	}
	part, _ := w.CreateFormFile("file", name)
	_, _ = part.Write(content)
	w.Close()
	return b.Bytes(), w.FormDataContentType()
}

// formDefaults fill the fields the pages' forms have in common, with values
// a form accepts, so that a post reaches the rule the matrix asks about; a
// version no record has makes an allowed change a conflict that changes
// nothing.
var formDefaults = map[string]string{"version": "999999", "year": "2025", "period": "2025", "name": "无废试点",
	"type": "school", "value": "1", "comment": "核查", "percent": "10", "text": "进展", "reason": "核查",
	"waste_code": "900-249-08", "form": "液态", "packaging": "桶", "quantity_t": "1", "count": "1",
	"reduction_measures": "减量措施", "note": "核查"}

// propertySamples are values of body properties by name: a version no
// record has, so that an allowed change is a conflict and changes nothing;
// periods in the form the services read.
var propertySamples = map[string]any{"version": 999999, "period": "2025", "type": "school"}

// patternSamples are values for the patterns of request schemas.
var patternSamples = map[string]string{
	`^[0-9]{2}-[0-9]{2}$`:          "03-31",
	`^[0-9]{4}-[0-9]{2}$`:          "2025-06",
	`^[0-9]{3}-[0-9]{3}-[0-9]{2}$`: "900-249-08",
	`^HW[0-9]{2}$`:                 "HW08",
	`^[a-zA-Z0-9_.-]+$`:            "acl-probe",
}

func (m *matrix) resolve(s any) map[string]any {
	sch, _ := s.(map[string]any)
	for sch["$ref"] != nil {
		name := strings.TrimPrefix(sch["$ref"].(string), "#/components/schemas/")
		sch, _ = m.openapi["components"].(map[string]any)["schemas"].(map[string]any)[name].(map[string]any)
	}
	return sch
}

// sample is the least value a schema accepts.
func (m *matrix) sample(s any, depth int) any {
	sch := m.resolve(s)
	if e, ok := sch["enum"].([]any); ok && len(e) > 0 {
		return e[0]
	}
	typ, _ := sch["type"].(string)
	if ts, ok := sch["type"].([]any); ok { // ["string", "null"]
		for _, x := range ts {
			if x != "null" {
				typ, _ = x.(string)
			}
		}
	}
	switch {
	case depth > 8:
		return nil
	case typ == "object":
		out := map[string]any{}
		props, _ := sch["properties"].(map[string]any)
		req, _ := sch["required"].([]any)
		for _, k := range req {
			out[k.(string)] = m.sample(props[k.(string)], depth+1)
		}
		for k, v := range propertySamples {
			if p, ok := props[k]; ok {
				if e, ok := m.resolve(p)["enum"].([]any); !ok || slices.Contains(e, v) {
					out[k] = v
				}
			}
		}
		return out
	case typ == "array":
		n, _ := sch["minItems"].(float64)
		out := []any{}
		for range int(n) {
			out = append(out, m.sample(sch["items"], depth+1))
		}
		return out
	case typ == "integer", typ == "number":
		v, _ := sch["minimum"].(float64)
		if top, ok := sch["maximum"].(float64); v < 1 && (!ok || top >= 1) {
			v = 1
		}
		return v
	case typ == "boolean":
		return false
	case typ == "string":
		if p, ok := sch["pattern"].(string); ok {
			v, ok := patternSamples[p]
			if !ok {
				m.t.Fatalf("no sample value for the pattern %s", p)
			}
			return v
		}
		switch sch["format"] {
		case "date":
			return "2025-06-01"
		case "date-time":
			return "2025-06-01T08:00:00+08:00"
		}
		n, _ := sch["minLength"].(float64)
		return strings.Repeat("x", max(int(n), 1))
	}
	return nil
}

// findFixtures picks from the demo's year of activity, for every kind of
// object a route names, one of the own unit's, one of another unit in the
// own unit's region and one of another region.
func (m *matrix) findFixtures() {
	u := &m.units
	m.get(&u.own, `SELECT unit_id FROM users WHERE username = 'gen2'`)
	m.get(&u.region, `SELECT region_code FROM units WHERE id = ?`, u.own)
	m.get(&u.far, `SELECT unit_id FROM users WHERE username = 'gen'`)
	m.get(&u.farRegion, `SELECT region_code FROM units WHERE id = ?`, u.far)
	// Another generator of the region with an account: of those, the one
	// with most manifests.
	u.other = m.first(`SELECT u.id FROM units u WHERE u.region_code = ? AND u.id <> ? AND NOT EXISTS (SELECT 1
		FROM unit_roles r WHERE r.unit_id = u.id AND r.role <> 'generator') AND EXISTS (SELECT 1 FROM users a
		WHERE a.unit_id = u.id AND a.role = 'unit_admin') ORDER BY (SELECT count(*) FROM manifests m
		WHERE m.consignor_unit_id = u.id) DESC, u.id`, u.region, u.own)
	if u.other == "" || u.region == u.farRegion {
		m.t.Fatal("the demo has no other generator in gen2's region, or gen is in it")
	}
	m.fx = map[string]fixture{"session": {{}}, "login": {{}}, "workbook": {{}}}
	id := []string{"id"}
	m.byUnit("unit", `SELECT id AS c0, uscc AS c1 FROM units WHERE id = ?`, []string{"id", "unit_uscc"})
	m.byUnit("owner", `SELECT id AS c0, uscc AS c1, region_code AS c2 FROM units WHERE id = ?`,
		[]string{"unit_id", "unit_uscc", "region_code"})
	m.byUnit("facility", `SELECT id AS c0 FROM facilities WHERE unit_id = ? ORDER BY id`, id)
	m.byUnit("plan", `SELECT id AS c0 FROM plans WHERE unit_id = ? ORDER BY id`, id)
	m.byUnit("declaration", `SELECT id AS c0 FROM declarations WHERE unit_id = ? ORDER BY id`, id)
	m.byUnit("container", `SELECT digital_id AS c0 FROM containers WHERE unit_id = ? ORDER BY digital_id`,
		[]string{"digital_id"})
	m.byUnit("audit", `SELECT seq AS c0 FROM audit_entries WHERE unit_id = ? ORDER BY seq`, []string{"seq"})
	// A manifest past its draft whose parties stand to the own unit only in
	// its relation; a draft, which is its consignor's alone.
	m.byUnit("manifest", `SELECT m.id AS c0, m.number AS c1 FROM manifests m JOIN units r ON r.id = m.receiver_unit_id
		WHERE m.consignor_unit_id = ? AND m.status <> 'draft' AND m.receiver_unit_id <> ? AND NOT EXISTS (SELECT 1
		FROM manifest_carriers c WHERE c.manifest_id = m.id AND c.carrier_unit_id = ?) AND m.receiver_region_code <> ?
		AND COALESCE(r.park_code, '') <> ? ORDER BY m.id`, []string{"id", "ref"}, u.own, u.own, u.region, u.region)
	m.byUnit("draft", `SELECT id AS c0 FROM manifests WHERE consignor_unit_id = ? AND status = 'draft' ORDER BY id`, id)
	// Alerts: one naming the own unit, one of the region that does not, one
	// of another region.
	notOwn := `NOT EXISTS (SELECT 1 FROM alert_parties p WHERE p.alert_id = a.id AND p.unit_id = ?)`
	m.fx["alert"] = fixture{
		{"id": m.first(`SELECT a.id FROM alerts a JOIN alert_parties p ON p.alert_id = a.id AND p.unit_id = ?
			ORDER BY a.id`, u.own)},
		{"id": m.first(`SELECT a.id FROM alerts a WHERE a.region_code = ? AND `+notOwn+` ORDER BY a.id`, u.region, u.own)},
		{"id": m.first(`SELECT a.id FROM alerts a WHERE a.region_code = ? AND `+notOwn+` ORDER BY a.id`, u.farRegion, u.own)},
	}
	// The programme's indicators and tasks belong to no unit.
	m.fx["indicator"] = fixture{{"id": m.first(`SELECT id FROM indicators ORDER BY position, id`)}}
	task := m.first(`SELECT t.id FROM tasks t WHERE EXISTS (SELECT 1 FROM task_reports r WHERE r.task_id = t.id
		AND r.department_code = 'sthjj') AND EXISTS (SELECT 1 FROM task_milestones s WHERE s.task_id = t.id)
		ORDER BY t.position, t.id`)
	report := m.first(`SELECT id FROM task_reports WHERE task_id = ? AND department_code = 'sthjj' ORDER BY id`, task)
	milestone := m.first(`SELECT id FROM task_milestones WHERE task_id = ? ORDER BY id`, task)
	m.fx["task"] = fixture{{"id": task, "item": report, "rid": report}}
	m.fx["milestone"] = fixture{{"id": task, "item": milestone, "mid": milestone}}
	// The other streams' records: of the own unit, of the region and of
	// another region.
	in := `(t.region_code = ? OR t.region_code IN (SELECT code FROM regions WHERE parent_code = ?)
		OR t.unit_id IN (SELECT id FROM units WHERE park_code = ?))`
	for _, s := range m.sheets() {
		tab := s.Spec.Table
		m.fx[s.Spec.Name] = fixture{
			{"id": m.first(`SELECT t.id FROM `+tab+` t WHERE t.unit_id = ? ORDER BY t.id`, u.own)},
			{"id": m.first(`SELECT t.id FROM `+tab+` t WHERE t.unit_id <> ? AND `+in+` ORDER BY t.id`, u.own,
				u.region, u.region, u.region)},
			{"id": m.first(`SELECT t.id FROM `+tab+` t WHERE t.unit_id <> ? AND NOT `+in+` ORDER BY t.id`, u.own,
				u.region, u.region, u.region)},
		}
	}
	for kind, fx := range m.fx { // a relation the data has no object in
		for i := range fx {
			if slices.Contains(slices.Collect(maps.Values(fx[i])), "") {
				fx[i] = nil
			}
		}
		m.fx[kind] = fx
	}
}

// byUnit fills a kind from a query over a unit's rows, for the unit of each
// relation: the first row's columns c0, c1 … under the names given. The
// unit is the query's first argument.
func (m *matrix) byUnit(kind, q string, names []string, args ...any) {
	var fx fixture
	for i := range fx {
		var rows []struct {
			C0 string  `db:"c0"`
			C1 *string `db:"c1"`
			C2 *string `db:"c2"`
		}
		if err := store.Select(context.Background(), m.db.Reader(), &rows, q+` LIMIT 1`,
			append([]any{m.unitOf(i)}, args...)...); err != nil {
			m.t.Fatalf("%s: %v", q, err)
		}
		if len(rows) == 0 {
			continue
		}
		fx[i] = map[string]string{}
		for j, v := range []*string{&rows[0].C0, rows[0].C1, rows[0].C2}[:len(names)] {
			fx[i][names[j]] = *v
		}
	}
	m.fx[kind] = fx
}

// unitOf is the unit of a relation: the own, the other in its region, the
// one of another region.
func (m *matrix) unitOf(rel int) string {
	return [3]string{m.units.own, m.units.other, m.units.far}[rel]
}

// as returns a session of a unit's admin account.
func (m *matrix) as(unit string) string {
	var user string
	m.get(&user, `SELECT username FROM users WHERE unit_id = ? AND role = 'unit_admin' ORDER BY username LIMIT 1`, unit)
	return m.login(user)
}

func (m *matrix) sheets() []*streamsheet.Service {
	return slices.Concat(industrial.Sheets(m.db), sludge.Sheets(m.db), construction.Sheets(m.db),
		medical.Sheets(m.db), agri.Sheets(m.db), household.Sheets(m.db))
}

// makeFixtures adds through the API what the demo lacks.
func (m *matrix) makeFixtures() {
	m.makeRegistry()
	m.makeTransfers()
	m.makeManifests()
	m.makeProgramme()
	m.makeStreams()
	m.book = map[string][]byte{} // the import templates, for the import routes' uploads
	for _, kind := range []string{"hw_ledger"} {
		req, _ := http.NewRequest("GET", m.base+"/api/v1/import/templates/"+kind+".xlsx", nil)
		req.Header.Set("Authorization", "Bearer "+m.role("admin"))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			m.t.Fatal(err)
		}
		m.book[kind], _ = io.ReadAll(res.Body)
		res.Body.Close()
	}
}

// makeRegistry registers a carrier and collector beside the own unit, with
// a vehicle and a licence, so that vehicles and licences have another unit
// of the region; the demo's are of other regions. The own unit, a
// generator, has neither.
func (m *matrix) makeRegistry() {
	admin, region := m.role("admin"), m.units.region
	var unit, vehicle, licence struct{ ID string }
	m.decode(m.must(admin, "POST", "/api/v1/units", map[string]any{
		"uscc": registry.MakeUSCC("91", region, "MA2ACL01"), "name": "淮北市相山区安途环保运输有限公司",
		"roles": []string{"carrier", "collector"}, "region_code": region, "address": "相山区",
		"contact_name": "周工", "contact_phone": "0561-3000001"}), &unit)
	m.decode(m.must(admin, "POST", "/api/v1/vehicles", map[string]any{"unit_id": unit.ID, "plate": "皖F7C301",
		"permit_no": "皖交运管许可淮字340603000901号", "kind": "厢式货车", "capacity_t": 8}), &vehicle)
	m.decode(m.must(admin, "POST", "/api/v1/licences", map[string]any{"unit_id": unit.ID,
		"number": "皖危废收许字3406030901号", "issuer": "淮北市生态环境局", "kinds": []string{"collect", "store"},
		"capacity_t": 500, "valid_from": "2025-01-01T00:00:00+08:00", "valid_to": "2029-12-31T00:00:00+08:00",
		"scopes": []map[string]string{{"category": "HW08"}}}), &licence)
	m.fx["vehicle"] = fixture{nil, {"id": vehicle.ID}, {"id": m.first(`SELECT v.id FROM vehicles v
		JOIN units u ON u.id = v.unit_id WHERE u.region_code <> ? ORDER BY v.id`, region)}}
	m.fx["licence"] = fixture{nil, {"id": licence.ID}, {"id": m.first(`SELECT l.id FROM licences l
		JOIN units u ON u.id = l.unit_id WHERE u.region_code <> ? AND u.region_code LIKE '3406%' ORDER BY l.id`, region)}}
}

// makeTransfers grants each unit a cross-province approval and a
// whitelisted route to the demo's receiver in Jiangsu.
func (m *matrix) makeTransfers() {
	var jiangsu string
	m.get(&jiangsu, `SELECT id FROM units WHERE region_code NOT LIKE '34%' ORDER BY id LIMIT 1`)
	var ap, wl, to fixture
	for i := range ap {
		var a, w struct{ ID string }
		m.decode(m.must(m.role("admin"), "POST", "/api/v1/approvals", map[string]any{
			"number": fmt.Sprintf("皖环危转字〔2026〕9%02d号", i), "consignor_unit_id": m.unitOf(i),
			"receiver_unit_id": jiangsu, "method": "R9", "valid_from": "2026-01-01", "valid_to": "2026-12-31",
			"items": []map[string]any{{"waste_code": "900-249-08", "quantity_t": 5}}}), &a)
		m.decode(m.must(m.role("admin"), "POST", "/api/v1/whitelist", map[string]any{"consignor_unit_id": m.unitOf(i),
			"receiver_unit_id": jiangsu, "waste_codes": []string{"900-249-08"}, "valid_from": "2026-01-01",
			"valid_to": "2026-12-31"}), &w)
		ap[i], wl[i] = map[string]string{"id": a.ID}, map[string]string{"id": w.ID}
		to[i] = map[string]string{"consignor_unit_id": m.unitOf(i), "receiver_unit_id": jiangsu}
	}
	m.fx["approval"], m.fx["whitelist"], m.fx["consignor"] = ap, wl, to
}

// makeManifests adds, for each unit, a draft where the demo has none, a
// manifest submitted and awaiting its carrier, and a revision of its
// manifest awaiting the other parties.
func (m *matrix) makeManifests() {
	drafts := m.fx["draft"]
	var submitted, revisions fixture
	for i := range drafts {
		unit := m.as(m.unitOf(i))
		if drafts[i] == nil {
			drafts[i] = map[string]string{"id": m.newManifest(unit, i)}
		}
		id := m.newManifest(unit, i)
		m.must(unit, "POST", "/api/v1/manifests/"+id+"/submit", map[string]any{"version": 1})
		submitted[i] = map[string]string{"id": id}
		mf := m.fx["manifest"][i]["id"]
		var r struct{ ID string }
		m.decode(m.must(unit, "POST", "/api/v1/manifests/"+mf+"/revisions", map[string]any{"reason": "过磅复核更正",
			"changes": map[string]any{"lines": []map[string]any{{"line_no": 1, "quantity_t": 0.5}}}}), &r)
		revisions[i] = map[string]string{"id": mf, "revision_id": r.ID}
	}
	m.fx["draft"], m.fx["submitted"], m.fx["revision"] = drafts, submitted, revisions
}

// newManifest makes a draft after the manifest of a relation: the same
// receiver, carrier and first line.
func (m *matrix) newManifest(token string, rel int) string {
	var line struct {
		Receiver  string `db:"receiver_unit_id"`
		Carrier   string `db:"carrier_unit_id"`
		Plate     string `db:"vehicle_plate"`
		WasteCode string `db:"waste_code"`
		QuantityG int64  `db:"quantity_g"`
		Form      string `db:"form"`
		Packaging string `db:"packaging"`
		Count     int    `db:"package_count"`
	}
	m.get(&line, `SELECT m.receiver_unit_id, c.carrier_unit_id, c.vehicle_plate, l.waste_code, l.quantity_g, l.form,
		l.packaging, l.package_count FROM manifests m JOIN manifest_carriers c ON c.manifest_id = m.id AND c.leg = 1
		JOIN manifest_lines l ON l.manifest_id = m.id AND l.line_no = 1 WHERE m.id = ?`, m.fx["manifest"][rel]["id"])
	var d struct{ ID string }
	m.decode(m.must(token, "POST", "/api/v1/manifests", map[string]any{"receiver_unit_id": line.Receiver,
		"carrier_unit_id": line.Carrier, "vehicle_plate": line.Plate, "lines": []map[string]any{{
			"waste_code": line.WasteCode, "quantity_t": float64(line.QuantityG) / 1e6, "form": line.Form,
			"packaging": line.Packaging, "package_count": line.Count}}}), &d)
	return d.ID
}

// makeProgramme adds a value awaiting approval for the own unit's region
// and for another, each with evidence (a value is a county's, so there is
// no other unit's); a task report with evidence; and a zero-waste school
// applied for by each unit, all of one type so that one lead department
// decides on them.
func (m *matrix) makeProgramme() {
	admin, u := m.role("admin"), m.units
	var ind string
	m.get(&ind, `SELECT id FROM indicators WHERE kind = 'reported' AND lead_department = 'sthjj'
		ORDER BY position, id LIMIT 1`)
	values, evidence := fixture{}, fixture{}
	for _, i := range []int{0, 2} {
		region := [3]string{u.region, "", u.farRegion}[i]
		var v struct{ ID string }
		m.decode(m.must(admin, "POST", "/api/v1/indicators/"+ind+"/values", map[string]any{"region": region,
			"period": "2026", "value": 12.5, "comment": "季度核查"}), &v)
		values[i] = map[string]string{"id": ind, "vid": v.ID}
		b, ct := evidenceForm([3]string{"台账汇总.pdf", "application/pdf", string(minimalPDF)})
		req, _ := http.NewRequest("POST", m.base+"/api/v1/indicators/"+ind+"/values/"+v.ID+"/evidence", bytes.NewReader(b))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+admin)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			m.t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			m.t.Fatalf("evidence: %d %s", res.StatusCode, raw)
		}
		var out struct{ Evidence []struct{ ID string } }
		m.decode(raw, &out)
		evidence[i] = map[string]string{"id": ind, "vid": v.ID, "eid": out.Evidence[0].ID}
	}
	m.fx["indicator-value"], m.fx["evidence"] = values, evidence
	m.fx["report"] = fixture{{"id": ind, "region": u.region, "period": "2025"}, nil,
		{"id": ind, "region": u.farRegion, "period": "2025"}}

	task := m.fx["task"][0]["id"]
	var rep struct {
		ID       string
		Evidence []struct{ ID string }
	}
	m.decode(m.must(m.role("city"), "POST", "/api/v1/tasks/"+task+"/reports", map[string]any{"department_code": "sthjj",
		"percent": 60, "text": "已完成年度工作的六成", "evidence": []map[string]string{{"name": "进展.pdf",
			"data": base64.StdEncoding.EncodeToString(minimalPDF)}}}), &rep)
	m.fx["task-evidence"] = fixture{{"id": task, "item": rep.ID, "evidence": rep.Evidence[0].ID}}

	var cells fixture
	for i := range cells {
		var cell struct{ ID string }
		m.decode(m.must(m.as(m.unitOf(i)), "POST", "/api/v1/cells", map[string]any{"type": "school",
			"name": fmt.Sprintf("无废学校申报（%d）", i+1)}), &cell)
		cells[i] = map[string]string{"id": cell.ID}
	}
	m.fx["cell"] = cells
}

// makeStreams copies, for each stream, a record into the relations the data
// lacks — the own unit's, or one of the region (a county's record has no
// unit, so no own) — and makes the bodies of its create routes.
func (m *matrix) makeStreams() {
	for _, s := range m.sheets() {
		fx := m.fx[s.Spec.Name]
		op := m.openapi["paths"].(map[string]any)["/api/v1/streams/"+s.Spec.Name].(map[string]any)["post"].(map[string]any)
		props := m.resolve(op["requestBody"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"])["properties"].(map[string]any)
		unitField, regionField := "", ""
		for _, f := range s.Spec.Fields {
			switch f.Type {
			case streamsheet.Unit, streamsheet.Link:
				unitField = f.Key
			case streamsheet.Region:
				regionField = f.Key
			}
		}
		src := slices.IndexFunc(fx[:], func(v map[string]string) bool { return v != nil })
		for i := range 2 {
			if fx[i] != nil || src < 0 || (i == 0 && unitField == "") {
				continue
			}
			in := m.recordInput(s.Spec, fx[src]["id"], props)
			if unitField != "" {
				var uscc string
				m.get(&uscc, `SELECT uscc FROM units WHERE id = ?`, m.unitOf(i))
				in[unitField] = uscc
			}
			if regionField != "" {
				in[regionField] = m.units.region
			}
			fx[i] = map[string]string{"id": m.copyRecord(s.Spec, in)}
		}
		m.fx[s.Spec.Name] = fx
		m.fx["new-"+s.Spec.Name] = m.newRecords(s.Spec, fx, props)
	}
}

// recordInput reads a stream's record as the input that would make it.
func (m *matrix) recordInput(sp *streamsheet.Spec, id string, props map[string]any) map[string]any {
	var rec map[string]any
	m.decode(m.must(m.role("admin"), "GET", "/api/v1/streams/"+sp.Name+"/"+id, nil), &rec)
	in := map[string]any{}
	for k, v := range rec {
		if _, ok := props[k]; ok && v != nil {
			in[k] = v
		}
	}
	for _, f := range sp.Fields { // a number not given reads back as 0, which it may not be
		if f.Type == streamsheet.Decimal && !f.Required && in[f.Key] == 0.0 {
			delete(in, f.Key)
		}
	}
	return in
}

// copyRecord creates a record as the admin; where its key is taken, it
// changes the names in the key until it is not.
func (m *matrix) copyRecord(sp *streamsheet.Spec, in map[string]any) string {
	st, b := m.call(m.role("admin"), "POST", "/api/v1/streams/"+sp.Name, in)
	for try := 0; st == http.StatusConflict && try < 10; try++ {
		for _, f := range sp.Fields {
			if v, ok := in[f.Key].(string); ok && f.Type == streamsheet.Text && slices.Contains(sp.Key, f.Key) {
				in[f.Key] = another(v)
			}
		}
		st, b = m.call(m.role("admin"), "POST", "/api/v1/streams/"+sp.Name, in)
	}
	if st != http.StatusCreated {
		m.t.Fatalf("a copy of a %s record: %d %s", sp.Name, st, b)
	}
	var r struct{ ID string }
	m.decode(b, &r)
	return r.ID
}

// another changes a name's last character within its class, so that a
// plate stays a plate.
func another(s string) string {
	r := []rune(s)
	switch c := r[len(r)-1]; {
	case c >= '0' && c <= '9':
		r[len(r)-1] = '0' + (c-'0'+1)%10
	case c >= 'A' && c <= 'Z':
		r[len(r)-1] = 'A' + (c-'A'+1)%26
	default:
		return s + "（二）"
	}
	return string(r)
}

// newRecords are the bodies that create a stream's record: a copy of the
// record of each relation, which names the same unit and region, so that an
// allowed caller is told it exists and a refused one is refused. A form
// types a list with commas.
func (m *matrix) newRecords(sp *streamsheet.Spec, fx fixture, props map[string]any) fixture {
	var out fixture
	for i := range fx {
		if fx[i] == nil {
			continue
		}
		in := m.recordInput(sp, fx[i]["id"], props)
		j, _ := json.Marshal(in)
		out[i] = map[string]string{"_json": string(j)}
		for k, v := range in {
			switch v := v.(type) {
			case string:
				out[i][k] = v
			case float64:
				out[i][k] = strconv.FormatFloat(v, 'f', -1, 64)
			case bool:
				out[i][k] = strconv.FormatBool(v)
			case []any:
				var items []string
				for _, x := range v {
					items = append(items, fmt.Sprint(x))
				}
				out[i][k] = strings.Join(items, ",")
			}
		}
	}
	return out
}
