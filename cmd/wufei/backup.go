package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"wufei/internal/store"
)

// backupCmd copies a running SQLite database to a file, consistently.
func backupCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dbURL := dbFlags("backup", stderr)
	to := fs.String("to", "", "the backup file to write (must not exist)")
	if err := fs.Parse(args); err != nil || *to == "" {
		fmt.Fprintln(stderr, "usage: wufei backup --db sqlite:PATH --to FILE")
		return exitError(2)
	}
	db, err := store.Open(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Backup(ctx, *to); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "备份完成 / backed up to %s; check it with: wufei audit verify --db sqlite:%s\n", *to, *to)
	return nil
}

// restoreCmd puts a backup in place of a stopped SQLite database.
func restoreCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dbURL := dbFlags("restore", stderr)
	from := fs.String("from", "", "the backup file")
	if err := fs.Parse(args); err != nil || *from == "" || !strings.HasPrefix(*dbURL, "sqlite:") {
		fmt.Fprintln(stderr, "usage: wufei restore --from FILE --db sqlite:PATH   (with the server stopped)")
		return exitError(2)
	}
	if err := store.Restore(*from, strings.TrimPrefix(*dbURL, "sqlite:")); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "已恢复 / restored %s from %s\n", *dbURL, *from)
	return nil
}
