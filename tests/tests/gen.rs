//! Compile-pass matrix for `#[derive(CosmosDocument)]`: every shape that must be accepted, and
//! checks that the generated names are exactly the ones serde writes.

use cosmos_repo::key::PartitionKeyValue;
use cosmos_repo::prelude::*;
use serde_json::Value;

/// Asserts that every typed path names a property of the serialized document.
fn assert_paths_are_serdes(doc: &impl Serialize, names: &[&str]) {
    let json = serde_json::to_value(doc).unwrap();
    let Value::Object(properties) = json else {
        panic!("not an object: {json}")
    };
    for name in names {
        assert!(
            properties.contains_key(*name),
            "`{name}` is not a property of {properties:?}"
        );
    }
}

mod renamed {
    use super::*;

    /// Fields renamed one by one.
    #[derive(Serialize, Deserialize, CosmosDocument)]
    pub struct Renamed {
        #[id]
        #[serde(rename = "id")]
        pub key: String,
        #[partition_key]
        #[serde(rename(serialize = "tenant-id", deserialize = "tenant-id"))]
        pub tenant: String,
        #[serde(
            rename = "first-name",
            default,
            skip_serializing_if = "String::is_empty"
        )]
        pub first_name: String,
        #[serde(skip)]
        pub cache: u32,
    }
}

#[test]
fn renamed_fields_follow_serde() {
    use renamed::Renamed;
    assert_eq!(Renamed::PARTITION_KEY_PATHS, ["/tenant-id"]);
    assert_eq!(Renamed::FIELDS.first_name.name(), "first-name");
    let doc = Renamed {
        key: "k".into(),
        tenant: "t".into(),
        first_name: "Ada".into(),
        cache: 1,
    };
    assert_eq!((doc.id(), doc.cache), ("k", 1));
    assert_paths_are_serdes(
        &doc,
        &[
            Renamed::FIELDS.key.name(),
            Renamed::FIELDS.tenant.name(),
            Renamed::FIELDS.first_name.name(),
        ],
    );
}

macro_rules! rename_all_case {
    ($test:ident, $rule:literal, $expected:literal) => {
        #[test]
        fn $test() {
            /// A document under one rename_all rule.
            #[derive(Serialize, Deserialize, CosmosDocument)]
            #[serde(rename_all = $rule)]
            struct Doc {
                #[id]
                #[serde(rename = "id")]
                id: String,
                #[partition_key]
                customer_account_id: String,
            }
            assert_eq!(Doc::PARTITION_KEY_PATHS, [concat!("/", $expected)]);
            let doc = Doc {
                id: "d".into(),
                customer_account_id: "c".into(),
            };
            assert_paths_are_serdes(&doc, &[Doc::FIELDS.customer_account_id.name()]);
        }
    };
}

rename_all_case!(rename_all_lowercase, "lowercase", "customer_account_id");
rename_all_case!(rename_all_uppercase, "UPPERCASE", "CUSTOMER_ACCOUNT_ID");
rename_all_case!(rename_all_pascal, "PascalCase", "CustomerAccountId");
rename_all_case!(rename_all_camel, "camelCase", "customerAccountId");
rename_all_case!(rename_all_snake, "snake_case", "customer_account_id");
rename_all_case!(
    rename_all_screaming_snake,
    "SCREAMING_SNAKE_CASE",
    "CUSTOMER_ACCOUNT_ID"
);
rename_all_case!(rename_all_kebab, "kebab-case", "customer-account-id");
rename_all_case!(
    rename_all_screaming_kebab,
    "SCREAMING-KEBAB-CASE",
    "CUSTOMER-ACCOUNT-ID"
);

/// Raw identifiers lose their `r#`.
#[derive(Serialize, Deserialize, CosmosDocument)]
pub struct Raw {
    #[id]
    pub id: String,
    #[partition_key]
    pub r#type: String,
    pub r#match: bool,
}

