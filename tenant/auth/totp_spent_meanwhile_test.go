package auth_test

import (
	"errors"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
)

// Two sign-ins of one user at the TOTP step, answered with the same code,
// the second checked before the first commits: a TOTP code is good once
// (RFC 6238 §5.2), so the one that commits second is refused, although the
// code was unspent when it checked it. Spending a step changes nothing of
// what a sign-in stands on (the secret stays the same), so only the
// transaction that commits the step can tell.
func TestTOTPCodeSpentMeanwhile(t *testing.T) {
	e := mfaEnv(t, tenant.MFAPolicy{Mode: tenant.MFAOptional})
	ann := e.user(t, tenant.NewUser{Username: "ann", Password: annPassword})
	secret := e.enrolTOTP(t, ann.Sub)
	mine, theirs := e.signIn(t, "acme", "ann"), e.signIn(t, "acme", "ann")
	code := totpCode(secret, e.clk.t)

	// The other sign-in commits right after this one has read the user,
	// whose last spent step is still the one before.
	var theirDone auth.Result
	var theirErr error
	store := &interleavedStore{Store: e.m.Store}
	e.m.Store = store
	store.between = func() {
		theirDone, theirErr = e.answer(theirs.Session, auth.Answer{Challenge: auth.SoftwareTokenMFA, Code: code})
	}
	done, err := e.answer(mine.Session, auth.Answer{Challenge: auth.SoftwareTokenMFA, Code: code})
	if theirErr != nil || !theirDone.Done() {
		t.Fatalf("the sign-in that commits first: %+v, %v; want it done", theirDone, theirErr)
	}
	if !errors.Is(err, auth.ErrCodeReused) || len(done.AMR) != 0 {
		t.Fatalf("the same code, committed second: %+v, %v; want ErrCodeReused", done, err)
	}
}
