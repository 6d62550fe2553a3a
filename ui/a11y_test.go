package ui_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/ui/uitest"
)

// The pages tell assistive technology which field a refusal is about: that
// field, and only that one, is aria-invalid, described by the error
// (#form-error) and focused when the page loads.

// fieldTagRe matches the opening tag of a field of a page.
var (
	fieldTagRe = regexp.MustCompile(`<(?:input|textarea|select)\b[^>]*>`)
	attrRe     = regexp.MustCompile(`\s([a-z-]+)(?:="([^"]*)")?`)
)

// field is what a page says of one of its fields.
type field struct {
	id                 string
	invalid, autofocus bool
	describedBy        []string
}

// pageFields lists the fields of body that have an id.
func pageFields(body string) []field {
	var out []field
	for _, tag := range fieldTagRe.FindAllString(body, -1) {
		var f field
		for _, m := range attrRe.FindAllStringSubmatch(tag, -1) {
			switch m[1] {
			case "id":
				f.id = m[2]
			case "aria-invalid":
				f.invalid = m[2] == "true"
			case "autofocus":
				f.autofocus = true
			case "aria-describedby":
				f.describedBy = strings.Fields(m[2])
			}
		}
		if f.id != "" {
			out = append(out, f)
		}
	}
	return out
}

// mustFault fails unless the fields at fault on p are exactly ids, each
// described by the error, and the one focused is ids[0].
func mustFault(t *testing.T, p page, ids ...string) {
	t.Helper()
	var invalid, focused []string
	for _, f := range pageFields(p.Body) {
		if f.invalid {
			invalid = append(invalid, f.id)
			if !slices.Contains(f.describedBy, "form-error") {
				t.Errorf("#%s is aria-invalid, but not described by the error (aria-describedby %q)", f.id, f.describedBy)
			}
		} else if slices.Contains(f.describedBy, "form-error") {
			t.Errorf("#%s is described by the error, but is not at fault", f.id)
		}
		if f.autofocus {
			focused = append(focused, f.id)
		}
	}
	slices.Sort(invalid)
	want := slices.Sorted(slices.Values(ids))
	if !slices.Equal(invalid, want) {
		t.Errorf("fields at fault (aria-invalid) %q, want %q", invalid, want)
	}
	if len(ids) > 0 && !slices.Equal(focused, ids[:1]) {
		t.Errorf("focused (autofocus) %q, want %q", focused, ids[:1])
	}
}

// TestSetupPagesHelpToCopyInTime: the pages of a step with a time limit
// say so, in both languages; the TOTP set-up page leaves the focus at the
// top, where its steps and key are, offers the key as an otpauth:// link
// for an app on the same phone, and the key and the recovery codes have
// copy buttons whose result a live region announces.
func TestSetupPagesHelpToCopyInTime(t *testing.T) {
	requireOathtool(t)
	ms := newMFAStack(t, tenant.MFAPolicy{Mode: tenant.MFARequired})
	s := ms.acme
	s.addUserAt(t, "ann")
	b := newBrowser(t)

	const limit = "You have 10 minutes to finish this step."
	choose := b.submit(s.startLogin(t, b), map[string]string{"login": "ann", "password": goodPassword})
	uitest.MustContain(t, choose, "Set up two-step verification", limit)
	setup := b.submit(choose, map[string]string{"kind": "SOFTWARE_TOKEN_MFA"})
	uitest.MustContain(t, setup, limit, `href="otpauth://totp/Acme%20BV:ann?`,
		`data-copy="totp-secret"`, ">Copy the key</button>", `<span class="copied" role="status"></span>`)
	for _, f := range pageFields(setup.Body) {
		if f.autofocus {
			t.Errorf("#%s has the focus; it would skip the steps and the key before it", f.id)
		}
	}
	codes := b.submit(setup, map[string]string{"code": oathtool(t, pageSecret(t, setup), time.Now())})
	uitest.MustContain(t, codes, `data-copy="recovery-codes"`, ">Copy the codes</button>", `role="status"`)

	nl := newBrowser(t)
	nl.Header.Set("Accept-Language", "nl")
	s.addUserAt(t, "bob")
	kies := nl.submit(s.startLogin(t, nl), map[string]string{"login": "bob", "password": goodPassword})
	uitest.MustContain(t, nl.submit(kies, map[string]string{"kind": "SOFTWARE_TOKEN_MFA"}),
		"U hebt 10 minuten om deze stap af te ronden.", "Sleutel kopiëren", "Open de sleutel in een authenticator-app op dit apparaat")
}
