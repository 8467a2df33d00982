// 10 lines 5 code 4 comments 1 blanks
void setup() {
  size(200, 200);
}
// a line comment

/* a block comment
   still inside it */
int x = 1; /* a comment after code */
String s = "// not a comment";
