package catalog

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"wufei/internal/errs"
)

// Problem is one fault in a catalogue file.
type Problem struct {
	Line    int    `json:"line"`   // line in the file, the header being line 1
	Column  string `json:"column"` // code, category, industry, description or characteristics; "" for the whole row
	Code    string `json:"code"`   // stable machine code, e.g. "waste_code_format"
	Message string `json:"message"`
}

// Report says what an import read and either what it loaded or, in
// Problems, why it loaded nothing.
type Report struct {
	Rows     int    `json:"rows"`     // data rows read
	Inserted int    `json:"inserted"` // codes that were not in the database
	Updated  int    `json:"updated"`  // codes that replaced a row (from the subset or an earlier import)
	Kept     int    `json:"kept"`     // built-in subset rows the file does not list, left as they were
	SHA256   string `json:"sha256"`   // of the file as read, for the audit log
	// Problems lists the faults found, at most maxProblems of them;
	// ProblemCount is how many there were in all.
	Problems     []Problem `json:"problems,omitempty"`
	ProblemCount int       `json:"problem_count"`
}

// maxProblems bounds the report of a hopeless file (the wrong file, or one
// saved in GBK): the first faults say enough.
const maxProblems = 1000

// The columns of a catalogue file. The official table's Chinese headings are
// accepted as well, so that a transcription of 附表 can be imported as it is.
const (
	colCode            = "code"
	colCategory        = "category"
	colIndustry        = "industry"
	colDescription     = "description"
	colCharacteristics = "characteristics"
)

var codeColumns = []string{colCode, colCategory, colIndustry, colDescription, colCharacteristics}

var headerNames = map[string]string{
	"code": colCode, "废物代码": colCode,
	"category": colCategory, "废物类别": colCategory,
	"industry": colIndustry, "行业来源": colIndustry,
	"description": colDescription, "危险废物": colDescription,
	"characteristics": colCharacteristics, "危险特性": colCharacteristics,
}

// ParseCodes reads a catalogue CSV and checks every row, without a database.
// Columns are found by their heading, in any order; other columns are
// ignored. A UTF-8 byte-order mark is tolerated. Because the official table
// merges cells, an empty category is taken from the code and an empty
// industry from the row above.
//
// If any row is wrong it returns no codes, a report listing each fault, and
// an *errs.Error with code "catalog_file_invalid". Only a failure to read r
// is returned as a plain error.
func ParseCodes(r io.Reader, edition string) ([]WasteCode, Report, error) {
	h := sha256.New()
	in := io.TeeReader(r, h)
	p := codeParser{edition: edition, seen: map[string]int{}}
	cr := csv.NewReader(in)
	cr.FieldsPerRecord = -1 // counted here, so that one short row is one problem, not the end
	cr.ReuseRecord = true

	var cols map[string]int
	width := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			p.add(pe.StartLine, "", "csv_syntax", fmt.Sprintf("CSV 格式错误：%v", pe.Err))
			continue
		}
		if err != nil {
			return nil, Report{}, fmt.Errorf("catalog: read: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if cols == nil {
			if cols, width = p.header(line, rec); cols == nil {
				break // without the columns no row can be read
			}
			continue
		}
		p.row(line, rec, cols, width)
	}
	// Hash the whole file even when reading stopped early.
	if _, err := io.Copy(io.Discard, in); err != nil {
		return nil, Report{}, fmt.Errorf("catalog: read: %w", err)
	}
	switch {
	case cols == nil && p.report.ProblemCount == 0:
		p.add(1, "", "header_missing", "文件为空，缺少表头")
	case cols != nil && p.report.Rows == 0:
		p.add(2, "", "rows_missing", "文件没有数据行")
	}
	rep := p.report
	rep.SHA256 = hex.EncodeToString(h.Sum(nil))
	if rep.ProblemCount > 0 {
		return nil, rep, invalid(rep)
	}
	return p.codes, rep, nil
}

type codeParser struct {
	edition  string
	codes    []WasteCode
	seen     map[string]int // code → line where it first appeared
	industry string         // the last industry given, for merged cells
	report   Report
}

func (p *codeParser) add(line int, col, code, msg string) {
	p.report.ProblemCount++
	if len(p.report.Problems) < maxProblems {
		p.report.Problems = append(p.report.Problems, Problem{Line: line, Column: col, Code: code, Message: msg})
	}
}

