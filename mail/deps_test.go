package mail

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the boundary the package doc states: mail is a leaf
// that knows no storage, no tenant domain and no HTTP.
func TestDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found:", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	const self = "github.com/cognate-idp/cognate/mail"
	for dep := range strings.FieldsSeq(string(out)) {
		switch {
		case dep == "net/http":
			t.Errorf("mail imports net/http; rendering mail for the browser is the ui package's job")
		case dep != self && strings.HasPrefix(dep, "github.com/cognate-idp/cognate/"):
			t.Errorf("mail imports %s; it must stay storage-agnostic and know no other Cognate package", dep)
		case strings.HasPrefix(dep, "github.com/emersion/"):
			t.Errorf("mail imports %s; go-smtp is for the test server only", dep)
		}
	}
}
