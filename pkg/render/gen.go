package render

// Build the Graphviz helper for embedding (release builds use -tags
// embedgraphviz; cross-compiles set GOOS/GOARCH for this step too, as the
// helper must match the target platform). CGO is off so the copy runs
// anywhere the main binary does.
//
//go:generate env CGO_ENABLED=0 go build -trimpath "-ldflags=-s -w" -o fastdag-graphviz.bin ../../cmd/fastdag-graphviz
