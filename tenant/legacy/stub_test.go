package legacy_test

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// stubCognito speaks Cognito's JSON protocol (COGNITO.md §9) for the answers
// cognito-local cannot give, each as the Cognito documentation and captured
// real responses describe it: SRP (cognito-local has none), a disabled user
// (cognito-local lets them in), a wrong temporary password (cognito-local
// accepts any), an app client secret (cognito-local checks none), and
// failures. It is a stand-in for what lies outside Cognate, never for
// Cognate's own code, which the tests drive through the AWS SDK as in
// production.
type stubCognito struct {
	t      *testing.T
	srv    *httptest.Server
	poolID string
	client string
	secret string // app client secret; "" for none
	// passwordAuth and srpAuth are the flows the app client allows.
	passwordAuth, srpAuth bool
	// fail, when set, answers every call with this exception name (HTTP
	// 500 for InternalErrorException, else 400).
	fail string
	// failProof, when set, answers RespondToAuthChallenge alone so.
	failProof string
	// delay holds every answer back.
	delay time.Duration
	// challenge, when set, is returned instead of tokens after a right
	// password (CUSTOM_CHALLENGE, say).
	challenge string

	mu       sync.Mutex
	users    map[string]*stubUser // by username
	sessions map[string]*srpSession
	ops      []string
}

type stubUser struct {
	username, sub, email, password string
	disabled                       bool
	status                         string // CONFIRMED or FORCE_CHANGE_PASSWORD
	mfa                            bool
	attrs                          map[string]string
	groups                         []string
	salt, verifier                 *big.Int
}

type srpSession struct {
	user        *stubUser
	A, B, b     *big.Int
	secretBlock []byte
}

func newStubCognito(t *testing.T) *stubCognito {
	s := &stubCognito{t: t, poolID: "eu-west-1_St0bPool", client: "stubclient0123456789abcdef", passwordAuth: true, srpAuth: true,
		users: map[string]*stubUser{}, sessions: map[string]*srpSession{}}
	s.srv = httptest.NewServer(s)
	t.Cleanup(s.srv.Close)
	return s
}

// add creates a user, with the SRP verifier Cognito keeps instead of the
// password.
func (s *stubCognito) add(u stubUser) *stubUser {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.status == "" {
		u.status = "CONFIRMED"
	}
	u.salt = new(big.Int).SetBytes(randomBytes(16))
	x := srpTestX(s.poolName(), u.username, u.password, u.salt)
	u.verifier = new(big.Int).Exp(testG, x, testN)
	s.users[u.username] = &u
	return &u
}

func (s *stubCognito) poolName() string { _, name, _ := strings.Cut(s.poolID, "_"); return name }

// calls returns the operations called so far.
func (s *stubCognito) calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ops...)
}

// find looks a user up by username or email alias, as Cognito does.
func (s *stubCognito) find(name string) *stubUser {
	if u, ok := s.users[name]; ok {
		return u
	}
	for _, u := range s.users {
		if u.email != "" && strings.EqualFold(u.email, name) {
			return u
		}
	}
	return nil
}

func (s *stubCognito) secretHash(username string) string {
	mac := hmac.New(sha256.New, []byte(s.secret))
	mac.Write([]byte(username + s.client))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

type stubRequest struct {
	AuthFlow           string
	ClientId           string
	AuthParameters     map[string]string
	ChallengeName      string
	ChallengeResponses map[string]string
	Session            string
	UserPoolId         string
	Username           string
	NextToken          string
}

func (s *stubCognito) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, _ := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AWSCognitoIdentityProviderService.")
	var in stubRequest
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		s.error(w, "SerializationException", "bad JSON")
		return
	}
	time.Sleep(s.delay)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ops = append(s.ops, op)
	if s.fail != "" {
		s.error(w, s.fail, "Internal error")
		return
	}
	switch op {
	case "InitiateAuth":
		s.initiateAuth(w, in)
	case "RespondToAuthChallenge":
		if s.failProof != "" {
			s.error(w, s.failProof, "as the test asks")
			return
		}
		s.respondToAuthChallenge(w, in)
	case "AdminGetUser", "AdminListGroupsForUser":
		// Admin calls are SigV4-signed; unsigned ones Cognito refuses.
		if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDSTUB/") {
			s.error(w, "UnrecognizedClientException", "The security token included in the request is invalid.")
			return
		}
		s.admin(w, op, in)
	default:
		s.error(w, "UnknownOperationException", op)
	}
}

