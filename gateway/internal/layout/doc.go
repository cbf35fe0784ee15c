// Package layout holds the test of the repository's layout: docs/ARCHITECTURE.md's
// table of packages says what each package may import, and the test holds every
// package to it (see layout_test.go). It has no code of its own.
package layout
