//! Opt-in suite against a real cluster (ES_SPLIT_TEST_URL).
