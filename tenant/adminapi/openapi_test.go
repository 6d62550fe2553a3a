package adminapi

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// ReadOpenAPI decodes docs/openapi.yaml into doc, a struct of the parts a
// test reads. Exported for the package's external tests (adminapi_test);
// being in a test file, it is not part of the package.
func ReadOpenAPI(t testing.TB, doc any) {
	t.Helper()
	raw, err := os.ReadFile("../../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, doc); err != nil {
		t.Fatal(err)
	}
}

// TestOpenAPIMatches keeps docs/openapi.yaml accurate: every route is
// documented and every documented operation is a route, and each wire type
// has exactly the properties of its schema.
func TestOpenAPIMatches(t *testing.T) {
	var doc struct {
		OpenAPI    string                              `yaml:"openapi"`
		Paths      map[string]map[string]yaml.Node     `yaml:"paths"`
		Components struct{ Schemas map[string]schema } `yaml:"components"`
	}
	ReadOpenAPI(t, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi %q, want 3.1.x", doc.OpenAPI)
	}

	var documented, served []string
	for path, ops := range doc.Paths {
		for method := range ops {
			if method != "parameters" {
				documented = append(documented, strings.ToUpper(method)+" "+path)
			}
		}
	}
	for _, rt := range (&API{}).routes() {
		served = append(served, rt.pattern)
	}
	slices.Sort(documented)
	slices.Sort(served)
	if !slices.Equal(documented, served) {
		t.Errorf("documented operations\n  %s\nbut the API serves\n  %s",
			strings.Join(documented, "\n  "), strings.Join(served, "\n  "))
	}

	for name, v := range map[string]any{
		"Error": Error{}, "Tenant": Tenant{}, "TenantList": TenantList{}, "Settings": Settings{},
		"PasswordPolicy": PasswordPolicy{}, "MFAPolicy": MFAPolicy{}, "Branding": Branding{},
		"LockoutPolicy": LockoutPolicy{}, "SettingsChange": SettingsChange{}, "PasswordPolicyChange": PasswordPolicyChange{},
		"CreateTenantRequest": CreateTenantRequest{}, "UpdateTenantRequest": UpdateTenantRequest{},
		"Client": Client{}, "ClientList": ClientList{}, "CreateClientRequest": CreateClientRequest{},
		"UpdateClientRequest": UpdateClientRequest{}, "User": User{}, "UserPage": UserPage{},
		"CreateUserRequest": CreateUserRequest{},
		"UpdateUserRequest": UpdateUserRequest{}, "SetPasswordRequest": SetPasswordRequest{},
		"RotateKeyRequest": RotateKeyRequest{}, "SigningKey": SigningKey{},
		"MFAStatus": MFAStatus{}, "MFAFactor": MFAFactor{},
		"Group": Group{}, "GroupList": GroupList{}, "CreateGroupRequest": CreateGroupRequest{},
		"UpdateGroupRequest": UpdateGroupRequest{},
		"AuditPage":          AuditPage{}, "AuditEvent": AuditEvent{}, "AuditActor": AuditActor{}, "AuditTarget": AuditTarget{},
		"MailStatus": MailStatus{}, "FailedMail": FailedMail{},
		"MailedUser": MailedUser{}, "ClientWithSecret": ClientWithSecret{},
	} {
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("schema %s is not documented", name)
			continue
		}
		props := properties(doc.Components.Schemas, name)
		slices.Sort(props)
		if fields := jsonFields(reflect.TypeOf(v)); !slices.Equal(props, fields) {
			t.Errorf("schema %s has properties %v, the type has %v", name, props, fields)
		}
	}
}

// schema is a schema of the document, or one part of an allOf: its own
// properties, or a $ref to a schema of components.
type schema struct {
	Ref        string               `yaml:"$ref"`
	Properties map[string]yaml.Node `yaml:"properties"`
	AllOf      []schema             `yaml:"allOf"`
}

