package cachefs_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/fastdag/fastdag/pkg/cachefs"
)

func Example() {
	dir, _ := os.MkdirTemp("", "fastdag-cache")
	defer os.RemoveAll(dir)
	c, err := cachefs.Open(dir, cachefs.Options{})
	if err != nil {
		log.Fatal(err)
	}

	run := func() {
		// The key covers everything the node's result depends on.
		kb := cachefs.NewKeyBuilder()
		kb.Add("kind", "shell")
		kb.Add("command", "echo hello")
		if err := kb.AddJSON("input.user", map[string]any{"name": "ann"}); err != nil {
			log.Fatal(err)
		}
		res, err := c.GetOrCompute(context.Background(), kb.Key(), func(ctx context.Context) (cachefs.Value, error) {
			// Run the node here.
			return cachefs.Value{
				Workflow: "demo",
				Node:     "greet",
				Manifest: kb.Manifest(),
				Outputs:  map[string][]byte{"stdout": []byte("hello\n")},
				TTL:      24 * time.Hour,
			}, nil
		})
		if err != nil {
			log.Fatal(err)
		}
		for _, w := range res.Warnings {
			fmt.Println("warning:", w)
		}
		fmt.Printf("computed=%v stdout=%q\n", res.Computed, res.Outputs["stdout"])
	}
	run()
	run()

	list, _ := c.List()
	for _, e := range list {
		fmt.Println(e.Workflow, e.Node, e.Size, e.Manifest["kind"])
	}
	// Output:
	// computed=true stdout="hello\n"
	// computed=false stdout="hello\n"
	// demo greet 6 shell
}
