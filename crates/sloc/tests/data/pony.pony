// 10 lines 4 code 5 comments 1 blanks
actor Main
  new create(env: Env) => env.out.print("hi")
// a line comment

/* a block comment
   still inside it */
/* outer /* inner */ still a comment */
let x = 1 /* a comment after code */
let s = "// not a comment"
