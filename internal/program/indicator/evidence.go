package indicator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/store"
)

// Evidence files are kept in the database beside the report, with their
// SHA-256, so that the audit entry naming the checksum and the file itself
// commit together and a backup of the database is complete.
const (
	MaxEvidenceBytes = 5 << 20 // one file
	MaxEvidenceFiles = 10      // per report
)

// Evidence describes a stored evidence file.
type Evidence struct {
	ID          string    `db:"id" json:"id"`
	Name        string    `db:"name" json:"name"`
	ContentType string    `db:"content_type" json:"content_type"`
	Size        int64     `db:"size" json:"size"`
	SHA256      string    `db:"sha256" json:"sha256"`
	UploadedBy  string    `db:"uploaded_by" json:"uploaded_by"`
	CreatedAt   time.Time `db:"created_at" json:"created_at"`
}

// EvidenceFile is a file as uploaded, or as downloaded with its description
// in Info.
type EvidenceFile struct {
	Name        string
	ContentType string // as declared by the client; checked against the content
	Content     []byte
	Info        Evidence
}

// evidenceTypes are the accepted kinds of file, by the type the content
// shows: PDF, pictures, and the OOXML office files, which are ZIP archives
// and are told apart by their extension.
var evidenceTypes = map[string]string{
	".pdf":  "application/pdf",
	".png":  "image/png",
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}

// typeOf returns the content type of an evidence file from its name and
// content, or "" when the two disagree or the kind is not accepted.
func typeOf(name string, b []byte) string {
	want, ok := evidenceTypes[strings.ToLower(path.Ext(name))]
	if !ok {
		return ""
	}
	sniffed := http.DetectContentType(b)
	switch {
	case sniffed == want:
		return want
	case strings.HasPrefix(want, "application/vnd.openxmlformats") && sniffed == "application/zip":
		return want
	}
	return ""
}

// checkFiles validates uploaded files (field[i]…) and returns them with
// their type and checksum filled in; have is how many the report holds.
func checkFiles(v *errs.Validation, field string, files []EvidenceFile, have int) []EvidenceFile {
	if have+len(files) > MaxEvidenceFiles {
		v.Add(field, "evidence_count", fmt.Sprintf("每条填报最多附 %d 个文件", MaxEvidenceFiles))
		return nil
	}
	out := make([]EvidenceFile, 0, len(files))
	for i, f := range files {
		at := fmt.Sprintf("%s[%d]", field, i)
		name := cleanName(f.Name)
		switch {
		case name == "":
			v.Add(at+".name", "evidence_name", "文件名无效")
			continue
		case len(f.Content) == 0:
			v.Add(at, "evidence_empty", "文件为空: "+clip(name))
			continue
		case len(f.Content) > MaxEvidenceBytes:
			v.Add(at, "evidence_too_large", fmt.Sprintf("文件超过 %d MiB: %s", MaxEvidenceBytes>>20, clip(name)))
			continue
		}
		ct := typeOf(name, f.Content)
		declared, _, _ := mime.ParseMediaType(f.ContentType)
		switch {
		case ct == "":
			v.Add(at, "evidence_type", "只接受 PDF、PNG、JPEG、XLSX、DOCX 文件，且内容须与扩展名一致: "+clip(name))
			continue
		case declared != "" && declared != "application/octet-stream" && declared != ct:
			v.Add(at, "evidence_type", "声明的文件类型与内容不符: "+clip(name))
			continue
		}
		sum := sha256.Sum256(f.Content)
		f.Name, f.ContentType = name, ct
		f.Info = Evidence{Name: name, ContentType: ct, Size: int64(len(f.Content)), SHA256: hex.EncodeToString(sum[:])}
		out = append(out, f)
	}
	return out
}

