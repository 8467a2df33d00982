// 10 lines 5 code 4 comments 1 blanks
void main () {
    print ("hi\n");
}
// a line comment

/* a block comment
   still inside it */
int x = 1; /* a comment after code */
string s = "// not a comment";
