//! A credit application as the API receives it, parsed once into the model's input vector.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::model::booster::Model;

/// The JSON body of one application: an optional client id and features by name.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"sk_id_curr": 100002, "features": {"EXT_SOURCE_2": 0.26, "EXT_SOURCE_3": 0.14, "DAYS_BIRTH": -9461, "EXT_SOURCE_1": null}}))]
pub struct RawApplication {
    /// The client's id in the loan-origination system, stored with the decision.
    #[serde(default, deserialize_with = "optional_whole_i64")]
    pub sk_id_curr: Option<i64>,
    /// Model features by name (see `GET /api/v1/model`); absent or null ones are scored as
    /// missing. Unknown names and values that are not finite numbers are rejected.
    #[serde(default)]
    #[schema(value_type = std::collections::HashMap<String, Option<f64>>)]
    pub features: BTreeMap<String, serde_json::Value>,
}

/// A JSON integer as JSON Schema counts them, for the API's integer fields: `7` and `7.0`
/// are the same number (JSON has one number type, and some encoders write every number
/// with a decimal point). A fraction, or a value outside `i64`, is an error; so is a whole
/// number written with a point or an exponent beyond 2^53, where doubles no longer hold
/// every integer (serde_json hands over an integer too large for `i64` as such a double).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WholeI64(pub i64);

impl<'de> Deserialize<'de> for WholeI64 {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = WholeI64;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<WholeI64, E> {
                Ok(WholeI64(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<WholeI64, E> {
                i64::try_from(v)
                    .map(WholeI64)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<WholeI64, E> {
                const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
                if v.fract() == 0.0 && v.abs() < EXACT {
                    Ok(WholeI64(v as i64))
                } else {
                    Err(E::invalid_value(de::Unexpected::Float(v), &self))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// `Option<i64>` read as [`WholeI64`], for `#[serde(deserialize_with)]`.
pub fn optional_whole_i64<'de, D: de::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(Option::<WholeI64>::deserialize(d)?.map(|w| w.0))
}

/// Why an application was rejected: every offending feature, by kind of problem, each list
/// in alphabetical order (at least one is not empty).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ValidationError {
    /// Names the model does not have.
    pub unknown: Vec<String>,
    /// Features whose value is not a finite number or null.
    pub not_numeric: Vec<String>,
}

impl std::fmt::Display for ValidationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if !self.unknown.is_empty() {
            parts.push(format!("unknown features: {}", self.unknown.join(", ")));
        }
        if !self.not_numeric.is_empty() {
            parts.push(format!(
                "features must be finite numbers or null: {}",
                self.not_numeric.join(", ")
            ));
        }
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for ValidationError {}

/// A valid application: features in model order, NaN where a value was missing or null.
#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    sk_id_curr: Option<i64>,
    features: Vec<f64>,
    n_missing: usize,
}

/// Fills the input vector feature by feature, collecting every problem.
struct Collector<'m> {
    model: &'m Model,
    features: Vec<f64>,
    unknown: Vec<String>,
    not_numeric: Vec<String>,
}

/// A feature's value as found in the JSON.
enum Found {
    Number(f64),
    Missing,
    NotANumber,
}

impl<'m> Collector<'m> {
    fn new(model: &'m Model) -> Self {
        Self {
            model,
            features: vec![f64::NAN; model.n_features()],
            unknown: Vec::new(),
            not_numeric: Vec::new(),
        }
    }

    fn set(&mut self, name: &str, value: Found) {
        let Some(i) = self.model.feature_index(name) else {
            self.unknown.push(name.to_owned());
            return;
        };
        match value {
            Found::Number(v) if v.is_finite() => self.features[i] = v,
            Found::Missing => self.features[i] = f64::NAN,
            Found::Number(_) | Found::NotANumber => self.not_numeric.push(name.to_owned()),
        }
    }

    fn finish(mut self, sk_id_curr: Option<i64>) -> Result<Application, ValidationError> {
        // Named in alphabetical order, whatever the order in the request.
        self.unknown.sort_unstable();
        self.not_numeric.sort_unstable();
        if !self.unknown.is_empty() || !self.not_numeric.is_empty() {
            return Err(ValidationError {
                unknown: self.unknown,
                not_numeric: self.not_numeric,
            });
        }
        let n_missing = self.features.iter().filter(|v| v.is_nan()).count();
        Ok(Application {
            sk_id_curr,
            features: self.features,
            n_missing,
        })
    }
}

impl Application {
    /// Checks every feature against the model: unknown names and non-numeric values are
    /// errors (all of them reported at once); absent or null features are scored as missing.
    pub fn parse(raw: RawApplication, model: &Model) -> Result<Self, ValidationError> {
        let mut c = Collector::new(model);
        for (name, value) in &raw.features {
            let found = match value {
                serde_json::Value::Null => Found::Missing,
                serde_json::Value::Number(n) => n.as_f64().map_or(Found::NotANumber, Found::Number),
                _ => Found::NotANumber,
            };
            c.set(name, found);
        }
        c.finish(raw.sk_id_curr)
    }

    /// An application from values already in model order (NaN = missing), as the
    /// simulator and the tests build them. Infinite values are rejected.
    pub fn from_values(
        sk_id_curr: Option<i64>,
        values: &[f64],
        model: &Model,
    ) -> Result<Self, ValidationError> {
        assert_eq!(
            values.len(),
            model.n_features(),
            "one value per model feature"
        );
        let mut c = Collector::new(model);
        for (name, &v) in model.feature_names().iter().zip(values) {
            c.set(
                name,
                if v.is_nan() {
                    Found::Missing
                } else {
                    Found::Number(v)
                },
            );
        }
        c.finish(sk_id_curr)
    }

    /// Parses one application's JSON text straight into model order (no intermediate map:
    /// this is the API's hot path). JSON errors (syntax, unknown top-level fields, a
    /// non-integer `sk_id_curr`) are `Err`; feature problems are the inner `Err`.
    pub fn from_json(
        json: &[u8],
        model: &Model,
    ) -> Result<Result<Self, ValidationError>, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_slice(json);
        let parsed = de::DeserializeSeed::deserialize(ApplicationSeed(model), &mut de)?;
        de.end()?;
        Ok(parsed)
    }

    /// Parses `{"applications": [...]}`: one result per application, in order.
    pub fn batch_from_json(
        json: &[u8],
        model: &Model,
    ) -> Result<Vec<Result<Self, ValidationError>>, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_slice(json);
        let parsed = de::DeserializeSeed::deserialize(BatchSeed(model), &mut de)?;
        de.end()?;
        Ok(parsed)
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

const APPLICATION_FIELDS: &[&str] = &["sk_id_curr", "features"];

struct ApplicationSeed<'m>(&'m Model);

impl<'de> de::DeserializeSeed<'de> for ApplicationSeed<'_> {
    type Value = Result<Application, ValidationError>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ApplicationSeed<'_> {
    type Value = Result<Application, ValidationError>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an application: {\"sk_id_curr\": ..., \"features\": {...}}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut sk_id_curr = None;
        let mut collector = Collector::new(self.0);
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match key.0.as_ref() {
                "sk_id_curr" => {
                    sk_id_curr = map.next_value::<Option<WholeI64>>()?.map(|w| w.0);
                }
                "features" => map.next_value_seed(FeaturesSeed(&mut collector))?,
                other => return Err(de::Error::unknown_field(other, APPLICATION_FIELDS)),
            }
        }
        Ok(collector.finish(sk_id_curr))
    }
}

