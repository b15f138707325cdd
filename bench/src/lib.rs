//! Benchmark support: [`floor`], the floor every decision is measured against, the bare signature check
//! with the key parsed once ([`floor::floor`]), shared by the criterion benchmark
//! (`benches/decision.rs`) and the process the instruction counts run (`src/bin/floor_loop.rs`).

pub mod floor;