func (s *stubCognito) initiateAuth(w http.ResponseWriter, in stubRequest) {
	p := in.AuthParameters
	if in.ClientId != s.client {
		s.error(w, "ResourceNotFoundException", "User pool client "+in.ClientId+" does not exist.")
		return
	}
	if !s.checkSecretHash(w, p["USERNAME"], p["SECRET_HASH"]) {
		return
	}
	switch in.AuthFlow {
	case "USER_PASSWORD_AUTH":
		if !s.passwordAuth {
			s.error(w, "InvalidParameterException", "USER_PASSWORD_AUTH flow not enabled for this client")
			return
		}
		u := s.find(p["USERNAME"])
		if u == nil || u.password != p["PASSWORD"] {
			// Real Cognito checks the temporary password too.
			s.error(w, "NotAuthorizedException", "Incorrect username or password.")
			return
		}
		s.afterPassword(w, u)
	case "USER_SRP_AUTH":
		if !s.srpAuth {
			s.error(w, "InvalidParameterException", "USER_SRP_AUTH is not enabled for the client.")
			return
		}
		u := s.find(p["USERNAME"])
		A, ok := new(big.Int).SetString(p["SRP_A"], 16)
		if u == nil || !ok || new(big.Int).Mod(A, testN).Sign() == 0 {
			s.error(w, "NotAuthorizedException", "Incorrect username or password.")
			return
		}
		// B = k·v + g^b mod N (RFC 5054 §2.5.3).
		b := new(big.Int).SetBytes(randomBytes(32))
		B := new(big.Int).Exp(testG, b, testN)
		B.Add(B, new(big.Int).Mul(testK, u.verifier))
		B.Mod(B, testN)
		sess := &srpSession{user: u, A: A, B: B, b: b, secretBlock: randomBytes(64)}
		id := base64.RawURLEncoding.EncodeToString(randomBytes(24))
		s.sessions[id] = sess
		s.json(w, map[string]any{"ChallengeName": "PASSWORD_VERIFIER", "Session": id, "ChallengeParameters": map[string]string{
			"USER_ID_FOR_SRP": u.username, "USERNAME": u.username, "SRP_B": B.Text(16), "SALT": u.salt.Text(16),
			"SECRET_BLOCK": base64.StdEncoding.EncodeToString(sess.secretBlock),
		}})
	default:
		s.error(w, "InvalidParameterException", "Unsupported auth flow "+in.AuthFlow)
	}
}

