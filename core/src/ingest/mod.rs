//! Getting predictions into storage.
//!
//! Parts:
//! - [`writer`] — group commit: request handlers hand rows to a bounded queue, committers
//!   store them in few transactions and answer once committed;
//! - [`backup`] — the JSONL backup of every committed prediction, and its replay.

pub mod backup;
pub mod writer;
