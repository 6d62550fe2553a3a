package legacy

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"

	"github.com/cognate-idp/cognate/tenant"
)

// A legacy Cognito user pool, spoken to through the AWS SDK for Go v2.
// InitiateAuth and RespondToAuthChallenge are unsigned calls (the app
// client ID and SECRET_HASH authorize them); the Admin* reads are signed
// with the tenant's administrator keys when it has them.

// cognitoClient is an SDK client for pool. It is cheap to make, so each
// conversation makes its own and no client outlives a settings change.
func (d *Directory) cognitoClient(pool tenant.LegacyPool) *cip.Client {
	opts := cip.Options{
		Region:     pool.AWSRegion(),
		HTTPClient: d.httpClient(),
		// One retry for a dropped connection or a throttled call; the
		// context's deadline bounds the whole conversation anyway.
		RetryMaxAttempts: 2,
		Credentials:      aws.AnonymousCredentials{},
		Logger:           logging.Nop{},
	}
	if pool.Endpoint != "" {
		opts.BaseEndpoint = aws.String(pool.Endpoint)
	}
	if pool.Admin.Set() {
		opts.Credentials = credentials.NewStaticCredentialsProvider(pool.Admin.AccessKeyID, pool.Admin.SecretAccessKey, "")
	}
	return cip.New(opts)
}

// secretHash is Cognito's SECRET_HASH, Base64(HMAC-SHA256(clientSecret,
// username + clientId)), or "" for an app client without a secret.
func secretHash(pool tenant.LegacyPool, username string) string {
	if pool.ClientSecret == "" {
		return ""
	}
	mac := hmac.New(sha256.New, []byte(pool.ClientSecret))
	mac.Write([]byte(username + pool.ClientID))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// withSecretHash adds SECRET_HASH to params when the client has a secret.
func withSecretHash(pool tenant.LegacyPool, username string, params map[string]string) map[string]string {
	if h := secretHash(pool, username); h != "" {
		params["SECRET_HASH"] = h
	}
	return params
}

// authAnswer is what InitiateAuth or RespondToAuthChallenge ended with.
type authAnswer struct {
	result    *types.AuthenticationResultType
	challenge types.ChallengeNameType
	params    map[string]string
}

// cognitoAuthenticate checks a password: USER_PASSWORD_AUTH first, and SRP
// when the app client does not allow that flow (or the pool is set to SRP).
func (d *Directory) cognitoAuthenticate(ctx context.Context, pool tenant.LegacyPool, login, password string) (tenant.LegacyAccount, error) {
	client := d.cognitoClient(pool)
	var (
		ans authAnswer
		err error
	)
	flow := pool.AuthFlow
	if flow != tenant.FlowUserSRP {
		var out *cip.InitiateAuthOutput
		out, err = client.InitiateAuth(ctx, &cip.InitiateAuthInput{
			AuthFlow:       types.AuthFlowTypeUserPasswordAuth,
			ClientId:       aws.String(pool.ClientID),
			AuthParameters: withSecretHash(pool, login, map[string]string{"USERNAME": login, "PASSWORD": password}),
		})
		if err == nil {
			ans = authAnswer{out.AuthenticationResult, out.ChallengeName, out.ChallengeParameters}
		} else if flow == "" && flowNotEnabled(err) {
			flow = tenant.FlowUserSRP
		}
	}
	if flow == tenant.FlowUserSRP {
		ans, err = d.srpAuthenticate(ctx, client, pool, login, password)
	}
	if err != nil {
		return tenant.LegacyAccount{}, classify("InitiateAuth", err)
	}
	return d.accountFromAnswer(ctx, client, pool, login, ans)
}

// srpAuthenticate proves the password by Cognito's SRP (srp.go). An error
// of RespondToAuthChallenge comes classified as that call's, since
// classify reads some answers by operation; the others are InitiateAuth's,
// for the caller to classify.
func (d *Directory) srpAuthenticate(ctx context.Context, client *cip.Client, pool tenant.LegacyPool, login, password string) (authAnswer, error) {
	rng := d.Rand
	if rng == nil {
		rng = rand.Reader
	}
	srp, err := newSRPClient(rng)
	if err != nil {
		return authAnswer{}, err
	}
	out, err := client.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow:       types.AuthFlowTypeUserSrpAuth,
		ClientId:       aws.String(pool.ClientID),
		AuthParameters: withSecretHash(pool, login, map[string]string{"USERNAME": login, "SRP_A": srp.A.Text(16)}),
	})
	if err != nil {
		return authAnswer{}, err
	}
	if out.ChallengeName != types.ChallengeNameTypePasswordVerifier {
		return authAnswer{}, fmt.Errorf("%w: USER_SRP_AUTH answered %q, not PASSWORD_VERIFIER", errUnexpected, out.ChallengeName)
	}
	p := out.ChallengeParameters
	// Cognito names the user by its own username from here on (a UUID
	// when people sign in with their email address), also in SECRET_HASH.
	userID := p["USER_ID_FOR_SRP"]
	B, okB := parseHexInt(p["SRP_B"])
	salt, okSalt := parseHexInt(p["SALT"])
	secretBlock, errBlock := base64.StdEncoding.DecodeString(p["SECRET_BLOCK"])
	if userID == "" || !okB || !okSalt || errBlock != nil {
		return authAnswer{}, fmt.Errorf("%w: PASSWORD_VERIFIER without a readable USER_ID_FOR_SRP, SRP_B, SALT or SECRET_BLOCK", errUnexpected)
	}
	_, poolName, _ := strings.Cut(pool.UserPoolID, "_")
	key, err := srp.passwordKey(poolName, userID, password, B, salt)
	if err != nil {
		return authAnswer{}, fmt.Errorf("%w: %w", errUnexpected, err)
	}
	timestamp := srpTimestamp(d.now())
	rout, err := client.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{
		ClientId:      aws.String(pool.ClientID),
		ChallengeName: types.ChallengeNameTypePasswordVerifier,
		Session:       out.Session,
		ChallengeResponses: withSecretHash(pool, userID, map[string]string{
			"USERNAME":                    userID,
			"PASSWORD_CLAIM_SECRET_BLOCK": p["SECRET_BLOCK"],
			"PASSWORD_CLAIM_SIGNATURE":    passwordClaim(key, poolName, userID, secretBlock, timestamp),
			"TIMESTAMP":                   timestamp,
		}),
	})
	if err != nil {
		return authAnswer{}, classify("RespondToAuthChallenge", err)
	}
	return authAnswer{rout.AuthenticationResult, rout.ChallengeName, rout.ChallengeParameters}, nil
}

