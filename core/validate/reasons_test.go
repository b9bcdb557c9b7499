package validate

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"testing"
)

// TestReasonsListsEvery: every Reason constant declared in result.go is in
// Reasons (serve counts refusals by it), once.
func TestReasonsListsEvery(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "result.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	listed := Reasons()
	declared := 0
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			v := spec.(*ast.ValueSpec)
			if id, ok := v.Type.(*ast.Ident); !ok || id.Name != "Reason" {
				continue
			}
			for i, name := range v.Names {
				declared++
				lit := v.Values[i].(*ast.BasicLit).Value
				if !slices.Contains(listed, Reason(lit[1:len(lit)-1])) {
					t.Errorf("%s is not in Reasons()", name.Name)
				}
			}
		}
	}
	if declared != len(listed) {
		t.Errorf("%d reasons declared, %d listed", declared, len(listed))
	}
}
