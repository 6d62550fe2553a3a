package auth_test

import (
	"errors"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
)

// An UNCONFIRMED user may have a password: a Cognito export carries the
// hash of one who signed up and never confirmed, and the importer keeps it
// (cognitoimport). Until they are confirmed the right password signs them
// in no more than a wrong one does, and both read alike, so that nobody
// learns the password is right; the trail says why.
func TestUnconfirmedUserWithPasswordCannotSignIn(t *testing.T) {
	e := newEnv(t)
	e.m.Audit = tenant.RecordAudit
	gus := e.user(t, tenant.NewUser{Username: "gus", Password: annPassword})
	// As the importer stores them: the hash, and the status of the export.
	gus.Status = tenant.StatusUnconfirmed
	if err := e.svc.Store.Update(ctx, func(tx tenant.Tx) error { return tenant.UpdateUser(tx, "acme", gus) }); err != nil {
		t.Fatal(err)
	}

	var errs []error
	for _, pw := range []string{annPassword, "Wrong-Horse-9"} {
		e.clk.t = e.clk.t.Add(time.Second)
		res, err := e.m.Start(ctx, "acme", auth.Credentials{Login: "gus", Password: pw, ClientIP: "192.0.2.4"})
		if !errors.Is(err, auth.ErrNotAuthorized) || res.Sub != "" {
			t.Fatalf("password %q: %+v, %v; want ErrNotAuthorized", pw, res, err)
		}
		errs = append(errs, err)
	}
	if right, wrong := errs[0].Error(), errs[1].Error(); right != wrong {
		t.Errorf("the right password reads %q, a wrong one %q: they must read alike", right, wrong)
	}

	page, err := e.svc.AuditLog(ctx, "acme", tenant.AuditQuery{Action: "signin.", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 2 {
		t.Fatalf("trail: %+v, want two refusals", page.Events)
	}
	for _, ev := range page.Events {
		if ev.Action != tenant.AuditSignInFailure || ev.Reason != tenant.ReasonNotActivated || ev.Target.ID != gus.Sub {
			t.Errorf("trail: %s %s for %s, want %s %s for %s", ev.Action, ev.Reason, ev.Target.ID, tenant.AuditSignInFailure, tenant.ReasonNotActivated, gus.Sub)
		}
	}
}
