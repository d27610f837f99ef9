//! What the unit tests of several stages share: arbitrary JSON values for property tests (the
//! tape's fast path against serde_json's, the fast callback writer against the serde types).

use proptest::prelude::*;

/// Any JSON value, nested three deep at most, with strings that need every kind of escape and
/// keys of any text.
pub fn any_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<u64>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(serde_json::Value::from),
        any::<String>().prop_map(serde_json::Value::String),
        "[a-zA-Z0-9 \\\\\"\u{0}-\u{1f}\u{7f}-\u{9f}\u{e9}\u{202e}\u{4e2d}\u{1F600}]{0,8}"
            .prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::Array),
            proptest::collection::vec(
                (prop_oneof![any::<String>(), "[a-zA-Z\\\\\"]{0,5}".boxed()], inner),
                0..5
            )
            .prop_map(|members| serde_json::Value::Object(members.into_iter().collect())),
        ]
    })
}
