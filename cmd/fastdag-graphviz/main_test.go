package main

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dot := "digraph { a -> b }"
	cases := []struct {
		args       []string
		in         string
		code       int
		out, errIn string
	}{
		{[]string{"-version"}, "", 0, "fastdag-graphviz 1", ""},
		{[]string{"-format", "svg"}, dot, 0, "<svg", ""},
		{[]string{"-format", "svg", "-engine", "circo"}, dot, 0, "<svg", ""},
		{[]string{"-format", "pdf", "-engine", "neato"}, dot, 0, "%PDF-", ""},
		{[]string{"-format", "gif"}, dot, 2, "", "valid: svg, png, pdf"},
		{[]string{"-format", "svg", "-engine", "osage"}, dot, 2, "", "valid: dot, neato, fdp, sfdp, twopi, circo"},
		{[]string{"-format", "svg", "extra"}, dot, 2, "", "unexpected arguments"},
		{[]string{"-bogus"}, dot, 2, "", "flag provided but not defined"},
		{[]string{"-format", "svg"}, "digraph { a -> ", 1, "", "fastdag-graphviz: graphviz"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		code := run(c.args, strings.NewReader(c.in), &out, &errb)
		if code != c.code || !strings.Contains(out.String(), c.out) || !strings.Contains(errb.String(), c.errIn) {
			t.Errorf("%v: code %d, stdout %.40q, stderr %q", c.args, code, out.String(), errb.String())
		}
		if code != 0 && out.Len() != 0 {
			t.Errorf("%v: stdout written on failure", c.args)
		}
	}
	var out bytes.Buffer
	if code := run([]string{"-format", "png"}, strings.NewReader(dot), &out, &bytes.Buffer{}); code != 0 {
		t.Fatalf("png: exit %d", code)
	}
	if _, err := png.Decode(&out); err != nil {
		t.Errorf("png: %v", err)
	}
}