func (s *stubCognito) respondToAuthChallenge(w http.ResponseWriter, in stubRequest) {
	if in.ChallengeName != "PASSWORD_VERIFIER" {
		s.error(w, "InvalidParameterException", "unexpected challenge "+in.ChallengeName)
		return
	}
	sess, ok := s.sessions[in.Session]
	delete(s.sessions, in.Session)
	resp := in.ChallengeResponses
	if !ok || resp["USERNAME"] != sess.user.username {
		s.error(w, "NotAuthorizedException", "Invalid session for the user.")
		return
	}
	// SECRET_HASH now over the user's own username (USER_ID_FOR_SRP).
	if !s.checkSecretHash(w, resp["USERNAME"], resp["SECRET_HASH"]) {
		return
	}
	// Cognito's timestamp: "Mon Jan 2 15:04:05 UTC 2006", day unpadded.
	ts := resp["TIMESTAMP"]
	at, err := time.Parse("Mon Jan 2 15:04:05 UTC 2006", ts)
	if err != nil || at.Format("Mon Jan 2 15:04:05 UTC 2006") != ts || time.Since(at).Abs() > 5*time.Minute {
		s.error(w, "NotAuthorizedException", "TIMESTAMP is invalid")
		return
	}
	block, err := base64.StdEncoding.DecodeString(resp["PASSWORD_CLAIM_SECRET_BLOCK"])
	if err != nil || !hmac.Equal(block, sess.secretBlock) {
		s.error(w, "NotAuthorizedException", "Incorrect username or password.")
		return
	}
	// The server's side of the key: S = (A·v^u)^b mod N (RFC 5054 §2.6).
	u := srpTestHash(sess.A, sess.B)
	S := new(big.Int).Exp(sess.user.verifier, u, testN)
	S.Mul(S, sess.A)
	S.Exp(S, sess.b, testN)
	key, err := hkdf.Key(sha256.New, srpTestPad(S), srpTestPad(u), "Caldera Derived Key", 16)
	if err != nil {
		s.t.Error(err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(s.poolName() + sess.user.username))
	mac.Write(sess.secretBlock)
	mac.Write([]byte(ts))
	claim, err := base64.StdEncoding.DecodeString(resp["PASSWORD_CLAIM_SIGNATURE"])
	if err != nil || !hmac.Equal(claim, mac.Sum(nil)) {
		s.error(w, "NotAuthorizedException", "Incorrect username or password.")
		return
	}
	s.afterPassword(w, sess.user)
}

// afterPassword answers a right password as Cognito does.
func (s *stubCognito) afterPassword(w http.ResponseWriter, u *stubUser) {
	switch {
	case u.disabled:
		s.error(w, "NotAuthorizedException", "User is disabled.")
	case u.status == "FORCE_CHANGE_PASSWORD":
		// As captured from real Cognito: no sub among the attributes.
		attrs, _ := json.Marshal(map[string]string{"email": u.email, "email_verified": "true"})
		s.json(w, map[string]any{"ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": "AYABe" + strings.Repeat("x", 40), "ChallengeParameters": map[string]string{
			"USER_ID_FOR_SRP": u.username, "requiredAttributes": "[]", "userAttributes": string(attrs)}})
	case u.mfa:
		s.json(w, map[string]any{"ChallengeName": "SOFTWARE_TOKEN_MFA", "Session": "AYABe" + strings.Repeat("y", 40), "ChallengeParameters": map[string]string{
			"USER_ID_FOR_SRP": u.username, "FRIENDLY_DEVICE_NAME": "phone"}})
	case s.challenge != "":
		s.json(w, map[string]any{"ChallengeName": s.challenge, "Session": "AYABe" + strings.Repeat("z", 40), "ChallengeParameters": map[string]string{}})
	default:
		claims := map[string]any{"sub": u.sub, "cognito:username": u.username, "email": u.email, "email_verified": true,
			"token_use": "id", "aud": s.client, "auth_time": time.Now().Unix()}
		for k, v := range u.attrs {
			claims[k] = v
		}
		if len(u.groups) > 0 {
			claims["cognito:groups"] = u.groups
		}
		s.json(w, map[string]any{"ChallengeParameters": map[string]string{}, "AuthenticationResult": map[string]any{
			"AccessToken": "access", "ExpiresIn": 3600, "TokenType": "Bearer", "RefreshToken": "refresh", "IdToken": stubJWT(claims)}})
	}
}

func (s *stubCognito) admin(w http.ResponseWriter, op string, in stubRequest) {
	u := s.find(in.Username)
	if u == nil || in.UserPoolId != s.poolID {
		s.error(w, "UserNotFoundException", "User does not exist.")
		return
	}
	if op == "AdminGetUser" {
		attrs := []map[string]string{{"Name": "sub", "Value": u.sub}, {"Name": "email", "Value": u.email}, {"Name": "email_verified", "Value": "true"}}
		for k, v := range u.attrs {
			attrs = append(attrs, map[string]string{"Name": k, "Value": v})
		}
		out := map[string]any{"Username": u.username, "UserAttributes": attrs, "Enabled": !u.disabled, "UserStatus": u.status,
			"UserCreateDate": 1.682955829578e9}
		if u.mfa {
			out["UserMFASettingList"] = []string{"SOFTWARE_TOKEN_MFA"}
			out["PreferredMfaSetting"] = "SOFTWARE_TOKEN_MFA"
		}
		s.json(w, out)
		return
	}
	// AdminListGroupsForUser, one group per page to exercise NextToken.
	i, _ := strconv.Atoi(in.NextToken)
	out := map[string]any{"Groups": []map[string]any{}}
	if i < len(u.groups) {
		out["Groups"] = []map[string]any{{"GroupName": u.groups[i], "UserPoolId": s.poolID}}
		if i+1 < len(u.groups) {
			out["NextToken"] = strconv.Itoa(i + 1)
		}
	}
	s.json(w, out)
}

func (s *stubCognito) checkSecretHash(w http.ResponseWriter, username, got string) bool {
	switch {
	case s.secret == "":
		return true
	case got == "":
		s.error(w, "NotAuthorizedException", "Client "+s.client+" is configured with secret but SECRET_HASH was not received")
		return false
	case got != s.secretHash(username):
		s.error(w, "NotAuthorizedException", "Unable to verify secret hash for client "+s.client)
		return false
	}
	return true
}

func (s *stubCognito) json(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		s.t.Error(err)
	}
}