#[test]
fn raw_identifiers_are_unraw() {
    assert_eq!(Raw::PARTITION_KEY_PATHS, ["/type"]);
    assert_eq!(
        Raw::CONTAINER,
        "Raw",
        "the default container is the type's name"
    );
    let doc = Raw {
        id: "r".into(),
        r#type: "t".into(),
        r#match: true,
    };
    assert_paths_are_serdes(
        &doc,
        &[Raw::FIELDS.r#type.name(), Raw::FIELDS.r#match.name()],
    );
}

/// A three-level key mixing types.
#[derive(Serialize, Deserialize, CosmosDocument)]
pub struct Hierarchical {
    #[id]
    pub id: String,
    #[partition_key]
    pub tenant: String,
    #[partition_key]
    pub year: u16,
    #[partition_key]
    pub archived: bool,
}

#[test]
fn hierarchical_numeric_and_bool_keys() {
    assert_eq!(
        Hierarchical::PARTITION_KEY_PATHS,
        ["/tenant", "/year", "/archived"]
    );
    let doc = Hierarchical {
        id: "h".into(),
        tenant: "acme".into(),
        year: 2026,
        archived: false,
    };
    assert_eq!(
        doc.partition_key().values(),
        [
            PartitionKeyValue::String("acme".into()),
            PartitionKeyValue::Number(2026.0),
            PartitionKeyValue::Bool(false)
        ]
    );
}

/// An id newtype.
#[derive(Serialize, Deserialize)]
pub struct OrderId(String);

impl AsRef<str> for OrderId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A document with a newtype id and a float key.
#[derive(Serialize, Deserialize, CosmosDocument)]
pub struct NewtypeId {
    #[id]
    pub id: OrderId,
    #[partition_key]
    pub score: f64,
}

#[test]
fn newtype_ids() {
    let doc = NewtypeId {
        id: OrderId("o-1".into()),
        score: 1.5,
    };
    assert_eq!(doc.id(), "o-1");
    assert_eq!(doc.etag(), None, "a type without #[etag] has no etag");
}

/// A generic document.
#[derive(Serialize, Deserialize, CosmosDocument)]
#[serde(bound = "T: Serialize + serde::de::DeserializeOwned")]
pub struct Envelope<T> {
    #[id]
    pub id: String,
    #[partition_key]
    pub topic: String,
    pub body: T,
}

#[tokio::test]
async fn generic_documents_work() {
    let envelopes = Repository::<Envelope<Vec<u8>>>::in_memory();
    envelopes
        .create(&Envelope {
            id: "e".into(),
            topic: "t".into(),
            body: vec![1, 2],
        })
        .await
        .unwrap();
    assert_eq!(envelopes.read("t", "e").await.unwrap().body, [1, 2]);
    assert_eq!(Envelope::<Vec<u8>>::FIELDS.body.name(), "body");
}

mod visibility {
    use super::*;

    /// A private and a public field.
    #[derive(Serialize, Deserialize, CosmosDocument)]
    pub struct Visible {
        #[id]
        pub id: String,
        #[partition_key]
        pub(crate) pk: String,
        pub(super) note: String,
    }
}

/// Visible fields are reachable from outside their module; that a private one is not is the
/// compile-fail case `cosmos-repo-derive/tests/ui/field-path-keeps-privacy.rs`.
#[test]
fn fields_keep_visibility() {
    let _: visibility::VisibleFields = visibility::Visible::FIELDS;
    assert_eq!(visibility::Visible::FIELDS.note.name(), "note");
}

/// Generated code needs nothing in scope.
mod no_prelude {
    #![no_implicit_prelude]

    /// A document declared with no prelude in scope.
    #[derive(::serde::Serialize, ::serde::Deserialize, ::cosmos_repo::CosmosDocument)]
    #[cosmos(container = "bare")]
    pub struct Bare {
        #[id]
        pub id: ::std::string::String,
        #[partition_key]
        pub pk: ::std::string::String,
        #[etag]
        #[serde(rename = "_etag", default, skip_serializing)]
        pub etag: ::std::option::Option<::cosmos_repo::Etag>,
        #[cosmos(nested)]
        #[serde(rename = "where")]
        pub place: Place,
    }

    /// An embedded struct declared with no prelude in scope.
    #[derive(::serde::Serialize, ::serde::Deserialize, ::cosmos_repo::CosmosFields)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    pub struct Place {
        pub city_name: ::std::string::String,
    }
}

#[test]
fn derive_compiles_without_a_prelude() {
    assert_eq!(no_prelude::Bare::CONTAINER, "bare");
    assert_eq!(
        no_prelude::Bare::FIELDS.place.city_name.path().segments(),
        ["where", "CITY_NAME"]
    );
}

/// The runtime found through a renamed path.
mod renamed_crate {
    pub use cosmos_repo as repo;

    /// A document naming the runtime by another path.
    #[derive(serde::Serialize, serde::Deserialize, repo::CosmosDocument)]
    #[cosmos(crate = "crate::renamed_crate::repo")]
    pub struct Elsewhere {
        #[id]
        pub id: String,
        #[partition_key]
        pub pk: String,
    }
}

#[test]
fn crate_attribute_sets_the_runtime_path() {
    use renamed_crate::Elsewhere;
    assert_eq!(Elsewhere::CONTAINER, "Elsewhere");
}
