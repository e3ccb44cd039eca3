// Package config loads config.toml in three steps: defaults, strict TOML
// decoding that rejects unknown keys and wrong types with their line, and
// Validate, whose errors name the key and its line.
package config
