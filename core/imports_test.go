package core_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Imports run one way: cmd → screens → tui → core ← db. No file under
// core imports db or anything above core, tests included: core's tests
// run on core/memstore, which the conformance suite (core/storetest)
// proves to behave as the SQLite store does.
func TestCoreImportsNothingAbove(t *testing.T) {
	// The module's own packages above core, named by the module path and
	// the folder (db, tui, screens, cmd).
	const module = "oidcctl/"
	var above []string
	for _, dir := range []string{"db", "tui", "screens", "cmd"} {
		above = append(above, module+dir)
	}
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		files++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			for _, a := range above {
				if p == a || strings.HasPrefix(p, a+"/") {
					t.Errorf("core/%s imports %s", path, p)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("only %d Go files found under core", files)
	}
}
