package adminapi

import (
	"reflect"
	"slices"
	"testing"
)

// TestOpenAPILegacyPool keeps the LegacyPool schema of docs/openapi.yaml in
// step with the wire type, as TestOpenAPIMatches does for the others.
func TestOpenAPILegacyPool(t *testing.T) {
	var doc struct {
		Components struct{ Schemas map[string]schema } `yaml:"components"`
	}
	ReadOpenAPI(t, &doc)
	s, ok := doc.Components.Schemas["LegacyPool"]
	if !ok {
		t.Fatal("schema LegacyPool is not documented")
	}
	var props []string
	for p := range s.Properties {
		props = append(props, p)
	}
	slices.Sort(props)
	if fields := jsonFields(reflect.TypeOf(LegacyPool{})); !slices.Equal(props, fields) {
		t.Errorf("schema LegacyPool has properties %v, the type has %v", props, fields)
	}
}
