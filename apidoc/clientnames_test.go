package apidoc_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/soomcare/soomcare/apidoc"
)

// Names that client generators rename (openapi-generator's swift5/swift6 reserved words and
// typescript-fetch's language types: "Renamed to ModelError"), so a schema with one of them would
// reach app developers under another name. scripts/clients.sh runs the generators themselves; this
// is the quick guard of every `go test ./...`.
var generatorReserved = map[string]bool{
	"Error": true, "Type": true, "Protocol": true, "Self": true, "Any": true, "Data": true, "URL": true,
	"Response": true, "ErrorResponse": true, "Result": true, "Optional": true, "Codable": true,
	"Object": true, "Date": true, "Array": true, "String": true, "Number": true, "Boolean": true,
	"Set": true, "Map": true, "File": true, "Blob": true, "Int": true, "Double": true, "Float": true,
	"Void": true,
}

// oapi-codegen's generated names per operation (the wrapper of a response, the parameters, the
// body): a schema of the same name makes its Go client fail to compile ("redeclared").
var oapiCodegenSuffixes = []string{"Response", "Params", "JSONBody", "JSONRequestBody", "MultipartBody", "MultipartRequestBody"}

// Schema names stay usable by the generators app developers run (docs/openapi.md, "Generated clients").
func TestSchemaNamesSuitGeneratedClients(t *testing.T) {
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(apidoc.MustDocument(), &doc); err != nil {
		t.Fatal(err)
	}
	generated := map[string]string{} // oapi-codegen's name -> operationId
	for _, item := range doc.Paths {
		for _, raw := range item {
			var op struct {
				OperationID string `json:"operationId"`
			}
			if json.Unmarshal(raw, &op) != nil || op.OperationID == "" {
				continue // parameters, or an operation without an id (apidoc_test requires them elsewhere)
			}
			for _, s := range oapiCodegenSuffixes {
				generated[strings.ToUpper(op.OperationID[:1])+op.OperationID[1:]+s] = op.OperationID
			}
		}
	}
	for name := range doc.Components.Schemas {
		if generatorReserved[name] {
			t.Errorf("schema %s is a reserved word or language type of a client generator (it gets renamed)", name)
		}
		if op, ok := generated[name]; ok {
			t.Errorf("schema %s collides with oapi-codegen's %s for the operation %s", name, name, op)
		}
	}
}
