package legacy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/cognitoimport"
)

// Expected values computed independently, with Python's hmac module.
func TestSecretHash(t *testing.T) {
	pool := tenant.LegacyPool{ClientID: "3abc4client", ClientSecret: "c1ientS3cret"}
	for _, tc := range []struct{ username, want string }{
		{"ann", "6W1edA8mAlY9cw75beEQ7OmRQ3/kDmwVYrnwcTHqL9E="},
		{"zoë@example.com", "n4EW9AIfeAXYSts7moeEkaof2oYPkPgFhaGkXmgYXc8="},
	} {
		if got := secretHash(pool, tc.username); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.username, got, tc.want)
		}
	}
	pool.ClientSecret = ""
	if got := withSecretHash(pool, "ann", map[string]string{}); len(got) != 0 {
		t.Errorf("a client without a secret got %v", got)
	}
}

func TestWebhookSignature(t *testing.T) {
	got := sign("webhook-secret-0123456789abcdef", 1700000000, []byte(`{"a":1}`))
	want := "t=1700000000,v1=b2386c98bb7377fe947f766d1c0d10683d2c0099007f87b23f5136c0982d7359"
	if got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
}

func TestClassify(t *testing.T) {
	apiErr := func(code, msg string) error {
		return fmt.Errorf("operation error: %w", &smithy.GenericAPIError{Code: code, Message: msg})
	}
	for _, tc := range []struct {
		name string
		op   string
		err  error
		want error
	}{
		{"wrong password", "InitiateAuth", apiErr("NotAuthorizedException", "Incorrect username or password."), tenant.ErrLegacyRefused},
		{"disabled", "InitiateAuth", apiErr("NotAuthorizedException", "User is disabled."), tenant.ErrLegacyRefused},
		{"expired temporary password", "InitiateAuth", apiErr("NotAuthorizedException", "Temporary password has expired and must be reset by an administrator."), tenant.ErrLegacyRefused},
		{"unknown user", "InitiateAuth", apiErr("UserNotFoundException", "User does not exist."), tenant.ErrLegacyRefused},
		{"not confirmed", "InitiateAuth", apiErr("UserNotConfirmedException", "User is not confirmed."), tenant.ErrLegacyRefused},
		{"reset required there", "InitiateAuth", apiErr("PasswordResetRequiredException", "Password reset required for the user"), tenant.ErrLegacyRefused},
		{"cognito-local's wrong password", "InitiateAuth", apiErr("InvalidPasswordException", "Invalid password"), tenant.ErrLegacyRefused},
		{"unknown user in AdminGetUser", "AdminGetUser", apiErr("UserNotFoundException", "User does not exist."), tenant.ErrLegacyRefused},
		// The operator's mistakes are not the user's.
		{"wrong client secret", "InitiateAuth", apiErr("NotAuthorizedException", "Unable to verify secret hash for client 3abc4client"), tenant.ErrLegacyUnavailable},
		{"missing client secret", "InitiateAuth", apiErr("NotAuthorizedException", "Client 3abc4client is configured with secret but SECRET_HASH was not received"), tenant.ErrLegacyUnavailable},
		{"flow not enabled", "InitiateAuth", apiErr("InvalidParameterException", "USER_PASSWORD_AUTH flow not enabled for this client"), tenant.ErrLegacyUnavailable},
		{"no such pool", "InitiateAuth", apiErr("ResourceNotFoundException", "User pool client 3abc4client does not exist."), tenant.ErrLegacyUnavailable},
		{"admin keys refused", "AdminGetUser", apiErr("AccessDeniedException", "not authorized to perform: cognito-idp:AdminGetUser"), tenant.ErrLegacyUnavailable},
		{"policy on a new password", "RespondToAuthChallenge", apiErr("InvalidPasswordException", "Password did not conform with policy"), tenant.ErrLegacyUnavailable},
		{"throttled", "InitiateAuth", apiErr("TooManyRequestsException", "Rate exceeded"), tenant.ErrLegacyUnavailable},
		{"internal error", "InitiateAuth", apiErr("InternalErrorException", "Internal error"), tenant.ErrLegacyUnavailable},
		{"lambda failed", "InitiateAuth", apiErr("UserLambdaValidationException", "PreAuthentication failed"), tenant.ErrLegacyUnavailable},
		{"cognito-local unsupported", "InitiateAuth", apiErr("CognitoLocal#Unsupported", "InitAuth with AuthFlow=USER_SRP_AUTH"), tenant.ErrLegacyUnavailable},
		{"network", "InitiateAuth", fmt.Errorf("dial tcp 127.0.0.1:1: connect: connection refused"), tenant.ErrLegacyUnavailable},
		{"deadline", "InitiateAuth", context.DeadlineExceeded, tenant.ErrLegacyUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := classify(tc.op, tc.err)
			if !errors.Is(got, tc.want) {
				t.Errorf("%v, want %v", got, tc.want)
			}
		})
	}
	// Already sorted errors keep their kind.
	refused := fmt.Errorf("%w: disabled", tenant.ErrLegacyRefused)
	if got := classify("AdminGetUser", refused); got != refused {
		t.Errorf("re-classified: %v", got)
	}
}

