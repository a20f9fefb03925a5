package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"wufei/internal/errs"
	"wufei/internal/store"
)

// DefaultKeyName is the signing key name the platform uses; it appears in
// every signed checkpoint and in the verifier key.
const DefaultKeyName = "wufei.huaibei"

// ErrKeyMismatch means the signing key file does not belong to this
// database: audit_keys already holds a different verifier under its name.
var ErrKeyMismatch = errors.New("audit: the signing key does not belong to this database")

// Log signs checkpoints of the audit log and serves inclusion proofs. The
// private key lives in a file outside the database; only the public verifier
// key is recorded in audit_keys.
type Log struct {
	db       *store.DB
	signer   note.Signer
	verifier note.Verifier
	vkey     string
}

// LoadOrCreateSigner reads the note signer key at keyPath, or generates one
// named name and writes it there (mode 0600) when the file does not exist.
// It records the verifier key in audit_keys, and refuses (ErrKeyMismatch) a
// key whose name is already registered with a different verifier.
func LoadOrCreateSigner(ctx context.Context, db *store.DB, keyPath, name string) (*Log, error) {
	if name == "" || strings.ContainsAny(name, "+ \t\r\n") {
		return nil, fmt.Errorf("audit: invalid key name %q", name)
	}
	skey, err := loadOrCreateKey(keyPath, name)
	if err != nil {
		return nil, err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("audit: key file %s: %w", keyPath, err)
	}
	if signer.Name() != name {
		return nil, fmt.Errorf("audit: key file %s holds key %q, not %q", keyPath, signer.Name(), name)
	}
	vkey, err := verifierKeyFor(skey, name)
	if err != nil {
		return nil, fmt.Errorf("audit: key file %s: %w", keyPath, err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("audit: verifier key: %w", err)
	}
	err = db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := store.Exec(ctx, tx, `INSERT INTO audit_keys (name, verifier, created_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO NOTHING`, name, vkey, tx.Now); err != nil {
			return err
		}
		var got string
		if err := store.Get(ctx, tx, &got, `SELECT verifier FROM audit_keys WHERE name = ?`, name); err != nil {
			return err
		}
		if got != vkey {
			return fmt.Errorf("%w: key file %s has verifier %s, the database has %s", ErrKeyMismatch, keyPath, vkey, got)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrKeyMismatch) {
			return nil, err
		}
		return nil, fmt.Errorf("audit: register key: %w", err)
	}
	return &Log{db: db, signer: signer, verifier: verifier, vkey: vkey}, nil
}

// loadOrCreateKey returns the signer key in path, creating it if absent.
func loadOrCreateKey(path, name string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("audit: key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("audit: key: %w", err)
	}
	skey, _, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", fmt.Errorf("audit: key: %w", err)
	}
	// O_EXCL: if another process created the file first, use its key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return loadOrCreateKey(path, name)
	}
	if err != nil {
		return "", fmt.Errorf("audit: key: %w", err)
	}
	_, err = f.WriteString(skey + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return "", fmt.Errorf("audit: key: %w", err)
	}
	return skey, nil
}

// verifierKeyFor derives the public verifier key from an Ed25519 signer key
// ("PRIVATE+KEY+name+hash+base64(alg‖seed)").
func verifierKeyFor(skey, name string) (string, error) {
	f := strings.SplitN(skey, "+", 5) // the base64 key may itself contain '+'
	if len(f) != 5 {
		return "", errors.New("malformed signer key")
	}
	key, err := base64.StdEncoding.DecodeString(f[4])
	if err != nil || len(key) != 1+ed25519.SeedSize || key[0] != 1 {
		return "", errors.New("malformed signer key (want Ed25519)")
	}
	pub := ed25519.NewKeyFromSeed(key[1:]).Public().(ed25519.PublicKey)
	return note.NewEd25519VerifierKey(name, pub)
}

// VerifierKey is the public verifier key text ("name+hash+key") that outside
// parties use to check checkpoints.
func (l *Log) VerifierKey() string { return l.vkey }

// Checkpoint is a signed statement of the tree's size and root hash.
type Checkpoint struct {
	Size int64  `json:"size"` // number of entries covered: seqs 1..size
	Root string `json:"root"` // tree hash, standard base64 (as in the note)
	Note string `json:"note"` // the signed note: tlog.FormatTree text plus signature
}

type checkpointRow struct {
	Size int64  `db:"size"`
	Root []byte `db:"root"`
	Note string `db:"note"`
}

func (r checkpointRow) checkpoint() Checkpoint {
	return Checkpoint{Size: r.Size, Root: base64.StdEncoding.EncodeToString(r.Root), Note: r.Note}
}

