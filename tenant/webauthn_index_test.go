package tenant_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
)

// addCredential gives sub a WebAuthn credential with ID id through
// tenant.UpdateUser, as tenant/auth stores a registration.
func addCredential(svc *tenant.Service, tenantID, sub string, id []byte) error {
	return svc.Store.Update(context.Background(), func(tx tenant.Tx) error {
		u, err := tenant.GetUser(tx, tenantID, sub)
		if err != nil {
			return err
		}
		u.MFA.WebAuthn = append(u.MFA.WebAuthn, tenant.WebAuthnFactor{ID: id, RPID: tenantID + ".localhost", Credential: json.RawMessage(`{}`)})
		return tenant.UpdateUser(tx, tenantID, u)
	})
}

func credentialOwner(svc *tenant.Service, tenantID string, id []byte) (string, error) {
	var sub string
	err := svc.Store.View(context.Background(), func(tx tenant.Tx) (err error) {
		sub, err = tenant.WebAuthnCredentialOwner(tx, tenantID, id)
		return err
	})
	return sub, err
}

// A credential ID is registered to one user of a tenant at most (WebAuthn
// §7.1): the index refuses it for a second user, or twice for the same
// one, in the transaction that would store it, and follows the credential
// when it is removed, reset, or its user or tenant deleted.
func TestWebAuthnCredentialIndex(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	for _, slug := range []string{"acme", "beta"} {
		if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: slug}); err != nil {
			t.Fatal(err)
		}
	}
	newUser := func(tenantID, name string) tenant.User {
		u, err := svc.CreateUser(ctx, tenantID, tenant.NewUser{Username: name, Password: "Correct-Horse-9"})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	ann, bob, cat := newUser("acme", "ann"), newUser("acme", "bob"), newUser("beta", "cat")
	id := []byte("one-credential-id")
	owner := func(tenantID string) string {
		t.Helper()
		sub, err := credentialOwner(svc, tenantID, id)
		if errors.Is(err, tenant.ErrNotFound) {
			return ""
		}
		if err != nil {
			t.Fatal(err)
		}
		return sub
	}
	factors := func(sub string) int {
		u, err := svc.User(ctx, "acme", sub)
		if err != nil {
			t.Fatal(err)
		}
		return len(u.MFA.WebAuthn)
	}

	steps := []struct {
		name      string
		do        func() error
		want      error
		wantOwner string // acme's index entry for id after the step
	}{
		{"ann registers it", func() error { return addCredential(svc, "acme", ann.Sub, id) }, nil, ann.Sub},
		{"bob registers it too", func() error { return addCredential(svc, "acme", bob.Sub, id) }, tenant.ErrCredentialInUse, ann.Sub},
		{"ann registers it again", func() error { return addCredential(svc, "acme", ann.Sub, id) }, tenant.ErrCredentialInUse, ann.Sub},
		// Tenants are pools of their own: another tenant's user may have it.
		{"cat at beta registers it", func() error { return addCredential(svc, "beta", cat.Sub, id) }, nil, ann.Sub},
		{"ann removes it", func() error {
			return svc.RemoveMFAFactor(ctx, "acme", ann.Sub, tenant.WebAuthnFactorID(id))
		}, nil, ""},
		{"bob registers it now", func() error { return addCredential(svc, "acme", bob.Sub, id) }, nil, bob.Sub},
		{"bob's MFA is reset", func() error { return svc.ResetMFA(ctx, "acme", bob.Sub) }, nil, ""},
		{"ann registers it once more", func() error { return addCredential(svc, "acme", ann.Sub, id) }, nil, ann.Sub},
		{"ann is deleted", func() error { return svc.DeleteUser(ctx, "acme", ann.Sub) }, nil, ""},
		{"bob registers it last", func() error { return addCredential(svc, "acme", bob.Sub, id) }, nil, bob.Sub},
	}
	for _, st := range steps {
		bobBefore := factors(bob.Sub)
		if err := st.do(); !errors.Is(err, st.want) {
			t.Fatalf("%s: %v, want %v", st.name, err, st.want)
		}
		if got := owner("acme"); got != st.wantOwner {
			t.Fatalf("%s: the index gives the credential to %q, want %q", st.name, got, st.wantOwner)
		}
		if st.want != nil && factors(bob.Sub) != bobBefore {
			t.Fatalf("%s: refused, but bob's record changed", st.name)
		}
	}
	if got := owner("beta"); got != cat.Sub {
		t.Errorf("beta's index gives the credential to %q, want cat", got)
	}

	// A deleted tenant takes its index along: a new tenant of the same
	// name starts without it, and with its index complete.
	if err := svc.DeleteTenant(ctx, "beta"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "beta"}); err != nil {
		t.Fatal(err)
	}
	if got := owner("beta"); got != "" {
		t.Errorf("the new beta's index gives the credential to %q", got)
	}
	if n, shared, err := tenant.IndexWebAuthnCredentials(ctx, svc.Store); err != nil || n != 0 || shared != nil {
		t.Errorf("start-up pass over indexed tenants: %d tenants, shared %v, %v", n, shared, err)
	}
}

