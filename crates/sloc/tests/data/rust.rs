// 19 lines 10 code 7 comments 2 blanks
/* outer /* nested */ still a comment */
//! Inner doc comment.

/// A raw string holding markers.
fn main() {
    let raw = r#"a "raw" string // with
/* no comments */ in it"#;
    let q = '"'; // a char that is a quote
    let e = '\"';
    let s = "escaped \" /* not a comment";
    let lifetime: &'static str = "x"; /* a comment
    that ends */ let y = 1;

    /*
     * /* nested */
     */
    println!("{raw}{q}{e}{s}{lifetime}{y}");
}