struct FeaturesSeed<'c, 'm>(&'c mut Collector<'m>);

impl<'de> de::DeserializeSeed<'de> for FeaturesSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FeaturesSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of features by name")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let value = map.next_value::<FoundValue>()?;
            self.0.set(&key.0, value.0);
        }
        Ok(())
    }
}

/// A map key, borrowed from the input when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// A feature value: a number, null, or anything else (skipped, reported as not numeric).
struct FoundValue(Found);

impl<'de> de::Deserialize<'de> for FoundValue {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FoundValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or null")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<FoundValue, E> {
                Ok(FoundValue(Found::Number(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<FoundValue, E> {
                Ok(FoundValue(Found::Number(v as f64)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<FoundValue, E> {
                Ok(FoundValue(Found::Number(v as f64)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<FoundValue, E> {
                Ok(FoundValue(Found::Missing))
            }
            fn visit_none<E: de::Error>(self) -> Result<FoundValue, E> {
                Ok(FoundValue(Found::Missing))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<FoundValue, E> {
                Ok(FoundValue(Found::NotANumber))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<FoundValue, E> {
                Ok(FoundValue(Found::NotANumber))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FoundValue, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(FoundValue(Found::NotANumber))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FoundValue, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(FoundValue(Found::NotANumber))
            }
        }
        d.deserialize_any(V)
    }
}

struct BatchSeed<'m>(&'m Model);

impl<'de> de::DeserializeSeed<'de> for BatchSeed<'_> {
    type Value = Vec<Result<Application, ValidationError>>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for BatchSeed<'_> {
    type Value = Vec<Result<Application, ValidationError>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("{\"applications\": [...]}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut applications = None;
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match key.0.as_ref() {
                "applications" => applications = Some(map.next_value_seed(ListSeed(self.0))?),
                other => return Err(de::Error::unknown_field(other, &["applications"])),
            }
        }
        applications.ok_or_else(|| de::Error::missing_field("applications"))
    }
}

struct ListSeed<'m>(&'m Model);

impl<'de> de::DeserializeSeed<'de> for ListSeed<'_> {
    type Value = Vec<Result<Application, ValidationError>>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ListSeed<'_> {
    type Value = Vec<Result<Application, ValidationError>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of applications")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(10_000));
        while let Some(a) = seq.next_element_seed(ApplicationSeed(self.0))? {
            out.push(a);
        }
        Ok(out)
    }
}