// properties lists the properties of the named schema, those of the
// schemas it is allOf included, as a type with embedded structs has the
// fields of those.
func properties(schemas map[string]schema, name string) []string {
	var collect func(s schema) []string
	collect = func(s schema) []string {
		var props []string
		if s.Ref != "" {
			props = append(props, collect(schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")])...)
		}
		for p := range s.Properties {
			props = append(props, p)
		}
		for _, part := range s.AllOf {
			props = append(props, collect(part)...)
		}
		return props
	}
	return collect(schemas[name])
}

// jsonFields lists the JSON names of a struct's fields, embedded ones
// flattened, as encoding/json does.
func jsonFields(t reflect.Type) []string {
	var names []string
	for f := range t.Fields() {
		if f.Anonymous {
			names = append(names, jsonFields(f.Type)...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// TestOpenAPIUpdateClientSaysWhatChanges keeps the description of PATCH
// …/clients/{id} true to what it changes: it names every field of
// UpdateClientRequest, and says that whether the client is public does
// not change (the request has no such field).
func TestOpenAPIUpdateClientSaysWhatChanges(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]yaml.Node `yaml:"paths"`
	}
	ReadOpenAPI(t, &doc)
	var op struct {
		Description string `yaml:"description"`
	}
	node := doc.Paths["/admin/v1/tenants/{slug}/clients/{id}"]["patch"]
	if err := node.Decode(&op); err != nil {
		t.Fatal(err)
	}
	desc := strings.Join(strings.Fields(op.Description), " ")
	for _, field := range jsonFields(reflect.TypeOf(UpdateClientRequest{})) {
		if !strings.Contains(desc, "`"+field+"`") {
			t.Errorf("the description of updateClient does not name `%s`, which it changes", field)
		}
	}
	if !strings.Contains(desc, "Whether a client is public (has no secret) is fixed at its creation and cannot be changed") {
		t.Errorf("the description of updateClient does not say that whether a client is public cannot change:\n%s", desc)
	}
}

// TestOpenAPIDocumentsWhatEachRouteTakes keeps routeInputs and the
// document in step: each operation lists the query parameters its route
// takes (and no others), and has a request body exactly when its route
// takes one. A route that takes neither is not in routeInputs at all.
func TestOpenAPIDocumentsWhatEachRouteTakes(t *testing.T) {
	type parameter struct {
		Ref  string `yaml:"$ref"`
		Name string `yaml:"name"`
		In   string `yaml:"in"`
	}
	var doc struct {
		Paths      map[string]map[string]yaml.Node `yaml:"paths"`
		Components struct {
			Parameters map[string]parameter `yaml:"parameters"`
		} `yaml:"components"`
	}
	ReadOpenAPI(t, &doc)

	routes := map[string]bool{}
	for _, rt := range (&API{}).routes() {
		routes[rt.pattern] = true
		method, path, _ := strings.Cut(rt.pattern, " ")
		var op struct {
			Parameters  []parameter    `yaml:"parameters"`
			RequestBody map[string]any `yaml:"requestBody"`
		}
		node, ok := doc.Paths[path][strings.ToLower(method)]
		if !ok {
			continue // TestOpenAPIMatches says so
		}
		if err := node.Decode(&op); err != nil {
			t.Fatal(err)
		}
		var documented []string
		for _, p := range op.Parameters {
			if p.Ref != "" {
				p = doc.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
			}
			if p.In == "query" {
				documented = append(documented, p.Name)
			}
		}
		taken := slices.Clone(routeInputs[rt.pattern].query)
		slices.Sort(documented)
		slices.Sort(taken)
		if !slices.Equal(documented, taken) {
			t.Errorf("%s: the document lists the query parameters %v, the route takes %v", rt.pattern, documented, taken)
		}
		if body := routeInputs[rt.pattern].body; body != (op.RequestBody != nil) {
			t.Errorf("%s: takes a body: %v, but the document has a requestBody: %v", rt.pattern, body, op.RequestBody != nil)
		}
	}
	for pattern := range routeInputs {
		if !routes[pattern] {
			t.Errorf("routeInputs names %q, which is no route", pattern)
		}
	}
}