// Checkpoint signs the current tree and stores the checkpoint, unless one
// for this size is stored already, in which case that one is returned. It
// refuses to sign a tree that does not extend the latest stored checkpoint
// or whose last leaf is not the head: that log has been rewritten.
func (l *Log) Checkpoint(ctx context.Context) (Checkpoint, error) {
	r := l.db.Reader()
	var head struct {
		Seq  int64  `db:"seq"`
		Hash []byte `db:"hash"`
	}
	if err := store.Get(ctx, r, &head, `SELECT seq, hash FROM audit_head WHERE id = 1`); err != nil {
		return Checkpoint{}, fmt.Errorf("audit: head: %w", err)
	}
	var rows []checkpointRow
	if err := store.Select(ctx, r, &rows, `SELECT size, root, note FROM audit_checkpoints ORDER BY size DESC LIMIT 1`); err != nil {
		return Checkpoint{}, fmt.Errorf("audit: checkpoint: %w", err)
	}
	if len(rows) > 0 && rows[0].Size == head.Seq {
		return rows[0].checkpoint(), nil
	}
	hr := txHashReader{ctx, r}
	root, err := tlog.TreeHash(head.Seq, hr)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: tree hash: %w", err)
	}
	if head.Seq > 0 {
		last, err := readHashes(ctx, r, []int64{tlog.StoredHashIndex(0, head.Seq-1)})
		if err != nil {
			return Checkpoint{}, fmt.Errorf("audit: tree: %w", err)
		}
		if !bytes.Equal(last[0][:], head.Hash) {
			return Checkpoint{}, fmt.Errorf("audit: refusing to sign: the tree's last leaf is not the head entry %d; run the audit verifier", head.Seq)
		}
	}
	if len(rows) > 0 && rows[0].Size > 0 {
		prev := rows[0]
		if prev.Size > head.Seq {
			return Checkpoint{}, fmt.Errorf("audit: refusing to sign: the log has %d entries but checkpoint %d was signed; run the audit verifier", head.Seq, prev.Size)
		}
		var prevRoot tlog.Hash
		copy(prevRoot[:], prev.Root)
		proof, err := tlog.ProveTree(head.Seq, prev.Size, hr)
		if err != nil {
			return Checkpoint{}, fmt.Errorf("audit: consistency proof: %w", err)
		}
		if err := tlog.CheckTree(proof, head.Seq, root, prev.Size, prevRoot); err != nil {
			return Checkpoint{}, fmt.Errorf("audit: refusing to sign: tree %d does not extend checkpoint %d (%v); run the audit verifier", head.Seq, prev.Size, err)
		}
	}
	text := tlog.FormatTree(tlog.Tree{N: head.Seq, Hash: root})
	msg, err := note.Sign(&note.Note{Text: string(text)}, l.signer)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: sign: %w", err)
	}
	var cp checkpointRow
	err = l.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := store.Exec(ctx, tx, `INSERT INTO audit_checkpoints (size, root, note, at) VALUES (?, ?, ?, ?)
			ON CONFLICT (size) DO NOTHING`, head.Seq, root[:], string(msg), tx.Now); err != nil {
			return err
		}
		// Another process may have stored this size first; return what is stored.
		return store.Get(ctx, tx, &cp, `SELECT size, root, note FROM audit_checkpoints WHERE size = ?`, head.Seq)
	})
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: checkpoint: %w", err)
	}
	return cp.checkpoint(), nil
}

// Proof is one entry with everything needed to check it offline against a
// signed checkpoint: hash Leaf with tlog.RecordHash, and check that hash
// with tlog.CheckRecord(InclusionProof, TreeSize, root of Checkpoint, Index).
type Proof struct {
	Entry          Entry    `json:"entry"`
	Leaf           string   `json:"leaf"`            // canonical leaf bytes (Entry.Leaf), standard base64
	RecordHash     string   `json:"record_hash"`     // tlog.RecordHash(leaf), standard base64
	Index          int64    `json:"index"`           // record index in the tree: seq - 1
	TreeSize       int64    `json:"tree_size"`       // size of the checkpoint the proof is against
	TreeRoot       string   `json:"tree_root"`       // that checkpoint's root, standard base64 (trust the note, not this)
	InclusionProof []string `json:"inclusion_proof"` // tlog.RecordProof hashes in order, standard base64
	Checkpoint     string   `json:"checkpoint"`      // the signed checkpoint note
}

// Entry returns entry seq with an inclusion proof against the latest
// checkpoint, signing a new checkpoint if none covers seq yet. A missing
// entry is an errs.NotFound error with code audit_entry_not_found.
func (l *Log) Entry(ctx context.Context, seq int64) (Proof, error) {
	r := l.db.Reader()
	notFound := errs.E(errs.NotFound, "audit_entry_not_found", fmt.Sprintf("审计记录 %d 不存在", seq))
	if seq < 1 {
		return Proof{}, notFound
	}
	var e Entry
	if err := store.Get(ctx, r, &e, `SELECT `+entryColumns+` FROM audit_entries WHERE seq = ?`, seq); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Proof{}, notFound
		}
		return Proof{}, fmt.Errorf("audit: entry: %w", err)
	}
	e.normalize()
	var rows []checkpointRow
	if err := store.Select(ctx, r, &rows, `SELECT size, root, note FROM audit_checkpoints ORDER BY size DESC LIMIT 1`); err != nil {
		return Proof{}, fmt.Errorf("audit: checkpoint: %w", err)
	}
	var cp Checkpoint
	if len(rows) > 0 && rows[0].Size >= seq {
		cp = rows[0].checkpoint()
	} else {
		var err error
		if cp, err = l.Checkpoint(ctx); err != nil {
			return Proof{}, err
		}
		if cp.Size < seq {
			return Proof{}, fmt.Errorf("audit: checkpoint %d does not cover entry %d", cp.Size, seq)
		}
	}
	rp, err := tlog.ProveRecord(cp.Size, seq-1, txHashReader{ctx, r})
	if err != nil {
		return Proof{}, fmt.Errorf("audit: inclusion proof: %w", err)
	}
	leaf := e.Leaf()
	h := tlog.RecordHash(leaf)
	p := Proof{
		Entry:          e,
		Leaf:           base64.StdEncoding.EncodeToString(leaf),
		RecordHash:     h.String(),
		Index:          seq - 1,
		TreeSize:       cp.Size,
		TreeRoot:       cp.Root,
		InclusionProof: make([]string, len(rp)),
		Checkpoint:     cp.Note,
	}
	for i, x := range rp {
		p.InclusionProof[i] = x.String()
	}
	return p, nil
}
