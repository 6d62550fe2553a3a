package ui_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/provider"
)

// An application's ui_locales (OpenID Connect Core §3.1.2.1) choose the
// language of its sign-in's pages: the first tag the pages speak, before
// the browser's Accept-Language and the organization's own language. The
// pages of the sign-in that follow (a refused password, forgot-password)
// speak it too. Before, ui_locales was ignored.
func TestUILocalesChooseTheLanguage(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.addUser(t, "ann", goodPassword, false)
	tests := []struct {
		name, uiLocales, acceptLanguage, want string
	}{
		{"Dutch asked for", "nl", "", "nl"},
		{"the first tag the pages speak", "fr-CA nl-BE en", "", "nl"},
		{"before the browser's Dutch", "en", "nl", "en"},
		{"none the pages speak: the browser's", "fr de", "nl", "nl"},
		{"none: the organization's", "", "", "en"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBrowser(t)
			if tc.acceptLanguage != "" {
				b.Header.Set("Accept-Language", tc.acceptLanguage)
			}
			start := b.Get(s.rpURL + "/start")
			u, err := url.Parse(start.Location)
			if err != nil || u.Path != provider.PathAuthorize {
				t.Fatalf("the relying party started at %q, want its authorization request", start.Location)
			}
			if tc.uiLocales != "" {
				q := u.Query()
				q.Set("ui_locales", tc.uiLocales)
				u.RawQuery = q.Encode()
			}
			login := b.Follow(b.Get(u.String()))
			lang := `<html lang="` + tc.want + `">`
			if !strings.Contains(login.Body, lang) {
				t.Fatalf("login page at %s is not in %s:\n%.300s", login.URL, tc.want, login.Body)
			}
			refused := b.submit(login, map[string]string{"login": "ann", "password": "wrong-" + goodPassword})
			if !strings.Contains(refused.Body, lang) {
				t.Errorf("the refused password's page is not in %s:\n%.300s", tc.want, refused.Body)
			}
			forgot := b.Get(s.tenantURL + "/forgot-password?authRequestID=" + url.QueryEscape(login.URL.Query().Get("authRequestID")))
			if !strings.Contains(forgot.Body, lang) {
				t.Errorf("the forgot-password page is not in %s:\n%.300s", tc.want, forgot.Body)
			}
		})
	}
}
