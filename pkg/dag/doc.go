// Package dag is fastdag's engine: the workflow model, its loaders for YAML,
// JSON and msgpack, the validator, the planner and the scheduler that runs
// nodes concurrently under one bound, and the versioned run record that
// later tools (cache, pictures, profile) read back.
//
// The phases are separate so each can be used and tested alone:
//
//	Load      bytes -> *Workflow, with file:line:col on every problem
//	Validate  *Workflow -> Problems (unknown refs, cycles, params, kinds)
//	Plan      *Workflow -> *Plan (indexed graph, priorities, selection)
//	Run       *Plan -> *Record (scheduler, actions, record on disk)
//
// Node kinds are not defined here: the caller supplies a Compiler that turns
// a Node into an Action (package nodes provides fastdag's built-ins).
package dag