// header maps canonical column names to positions, or reports why it cannot.
func (p *codeParser) header(line int, rec []string) (map[string]int, int) {
	faults := p.report.ProblemCount
	cols := map[string]int{}
	for i, name := range rec {
		name = strings.TrimSpace(name)
		if i == 0 {
			name = strings.TrimSpace(strings.TrimPrefix(name, "\uFEFF"))
		}
		col, ok := headerNames[strings.ToLower(name)]
		if !ok {
			continue
		}
		if _, dup := cols[col]; dup {
			p.add(line, col, "column_duplicate", fmt.Sprintf("表头中 %q 列重复", clip(name)))
			continue
		}
		cols[col] = i
	}
	for _, col := range codeColumns {
		if _, ok := cols[col]; !ok {
			p.add(line, col, "column_missing", fmt.Sprintf("表头缺少 %s 列（或中文表头 废物类别、行业来源、废物代码、危险废物、危险特性）", col))
		}
	}
	if p.report.ProblemCount > faults {
		return nil, 0
	}
	return cols, len(rec)
}

func (p *codeParser) row(line int, rec []string, cols map[string]int, width int) {
	blank := true
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			blank = false
			break
		}
	}
	if blank {
		return // spreadsheets pad their exports with empty rows
	}
	p.report.Rows++
	if len(rec) != width {
		p.add(line, "", "column_count", fmt.Sprintf("本行有 %d 列，表头有 %d 列", len(rec), width))
		return
	}
	for _, col := range codeColumns {
		if !utf8.ValidString(rec[cols[col]]) {
			p.add(line, col, "encoding_invalid", "不是 UTF-8 编码（如为 GBK，请另存为 UTF-8 后再导入）")
			return
		}
	}
	get := func(col string) string { return strings.TrimSpace(rec[cols[col]]) }
	w := WasteCode{
		Code:        get(colCode),
		Industry:    get(colIndustry),
		Description: get(colDescription),
		Edition:     p.edition,
	}
	ok := true
	fail := func(col string, err error) {
		ok = false
		var e *errs.Error
		if errors.As(err, &e) {
			p.add(line, col, e.Code, e.Message)
			return
		}
		p.add(line, col, "invalid", err.Error())
	}

	if err := ValidCode(w.Code); err != nil {
		fail(colCode, err)
	} else if first, dup := p.seen[w.Code]; dup {
		fail(colCode, errs.E(errs.Invalid, "waste_code_duplicate", fmt.Sprintf("废物代码 %s 与第 %d 行重复", w.Code, first)))
	} else {
		p.seen[w.Code] = line
	}

	if cat, err := p.category(w.Code, get(colCategory)); err != nil {
		fail(colCategory, err)
	} else {
		w.Category = cat
	}

	if w.Industry == "" {
		w.Industry = p.industry
	}
	if w.Industry == "" {
		fail(colIndustry, errs.E(errs.Invalid, "industry_missing", "行业来源不能为空"))
	}
	p.industry = w.Industry

	if w.Description == "" {
		fail(colDescription, errs.E(errs.Invalid, "description_missing", "危险废物（描述）不能为空"))
	}

	if c, err := ParseCharacteristics(get(colCharacteristics)); err != nil {
		fail(colCharacteristics, err)
	} else {
		w.Characteristics = c
	}

	if ok {
		p.codes = append(p.codes, w)
	}
}

// category checks the category column against the code. The official table
// writes "HW08 废矿物油与含矿物油废物", and only on the first row of a group;
// both forms are accepted.
func (p *codeParser) category(code, given string) (string, error) {
	var cat string
	if given != "" {
		if len(given) < 4 || !strings.EqualFold(given[:2], "HW") || !isDigit(given[2]) || !isDigit(given[3]) {
			return "", errs.E(errs.Invalid, "category_format", fmt.Sprintf("废物类别 %q 应以 HWxx 开头", clip(given)))
		}
		cat = "HW" + given[2:4]
	}
	derived := CategoryOf(code)
	if derived == "" {
		return cat, nil // the code is already reported
	}
	if cat == "" {
		cat = derived
	}
	if cat != derived {
		return "", errs.E(errs.Invalid, "waste_code_category", fmt.Sprintf("废物代码 %s 的末两位表示 %s，与废物类别 %s 不符", code, derived, cat))
	}
	known, err := categorySet()
	if err != nil {
		return "", err
	}
	if !known[cat] {
		return "", errs.E(errs.Invalid, "category_unknown", fmt.Sprintf("%s 不是名录中的废物类别（HW01–HW40、HW45–HW50）", cat))
	}
	return cat, nil
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// invalid is the error for a file with faults; its fields point at each one
// as "line:column".
func invalid(rep Report) error {
	e := &errs.Error{
		Kind:    errs.Invalid,
		Code:    "catalog_file_invalid",
		Message: fmt.Sprintf("文件有 %d 处错误，未导入任何数据", rep.ProblemCount),
	}
	for _, pr := range rep.Problems {
		field := fmt.Sprintf("%d", pr.Line)
		if pr.Column != "" {
			field += ":" + pr.Column
		}
		e.Fields = append(e.Fields, errs.FieldError{Field: field, Code: pr.Code, Message: pr.Message})
	}
	return e
}
