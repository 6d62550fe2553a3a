package ui_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/provider"
	"github.com/cognate-idp/cognate/tenant"
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
			login := s.loginAsking(t, b, tc.uiLocales)
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

// loginAsking has the relying party start a sign-in whose authorization
// request asks for ui_locales ("" for none), and returns Cognate's login
// page.
func (s *stack) loginAsking(t *testing.T, b *browser, uiLocales string) page {
	t.Helper()
	start := b.Get(s.rpURL + "/start")
	u, err := url.Parse(start.Location)
	if err != nil || u.Path != provider.PathAuthorize {
		t.Fatalf("the relying party started at %q, want its authorization request", start.Location)
	}
	if uiLocales != "" {
		q := u.Query()
		q.Set("ui_locales", uiLocales)
		u.RawQuery = q.Encode()
	}
	return b.Follow(b.Get(u.String()))
}

// The reset code's mail speaks the language the person chose for the
// pages they asked for it on (the application's ui_locales, a browser that
// prefers Dutch), not the organization's: a Dutch speaker who read the
// sign-in in Dutch gets a Dutch mail. When they chose none the pages speak,
// the mail speaks the organization's language, as the pages do. Before,
// every code went out in the organization's language. A user whose own
// language (the standard attribute locale) is set gets that one when
// nobody chose a language on the pages, and the chosen one when somebody
// did: the pages' language counts only when it was asked for.
func TestResetMailSpeaksThePagesLanguage(t *testing.T) {
	s := newStack(t, stackOptions{smtp: true}) // acme speaks English
	tests := []struct {
		name string
		// userLocale is the user's attribute locale ("" for none).
		userLocale string
		// signIn: forgot-password is reached from an application's
		// sign-in, which asked for uiLocales; else straight from the
		// organization's own.
		signIn                    bool
		uiLocales, acceptLanguage string
		// subject and body of the mail
		subject, body string
	}{
		{"Dutch asked for by the application", "", true, "nl", "", "Uw verificatiecode voor Acme BV", "Voer deze verificatiecode in"},
		{"Dutch preferred by the browser", "", false, "", "nl-NL,nl;q=0.9", "Uw verificatiecode voor Acme BV", "Voer deze verificatiecode in"},
		{"a language the pages do not speak: the organization's", "", true, "de", "", "Your verification code for Acme BV", "Enter this verification code"},
		{"none: the organization's", "", false, "", "", "Your verification code for Acme BV", "Enter this verification code"},
		{"English asked for, before the browser's Dutch", "", true, "en", "nl", "Your verification code for Acme BV", "Enter this verification code"},
		{"none, a Dutch user: the user's", "nl", false, "", "", "Uw verificatiecode voor Acme BV", "Voer deze verificatiecode in"},
		{"none by the application, a Dutch user: the user's", "nl", true, "", "", "Uw verificatiecode voor Acme BV", "Voer deze verificatiecode in"},
		{"English asked for, before a Dutch user's own", "nl", true, "en", "", "Your verification code for Acme BV", "Enter this verification code"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprintf("ann%d", i)
			nu := tenant.NewUser{Username: name, Email: name + "@example.com", EmailVerified: true, Password: goodPassword}
			if tc.userLocale != "" {
				nu.Attributes = map[string]string{"locale": tc.userLocale}
			}
			if _, err := s.svc.CreateUser(t.Context(), "acme", nu); err != nil {
				t.Fatal(err)
			}
			b := newBrowser(t)
			if tc.acceptLanguage != "" {
				b.Header.Set("Accept-Language", tc.acceptLanguage)
			}
			forgot := b.Get(s.tenantURL + "/forgot-password")
			if tc.signIn {
				login := s.loginAsking(t, b, tc.uiLocales)
				forgot = b.Get(s.tenantURL + "/forgot-password?authRequestID=" + url.QueryEscape(login.URL.Query().Get("authRequestID")))
			}
			sent := b.submit(forgot, map[string]string{"login": name})
			if sent.Status != http.StatusOK {
				t.Fatalf("asking for a code: %d\n%s", sent.Status, sent.Body)
			}
			if _, err := s.outbox.RunOnce(t.Context()); err != nil {
				t.Fatal(err)
			}
			m := s.smtp.WaitFor(name+"@example.com", "", 10*time.Second)
			if m.Subject != tc.subject || !strings.Contains(m.Text, tc.body) || !strings.Contains(m.HTML, tc.body) {
				t.Errorf("the mail: subject %q, want %q, with %q in both parts:\n%s", m.Subject, tc.subject, tc.body, m.Text)
			}
		})
	}
}
