package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cognate-idp/cognate/provider"
	"github.com/cognate-idp/cognate/tenant"
)

// A console page error's line keeps its own message, as the tenant pages'
// does (ui's TestPageErrorLineKeepsItsMessage): the sentence shown goes
// under "message", not under a second "msg".
func TestConsolePageErrorLineKeepsItsMessage(t *testing.T) {
	var log bytes.Buffer
	c, err := New(Console{Service: &tenant.Service{}, Provider: &provider.Provider{}, Logger: slog.New(slog.NewJSONHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/admin/users", nil)
	c.fail(httptest.NewRecorder(), r, nil, &pageError{status: http.StatusForbidden, msg: "error.csrf", err: errors.New("missing or wrong form token")})
	var line map[string]any
	if err := json.Unmarshal(log.Bytes(), &line); err != nil {
		t.Fatalf("%v:\n%s", err, log.String())
	}
	if line["msg"] != "console page error" || line["message"] != "error.csrf" {
		t.Errorf("msg %q, message %q; want %q and %q:\n%s", line["msg"], line["message"], "console page error", "error.csrf", log.String())
	}
}
