package nodes

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseOutputs(t *testing.T) {
	got, err := parseOutputs("a=1\nb=x=y\n\nnotes<<EOF\nline one\n\nline=three\nEOF\nc=\r\na=2\n")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "2", "b": "x=y", "notes": "line one\n\nline=three", "c": ""}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	for _, bad := range []string{"novalue\n", "=x\n", "a<<EOF\nunterminated\n", "a<<\n", "a.b=1\n"} {
		if _, err := parseOutputs(bad); err == nil || !strings.HasPrefix(err.Error(), "line ") {
			t.Errorf("parseOutputs(%q) error = %v, want a line-numbered error", bad, err)
		}
	}
}

// FuzzParseOutputs: the $FASTDAG_OUTPUT parser never panics, and what it
// returns, written back in name=value / heredoc form, parses the same.
func FuzzParseOutputs(f *testing.F) {
	f.Add("a=1\nb<<EOF\nx\nEOF\n")
	f.Add("")
	f.Add("x<<END\n\nEND")
	f.Fuzz(func(t *testing.T, data string) {
		outs, err := parseOutputs(data)
		if err != nil {
			return
		}
		var b strings.Builder
		for k, v := range outs {
			b.WriteString(k + "<<FASTDAG_EOF_7f3a\n" + v + "\nFASTDAG_EOF_7f3a\n")
		}
		again, err := parseOutputs(b.String())
		if err != nil {
			return // a value that contains the delimiter line itself
		}
		if len(outs) > 0 && !reflect.DeepEqual(outs, again) {
			t.Fatalf("round trip changed outputs:\n%q\n%q", outs, again)
		}
	})
}
