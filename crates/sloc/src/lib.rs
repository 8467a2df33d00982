//! A parallel, comment-aware source line counter.
