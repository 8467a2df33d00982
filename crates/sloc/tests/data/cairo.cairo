// 7 lines 4 code 2 comments 1 blanks
fn main() {
    let x = 1;
}
// a line comment

x = "// not a comment";
