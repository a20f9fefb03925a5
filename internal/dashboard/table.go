package dashboard

// Table is a figure's numbers as rows, for the table view beside its chart
// and its Excel download. Columns are message keys (dash.col.*), which the
// pages translate.
type Table struct {
	Columns []string `json:"columns"`
	Rows    []Row    `json:"rows"`
}

// Row is one line of a table, with the link to the records behind it.
type Row struct {
	Cells []any  `json:"cells" doc:"文本或数值（吨、件）"`
	URL   string `json:"url,omitempty" doc:"这一行背后的记录"`
}

// Tabler is a figure that can be shown as a table.
type Tabler interface{ Table() Table }

// Label is a cell that is a message key (dash.*), which the pages
// translate, rather than text from the records.
type Label string
