package password

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies enforces the boundary in the package comment: hashing and
// policy know nothing of how they are served.
func TestDependencies(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	out, err := exec.Command(gobin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "net/http" {
			t.Error("imports net/http: password is domain code; HTTP belongs to the front ends")
		}
		if strings.HasPrefix(dep, "github.com/cognate-idp/cognate/") && !strings.HasSuffix(dep, "/tenant/password") {
			t.Errorf("imports %s: password is a leaf package and must not depend on the rest of Cognate", dep)
		}
	}
}
