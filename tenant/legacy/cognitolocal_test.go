package legacy_test

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// cognito-local (npm, 5.3.0) as the legacy pool: started per test on a free
// loopback port in a scratch directory, and spoken to through the AWS SDK
// for Go v2 exactly as a real pool is. COGNITO.md §10 lists what it gets
// wrong; the tests that need those answers use the stub in stub_test.go.
//
// The package is found in $COGNITO_LOCAL_DIR, else in
// ~/.cache/cognate-test/cognito-local (where .ci/run installs it with npm).
// Without node or the package the tests skip, unless
// COGNATE_REQUIRE_COGNITO_LOCAL=1 makes them fail.

type cognitoLocal struct {
	t        *testing.T
	endpoint string
	cmd      *exec.Cmd
	done     chan struct{}
	log      *syncBuffer
	admin    *cip.Client
}

// syncBuffer is the process's output, written by exec's copier goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func cognitoLocalScript(t *testing.T) (node, script string) {
	t.Helper()
	skip := func(why string) {
		t.Helper()
		if os.Getenv("COGNATE_REQUIRE_COGNITO_LOCAL") == "1" {
			t.Fatalf("cognito-local is required (COGNATE_REQUIRE_COGNITO_LOCAL=1): %s", why)
		}
		t.Skipf("cognito-local not available: %s (npm install cognito-local@5.3.0 in ~/.cache/cognate-test/cognito-local or $COGNITO_LOCAL_DIR)", why)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		skip("node is not installed")
	}
	dir := os.Getenv("COGNITO_LOCAL_DIR")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			skip("no home directory to find the cache in")
		}
		dir = filepath.Join(home, ".cache", "cognate-test", "cognito-local")
	}
	script = filepath.Join(dir, "node_modules", "cognito-local", "lib", "bin", "start.js")
	if _, err := os.Stat(script); err != nil {
		skip(script + " is missing")
	}
	return node, script
}

// startCognitoLocal starts cognito-local for t; it is stopped when t ends.
func startCognitoLocal(t *testing.T) *cognitoLocal {
	t.Helper()
	node, script := cognitoLocalScript(t)
	work := t.TempDir()
	// Plain usernames: cognito-local defaults pools to email usernames.
	if err := os.MkdirAll(filepath.Join(work, ".cognito"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, ".cognito", "config.json"), []byte(`{"UserPoolDefaults":{"UsernameAttributes":[]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	c := &cognitoLocal{t: t, endpoint: "http://127.0.0.1:" + strconv.Itoa(port), log: &syncBuffer{}, done: make(chan struct{})}
	c.cmd = exec.Command(node, script)
	c.cmd.Dir = work
	c.cmd.Env = append(os.Environ(), "HOST=127.0.0.1", "PORT="+strconv.Itoa(port))
	c.cmd.Stdout, c.cmd.Stderr = c.log, c.log
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start cognito-local: %v", err)
	}
	go func() { _ = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(c.stop)

	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(c.endpoint + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-c.done:
			t.Fatalf("cognito-local exited:\n%s", c.log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("cognito-local did not answer on %s:\n%s", c.endpoint, c.log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The administrator's client: cognito-local ignores signatures, but
	// the SDK signs admin calls, so it gets keys.
	c.admin = cip.New(cip.Options{Region: "local", BaseEndpoint: aws.String(c.endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCAL", "local-secret", "")})
	return c
}

// stop ends the process (by its own PID) and waits for it.
func (c *cognitoLocal) stop() {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Kill()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		c.t.Errorf("cognito-local (pid %d) did not stop", c.cmd.Process.Pid)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// localPool is a user pool and app client in cognito-local.
type localPool struct {
	c        *cognitoLocal
	poolID   string
	clientID string
	// groups made so far: cognito-local's CreateGroup replaces an
	// existing group, members and all, where Cognito refuses.
	groups map[string]bool
}

func (c *cognitoLocal) createPool(t *testing.T) localPool {
	t.Helper()
	pool, err := c.admin.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("planner")})
	if err != nil {
		t.Fatalf("CreateUserPool: %v\n%s", err, c.log.String())
	}
	client, err := c.admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: pool.UserPool.Id, ClientName: aws.String("planner-web"),
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
	})
	if err != nil {
		t.Fatalf("CreateUserPoolClient: %v", err)
	}
	return localPool{c: c, poolID: aws.ToString(pool.UserPool.Id), clientID: aws.ToString(client.UserPoolClient.ClientId), groups: map[string]bool{}}
}

// localUser is a user to create in cognito-local.
type localUser struct {
	username, email string
	attrs           map[string]string
	groups          []string
	// password is permanent unless temporary is set.
	password  string
	temporary bool
}

// addUser creates u as an administrator would: AdminCreateUser (no
// invitation), then AdminSetUserPassword, then the groups. It returns the
// user's sub.
func (p localPool) addUser(t *testing.T, u localUser) string {
	t.Helper()
	attrs := []types.AttributeType{{Name: aws.String("email"), Value: aws.String(u.email)}, {Name: aws.String("email_verified"), Value: aws.String("true")}}
	for k, v := range u.attrs {
		attrs = append(attrs, types.AttributeType{Name: aws.String(k), Value: aws.String(v)})
	}
	in := &cip.AdminCreateUserInput{UserPoolId: aws.String(p.poolID), Username: aws.String(u.username),
		UserAttributes: attrs, MessageAction: types.MessageActionTypeSuppress}
	if u.temporary {
		in.TemporaryPassword = aws.String(u.password)
	}
	out, err := p.c.admin.AdminCreateUser(ctx, in)
	if err != nil {
		t.Fatalf("AdminCreateUser %s: %v", u.username, err)
	}
	if !u.temporary {
		if _, err := p.c.admin.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: aws.String(p.poolID),
			Username: aws.String(u.username), Password: aws.String(u.password), Permanent: true}); err != nil {
			t.Fatalf("AdminSetUserPassword %s: %v", u.username, err)
		}
	}
	for _, g := range u.groups {
		if !p.groups[g] {
			if _, err := p.c.admin.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: aws.String(p.poolID), GroupName: aws.String(g)}); err != nil {
				t.Fatalf("CreateGroup %s: %v", g, err)
			}
			p.groups[g] = true
		}
		if _, err := p.c.admin.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{UserPoolId: aws.String(p.poolID),
			Username: aws.String(u.username), GroupName: aws.String(g)}); err != nil {
			t.Fatalf("AdminAddUserToGroup %s %s: %v", u.username, g, err)
		}
	}
	for _, a := range out.User.Attributes {
		if aws.ToString(a.Name) == "sub" {
			return aws.ToString(a.Value)
		}
	}
	t.Fatalf("AdminCreateUser %s: no sub", u.username)
	return ""
}

// user returns what cognito-local says of a user.
func (p localPool) user(t *testing.T, username string) *cip.AdminGetUserOutput {
	t.Helper()
	out, err := p.c.admin.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(p.poolID), Username: aws.String(username)})
	if err != nil {
		t.Fatalf("AdminGetUser %s: %v", username, err)
	}
	return out
}
