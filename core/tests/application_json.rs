//! The API's streaming JSON parser gives the same application as the general one, and the
//! same verdicts on bad input.

use std::path::PathBuf;

use scorewatch_core::model::application::{Application, RawApplication, ValidationError};
use scorewatch_core::model::booster::Model;

fn model() -> Model {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../artifacts/model.txt");
    Model::from_text(&std::fs::read_to_string(path).unwrap(), 0.494).unwrap()
}

fn both(
    model: &Model,
    json: &str,
) -> (
    Result<Application, ValidationError>,
    Result<Application, ValidationError>,
) {
    let streamed = Application::from_json(json.as_bytes(), model).expect("valid JSON");
    let raw: RawApplication = serde_json::from_str(json).unwrap();
    (streamed, Application::parse(raw, model))
}

#[test]
fn streamed_and_general_parsers_agree() {
    let m = model();
    let cases = [
        r#"{"sk_id_curr": 7, "features": {"EXT_SOURCE_2": 0.26, "DAYS_BIRTH": -9461, "EXT_SOURCE_1": null}}"#,
        r#"{"features": {"EXT_\u0053OURCE_3": 1e-3, "AMT_CREDIT": 406597}}"#,
        r#"{"features": {}}"#,
        r#"{"features": {"EXT_SOURCE_2": "0.3", "EXT_SOURCE_3": [1], "DAYS_BIRTH": {"a": 1}, "FLAG_OWN_CAR": true}}"#,
        r#"{"features": {"NOT_A_FEATURE": 1, "OTHER": null}}"#,
    ];
    for json in cases {
        match both(&m, json) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a.sk_id_curr(), b.sk_id_curr(), "{json}");
                assert_eq!(a.n_missing(), b.n_missing(), "{json}");
                let bits =
                    |x: &Application| x.features().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&a), bits(&b), "{json}");
            }
            (a, b) => assert_eq!(a.err(), b.err(), "{json}"),
        }
    }
    let (streamed, _) = both(&m, cases[0]);
    let a = streamed.unwrap();
    assert_eq!(a.sk_id_curr(), Some(7));
    assert_eq!(a.n_missing(), 419 - 2);
    let i = m.feature_index("EXT_SOURCE_2").unwrap();
    assert_eq!(a.features()[i], 0.26);
}

#[test]
fn json_errors_and_batches() {
    let m = model();
    for bad in [
        r#"{"features": {"EXT_SOURCE_2": 0.3"#,
        r#"{"surprise": 1}"#,
        r#"{"sk_id_curr": "x"}"#,
        "[]",
    ] {
        assert!(Application::from_json(bad.as_bytes(), &m).is_err(), "{bad}");
    }
    let batch = r#"{"applications": [{"features": {"EXT_SOURCE_2": 0.1}}, {"features": {"NOPE": 1}}, {"sk_id_curr": 3}, {"features": {"ZZZ": 1, "EXT_SOURCE_2": "high", "AAA": 2}}]}"#;
    let parsed = Application::batch_from_json(batch.as_bytes(), &m).unwrap();
    assert_eq!(parsed.len(), 4);
    assert!(parsed[0].is_ok());
    assert_eq!(
        parsed[1],
        Err(ValidationError {
            unknown: vec!["NOPE".into()],
            not_numeric: vec![],
        })
    );
    assert_eq!(parsed[2].as_ref().unwrap().sk_id_curr(), Some(3));
    // Every problem is named, not only the first kind.
    let both = parsed[3].clone().unwrap_err();
    assert_eq!(both.unknown, ["AAA", "ZZZ"]);
    assert_eq!(both.not_numeric, ["EXT_SOURCE_2"]);
    assert_eq!(
        both.to_string(),
        "unknown features: AAA, ZZZ; features must be finite numbers or null: EXT_SOURCE_2"
    );
    assert!(Application::batch_from_json(br#"{"apps": []}"#, &m).is_err());
    assert!(Application::batch_from_json(br#"{}"#, &m).is_err());
}

/// JSON Schema counts `7.0` as the integer 7, and so do both parsers.
#[test]
fn a_whole_sk_id_curr_written_with_a_decimal_point_is_an_integer() {
    let m = model();
    for (json, want) in [
        (r#"{"sk_id_curr": 7.0}"#, 7),
        (r#"{"sk_id_curr": -1138.0}"#, -1138),
        (r#"{"sk_id_curr": 1e15}"#, 1_000_000_000_000_000),
        (r#"{"sk_id_curr": -9223372036854775808}"#, i64::MIN),
        (r#"{"sk_id_curr": 9007199254740991.0}"#, (1 << 53) - 1),
    ] {
        let (streamed, general) = both(&m, json);
        assert_eq!(streamed.unwrap().sk_id_curr(), Some(want), "{json}");
        assert_eq!(general.unwrap().sk_id_curr(), Some(want), "{json}");
    }
    // A fraction, beyond i64, or a whole double past 2^53 (not every integer there is one).
    for bad in [
        r#"{"sk_id_curr": 7.5}"#,
        r#"{"sk_id_curr": 9223372036854775808}"#,
        r#"{"sk_id_curr": -9223372036854775809}"#,
        r#"{"sk_id_curr": 1e19}"#,
        r#"{"sk_id_curr": 9007199254740993.0}"#,
    ] {
        assert!(Application::from_json(bad.as_bytes(), &m).is_err(), "{bad}");
        assert!(
            serde_json::from_str::<RawApplication>(bad).is_err(),
            "{bad}"
        );
    }
}
