package console

import (
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/cognitoimport"
	"github.com/cognate-idp/cognate/tenant/password"
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
		tenant.ReasonChallengeFailed, tenant.ReasonNotAdmin, tenant.ReasonMFARequired} {
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
	for _, f := range []string{"min_length", "history_size", "temp_days", "max_failures", "lock_minutes"} {
		keys = append(keys, "problem.range."+f)
	}
	keys = append(keys, slices.Collect(maps.Values(notices))...)
	for _, err := range []error{tenant.ErrSelfLockout, tenant.ErrAdminGroup, tenant.ErrBuiltinClient, tenant.ErrNoEmail,
		tenant.ErrUserState, tenant.ErrConflict, password.ErrPolicy, tenant.ErrInvalid} {
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
