// The serve load generator: see Benchmarks/serve-bench.sh.
