; 7 lines 4 code 2 comments 1 blanks
HELLO ;
  WRITE "hi",!
  QUIT
; a line comment

  SET S="; not a comment"
