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