// A store written before the credential index existed gets it at start-up.
// A credential ID that the older version let two users register stays with
// the first by sub and is reported.
func TestIndexWebAuthnCredentials(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	if _, err := svc.CreateTenant(ctx, tenant.NewTenant{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	var users []tenant.User
	for _, name := range []string{"ann", "bob", "cat"} {
		u, err := svc.CreateUser(ctx, "acme", tenant.NewUser{Username: name, Password: "Correct-Horse-9"})
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	// What the older version wrote: every user has its own credential and
	// one ID is on two users, on the records and in no index.
	shared := []byte("shared-id")
	err := svc.Store.Update(ctx, func(tx tenant.Tx) error {
		for i, u := range users {
			u.MFA.WebAuthn = []tenant.WebAuthnFactor{{ID: []byte(u.Username + "-credential"), Credential: json.RawMessage(`{}`)}}
			if i < 2 {
				u.MFA.WebAuthn = append(u.MFA.WebAuthn, tenant.WebAuthnFactor{ID: shared, Credential: json.RawMessage(`{}`)})
			}
			if err := tenant.PutJSON(tx, tenant.CollUsers, "acme", u.Sub, u); err != nil {
				return err
			}
		}
		var keys []string
		err := tx.Scan(tenant.CollWebAuthnCreds, "acme", "", "", func(key string, _ []byte) bool {
			keys = append(keys, key)
			return true
		})
		for _, k := range keys {
			if err := tx.Delete(tenant.CollWebAuthnCreds, "acme", k); err != nil {
				return err
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	n, found, err := tenant.IndexWebAuthnCredentials(ctx, svc.Store)
	if err != nil || n != 1 {
		t.Fatalf("indexed %d tenants, %v", n, err)
	}
	first, second := users[0].Sub, users[1].Sub
	if first > second {
		first, second = second, first
	}
	want := tenant.SharedCredential{Tenant: "acme", FactorID: tenant.WebAuthnFactorID(shared), Owner: first, Other: second}
	if len(found) != 1 || found[0] != want {
		t.Errorf("shared credentials %+v, want [%+v]", found, want)
	}
	for _, u := range users {
		if sub, err := credentialOwner(svc, "acme", []byte(u.Username+"-credential")); err != nil || sub != u.Sub {
			t.Errorf("%s's credential: owner %q, %v", u.Username, sub, err)
		}
	}
	if sub, _ := credentialOwner(svc, "acme", shared); sub != first {
		t.Errorf("the shared ID is given to %q, want the first sub %q", sub, first)
	}
	// Now indexed, registering an ID of the older data is refused.
	if err := addCredential(svc, "acme", users[2].Sub, shared); !errors.Is(err, tenant.ErrCredentialInUse) {
		t.Errorf("registering the shared ID again: %v", err)
	}
	if n, found, err := tenant.IndexWebAuthnCredentials(ctx, svc.Store); err != nil || n != 0 || found != nil {
		t.Errorf("second run indexed %d tenants, shared %v, %v", n, found, err)
	}
}
