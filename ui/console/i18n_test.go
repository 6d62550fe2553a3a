package console

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/cognitoimport"
	"github.com/cognate-idp/cognate/tenant/password"
	"github.com/cognate-idp/cognate/ui"
)

// Keys the Go code builds at run time, from states, actions, reasons and
// outcomes, must be in both catalogues: text would otherwise show the key.
// (Keys in templates are checked by New, the languages against each other
// by checkCatalogue.)
func TestCatalogueHoldsEveryKeyTheCodeNames(t *testing.T) {
	if err := checkCatalogue(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, sf := range stateFilters {
		keys = append(keys, "status."+sf.value)
	}
	keys = append(keys, "status."+stateOther)
	for _, a := range tenant.AuditActions() {
		keys = append(keys, "audit."+string(a))
	}
	for _, r := range []string{tenant.ReasonUnknownUser, tenant.ReasonWrongPassword, tenant.ReasonDisabled,
		tenant.ReasonNotActivated, tenant.ReasonLocked, tenant.ReasonTempPasswordExpired,
		tenant.ReasonChallengeFailed, tenant.ReasonNotAdmin, tenant.ReasonMFARequired, tenant.ReasonChangedDuringSignIn} {
		keys = append(keys, "audit.reason."+r)
	}
	for _, k := range []tenant.ActorKind{tenant.ActorOperator, tenant.ActorAdmin, tenant.ActorUser, tenant.ActorSystem} {
		keys = append(keys, "audit.actor."+string(k))
	}
	for _, fam := range []string{"signin", "console", "user", "group", "client", "tenant"} {
		keys = append(keys, "audit.family."+fam)
	}
	for _, o := range []cognitoimport.Outcome{cognitoimport.Created, cognitoimport.Updated, cognitoimport.Skipped, cognitoimport.Failed} {
		keys = append(keys, "import.outcome."+string(o))
	}
	for _, code := range cognitoimport.ReasonCodes() {
		keys = append(keys, "import.reason."+code)
	}
	for _, f := range []string{"min_length", "history_size", "temp_days", "max_failures", "lock_minutes"} {
		keys = append(keys, "problem.range."+f)
	}
	keys = append(keys, slices.Collect(maps.Values(notices))...)
	for _, k := range auditDetailKeys {
		keys = append(keys, "audit.detail."+k)
	}
	for _, in := range []section{usersSection, groupsSection, clientsSection} {
		keys = append(keys, in.name, in.gone)
	}
	keys = append(keys, ui.StatusHeading(http.StatusMethodNotAllowed))
	for _, err := range []error{tenant.ErrSelfLockout, tenant.ErrAdminGroup, tenant.ErrBuiltinClient, tenant.ErrNoEmail,
		tenant.ErrUserState, tenant.ErrStale, tenant.ErrConflict, password.ErrPolicy, tenant.ErrInvalid} {
		key := problemKey(err)
		if key == "" {
			t.Errorf("problemKey(%v) is empty", err)
		}
		keys = append(keys, key)
	}
	if problemKey(errors.New("disk on fire")) != "" {
		t.Error("a fault of ours reads as a problem the person can act on")
	}
	for _, lang := range []string{"en", "nl"} {
		for _, k := range keys {
			if _, ok := catalogue[lang][k]; !ok {
				t.Errorf("catalogue %s lacks %q", lang, k)
			}
		}
	}
}

// Every rule of the tenant's validators reads in both languages on a
// form that broke it (formProblemOf), not as "this change is not valid",
// with every value the rule names.
func TestEveryTenantRuleInEveryLanguage(t *testing.T) {
	for _, code := range tenant.InvalidCodes() {
		// As many values as the rule's English takes (up to three).
		var args []any
		for n := range 4 {
			inv := &tenant.InvalidError{Code: code}
			for i := range n {
				inv.Args = append(inv.Args, fmt.Sprintf("ARG%d", i))
			}
			if !strings.Contains(inv.Reason(), "%!") {
				for _, a := range inv.Args {
					args = append(args, a)
				}
				break
			}
		}
		for _, lang := range []string{"en", "nl"} {
			format, ok := catalogue[lang]["import.reason."+code]
			if !ok {
				t.Errorf("catalogue %s has no words for rule %s", lang, code)
				continue
			}
			text := fmt.Sprintf(format, args...)
			if strings.Contains(text, "%!") {
				t.Errorf("%s, %s: %q", code, lang, text)
			}
			for _, a := range args {
				if !strings.Contains(text, a.(string)) {
					t.Errorf("%s, %s: %q leaves out %s", code, lang, text, a)
				}
			}
		}
	}
}

// Every reason the importer can give reads in both languages with all its
// values, and the console's English is the importer's (which the admin API
// and the command line show), word for word.
func TestImportReasonsInEveryLanguage(t *testing.T) {
	for _, code := range cognitoimport.ReasonCodes() {
		r, ok := cognitoimport.SampleReason(code)
		if !ok {
			t.Errorf("%s: the importer's English takes no number of values from 0 to 3 cleanly", code)
			continue
		}
		l := cognitoimport.LineResult{Reason: r.String(), Reasons: []cognitoimport.Reason{r}}
		if got := reasonText("en", l); got != r.String() {
			t.Errorf("%s: the console says %q in English, the importer %q", code, got, r.String())
		}
		nl := reasonText("nl", l)
		if nl == r.String() || strings.Contains(nl, "%!") {
			t.Errorf("%s: Dutch %q", code, nl)
		}
		for _, a := range r.Args {
			if !strings.Contains(nl, a) {
				t.Errorf("%s: Dutch %q leaves out %s", code, nl, a)
			}
		}
	}
}

func TestReasonTextFallsBackToEnglish(t *testing.T) {
	mfa := cognitoimport.Reason{Code: cognitoimport.CodeNoteMFAReenroll, Args: []string{"custom:mfa_reenroll"}}
	tests := []struct {
		name string
		line cognitoimport.LineResult
		want string
	}{
		{"an unknown code", cognitoimport.LineResult{Reason: mfa.String() + "; something new",
			Reasons: []cognitoimport.Reason{mfa, {Code: "something.new"}}}, mfa.String() + "; something new"},
		{"known codes", cognitoimport.LineResult{Reason: "in English", Reasons: []cognitoimport.Reason{mfa, {Code: cognitoimport.CodeNotePasswordKept}}},
			"MFA stond aan in Cognito en moet opnieuw worden ingesteld (Cognito exporteert geen MFA-geheimen); gemarkeerd met custom:mfa_reenroll; " +
				"de gebruiker heeft hier al een wachtwoord; dat is behouden en de geïmporteerde hash is niet gebruikt"},
		{"nothing to say", cognitoimport.LineResult{}, ""},
	}
	for _, tc := range tests {
		if got := reasonText("nl", tc.line); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// A file the importer refused reads in the page's language: its reason,
// then the problems of its header after a colon, as in the importer's
// English, which the English page gives word for word. A code the
// catalogue lacks leaves the whole text in English.
func TestFileProblemText(t *testing.T) {
	_, err := cognitoimport.NewCSVReader(strings.NewReader("cognito:username,emial,email_verified\n"))
	var fe *cognitoimport.FileError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v, want a *FileError", err)
	}
	if got := fileProblemText("en", fe); got != fe.Problem() {
		t.Errorf("English %q, the importer's %q", got, fe.Problem())
	}
	const nl = `de kopregel is niet die van Cognito: kolom 2: "emial" is geen attribuut van Cognito ` +
		"(standaardnamen, custom:<naam>, cognito:username, cognito:mfa_enabled, cognate:password_hash); " +
		"de verplichte kolom cognito:mfa_enabled ontbreekt"
	if got := fileProblemText("nl", fe); got != nl {
		t.Errorf("Dutch %q\nwant  %q", got, nl)
	}
	empty := &cognitoimport.FileError{Reason: cognitoimport.Reason{Code: cognitoimport.CodeCSVEmpty}}
	if got := fileProblemText("nl", empty); !strings.HasPrefix(got, "het bestand is leeg;") {
		t.Errorf("an empty file in Dutch: %q", got)
	}
	unknownDetail := &cognitoimport.FileError{Line: 1, Reason: fe.Reason, Details: append(slices.Clone(fe.Details), cognitoimport.Reason{Code: "something.new"})}
	unknownReason := &cognitoimport.FileError{Reason: cognitoimport.Reason{Code: "something.new"}, Details: fe.Details}
	for _, e := range []*cognitoimport.FileError{unknownDetail, unknownReason} {
		if got := fileProblemText("nl", e); got != e.Problem() {
			t.Errorf("with an unknown code: %q, want the English %q", got, e.Problem())
		}
	}

	bom := cognitoimport.Reason{Code: cognitoimport.CodeCSVByteOrderMark}
	if got := warningText("en", bom); got != bom.String() {
		t.Errorf("the warning in English: %q, the importer's %q", got, bom.String())
	}
	if got := warningText("nl", bom); !strings.Contains(got, "bytevolgordemarkering (BOM)") {
		t.Errorf("the warning in Dutch: %q", got)
	}
	if got := warningText("nl", cognitoimport.Reason{Code: "something.new"}); got != "something.new" {
		t.Errorf("an unknown warning: %q, want the importer's English", got)
	}
}

// auditDetailKeys are the keys of the details Cognate records in the audit
// trail (tenant, tenant/auth, the console's own sign-in).
var auditDetailKeys = []string{"fields", "groups", "group", "status", "amr", "kind", "name", "from", "members",
	"permanent", "temporary", "kid", "source", "clone_warning", "created", "updated", "skipped", "failed", "retired"}

// The audit trail names a detail in the page's language, and a key it does
// not know (a newer Cognate's) as it is.
func TestAuditDetailNames(t *testing.T) {
	tests := []struct{ lang, key, want string }{
		{"en", "fields", "fields"},
		{"nl", "fields", "velden"},
		{"nl", "group", "groep"},
		{"en", "amr", "sign-in methods"},
		{"nl", "amr", "inlogmethoden"},
		{"nl", "something_new", "something_new"},
		{"fr", "group", "group"},
	}
	for _, tt := range tests {
		f := &frame{Lang: tt.lang}
		if got := f.detailName(tt.key); got != tt.want {
			t.Errorf("%s %q: %q, want %q", tt.lang, tt.key, got, tt.want)
		}
	}
}
