// 10 lines 4 code 5 comments 1 blanks
import std.stdio;
void main() { writeln("hi"); }
// a line comment

/* a block comment
   still inside it */
/+ another block comment +/
int x = 1; /* a comment after code */
string s = "// not a comment";
