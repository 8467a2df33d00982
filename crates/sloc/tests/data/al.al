// 10 lines 5 code 4 comments 1 blanks
codeunit 50100 Demo
{
}
// a line comment

/* a block comment
   still inside it */
y = 1; /* a comment after code */
Message('// not a comment');
