// Package nodes holds fastdag's node kinds: shell (run:) and argv (exec:)
// processes, and the in-process built-ins named by uses: (expr, condition,
// select). A Registry compiles a dag.Node into a dag.Action once per
// process, so running a node costs only what the node itself does.
package nodes
