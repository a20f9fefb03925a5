package sheet

// Fields that kinds of several streams share.
var (
	// KeeperUnit is the unit that keeps a record, where a department may
	// keep it as well: a unit's own account files for its own unit.
	KeeperUnit = Field{Key: "unit_uscc", Header: "填报单位统一社会信用代码", EN: "Unit (USCC)", Type: Unit,
		Note: "部门填报可留空；单位账号填报时默认为本单位"}
	// YearField is the record's year.
	YearField = Field{Key: "year", Header: "年度", EN: "Year", Type: Year, Required: true, Example: "2026"}
	// MonthField is the record's month, beside a YearField.
	MonthField = Field{Key: "month", Header: "月份", EN: "Month", Type: MonthNum, Required: true, Example: "6"}
	// MonthlyField is the month of a monthly record as YYYY-MM.
	MonthlyField = Field{Key: "month", Header: "统计月份", EN: "Month", Type: Month, Required: true, Note: "YYYY-MM",
		Example: "2026-03"}
	// NoteField is a free remark.
	NoteField = Field{Key: "note", Header: "备注", EN: "Note", Type: Text, Max: 500}
)

// County is the county or park a record belongs to, with an example.
func County(header, example string) Field {
	return Field{Key: "region_code", Header: header, EN: "County", Type: Region, Required: true, Example: example}
}
