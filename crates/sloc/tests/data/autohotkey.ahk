; 8 lines 3 code 4 comments 1 blanks
MsgBox "hello"
Return
; a line comment

/* a block comment
   still inside it */
x /* a comment after code */
