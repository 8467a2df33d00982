; 10 lines 4 code 5 comments 1 blanks
Local $s = "hello"
MsgBox(0, "", $s)
; a line comment

#comments-start a block comment
   still inside it #comments-end
#cs another block comment #ce
Local $x = 1 #comments-start a comment after code #comments-end
Local $t = "; not a comment"