// error answers as Cognito does: the name in both the header and __type.
func (s *stubCognito) error(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Errortype", code)
	status := http.StatusBadRequest
	if code == "InternalErrorException" {
		status = http.StatusInternalServerError
	}
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"__type":%q,"message":%q}`, code, msg)
}

func stubJWT(claims map[string]any) string {
	raw, _ := json.Marshal(claims)
	return "eyJhbGciOiJSUzI1NiIsImtpZCI6InN0dWIifQ." + base64.RawURLEncoding.EncodeToString(raw) + ".c3R1Yg"
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// The server side of Cognito's SRP, written here from RFC 5054 and the
// conventions in srp.go's comment, apart from the code under test.
var (
	testN = func() *big.Int {
		n, _ := new(big.Int).SetString("FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"+
			"EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"+
			"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"+
			"83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"+
			"E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"+
			"15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"+
			"ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C"+
			"BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF", 16)
		return n
	}()
	testG = big.NewInt(2)
	testK = srpTestHash(testN, testG)
)

func srpTestPad(n *big.Int) []byte {
	hexStr := n.Text(16)
	if len(hexStr)%2 == 1 {
		hexStr = "0" + hexStr
	} else if strings.ContainsRune("89abcdef", rune(hexStr[0])) {
		hexStr = "00" + hexStr
	}
	b := make([]byte, len(hexStr)/2)
	for i := range b {
		v, _ := strconv.ParseUint(hexStr[2*i:2*i+2], 16, 8)
		b[i] = byte(v)
	}
	return b
}

func srpTestHash(a, b *big.Int) *big.Int {
	h := sha256.New()
	h.Write(srpTestPad(a))
	h.Write(srpTestPad(b))
	return new(big.Int).SetBytes(h.Sum(nil))
}

func srpTestX(poolName, username, password string, salt *big.Int) *big.Int {
	inner := sha256.Sum256([]byte(poolName + username + ":" + password))
	h := sha256.New()
	h.Write(srpTestPad(salt))
	h.Write(inner[:])
	return new(big.Int).SetBytes(h.Sum(nil))
}
