//! A credit application as the API receives it, parsed once into the model's input vector.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::scoring::Model;

/// The JSON body of one application: an optional client id and features by name.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"sk_id_curr": 100002, "features": {"EXT_SOURCE_2": 0.26, "EXT_SOURCE_3": 0.14, "DAYS_BIRTH": -9461, "EXT_SOURCE_1": null}}))]
pub struct RawApplication {
    /// The client's id in the loan-origination system, stored with the decision.
    #[serde(default)]
    pub sk_id_curr: Option<i64>,
    /// Model features by name (see `GET /api/v1/model`); absent or null ones are scored as
    /// missing. Unknown names and values that are not finite numbers are rejected.
    #[serde(default)]
    #[schema(value_type = std::collections::HashMap<String, Option<f64>>)]
    pub features: BTreeMap<String, serde_json::Value>,
}

/// Why an application was rejected; each names the offending features.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValidationError {
    #[error("unknown features: {}", .0.join(", "))]
    UnknownFeatures(Vec<String>),
    #[error("features must be finite numbers or null: {}", .0.join(", "))]
    NotNumeric(Vec<String>),
}

/// A valid application: features in model order, NaN where a value was missing or null.
#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    sk_id_curr: Option<i64>,
    features: Vec<f64>,
    n_missing: usize,
}

impl Application {
    /// Checks every feature against the model: unknown names and non-numeric values are
    /// errors (all of them reported at once); absent or null features are scored as missing.
    pub fn parse(raw: RawApplication, model: &Model) -> Result<Self, ValidationError> {
        let mut features = vec![f64::NAN; model.n_features()];
        let mut unknown = Vec::new();
        let mut not_numeric = Vec::new();
        for (name, value) in raw.features {
            let Some(i) = model.feature_index(&name) else {
                unknown.push(name);
                continue;
            };
            match value {
                serde_json::Value::Null => {}
                serde_json::Value::Number(n) => match n.as_f64() {
                    Some(v) if v.is_finite() => features[i] = v,
                    _ => not_numeric.push(name),
                },
                _ => not_numeric.push(name),
            }
        }
        if !unknown.is_empty() {
            return Err(ValidationError::UnknownFeatures(unknown));
        }
        if !not_numeric.is_empty() {
            return Err(ValidationError::NotNumeric(not_numeric));
        }
        let n_missing = features.iter().filter(|v| v.is_nan()).count();
        Ok(Self {
            sk_id_curr: raw.sk_id_curr,
            features,
            n_missing,
        })
    }

    pub fn sk_id_curr(&self) -> Option<i64> {
        self.sk_id_curr
    }

    pub fn features(&self) -> &[f64] {
        &self.features
    }

    pub fn n_missing(&self) -> usize {
        self.n_missing
    }
}