// cleanName keeps the last element of a path, without control characters,
// at most 200 characters; "" when nothing usable is left.
func cleanName(s string) string {
	s = strings.ReplaceAll(s, `\`, "/")
	s = strings.TrimSpace(path.Base(s))
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '"' {
			return -1
		}
		return r
	}, s)
	if s == "." || s == "/" || !utf8.ValidString(s) {
		return ""
	}
	if r := []rune(s); len(r) > 200 {
		s = string(r[len(r)-200:])
	}
	return s
}

func insertEvidence(ctx context.Context, tx *store.Tx, p auth.Principal, r reportRow, files []EvidenceFile) ([]Evidence, error) {
	out := []Evidence{}
	for _, f := range files {
		e := f.Info
		e.ID, e.UploadedBy, e.CreatedAt = uuid.Must(uuid.NewV7()).String(), p.Username, tx.Now
		if _, err := store.Exec(ctx, tx, `INSERT INTO indicator_evidence (id, report_id, region_code, name, content_type,
			size, sha256, content, uploaded_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.ID, r.ID, r.Region, e.Name, e.ContentType, e.Size, e.SHA256, f.Content, e.UploadedBy, e.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func listEvidence(ctx context.Context, q store.Querier, reportID string) ([]Evidence, error) {
	out := []Evidence{}
	err := store.Select(ctx, q, &out, `SELECT id, name, content_type, size, sha256, uploaded_by, created_at
		FROM indicator_evidence WHERE report_id = ? ORDER BY id`, reportID)
	for i := range out {
		out[i].CreatedAt = out[i].CreatedAt.UTC()
	}
	return out, err
}

// AddEvidence attaches files to a pending version; its department (anyone
// who may report the indicator for its region) does so.
func (s *Service) AddEvidence(ctx context.Context, p auth.Principal, id, reportID string, files []EvidenceFile) (Report, error) {
	var out Report
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		r, a, err := s.visibleReport(ctx, tx, p, id, reportID)
		if err != nil {
			return err
		}
		ind, err := getIndicator(ctx, tx, id)
		if err != nil {
			return err
		}
		ok, err := mayReport(ctx, tx, p, ind, a)
		if err != nil {
			return err
		}
		if !ok {
			return errs.E(errs.Forbidden, "not_lead_department", "证明材料由填报部门上传")
		}
		if r.Status != Pending {
			return errs.E(errs.Conflict, "wrong_status", "只有待审核的填报可以补充证明材料")
		}
		have, err := listEvidence(ctx, tx, r.ID)
		if err != nil {
			return err
		}
		var v errs.Validation
		if len(files) == 0 {
			v.Add("file", "required", "请选择文件")
		}
		files = checkFiles(&v, "file", files, len(have))
		if err := v.Err(); err != nil {
			return err
		}
		added, err := insertEvidence(ctx, tx, p, r, files)
		if err != nil {
			return err
		}
		out = r.report()
		out.Evidence = append(have, added...)
		_, err = audit.Append(ctx, tx, p.Actor(), audit.Record{Action: "indicator_report.evidence", Entity: "indicator_report",
			EntityID: r.ID, RegionCode: r.Region, Change: map[string]any{"added": added}})
		return err
	})
	return out, err
}

// EvidenceContent returns one evidence file with its content, for those
// who oversee the report's region.
func (s *Service) EvidenceContent(ctx context.Context, p auth.Principal, id, reportID, evidenceID string) (EvidenceFile, error) {
	q := s.db.Reader()
	notFound := errs.E(errs.NotFound, "evidence_not_found", "证明材料不存在或无权查看")
	_, a, err := s.visibleReport(ctx, q, p, id, reportID)
	if err != nil {
		return EvidenceFile{}, err
	}
	if ok, err := oversees(ctx, q, p, a); err != nil || !ok {
		if err == nil {
			err = notFound
		}
		return EvidenceFile{}, err
	}
	var f struct {
		Evidence
		Content []byte `db:"content"`
	}
	err = store.Get(ctx, q, &f, `SELECT id, name, content_type, size, sha256, uploaded_by, created_at, content
		FROM indicator_evidence WHERE id = ? AND report_id = ?`, evidenceID, reportID)
	if errors.Is(err, store.ErrNotFound) {
		return EvidenceFile{}, notFound
	}
	if err != nil {
		return EvidenceFile{}, err
	}
	f.CreatedAt = f.CreatedAt.UTC()
	return EvidenceFile{Name: f.Name, ContentType: f.ContentType, Content: f.Content, Info: f.Evidence}, nil
}
