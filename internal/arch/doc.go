// Package arch holds no code: its test keeps the layering that
// ARCHITECTURE.md describes true, package by package.
package arch
