//! The `_clone` + tasks path against the in-process fake (see support/fake_es.rs).
