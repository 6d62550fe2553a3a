package main

import (
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"maps"
	"slices"
	"strings"
	"testing"
)

// The bare server is a fair baseline only with the limits cognate serve
// sets, since each timeout costs a deadline per request. It cannot import
// them (they are in package main of cmd/cognate), so this compares the
// two http.Server literals as written.
func TestBareServerHasServesTimeouts(t *testing.T) {
	serve := serverLimits(t, "../cognate/serve.go")
	bare := serverLimits(t, "bare.go")
	if len(serve) == 0 {
		t.Fatal("found no limits in cognate serve's http.Server")
	}
	for _, field := range slices.Sorted(maps.Keys(serve)) {
		if bare[field] != serve[field] {
			t.Errorf("%s: the bare server has %q, cognate serve %q", field, bare[field], serve[field])
		}
	}
}

// serverLimits are the timeouts and MaxHeaderBytes of the one http.Server
// literal in the file at path, as source text.
func serverLimits(t *testing.T, path string) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	limits := map[string]string{}
	ast.Inspect(file, func(n ast.Node) bool {
		lit, ok := n.(*ast.CompositeLit)
		if !ok {
			return true
		}
		if sel, ok := lit.Type.(*ast.SelectorExpr); !ok || sel.Sel.Name != "Server" {
			return true
		}
		for _, elt := range lit.Elts {
			kv := elt.(*ast.KeyValueExpr)
			key := kv.Key.(*ast.Ident).Name
			if strings.HasSuffix(key, "Timeout") || key == "MaxHeaderBytes" {
				var b strings.Builder
				_ = printer.Fprint(&b, fset, kv.Value)
				limits[key] = b.String()
			}
		}
		return false
	})
	return limits
}
