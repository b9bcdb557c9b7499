package sqlstore

import (
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadMigrations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	for _, tc := range []struct {
		name    string
		fs      fstest.MapFS
		want    []Migration
		wantErr string
	}{
		{"ordered", fstest.MapFS{
			"m/0002_tokens.sql": file("B"), "m/0001_init.sql": file("A"), "m/README": file("x"),
		}, []Migration{{1, "init", "A"}, {2, "tokens", "B"}}, ""},
		{"gap", fstest.MapFS{"m/0001_a.sql": file(""), "m/0003_c.sql": file("")}, nil, "version 3, want 2"},
		{"bad name", fstest.MapFS{"m/init.sql": file("")}, nil, "want a name like 0001_init.sql"},
		{"short number", fstest.MapFS{"m/1_init.sql": file("")}, nil, "want a name like 0001_init.sql"},
		{"none", fstest.MapFS{"m/README": file("")}, nil, "no migrations"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadMigrations(tc.fs, "m")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
