package legacy

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies enforces the boundary in the package comment.
func TestDependencies(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	out, err := exec.Command(gobin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	forbidden := map[string]string{
		"github.com/cognate-idp/cognate/tenant/auth":     "the sign-in machine uses this package through tenant.LegacyDirectory, not the other way round",
		"github.com/cognate-idp/cognate/tenant/adminapi": "the admin API is a front end",
		"github.com/cognate-idp/cognate/tenant/bolt":     "storage is reached through tenant.Store only",
		"github.com/cognate-idp/cognate/provider":        "the legacy pools know nothing of the OIDC provider",
		"github.com/cognate-idp/cognate/ui":              "the legacy pools know nothing of the pages",
		"go.etcd.io/bbolt":                               "storage is reached through tenant.Store only",
	}
	for _, dep := range strings.Fields(string(out)) {
		if why, ok := forbidden[dep]; ok {
			t.Errorf("imports %s: %s", dep, why)
		}
	}
}
