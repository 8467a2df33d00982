//! Query builders for the two halves. The halves are exact complements by construction:
//! `lt mid` and `gte mid` both round a partial date down, whereas `gt`/`lte` round up
//! (ES range-query docs, "Missing date components"), and each copy deletes "not what I keep".
use serde_json::{json, Value};

/// Where documents without the field go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MissingTo {
    First,
    Second,
}

/// The split point as sent in range queries.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Mid {
    /// A date string in the field's own format, or integer epoch milliseconds.
    pub value: Value,
    /// `Some("epoch_millis")` for `--mid auto`; `None` uses the field mapping's format.
    pub format: Option<String>,
}

impl Mid {
    /// A user-supplied date, passed through in the field's format.
    pub fn user(s: &str) -> Self {
        Self {
            value: Value::String(s.to_string()),
            format: None,
        }
    }

    /// A computed midpoint in epoch milliseconds.
    pub fn epoch_millis(ms: i64) -> Self {
        Self {
            value: json!(ms),
            format: Some("epoch_millis".into()),
        }
    }

    /// The instant in epoch milliseconds, for a resolved midpoint.
    pub fn millis(&self) -> Option<i64> {
        match self.format.as_deref() {
            Some("epoch_millis") => self.value.as_i64(),
            _ => None,
        }
    }

    /// How to show the midpoint to people: the user's string, or an epoch as UTC ISO 8601.
    pub fn display(&self) -> String {
        match &self.value {
            Value::String(s) => s.clone(),
            other => match other.as_i64() {
                Some(ms) => iso_utc(ms),
                None => other.to_string(),
            },
        }
    }
}

/// Formats epoch milliseconds as `2015-07-03T01:22:47.426Z` (proleptic Gregorian, UTC).
pub fn iso_utc(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

/// `{"range":{field:{op: mid[, format]}}}`.
pub fn range(field: &str, op: &str, mid: &Mid) -> Value {
    let mut clause = serde_json::Map::new();
    clause.insert(op.to_string(), mid.value.clone());
    if let Some(f) = &mid.format {
        clause.insert("format".into(), json!(f));
    }
    json!({ "range": { field: clause } })
}

/// Documents without a value for `field`.
pub fn missing(field: &str) -> Value {
    json!({"bool": {"must_not": [{"exists": {"field": field}}]}})
}

/// Documents the first half keeps: `field < mid` (plus the missing ones if they go first).
pub fn keep_first(field: &str, mid: &Mid, missing_to: Option<MissingTo>) -> Value {
    with_missing(
        range(field, "lt", mid),
        field,
        missing_to == Some(MissingTo::First),
    )
}

/// Documents the second half keeps: `field >= mid` (plus the missing ones if they go second).
pub fn keep_second(field: &str, mid: &Mid, missing_to: Option<MissingTo>) -> Value {
    with_missing(
        range(field, "gte", mid),
        field,
        missing_to == Some(MissingTo::Second),
    )
}

fn with_missing(q: Value, field: &str, include: bool) -> Value {
    if include {
        json!({"bool": {"should": [q, missing(field)], "minimum_should_match": 1}})
    } else {
        q
    }
}

/// Everything a copy must delete: the complement of what it keeps.
pub fn complement(keep: &Value) -> Value {
    json!({"bool": {"must_not": [keep]}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_use_lt_and_gte_only() {
        let mid = Mid::user("2015-01-01");
        assert_eq!(
            keep_first("date", &mid, None),
            json!({"range":{"date":{"lt":"2015-01-01"}}})
        );
        assert_eq!(
            keep_second("date", &mid, None),
            json!({"range":{"date":{"gte":"2015-01-01"}}})
        );
    }

    #[test]
    fn auto_mid_is_epoch_millis() {
        let mid = Mid::epoch_millis(1_435_889_767_426);
        assert_eq!(
            range("ts", "lt", &mid),
            json!({"range":{"ts":{"lt":1_435_889_767_426_i64,"format":"epoch_millis"}}})
        );
        assert_eq!(mid.display(), "2015-07-03T02:16:07.426Z");
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_utc(1_420_070_400_000), "2015-01-01T00:00:00.000Z");
        assert_eq!(iso_utc(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso_utc(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn missing_documents_join_the_chosen_half() {
        let mid = Mid::user("2015");
        let first = keep_first("d", &mid, Some(MissingTo::First));
        assert_eq!(first["bool"]["should"][1], missing("d"));
        assert_eq!(
            keep_second("d", &mid, Some(MissingTo::First)),
            range("d", "gte", &mid)
        );
        let second = keep_second("d", &mid, Some(MissingTo::Second));
        assert_eq!(second["bool"]["minimum_should_match"], 1);
    }

    #[test]
    fn delete_query_is_the_complement() {
        let keep = keep_first("d", &Mid::user("2015"), None);
        assert_eq!(
            complement(&keep),
            json!({"bool":{"must_not":[{"range":{"d":{"lt":"2015"}}}]}})
        );
    }
}
