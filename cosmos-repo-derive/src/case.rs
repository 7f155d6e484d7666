//! serde's `rename_all` rules, with serde's spellings and serde's algorithm for field names.

use self::RenameRule::*;

/// A `#[serde(rename_all = "...")]` rule.
#[derive(Copy, Clone, PartialEq, Debug)]
pub enum RenameRule {
    None,
    LowerCase,
    UpperCase,
    PascalCase,
    CamelCase,
    SnakeCase,
    ScreamingSnakeCase,
    KebabCase,
    ScreamingKebabCase,
}

static RENAME_RULES: &[(&str, RenameRule)] = &[
    ("lowercase", LowerCase),
    ("UPPERCASE", UpperCase),
    ("PascalCase", PascalCase),
    ("camelCase", CamelCase),
    ("snake_case", SnakeCase),
    ("SCREAMING_SNAKE_CASE", ScreamingSnakeCase),
    ("kebab-case", KebabCase),
    ("SCREAMING-KEBAB-CASE", ScreamingKebabCase),
];

impl RenameRule {
    /// The rule serde spells `name`, if any. serde itself reports unknown spellings.
    pub fn from_str(name: &str) -> Option<Self> {
        RENAME_RULES
            .iter()
            .find(|(spelling, _)| *spelling == name)
            .map(|(_, rule)| *rule)
    }

    /// Applies the rule to a field name written in snake_case, exactly as serde does.
    pub fn apply_to_field(self, field: &str) -> String {
        match self {
            None | LowerCase | SnakeCase => field.to_owned(),
            UpperCase | ScreamingSnakeCase => field.to_ascii_uppercase(),
            PascalCase => {
                let mut pascal = String::new();
                let mut capitalize = true;
                for ch in field.chars() {
                    if ch == '_' {
                        capitalize = true;
                    } else if capitalize {
                        pascal.push(ch.to_ascii_uppercase());
                        capitalize = false;
                    } else {
                        pascal.push(ch);
                    }
                }
                pascal
            }
            CamelCase => {
                let pascal = PascalCase.apply_to_field(field);
                let mut chars = pascal.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                    Option::None => pascal,
                }
            }
            KebabCase => field.replace('_', "-"),
            ScreamingKebabCase => ScreamingSnakeCase.apply_to_field(field).replace('_', "-"),
        }
    }
}

impl RenameRule {
    /// Applies the rule to an enum variant name written in PascalCase, exactly as serde does.
    pub fn apply_to_variant(self, variant: &str) -> String {
        match self {
            None | PascalCase => variant.to_owned(),
            LowerCase => variant.to_ascii_lowercase(),
            UpperCase => variant.to_ascii_uppercase(),
            CamelCase => {
                let mut chars = variant.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                    Option::None => String::new(),
                }
            }
            SnakeCase => {
                let mut snake = String::new();
                for (i, ch) in variant.char_indices() {
                    if i > 0 && ch.is_uppercase() {
                        snake.push('_');
                    }
                    snake.push(ch.to_ascii_lowercase());
                }
                snake
            }
            ScreamingSnakeCase => SnakeCase.apply_to_variant(variant).to_ascii_uppercase(),
            KebabCase => SnakeCase.apply_to_variant(variant).replace('_', "-"),
            ScreamingKebabCase => ScreamingSnakeCase
                .apply_to_variant(variant)
                .replace('_', "-"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_rules_match_serde() {
        let cases = [
            (
                "outcome", "OUTCOME", "Outcome", "outcome", "outcome", "OUTCOME",
            ),
            (
                "very_tasty",
                "VERY_TASTY",
                "VeryTasty",
                "veryTasty",
                "very-tasty",
                "VERY-TASTY",
            ),
            ("a", "A", "A", "a", "a", "A"),
            ("z42", "Z42", "Z42", "z42", "z42", "Z42"),
        ];
        for (original, upper, pascal, camel, kebab, screaming_kebab) in cases {
            assert_eq!(None.apply_to_field(original), original);
            assert_eq!(UpperCase.apply_to_field(original), upper);
            assert_eq!(PascalCase.apply_to_field(original), pascal);
            assert_eq!(CamelCase.apply_to_field(original), camel);
            assert_eq!(SnakeCase.apply_to_field(original), original);
            assert_eq!(ScreamingSnakeCase.apply_to_field(original), upper);
            assert_eq!(KebabCase.apply_to_field(original), kebab);
            assert_eq!(ScreamingKebabCase.apply_to_field(original), screaming_kebab);
        }
    }

    #[test]
    fn spellings_are_serdes() {
        assert_eq!(RenameRule::from_str("camelCase"), Some(CamelCase));
        assert_eq!(RenameRule::from_str("camelcase"), Option::None);
    }

    #[test]
    fn variant_rules_match_serde() {
        let cases = [
            (None, "OrderLine"),
            (LowerCase, "orderline"),
            (UpperCase, "ORDERLINE"),
            (PascalCase, "OrderLine"),
            (CamelCase, "orderLine"),
            (SnakeCase, "order_line"),
            (ScreamingSnakeCase, "ORDER_LINE"),
            (KebabCase, "order-line"),
            (ScreamingKebabCase, "ORDER-LINE"),
        ];
        for (rule, expected) in cases {
            assert_eq!(rule.apply_to_variant("OrderLine"), expected, "{rule:?}");
        }
    }
}
