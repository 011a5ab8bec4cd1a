"""The demo neighbourhood: believable, deterministic data for trying the app and for benchmarks."""
