package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"wufei/internal/auth"
)

// stdin is where commands read secrets from; tests replace it.
var stdin io.Reader = os.Stdin

// adminCreateCmd adds a platform administrator: the first account of a new
// deployment, which nobody can yet create over the API, or another one
// later. The password is the first line of standard input, so that it shows
// in no process list or shell history. The account is audited as created by
// the operator at the console ("system").
func adminCreateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dbURL := dbFlags("admin create", stderr)
	username := fs.String("username", "", "the new administrator's user name")
	name := fs.String("name", "", "display name (default: 平台管理员)")
	if err := fs.Parse(args); err != nil || *username == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: wufei admin create --username NAME [--name 显示名] [--db URL] < password-file")
		return exitError(2)
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading the password: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	if *name == "" {
		*name = "平台管理员"
	}
	db, err := openPrepared(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := auth.NewService(db).CreateUser(ctx, auth.System, auth.NewUser{Username: *username, DisplayName: *name,
		Password: password, Role: auth.Admin})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "已创建平台管理员 / created administrator %s (%s)\n", u.Username, u.ID)
	return nil
}
