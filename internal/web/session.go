package web

import (
	"net/http"
	"slices"
	"time"

	"wufei/internal/errs"
)

type loginData struct {
	Next     string
	Username string
	Error    string // message key
}

func (s *server) loginForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "login", "layout",
		s.view(r, "", loginData{Next: afterLogin(r.URL.Query().Get("next"))}))
}

func (s *server) login(w http.ResponseWriter, r *http.Request) {
	d := loginData{Next: afterLogin(r.PostFormValue("next")), Username: r.PostFormValue("username")}
	sess, err := s.Auth.Login(r.Context(), d.Username, r.PostFormValue("password"))
	if err != nil {
		status := statusOf(errs.KindOf(err))
		switch status {
		case http.StatusUnauthorized:
			d.Error = "login.failed"
		case http.StatusTooManyRequests:
			d.Error = "login.throttled"
		default:
			s.fail(w, r, err)
			return
		}
		s.render(w, r, status, "login", "layout", s.view(r, "", d))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: s.Cookie, Value: sess.Token, Path: "/", Expires: sess.ExpiresAt,
		MaxAge: int(time.Until(sess.ExpiresAt).Seconds()), HttpOnly: true, Secure: s.SecureCookie,
		SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

// logout revokes the session's token, so that a copied cookie is useless
// too, and clears the cookie.
func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(s.Cookie); err == nil {
		if err := s.Auth.Logout(r.Context(), c.Value); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: s.Cookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.SecureCookie,
		SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// setLang remembers the chosen language for a year and goes back.
func (s *server) setLang(w http.ResponseWriter, r *http.Request) {
	to := r.URL.Query().Get("to")
	if !slices.Contains(languages, to) {
		to = languages[0]
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: to, Path: "/", MaxAge: 365 * 24 * 3600,
		Secure: s.SecureCookie, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
}
