package ui_test

import (
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/mfa/mfatest"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
	"github.com/cognate-idp/cognate/ui/uitest"
)

// A security key or passkey whose credential ID is registered already (an
// authenticator forged to repeat the ID of ann's key) is refused on the
// account page with a sentence of its own, in English and Dutch, and one
// log line; nothing is added.
func TestKeyRegisteredAlready(t *testing.T) {
	ms := newMFAStack(t, tenant.MFAPolicy{Mode: tenant.MFAOptional})
	s := ms.acme
	ann := s.addUserAt(t, "ann")
	annKey := mfatest.NewSecurityKey(t)
	res, err := ms.machine.BeginEnrolment(t.Context(), "acme", ann.Sub, auth.WebAuthn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ms.machine.FinishEnrolment(t.Context(), "acme", ann.Sub, res.Session,
		auth.Answer{Credential: annKey.Register(res.MFA.WebAuthnOptions, s.tenantURL)}); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct{ login, lang, want string }{
		{"bob", "", "This security key or passkey is registered already, to your account or another. Register a different one."},
		{"cat", "nl", "Deze beveiligingssleutel of passkey is al geregistreerd, voor uw account of een ander. Registreer een andere."},
	} {
		t.Run(tt.login, func(t *testing.T) {
			u := s.addUserAt(t, tt.login)
			b := newBrowser(t)
			if tt.lang != "" {
				b.Header.Set("Accept-Language", tt.lang)
			}
			b.signedInAt(s, u.Sub, time.Now())
			add := b.postForm(b.Get(s.tenantURL+"/account"), "/account/mfa/add", map[string]string{"kind": "WEB_AUTHN"})
			m := optionsRe.FindStringSubmatch(add.Body)
			if m == nil {
				t.Fatalf("no options on the page:\n%s", add.Body)
			}
			forged := mfatest.NewSecurityKey(t)
			forged.UseCredentialID(annKey.CredentialID())
			mark := ms.log.Mark()
			refused := b.postForm(add, "/account/mfa/setup", map[string]string{"name": "Copy",
				"credential": string(forged.Register([]byte(html.UnescapeString(m[1])), s.tenantURL))})
			lines := ms.log.Since(mark)
			if refused.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422:\n%s", refused.Status, refused.Body)
			}
			uitest.MustContain(t, refused, html.EscapeString(tt.want))
			if len(lines) != 1 || !strings.Contains(lines[0], "registered already") {
				t.Errorf("logged %d lines, want the state machine's one:\n%s", len(lines), strings.Join(lines, "\n"))
			}
			if after, _ := s.svc.User(t.Context(), "acme", u.Sub); after.MFA.HasFactor() {
				t.Errorf("%s has a factor after the refusal: %+v", tt.login, after.MFA)
			}
		})
	}
}
