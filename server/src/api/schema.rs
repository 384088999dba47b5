//! Schema pieces the handlers' annotations share with the OpenAPI document.

use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

/// A string that is one of `values`, or null when `nullable`.
pub(super) fn one_of_strings<'a>(
    values: impl IntoIterator<Item = &'a str>,
    nullable: bool,
) -> Object {
    let mut enum_values: Vec<serde_json::Value> = values.into_iter().map(Into::into).collect();
    let schema_type = if nullable {
        enum_values.push(serde_json::Value::Null);
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::Type(Type::String)
    };
    ObjectBuilder::new()
        .schema_type(schema_type)
        .enum_values(Some(enum_values))
        .build()
}

/// `Option<DateTime<Utc>>` read from an RFC 3339 string, for `#[serde(deserialize_with)]`
/// on the `since` / `until` / `observed_at` fields of queries and bodies: a value that is
/// not one is refused with a message that says what is expected, e.g. "`yesterday` is not
/// an RFC 3339 time such as 2026-11-30T12:00:00Z".
pub fn rfc3339_opt<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, D::Error> {
    use serde::Deserialize;
    let Some(text) = Option::<std::borrow::Cow<'de, str>>::deserialize(d)? else {
        return Ok(None);
    };
    chrono::DateTime::parse_from_rfc3339(&text)
        .map(|t| Some(t.with_timezone(&chrono::Utc)))
        .map_err(|e| {
            serde::de::Error::custom(format!(
                "`{text}` is not an RFC 3339 time such as 2026-11-30T12:00:00Z ({e})"
            ))
        })
}
