//! The version gate: which product answers, and whether it has `_clone`.
use serde_json::Value;

use crate::error::{sanitize, Error, Result};

/// Which search engine answers at `--url`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Product {
    Elasticsearch,
    OpenSearch,
}

/// What `GET /` told us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    pub product: Product,
    pub number: String,
    pub version: (u32, u32, u32),
    pub build_flavor: Option<String>,
    /// `cluster_uuid` (`_na_` before the first master election); the journal is tied to it.
    pub cluster_uuid: String,
}

impl ServerInfo {
    /// Parses the root endpoint's body. OpenSearch is recognised by `version.distribution`,
    /// never by the `X-Elastic-Product` header (compatible servers send it too), because
    /// OpenSearch may be configured to report 7.10.2 as its version number.
    pub fn from_root(body: &Value) -> Result<Self> {
        let version = body.get("version").ok_or_else(|| {
            Error::Refused("GET / did not return a `version`: is --url an Elasticsearch or OpenSearch endpoint?".into())
        })?;
        let number = version
            .get("number")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let product = match version.get("distribution").and_then(Value::as_str) {
            Some("opensearch") => Product::OpenSearch,
            _ => Product::Elasticsearch,
        };
        let parsed = parse_version(&number).ok_or_else(|| {
            Error::Refused(format!(
                "cannot parse the server version {:?}",
                sanitize(&number)
            ))
        })?;
        let build_flavor = version
            .get("build_flavor")
            .and_then(Value::as_str)
            .map(str::to_string);
        let cluster_uuid = body
            .get("cluster_uuid")
            .and_then(Value::as_str)
            .unwrap_or("_na_")
            .to_string();
        Ok(Self {
            product,
            number,
            version: parsed,
            build_flavor,
            cluster_uuid,
        })
    }

    /// Refuses servers the tool cannot split safely.
    pub fn check_supported(&self) -> Result<()> {
        if self.build_flavor.as_deref() == Some("serverless") {
            return Err(Error::Refused(
                "Elastic serverless manages shards itself and offers no _clone/_forcemerge: es-split cannot run there".into(),
            ));
        }
        if self.product == Product::Elasticsearch && self.version < (6, 0, 0) {
            return Err(Error::Refused(format!(
                "Elasticsearch {} is not supported: es-split needs 6.0+ (7.4+ for the _clone path)",
                sanitize(&self.number)
            )));
        }
        Ok(())
    }

    /// Whether the version has `_clone`: ES 7.4+ (elastic/elasticsearch#44267) and every
    /// OpenSearch. Older ES answers `_clone` with a misleading `invalid_type_name_exception`,
    /// so it is never tried there.
    pub fn has_clone(&self) -> bool {
        self.product == Product::OpenSearch || self.version >= (7, 4, 0)
    }

    /// `Elasticsearch 8.15.0` / `OpenSearch 2.19.1`.
    pub fn describe(&self) -> String {
        let name = match self.product {
            Product::Elasticsearch => "Elasticsearch",
            Product::OpenSearch => "OpenSearch",
        };
        format!("{name} {}", sanitize(&self.number))
    }
}

fn parse_version(s: &str) -> Option<(u32, u32, u32)> {
    let core = s.split(['-', '+']).next()?;
    let mut it = core.split('.').map(|p| p.parse::<u32>());
    let major = it.next()?.ok()?;
    let minor = it.next().unwrap_or(Ok(0)).ok()?;
    let patch = it.next().unwrap_or(Ok(0)).ok()?;
    Some((major, minor, patch))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn es(number: &str) -> Value {
        json!({"name":"n","cluster_name":"c","version":{"number":number,"build_flavor":"default"},"tagline":"You Know, for Search"})
    }
    fn os(number: &str) -> Value {
        json!({"name":"n","version":{"distribution":"opensearch","number":number},"tagline":"The OpenSearch Project: https://opensearch.org/"})
    }

    #[test]
    fn version_gate_table() {
        // (root body, supported, has _clone)
        let table = [
            (es("5.6.16"), false, false),
            (es("6.8.23"), true, false),
            (es("7.3.2"), true, false),
            (es("7.4.0"), true, true),
            (es("7.17.18"), true, true),
            (es("8.15.0"), true, true),
            (es("9.0.0-SNAPSHOT"), true, true),
            (os("1.3.19"), true, true),
            (os("2.19.1"), true, true),
            (os("3.8.0"), true, true),
            // OpenSearch with compatibility.override_main_response_version
            (os("7.10.2"), true, true),
        ];
        for (body, supported, clone) in table {
            let info = ServerInfo::from_root(&body).unwrap();
            assert_eq!(info.check_supported().is_ok(), supported, "{body}");
            assert_eq!(info.has_clone(), clone, "{body}");
        }
    }

    #[test]
    fn serverless_and_garbage_are_refused() {
        let body = json!({"version":{"number":"8.11.0","build_flavor":"serverless"}});
        assert!(ServerInfo::from_root(&body)
            .unwrap()
            .check_supported()
            .is_err());
        assert!(ServerInfo::from_root(&json!({"hello":"world"})).is_err());
        assert!(ServerInfo::from_root(&json!({"version":{"number":"x.y"}})).is_err());
        assert_eq!(
            ServerInfo::from_root(&os("2.19.1")).unwrap().describe(),
            "OpenSearch 2.19.1"
        );
    }
}
