//! A prediction and its two enums: the decision it implies and where it came from. The
//! same [`Prediction`] is stored by the writer and the backup and read back by the API and
//! the dashboard.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Approve or refuse: an application is refused when its probability of default reaches
/// the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Decision {
    Approved,
    Refused,
}

impl Decision {
    pub fn from_probability(probability: f64, threshold: f64) -> Self {
        if probability >= threshold {
            Decision::Refused
        } else {
            Decision::Approved
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approved => "APPROVED",
            Decision::Refused => "REFUSED",
        }
    }
}

impl std::str::FromStr for Decision {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "APPROVED" => Ok(Decision::Approved),
            "REFUSED" => Ok(Decision::Refused),
            other => Err(format!(
                "decision must be APPROVED or REFUSED, got {other:?}"
            )),
        }
    }
}

/// Where a prediction came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Api,
    Batch,
    Ui,
    Simulator,
}

impl Source {
    pub const ALL: [Source; 4] = [Source::Api, Source::Batch, Source::Ui, Source::Simulator];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Api => "api",
            Source::Batch => "batch",
            Source::Ui => "ui",
            Source::Simulator => "simulator",
        }
    }
}

impl std::str::FromStr for Source {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Source::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown source {s:?}: expected api, batch, ui or simulator"))
    }
}

/// One scored application: stored as it is, and read back the same.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub model_version: i64,
    pub sk_id_curr: Option<i64>,
    /// Model feature order; NaN is stored as NULL.
    pub features: Vec<f64>,
    pub probability: f64,
    pub decision: Decision,
    pub threshold: f64,
    pub inference_time_ms: f64,
    pub source: Source,
    pub request_id: Option<String>,
}
