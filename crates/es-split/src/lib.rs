//! Split an Elasticsearch/OpenSearch index on a date midpoint without re-indexing.
