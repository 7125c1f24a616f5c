// Package docs holds the design pages, one per concern, and the test that
// keeps them reachable: the README stays short and links every page, every
// page links back, and no relative link or anchor in the README,
// CONTRIBUTING.md or a page points at nothing. It has no code.
package docs
