package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"wufei/internal/auth"
)

type loginInput struct {
	Body struct {
		Username string `json:"username" minLength:"1" maxLength:"64"`
		Password string `json:"password" minLength:"1" maxLength:"200"`
	}
}

type sessionOutput struct{ Body auth.Session }

type userOutput struct{ Body auth.User }

type tokenInput struct {
	Body struct {
		UserID      string `json:"user_id,omitempty" doc:"为哪个账号签发；缺省为本人"`
		Name        string `json:"name" minLength:"1" maxLength:"100" doc:"用途，如 市交通运输局电子运单系统"`
		ExpiresDays int    `json:"expires_days" minimum:"1" maximum:"366"`
	}
}

type newUserInput struct{ Body auth.NewUser }

func (h *handlers) registerAuth(a huma.API) {
	huma.Register(a, huma.Operation{OperationID: "login", Method: http.MethodPost, Path: "/api/v1/auth/login",
		Summary: "登录，取得令牌", Tags: []string{"账号"}, Security: []map[string][]string{},
		Errors: []int{401, 429}},
		func(ctx context.Context, in *loginInput) (*sessionOutput, error) {
			s, err := h.Auth.Login(ctx, in.Body.Username, in.Body.Password)
			if err != nil {
				return nil, problemOf(err)
			}
			return &sessionOutput{Body: s}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "logout", Method: http.MethodPost, Path: "/api/v1/auth/logout",
		Summary: "注销当前令牌", Tags: []string{"账号"}, DefaultStatus: 204},
		func(ctx context.Context, in *struct {
			Authorization string `header:"Authorization"`
		}) (*struct{}, error) {
			if _, err := principal(ctx); err != nil {
				return nil, err
			}
			if len(in.Authorization) > 7 {
				if err := h.Auth.Logout(ctx, in.Authorization[7:]); err != nil {
					return nil, problemOf(err)
				}
			}
			return nil, nil
		})
	huma.Register(a, huma.Operation{OperationID: "me", Method: http.MethodGet, Path: "/api/v1/me",
		Summary: "当前账号", Tags: []string{"账号"}},
		func(ctx context.Context, _ *struct{}) (*userOutput, error) {
			p, err := principal(ctx)
			if err != nil {
				return nil, err
			}
			u, err := h.Auth.GetUser(ctx, p.UserID)
			if err != nil {
				return nil, problemOf(err)
			}
			return &userOutput{Body: u}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "create-user", Method: http.MethodPost, Path: "/api/v1/users",
		Summary: "创建账号", Tags: []string{"账号"}, DefaultStatus: 201},
		func(ctx context.Context, in *newUserInput) (*userOutput, error) {
			p, err := principal(ctx)
			if err != nil {
				return nil, err
			}
			u, err := h.Auth.CreateUser(ctx, p, in.Body)
			if err != nil {
				return nil, problemOf(err)
			}
			return &userOutput{Body: u}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "create-token", Method: http.MethodPost, Path: "/api/v1/tokens",
		Summary: "为系统对接签发 API 令牌", Description: "令牌只在此响应中出现一次。", Tags: []string{"账号"}, DefaultStatus: 201},
		func(ctx context.Context, in *tokenInput) (*sessionOutput, error) {
			p, err := principal(ctx)
			if err != nil {
				return nil, err
			}
			s, err := h.Auth.CreateToken(ctx, p, in.Body.UserID, in.Body.Name, time.Duration(in.Body.ExpiresDays)*24*time.Hour)
			if err != nil {
				return nil, problemOf(err)
			}
			return &sessionOutput{Body: s}, nil
		})
}
