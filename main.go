// Command fastdag loads workflows from YAML, JSON or msgpack and runs them.
package main

import (
	"os"

	"github.com/fastdag/fastdag/cmd"
)

func main() { os.Exit(cmd.Main()) }
