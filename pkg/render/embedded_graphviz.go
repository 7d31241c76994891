//go:build embedgraphviz

package render

import _ "embed"

// The helper binary, built by `go generate ./pkg/render` (see gen.go) before
// a release build with -tags embedgraphviz. It is extracted to the user cache
// dir on first use.
//
//go:embed fastdag-graphviz.bin
var embeddedHelperBin []byte

func init() { embeddedHelper = embeddedHelperBin }