// errUnexpected: the pool answered something this code cannot read.
var errUnexpected = errors.New("unexpected answer")

// mfaChallenges are the challenges Cognito sets only after the password
// proved right; MFA_SETUP asks a user without a factor to enrol one.
var mfaChallenges = []types.ChallengeNameType{
	types.ChallengeNameTypeSmsMfa, types.ChallengeNameTypeSoftwareTokenMfa, types.ChallengeNameTypeEmailOtp,
	types.ChallengeNameTypeSelectMfaType, types.ChallengeNameTypeMfaSetup,
}

// accountFromAnswer reads the account out of a successful password check:
// tokens, NEW_PASSWORD_REQUIRED or an MFA challenge. With administrator
// keys the profile comes from AdminGetUser and AdminListGroupsForUser;
// without, from the ID token, or for a challenge from what its parameters
// say.
func (d *Directory) accountFromAnswer(ctx context.Context, client *cip.Client, pool tenant.LegacyPool, login string, ans authAnswer) (tenant.LegacyAccount, error) {
	var (
		acct tenant.LegacyAccount
		mfa  bool
	)
	switch {
	case ans.result != nil:
		if ans.result.IdToken == nil {
			return acct, fmt.Errorf("%w: %w: tokens without an ID token", tenant.ErrLegacyUnavailable, errUnexpected)
		}
		claims, err := idTokenClaims(*ans.result.IdToken)
		if err != nil {
			return acct, fmt.Errorf("%w: %w", tenant.ErrLegacyUnavailable, err)
		}
		if acct, err = accountFromClaims(claims); err != nil {
			return acct, err
		}
		acct.Status = tenant.StatusConfirmed
	case ans.challenge == types.ChallengeNameTypeNewPasswordRequired:
		// Cognito checks the temporary password before it asks for a new
		// one, so this proves it (cognito-local does not: it asks whatever
		// was typed, see docs/migration.md).
		var attrs map[string]string
		if raw := ans.params["userAttributes"]; raw != "" {
			if err := json.Unmarshal([]byte(raw), &attrs); err != nil {
				return acct, fmt.Errorf("%w: %w: NEW_PASSWORD_REQUIRED userAttributes: %w", tenant.ErrLegacyUnavailable, errUnexpected, err)
			}
		}
		var err error
		if acct, err = accountFromAttributes(ans.params["USER_ID_FOR_SRP"], attrs); err != nil {
			return acct, err
		}
		acct.Status = tenant.StatusForceChangePassword
	case slices.Contains(mfaChallenges, ans.challenge):
		// Cognito asks for a second factor only after a right password.
		// Its parameters name the user and little else: without
		// administrator keys, an address typed to sign in is all there is
		// to know (not verified: the pool may not have checked it).
		acct = tenant.LegacyAccount{Username: ans.params["USER_ID_FOR_SRP"], Status: tenant.StatusConfirmed, SubWithheld: true}
		if strings.Contains(login, "@") && tenant.FoldKey(login) != tenant.FoldKey(acct.Username) {
			acct.Email, acct.EmailVerifiedUnknown = login, true
		}
		mfa = ans.challenge != types.ChallengeNameTypeMfaSetup
	default:
		return acct, fmt.Errorf("%w: %w: challenge %q proves nothing here", tenant.ErrLegacyUnavailable, errUnexpected, ans.challenge)
	}

	if pool.Admin.Set() {
		name := acct.Username
		if name == "" {
			name = login
		}
		full, hadMFA, err := d.adminProfile(ctx, client, pool, name)
		if err != nil {
			return tenant.LegacyAccount{}, err
		}
		full.Status = acct.Status
		acct, mfa = full, mfa || hadMFA
	}
	if mfa {
		markMFA(&acct)
	}
	return acct, nil
}

