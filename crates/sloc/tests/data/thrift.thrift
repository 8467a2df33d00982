// 11 lines 5 code 5 comments 1 blanks
struct User {
  1: string name
}
// a line comment
# another kind of line comment

/* a block comment
   still inside it */
typedef i32 Id /* a comment after code */
const string S = "// not a comment"
