//! One merged Java + native stack view of a live JVM, with a diagnosis.