// adminProfile reads a user's attributes and groups with the
// administrator keys, and whether the user had MFA. A disabled user is
// refused: cognito-local lets them sign in, real Cognito does not.
func (d *Directory) adminProfile(ctx context.Context, client *cip.Client, pool tenant.LegacyPool, username string) (tenant.LegacyAccount, bool, error) {
	out, err := client.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(pool.UserPoolID), Username: aws.String(username)})
	if err != nil {
		return tenant.LegacyAccount{}, false, classify("AdminGetUser", err)
	}
	if !out.Enabled {
		return tenant.LegacyAccount{}, false, fmt.Errorf("%w: the user is disabled in the legacy pool", tenant.ErrLegacyRefused)
	}
	attrs := make(map[string]string, len(out.UserAttributes))
	for _, a := range out.UserAttributes {
		attrs[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	acct, err := accountFromAttributes(aws.ToString(out.Username), attrs)
	if err != nil {
		return tenant.LegacyAccount{}, false, err
	}
	acct.GroupsKnown = true
	// The user's own username, not an alias: cognito-local lists no
	// groups for an alias.
	var next *string
	for {
		groups, err := client.AdminListGroupsForUser(ctx, &cip.AdminListGroupsForUserInput{
			UserPoolId: aws.String(pool.UserPoolID), Username: out.Username, NextToken: next,
		})
		if err != nil {
			return tenant.LegacyAccount{}, false, classify("AdminListGroupsForUser", err)
		}
		for _, g := range groups.Groups {
			acct.Groups = append(acct.Groups, aws.ToString(g.GroupName))
		}
		if next = groups.NextToken; next == nil || *next == "" {
			break
		}
	}
	hadMFA := len(out.UserMFASettingList) > 0 || len(out.MFAOptions) > 0 || aws.ToString(out.PreferredMfaSetting) != ""
	if status := out.UserStatus; status != "" {
		acct.Status = tenant.UserStatus(status)
	}
	return acct, hadMFA, nil
}

// cognitoLookup finds a user for a forgotten password, which needs the
// administrator keys: Cognito has no unsigned way to read a user.
func (d *Directory) cognitoLookup(ctx context.Context, pool tenant.LegacyPool, login string) (tenant.LegacyAccount, error) {
	if !pool.Admin.Set() {
		return tenant.LegacyAccount{}, fmt.Errorf("%w: without administrator keys a Cognito pool cannot be asked who a user is", tenant.ErrLegacyRefused)
	}
	acct, _, err := d.adminProfile(ctx, d.cognitoClient(pool), pool, login)
	if err != nil {
		return tenant.LegacyAccount{}, err
	}
	// Cognito resets only CONFIRMED and RESET_REQUIRED users; a user who
	// never signed in needs a new invitation, one signing in elsewhere
	// (EXTERNAL_PROVIDER) has no password at all.
	switch acct.Status {
	case tenant.StatusConfirmed, tenant.StatusResetRequired:
	default:
		return tenant.LegacyAccount{}, fmt.Errorf("%w: the user is %s in the legacy pool and cannot reset a password", tenant.ErrLegacyRefused, acct.Status)
	}
	if acct.Email == "" || !acct.EmailVerified {
		// A code must go to an address the user proved (Cognito's rule).
		return tenant.LegacyAccount{}, fmt.Errorf("%w: the user has no verified email address in the legacy pool", tenant.ErrLegacyRefused)
	}
	acct.Status = tenant.StatusResetRequired
	return acct, nil
}

// flowNotEnabled reports Cognito's answer to a flow the app client does not
// allow: InvalidParameterException "USER_PASSWORD_AUTH flow not enabled for
// this client" (or "Auth flow not enabled for this client").
func flowNotEnabled(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "InvalidParameterException" &&
		strings.Contains(strings.ToLower(apiErr.ErrorMessage()), "flow not enabled")
}

// classify sorts an SDK error into a refusal (the pool said no to this
// user) or unavailability (anything else). Only answers that are about the
// user count as a refusal; a misconfigured app client (a wrong secret, a
// flow not enabled, a missing pool) is the operator's problem, and must not
// read as a wrong password or count towards a lockout.
func classify(op string, err error) error {
	if errors.Is(err, tenant.ErrLegacyRefused) || errors.Is(err, tenant.ErrLegacyUnavailable) {
		return err
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		// Nothing listening, a timeout, a TLS failure, a 5xx after
		// retries: the SDK's error says which, without the request.
		return fmt.Errorf("%w: %s: %w", tenant.ErrLegacyUnavailable, op, err)
	}
	code, msg := apiErr.ErrorCode(), apiErr.ErrorMessage()
	switch code {
	case "NotAuthorizedException":
		// "Incorrect username or password.", "User is disabled.",
		// "Password attempts exceeded", "Temporary password has expired…";
		// but "Unable to verify secret hash for client …" is our fault.
		if strings.Contains(strings.ToLower(msg), "secret hash") || strings.Contains(msg, "SECRET_HASH") {
			break
		}
		return fmt.Errorf("%w: %s: %s: %s", tenant.ErrLegacyRefused, op, code, msg)
	case "UserNotFoundException", "UserNotConfirmedException", "PasswordResetRequiredException":
		return fmt.Errorf("%w: %s: %s: %s", tenant.ErrLegacyRefused, op, code, msg)
	case "InvalidPasswordException":
		// What cognito-local answers to a wrong password; real Cognito
		// sends it only when a new password breaks the policy.
		if op == "InitiateAuth" {
			return fmt.Errorf("%w: %s: %s: %s", tenant.ErrLegacyRefused, op, code, msg)
		}
	}
	return fmt.Errorf("%w: %s: %s: %s", tenant.ErrLegacyUnavailable, op, code, msg)
}
