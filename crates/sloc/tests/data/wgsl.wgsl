// 9 lines 3 code 5 comments 1 blanks
@vertex
fn main() -> @builtin(position) vec4f { return vec4f(0.0); }
// a line comment

/* a block comment
   still inside it */
/* outer /* inner */ still a comment */
const x = 1; /* a comment after code */
