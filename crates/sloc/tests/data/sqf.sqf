// 9 lines 4 code 4 comments 1 blanks
private _hp = 100;
hint str _hp;
// a line comment

/* a block comment
   still inside it */
y = 1; /* a comment after code */
x = "// not a comment";