func jwt(t *testing.T, claims map[string]any) string {
	t.Helper()
	raw, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(raw) + ".c2ln"
}

func TestAccountFromClaims(t *testing.T) {
	token := jwt(t, map[string]any{
		"sub": "3f6c1a2e-0000-4000-8000-000000000001", "cognito:username": "ann", "aud": "client", "iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_X",
		"token_use": "id", "auth_time": 1700000000, "exp": 1700003600, "event_id": "e",
		"email": "ann@example.com", "email_verified": true, "phone_number_verified": false,
		"given_name": "Ann", "updated_at": 1682955829, "address": map[string]any{"formatted": "Main St 1"},
		"custom:planner_id": "p-17", "cognito:groups": []any{"staff", "admins"}, "identities": []any{map[string]any{"providerName": "x"}},
	})
	claims, err := idTokenClaims(token)
	if err != nil {
		t.Fatal(err)
	}
	got, err := accountFromClaims(claims)
	if err != nil {
		t.Fatal(err)
	}
	want := tenant.LegacyAccount{
		Username: "ann", Sub: "3f6c1a2e-0000-4000-8000-000000000001", Email: "ann@example.com", EmailVerified: true,
		Attributes: map[string]string{"given_name": "Ann", "updated_at": "1682955829", "address": "Main St 1",
			"custom:planner_id": "p-17", "phone_number_verified": "false"},
		Groups: []string{"staff", "admins"}, GroupsKnown: true,
	}
	if got.Username != want.Username || got.Sub != want.Sub || got.Email != want.Email || got.EmailVerified != want.EmailVerified ||
		!maps.Equal(got.Attributes, want.Attributes) || !slices.Equal(got.Groups, want.Groups) || !got.GroupsKnown {
		t.Errorf("account\n %+v\nwant\n %+v", got, want)
	}

	// email_verified as Cognito's attribute string; no groups claim means
	// no groups.
	claims, _ = idTokenClaims(jwt(t, map[string]any{"sub": "s", "cognito:username": "bo", "email": "bo@example.com", "email_verified": "false"}))
	if got, err := accountFromClaims(claims); err != nil || got.EmailVerified || !got.GroupsKnown || len(got.Groups) != 0 {
		t.Errorf("string email_verified, no groups: %+v, %v", got, err)
	}

	for _, bad := range []string{"", "a.b", "a.!!!.c", "a." + base64.RawURLEncoding.EncodeToString([]byte("[1]")) + ".c"} {
		if _, err := idTokenClaims(bad); !errors.Is(err, errMalformedToken) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// A sub that no user can have here (tenant.ValidateSub: the admin API and
// the console could not name the user) makes a pool's answer unusable, as
// an unreadable one: the sign-in is temporarily unavailable, nothing is
// created. The same rule as the bulk import's.
func TestPoolSubRefused(t *testing.T) {
	for _, sub := range []string{"a/b", "..", ".", "has space", strings.Repeat("x", 200), "ünï", ""} {
		claims := map[string]any{"sub": sub, "cognito:username": "ann"}
		if _, err := accountFromClaims(claims); !errors.Is(err, tenant.ErrLegacyUnavailable) || !errors.Is(err, tenant.ErrInvalid) {
			t.Errorf("ID token with sub %q: %v, want ErrLegacyUnavailable", sub, err)
		}
		attrs := attributeValues{"sub": sub, "email": "ann@example.com"}
		if _, err := accountFromMigration(triggerAuthentication, "ann", migrationResponse{UserAttributes: attrs, FinalUserStatus: "CONFIRMED"}); !errors.Is(err, tenant.ErrLegacyUnavailable) {
			t.Errorf("webhook answer with sub %q: %v, want ErrLegacyUnavailable", sub, err)
		}
	}
	if acct, err := accountFromClaims(map[string]any{"sub": "auth0|5f7c8ec7", "cognito:username": "ann"}); err != nil || acct.Sub != "auth0|5f7c8ec7" {
		t.Errorf("a sub of another system: %+v, %v", acct, err)
	}
}

func TestAccountFromMigration(t *testing.T) {
	attrs := func(kv ...string) attributeValues {
		m := attributeValues{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name      string
		trigger   string
		resp      migrationResponse
		wantErr   error
		wantUser  string
		wantState tenant.UserStatus
	}{
		{"confirmed", triggerAuthentication, migrationResponse{UserAttributes: attrs("email", "a@example.com", "email_verified", "true"), FinalUserStatus: "CONFIRMED"}, nil, "typed", tenant.StatusConfirmed},
		{"no final status: reset", triggerAuthentication, migrationResponse{UserAttributes: attrs("email", "a@example.com")}, nil, "typed", tenant.StatusResetRequired},
		{"reset required", triggerAuthentication, migrationResponse{UserAttributes: attrs("email", "a@example.com"), FinalUserStatus: "RESET_REQUIRED"}, nil, "typed", tenant.StatusResetRequired},
		{"alias: username given", triggerAuthentication, migrationResponse{UserAttributes: attrs("username", "ann", "email", "a@example.com"), FinalUserStatus: "CONFIRMED"}, nil, "ann", tenant.StatusConfirmed},
		{"no attributes", triggerAuthentication, migrationResponse{FinalUserStatus: "CONFIRMED"}, tenant.ErrLegacyUnavailable, "", ""},
		{"forgot", triggerForgotPassword, migrationResponse{UserAttributes: attrs("email", "a@example.com", "email_verified", "true")}, nil, "typed", tenant.StatusResetRequired},
		{"forgot, unverified", triggerForgotPassword, migrationResponse{UserAttributes: attrs("email", "a@example.com", "email_verified", "false")}, tenant.ErrLegacyRefused, "", ""},
		{"forgot, no email", triggerForgotPassword, migrationResponse{UserAttributes: attrs("phone_number", "+31600000000")}, tenant.ErrLegacyRefused, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acct, err := accountFromMigration(tc.trigger, "typed", tc.resp)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || acct.Username != tc.wantUser || acct.Status != tc.wantState {
				t.Fatalf("%+v, %v", acct, err)
			}
			if _, ok := acct.Attributes["username"]; ok {
				t.Error("username kept as an attribute")
			}
		})
	}

	// Lenient values: booleans and numbers as Cognito's strings.
	var ev migrationEvent
	if err := json.Unmarshal([]byte(`{"response":{"userAttributes":{"email":"a@example.com","email_verified":true,"custom:n":7}}}`), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Response.UserAttributes["email_verified"] != "true" || ev.Response.UserAttributes["custom:n"] != "7" {
		t.Errorf("lenient attributes: %v", ev.Response.UserAttributes)
	}
}

func TestMarkMFA(t *testing.T) {
	var acct tenant.LegacyAccount
	markMFA(&acct)
	if acct.Attributes[cognitoimport.AttrMFAReenroll] != "true" {
		t.Errorf("not marked: %v", acct.Attributes)
	}
}
